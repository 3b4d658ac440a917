//! `Local`: Python's `threading.local()`, both forms (`test_threading_local` and the
//! `_threading_local` doctest, CONFORMANCE section 12).
//!
//! The async form's own context (a crate `Thread` task) is tested inside the crate
//! (`src/local.rs`) until `Thread` exists; here it runs on plain threads and in tokio tasks
//! that the crate did not start, where its context is the OS thread, as the blocking
//! form's always is. So each test body runs on both forms.
//!
//! Not here: TL-11 (the main thread's locals read by finalisers at process exit) and TL-12
//! (shutdown waits for non-daemon threads' locals to be destroyed) need `main_thread()`
//! and the crate's `Thread` shutdown; they belong to the `Thread` tests.

mod common;

use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{mpsc, Arc, Barrier, Mutex, Weak};

use common::{ct_runtime, join_thread, mt_runtime, run_on_thread, LATE};

/// Counts its drops in a shared counter.
struct Counted(Arc<AtomicUsize>);

impl Drop for Counted {
    fn drop(&mut self) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
}

fn counter() -> Arc<AtomicUsize> {
    Arc::new(AtomicUsize::new(0))
}

/// One body, both forms: `L` is the form under test.
macro_rules! both_forms {
    ($($body:tt)*) => {
        mod blocking_form {
            #[allow(unused_imports)]
            use super::*;
            type L<T, F = fn() -> T> = threading::blocking::Local<T, F>;
            $($body)*
        }
        mod async_form {
            #[allow(unused_imports)]
            use super::*;
            type L<T, F = fn() -> T> = threading::Local<T, F>;
            $($body)*
        }
    };
}

