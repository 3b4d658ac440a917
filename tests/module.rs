//! The module functions, both forms: `current_thread`, `main_thread`, `enumerate`,
//! `active_count`, `get_ident`, `get_native_id`, the stack size, `TIMEOUT_MAX`, and the
//! typed errors of every misuse (CONFORMANCE section 13, LR-10, T-12, T-27, T-30).
//!
//! These tests run on the test harness's threads, which this crate did not start, so
//! `current_thread()` there is a dummy. The main thread's own view (M-1, M-5 and M-7 on
//! main, M-6, exact counts, shutdown) is in `tests/main_thread.rs`, a binary without the
//! harness. Here the other tests of this file start and end threads at the same time: no
//! check compares a global count exactly; each looks for its own threads, by handle or by
//! ident, or relies on relations that hold whatever else runs.

// M-1 and M-6 need the process's main thread: they are in tests/main_thread.rs (a test
// harness thread is never the main thread).

mod common;
use common::{
    assert_quick, assert_waited, join_thread, mt_runtime, wait_until, FOREVER, LATE, SHORT,
};

use std::collections::HashSet;
use std::pin::pin;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use futures::poll;
use threading::{
    blocking, BarrierPartiesError, BrokenBarrierError, DaemonError, JoinError, PanicError,
    RLockReleaseError, ReleaseUnlockedError, SemaphoreReleaseError, StartError, Thread,
    TIMEOUT_MAX,
};

/// The idents of the threads `enumerate()` lists now.
fn listed_idents() -> HashSet<u64> {
    threading::enumerate()
        .iter()
        .filter_map(|t| t.ident())
        .collect()
}

/// Whether `enumerate()` lists `t` now (a handle of any return type).
fn is_listed<T>(t: &Thread<T>) -> bool {
    threading::enumerate().iter().any(|x| x == t)
}

/// Whether `blocking::enumerate()` lists `t` now.
fn is_listed_blocking<T>(t: &blocking::Thread<T>) -> bool {
    blocking::enumerate().iter().any(|x| x == t)
}

/// Run `body` on a new thread that this crate did not start, and return once that thread
/// has fully exited (its thread-local destructors included: `JoinHandle::join` waits for
/// them).
fn on_foreign_thread<R: Send + 'static>(body: impl FnOnce() -> R + Send + 'static) -> R {
    join_thread(std::thread::spawn(body))
}

/// The main thread as seen from a thread that is not the main thread (M-5).
#[track_caller]
fn check_main_seen_from_elsewhere() {
    let main = threading::main_thread();
    assert_eq!(main.name(), "MainThread");
    assert!(!main.daemon());
    assert!(
        main.is_alive(),
        "the harness never shuts the main thread down"
    );
    let ident = main.ident().expect("the main thread has an ident");
    assert_ne!(ident, 0);
    assert_ne!(main.ident(), threading::current_thread().ident());
    assert_ne!(ident, threading::get_ident());
    assert_ne!(threading::current_thread(), main);
    assert_eq!(threading::main_thread(), main);
    assert_eq!(blocking::main_thread().as_async(), &main);
    assert!(threading::enumerate().contains(&main));
    assert!(blocking::enumerate().contains(main.blocking()));
    let dbg = format!("{main:?}");
    assert!(
        dbg.starts_with("<_MainThread(MainThread, started ") && !dbg.contains("daemon"),
        "{dbg}"
    );
}

// conformance: M-3, M-4, M-10
#[test]
fn a_foreign_thread_gets_a_dummy_that_leaves_when_the_thread_exits() {
    let (dummy, ident) = on_foreign_thread(|| {
        // Asking for the ident alone registers nothing.
        let ident = threading::get_ident();
        assert_ne!(ident, 0);
        assert!(!listed_idents().contains(&ident));

        let d = threading::current_thread();
        let name = d.name();
        let n = name
            .strip_prefix("Dummy-")
            .unwrap_or_else(|| panic!("a dummy is named Dummy-N, not {name:?}"));
        assert!(n.parse::<u64>().is_ok_and(|n| n >= 1), "{name}");
        assert!(d.daemon());
        assert!(d.is_alive());
        assert_eq!(d.ident(), Some(ident));
        assert_eq!(threading::get_ident(), ident);
        assert_eq!(d.native_id(), Some(threading::get_native_id()));
        // One dummy per thread, the same in both forms.
        assert_eq!(threading::current_thread(), d);
        assert_eq!(blocking::current_thread().as_async(), &d);
        assert!(threading::enumerate().contains(&d));
        assert!(blocking::enumerate().contains(d.blocking()));
        // Counted: the main thread and this dummy are alive, whatever else runs.
        assert!(threading::active_count() >= 2);
        let dbg = format!("{d:?}");
        assert!(
            dbg.starts_with(&format!("<_DummyThread({name}, started daemon ")),
            "{dbg}"
        );

        // M-4: a dummy cannot be joined, in either form, with or without a timeout, and
        // the refusal does not wait.
        let start = Instant::now();
        assert_eq!(d.blocking().join(), Err(JoinError::Dummy));
        assert_eq!(d.blocking().join_timeout(FOREVER), Err(JoinError::Dummy));
        let rt = common::ct_runtime();
        assert_eq!(rt.block_on(d.join()), Err(JoinError::Dummy));
        assert_eq!(rt.block_on(d.join_timeout(FOREVER)), Err(JoinError::Dummy));
        assert_quick(start, LATE);
        // A dummy is running already: it cannot be started.
        assert!(matches!(d.start(), Err(StartError::AlreadyStarted)));
        (d, ident)
    });
    // M-4: the foreign thread has exited, so its dummy has left enumerate().
    assert!(!dummy.is_alive());
    assert!(!threading::enumerate().contains(&dummy));
    assert!(!listed_idents().contains(&ident));
    assert!(
        format!("{dummy:?}").contains(", stopped daemon "),
        "{dummy:?}"
    );
    assert_eq!(dummy.blocking().join(), Err(JoinError::Dummy));
}

