//! Per-context storage for `Local`: one value per OS thread or per task context, found
//! without a lock, and dropped when its context ends or its `Local` is dropped.
//!
//! # Implementation
//!
//! - **Contexts.** A context is an OS thread, or a [`TaskContext`] (one per crate `Thread`
//!   run as a tokio task or a `spawn_blocking` closure, made current by [`scope`] and
//!   [`scope_sync`]). Each has a [`Core`] on the heap: a small index, taken lazily from a
//!   global pool that hands out the smallest free one and gets it back when the context
//!   ends, and the list of [`Registration`]s of the values it made.
//! - **Finding the current context.** `CURRENT`, a `thread_local!` with `const` init and no
//!   destructor (so reading it costs one TLS address and no state check), holds the OS
//!   thread's index and `Core`, and the task context's while one is being polled. A
//!   second `thread_local!` with a destructor (`THREAD_GUARD`) ends the thread's context.
//! - **The table.** Each `Local` owns `BUCKETS` lazily allocated buckets, bucket `b` holding
//!   `2^b` entries, as the `thread_local` crate does: index `i` lives at bucket
//!   `log2(i + 1)`, so the table grows with the largest index in use, which stays near the
//!   number of live contexts. An entry is a state word beside an uninitialised value.
//! - **Fast path**: read `CURRENT`, load the bucket pointer, load the state word, and mark
//!   it borrowed around the caller's closure. No lock, no allocation, no read-modify-write.
//! - **Ending.** A context's end takes its registration list and drops it, each
//!   registration moving its value out of the entry (state swapped to `UNUSED`) and
//!   dropping it with no lock held. Values whose `Drop` make new values in the ending
//!   context register again; the loop runs until the list stays empty, then frees the index.
//! - **Dropping a `Local`** swaps every entry to `UNUSED` and drops the values it won. The
//!   swap decides, entry by entry, whether the dropper or the context's end drops a value.
//!   Registrations point into the buckets, so the buckets belong to a reference-counted
//!   [`Header`] once a value was registered: the `Local` holds one reference and every
//!   registration one; whoever drops the last frees the buckets. A context prunes the
//!   registrations of dropped `Local`s when its list doubles, so that a long-lived thread
//!   that uses many short-lived `Local`s keeps little memory.
//! - **Why `T: Send + 'static`.** A value lives as long as its context, not as long as its
//!   `Local`: a context's end may claim a value (its swap won) and drop it after the
//!   `Local`'s drop returned, a leaked `Local`'s values are dropped by their contexts' ends,
//!   and a `std::thread::scope` returns before its threads' TLS destructors run. Nothing
//!   bounds the end of a context by a lifetime the table could name, so a value may borrow
//!   nothing (`'static`; a value borrowing a scope's frame was read after the frame was
//!   freed: issue 13, defect 9), and it may be dropped on any thread (`Send`). The only
//!   constructor, [`Slots::new`], asks for both, so no table of another `T` exists.
//!
//! # Entry states
//!
//! | state      | value | registered in the context's list | set by                        |
//! |------------|-------|----------------------------------|-------------------------------|
//! | `UNUSED`   | no    | no                               | new bucket, context end, `Local` drop |
//! | `VACANT`   | no    | yes                              | `take`, or a panicking init after a `take` |
//! | `INIT`     | no    | either                           | `with`, while the init function runs |
//! | `FULL`     | yes   | yes                              | init, `set`                   |
//! | `BORROWED` | yes   | yes                              | `with`, while its closure runs |
//!
//! # Memory orderings
//!
//! An entry is touched by three parties: its context while that context runs (it holds a
//! `&Local`), the `Local`'s drop (which owns the `Local`), and its context's end. The first
//! happens before the other two: the drop can only start once every `&Local` is gone, which
//! across threads takes a synchronising hand-off (a join, an `Arc`'s last release), and a
//! context's end runs on its own thread or after the runtime's hand-off of the finished
//! task. The context's own accesses are in program order. So the state needs no
//! ordering (`Relaxed`) except to decide between the two that may race, the drop and the
//! end, and for that the atomicity of `swap` is enough: exactly one of them sees `FULL`. A
//! reused index is ordered after the previous owner's end by the pool's mutex. The bucket
//! and header pointers are published by one context and read by others: `Release` CAS,
//! `Acquire` load. The header's count is an `Arc`'s: increments `Relaxed` (the incrementer
//! already holds a reference), decrements `Release` with an `Acquire` fence before freeing.

use std::any::Any;
use std::cell::{Cell, RefCell, UnsafeCell};
use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::future::Future;
use std::marker::PhantomData;
use std::mem::{self, MaybeUninit};
use std::panic::{catch_unwind, resume_unwind, AssertUnwindSafe};
use std::pin::Pin;
use std::ptr::{self, NonNull};
use std::sync::atomic::{fence, AtomicBool, AtomicPtr, AtomicU32, AtomicUsize, Ordering};
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::task::{Context, Poll};

