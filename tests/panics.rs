//! Panic injection (SPEC, "Panics in user code"): a panic in every callback the crate runs
//! and in code holding a guard of every primitive, in both forms, from plain threads and
//! from tokio tasks. After each panic: nothing is locked, no permit is lost, no waiter is
//! stranded (waiters queued while the panicking code held the primitive are all served, and
//! the `Debug` waiter count is back to 0), nothing is poisoned (Python has no poisoning),
//! and the primitive serves both worlds again (`assert_usable`).
//!
//! Not repeated here: a panic in a Thread target or a Timer function on their own, in the
//! excepthook and in the start hook are injected by `tests/excepthook.rs`
//! (`a_custom_hook_gets_the_payload_and_the_very_thread`, `a_hook_that_panics_changes_nothing_else`
//! and the start-hook tests there). Here a Thread target panics only while it holds guards.
//!
//! Every injected panic carries the [`INJECTED`] prefix; the panic hook and the excepthook
//! of this binary stay quiet about those (and only those), so the output shows real failures.

mod common;
use common::{join_task, join_thread, mt_runtime, queued, run_on_thread, wait_until, LATE, SHORT};

use std::any::Any;
use std::fmt;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering::SeqCst};
use std::sync::{mpsc, Arc, Once};
use std::time::{Duration, Instant};

use futures::future::BoxFuture;
use futures::FutureExt;
use tokio::runtime::Runtime;
use tokio::sync::oneshot;

use threading::{
    blocking, Barrier, BoundedSemaphore, BrokenBarrierError, Condition, JoinError, Lock, RLock,
    Semaphore, Thread,
};

/// The prefix of every panic this file injects.
const INJECTED: &str = "injected";

/// Silence the reports of injected panics (the panic hook's and the excepthook's), once per
/// process; any other panic is reported as usual.
fn quiet() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        let default = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            if !message(info.payload()).starts_with(INJECTED) {
                default(info);
            }
        }));
        threading::set_excepthook(|args| {
            if !args.message().is_some_and(|m| m.starts_with(INJECTED)) {
                threading::excepthook(args);
            }
        });
    });
}

/// Panic with an injected message naming `what`.
fn inject(what: &str) -> ! {
    std::panic::panic_any(format!("{INJECTED}: {what}"))
}

/// The message of a panic payload ("" if it carries no string).
fn message(p: &(dyn Any + Send)) -> &str {
    p.downcast_ref::<&str>()
        .copied()
        .or_else(|| p.downcast_ref::<String>().map(String::as_str))
        .unwrap_or("")
}

/// A caught panic is one of ours, unchanged.
#[track_caller]
fn assert_injected(p: Box<dyn Any + Send>) {
    assert!(
        message(&*p).starts_with(INJECTED),
        "not an injected panic: {:?}",
        message(&*p)
    );
}

/// Join a plain thread that must have died of an injected panic.
#[track_caller]
fn join_panicked<T: fmt::Debug>(h: std::thread::JoinHandle<T>) {
    wait_until(|| h.is_finished());
    assert_injected(h.join().expect_err("the thread was meant to panic"));
}

/// Join a task that must have died of an injected panic: its JoinHandle reports it.
async fn join_task_panicked<T: fmt::Debug>(h: tokio::task::JoinHandle<T>) {
    let err = tokio::time::timeout(LATE, h)
        .await
        .expect("the task did not finish in time")
        .expect_err("the task was meant to panic");
    assert!(err.is_panic(), "{err:?}");
    assert_injected(err.into_panic());
}

// ---------------------------------------------------------------------------------------
// Gates: a holder signals that it holds, and waits for leave to go on (and panic).

/// The holder's side, on a plain thread.
struct Gate {
    held: mpsc::Sender<()>,
    go: mpsc::Receiver<()>,
}

impl Gate {
    fn pass(self) {
        self.held.send(()).unwrap();
        self.go.recv_timeout(LATE).expect("the test never said go");
    }
}

/// The holder's side, in a task: it waits for leave across an `.await`.
struct AsyncGate {
    held: mpsc::Sender<()>,
    go: oneshot::Receiver<()>,
}

impl AsyncGate {
    async fn pass(self) {
        self.held.send(()).unwrap();
        tokio::time::timeout(LATE, self.go)
            .await
            .expect("the test never said go")
            .unwrap();
    }
}

/// The test's side of a [`Gate`].
struct Control {
    held: mpsc::Receiver<()>,
    go: mpsc::Sender<()>,
}

impl Control {
    fn wait_held(&self) {
        self.held.recv_timeout(LATE).expect("the holder never held");
    }
    fn go(self) {
        self.go.send(()).unwrap();
    }
}

/// The test's side of an [`AsyncGate`].
struct AsyncControl {
    held: mpsc::Receiver<()>,
    go: oneshot::Sender<()>,
}

impl AsyncControl {
    fn wait_held(&self) {
        self.held.recv_timeout(LATE).expect("the holder never held");
    }
    fn go(self) {
        self.go.send(()).unwrap();
    }
}

fn new_gate() -> (Gate, Control) {
    let (held_tx, held_rx) = mpsc::channel();
    let (go_tx, go_rx) = mpsc::channel();
    (
        Gate {
            held: held_tx,
            go: go_rx,
        },
        Control {
            held: held_rx,
            go: go_tx,
        },
    )
}

fn new_async_gate() -> (AsyncGate, AsyncControl) {
    let (held_tx, held_rx) = mpsc::channel();
    let (go_tx, go_rx) = oneshot::channel();
    (
        AsyncGate {
            held: held_tx,
            go: go_rx,
        },
        AsyncControl {
            held: held_rx,
            go: go_tx,
        },
    )
}

/// After taking everything: pass the gate (if any), then panic or let go.
fn after_taking(gate: Option<Gate>, panic: bool, what: &str) {
    if let Some(gate) = gate {
        gate.pass();
    }
    if panic {
        inject(what);
    }
}

/// As [`after_taking`], in a task: the guards are held across at least one `.await`.
async fn after_taking_async(gate: Option<AsyncGate>, panic: bool, what: &str) {
    tokio::task::yield_now().await;
    if let Some(gate) = gate {
        gate.pass().await;
    }
    if panic {
        inject(what);
    }
}

// ---------------------------------------------------------------------------------------
// One interface over the guard-giving primitives, so that every scenario runs on each.