both_forms! {
    #[test]
    fn value_is_not_visible_from_another_thread_while_the_first_lives() {
        // conformance: TL-1
        let l = Arc::new(L::new(|| 0u32));
        let set = Arc::new(Barrier::new(2));
        let checked = Arc::new(Barrier::new(2));
        let owner = {
            let (l, set, checked) = (l.clone(), set.clone(), checked.clone());
            std::thread::spawn(move || {
                l.set(7);
                set.wait();
                checked.wait(); // alive while the other thread looks
                assert_eq!(l.with(|v| *v), 7);
                // Python's `del local.x`: gone, and the init function runs again.
                assert_eq!(l.take(), Some(7));
                assert!(!l.has_value());
                assert_eq!(l.with(|v| *v), 0);
            })
        };
        let other = {
            let l = l.clone();
            std::thread::spawn(move || {
                set.wait();
                assert!(!l.has_value(), "another thread's value is visible");
                assert_eq!(l.take(), None);
                assert_eq!(l.with(|v| *v), 0);
                checked.wait();
            })
        };
        join_thread(other);
        join_thread(owner);
    }

    #[test]
    fn ten_threads_each_read_back_their_own_value() {
        // conformance: TL-2
        let l = Arc::new(L::new(|| {
            // A thread switch lands in the middle of the init function.
            std::thread::yield_now();
            Cell::new(usize::MAX)
        }));
        let start = Arc::new(Barrier::new(10));
        let threads: Vec<_> = (0..10)
            .map(|i| {
                let (l, start) = (l.clone(), start.clone());
                std::thread::spawn(move || {
                    start.wait();
                    l.with(|c| c.set(i));
                    for _ in 0..100 {
                        std::thread::yield_now();
                        assert_eq!(l.with(Cell::get), i);
                    }
                })
            })
            .collect();
        threads.into_iter().for_each(join_thread);
    }

    #[test]
    fn init_runs_once_in_each_thread_that_uses_it() {
        // conformance: TL-3
        // conformance: TL-10 — the init function's captures (here the counter) are the
        // analogue of `__slots__`: one copy, shared by every thread, not thread-local.
        let inits = counter();
        let i2 = inits.clone();
        let l = Arc::new(L::new(move || {
            i2.fetch_add(1, Ordering::SeqCst);
            Cell::new(1u32)
        }));
        let threads: Vec<_> = (0..10)
            .map(|i| {
                let l = l.clone();
                std::thread::spawn(move || {
                    if i % 2 == 0 {
                        for _ in 0..5 {
                            l.with(|c| c.set(c.get() + 1));
                        }
                        assert_eq!(l.with(Cell::get), 6);
                    } else {
                        assert!(!l.has_value()); // lazy: unused, never made
                    }
                })
            })
            .collect();
        threads.into_iter().for_each(join_thread);
        assert_eq!(inits.load(Ordering::SeqCst), 5);
    }

    #[test]
    fn init_function_takes_its_arguments_by_capture() {
        // conformance: TL-4 — a plain `local(...)` with arguments is a TypeError in
        // Python; here the init function takes none (enforced by `F: Fn() -> T`), and what
        // a subclass's `__init__` would receive is captured by the closure instead.
        let base = 40;
        let l = L::new(move || base + 2);
        assert_eq!(l.with(|v| *v), 42);
        run_on_thread(move || assert_eq!(l.with(|v| *v), 42));
    }

    #[test]
    fn init_gives_defaults_and_methods_work_on_each_threads_data() {
        // conformance: TL-5 — a subclass's class attributes are defaults every thread
        // sees; here the init function makes them, and methods act on this thread's value.
        struct MyLocal {
            number: Cell<u32>,
            color: RefCell<String>,
        }
        impl MyLocal {
            fn squared(&self) -> u32 {
                self.number.get() * self.number.get()
            }
        }
        let l = Arc::new(L::new(|| MyLocal {
            number: Cell::new(2),
            color: RefCell::new("red".into()),
        }));
        l.with(|m| {
            m.number.set(11);
            *m.color.borrow_mut() = "blue".into();
        });
        assert_eq!(l.with(MyLocal::squared), 121);
        let l2 = l.clone();
        run_on_thread(move || {
            assert_eq!(l2.with(MyLocal::squared), 4);
            assert_eq!(l2.with(|m| m.color.borrow().clone()), "red");
        });
        assert_eq!(l.with(|m| m.color.borrow().clone()), "blue");
    }

    #[test]
    fn each_thread_sees_only_its_own_attributes() {
        // conformance: TL-6 — the per-thread `__dict__` holds only this thread's
        // attributes. (Replacing it is an AttributeError in Python; `set` replacing the
        // whole value is the Rust API, tested elsewhere.)
        let l = Arc::new(L::new(|| RefCell::new(HashMap::<String, i32>::new())));
        l.with(|d| d.borrow_mut().insert("x".into(), 5));
        let l2 = l.clone();
        run_on_thread(move || {
            assert!(l2.with(|d| d.borrow().is_empty()));
            l2.with(|d| d.borrow_mut().insert("y".into(), 6));
        });
        let mine = l.with(|d| d.borrow().clone());
        assert_eq!(mine, HashMap::from([("x".to_string(), 5)]));
    }

    #[test]
    fn values_are_dropped_when_their_threads_end() {
        // conformance: TL-7 — all of them, for 20, 50 and 100 threads.
        for n in [20, 50, 100] {
            let drops = counter();
            let d = drops.clone();
            let l = Arc::new(L::new(move || Counted(d.clone())));
            let threads: Vec<_> = (0..n)
                .map(|_| {
                    let l = l.clone();
                    std::thread::spawn(move || l.with(|_| ()))
                })
                .collect();
            threads.into_iter().for_each(join_thread);
            // `join` returns after the thread's TLS destructors have run.
            assert_eq!(drops.load(Ordering::SeqCst), n, "{n} threads");
            drop(l);
            assert_eq!(drops.load(Ordering::SeqCst), n, "dropped twice");
        }
    }

    #[test]
    fn thousand_threads_churn_and_every_value_is_dropped() {
        // conformance: TL-7 — 1,000 short threads, ten at a time; indices are reused
        // (bounded: see `thread_churn_reuses_indices` in src/local.rs).
        let drops = counter();
        let d = drops.clone();
        let l = Arc::new(L::new(move || Counted(d.clone())));
        for _ in 0..100 {
            let threads: Vec<_> = (0..10)
                .map(|_| {
                    let l = l.clone();
                    std::thread::spawn(move || l.with(|_| ()))
                })
                .collect();
            threads.into_iter().for_each(join_thread);
        }
        assert_eq!(drops.load(Ordering::SeqCst), 1000);
    }

    #[test]
    fn a_new_local_never_sees_values_of_a_dropped_one() {
        // conformance: TL-8 — 200 times, usually in the same heap block (freed and
        // allocated again on this thread), seen from a thread that stays alive throughout
        // and so keeps its context index, where a stale entry would show.
        let keep = Arc::new(Barrier::new(2));
        let (to_keeper, from_main) = std::sync::mpsc::channel::<Arc<L<u32>>>();
        let (to_main, done) = std::sync::mpsc::channel();
        let keeper = {
            let keep = keep.clone();
            std::thread::spawn(move || {
                for l in from_main {
                    assert!(!l.has_value(), "stale value in a new Local");
                    assert_eq!(l.with(|v| *v), 0);
                    l.set(99);
                    drop(l); // before replying: the main thread drops the last reference
                    to_main.send(()).unwrap();
                }
                keep.wait();
            })
        };
        for i in 0..200 {
            let l: Arc<L<u32>> = Arc::new(L::new(|| 0));
            assert!(!l.has_value(), "stale value in a new Local");
            l.set(i + 1);
            to_keeper.send(l.clone()).unwrap();
            done.recv().unwrap();
            drop(l); // the last reference: drops the keeper's value and this thread's
        }
        drop(to_keeper);
        keep.wait();
        join_thread(keeper);
    }

    #[test]
    fn dropping_the_local_drops_every_threads_value_while_they_live() {
        // conformance: TL-9
        let drops = counter();
        let d = drops.clone();
        let l = Arc::new(L::new(move || Counted(d.clone())));
        let stored = Arc::new(Barrier::new(11));
        let checked = Arc::new(Barrier::new(11));
        let threads: Vec<_> = (0..10)
            .map(|_| {
                let (l, stored, checked) = (l.clone(), stored.clone(), checked.clone());
                std::thread::spawn(move || {
                    l.with(|_| ());
                    drop(l);
                    stored.wait();
                    checked.wait(); // still alive when the Local is dropped
                })
            })
            .collect();
        l.with(|_| ());
        stored.wait();
        drop(l); // the last reference
        assert_eq!(drops.load(Ordering::SeqCst), 11);
        checked.wait();
        threads.into_iter().for_each(join_thread);
        assert_eq!(drops.load(Ordering::SeqCst), 11, "dropped twice at thread exit");
    }

    #[test]
    fn dropping_the_local_as_its_threads_exit_drops_each_value_once() {
        // conformance: TL-7, TL-9 — the race between a thread's end and the Local's drop:
        // whichever comes first drops the value, exactly once.
        for _ in 0..100 {
            let drops = counter();
            let d = drops.clone();
            let l = Arc::new(L::new(move || Counted(d.clone())));
            let go = Arc::new(Barrier::new(5));
            let threads: Vec<_> = (0..4)
                .map(|_| {
                    let (l, go) = (l.clone(), go.clone());
                    std::thread::spawn(move || {
                        l.with(|_| ());
                        drop(l); // the main thread holds the last reference
                        go.wait(); // and exit at once, racing its drop
                    })
                })
                .collect();
            go.wait();
            drop(l);
            threads.into_iter().for_each(join_thread);
            assert_eq!(drops.load(Ordering::SeqCst), 4);
        }
    }

    #[test]
    fn a_value_pointing_back_at_its_local_is_freed() {
        // conformance: TL-9 — Python's cycle is collected; in Rust the back pointer is a
        // `Weak`, and dropping the last `Arc` frees both.
        struct Back {
            _owner: Weak<L<RefCell<Option<Back>>>>,
            _count: Counted,
        }
        let drops = counter();
        let l: Arc<L<RefCell<Option<Back>>>> = Arc::new(L::new(|| RefCell::new(None)));
        l.with(|slot| {
            *slot.borrow_mut() = Some(Back {
                _owner: Arc::downgrade(&l),
                _count: Counted(drops.clone()),
            })
        });
        let weak = Arc::downgrade(&l);
        drop(l);
        assert_eq!(drops.load(Ordering::SeqCst), 1);
        assert!(weak.upgrade().is_none());
    }

    #[test]
    fn set_replaces_and_drops_the_old_value_take_returns_it() {
        let drops = counter();
        let d = drops.clone();
        let l = L::new(move || Counted(d.clone()));
        l.with(|_| ());
        l.set(Counted(drops.clone()));
        assert_eq!(drops.load(Ordering::SeqCst), 1, "old value dropped by set");
        let taken = l.take().expect("a value");
        assert_eq!(drops.load(Ordering::SeqCst), 1, "take gives the value, not drops it");
        drop(taken);
        assert!(!l.has_value());
        l.set(Counted(drops.clone())); // set without init
        assert!(l.has_value());
        drop(l);
        assert_eq!(drops.load(Ordering::SeqCst), 3);
    }

    #[test]
    fn with_nests_on_the_same_local() {
        let l = L::new(|| Cell::new(1));
        let v = l.with(|outer| l.with(|inner| {
            inner.set(2);
            outer.get()
        }));
        assert_eq!(v, 2);
    }

    #[test]
    fn set_or_take_inside_with_panics_and_leaves_it_usable() {
        let l = L::new(|| 1);
        for op in ["set", "take"] {
            let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                l.with(|_| if op == "set" { l.set(2) } else { assert!(l.take().is_some()) })
            }));
            let msg = r.unwrap_err();
            let msg = msg.downcast_ref::<String>().unwrap();
            assert!(msg.contains("inside `Local::with`"), "{msg}");
            assert_eq!(l.with(|v| *v), 1);
        }
        l.set(3);
        assert_eq!(l.take(), Some(3));
    }

    #[test]
    fn a_panic_in_init_leaves_the_local_usable() {
        let fail = Arc::new(AtomicBool::new(true));
        let f = fail.clone();
        let l = L::new(move || {
            if f.swap(false, Ordering::SeqCst) {
                panic!("init failed");
            }
            5
        });
        assert!(std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| l.with(|v| *v))).is_err());
        assert!(!l.has_value());
        assert_eq!(l.with(|v| *v), 5);
        // Also after a take (the context is still registered).
        assert_eq!(l.take(), Some(5));
        fail.store(true, Ordering::SeqCst);
        assert!(std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| l.with(|v| *v))).is_err());
        assert_eq!(l.with(|v| *v), 5);
    }

    #[test]
    fn init_that_uses_its_own_local_panics_and_leaves_it_usable() {
        static REENTER: AtomicBool = AtomicBool::new(true);
        static SELF: L<u32> = L::new(|| {
            if REENTER.swap(false, Ordering::SeqCst) {
                SELF.with(|v| *v) + 1
            } else {
                9
            }
        });
        run_on_thread(|| {
            let r = std::panic::catch_unwind(|| SELF.with(|v| *v));
            let msg = r.unwrap_err();
            let msg = msg.downcast_ref::<String>().unwrap();
            assert!(msg.contains("own init function"), "{msg}");
            assert_eq!(SELF.with(|v| *v), 9);
        });
    }

    #[test]
    fn drop_at_thread_exit_may_use_other_locals_and_this_one() {
        // No deadlock, no panic: a value's `Drop` at thread exit uses another Local
        // (made again if it was dropped first) and this same Local (made again, and that
        // value dropped in turn).
        static DROPS: AtomicUsize = AtomicUsize::new(0);
        struct Touches;
        impl Drop for Touches {
            fn drop(&mut self) {
                OTHER.with(|c| c.set(c.get() + 1));
                if DROPS.fetch_add(1, Ordering::SeqCst) % 2 == 0 {
                    SELF.with(|_| ()); // makes one more `Touches`, dropped next
                }
            }
        }
        static OTHER: L<Cell<u32>> = L::new(|| Cell::new(0));
        static SELF: L<Option<Touches>> = L::new(|| Some(Touches));
        let t = std::thread::spawn(|| {
            OTHER.with(|c| c.set(1));
            SELF.with(|_| ());
        });
        join_thread(t);
        let n = DROPS.load(Ordering::SeqCst);
        assert!(n >= 2 && n % 2 == 0, "{n} drops");
    }

    #[test]
    fn works_in_a_static() {
        static COUNT: L<Cell<u32>> = L::new(|| Cell::new(0));
        run_on_thread(|| {
            COUNT.with(|c| c.set(c.get() + 1));
            assert_eq!(COUNT.with(Cell::get), 1);
        });
        run_on_thread(|| assert_eq!(COUNT.with(Cell::get), 0));
    }

    #[test]
    fn default_uses_t_default() {
        let l: L<Vec<u8>> = L::default();
        assert!(l.with(Vec::is_empty));
    }

    #[test]
    fn a_scoped_threads_value_dropped_after_its_scope_and_local_owns_what_it_reads() {
        // regression: issue 13 defect 9 — a value that borrowed the frame of a
        // `std::thread::scope` was dropped by the scoped thread's TLS destructor after the
        // scope returned and the frame was freed (valgrind: invalid read; miri: dangling
        // reference). Values are `'static` now: the borrowing version does not compile (the
        // `compile_fail` example of `Local::new`, which compiled on the old code). This is
        // the same schedule with a value that owns what it reads, and an init function that
        // borrows the frame (allowed: it only runs while the `Local` is borrowed).
        struct Reads {
            text: Arc<String>,
            started: mpsc::Sender<std::thread::ThreadId>,
            go: mpsc::Receiver<()>,
            read: mpsc::Sender<String>,
        }
        impl Drop for Reads {
            fn drop(&mut self) {
                self.started.send(std::thread::current().id()).unwrap();
                // Held here until the Local and the frame's `Arc` are gone.
                self.go.recv_timeout(LATE).expect("the test let the drop go on");
                self.read.send(self.text.to_string()).unwrap();
            }
        }
        let (started_tx, started) = mpsc::channel();
        let (go, go_rx) = mpsc::channel();
        let (read_tx, read) = mpsc::channel();
        let go_rx = Mutex::new(Some(go_rx));
        let text = Arc::new(String::from("owned by the value"));
        let l = L::new(|| Reads {
            text: text.clone(),
            started: started_tx.clone(),
            go: go_rx.lock().unwrap().take().expect("one thread, one value"),
            read: read_tx.clone(),
        });
        let mut scoped = None;
        std::thread::scope(|s| {
            let t = s.spawn(|| l.with(|r| assert_eq!(r.text.len(), 18)));
            scoped = Some(t.thread().id());
        });
        // The scoped thread's end drops its value (its TLS destructor runs after the
        // thread's closure returned, maybe after `scope` did), on that thread.
        let dropped_on = started.recv_timeout(LATE).expect("the thread's end drops its value");
        assert_eq!(Some(dropped_on), scoped);
        drop(l); // the thread's end claimed the value: the Local's drop leaves it
        drop(text);
        go.send(()).unwrap();
        assert_eq!(read.recv_timeout(LATE).unwrap(), "owned by the value");
    }

    #[test]
    fn init_and_drop_run_under_no_lock_of_the_crate() {
        // Issue 13 asks that no user code run under a lock of the crate. The init function
        // and a value's `Drop` (at its thread's end) each start a fresh thread that takes a
        // context index, which locks the crate's index pool: under that lock, it would
        // deadlock (bounded here by `LATE`).
        fn use_a_local_on_a_new_thread(what: &str) {
            static OTHER: L<u8> = L::new(|| 0);
            let (done, finished) = mpsc::channel();
            std::thread::spawn(move || {
                OTHER.with(|_| ());
                done.send(()).unwrap();
            });
            finished
                .recv_timeout(LATE)
                .unwrap_or_else(|_| panic!("{what} runs under a lock of the crate"));
        }
        struct DropUses;
        impl Drop for DropUses {
            fn drop(&mut self) {
                use_a_local_on_a_new_thread("a value's drop");
            }
        }
        let l = Arc::new(L::new(|| {
            use_a_local_on_a_new_thread("the init function");
            DropUses
        }));
        let l2 = l.clone();
        join_thread(std::thread::spawn(move || l2.with(|_| ()))); // dropped at its end
        l.with(|_| ());
        drop(l); // and by the Local's drop
    }

    #[test]
    fn debug_shows_no_values() {
        let l = L::new(|| "secret");
        l.with(|_| ());
        assert_eq!(format!("{l:?}"), "<threading.local>");
    }

    #[test]
    fn is_send_and_sync_for_send_values() {
        fn assert_send_sync<X: Send + Sync>() {}
        assert_send_sync::<L<Cell<u32>>>();
        assert_send_sync::<L<RefCell<Vec<u8>>>>();
    }
}