// conformance: M-3
// A second foreign thread gets a dummy of its own, with another number and ident.
#[test]
fn each_foreign_thread_has_its_own_dummy() {
    let a = on_foreign_thread(threading::current_thread);
    let b = on_foreign_thread(threading::current_thread);
    assert_ne!(a, b);
    assert_ne!(a.ident(), b.ident());
    assert_ne!(a.name(), b.name());
    assert!(!a.is_alive() && !b.is_alive());
}

// conformance: M-5
#[test]
fn main_thread_seen_from_other_threads() {
    // The harness thread running this test, and a plain thread.
    check_main_seen_from_elsewhere();
    on_foreign_thread(check_main_seen_from_elsewhere);

    // A thread of this crate: an OS thread, a task-thread, a spawn_blocking thread, and
    // both kinds of Timer.
    let t = blocking::Thread::new(check_main_seen_from_elsewhere);
    t.start().unwrap();
    assert_eq!(t.join(), Ok(Some(())));
    let bt = blocking::Timer::new(Duration::ZERO, check_main_seen_from_elsewhere);
    bt.start().unwrap();
    assert_eq!(bt.join(), Ok(Some(())));
    mt_runtime().block_on(async {
        let t = Thread::new(|| async { check_main_seen_from_elsewhere() });
        t.start().unwrap();
        assert_eq!(t.join().await, Ok(Some(())));
        let p = Thread::new_blocking(check_main_seen_from_elsewhere);
        p.start().unwrap();
        assert_eq!(p.join().await, Ok(Some(())));
        let timer = threading::Timer::new(Duration::ZERO, || async {
            check_main_seen_from_elsewhere()
        });
        timer.start().unwrap();
        assert_eq!(timer.join().await, Ok(Some(())));
    });
}

// conformance: M-2, T-27, M-10
#[test]
fn current_thread_inside_an_os_thread_is_that_thread() {
    let t = blocking::Thread::new(|| {
        let me = threading::current_thread();
        assert_eq!(threading::current_thread(), me);
        (me, blocking::current_thread(), threading::get_ident())
    });
    t.start().unwrap();
    let (me, bme, ident) = t.join().unwrap().unwrap();
    assert_eq!(me, *t.as_async());
    assert_eq!(bme, t);
    assert_eq!(Some(ident), t.ident());
}

// conformance: M-2, T-27, M-10
// A task-thread is itself, not the worker it runs on: also after its `.await`s, which may
// resume it on the other worker (the test does not force a move: tokio decides).
#[test]
fn current_thread_inside_a_task_thread_is_that_thread_across_awaits() {
    mt_runtime().block_on(async {
        let t = Thread::new(|| async {
            let me = threading::current_thread();
            let ident = threading::get_ident();
            let mut workers = HashSet::new();
            for round in 0..40 {
                workers.insert(std::thread::current().id());
                assert_eq!(threading::current_thread(), me, "round {round}");
                assert_eq!(blocking::current_thread().as_async(), &me);
                assert_eq!(threading::get_ident(), ident, "round {round}");
                if round % 2 == 0 {
                    tokio::task::yield_now().await;
                } else {
                    tokio::time::sleep(Duration::from_millis(1)).await;
                }
            }
            (me, ident, workers.len())
        });
        t.start().unwrap();
        let (me, ident, _workers) = t.join().await.unwrap().unwrap();
        assert_eq!(me, t);
        assert_eq!(Some(ident), t.ident());
    });
}