/// Owned guards, boxed so that a test can move them anywhere.
type Owned = Box<dyn Any + Send>;

trait Prim: fmt::Debug + Send + Sync + 'static {
    /// Free units: 1 for a free lock (0 if held, or if an RLock still shows an owner), the
    /// value of a semaphore.
    fn free(&self) -> usize;
    /// Waiters queued for the lock or the permits.
    fn waiters(&self) -> usize;
    /// Take it from a plain thread (waiting up to `LATE`) and let go; whether it was taken.
    fn take_blocking(&self) -> bool;
    /// Take it from a task (waiting up to `LATE`) and let go; whether it was taken.
    fn take_async(&self) -> BoxFuture<'_, bool>;
    /// Take everything (the lock, several levels deep where it nests, or every free permit)
    /// on this thread, pass the gate, then panic or let go.
    fn hold_blocking(&self, gate: Option<Gate>, panic: bool);
    /// As `hold_blocking`, in the async form, holding across `.await`s.
    fn hold_async(&self, gate: Option<AsyncGate>, panic: bool) -> BoxFuture<'_, ()>;
    /// Owned guards for everything, taken in the blocking form; `None` where owned guards
    /// are bound to their owner (an RLock's: see `rlock_owned_guards_in_a_panicking_task`).
    fn owned_blocking(self: Arc<Self>) -> Option<Owned>;
    /// As `owned_blocking`, taken in the async form.
    fn owned_async(self: Arc<Self>) -> BoxFuture<'static, Option<Owned>>;
}

impl Prim for Lock {
    fn free(&self) -> usize {
        usize::from(!self.locked())
    }
    fn waiters(&self) -> usize {
        queued(self)
    }
    fn take_blocking(&self) -> bool {
        self.blocking().acquire_timeout(LATE).is_some()
    }
    fn take_async(&self) -> BoxFuture<'_, bool> {
        Box::pin(async move { self.acquire_timeout(LATE).await.is_some() })
    }
    fn hold_blocking(&self, gate: Option<Gate>, panic: bool) {
        let _g = self.blocking().acquire();
        assert!(self.locked());
        after_taking(gate, panic, "holding a Lock");
    }
    fn hold_async(&self, gate: Option<AsyncGate>, panic: bool) -> BoxFuture<'_, ()> {
        Box::pin(async move {
            let _g = self.acquire().await;
            assert!(self.locked());
            after_taking_async(gate, panic, "holding a Lock in a task").await;
        })
    }
    fn owned_blocking(self: Arc<Self>) -> Option<Owned> {
        Some(Box::new(self.into_blocking().acquire_owned()))
    }
    fn owned_async(self: Arc<Self>) -> BoxFuture<'static, Option<Owned>> {
        Box::pin(async move { Some(Box::new(self.acquire_owned().await) as Owned) })
    }
}

impl Prim for RLock {
    fn free(&self) -> usize {
        let no_owner = format!("{self:?}").contains("owner=None");
        usize::from(!self.locked() && no_owner && self.blocking().recursion_count() == 0)
    }
    fn waiters(&self) -> usize {
        queued(self)
    }
    fn take_blocking(&self) -> bool {
        self.blocking().acquire_timeout(LATE).is_some()
    }
    fn take_async(&self) -> BoxFuture<'_, bool> {
        Box::pin(async move { self.acquire_timeout(LATE).await.is_some() })
    }
    fn hold_blocking(&self, gate: Option<Gate>, panic: bool) {
        let me = self.blocking();
        let _a = me.acquire();
        let _b = me.try_acquire().expect("the owner re-enters");
        let _c = me.acquire_timeout(LATE).expect("the owner re-enters");
        assert_eq!(me.recursion_count(), 3);
        after_taking(gate, panic, "holding an RLock three deep");
    }
    fn hold_async(&self, gate: Option<AsyncGate>, panic: bool) -> BoxFuture<'_, ()> {
        Box::pin(async move {
            let _a = self.acquire().await;
            let _b = self.try_acquire().expect("the owner re-enters");
            let _c = self.acquire().await;
            assert_eq!(self.recursion_count(), 3);
            after_taking_async(gate, panic, "holding an RLock three deep in a task").await;
        })
    }
    fn owned_blocking(self: Arc<Self>) -> Option<Owned> {
        None
    }
    fn owned_async(self: Arc<Self>) -> BoxFuture<'static, Option<Owned>> {
        Box::pin(async { None })
    }
}

/// `Prim` for the two semaphores: "everything" is every free permit.
macro_rules! semaphore_prim {
    ($ty:ty) => {
        impl Prim for $ty {
            fn free(&self) -> usize {
                self.value()
            }
            fn waiters(&self) -> usize {
                queued(self)
            }
            fn take_blocking(&self) -> bool {
                self.blocking().acquire_timeout(LATE).is_some()
            }
            fn take_async(&self) -> BoxFuture<'_, bool> {
                Box::pin(async move { self.acquire_timeout(LATE).await.is_some() })
            }
            fn hold_blocking(&self, gate: Option<Gate>, panic: bool) {
                let me = self.blocking();
                let n = me.value();
                assert!(n > 0);
                let mut permits: Vec<_> = (1..n).map(|_| me.try_acquire().unwrap()).collect();
                permits.push(me.acquire());
                assert_eq!(me.value(), 0);
                after_taking(gate, panic, "holding every permit");
            }
            fn hold_async(&self, gate: Option<AsyncGate>, panic: bool) -> BoxFuture<'_, ()> {
                Box::pin(async move {
                    let n = self.value();
                    assert!(n > 0);
                    let mut permits: Vec<_> = (1..n).map(|_| self.try_acquire().unwrap()).collect();
                    permits.push(self.acquire().await);
                    assert_eq!(self.value(), 0);
                    after_taking_async(gate, panic, "holding every permit in a task").await;
                })
            }
            fn owned_blocking(self: Arc<Self>) -> Option<Owned> {
                let me = self.into_blocking();
                let permits: Vec<_> = (0..me.value()).map(|_| me.acquire_owned()).collect();
                Some(Box::new(permits))
            }
            fn owned_async(self: Arc<Self>) -> BoxFuture<'static, Option<Owned>> {
                Box::pin(async move {
                    let mut permits = Vec::new();
                    for _ in 0..self.value() {
                        permits.push(self.acquire_owned().await);
                    }
                    Some(Box::new(permits) as Owned)
                })
            }
        }
    };
}