#[test]
fn both_forms_of_one_instance_share_the_threads_value_outside_a_task() {
    let l = Arc::new(threading::Local::new(|| Cell::new(0)));
    l.with(|c| c.set(4));
    assert_eq!(l.blocking().with(Cell::get), 4);
    let b = l.clone().into_blocking();
    b.set(Cell::new(5));
    assert_eq!(b.as_async().with(Cell::get), 5);
    assert_eq!(l.take().map(Cell::into_inner), Some(5));
    assert!(!b.has_value());
}

#[test]
fn tasks_not_started_by_the_crate_share_their_threads_value() {
    // Like asyncio tasks on one thread sharing a `threading.local`: on a current-thread
    // runtime, every task and `block_on` itself see the one thread's value.
    static L: threading::Local<Cell<u32>> = threading::Local::new(|| Cell::new(0));
    let rt = ct_runtime();
    let thread = std::thread::spawn(move || {
        rt.block_on(async {
            tokio::spawn(async { L.with(|c| c.set(7)) }).await.unwrap();
            let seen = tokio::spawn(async {
                tokio::task::yield_now().await;
                L.with(Cell::get)
            });
            assert_eq!(seen.await.unwrap(), 7);
            assert_eq!(L.with(Cell::get), 7);
            assert_eq!(L.blocking().with(Cell::get), 7);
        });
    });
    join_thread(thread);
}