// conformance: M-2, T-27, M-10
#[test]
fn current_thread_inside_a_spawn_blocking_thread_and_a_timer_is_that_thread() {
    mt_runtime().block_on(async {
        let p = Thread::new_blocking(|| (threading::current_thread(), threading::get_ident()));
        p.start().unwrap();
        let (me, ident) = p.join().await.unwrap().unwrap();
        assert_eq!(me, p);
        assert_eq!(Some(ident), p.ident());

        let (tx, rx) = std::sync::mpsc::channel();
        let timer = threading::Timer::new(Duration::ZERO, move || async move {
            tx.send((threading::current_thread(), threading::get_ident()))
                .unwrap();
        });
        timer.start().unwrap();
        timer.join().await.unwrap();
        let (me, ident) = rx.try_recv().unwrap();
        assert_eq!(me, *timer);
        assert_eq!(Some(ident), timer.ident());
    });

    let (tx, rx) = std::sync::mpsc::channel();
    let timer = blocking::Timer::new(Duration::ZERO, move || {
        tx.send((blocking::current_thread(), threading::get_ident()))
            .unwrap();
    });
    timer.start().unwrap();
    timer.join().unwrap();
    let (me, ident) = rx.try_recv().unwrap();
    assert_eq!(me, *timer);
    assert_eq!(Some(ident), timer.ident());
}

// conformance: M-10
// `get_ident()` is nonzero, fixed for the thread's life, equal to `current_thread().ident()`
// and to the handle's `ident()`, and differs between threads alive at once. The crate goes
// further than Python (which may reuse idents): idents are never reused in a process.
#[test]
fn get_ident_is_nonzero_stable_and_matches_the_handle() {
    fn idents_here() -> (u64, u64, Option<u64>) {
        let first = threading::get_ident();
        let cur = threading::current_thread().ident();
        (first, threading::get_ident(), cur)
    }
    let go = Arc::new(blocking::Event::new());
    let rt = mt_runtime();
    let (os, task, pool) = {
        let _in_rt = rt.enter();
        let g = go.clone();
        let os = blocking::Thread::new(move || {
            g.wait();
            idents_here()
        });
        let g = go.clone();
        let task = Thread::new(move || async move {
            g.as_async().wait().await;
            idents_here()
        });
        let g = go.clone();
        let pool = Thread::new_blocking(move || {
            g.wait();
            idents_here()
        });
        (os, task, pool)
    };
    os.start().unwrap();
    task.start().unwrap();
    pool.start().unwrap();
    let foreign = std::thread::spawn(idents_here);
    let here = idents_here();
    go.set();
    let results = [
        (os.join().unwrap().unwrap(), os.ident()),
        (task.blocking().join().unwrap().unwrap(), task.ident()),
        (pool.blocking().join().unwrap().unwrap(), pool.ident()),
        (join_thread(foreign), None),
        (here, None),
    ];
    let mut seen = HashSet::new();
    for ((first, again, cur), handle) in results {
        assert_ne!(first, 0);
        assert_eq!(first, again, "stable");
        assert_eq!(Some(first), cur, "get_ident() == current_thread().ident()");
        if let Some(h) = handle {
            assert_eq!(first, h, "get_ident() inside == the handle's ident()");
        }
        assert!(seen.insert(first), "two live threads share ident {first}");
    }

    // Threads that run one after the other get fresh idents.
    let mut idents = HashSet::new();
    for _ in 0..20 {
        let t = blocking::Thread::new(threading::get_ident);
        t.start().unwrap();
        let id = t.join().unwrap().unwrap();
        assert_eq!(Some(id), t.ident());
        assert!(idents.insert(id), "ident {id} reused");
    }
}

