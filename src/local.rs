//! `Local`: Python's `threading.local()`, one value per thread or task, one state for both
//! forms.

use std::fmt;
use std::sync::Arc;

use crate::forms::{cast_arc, cast_ref, Form};
use crate::wait::slots::{Ctx, Slots};

/// The state both forms share: the per-context table and the init function.
pub(crate) struct LocalState<T, F> {
    slots: Slots<T>,
    init: F,
}

/// One value per thread or task, made lazily and dropped when that thread or task ends:
/// Python's `threading.local()`. This is the async form; its context is the crate's
/// `Thread` task it runs in, else the calling OS thread.
///
/// Each context that uses a `Local` gets a value of its own, made by the init function on
/// its first access and dropped when the context ends; dropping the `Local` drops the
/// values of every context at once. [`with`](Local::with) lends the value to a closure:
/// change it through interior mutability (`Cell`, `RefCell`), as with std's
/// `thread_local!`. [`set`](Local::set) replaces it, [`take`](Local::take) removes it.
/// Unlike `thread_local!`, a `Local` is a value: make as many as you like, in a `static`,
/// an `Arc` or a struct field. No method waits for another thread or task, in either form:
/// the async form's methods are plain methods too. (A context's first use of any `Local`
/// takes a short process-wide mutex once, to get the context's index; later accesses take
/// no lock.)
///
/// # Contexts
///
/// - **Async form** (`threading::Local`): a `Thread` of this crate, run as a tokio task or a
///   `spawn_blocking` closure, is one context for its whole life, whichever worker polls
///   it. Anywhere else the context is the calling OS thread.
/// - **Blocking form** ([`threading::blocking::Local`](crate::blocking::Local)): the
///   calling OS thread, always, even inside a task. A thread of tokio's blocking pool
///   outlives the closures it runs, and so do its values.
///
/// A tokio task that this crate did not start has no context of its own: like asyncio
/// tasks, which share CPython's `threading.local` with their thread, it sees the value of
/// the worker thread that polls it, shared with every other task polled there. **On a
/// multi-thread runtime such a task can move to another worker at any `.await`, and then
/// sees that worker's value**: read what you need and drop the borrow before an `.await`,
/// or start the task as a `Thread` to give it a value of its own.
///
/// # Python → Rust
///
/// | Python | Rust |
/// |---|---|
/// | `data = threading.local()` | `static DATA: Local<State> = Local::new(State::new);` |
/// | a subclass's `__init__` (per-thread defaults) | the init function, run once per context |
/// | `data.x`, `data.x = 1` | `DATA.with(\|s\| s.x.get())`, `DATA.with(\|s\| s.x.set(1))` |
/// | replacing every attribute | [`set`](Local::set) |
/// | `del data.x` (back to the defaults) | [`take`](Local::take) |
/// | `hasattr(data, "x")` | [`has_value`](Local::has_value) |
///
/// # Thread exit
///
/// A thread's values are dropped by a destructor of its thread-local storage, under std's
/// `thread_local!` rules (a main thread that returns from `main` ends the process first).
/// A value's `Drop` may use other `Local`s, or this one: values that it makes are dropped
/// in turn. Used later in the teardown, from another `thread_local!`'s destructor, a
/// `Local` has no context to keep a value in: `with` gets a value for that call only,
/// `set` drops its value at once, and `take` returns `None`.
///
/// # Values own what they use: `T: Send + 'static`
///
/// A value lives as long as its context, not as long as the `Local`: a thread's value is
/// dropped when the thread ends, which may be after the `Local` is gone, and after the
/// [`std::thread::scope`] that ran the thread has returned (std runs a thread's TLS
/// destructors after its scope saw it finish). A thread that is ending may still be dropping
/// its value when the `Local`'s drop returns. So a value may not borrow from a stack frame
/// (`T: 'static`, as with std's `thread_local!`), and it may be dropped on another thread
/// than the one that made it (`T: Send`): by the thread that drops the `Local`, or by
/// whichever worker ends a task. The init function may borrow: it only runs while the
/// `Local` is borrowed. Share what values need through an `Arc`.
///
/// ```
/// use std::sync::Arc;
///
/// let frame = String::from("frame");
/// let shared = Arc::new(String::from("shared"));
/// let len = threading::Local::new(|| frame.len()); // the init function borrows `frame`
/// let name = threading::Local::new(|| shared.clone()); // each value owns an `Arc`
/// std::thread::scope(|s| {
///     s.spawn(|| assert_eq!(len.with(|n| *n) + name.with(|n| n.len()), 11));
/// });
/// ```
///
/// # Examples
///
/// ```
/// use std::cell::Cell;
/// use threading::Local;
///
/// static COUNT: Local<Cell<u32>> = Local::new(|| Cell::new(0));
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// COUNT.with(|c| c.set(c.get() + 1));
/// // Another OS thread has a value of its own, made by the init function.
/// std::thread::spawn(|| assert_eq!(COUNT.with(Cell::get), 0)).join().unwrap();
/// assert_eq!(COUNT.with(Cell::get), 1);
/// // The blocking form is the same instance; outside a crate `Thread` both see the
/// // calling thread's value.
/// assert_eq!(COUNT.blocking().with(Cell::get), 1);
/// # }
/// ```
#[repr(transparent)]
pub struct Local<T, F = fn() -> T> {
    state: LocalState<T, F>,
}