/// Buckets per table. The pool hands out indices below `2^(BUCKETS - 1) - 1`, so the last
/// bucket is never allocated: [`Slot::NONE`] points at it, and finds no entry there without
/// a separate check.
const BUCKETS: usize = usize::BITS as usize;

/// A context's registration list is pruned of dropped `Local`s once it is this long, then
/// each time it doubles.
const PRUNE_FIRST: usize = 16;

// `FULL` is 0 so that the fast path tests the state against zero. The state is a `u32`, not
// a `u8`: the fast path's store and the next call's load of a byte forward slowly on some
// CPUs (on the AMD EPYC it was measured on, a byte state made `with` 1.5x slower).
const FULL: u32 = 0;
const BORROWED: u32 = 1;
const UNUSED: u32 = 2;
const VACANT: u32 = 3;
const INIT: u32 = 4;

/// Which context an access belongs to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Ctx {
    /// The calling OS thread, always (the blocking form).
    Thread,
    /// The current task context, or the calling OS thread outside one (the async form).
    Task,
}

// ------------------------------------------------------------------------------------------
// Context indices

/// The pool of context indices: the smallest free index first, so that tables stay small.
struct Pool {
    next: usize,
    free: BinaryHeap<Reverse<usize>>,
}

static POOL: Mutex<Pool> = Mutex::new(Pool {
    next: 0,
    free: BinaryHeap::new(),
});

/// The pool is never left inconsistent (no user code runs under it), so poisoning is moot.
fn pool() -> MutexGuard<'static, Pool> {
    POOL.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Where a context's entry lives in every table: bucket `bucket`, entry `index`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Slot {
    bucket: usize,
    index: usize,
}

impl Slot {
    /// No slot (yet): its bucket is never allocated.
    const NONE: Slot = Slot {
        bucket: BUCKETS - 1,
        index: 0,
    };

    fn new(id: usize) -> Self {
        let n = id + 1;
        let bucket = (usize::BITS - 1 - n.leading_zeros()) as usize;
        Slot {
            bucket,
            index: n - (1 << bucket),
        }
    }

    /// The context index this slot stands for.
    pub(crate) fn id(self) -> usize {
        (1 << self.bucket) + self.index - 1
    }

    fn alloc() -> Self {
        let mut pool = pool();
        let id = match pool.free.pop() {
            Some(Reverse(id)) => id,
            None => {
                let id = pool.next;
                // Unreachable in practice: each live context holds at least a heap block.
                assert!(id < (1 << (BUCKETS - 1)) - 1, "too many live contexts");
                pool.next += 1;
                id
            }
        };
        Slot::new(id)
    }

    fn free(self) {
        pool().free.push(Reverse(self.id()));
    }
}

// ------------------------------------------------------------------------------------------
// Contexts

/// What a context owns: its index (taken on first use) and the values it registered.
struct Core {
    slot: Cell<Option<Slot>>,
    regs: RefCell<Vec<Registration>>,
    prune_at: Cell<usize>,
}

impl Core {
    fn new() -> Self {
        Core {
            slot: Cell::new(None),
            regs: RefCell::new(Vec::new()),
            prune_at: Cell::new(PRUNE_FIRST),
        }
    }

    /// This context's slot, taken from the pool on first use.
    fn slot(&self) -> Slot {
        if let Some(slot) = self.slot.get() {
            return slot;
        }
        let slot = Slot::alloc();
        self.slot.set(Some(slot));
        CURRENT.with(|c| {
            if ptr::eq(c.task_core.get(), self) {
                c.active.set(slot);
            }
        });
        slot
    }

    /// Remember a value to drop when this context ends; now and then forget the
    /// registrations of dropped `Local`s (dropped after the list is released).
    fn register(&self, reg: Registration) {
        let dead: Vec<Registration> = {
            let mut regs = self.regs.borrow_mut();
            regs.push(reg);
            if regs.len() < self.prune_at.get() {
                return;
            }
            let (live, dead) = mem::take(&mut *regs).into_iter().partition(|r| !r.dead());
            *regs = live;
            self.prune_at.set((regs.len() * 2).max(PRUNE_FIRST));
            dead
        };
        drop(dead);
    }

    /// End the context: drop its values (and those their `Drop`s make in it), with no
    /// borrow held, then give its index back. Returns the first panic of a value's `Drop`,
    /// after dropping all the others.
    fn end(&self) -> Option<Box<dyn Any + Send>> {
        let mut panic = None;
        loop {
            let regs = mem::take(&mut *self.regs.borrow_mut());
            if regs.is_empty() {
                break;
            }
            for reg in regs {
                if let Err(p) = catch_unwind(AssertUnwindSafe(|| drop(reg))) {
                    panic.get_or_insert(p);
                }
            }
        }
        if let Some(slot) = self.slot.take() {
            slot.free();
        }
        panic
    }
}