// conformance: M-10
// `get_ident()` is the thread's ident for its whole life, also in the destructors of its
// other thread-locals, which run as the thread exits. One probe is registered before the
// crate's own thread-local state and one after, so one of them runs after the crate's
// state is torn down, whatever order std runs the destructors in.
#[test]
fn get_ident_is_stable_in_thread_local_destructors() {
    struct Probe(
        std::sync::mpsc::Sender<(&'static str, u64, Option<u64>)>,
        &'static str,
    );
    impl Drop for Probe {
        fn drop(&mut self) {
            let seen = (
                self.1,
                threading::get_ident(),
                threading::current_thread().ident(),
            );
            let _ = self.0.send(seen);
        }
    }
    thread_local! {
        static BEFORE: std::cell::RefCell<Option<Probe>> = const { std::cell::RefCell::new(None) };
        static AFTER: std::cell::RefCell<Option<Probe>> = const { std::cell::RefCell::new(None) };
    }
    let (tx, rx) = std::sync::mpsc::channel();
    let ident = on_foreign_thread(move || {
        BEFORE.with(|p| *p.borrow_mut() = Some(Probe(tx.clone(), "registered before")));
        let ident = threading::current_thread().ident().unwrap();
        AFTER.with(|p| *p.borrow_mut() = Some(Probe(tx, "registered after")));
        ident
    });
    let seen: Vec<_> = rx.try_iter().collect();
    assert_eq!(seen.len(), 2, "{seen:?}");
    for (which, id, current) in seen {
        assert_eq!(
            (id, current),
            (ident, Some(ident)),
            "in the destructor of a thread-local {which} the crate's: \
             get_ident() and current_thread().ident() are not the thread's ident {ident}"
        );
    }
}

// conformance: M-11, T-14
// `get_native_id()` is the OS id of the calling OS thread. A task-thread has no OS thread
// of its own: its `native_id()` stays `None`, and `get_native_id()` inside it gives the
// id of the worker it happens to run on (documented on `get_native_id`).
#[test]
fn get_native_id_is_the_os_id_of_the_calling_thread() {
    let go = Arc::new(blocking::Event::new());
    let make = || {
        let g = go.clone();
        blocking::Thread::new(move || {
            let inside = threading::get_native_id();
            let cur = blocking::current_thread().native_id();
            g.wait();
            (inside, cur)
        })
    };
    let (a, b) = (make(), make());
    assert_eq!(a.native_id(), None);
    a.start().unwrap();
    b.start().unwrap();
    // Set once start() returns (T-15), for an OS thread.
    let na = a.native_id().expect("native_id after start");
    let nb = b.native_id().expect("native_id after start");
    let here = threading::get_native_id();
    assert_ne!(na, nb);
    assert_ne!(na, here);
    assert_ne!(nb, here);
    assert_eq!(here, threading::get_native_id());
    if cfg!(target_os = "linux") {
        // The kernel's thread ids: both threads are tasks of this process right now.
        for id in [na, nb, here] {
            assert!(
                std::path::Path::new(&format!("/proc/self/task/{id}")).exists(),
                "{id} is not a thread of this process"
            );
        }
        let main = threading::main_thread().native_id();
        assert_eq!(main, Some(u64::from(std::process::id())));
        assert!(![na, nb, here].contains(&main.unwrap()));
    }
    go.set();
    assert_eq!(a.join(), Ok(Some((na, Some(na)))));
    assert_eq!(b.join(), Ok(Some((nb, Some(nb)))));
    // Kept after the thread ended.
    assert_eq!(a.native_id(), Some(na));

    // A dummy: the foreign thread's own id.
    let (id, dummy) = on_foreign_thread(|| {
        let d = threading::current_thread();
        (threading::get_native_id(), d.native_id())
    });
    assert_eq!(dummy, Some(id));

    mt_runtime().block_on(async {
        // A task-thread: no native id, before or after it runs.
        let t = Thread::new(|| async {
            (
                threading::current_thread().native_id(),
                threading::get_native_id(),
            )
        });
        assert_eq!(t.native_id(), None);
        t.start().unwrap();
        let (inside, worker) = t.join().await.unwrap().unwrap();
        assert_eq!(inside, None);
        assert_eq!(t.native_id(), None);
        assert_ne!(worker, 0);

        // A spawn_blocking thread: the id of the pool thread that runs it.
        let p = Thread::new_blocking(|| {
            (
                threading::current_thread().native_id(),
                threading::get_native_id(),
            )
        });
        p.start().unwrap();
        let (inside, os) = p.join().await.unwrap().unwrap();
        assert_eq!(inside, Some(os));
        assert_eq!(p.native_id(), Some(os));
    });
}

// conformance: M-7, T-30
#[test]
fn enumerate_lists_started_threads_until_they_finish() {
    let go = Arc::new(blocking::Event::new());
    let rt = mt_runtime();
    let me = threading::current_thread(); // this harness thread's dummy

    let not_started = blocking::Thread::new(|| ());
    let g = go.clone();
    let os_daemon = blocking::Thread::builder()
        .daemon(true)
        .target(move || g.wait());
    let g = go.clone();
    let os = blocking::Thread::builder()
        .daemon(false)
        .target(move || g.wait());
    let (task, pool, timer) = {
        let _in_rt = rt.enter();
        let g = go.clone();
        let task = Thread::builder()
            .daemon(true)
            .target(move || async move { g.as_async().wait().await });
        let g = go.clone();
        let pool = Thread::new_blocking(move || g.wait());
        let timer = threading::Timer::new(FOREVER, || async {});
        (task, pool, timer)
    };
    let btimer = blocking::Timer::new(FOREVER, || ());

    // Not started: not listed.
    let listed = threading::enumerate();
    for t in [
        not_started.as_async(),
        os_daemon.as_async(),
        os.as_async(),
        &task,
        &pool,
        &*timer,
        (*btimer).as_async(),
    ] {
        assert!(!listed.contains(t), "{t:?} listed before start");
    }

    os_daemon.start().unwrap();
    os.start().unwrap();
    task.start().unwrap();
    pool.start().unwrap();
    timer.start().unwrap();
    btimer.start().unwrap();
    let ours = [
        os_daemon.as_async(),
        os.as_async(),
        &task,
        &pool,
        &*timer,
        (*btimer).as_async(),
    ];
    let listed = threading::enumerate();
    for t in ours {
        assert!(t.is_alive());
        assert!(listed.contains(t), "{t:?} not listed while alive");
    }
    assert!(listed.contains(&threading::main_thread()));
    assert!(listed.contains(&me));
    assert!(!listed.contains(not_started.as_async()));
    // Sorted by ident (documented).
    let idents: Vec<u64> = listed.iter().map(|t| t.ident().unwrap()).collect();
    assert!(idents.windows(2).all(|w| w[0] < w[1]), "{idents:?}");
    let blisted = blocking::enumerate();
    for t in ours {
        assert!(blisted.contains(t.blocking()));
    }

    // Finished: no longer listed. T-30: the daemon is never joined, only watched.
    go.set();
    assert!(timer.cancel());
    assert!(btimer.cancel());
    os.join().unwrap();
    task.blocking().join().unwrap();
    pool.blocking().join().unwrap();
    timer.blocking().join().unwrap();
    btimer.join().unwrap();
    wait_until(|| !os_daemon.is_alive());
    let listed = threading::enumerate();
    for t in ours {
        assert!(!listed.contains(t), "{t:?} listed after it finished");
    }
    assert!(listed.contains(&threading::main_thread()));
}

// conformance: M-8
#[test]
fn a_joined_thread_is_never_listed_99_rounds() {
    for round in 0..99 {
        let t = blocking::Thread::new(move || round);
        t.start().unwrap();
        assert_eq!(t.join(), Ok(Some(round)));
        assert!(!t.is_alive());
        assert!(!is_listed_blocking(&t), "OS thread, round {round}");
    }
    let rt = mt_runtime();
    rt.block_on(async {
        for round in 0..99 {
            let t = Thread::new(move || async move {
                tokio::task::yield_now().await;
                round
            });
            t.start().unwrap();
            assert_eq!(t.join().await, Ok(Some(round)));
            assert!(!is_listed(&t), "task, round {round}");

            let p = Thread::new_blocking(move || round);
            p.start().unwrap();
            assert_eq!(p.join().await, Ok(Some(round)));
            assert!(!is_listed(&p), "pool, round {round}");

            // Across worlds: an async join of an OS thread.
            let t = blocking::Thread::new(move || round).into_async();
            t.start().unwrap();
            assert_eq!(t.join().await, Ok(Some(round)));
            assert!(!is_listed(&t), "OS/async, round {round}");
        }
    });
    // Across worlds: a blocking join of a task-thread, from a plain thread.
    for round in 0..99 {
        let t = {
            let _in_rt = rt.enter();
            Thread::new(move || async move { round })
        };
        t.start().unwrap();
        assert_eq!(t.blocking().join(), Ok(Some(round)));
        assert!(
            !is_listed_blocking(t.blocking()),
            "task/blocking, round {round}"
        );
    }
}

// conformance: M-9, M-3
// `active_count() == enumerate().len()` at any one moment. The other tests of this binary
// start and end threads meanwhile, so two calls in a row may see different sets: read
// `active_count()`, `enumerate().len()` and `active_count()` until all three agree (a
// moment with no change). A count off by a fixed amount (the main thread or the dummies
// left out, say) never agrees. The exact check on a quiet process is in
// tests/main_thread.rs.
#[test]
fn active_count_is_the_length_of_enumerate() {
    fn agreed() -> usize {
        for _ in 0..10_000 {
            let a = threading::active_count();
            let n = blocking::enumerate().len();
            let b = blocking::active_count();
            if a == n && n == b {
                return n;
            }
            std::thread::yield_now();
        }
        panic!("active_count() and enumerate().len() never agreed");
    }
    let _me = threading::current_thread(); // this thread's dummy counts too
    let base = agreed();
    assert!(base >= 2, "the main thread and this dummy: {base}");

    let go = Arc::new(blocking::Event::new());
    let rt = mt_runtime();
    let mut ours: Vec<Thread> = Vec::new();
    for i in 0..4 {
        let g = go.clone();
        let t = blocking::Thread::builder()
            .daemon(i % 2 == 0)
            .target(move || g.wait());
        t.start().unwrap();
        ours.push(t.into_async());
    }
    {
        let _in_rt = rt.enter();
        for _ in 0..2 {
            let g = go.clone();
            let t = Thread::new(move || async move { g.as_async().wait().await });
            t.start().unwrap();
            ours.push(t);
            let g = go.clone();
            let p = Thread::new_blocking(move || g.wait());
            p.start().unwrap();
            ours.push(p);
        }
    }
    let with_ours = agreed();
    assert!(
        with_ours >= 2 + ours.len(),
        "{with_ours} < main + dummy + {}",
        ours.len()
    );
    let listed = threading::enumerate();
    assert!(ours.iter().all(|t| listed.contains(t)));
    go.set();
    for t in &ours {
        t.blocking().join().unwrap();
    }
    let listed = threading::enumerate();
    assert!(ours.iter().all(|t| !listed.contains(t)));
    assert!(agreed() >= 2);
}

// conformance: M-12, M-13, M-14, M-15
// All the stack-size checks, in one test: the setting is global to the process.
// M-13's negative size cannot be written: the size is a `usize`.
#[test]
fn stack_size_setting_validates_stores_and_applies() {
    /// Puts the platform default back even if a check fails.
    struct Restore;
    impl Drop for Restore {
        fn drop(&mut self) {
            let _ = threading::set_stack_size(0);
        }
    }
    let _restore = Restore;

    /// An OS thread started now runs normally, using a little of its stack.
    fn runs_normally() {
        let t = blocking::Thread::new(|| {
            let buf = std::hint::black_box([7_u8; 16 * 1024]);
            buf.iter().map(|&b| usize::from(b)).sum::<usize>()
        });
        t.start().unwrap();
        assert_eq!(t.join(), Ok(Some(7 * 16 * 1024)));
    }

    // M-12: 0, the platform default, at first.
    assert_eq!(threading::stack_size(), 0);
    assert_eq!(blocking::stack_size(), 0);

    // M-13: under 32 KiB is refused and changes nothing.
    for bad in [1, 4096, 32 * 1024 - 1] {
        let err = threading::set_stack_size(bad).unwrap_err();
        assert_eq!(err.size(), bad);
        let msg = err.to_string();
        assert!(
            msg.contains(&bad.to_string()) && msg.contains("32768"),
            "{msg}"
        );
        let _: &(dyn std::error::Error + Send + Sync) = &err;
        assert_eq!(threading::stack_size(), 0);
    }

    // M-14, M-15: valid sizes are stored; each call returns the previous setting.
    assert_eq!(threading::set_stack_size(262_144), Ok(0));
    assert_eq!(threading::stack_size(), 262_144);
    runs_normally();
    assert!(blocking::set_stack_size(4096).is_err());
    assert_eq!(
        threading::stack_size(),
        262_144,
        "a refused size changed it"
    );
    assert_eq!(threading::set_stack_size(0x10_0000), Ok(262_144));
    assert_eq!(blocking::stack_size(), 0x10_0000);
    runs_normally();
    // An explicit size on the builder wins over the setting.
    let t = blocking::Thread::builder()
        .stack_size(512 * 1024)
        .target(|| std::hint::black_box([1_u8; 64 * 1024]).len());
    t.start().unwrap();
    assert_eq!(t.join(), Ok(Some(64 * 1024)));

    // The smallest valid size is enough for a thread that uses this crate.
    let t = blocking::Thread::builder()
        .stack_size(32 * 1024)
        .target(|| {
            let e = blocking::Event::new();
            assert!(!e.wait_timeout(Duration::from_millis(1)));
            (
                blocking::current_thread().ident(),
                threading::enumerate().len(),
            )
        });
    t.start().unwrap();
    let (ident, listed) = t.join().unwrap().unwrap();
    assert_eq!(ident, t.ident());
    assert!(listed >= 2);

    // M-12: 0 restores the default. The smallest valid size is exactly 32 KiB (set and
    // put back at once: other tests of this binary start OS threads meanwhile).
    assert_eq!(threading::set_stack_size(0), Ok(0x10_0000));
    assert_eq!(threading::stack_size(), 0);
    assert_eq!(threading::set_stack_size(32 * 1024), Ok(0));
    assert_eq!(threading::set_stack_size(0), Ok(32 * 1024));
    assert_eq!(threading::stack_size(), 0);
    runs_normally();
}

// conformance: M-16, TO-4
// `TIMEOUT_MAX` and anything larger are accepted by joins: larger waits forever, without an
// error or a panic.
#[test]
fn join_accepts_timeout_max_and_beyond() {
    assert_eq!(TIMEOUT_MAX, Duration::from_secs(9_223_372_036));
    let t = blocking::Thread::new(|| 5);
    t.start().unwrap();
    let start = Instant::now();
    assert_eq!(t.join_timeout(TIMEOUT_MAX), Ok(Some(5)));
    assert_eq!(t.join_timeout(Duration::MAX), Ok(None));
    assert_quick(start, LATE);

    // A blocking join with no finite deadline ends when the thread does.
    let go = Arc::new(blocking::Event::new());
    let g = go.clone();
    let t = blocking::Thread::new(move || {
        g.wait();
        6
    });
    t.start().unwrap();
    let t2 = t.clone();
    let joiner = std::thread::spawn(move || t2.join_timeout(TIMEOUT_MAX + Duration::from_secs(1)));
    go.set();
    assert_eq!(join_thread(joiner), Ok(Some(6)));

    // The async form: still pending after a poll, done once the thread ends.
    mt_runtime().block_on(async {
        let go = Arc::new(threading::Event::new());
        let g = go.clone();
        let t = Thread::new(move || async move {
            g.wait().await;
            7
        });
        t.start().unwrap();
        let mut join = pin!(t.join_timeout(Duration::MAX));
        assert!(poll!(join.as_mut()).is_pending());
        assert!(poll!(pin!(t.join_timeout(TIMEOUT_MAX))).is_pending());
        go.set();
        assert_eq!(join.await, Ok(Some(7)));
    });
}

/// A misuse error: a typed `Error + Send + Sync` whose message names the problem.
#[track_caller]
fn check_error<E: std::error::Error + Send + Sync + 'static>(err: &E, words: &[&str]) {
    let msg = err.to_string();
    for w in words {
        assert!(msg.contains(w), "{msg:?} does not say {w:?}");
    }
    assert!(!format!("{err:?}").is_empty());
}