semaphore_prim!(Semaphore);
semaphore_prim!(BoundedSemaphore);

impl Prim for Condition {
    fn free(&self) -> usize {
        usize::from(!self.locked() && self.lock().free() == 1)
    }
    fn waiters(&self) -> usize {
        queued(&**self.lock())
    }
    fn take_blocking(&self) -> bool {
        self.blocking().acquire_timeout(LATE).is_some()
    }
    fn take_async(&self) -> BoxFuture<'_, bool> {
        Box::pin(async move { self.acquire_timeout(LATE).await.is_some() })
    }
    fn hold_blocking(&self, gate: Option<Gate>, panic: bool) {
        let me = self.blocking();
        let _a = me.acquire();
        let b = me.acquire();
        me.notify_all(&b); // nobody waits: no effect
        assert_eq!(me.lock().recursion_count(), 2);
        after_taking(gate, panic, "holding a Condition's RLock");
    }
    fn hold_async(&self, gate: Option<AsyncGate>, panic: bool) -> BoxFuture<'_, ()> {
        Box::pin(async move {
            let _a = self.acquire().await;
            let b = self.acquire().await;
            self.notify(&b, 1);
            assert_eq!(self.lock().recursion_count(), 2);
            after_taking_async(gate, panic, "holding a Condition's RLock in a task").await;
        })
    }
    fn owned_blocking(self: Arc<Self>) -> Option<Owned> {
        None
    }
    fn owned_async(self: Arc<Self>) -> BoxFuture<'static, Option<Owned>> {
        Box::pin(async { None })
    }
}

impl Prim for Condition<Lock> {
    fn free(&self) -> usize {
        usize::from(!self.locked())
    }
    fn waiters(&self) -> usize {
        queued(&**self.lock())
    }
    fn take_blocking(&self) -> bool {
        self.blocking().acquire_timeout(LATE).is_some()
    }
    fn take_async(&self) -> BoxFuture<'_, bool> {
        Box::pin(async move { self.acquire_timeout(LATE).await.is_some() })
    }
    fn hold_blocking(&self, gate: Option<Gate>, panic: bool) {
        let me = self.blocking();
        let g = me.acquire();
        me.notify(&g, 2);
        after_taking(gate, panic, "holding a Condition's Lock");
    }
    fn hold_async(&self, gate: Option<AsyncGate>, panic: bool) -> BoxFuture<'_, ()> {
        Box::pin(async move {
            let g = self.acquire().await;
            self.notify_all(&g);
            after_taking_async(gate, panic, "holding a Condition's Lock in a task").await;
        })
    }
    fn owned_blocking(self: Arc<Self>) -> Option<Owned> {
        // The lock is shared: an owned guard of it holds the condition's lock.
        self.lock().clone().owned_blocking()
    }
    fn owned_async(self: Arc<Self>) -> BoxFuture<'static, Option<Owned>> {
        self.lock().clone().owned_async()
    }
}

/// Nothing held (`free` units free) and nobody queued.
#[track_caller]
fn assert_free<P: Prim>(p: &P, free: usize) {
    assert_eq!(p.free(), free, "something is still held: {p:?}");
    assert_eq!(p.waiters(), 0, "a waiter is stranded: {p:?}");
}

/// A plain thread and a task, queued for `p` behind whoever holds it; each takes it once
/// it is free and lets go.
struct Waiters {
    thread: std::thread::JoinHandle<bool>,
    task: tokio::task::JoinHandle<bool>,
}

fn queue_waiters<P: Prim>(rt: &Runtime, p: &Arc<P>) -> Waiters {
    let before = p.waiters();
    let q = p.clone();
    let thread = std::thread::spawn(move || q.take_blocking());
    wait_until(|| p.waiters() == before + 1);
    let q = p.clone();
    let task = rt.spawn(async move { q.take_async().await });
    wait_until(|| p.waiters() == before + 2);
    Waiters { thread, task }
}

impl Waiters {
    /// Both waiters got what they waited for.
    #[track_caller]
    fn served(self, rt: &Runtime) {
        assert!(join_thread(self.thread), "the waiting thread was stranded");
        assert!(
            rt.block_on(join_task(self.task)),
            "the waiting task was stranded"
        );
    }
}

/// `p` is free (`free` units) and serves both worlds: taken by a thread and by a task, held
/// by a thread while a task waits (and gets it), held by a task while a thread waits.
fn assert_usable<P: Prim>(rt: &Runtime, p: &Arc<P>, free: usize) {
    assert_free(&**p, free);
    assert!(p.take_blocking());
    let q = p.clone();
    assert!(rt.block_on(async move { q.take_async().await }));

    let (gate, control) = new_gate();
    let q = p.clone();
    let holder = std::thread::spawn(move || q.hold_blocking(Some(gate), false));
    control.wait_held();
    let q = p.clone();
    let waiter = rt.spawn(async move { q.take_async().await });
    wait_until(|| p.waiters() == 1);
    control.go();
    join_thread(holder);
    assert!(rt.block_on(join_task(waiter)));

    let (gate, control) = new_async_gate();
    let q = p.clone();
    let holder = rt.spawn(async move { q.hold_async(Some(gate), false).await });
    control.wait_held();
    let q = p.clone();
    let waiter = std::thread::spawn(move || q.take_blocking());
    wait_until(|| p.waiters() == 1);
    control.go();
    rt.block_on(join_task(holder));
    assert!(join_thread(waiter));
    assert_free(&**p, free);
}