/// The calling thread's view of its contexts. `const`-initialised and without a
/// destructor: reading it never fails, even while the thread's TLS is being torn down.
struct Current {
    /// The OS thread's slot, once it has one; `Slot::NONE` before and after.
    thread: Cell<Slot>,
    /// The OS thread's core (a leaked `Box`, freed by `THREAD_GUARD`), or null.
    thread_core: Cell<*const Core>,
    /// The thread's context has ended (its TLS is being torn down).
    thread_ended: Cell<bool>,
    /// The async form's slot: the current task context's while one is being polled
    /// (`Slot::NONE` until it takes one), else the OS thread's. Kept apart so that the
    /// async fast path reads one field, as the blocking one does.
    active: Cell<Slot>,
    /// The current task context's core, or null outside one.
    task_core: Cell<*const Core>,
}

std::thread_local! {
    static CURRENT: Current = const {
        Current {
            thread: Cell::new(Slot::NONE),
            thread_core: Cell::new(ptr::null()),
            thread_ended: Cell::new(false),
            active: Cell::new(Slot::NONE),
            task_core: Cell::new(ptr::null()),
        }
    };
    static THREAD_GUARD: ThreadGuard = const { ThreadGuard };
}

/// Ends the OS thread's context from its TLS destructor.
struct ThreadGuard;

impl Drop for ThreadGuard {
    fn drop(&mut self) {
        let panic = end_thread_context();
        CURRENT.with(|c| c.thread_ended.set(true));
        if let Some(p) = panic {
            // std aborts on a panic out of a TLS destructor, as it would for the value's.
            resume_unwind(p);
        }
    }
}

/// End the calling OS thread's context now: drop its value in every live `Local` (with the
/// context current, so a value's `Drop` may use `Local`s) and free its index. A later
/// access starts a fresh context, ended in turn at thread exit. A crate OS thread calls
/// this when its target returns, before it reports its end, so its joiners see its values
/// dropped. Returns the first panic of a value's `Drop`, after dropping all the others.
pub(crate) fn end_thread_context() -> Option<Box<dyn Any + Send>> {
    let core = CURRENT.with(|c| c.thread_core.get());
    if core.is_null() {
        return None;
    }
    // SAFETY: `thread_core` was made by `Box::into_raw` in `current_core` and is freed only
    // below; the thread's context is still current while its values drop.
    let panic = unsafe { &*core }.end();
    CURRENT.with(|c| {
        c.thread.set(Slot::NONE);
        if c.task_core.get().is_null() {
            c.active.set(Slot::NONE);
        }
        c.thread_core.set(ptr::null());
    });
    // SAFETY: as above; nothing refers to the core any more (`CURRENT` was cleared).
    drop(unsafe { Box::from_raw(core.cast_mut()) });
    panic
}

/// The current context's slot, or `Slot::NONE` if it has none yet (no allocation).
#[inline]
fn current_slot(cx: Ctx) -> Slot {
    CURRENT.with(|c| match cx {
        Ctx::Task => c.active.get(),
        Ctx::Thread => c.thread.get(),
    })
}

/// The current context's core, made for the OS thread if it has none yet; `None` once the
/// thread's context has ended.
fn current_core(cx: Ctx) -> Option<NonNull<Core>> {
    CURRENT.with(|c| {
        if cx == Ctx::Task {
            if let Some(core) = NonNull::new(c.task_core.get().cast_mut()) {
                return Some(core);
            }
        }
        if let Some(core) = NonNull::new(c.thread_core.get().cast_mut()) {
            return Some(core);
        }
        if c.thread_ended.get() || THREAD_GUARD.try_with(|_| ()).is_err() {
            // Torn down (a later TLS destructor is running): no context to store into.
            c.thread_ended.set(true);
            return None;
        }
        let core = Box::new(Core::new());
        let slot = core.slot();
        let core = Box::into_raw(core);
        c.thread_core.set(core);
        c.thread.set(slot);
        if c.task_core.get().is_null() {
            c.active.set(slot);
        }
        NonNull::new(core)
    })
}

/// Run `f` with `core` as the current task context, restoring the previous one after,
/// even if `f` panics.
fn enter<R>(core: &Core, f: impl FnOnce() -> R) -> R {
    /// The outer task context's slot and core (null if none).
    struct Exit(Slot, *const Core);
    impl Drop for Exit {
        fn drop(&mut self) {
            CURRENT.with(|c| {
                c.task_core.set(self.1);
                // Outside a task, the thread's slot: it may have been taken meanwhile.
                c.active.set(if self.1.is_null() {
                    c.thread.get()
                } else {
                    self.0
                });
            });
        }
    }
    let _exit = CURRENT.with(|c| {
        Exit(
            c.active.replace(core.slot.get().unwrap_or(Slot::NONE)),
            c.task_core.replace(core),
        )
    });
    f()
}