// conformance: M-17, T-10, T-11, T-12, T-26, T-9
// Every misuse is a typed error, never a panic: start twice (also after the end), join
// before start, join yourself, join a dummy, set the daemon flag late, start a task-thread
// with no runtime, and the misuse errors of the primitives.
#[test]
fn every_misuse_is_a_typed_error_with_a_helpful_message() {
    // Start twice, even after the thread ended; the main thread and dummies are running.
    let t = blocking::Thread::new(|| ());
    assert!(matches!(t.join(), Err(JoinError::NotStarted)));
    let err = t.join_timeout(SHORT).unwrap_err();
    assert_eq!(err, JoinError::NotStarted);
    check_error(&err, &["before it is started", "start()"]);
    t.start().unwrap();
    t.join().unwrap();
    let err = t.start().unwrap_err();
    assert!(matches!(err, StartError::AlreadyStarted));
    check_error(&err, &["started once"]);
    assert!(matches!(
        threading::main_thread().start(),
        Err(StartError::AlreadyStarted)
    ));
    assert!(matches!(
        threading::current_thread().start(),
        Err(StartError::AlreadyStarted)
    ));

    // The daemon flag, once started.
    // (Made on a harness thread, whose dummy is a daemon, `t` inherited `daemon == true`.)
    let before = t.daemon();
    let err = t.set_daemon(!before).unwrap_err();
    assert_eq!(t.daemon(), before);
    check_error::<DaemonError>(&err, &["daemon", "before start()"]);

    // Join a dummy (M-4).
    let err = threading::current_thread().blocking().join().unwrap_err();
    assert_eq!(err, JoinError::Dummy);
    check_error(&err, &["dummy"]);

    // A task-thread made and started with no runtime anywhere: not registered (T-26), not
    // joinable, and still refused for want of a runtime (a retry inside one may start it:
    // tests/thread.rs).
    on_foreign_thread(|| {
        for t in [
            Thread::new(|| async {}),
            Thread::new_blocking(|| ()),
            Thread::builder().target(|| async {}),
        ] {
            let err = t.start().unwrap_err();
            assert!(matches!(err, StartError::NoRuntime), "{err:?}");
            check_error(&err, &["no tokio runtime", "threading::blocking::Thread"]);
            assert!(!t.is_alive());
            assert!(!threading::enumerate().contains(&t));
            assert!(matches!(t.start(), Err(StartError::NoRuntime)));
            assert_eq!(t.blocking().join(), Err(JoinError::NotStarted));
        }
    });

    // The OS refuses the thread (a stack no address space can hold): an error, and the
    // thread is not registered (T-26).
    let t = blocking::Thread::builder()
        .stack_size(1 << 60)
        .target(|| ());
    let err = t.start().unwrap_err();
    assert!(matches!(err, StartError::Spawn(_)), "{err:?}");
    check_error(&err, &["refused"]);
    assert!(std::error::Error::source(&err).is_some());
    assert!(!t.is_alive());
    assert!(!is_listed_blocking(&t));
    assert!(t.ident().is_none_or(|id| !listed_idents().contains(&id)));
    assert!(matches!(t.start(), Err(StartError::AlreadyStarted)));
    assert_eq!(t.join(), Err(JoinError::NotStarted));

    // Join yourself (T-12), in each kind of thread, while another thread joins the same
    // thread: neither deadlocks.
    let go = Arc::new(blocking::Event::new());
    let g = go.clone();
    let t = blocking::Thread::new(move || {
        g.wait();
        let me = blocking::current_thread();
        (me.join(), me.join_timeout(FOREVER))
    });
    t.start().unwrap();
    let t2 = t.clone();
    let other_joiner = std::thread::spawn(move || t2.join());
    go.set();
    let (a, b) = join_thread(other_joiner).unwrap().unwrap();
    assert_eq!(a, Err(JoinError::CurrentThread));
    assert_eq!(b, Err(JoinError::CurrentThread));
    check_error(&a.unwrap_err(), &["current thread"]);

    mt_runtime().block_on(async {
        let t = Thread::new(|| async {
            let me = threading::current_thread();
            (me.join().await, me.join_timeout(FOREVER).await)
        });
        t.start().unwrap();
        let r = t.join().await.unwrap().unwrap();
        assert_eq!(
            r,
            (Err(JoinError::CurrentThread), Err(JoinError::CurrentThread))
        );

        let p = Thread::new_blocking(|| {
            let me = blocking::current_thread();
            (me.join(), me.join_timeout(FOREVER))
        });
        p.start().unwrap();
        let r = p.join().await.unwrap().unwrap();
        assert_eq!(
            r,
            (Err(JoinError::CurrentThread), Err(JoinError::CurrentThread))
        );

        // A join that times out, and one that reports a panic (with the panic as source).
        let go = Arc::new(threading::Event::new());
        let g = go.clone();
        let t = Thread::builder()
            .name("m17-panics")
            .target(move || async move {
                g.wait().await;
                panic!("m17 boom");
            });
        t.start().unwrap();
        let start = Instant::now();
        let err = t.join_timeout(SHORT).await.unwrap_err();
        assert_waited(start.elapsed(), SHORT);
        assert_eq!(err, JoinError::TimedOut);
        check_error(&err, &["timed out", "still alive"]);
        go.set();
        let err = t.join().await.unwrap_err();
        check_error(&err, &["m17-panics", "m17 boom"]);
        let JoinError::Panicked(p) = &err else {
            panic!("{err:?}")
        };
        check_error::<PanicError>(p, &["m17-panics", "panicked", "m17 boom"]);
        let source = std::error::Error::source(&err).expect("the panic is the source");
        assert_eq!(source.to_string(), p.to_string());
    });

    // The primitives' misuse errors.
    let lock = blocking::Lock::new();
    let err = lock.release().unwrap_err();
    check_error::<ReleaseUnlockedError>(&err, &["not locked"]);

    let rlock = Arc::new(blocking::RLock::new());
    let err = rlock.release().unwrap_err();
    assert_eq!(err, RLockReleaseError::Unlocked);
    check_error(&err, &["not locked"]);
    let held = Arc::new(blocking::Event::new());
    let done = Arc::new(blocking::Event::new());
    let (r, h, d) = (rlock.clone(), held.clone(), done.clone());
    let holder = std::thread::spawn(move || {
        let _g = r.acquire();
        h.set();
        d.wait();
    });
    held.wait();
    let err = rlock.release().unwrap_err();
    assert_eq!(err, RLockReleaseError::NotOwner);
    check_error(&err, &["owner"]);
    done.set();
    join_thread(holder);
    assert!(!rlock.locked());

    let sem = blocking::BoundedSemaphore::new(1);
    let err = sem.release(1).unwrap_err();
    assert!(matches!(err, SemaphoreReleaseError::AboveInitial { .. }));
    check_error(&err, &["too many"]);
    let err = blocking::Semaphore::new(0).release(0).unwrap_err();
    assert_eq!(err, SemaphoreReleaseError::ZeroPermits);
    check_error(&err, &["release(0)"]);

    let err = blocking::Barrier::new(0).unwrap_err();
    check_error::<BarrierPartiesError>(&err, &["at least one"]);
    let barrier = blocking::Barrier::new(2).unwrap();
    barrier.abort();
    let err = barrier.wait().unwrap_err();
    check_error::<BrokenBarrierError>(&err, &["broken", "reset()"]);
}