/// Every way code holding `p` can panic, each followed by the checks:
/// 1. caught where it happens, on a plain thread and in a task;
/// 2. a holder thread panics while a thread and a task wait: both are served;
/// 3. a holder task panics across an `.await` while a thread and a task wait: its
///    JoinHandle reports the panic, both waiters are served;
/// 4. owned guards (where they may move) taken by a thread or a task and moved into a
///    plain thread or a task that panics.
fn panics_while_holding<P: Prim>(p: Arc<P>) {
    quiet();
    let rt = mt_runtime();
    let free = p.free();
    assert!(free > 0);

    // 1. Caught in place: the guards unwind with the scope (LR-9, SB-13).
    let r = catch_unwind(AssertUnwindSafe(|| p.hold_blocking(None, true)));
    assert_injected(r.unwrap_err());
    assert_free(&*p, free);
    let q = p.clone();
    let caught = rt.block_on(async move {
        let r = AssertUnwindSafe(q.hold_async(None, true))
            .catch_unwind()
            .await;
        r.unwrap_err()
    });
    assert_injected(caught);
    assert_free(&*p, free);

    // 2. A holder thread panics while a thread and a task wait.
    let (gate, control) = new_gate();
    let q = p.clone();
    let holder = std::thread::spawn(move || q.hold_blocking(Some(gate), true));
    control.wait_held();
    assert_eq!(p.free(), 0);
    let waiters = queue_waiters(&rt, &p);
    control.go();
    join_panicked(holder);
    waiters.served(&rt);
    assert_free(&*p, free);

    // 3. A holder task panics across an `.await` while a thread and a task wait.
    let (gate, control) = new_async_gate();
    let q = p.clone();
    let holder = rt.spawn(async move { q.hold_async(Some(gate), true).await });
    control.wait_held();
    assert_eq!(p.free(), 0);
    let waiters = queue_waiters(&rt, &p);
    control.go();
    rt.block_on(join_task_panicked(holder));
    waiters.served(&rt);
    assert_free(&*p, free);

    // 4. Owned guards moved into a thread or a task that panics.
    if let Some(owned) = p.clone().owned_blocking() {
        assert_eq!(p.free(), 0);
        join_panicked(std::thread::spawn(move || {
            let _owned = owned;
            inject("a thread holding owned guards taken by another thread")
        }));
        assert_free(&*p, free);

        let owned = rt.block_on(p.clone().owned_async()).expect("owned guards");
        assert_eq!(p.free(), 0);
        let waiters = queue_waiters(&rt, &p);
        let h = rt.spawn(async move {
            let _owned = owned;
            tokio::task::yield_now().await;
            inject("a task holding owned guards across an await")
        });
        rt.block_on(join_task_panicked(h));
        waiters.served(&rt);
        assert_free(&*p, free);

        // Taken by a task, moved to a plain thread that panics.
        let owned = rt
            .block_on(rt.spawn(p.clone().owned_async()))
            .unwrap()
            .expect("owned guards");
        join_panicked(std::thread::spawn(move || {
            let _owned = owned;
            inject("a thread holding owned guards taken by a task")
        }));
        assert_free(&*p, free);
    }

    assert_usable(&rt, &p, free);
}

// ---------------------------------------------------------------------------------------
// Code holding a guard.

// conformance: LR-9, L-2
#[test]
fn a_panic_while_holding_a_lock_releases_it() {
    run_on_thread(|| panics_while_holding(Arc::new(Lock::new())));
    run_on_thread(|| panics_while_holding(Arc::new(Lock::new_fair())));
}

// conformance: LR-9, R-7
// R-7 says a thread that *exits* holding an RLock leaves it locked; a panic is not that:
// it unwinds the guards, so every level is released.
#[test]
fn a_panic_while_holding_an_rlock_three_deep_releases_every_level() {
    run_on_thread(|| panics_while_holding(Arc::new(RLock::new())));
    run_on_thread(|| panics_while_holding(Arc::new(RLock::new_fair())));
}

// conformance: LR-9
// An RLock's owned guards are released only by the task or thread that took them (moved
// elsewhere they release nothing: documented, and tested in tests/condition.rs), so here
// the task that takes them panics with them, three deep, across an `.await`.
#[test]
fn rlock_owned_guards_in_a_panicking_task_are_released() {
    quiet();
    run_on_thread(|| {
        let rt = mt_runtime();
        let lock = Arc::new(RLock::new());
        let (gate, control) = new_async_gate();
        let l = lock.clone();
        let holder = rt.spawn(async move {
            let _a = l.acquire_owned().await;
            let _b = l.acquire_owned().await;
            let _c = l.acquire().await;
            assert_eq!(l.recursion_count(), 3);
            after_taking_async(Some(gate), true, "owned RLock guards in a task").await;
        });
        control.wait_held();
        let waiters = queue_waiters(&rt, &lock);
        control.go();
        rt.block_on(join_task_panicked(holder));
        waiters.served(&rt);

        // The blocking form's owned guards, on the thread that took them.
        let l = lock.clone().into_blocking();
        let r = catch_unwind(AssertUnwindSafe(|| {
            let _a = l.acquire_owned();
            let _b = l.acquire_owned();
            assert_eq!(l.recursion_count(), 2);
            inject("owned RLock guards on a thread")
        }));
        assert_injected(r.unwrap_err());
        assert_usable(&rt, &lock, 1);
    });
}

// conformance: SB-13, S-1
#[test]
fn a_panic_while_holding_semaphore_permits_gives_them_all_back() {
    run_on_thread(|| panics_while_holding(Arc::new(Semaphore::new(3))));
    run_on_thread(|| panics_while_holding(Arc::new(Semaphore::new_fair(2))));
}

// conformance: SB-13, BS-1
// And no permit comes back twice: afterwards the value is at its bound, and one more
// release is refused.
#[test]
fn a_panic_while_holding_bounded_semaphore_permits_gives_each_back_once() {
    for sem in [BoundedSemaphore::new(2), BoundedSemaphore::new_fair(3)] {
        run_on_thread(move || {
            let sem = Arc::new(sem);
            let initial = sem.value();
            panics_while_holding(sem.clone());
            assert_eq!(sem.value(), initial);
            assert!(matches!(
                sem.release(1),
                Err(threading::SemaphoreReleaseError::AboveInitial { .. })
            ));
            assert_eq!(sem.value(), initial);
        });
    }
}

// conformance: C-1, C-2, LR-9
#[test]
fn a_panic_while_holding_a_conditions_lock_releases_it() {
    run_on_thread(|| {
        let cond = Arc::new(Condition::new());
        panics_while_holding(cond.clone());
        assert_notifies_across_worlds(&mt_runtime(), &cond);
    });
    run_on_thread(|| {
        let cond = Arc::new(Condition::with_lock(Arc::new(Lock::new())));
        panics_while_holding(cond.clone());
        assert_notifies_across_worlds(&mt_runtime(), &cond);
    });
}