#[test]
fn a_task_not_started_by_the_crate_sees_its_current_workers_value() {
    // The hazard the docs name: such a task has no value of its own. On one worker, every
    // task sees that worker's value; a `spawn_blocking` closure runs on another thread.
    static L: threading::Local<Cell<u32>> = threading::Local::new(|| Cell::new(0));
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .build()
        .unwrap();
    rt.block_on(async {
        tokio::spawn(async { L.with(|c| c.set(3)) }).await.unwrap();
        let worker = tokio::spawn(async { L.with(Cell::get) });
        assert_eq!(worker.await.unwrap(), 3);
        let pool = tokio::task::spawn_blocking(|| L.with(Cell::get));
        assert_eq!(pool.await.unwrap(), 0);
    });
    // On two workers, a task that moves between them at an `.await` sees the value of the
    // worker it is on after it, not the one it set before: each worker writes its own
    // number, and a task only ever reads its current worker's (or the initial 0).
    static NEXT: AtomicUsize = AtomicUsize::new(1);
    std::thread_local! {
        static WORKER: u32 = NEXT.fetch_add(1, Ordering::SeqCst) as u32;
    }
    let rt = mt_runtime();
    rt.block_on(async {
        let tasks: Vec<_> = (0..4)
            .map(|_| {
                tokio::spawn(async {
                    for _ in 0..50 {
                        L.with(|c| c.set(WORKER.with(|w| *w)));
                        tokio::task::yield_now().await;
                        let now = WORKER.with(|w| *w);
                        let seen = L.with(Cell::get);
                        assert!(seen == now || seen == 0, "saw {seen} on worker {now}");
                    }
                })
            })
            .collect();
        for t in tasks {
            common::join_task(t).await;
        }
    });
}