/// The blocking form of [`Local`](crate::Local): the same state, whose context is always
/// the calling OS thread (Python's `threading.local()`).
///
/// See [`Local`](crate::Local) for the behaviour both forms share.
///
/// # Examples
///
/// ```
/// use std::cell::RefCell;
/// use threading::blocking::Local;
///
/// static LOG: Local<RefCell<Vec<String>>> = Local::new(|| RefCell::new(Vec::new()));
///
/// LOG.with(|l| l.borrow_mut().push("main".into()));
/// std::thread::spawn(|| {
///     LOG.with(|l| l.borrow_mut().push("worker".into()));
///     assert_eq!(LOG.with(|l| l.borrow().clone()), ["worker"]);
/// })
/// .join()
/// .unwrap();
/// assert_eq!(LOG.with(|l| l.borrow().clone()), ["main"]);
/// ```
#[repr(transparent)]
pub struct BlockingLocal<T, F = fn() -> T> {
    state: LocalState<T, F>,
}

// SAFETY: `Local` is `#[repr(transparent)]` over `LocalState<T, F>` alone, with no `Drop`.
unsafe impl<T, F> Form for Local<T, F> {
    type State = LocalState<T, F>;
}
// SAFETY: as above, for `BlockingLocal`.
unsafe impl<T, F> Form for BlockingLocal<T, F> {
    type State = LocalState<T, F>;
}