/// A waiting thread is notified by a task, and a waiting task by a thread; nothing is
/// left locked or queued.
fn assert_notifies_across_worlds<L>(rt: &Runtime, cond: &Arc<Condition<L>>)
where
    L: threading::ConditionLock,
    Condition<L>: Prim,
{
    let c = cond.clone();
    let waiter = std::thread::spawn(move || {
        let c = c.blocking();
        let (g, notified) = c.wait_timeout(c.acquire(), LATE);
        drop(g);
        notified
    });
    wait_until(|| queued(&**cond) == 1);
    let c = cond.clone();
    rt.block_on(async move {
        let g = c.acquire().await;
        c.notify(&g, 1);
    });
    assert!(join_thread(waiter));

    let c = cond.clone();
    let waiter = rt.spawn(async move {
        let g = c.acquire().await;
        let (g, notified) = c.wait_timeout(g, LATE).await;
        drop(g);
        notified
    });
    wait_until(|| queued(&**cond) == 1);
    {
        let c = cond.blocking();
        let g = c.acquire();
        c.notify_all(&g);
    }
    assert!(rt.block_on(join_task(waiter)));
    assert!(!cond.locked());
    assert_eq!(queued(&**cond), 0);
    assert_eq!(cond.waiters(), 0);
}

// conformance: C-7, C-18
// A notifier that panics after `notify` but before it lets go of the lock: the unwind
// releases the lock, and the notified waiter (of the other world) retakes it and returns.
#[test]
fn a_notifier_that_panics_before_letting_go_still_delivers_its_notification() {
    quiet();
    run_on_thread(|| {
        let rt = mt_runtime();
        let cond = Arc::new(Condition::new());

        // A thread waits; a task notifies and panics.
        let c = cond.clone();
        let waiter = std::thread::spawn(move || {
            let c = c.blocking();
            let (g, notified) = c.wait_timeout(c.acquire(), LATE);
            assert_eq!(c.lock().recursion_count(), 1);
            drop(g);
            notified
        });
        wait_until(|| queued(&*cond) == 1);
        let c = cond.clone();
        rt.block_on(join_task_panicked(rt.spawn(async move {
            let _outer = c.acquire().await;
            let g = c.acquire().await;
            c.notify(&g, 1);
            tokio::task::yield_now().await;
            inject("a notifier task")
        })));
        assert!(join_thread(waiter), "the notification was lost");

        // A task waits; a thread notifies and panics.
        let c = cond.clone();
        let waiter = rt.spawn(async move {
            let g = c.acquire().await;
            let (g, notified) = c.wait_timeout(g, LATE).await;
            drop(g);
            notified
        });
        wait_until(|| queued(&*cond) == 1);
        let c = cond.clone();
        join_panicked(std::thread::spawn(move || {
            let c = c.blocking();
            let g = c.acquire();
            c.notify_all(&g);
            inject("a notifier thread")
        }));
        assert!(rt.block_on(join_task(waiter)), "the notification was lost");
        assert_usable(&rt, &cond, 1);
        assert_notifies_across_worlds(&rt, &cond);
    });
}

// ---------------------------------------------------------------------------------------
// A Condition's `wait_for` predicate.
//
// Documented (src/condition.rs, `wait_for`): "A panic in `predicate` propagates; the guard
// is dropped with it, so the lock is released." The guard given to `wait_for` is one level:
// on an RLock held k deep, the panic releases that level, and the caller's other guards
// (live again once the wait restored the depth) release the rest as they unwind.

// conformance: C-16, C-17, C-18
// A plain thread holds the condition's RLock three deep and waits for a predicate that
// panics on its second call (after a notification, with all three levels restored). A task
// waits behind it. FIFO picks the thread; its panic releases all three levels; the task
// still gets the next notification; the condition serves both worlds.
#[test]
fn a_predicate_panic_in_a_thread_three_deep_strands_nothing() {
    quiet();
    run_on_thread(|| {
        let rt = mt_runtime();
        let cond = Arc::new(Condition::new());
        let ready = Arc::new(AtomicBool::new(false));

        let c = cond.clone();
        let panicker = std::thread::spawn(move || {
            let c = c.blocking();
            let _a = c.acquire();
            let _b = c.acquire();
            let g = c.acquire();
            let mut calls = 0;
            let _g = c.wait_for(g, || {
                calls += 1;
                assert_eq!(c.lock().recursion_count(), 3, "depth not restored");
                if calls == 2 {
                    inject("a wait_for predicate in a thread");
                }
                false
            });
            unreachable!("the predicate never returns true");
        });
        wait_until(|| queued(&*cond) == 1);
        let (c, r) = (cond.clone(), ready.clone());
        let patient = rt.spawn(async move {
            let g = c.acquire().await;
            let g = c.wait_for(g, || r.load(SeqCst)).await;
            assert_eq!(c.lock().recursion_count(), 1);
            drop(g);
        });
        wait_until(|| queued(&*cond) == 2);

        // One notification, from a task: the thread is first in line.
        let c = cond.clone();
        rt.block_on(async move {
            let g = c.acquire().await;
            c.notify(&g, 1);
        });
        join_panicked(panicker);
        assert!(!cond.locked(), "the panic left the RLock held: {cond:?}");
        assert_eq!(cond.free(), 1);
        assert_eq!(queued(&*cond), 1, "the task must still wait");

        {
            let c = cond.blocking();
            let g = c.acquire();
            ready.store(true, SeqCst);
            c.notify(&g, 1);
        }
        rt.block_on(join_task(patient));
        assert_usable(&rt, &cond, 1);
        assert_notifies_across_worlds(&rt, &cond);
    });
}

// conformance: C-16, C-17, C-18
// The mirror: a task holds the RLock three deep and its predicate panics after a
// notification from a plain thread; its JoinHandle reports the panic; a thread waiting
// behind it is still notified.
#[test]
fn a_predicate_panic_in_a_task_three_deep_strands_nothing() {
    quiet();
    run_on_thread(|| {
        let rt = mt_runtime();
        let cond = Arc::new(Condition::new());
        let ready = Arc::new(AtomicBool::new(false));

        let c = cond.clone();
        let panicker = rt.spawn(async move {
            let _a = c.acquire().await;
            let _b = c.acquire().await;
            let g = c.acquire().await;
            let mut calls = 0;
            let lock = c.lock().clone();
            let _g = c
                .wait_for(g, move || {
                    calls += 1;
                    assert_eq!(lock.recursion_count(), 3, "depth not restored");
                    if calls == 2 {
                        inject("a wait_for predicate in a task");
                    }
                    false
                })
                .await;
            unreachable!("the predicate never returns true");
        });
        wait_until(|| queued(&*cond) == 1);
        let (c, r) = (cond.clone(), ready.clone());
        let patient = std::thread::spawn(move || {
            let c = c.blocking();
            let g = c.wait_for(c.acquire(), || r.load(SeqCst));
            drop(g);
        });
        wait_until(|| queued(&*cond) == 2);

        {
            let c = cond.blocking();
            let g = c.acquire();
            c.notify(&g, 1);
        }
        rt.block_on(join_task_panicked(panicker));
        assert!(!cond.locked(), "the panic left the RLock held: {cond:?}");
        assert_eq!(cond.free(), 1);
        assert_eq!(queued(&*cond), 1, "the thread must still wait");

        let c = cond.clone();
        rt.block_on(async move {
            let g = c.acquire().await;
            ready.store(true, SeqCst);
            c.notify_all(&g);
        });
        join_thread(patient);
        assert_usable(&rt, &cond, 1);
        assert_notifies_across_worlds(&rt, &cond);
    });
}