// ---------------------------------------------------------------------------------------
// Through the crate's `Thread`s: a task-thread or a pool thread is a context of its own.
// ---------------------------------------------------------------------------------------

// conformance: TL-1, TL-2
/// Two task-threads on one current-thread runtime (so on one OS thread) each have their
/// own value of the async form, across `.await`s, while a plain tokio task there sees the
/// thread's value.
#[test]
fn task_threads_have_their_own_values_on_one_worker() {
    static L: threading::Local<Cell<u32>> = threading::Local::new(|| Cell::new(0));
    let rt = ct_runtime();
    rt.block_on(async {
        L.with(|v| v.set(100)); // the OS thread's value
        let threads: Vec<_> = (1..=2)
            .map(|i| {
                threading::Thread::new(move || async move {
                    assert_eq!(L.with(Cell::get), 0, "a fresh value per Thread");
                    L.with(|v| v.set(i));
                    for _ in 0..10 {
                        tokio::task::yield_now().await;
                        assert_eq!(L.with(Cell::get), i);
                    }
                    i
                })
            })
            .collect();
        for t in &threads {
            t.start().unwrap();
        }
        let plain = tokio::spawn(async { L.with(Cell::get) });
        for (i, t) in threads.iter().enumerate() {
            assert_eq!(t.join().await, Ok(Some(i as u32 + 1)));
        }
        assert_eq!(
            plain.await.unwrap(),
            100,
            "a plain task sees its thread's value"
        );
        assert_eq!(L.with(Cell::get), 100);
    });
}