macro_rules! local_common {
    ($ty:ident, $path:literal, $cx:expr, $context:literal) => {
        impl<T: Send + 'static, F: Fn() -> T> $ty<T, F> {
            /// A new `Local` whose values `init` makes, one per context, on first access.
            /// `const`, so a `static` works.
            ///
            /// # Examples
            ///
            /// ```
            /// use std::cell::Cell;
            #[doc = concat!("static N: ", $path, "<Cell<u8>> = ", $path, "::new(|| Cell::new(7));")]
            /// assert_eq!(N.with(Cell::get), 7);
            /// ```
            ///
            /// A value that borrows from a stack frame does not compile: a scoped thread's
            /// value is dropped when the thread ends, which may be after the frame is gone
            /// (see [`Local`](crate::Local#values-own-what-they-use-t-send--static)).
            ///
            /// ```compile_fail,E0597
            /// // regression: issue 13 defect 9
            /// let name = String::from("frame");
            #[doc = concat!("let l = ", $path, "::new(|| name.as_str()); // `&str` borrows `name`")]
            /// std::thread::scope(|s| {
            ///     s.spawn(|| l.with(|n| n.len()));
            /// });
            /// ```
            ///
            /// Nor does a value that may not be dropped on another thread:
            ///
            /// ```compile_fail,E0277
            #[doc = concat!("let l = ", $path, "::new(|| std::rc::Rc::new(0)); // `Rc` is not `Send`")]
            /// ```
            pub const fn new(init: F) -> Self {
                Self {
                    state: LocalState {
                        slots: Slots::new(),
                        init,
                    },
                }
            }

            /// Call `f` with this context's value, made by the init function first if the
            /// context has none; returns what `f` returns.
            ///
            /// The value is lent, not given: it belongs to the context and is dropped when
            /// the context ends. Change it through interior mutability. Calls may nest,
            /// also on this same `Local`.
            ///
            /// # Context
            #[doc = $context]
            ///
            /// # Panics
            /// If the init function panics: the context is left without a value and the
            /// next access runs the init function again. If the init function itself uses
            /// this `Local` (but for [`has_value`](Self::has_value)) in the same context:
            /// the value is not made yet.
            ///
            /// # Examples
            ///
            /// ```
            /// use std::cell::RefCell;
            #[doc = concat!("let names = ", $path, "::new(|| RefCell::new(vec![\"main\"]));")]
            /// names.with(|n| n.borrow_mut().push("again"));
            /// assert_eq!(names.with(|n| n.borrow().len()), 2);
            /// ```
            #[inline]
            pub fn with<R>(&self, f: impl FnOnce(&T) -> R) -> R {
                let s = &self.state;
                s.slots.with($cx, &s.init, f)
            }

            /// Replace this context's value with `value`, dropping the old one (after the
            /// replacement, so its `Drop` sees the new value). The init function does not
            /// run. Python's assignment of every attribute at once.
            ///
            /// # Context
            #[doc = $context]
            ///
            /// # Panics
            /// Inside [`with`](Self::with) on this same `Local` in the same context (the
            /// value is borrowed: change it through interior mutability instead), or from
            /// this `Local`'s init function in the same context.
            ///
            /// # Examples
            ///
            /// ```
            #[doc = concat!("let l = ", $path, "::new(|| 1);")]
            /// l.set(5);
            /// assert_eq!(l.with(|v| *v), 5);
            /// ```
            pub fn set(&self, value: T) {
                drop(self.state.slots.replace($cx, value));
            }

            /// Remove this context's value and return it, or `None` if it has none:
            /// Python's `del local.x`. The next [`with`](Self::with) runs the init
            /// function again. Never runs the init function itself.
            ///
            /// # Context
            #[doc = $context]
            ///
            /// # Panics
            /// As [`set`](Self::set).
            ///
            /// # Examples
            ///
            /// ```
            /// use std::cell::Cell;
            #[doc = concat!("let l = ", $path, "::new(|| Cell::new(0));")]
            /// assert!(l.take().is_none());
            /// l.with(|c| c.set(3));
            /// assert_eq!(l.take().map(Cell::into_inner), Some(3));
            /// assert_eq!(l.with(Cell::get), 0); // made again
            /// ```
            pub fn take(&self) -> Option<T> {
                self.state.slots.take($cx)
            }

            /// Whether this context has a value: one made by the init function or given
            /// by [`set`](Self::set), and not [`take`](Self::take)n since. Python's
            /// `hasattr`. Never runs the init function.
            ///
            /// # Context
            #[doc = $context]
            ///
            /// # Examples
            ///
            /// ```
            #[doc = concat!("let l = ", $path, "::new(String::new);")]
            /// assert!(!l.has_value());
            /// l.with(|_| ());
            /// assert!(l.has_value());
            /// ```
            pub fn has_value(&self) -> bool {
                self.state.slots.has_value($cx)
            }
        }

        impl<T: Send + Default + 'static> Default for $ty<T> {
            /// A `Local` whose init function is `T::default`.
            ///
            /// # Examples
            ///
            /// ```
            #[doc = concat!("let l: ", $path, "<Vec<u8>> = Default::default();")]
            /// assert!(l.with(Vec::is_empty));
            /// ```
            fn default() -> Self {
                Self::new(T::default)
            }
        }

        impl<T, F> fmt::Debug for $ty<T, F> {
            /// `<threading.local>`: nothing of any context's value.
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("<threading.local>")
            }
        }
    };
}

local_common!(
    Local,
    "threading::Local",
    Ctx::Task,
    "The current task context (a `Thread` of this crate), else the calling OS thread (see \
     [`Local`](crate::Local#contexts))."
);
local_common!(
    BlockingLocal,
    "threading::blocking::Local",
    Ctx::Thread,
    "The calling OS thread, always."
);