// conformance: C-15, C-17, C-18
// Caught by the caller, who keeps its other guards: exactly the level given to `wait_for`
// (or `wait_for_timeout`) is released, whether the predicate panics on its first call
// (before any wait) or after a wait (here: the last check after the deadline). The other
// guards are live: the caller still owns the lock two deep, can wait with one of them, and
// dropping them frees the lock. Blocking form, on a plain thread.
#[test]
fn a_caught_predicate_panic_releases_only_the_level_it_was_given_blocking() {
    quiet();
    run_on_thread(|| {
        let cond = blocking::Condition::new();
        let a = cond.acquire();
        let b = cond.acquire();

        let r = catch_unwind(AssertUnwindSafe(|| {
            cond.wait_for(cond.acquire(), || inject("a first predicate call"))
        }));
        assert_injected(r.unwrap_err());
        assert_eq!(cond.lock().recursion_count(), 2);
        assert!(cond.lock().is_owned());

        let mut calls = 0;
        let start = Instant::now();
        let r = catch_unwind(AssertUnwindSafe(|| {
            cond.wait_for_timeout(
                cond.acquire(),
                || {
                    calls += 1;
                    if calls == 2 {
                        inject("the predicate's check after the deadline");
                    }
                    false
                },
                SHORT,
            )
        }));
        assert_injected(r.unwrap_err());
        assert!(start.elapsed() >= SHORT, "the wait ended early");
        assert_eq!(cond.lock().recursion_count(), 2);
        assert_eq!(queued(&cond), 0);

        // The other guards are live: a wait with one of them releases and restores both.
        let (b, notified) = cond.wait_timeout(b, Duration::from_millis(10));
        assert!(!notified);
        assert_eq!(cond.lock().recursion_count(), 2);
        drop(b);
        assert_eq!(cond.lock().recursion_count(), 1);
        drop(a);
        assert!(!cond.locked());
        assert_eq!(queued(&cond), 0);
        assert_eq!(queued(cond.lock()), 0);
    });
}

// conformance: C-15, C-17, C-18
// As above, in the async form, in a task (the owner), caught on the future.
#[test]
fn a_caught_predicate_panic_releases_only_the_level_it_was_given_async() {
    quiet();
    common::run_in_task(async {
        let cond = Condition::new();
        let a = cond.acquire().await;
        let b = cond.acquire().await;

        let g = cond.acquire().await;
        let r = AssertUnwindSafe(cond.wait_for(g, || inject("a first predicate call")))
            .catch_unwind()
            .await;
        assert_injected(r.unwrap_err());
        assert_eq!(cond.lock().recursion_count(), 2);
        assert!(cond.lock().is_owned());

        let mut calls = 0;
        let start = Instant::now();
        let g = cond.acquire().await;
        let r = AssertUnwindSafe(cond.wait_for_timeout(
            g,
            || {
                calls += 1;
                if calls == 2 {
                    inject("the predicate's check after the deadline");
                }
                false
            },
            SHORT,
        ))
        .catch_unwind()
        .await;
        assert_injected(r.unwrap_err());
        assert!(start.elapsed() >= SHORT, "the wait ended early");
        assert_eq!(cond.lock().recursion_count(), 2);
        assert_eq!(queued(&cond), 0);

        let (b, notified) = cond.wait_timeout(b, Duration::from_millis(10)).await;
        assert!(!notified);
        assert_eq!(cond.lock().recursion_count(), 2);
        drop(b);
        assert_eq!(cond.lock().recursion_count(), 1);
        drop(a);
        assert!(!cond.locked());
        assert_eq!(queued(&cond), 0);
        assert_eq!(queued(&**cond.lock()), 0);
    });
}

// conformance: C-18, A-11
// Over a plain Lock: a waiter of each world whose predicate panics after a notification
// releases the lock; a waiter of the other world, queued behind it, still gets the next
// notification.
#[test]
fn a_predicate_panic_over_a_plain_lock_releases_it() {
    quiet();
    run_on_thread(|| {
        let rt = mt_runtime();
        let cond = Arc::new(Condition::with_lock(Arc::new(Lock::new())));
        let ready = Arc::new(AtomicBool::new(false));

        // The panicking waiter is a thread; the patient one a task.
        let c = cond.clone();
        let calls = Arc::new(AtomicUsize::new(0));
        let k = calls.clone();
        let panicker = std::thread::spawn(move || {
            let c = c.blocking();
            let _g = c.wait_for(c.acquire(), || {
                if k.fetch_add(1, SeqCst) == 1 {
                    inject("a predicate over a Lock, in a thread");
                }
                false
            });
        });
        wait_until(|| queued(&*cond) == 1);
        let (c, r) = (cond.clone(), ready.clone());
        let patient = rt.spawn(async move {
            let g = c.acquire().await;
            drop(c.wait_for(g, || r.load(SeqCst)).await);
        });
        wait_until(|| queued(&*cond) == 2);
        {
            let c = cond.blocking();
            let g = c.acquire();
            c.notify(&g, 1);
        }
        join_panicked(panicker);
        assert_eq!(calls.load(SeqCst), 2);
        assert!(!cond.locked());
        assert_eq!(queued(&*cond), 1);
        let (c, r) = (cond.clone(), ready.clone());
        rt.block_on(async move {
            let g = c.acquire().await;
            r.store(true, SeqCst);
            c.notify(&g, 1);
        });
        rt.block_on(join_task(patient));

        // The panicking waiter is a task; the patient one a thread.
        ready.store(false, SeqCst);
        calls.store(0, SeqCst);
        let c = cond.clone();
        let k = calls.clone();
        let panicker = rt.spawn(async move {
            let g = c.acquire().await;
            let _g = c
                .wait_for(g, move || {
                    if k.fetch_add(1, SeqCst) == 1 {
                        inject("a predicate over a Lock, in a task");
                    }
                    false
                })
                .await;
        });
        wait_until(|| queued(&*cond) == 1);
        let (c, r) = (cond.clone(), ready.clone());
        let patient = std::thread::spawn(move || {
            let c = c.blocking();
            drop(c.wait_for(c.acquire(), || r.load(SeqCst)));
        });
        wait_until(|| queued(&*cond) == 2);
        let c = cond.clone();
        rt.block_on(async move {
            let g = c.acquire().await;
            c.notify(&g, 1);
        });
        rt.block_on(join_task_panicked(panicker));
        assert_eq!(calls.load(SeqCst), 2);
        assert!(!cond.locked());
        assert_eq!(queued(&*cond), 1);
        {
            let c = cond.blocking();
            let g = c.acquire();
            ready.store(true, SeqCst);
            c.notify(&g, 1);
        }
        join_thread(patient);
        assert_usable(&rt, &cond, 1);
        assert_notifies_across_worlds(&rt, &cond);
    });
}