// conformance: LR-10
// Fifteen threads this crate did not start take a shared Lock and a shared RLock (both
// forms, contended, the RLock re-entered): none of them is registered, not even as a
// dummy. Checked by ident, while they are all still alive; a global count cannot be
// compared here, as other tests start threads meanwhile.
#[test]
fn foreign_threads_using_locks_register_nothing() {
    const N: usize = 15;
    let lock = Arc::new(blocking::Lock::new());
    let rlock = Arc::new(blocking::RLock::new());
    let counter = Arc::new(Mutex::new(0_usize));
    let used = Arc::new(std::sync::Barrier::new(N + 1));
    let release = Arc::new(std::sync::Barrier::new(N + 1));
    let mut workers = Vec::new();
    for _ in 0..N {
        let (lock, rlock, counter) = (lock.clone(), rlock.clone(), counter.clone());
        let (used, release) = (used.clone(), release.clone());
        workers.push(std::thread::spawn(move || {
            let ident = threading::get_ident();
            for _ in 0..20 {
                let _g = lock.acquire();
                let _r1 = rlock.acquire();
                let _r2 = rlock.acquire();
                *counter.lock().unwrap() += 1;
            }
            let rt = common::ct_runtime();
            rt.block_on(async {
                let _g = lock.as_async().acquire().await;
                let _r1 = rlock.as_async().acquire().await;
                let _r2 = rlock.as_async().acquire().await;
            });
            assert!(lock.acquire_timeout(LATE).is_some());
            used.wait();
            release.wait();
            ident
        }));
    }
    used.wait();
    // All fifteen are alive and done with the locks.
    let listed = listed_idents();
    release.wait();
    let idents: HashSet<u64> = workers.into_iter().map(join_thread).collect();
    assert_eq!(idents.len(), N, "foreign threads share an ident");
    assert!(!idents.contains(&0));
    let registered: Vec<_> = idents.intersection(&listed).collect();
    assert!(registered.is_empty(), "registered: {registered:?}");
    assert_eq!(*counter.lock().unwrap(), N * 20);
    assert!(!lock.locked() && !rlock.locked());
}