/// A task context: one per crate `Thread` that runs as a tokio task or a `spawn_blocking`
/// closure. Dropping it ends it: its value in every live `Local` is dropped (with the
/// context current, so a value's `Drop` may use `Local`s) and its index is freed.
///
/// While a `scope`'s future is polled, every `LocalSet` task driven inside that poll sees
/// this context too, as tokio's `task_local!` would.
pub(crate) struct TaskContext {
    core: Box<Core>,
}

impl TaskContext {
    /// A new task context. Cheap: its index is taken on its first `Local` access.
    pub(crate) fn new() -> Self {
        TaskContext {
            core: Box::new(Core::new()),
        }
    }

    /// This context's index, if it has taken one (for tests).
    #[cfg(all(test, not(loom)))]
    pub(crate) fn id(&self) -> Option<usize> {
        self.core.slot.get().map(Slot::id)
    }
}

impl Drop for TaskContext {
    fn drop(&mut self) {
        let panic = enter(&self.core, || self.core.end());
        if let Some(p) = panic {
            if !std::thread::panicking() {
                resume_unwind(p);
            }
        }
    }
}

impl std::fmt::Debug for TaskContext {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TaskContext").finish_non_exhaustive()
    }
}

pin_project_lite::pin_project! {
    /// The future of [`scope`].
        pub(crate) struct Scope<F> {
        #[pin]
        fut: Option<F>,
        ctx: Option<TaskContext>,
    }

    impl<F> PinnedDrop for Scope<F> {
        fn drop(this: Pin<&mut Self>) {
            let this = this.project();
            // Drop an unfinished future inside its context; `ctx` is dropped after.
            if let Some(ctx) = this.ctx.as_ref() {
                let mut fut = this.fut;
                enter(&ctx.core, || fut.set(None));
            }
        }
    }
}

/// Run `fut` inside `ctx`: every poll sees it as the current task context. `ctx` ends when
/// the future completes (before its output is returned) or is dropped.
pub(crate) fn scope<F: Future>(ctx: TaskContext, fut: F) -> Scope<F> {
    Scope {
        fut: Some(fut),
        ctx: Some(ctx),
    }
}

impl<F: Future> Future for Scope<F> {
    type Output = F::Output;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        let this = self.project();
        let ctx = this
            .ctx
            .as_ref()
            .expect("`scope` future polled after completion");
        let mut fut = this.fut;
        let out = enter(&ctx.core, || {
            let out = fut
                .as_mut()
                .as_pin_mut()
                .expect("a scope with a context has its future")
                .poll(cx);
            if out.is_ready() {
                fut.set(None);
            }
            out
        });
        if out.is_ready() {
            *this.ctx = None; // ends the context
        }
        out
    }
}

/// Run `f` inside `ctx` on the current thread (a `spawn_blocking` body), then end `ctx`.
pub(crate) fn scope_sync<R>(ctx: TaskContext, f: impl FnOnce() -> R) -> R {
    let out = enter(&ctx.core, f);
    drop(ctx);
    out
}

/// How many registrations the calling thread's context holds (for tests).
#[cfg(all(test, not(loom)))]
fn thread_registrations() -> usize {
    CURRENT.with(|c| {
        // SAFETY: the thread's core is alive while the thread runs (this call).
        unsafe { c.thread_core.get().as_ref() }.map_or(0, |core| core.regs.borrow().len())
    })
}

/// The index of the current context, if it has one (for tests).
#[cfg(all(test, not(loom)))]
pub(crate) fn current_id(cx: Ctx) -> Option<usize> {
    Some(current_slot(cx))
        .filter(|&s| s != Slot::NONE)
        .map(Slot::id)
}

// ------------------------------------------------------------------------------------------
// Tables

/// One context's place in one table.
struct Entry<T> {
    state: AtomicU32,
    value: UnsafeCell<MaybeUninit<T>>,
}

impl<T> Entry<T> {
    /// Call `f` on the value of a `FULL` entry, marked `BORROWED` meanwhile (so that
    /// `set` and `take` panic).
    #[inline]
    fn borrow<R>(&self, f: impl FnOnce(&T) -> R) -> R {
        // Relaxed: only this context touches its entry while it runs (module docs).
        self.state.store(BORROWED, Ordering::Relaxed);
        let _restore = Restore(&self.state, FULL);
        // SAFETY: the state was `FULL` (the caller's check), so the value is initialised,
        // and it stays so while `f` runs, as in `borrow_again`.
        f(unsafe { self.value_ref() })
    }