impl<T, F> Local<T, F> {
    /// This instance's blocking form: the same `Local`, whose context is always the calling
    /// OS thread. Free: no copy, no allocation.
    ///
    /// # Examples
    ///
    /// ```
    /// let l = threading::Local::new(|| 0);
    /// let b = l.blocking();
    /// assert!(std::ptr::eq(b.as_async(), &l));
    /// ```
    #[inline]
    pub fn blocking(&self) -> &BlockingLocal<T, F> {
        cast_ref(self)
    }

    /// Turn an `Arc` of this `Local` into an `Arc` of its blocking form (the same
    /// allocation).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::Arc;
    /// let l = Arc::new(threading::Local::new(|| 0));
    /// let b = l.clone().into_blocking();
    /// assert!(std::ptr::eq(b.as_async(), &*l));
    /// ```
    #[inline]
    pub fn into_blocking(self: Arc<Self>) -> Arc<BlockingLocal<T, F>> {
        cast_arc(self)
    }
}

impl<T, F> BlockingLocal<T, F> {
    /// This instance's async form: the same `Local`, whose context is the current task
    /// context, else the calling OS thread. Free: no copy, no allocation.
    ///
    /// # Examples
    ///
    /// ```
    /// let l = threading::blocking::Local::new(|| 0);
    /// let a = l.as_async();
    /// assert!(std::ptr::eq(a.blocking(), &l));
    /// ```
    #[inline]
    pub fn as_async(&self) -> &Local<T, F> {
        cast_ref(self)
    }

    /// Turn an `Arc` of this blocking `Local` into an `Arc` of its async form (the same
    /// allocation).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::Arc;
    /// let l = Arc::new(threading::blocking::Local::new(|| 0));
    /// let a = l.clone().into_async();
    /// assert!(std::ptr::eq(a.blocking(), &*l));
    /// ```
    #[inline]
    pub fn into_async(self: Arc<Self>) -> Arc<Local<T, F>> {
        cast_arc(self)
    }
}

/// Task contexts, through the crate-private interface that `Thread` uses.
#[cfg(all(test, not(loom)))]
mod tests {
    use std::cell::Cell;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Arc;

    use crate::wait::slots::{current_id, scope, scope_sync, Ctx, TaskContext};
    use crate::Local;

    /// Counts its drops.
    struct Counted(Arc<AtomicUsize>);
    impl Drop for Counted {
        fn drop(&mut self) {
            self.0.fetch_add(1, Ordering::SeqCst);
        }
    }

    fn runtime() -> tokio::runtime::Runtime {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap()
    }

    #[test]
    fn task_context_has_own_value_across_awaits_and_drops_it_at_end() {
        static L: Local<Cell<u32>> = Local::new(|| Cell::new(0));
        let rt = runtime();
        rt.block_on(async {
            let tasks: Vec<_> = (1..=8)
                .map(|i| {
                    tokio::spawn(scope(TaskContext::new(), async move {
                        L.with(|c| c.set(i));
                        for _ in 0..20 {
                            tokio::task::yield_now().await; // may move between workers
                            assert_eq!(L.with(Cell::get), i);
                            // The blocking form is the worker thread's, never the task's.
                            assert_ne!(L.blocking().with(Cell::get), i);
                        }
                        i
                    }))
                })
                .collect();
            for (i, t) in (1..=8).zip(tasks) {
                assert_eq!(t.await.unwrap(), i);
            }
        });
    }

    #[test]
    fn task_context_values_dropped_on_completion_and_on_drop() {
        let drops = Arc::new(AtomicUsize::new(0));
        let d = drops.clone();
        let l = Arc::new(Local::new(move || Counted(d.clone())));
        let rt = runtime();
        // Completion: dropped before the output is handed on.
        let (l2, drops2) = (l.clone(), drops.clone());
        rt.block_on(scope(TaskContext::new(), async move {
            l2.with(|_| ());
            assert_eq!(drops2.load(Ordering::SeqCst), 0);
        }));
        assert_eq!(drops.load(Ordering::SeqCst), 1);
        // A future dropped unfinished.
        let l3 = l.clone();
        let mut fut = Box::pin(scope(TaskContext::new(), async move {
            l3.with(|_| ());
            std::future::pending::<()>().await;
        }));
        let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
        assert!(std::future::Future::poll(fut.as_mut(), &mut cx).is_pending());
        assert_eq!(drops.load(Ordering::SeqCst), 1);
        drop(fut);
        assert_eq!(drops.load(Ordering::SeqCst), 2);
        // A spawn_blocking body.
        let l4 = l.clone();
        rt.block_on(rt.spawn_blocking(move || {
            scope_sync(TaskContext::new(), || {
                l4.with(|_| ());
                assert!(l4.has_value());
                // The blocking form is the pool thread's.
                assert!(!l4.blocking().has_value());
            });
            assert!(!l4.has_value());
        }))
        .unwrap();
        assert_eq!(drops.load(Ordering::SeqCst), 3);
    }