// conformance: TL-7
/// A thread's values are dropped before its joiners return, for each kind of `Thread`.
#[test]
fn values_are_dropped_before_join_returns() {
    static L: threading::Local<RefCell<Option<Counted>>> =
        threading::Local::new(|| RefCell::new(None));
    let dropped = Arc::new(AtomicUsize::new(0));

    let d = dropped.clone();
    let os = threading::blocking::Thread::new(move || {
        L.blocking().with(|v| *v.borrow_mut() = Some(Counted(d)));
    });
    os.start().unwrap();
    os.join().unwrap();
    assert_eq!(dropped.load(Ordering::SeqCst), 1, "OS thread");

    let rt = mt_runtime();
    rt.block_on(async {
        let d = dropped.clone();
        let task = threading::Thread::new(move || async move {
            L.with(|v| *v.borrow_mut() = Some(Counted(d)));
            tokio::task::yield_now().await;
        });
        task.start().unwrap();
        task.join().await.unwrap();
        assert_eq!(dropped.load(Ordering::SeqCst), 2, "task-thread");

        let d = dropped.clone();
        let pool = threading::Thread::new_blocking(move || {
            L.with(|v| *v.borrow_mut() = Some(Counted(d)));
        });
        pool.start().unwrap();
        pool.join().await.unwrap();
        assert_eq!(dropped.load(Ordering::SeqCst), 3, "spawn_blocking thread");
    });
}

/// A panic in a value's `Drop` at the end of a `Thread` reaches its joiners as the thread's
/// panic, and the other values are still dropped.
#[test]
fn a_panicking_drop_is_the_threads_panic() {
    struct Boom;
    impl Drop for Boom {
        fn drop(&mut self) {
            panic!("boom in drop");
        }
    }
    static B: threading::blocking::Local<RefCell<Option<Boom>>> =
        threading::blocking::Local::new(|| RefCell::new(None));
    static C: threading::blocking::Local<RefCell<Option<Counted>>> =
        threading::blocking::Local::new(|| RefCell::new(None));
    let dropped = Arc::new(AtomicUsize::new(0));
    let d = dropped.clone();
    let t = threading::blocking::Thread::new(move || {
        B.with(|v| *v.borrow_mut() = Some(Boom));
        C.with(|v| *v.borrow_mut() = Some(Counted(d)));
    });
    t.start().unwrap();
    match t.join() {
        Err(threading::JoinError::Panicked(p)) => assert_eq!(p.message(), Some("boom in drop")),
        other => panic!("expected the drop's panic, got {other:?}"),
    }
    assert_eq!(dropped.load(Ordering::SeqCst), 1);
}