// ---------------------------------------------------------------------------------------
// A Barrier action.

/// An action that panics the first time it runs and counts every run.
fn panics_first(runs: &Arc<AtomicUsize>) -> impl Fn() + Send + Sync + 'static {
    let runs = runs.clone();
    move || {
        if runs.fetch_add(1, SeqCst) == 0 {
            inject("a barrier action");
        }
    }
}

/// One round of four parties, two plain threads and two tasks, on `barrier` (async form of
/// the one instance). `last_is_task` picks who arrives last, and so runs the action.
/// Returns what each party got: `Ok(index)`, `Err(Broken)`, or `None` for a panic.
fn barrier_round(
    rt: &Runtime,
    barrier: &Arc<Barrier>,
    last_is_task: bool,
) -> Vec<Option<Result<usize, BrokenBarrierError>>> {
    let thread_party = || {
        let b = barrier.clone();
        std::thread::spawn(move || {
            catch_unwind(AssertUnwindSafe(|| b.blocking().wait()))
                .map_err(assert_injected)
                .ok()
        })
    };
    let task_party = || {
        let b = barrier.clone();
        rt.spawn(async move {
            AssertUnwindSafe(b.wait())
                .catch_unwind()
                .await
                .map_err(assert_injected)
                .ok()
        })
    };
    let mut threads = vec![thread_party()];
    let mut tasks = vec![task_party(), task_party()];
    wait_until(|| barrier.n_waiting() == 3);
    if last_is_task {
        tasks.push(task_party());
    } else {
        threads.push(thread_party());
    }
    let mut got: Vec<_> = threads.into_iter().map(join_thread).collect();
    for t in tasks {
        got.push(rt.block_on(join_task(t)));
    }
    got
}

/// The panicking round: exactly one party (the last, which ran the action) panicked, every
/// other got `BrokenBarrierError`; the barrier is broken, empty, and fails new waits at
/// once; `reset()` makes it usable, and the next rounds pass with indices 0..4.
fn barrier_action_panics(rt: &Runtime, barrier: Arc<Barrier>, runs: &Arc<AtomicUsize>) {
    for last_is_task in [false, true] {
        runs.store(0, SeqCst);
        let got = barrier_round(rt, &barrier, last_is_task);
        assert_eq!(runs.load(SeqCst), 1);
        assert_eq!(got.iter().filter(|r| r.is_none()).count(), 1, "{got:?}");
        assert_eq!(
            got.iter()
                .filter(|r| matches!(r, Some(Err(BrokenBarrierError { .. }))))
                .count(),
            3,
            "{got:?}"
        );
        // The acting party is the last to arrive: last pushed in its world.
        let acting = if last_is_task { got.len() - 1 } else { 1 };
        assert!(got[acting].is_none(), "{got:?}");

        assert!(barrier.broken());
        assert_eq!(barrier.n_waiting(), 0);
        let start = Instant::now();
        assert!(barrier.blocking().wait_timeout(LATE).is_err());
        let b = barrier.clone();
        assert!(rt.block_on(async move { b.wait().await }).is_err());
        common::assert_quick(start, LATE);
        assert_eq!(runs.load(SeqCst), 1, "a broken barrier ran its action");

        barrier.reset();
        assert!(!barrier.broken());
        assert_eq!(barrier.n_waiting(), 0);
        for round in 0..2 {
            let got = barrier_round(rt, &barrier, round % 2 == 0);
            let mut indices: Vec<usize> = got
                .into_iter()
                .map(|r| r.expect("no panic").expect("not broken"))
                .collect();
            indices.sort_unstable();
            assert_eq!(indices, vec![0, 1, 2, 3]);
        }
        assert_eq!(runs.load(SeqCst), 3);
        assert!(!barrier.broken());
        assert_eq!(barrier.n_waiting(), 0);
    }
}

// conformance: BA-7, BA-8, BA-11, BA-5
// The action given to the blocking form's builder; parties are threads and tasks; the
// action panics once in a thread and once in a task.
#[test]
fn a_panicking_barrier_action_built_in_the_blocking_form_breaks_and_resets() {
    quiet();
    run_on_thread(|| {
        let runs = Arc::new(AtomicUsize::new(0));
        let barrier = blocking::Barrier::builder(4)
            .action(panics_first(&runs))
            .build()
            .unwrap();
        barrier_action_panics(&mt_runtime(), Arc::new(barrier).into_async(), &runs);
    });
}

// conformance: BA-7, BA-8, BA-11, BA-5
// The same with the async form's builder, and a default timeout that never fires.
#[test]
fn a_panicking_barrier_action_built_in_the_async_form_breaks_and_resets() {
    quiet();
    run_on_thread(|| {
        let runs = Arc::new(AtomicUsize::new(0));
        let barrier = Barrier::builder(4)
            .action(panics_first(&runs))
            .timeout(Duration::from_secs(600))
            .build()
            .unwrap();
        barrier_action_panics(&mt_runtime(), Arc::new(barrier), &runs);
    });
}