    /// Call `f` on the value of a `BORROWED` entry (a nested call: already marked).
    fn borrow_again<R>(&self, f: impl FnOnce(&T) -> R) -> R {
        // SAFETY: `BORROWED` (the caller's check): initialised. It stays so while `f` runs:
        // this context's `set` and `take` panic on `BORROWED`, nothing else touches the
        // entry while this context runs (module docs), and the `Local` outlives `&self`.
        f(unsafe { self.value_ref() })
    }

    /// # Safety
    /// The state is `FULL` or `BORROWED`, and stays so while the reference is used.
    #[inline]
    unsafe fn value_ref(&self) -> &T {
        // SAFETY: per the contract the value is initialised and not moved meanwhile.
        unsafe { (*self.value.get()).assume_init_ref() }
    }

    /// Write `value` into an entry that holds none.
    ///
    /// # Safety
    /// The state must be `UNUSED`, `VACANT` or `INIT`, and the caller the entry's context.
    unsafe fn fill(&self, value: T) {
        // SAFETY: per the contract the slot holds no value, and only this context
        // touches it now.
        unsafe { (*self.value.get()).write(value) };
        // Relaxed: see the module docs.
        self.state.store(FULL, Ordering::Relaxed);
    }
}

/// Puts a state back when dropped (at the end of a borrow, or when an init panics).
struct Restore<'a>(&'a AtomicU32, u32);

impl Drop for Restore<'_> {
    #[inline]
    fn drop(&mut self) {
        // Relaxed: see the module docs.
        self.0.store(self.1, Ordering::Relaxed);
    }
}

fn alloc_bucket<T>(len: usize) -> *mut Entry<T> {
    let bucket: Box<[Entry<T>]> = (0..len)
        .map(|_| Entry {
            state: AtomicU32::new(UNUSED),
            value: UnsafeCell::new(MaybeUninit::uninit()),
        })
        .collect();
    Box::into_raw(bucket).cast()
}

/// Free a bucket made by `alloc_bucket`, without dropping any value.
///
/// # Safety
/// `bucket` came from `alloc_bucket::<T>(len)` and is not used afterwards.
unsafe fn free_bucket<T>(bucket: *mut Entry<T>, len: usize) {
    // SAFETY: per the contract this is the `Box<[Entry<T>]>` of `len` entries made by
    // `alloc_bucket`; `Entry` has no drop glue for its value (`MaybeUninit`).
    drop(unsafe { Box::from_raw(ptr::slice_from_raw_parts_mut(bucket, len)) });
}

/// The shared part of a table that registrations keep alive. The buckets move here when
/// the `Local` is dropped; the last reference frees them.
struct Header {
    refs: AtomicUsize,
    /// The `Local` was dropped, and every value in its table with it.
    dead: AtomicBool,
    buckets: [AtomicPtr<()>; BUCKETS],
    /// Frees `buckets` as buckets of the right `Entry<T>`.
    free: unsafe fn(&[AtomicPtr<()>; BUCKETS]),
}

/// # Safety
/// Every non-null pointer in `buckets` is bucket `i` of a table of `T`, used no more.
unsafe fn free_buckets<T>(buckets: &[AtomicPtr<()>; BUCKETS]) {
    for (b, bucket) in buckets.iter().enumerate() {
        // Relaxed: the caller holds the last reference, ordered after every other use by
        // the count's `Release` decrements and its `Acquire` fence.
        let p = bucket.load(Ordering::Relaxed);
        if !p.is_null() {
            // SAFETY: per the contract, bucket `b` holds `2^b` entries of `T`.
            unsafe { free_bucket::<T>(p.cast(), 1 << b) };
        }
    }
}

/// Drop one reference to a header; the last one frees it and its buckets.
///
/// # Safety
/// The caller owns one reference to the live header `header`, and gives it up.
unsafe fn release_header(header: NonNull<Header>) {
    // SAFETY: the caller's reference keeps the header alive until the decrement.
    let h = unsafe { header.as_ref() };
    // Release: this holder's uses of the header and buckets happen before the free.
    if h.refs.fetch_sub(1, Ordering::Release) == 1 {
        // Acquire: pairs with every other holder's `Release` decrement.
        fence(Ordering::Acquire);
        // SAFETY: this was the last reference: nobody else can reach the header or the
        // buckets (the `Local` moved its own into `buckets` before its release). The
        // header came from `Box::into_raw` in `Slots::header`.
        unsafe {
            (h.free)(&h.buckets);
            drop(Box::from_raw(header.as_ptr()));
        }
    }
}

/// A context's claim on one entry: at the context's end, drop the entry's value if it
/// still has one. Holds a reference to the table's header, so the entry outlives it.
struct Registration {
    entry: NonNull<()>,
    /// Empties the entry, typed (`release_entry::<T>`).
    release: unsafe fn(NonNull<()>),
    header: HeaderRef,
}