    #[test]
    fn task_context_index_is_freed_and_reused() {
        static L: Local<u8> = Local::new(|| 0);
        let mut ids = Vec::new();
        for _ in 0..50 {
            let ctx = TaskContext::new();
            assert_eq!(ctx.id(), None, "no index before first use");
            scope_sync(ctx, || {
                L.with(|_| ());
                ids.push(current_id(Ctx::Task).unwrap());
            });
        }
        // Each index went back to the pool: far fewer distinct indices than contexts
        // (other tests run beside this one and take some).
        ids.sort_unstable();
        ids.dedup();
        assert!(ids.len() < 25, "indices not reused: {ids:?}");
    }

    #[test]
    fn drop_of_task_value_may_use_locals_of_the_ending_context() {
        static OTHER: Local<Cell<u32>> = Local::new(|| Cell::new(0));
        struct UsesOther;
        impl Drop for UsesOther {
            fn drop(&mut self) {
                // In the ending task context: OTHER is made again if it was dropped first.
                OTHER.with(|c| c.set(c.get() + 1));
                SELF.with(|_| ()); // this same Local, made again and dropped again: no loop
            }
        }
        static SELF: Local<Option<UsesOther>> = Local::new(|| None);
        scope_sync(TaskContext::new(), || {
            SELF.set(Some(UsesOther));
            OTHER.with(|c| c.set(10));
        });
        assert!(!SELF.has_value() && !OTHER.has_value());
    }

    #[test]
    fn scope_restores_the_outer_context_even_on_panic() {
        static L: Local<Cell<u32>> = Local::new(|| Cell::new(0));
        L.with(|c| c.set(5));
        let r = std::panic::catch_unwind(|| {
            scope_sync(TaskContext::new(), || {
                assert_eq!(L.with(Cell::get), 0);
                panic!("boom");
            })
        });
        assert!(r.is_err());
        assert_eq!(L.with(Cell::get), 5);
    }

    #[test]
    fn dropping_the_local_as_task_contexts_end_drops_each_value_once() {
        // conformance: TL-9 — the race between task contexts' ends and the Local's drop.
        let rt = runtime();
        for _ in 0..100 {
            let drops = Arc::new(AtomicUsize::new(0));
            let d = drops.clone();
            let l = Arc::new(Local::new(move || Counted(d.clone())));
            let go = Arc::new(std::sync::Barrier::new(5));
            let tasks: Vec<_> = (0..4)
                .map(|_| {
                    let (l, go) = (l.clone(), go.clone());
                    rt.spawn_blocking(move || {
                        scope_sync(TaskContext::new(), || {
                            l.with(|_| ());
                            drop(l);
                            go.wait();
                        }) // the context ends here, racing the drop
                    })
                })
                .collect();
            go.wait();
            drop(l);
            for t in tasks {
                rt.block_on(t).unwrap();
            }
            assert_eq!(drops.load(Ordering::SeqCst), 4);
        }
    }

    #[test]
    fn thread_churn_reuses_indices() {
        // conformance: TL-7
        static L: Local<u8> = Local::new(|| 0);
        let max = Arc::new(AtomicUsize::new(0));
        for _ in 0..100 {
            let handles: Vec<_> = (0..10)
                .map(|_| {
                    let max = max.clone();
                    std::thread::spawn(move || {
                        L.blocking().with(|_| ());
                        let id = current_id(Ctx::Thread).unwrap();
                        max.fetch_max(id, Ordering::SeqCst);
                    })
                })
                .collect();
            for h in handles {
                h.join().unwrap();
            }
        }
        // 1,000 threads, at most 10 of them (plus other tests' threads) alive at once.
        assert!(max.load(Ordering::SeqCst) < 200, "indices not reused");
    }
}