// conformance: BA-8, BA-14, BA-11
// One party: the panic comes out of the caller's own `wait`, in both forms; the barrier is
// broken until `reset()`, then passes again.
#[test]
fn a_single_party_barriers_panicking_action_reaches_the_caller() {
    quiet();
    run_on_thread(|| {
        let runs = Arc::new(AtomicUsize::new(0));
        let b = blocking::Barrier::builder(1)
            .action(panics_first(&runs))
            .build()
            .unwrap();
        assert_injected(catch_unwind(AssertUnwindSafe(|| b.wait())).unwrap_err());
        assert!(b.broken());
        assert!(b.wait().is_err());
        b.reset();
        assert_eq!(b.wait(), Ok(0));
        assert_eq!(runs.load(SeqCst), 2);

        let runs = Arc::new(AtomicUsize::new(0));
        let b = Barrier::builder(1)
            .action(panics_first(&runs))
            .build()
            .unwrap();
        mt_runtime().block_on(async {
            let r = AssertUnwindSafe(b.wait()).catch_unwind().await;
            assert_injected(r.unwrap_err());
            assert!(b.broken());
            assert!(b.wait().await.is_err());
            b.reset();
            assert_eq!(b.wait().await, Ok(0));
            assert_eq!(b.blocking().wait(), Ok(0));
        });
        assert_eq!(runs.load(SeqCst), 3);
    });
}

// ---------------------------------------------------------------------------------------
// A Thread target holding several guards.

/// One of each guard-giving primitive, all free.
struct Set {
    lock: Arc<Lock>,
    rlock: Arc<RLock>,
    sem: Arc<Semaphore>,
    bounded: Arc<BoundedSemaphore>,
    cond: Arc<Condition>,
}

impl Set {
    fn new() -> Self {
        Self {
            lock: Arc::new(Lock::new()),
            rlock: Arc::new(RLock::new()),
            sem: Arc::new(Semaphore::new(2)),
            bounded: Arc::new(BoundedSemaphore::new(1)),
            cond: Arc::new(Condition::new()),
        }
    }

    /// Take every guard in the blocking form, pass the gate, panic.
    fn panic_holding_blocking(&self, gate: Gate) {
        let _l = self.lock.blocking().acquire();
        let _r1 = self.rlock.blocking().acquire();
        let _r2 = self.rlock.blocking().acquire();
        let _s1 = self.sem.blocking().acquire();
        let _s2 = self.sem.blocking().try_acquire().unwrap();
        let _b = self.bounded.blocking().acquire();
        let _c = self.cond.blocking().acquire();
        gate.pass();
        inject("a Thread target holding guards")
    }

    /// Take every guard in the async form, pass the gate across an `.await`, panic.
    async fn panic_holding_async(&self, gate: AsyncGate) {
        let _l = self.lock.acquire().await;
        let _r1 = self.rlock.acquire().await;
        let _r2 = self.rlock.acquire_owned().await;
        let _s1 = self.sem.acquire().await;
        let _s2 = self.sem.acquire_owned().await;
        let _b = self.bounded.acquire().await;
        let _c = self.cond.acquire().await;
        gate.pass().await;
        inject("an async Thread target holding guards")
    }

    /// While the target holds everything: a waiter of each world on each primitive.
    fn queue_waiters(&self, rt: &Runtime) -> Vec<Waiters> {
        assert!(self.lock.locked() && self.rlock.locked() && self.cond.locked());
        assert_eq!((self.sem.value(), self.bounded.value()), (0, 0));
        vec![
            queue_waiters(rt, &self.lock),
            queue_waiters(rt, &self.rlock),
            queue_waiters(rt, &self.sem),
            queue_waiters(rt, &self.bounded),
            queue_waiters(rt, &self.cond),
        ]
    }

    fn assert_usable(&self, rt: &Runtime) {
        assert_usable(rt, &self.lock, 1);
        assert_usable(rt, &self.rlock, 1);
        assert_usable(rt, &self.sem, 2);
        assert_usable(rt, &self.bounded, 1);
        assert_usable(rt, &self.cond, 1);
        assert_notifies_across_worlds(rt, &self.cond);
    }
}

/// The join reports the target's injected panic.
#[track_caller]
fn assert_join_panicked<T: fmt::Debug>(r: Result<Option<T>, JoinError>) {
    match r {
        Err(JoinError::Panicked(p)) => {
            assert!(p.message().is_some_and(|m| m.starts_with(INJECTED)), "{p}")
        }
        other => panic!("expected the target's panic, got {other:?}"),
    }
}

// conformance: T-24, LR-9, SB-13
// A Thread target that panics while holding a Lock, an RLock two deep, two Semaphore
// permits, a BoundedSemaphore permit and a Condition's lock, with a thread and a task
// waiting on each: the joiner gets the panic, every waiter is served, everything is free.
// The three kinds of Thread: an OS thread (blocking form), an async target (a task, its
// guards held across an `.await`), a `spawn_blocking` closure.
#[test]
fn a_thread_target_panicking_with_several_guards_releases_them_all() {
    quiet();
    run_on_thread(|| {
        let rt = mt_runtime();
        let set = Arc::new(Set::new());

        // An OS thread.
        let (gate, control) = new_gate();
        let s = set.clone();
        let t = blocking::Thread::new(move || s.panic_holding_blocking(gate));
        t.start().unwrap();
        control.wait_held();
        let waiters = set.queue_waiters(&rt);
        control.go();
        assert_join_panicked(t.join());
        waiters.into_iter().for_each(|w| w.served(&rt));
        set.assert_usable(&rt);

        // A task: an async target.
        let (gate, control) = new_async_gate();
        let s = set.clone();
        let t = rt.block_on(async move {
            let t = Thread::new(move || async move { s.panic_holding_async(gate).await });
            t.start().unwrap();
            t
        });
        control.wait_held();
        let waiters = set.queue_waiters(&rt);
        control.go();
        assert_join_panicked(rt.block_on(t.join()));
        waiters.into_iter().for_each(|w| w.served(&rt));
        set.assert_usable(&rt);

        // A `spawn_blocking` closure, joined from a plain thread.
        let (gate, control) = new_gate();
        let s = set.clone();
        let t = rt.block_on(async move {
            let t = Thread::new_blocking(move || s.panic_holding_blocking(gate));
            t.start().unwrap();
            t
        });
        control.wait_held();
        let waiters = set.queue_waiters(&rt);
        control.go();
        assert_join_panicked(t.blocking().join());
        waiters.into_iter().for_each(|w| w.served(&rt));
        set.assert_usable(&rt);
    });
}