// SAFETY: a registration only points at a reference-counted header and at an entry that
// the header keeps alive, and is only made for tables of `T: Send + 'static`, whose values
// may be dropped on any thread and at any time; the context that holds it never uses it
// from two threads at once.
unsafe impl Send for Registration {}

impl Registration {
    fn dead(&self) -> bool {
        // Acquire: pairs with the `Release` store in `Slots::drop`, made after it emptied
        // every entry; so a dead registration's drop finds its entry `UNUSED` and runs no
        // user code.
        // SAFETY: the registration's reference keeps the header alive.
        unsafe { self.header.0.as_ref() }
            .dead
            .load(Ordering::Acquire)
    }
}

impl Drop for Registration {
    fn drop(&mut self) {
        // SAFETY: `entry` is an `Entry<T>` that `release` was made for, alive while the
        // header reference is held (it is dropped after this body, even on a panic).
        unsafe { (self.release)(self.entry) };
    }
}

/// One counted reference to a header.
struct HeaderRef(NonNull<Header>);

impl Drop for HeaderRef {
    fn drop(&mut self) {
        // SAFETY: a `HeaderRef` owns one reference.
        unsafe { release_header(self.0) };
    }
}

/// Empty an entry at its context's end: move its value out, mark it `UNUSED`, then drop
/// the value (whose `Drop` may fill the entry again, in a context that is ending).
///
/// # Safety
/// `entry` is a live `Entry<T>` whose context has ended or is ending, with no access of
/// that context in progress.
unsafe fn release_entry<T>(entry: NonNull<()>) {
    // SAFETY: per the contract.
    let entry = unsafe { entry.cast::<Entry<T>>().as_ref() };
    // Relaxed: the swap's atomicity alone decides between this end and the `Local`'s drop
    // (module docs).
    if entry.state.swap(UNUSED, Ordering::Relaxed) == FULL {
        // SAFETY: this swap took it from `FULL`: the value is initialised and now ours.
        let value = unsafe { ptr::read((*entry.value.get()).as_ptr()) };
        drop(value);
    }
}

/// A table of one value per context. The storage behind `Local`.
pub(crate) struct Slots<T> {
    buckets: [AtomicPtr<Entry<T>>; BUCKETS],
    header: AtomicPtr<Header>,
    /// Owns `T`s; `Send` and `Sync` come from the impls below.
    _values: PhantomData<(T, *const ())>,
}

// SAFETY: a table hands each context only its own value, never another's, so sharing it
// between threads shares no `T` (a task context's value is used by one thread at a time,
// handed between workers as the task is, which `T: Send` allows); values may be dropped by
// whichever thread drops the table or ends a context, which `T: Send` allows. (Tables
// exist only for `T: 'static` too: see the module docs.)
unsafe impl<T: Send> Sync for Slots<T> {}
// SAFETY: as above: moving the table moves its values, which `T: Send` allows.
unsafe impl<T: Send> Send for Slots<T> {}

impl<T: Send + 'static> Slots<T> {
    pub(crate) const fn new() -> Self {
        Slots {
            buckets: [const { AtomicPtr::new(ptr::null_mut()) }; BUCKETS],
            header: AtomicPtr::new(ptr::null_mut()),
            _values: PhantomData,
        }
    }

    /// Call `f` on the current context's value, made by `init` first if it has none.
    #[inline]
    pub(crate) fn with<R>(&self, cx: Ctx, init: impl FnOnce() -> T, f: impl FnOnce(&T) -> R) -> R {
        if let Some(entry) = self.entry(current_slot(cx)) {
            // Relaxed: see the module docs.
            let state = entry.state.load(Ordering::Relaxed);
            if state == FULL {
                return entry.borrow(f);
            }
        }
        self.with_slow(cx, init, f)
    }

    #[cold]
    #[inline(never)]
    fn with_slow<R>(&self, cx: Ctx, init: impl FnOnce() -> T, f: impl FnOnce(&T) -> R) -> R {
        let Some(slot) = current_core(cx).map(|core| {
            // SAFETY: the current context's core lives until that context ends, which
            // cannot happen while code of that context runs (this call).
            unsafe { core.as_ref() }.slot()
        }) else {
            // The thread's TLS is being torn down: a value just for this call.
            return f(&init());
        };
        let entry = self.entry_or_alloc(slot);
        // Relaxed: see the module docs.
        let prev = entry.state.load(Ordering::Relaxed);
        match prev {
            FULL => return entry.borrow(f),
            BORROWED => return entry.borrow_again(f),
            INIT => reentrant("with"),
            _ => {}
        }
        entry.state.store(INIT, Ordering::Relaxed);
        let restore = Restore(&entry.state, prev);
        let value = init();
        mem::forget(restore);
        // SAFETY: the state is `INIT` and this is the entry's context.
        unsafe { entry.fill(value) };
        if prev == UNUSED {
            self.register(cx, entry);
        }
        entry.borrow(f)
    }

    /// Replace the current context's value with `value`; returns the old one. Once the
    /// thread's TLS is torn down there is nowhere to store it: returns `value` itself.
    pub(crate) fn replace(&self, cx: Ctx, value: T) -> Option<T> {
        let Some(core) = current_core(cx) else {
            return Some(value);
        };
        // SAFETY: as in `with_slow`.
        let slot = unsafe { core.as_ref() }.slot();
        let entry = self.entry_or_alloc(slot);
        // Relaxed: see the module docs.
        match entry.state.load(Ordering::Relaxed) {
            FULL => {
                // SAFETY: `FULL`: initialised, and not borrowed by this context (it would
                // be `BORROWED`), nor by another (module docs).
                Some(mem::replace(
                    unsafe { (*entry.value.get()).assume_init_mut() },
                    value,
                ))
            }
            BORROWED => borrowed("set"),
            INIT => reentrant("set"),
            prev => {
                // SAFETY: `UNUSED` or `VACANT`, and this is the entry's context.
                unsafe { entry.fill(value) };
                if prev == UNUSED {
                    self.register(cx, entry);
                }
                None
            }
        }
    }

    /// Remove the current context's value, if it has one.
    pub(crate) fn take(&self, cx: Ctx) -> Option<T> {
        let entry = self.entry(current_slot(cx))?;
        // Relaxed: see the module docs.
        match entry.state.load(Ordering::Relaxed) {
            FULL => {
                // SAFETY: `FULL`: initialised and not borrowed; marked `VACANT` (still
                // registered) right after, with no code in between.
                let value = unsafe { ptr::read((*entry.value.get()).as_ptr()) };
                entry.state.store(VACANT, Ordering::Relaxed);
                Some(value)
            }
            BORROWED => borrowed("take"),
            INIT => reentrant("take"),
            _ => None,
        }
    }

    /// Whether the current context has a value.
    pub(crate) fn has_value(&self, cx: Ctx) -> bool {
        self.entry(current_slot(cx))
            // Relaxed: see the module docs.
            .is_some_and(|e| matches!(e.state.load(Ordering::Relaxed), FULL | BORROWED))
    }

    #[inline]
    fn entry(&self, slot: Slot) -> Option<&Entry<T>> {
        // SAFETY: `Slot::new` keeps `bucket < BUCKETS - 1` for every index the pool hands
        // out, and `Slot::NONE` has `BUCKETS - 1`.
        let bucket = unsafe { self.buckets.get_unchecked(slot.bucket) };
        // Acquire: pairs with the `Release` CAS that published the bucket.
        let p = bucket.load(Ordering::Acquire);
        // SAFETY: a published bucket `b` has `2^b > slot.index` entries and lives as long
        // as `self`.
        (!p.is_null()).then(|| unsafe { &*p.add(slot.index) })
    }

    fn entry_or_alloc(&self, slot: Slot) -> &Entry<T> {
        if let Some(entry) = self.entry(slot) {
            return entry;
        }
        // SAFETY: as in `entry`.
        let bucket = unsafe { self.buckets.get_unchecked(slot.bucket) };
        let new = alloc_bucket::<T>(1 << slot.bucket);
        // Release: publishes the new bucket's entries; Acquire on failure: reads the
        // winner's, as `entry` does.
        if let Err(_won) =
            bucket.compare_exchange(ptr::null_mut(), new, Ordering::Release, Ordering::Acquire)
        {
            // SAFETY: ours, never published.
            unsafe { free_bucket(new, 1 << slot.bucket) };
        }
        self.entry(slot).expect("the bucket was just published")
    }

    /// The table's header, made on first use, holding the table's own reference.
    fn header(&self) -> NonNull<Header> {
        // Acquire: pairs with the `Release` CAS that published the header.
        if let Some(h) = NonNull::new(self.header.load(Ordering::Acquire)) {
            return h;
        }
        let new = Box::into_raw(Box::new(Header {
            refs: AtomicUsize::new(1),
            dead: AtomicBool::new(false),
            buckets: [const { AtomicPtr::new(ptr::null_mut()) }; BUCKETS],
            free: free_buckets::<T>,
        }));
        // Release: publishes the header; Acquire on failure: reads the winner's.
        match self.header.compare_exchange(
            ptr::null_mut(),
            new,
            Ordering::Release,
            Ordering::Acquire,
        ) {
            Ok(_) => NonNull::new(new).expect("a Box is not null"),
            Err(won) => {
                // SAFETY: ours, never published.
                drop(unsafe { Box::from_raw(new) });
                NonNull::new(won).expect("only a non-null header is published")
            }
        }
    }

    /// Record in the current context that `entry` (just filled from `UNUSED`) must be
    /// emptied when the context ends.
    fn register(&self, cx: Ctx, entry: &Entry<T>) {
        let header = self.header();
        // Relaxed: as `Arc::clone`: the table's own reference keeps the header alive.
        // SAFETY: the header lives while `self` does.
        unsafe { header.as_ref() }
            .refs
            .fetch_add(1, Ordering::Relaxed);
        let reg = Registration {
            entry: NonNull::from(entry).cast(),
            release: release_entry::<T>,
            header: HeaderRef(header),
        };
        let core = current_core(cx).expect("the context that filled the entry is live");
        // SAFETY: as in `with_slow`.
        unsafe { core.as_ref() }.register(reg);
    }
}

impl<T> Drop for Slots<T> {
    fn drop(&mut self) {
        let mut panic = None;
        for (b, bucket) in self.buckets.iter_mut().enumerate() {
            let p = *bucket.get_mut();
            if p.is_null() {
                continue;
            }
            for i in 0..1usize << b {
                // SAFETY: bucket `b` has `2^b` entries and is alive (ours, or shared with
                // registrations that keep the header, and so it, alive).
                let entry = unsafe { &*p.add(i) };
                // Relaxed: the swap's atomicity decides between this drop and a context's
                // end (module docs).
                if entry.state.swap(UNUSED, Ordering::Relaxed) == FULL {
                    // SAFETY: this swap took it from `FULL`: initialised and now ours.
                    let value = unsafe { ptr::read((*entry.value.get()).as_ptr()) };
                    if let Err(e) = catch_unwind(AssertUnwindSafe(|| drop(value))) {
                        panic.get_or_insert(e);
                    }
                }
            }
        }
        match NonNull::new(*self.header.get_mut()) {
            None => {
                for (b, bucket) in self.buckets.iter_mut().enumerate() {
                    let p = *bucket.get_mut();
                    if !p.is_null() {
                        // SAFETY: no registration was ever made (they make the header
                        // first), so nothing else refers to the bucket.
                        unsafe { free_bucket(p, 1 << b) };
                    }
                }
            }
            Some(header) => {
                // SAFETY: the table's own reference keeps the header alive.
                let h = unsafe { header.as_ref() };
                for (mine, shared) in self.buckets.iter_mut().zip(&h.buckets) {
                    // Relaxed: published to the last holder by `release_header`.
                    shared.store((*mine.get_mut()).cast(), Ordering::Relaxed);
                }
                // Release: see `Registration::dead`.
                h.dead.store(true, Ordering::Release);
                // SAFETY: gives up the table's own reference.
                unsafe { release_header(header) };
            }
        }
        if let Some(p) = panic {
            if !std::thread::panicking() {
                resume_unwind(p);
            }
        }
    }
}

#[cold]
#[track_caller]
fn reentrant(what: &str) -> ! {
    panic!(
        "`Local::{what}` called from this `Local`'s own init function, in the same thread or \
         task: the value is not made yet"
    )
}

#[cold]
#[track_caller]
fn borrowed(what: &str) -> ! {
    panic!(
        "`Local::{what}` called inside `Local::with` on the same `Local`, in the same thread \
         or task: the value is borrowed; change it through interior mutability instead"
    )
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::{thread_registrations, Ctx, Slot, Slots};

    #[test]
    fn registrations_of_dropped_tables_are_pruned() {
        // A long-lived thread that uses many short-lived tables keeps a bounded list.
        std::thread::spawn(|| {
            let live = Slots::<u32>::new();
            live.with(Ctx::Thread, || 1, |_| ());
            for i in 0..1000 {
                let t = Slots::<u32>::new();
                t.with(Ctx::Thread, || i, |_| ());
                assert!(thread_registrations() <= 2 * super::PRUNE_FIRST);
            }
            assert!(
                live.has_value(Ctx::Thread),
                "a live table's registration was pruned"
            );
        })
        .join()
        .unwrap();
    }

    #[test]
    fn slot_layout_matches_buckets() {
        for id in [0usize, 1, 2, 3, 6, 7, 100, 1 << 20] {
            let s = Slot::new(id);
            assert_eq!(s.id(), id);
            assert!(s.index < 1 << s.bucket);
        }
        assert_eq!(
            Slot::new(0),
            Slot {
                bucket: 0,
                index: 0
            }
        );
        assert_eq!(
            Slot::new(2),
            Slot {
                bucket: 1,
                index: 1
            }
        );
        assert_eq!(
            Slot::new(3),
            Slot {
                bucket: 2,
                index: 0
            }
        );
    }
}
