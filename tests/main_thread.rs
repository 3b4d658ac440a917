//! The process's main thread, and shutdown (CONFORMANCE M-1, M-5, M-6, M-7, M-9, T-28,
//! T-29, T-12).
//!
//! A test binary without the harness (`harness = false` in Cargo.toml): `main` runs on
//! the process's main thread, and nothing else runs in the process unless a check starts
//! it, so counts are compared exactly here. The checks run in order, each printing one
//! `ok` line; the first that fails panics, which fails the binary. The order matters:
//! shutdown from other threads first (it must not mark the main thread done), then the
//! main thread's own blocking shutdown, then its async shutdown once the main thread is
//! already done. A watchdog ends the process if a check hangs.

// conformance: T-28
// T-28's "even when the main thread ended by raising SystemExit" has no Rust analogue:
// `main` ends by returning or panicking, and shutdown is the call at its end.

mod common;
use common::{assert_quick, assert_waited, ct_runtime, join_thread, mt_runtime};
use common::{FOREVER, LATE, SHORT, WATCHDOG};

use std::pin::pin;
use std::sync::mpsc::{self, RecvTimeoutError};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use futures::poll;
use threading::{blocking, JoinError, StartError, Thread};

/// One passed check.
fn ok(ids: &str, what: &str) {
    println!("ok {ids}: {what}");
}

/// `enumerate()` lists exactly `expected` (in ident order), and `active_count()` counts
/// them, in both forms.
#[track_caller]
fn assert_listed_exactly(expected: &[&Thread]) {
    let mut want: Vec<Thread> = expected.iter().map(|&t| t.clone()).collect();
    want.sort_by_key(|t| t.ident());
    assert_eq!(threading::enumerate(), want);
    assert_eq!(threading::active_count(), want.len());
    let blisted: Vec<Thread> = blocking::enumerate()
        .into_iter()
        .map(blocking::Thread::into_async)
        .collect();
    assert_eq!(blisted, want);
    assert_eq!(blocking::active_count(), want.len());
}

/// Ends the process if the checks take longer than `WATCHDOG`. A thread this crate does
/// not know (it never calls the crate), so it is never listed.
fn watchdog() -> mpsc::Sender<()> {
    let (tx, rx) = mpsc::channel::<()>();
    std::thread::spawn(move || {
        if let Err(RecvTimeoutError::Timeout) = rx.recv_timeout(WATCHDOG) {
            eprintln!("main_thread: a check hung for {WATCHDOG:?}");
            std::process::exit(1);
        }
    });
    tx
}

/// Checks, in a destructor of one of the main thread's thread-locals, that the thread is
/// still the main thread. These run as the process exits, after `main` returned: the
/// nearest Rust has to Python's finalisers.
struct AtExit(&'static str);

impl Drop for AtExit {
    fn drop(&mut self) {
        let (current, ident) = (threading::current_thread(), threading::get_ident());
        if current != threading::main_thread() || Some(&ident) != MAIN_IDENT.get() {
            eprintln!(
                "FAILED M-6: in a thread-local destructor at exit ({}), current_thread() is \
                 {current:?} and get_ident() is {ident}, not the main thread's {}",
                self.0,
                MAIN_IDENT.get().copied().unwrap_or(0)
            );
            std::process::abort();
        }
        println!(
            "ok M-6: at exit, in a thread-local destructor ({}), current_thread() is main_thread()",
            self.0
        );
    }
}

/// TL-11: a `Local` of the main thread, set in `main`, read again by a thread-local
/// destructor at exit. That destructor is registered after the `Local`'s first use, so it
/// runs before the destructor that drops the main thread's `Local` values (thread-local
/// destructors run in reverse order of registration).
static MAIN_LOCAL: threading::blocking::Local<std::cell::Cell<u32>> =
    threading::blocking::Local::new(|| std::cell::Cell::new(0));

struct ReadLocalAtExit;

impl Drop for ReadLocalAtExit {
    fn drop(&mut self) {
        let seen = MAIN_LOCAL.with(|v| v.get());
        if seen != 7 {
            eprintln!("FAILED TL-11: at exit the main thread's Local reads {seen}, not 7");
            std::process::abort();
        }
        println!("ok TL-11: at exit, in a thread-local destructor, the main thread's Local still reads 7");
    }
}

thread_local! {
    static READ_LOCAL_AT_EXIT: std::cell::RefCell<Option<ReadLocalAtExit>> = const { std::cell::RefCell::new(None) };
    static AT_EXIT_BEFORE: std::cell::RefCell<Option<AtExit>> = const { std::cell::RefCell::new(None) };
    static AT_EXIT_AFTER: std::cell::RefCell<Option<AtExit>> = const { std::cell::RefCell::new(None) };
}

/// A value whose `Drop` takes a while and then counts itself.
struct SlowDrop(Arc<std::sync::atomic::AtomicUsize>);

impl Drop for SlowDrop {
    fn drop(&mut self) {
        std::thread::sleep(std::time::Duration::from_millis(20));
        self.0.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
    }
}

/// The main thread's ident, for the checks at exit.
static MAIN_IDENT: std::sync::OnceLock<u64> = std::sync::OnceLock::new();

fn main() {
    // Registered before the crate's own thread-local state of this thread, and after.
    AT_EXIT_BEFORE.with(|p| *p.borrow_mut() = Some(AtExit("registered before the crate's")));
    let _watchdog = watchdog();
    let main = threading::main_thread();

    // conformance: M-1
    assert_eq!(threading::current_thread(), main);
    assert_eq!(blocking::current_thread(), blocking::main_thread());
    assert_eq!(blocking::current_thread().as_async(), &main);
    ok(
        "M-1",
        "current_thread() is main_thread() on the main thread, in both forms",
    );

    // conformance: M-5
    assert_eq!(main.name(), "MainThread");
    assert!(!main.daemon());
    assert!(main.is_alive());
    let ident = main.ident().expect("the main thread has an ident");
    MAIN_IDENT.set(ident).unwrap();
    AT_EXIT_AFTER.with(|p| *p.borrow_mut() = Some(AtExit("registered after the crate's")));
    assert_ne!(ident, 0);
    assert_eq!(threading::get_ident(), ident);
    assert_eq!(threading::current_thread().ident(), Some(ident));
    if cfg!(target_os = "linux") {
        assert_eq!(main.native_id(), Some(u64::from(std::process::id())));
        assert_eq!(main.native_id(), Some(threading::get_native_id()));
    }
    assert!(matches!(main.start(), Err(StartError::AlreadyStarted)));
    let dbg = format!("{main:?}");
    assert_eq!(dbg, format!("<_MainThread(MainThread, started {ident})>"));
    ok(
        "M-5",
        "main_thread(): MainThread, not a daemon, ident == get_ident(), native id == the process id",
    );

    // conformance: M-7, M-9
    assert_listed_exactly(&[&main]);
    ok(
        "M-7, M-9",
        "a quiet process: enumerate() == [main_thread()], active_count() == 1",
    );

    // conformance: M-1, T-12
    let ct = ct_runtime();
    let mt = mt_runtime();
    for (flavor, rt) in [("current-thread", &ct), ("multi-thread", &mt)] {
        rt.block_on(async {
            let main = threading::main_thread();
            assert_eq!(threading::current_thread(), main, "{flavor}");
            assert_eq!(threading::get_ident(), ident, "{flavor}");
            let start = Instant::now();
            assert_eq!(main.join().await, Err(JoinError::CurrentThread));
            assert_eq!(
                main.join_timeout(FOREVER).await,
                Err(JoinError::CurrentThread)
            );
            assert_quick(start, LATE);
        });
    }
    // A plain tokio task of a current-thread runtime runs on the main thread too.
    let seen = ct.block_on(async {
        tokio::spawn(async { threading::current_thread() })
            .await
            .unwrap()
    });
    assert_eq!(seen, main);
    assert_listed_exactly(&[&main]);
    ok(
        "M-1, T-12",
        "inside Runtime::block_on on main (both flavors): current_thread() is main, and its async join of itself is CurrentThread",
    );

    // conformance: M-7, M-9, M-3, M-4, M-8, T-8
    let go = Arc::new(blocking::Event::new());
    let g = go.clone();
    let os = blocking::Thread::new(move || g.wait());
    assert!(!os.daemon(), "a thread made by main is not a daemon");
    let g = go.clone();
    let os_daemon = blocking::Thread::builder()
        .daemon(true)
        .target(move || g.wait());
    let (task, pool) = {
        let _in_rt = mt.enter();
        let g = go.clone();
        let task = Thread::new(move || async move { g.as_async().wait().await });
        let g = go.clone();
        let pool = Thread::new_blocking(move || g.wait());
        (task, pool)
    };
    os.start().unwrap();
    os_daemon.start().unwrap();
    task.start().unwrap();
    pool.start().unwrap();
    assert_listed_exactly(&[&main, os.as_async(), os_daemon.as_async(), &task, &pool]);
    // A foreign thread's dummy is listed and counted while the thread runs.
    let (tx, rx) = mpsc::channel();
    let (made, release) = (
        Arc::new(std::sync::Barrier::new(2)),
        Arc::new(std::sync::Barrier::new(2)),
    );
    let (m, r) = (made.clone(), release.clone());
    let foreign = std::thread::spawn(move || {
        tx.send(threading::current_thread()).unwrap();
        m.wait();
        r.wait();
    });
    made.wait();
    let dummy = rx.recv().unwrap();
    assert_listed_exactly(&[
        &main,
        os.as_async(),
        os_daemon.as_async(),
        &task,
        &pool,
        &dummy,
    ]);
    release.wait();
    join_thread(foreign);
    assert_listed_exactly(&[&main, os.as_async(), os_daemon.as_async(), &task, &pool]);
    go.set();
    os.join().unwrap();
    os_daemon.join().unwrap();
    task.blocking().join().unwrap();
    pool.blocking().join().unwrap();
    assert_listed_exactly(&[&main]);
    ok(
        "M-7, M-9, M-3, M-4, M-8",
        "exact lists and counts with threads, a task, a pool thread and a dummy alive; all gone once joined",
    );

    // conformance: T-28
    // Async shutdown from a thread that is not main waits for the non-daemon threads, and
    // does not mark the main thread done.
    let go = Arc::new(blocking::Event::new());
    let g = go.clone();
    let worker = blocking::Thread::new(move || g.wait());
    worker.start().unwrap();
    let w = worker.clone();
    join_thread(std::thread::spawn(move || {
        ct_runtime().block_on(async move {
            let mut shutdown = pin!(threading::shutdown());
            assert!(
                poll!(shutdown.as_mut()).is_pending(),
                "shutdown did not wait for a non-daemon thread"
            );
            assert!(w.is_alive());
            go.set();
            shutdown.await;
            assert!(!w.is_alive());
        })
    }));
    assert!(
        main.is_alive(),
        "a shutdown off the main thread marked main done"
    );
    // Blocking shutdown from a non-daemon thread of this crate: it does not wait for
    // itself.
    let go = Arc::new(blocking::Event::new());
    let g = go.clone();
    let worker = blocking::Thread::new(move || g.wait());
    worker.start().unwrap();
    let w = worker.clone();
    let closer = blocking::Thread::new(move || {
        blocking::shutdown();
        w.is_alive()
    });
    assert!(!closer.daemon());
    closer.start().unwrap();
    go.set();
    assert_eq!(closer.join(), Ok(Some(false)));
    // Async shutdown from a non-daemon task-thread: the same.
    mt.block_on(async {
        let t = Thread::new(|| async {
            threading::shutdown().await;
            "done"
        });
        assert!(!t.daemon());
        t.start().unwrap();
        assert_eq!(t.join_timeout(LATE).await, Ok(Some("done")));
    });
    assert!(main.is_alive());
    assert_listed_exactly(&[&main]);
    ok(
        "T-28",
        "shutdown off the main thread (async from a plain thread, blocking from a Thread, async from a task-thread) waits for the others, not itself, and leaves main alive",
    );

    // conformance: T-12
    let start = Instant::now();
    assert_eq!(main.blocking().join(), Err(JoinError::CurrentThread));
    assert_eq!(
        main.blocking().join_timeout(FOREVER),
        Err(JoinError::CurrentThread)
    );
    assert_quick(start, LATE);
    ok(
        "T-12",
        "the main thread joining itself is CurrentThread, at once",
    );

    // conformance: T-28, T-29, M-6, M-7, M-1
    // The joiner joins main: with a timeout it times out, and its join without one returns
    // once main calls shutdown; it then lets A, P, T (and through them B) finish, so they
    // all can only finish after shutdown began. A starts B; P joins A and then lets B go;
    // T (a task-thread) joins B. D and DT are daemons blocked forever.
    let log: Arc<Mutex<Vec<&'static str>>> = Arc::default();
    let go = Arc::new(blocking::Event::new());
    let timed_out = Arc::new(blocking::Event::new());
    let forever = Arc::new(blocking::Event::new());
    let b_go = Arc::new(blocking::Event::new());
    let slot: Arc<Mutex<Option<blocking::Thread>>> = Arc::default();

    let (g, t_o, lg) = (go.clone(), timed_out.clone(), log.clone());
    let joiner = blocking::Thread::builder().name("joiner").target(move || {
        let main = blocking::main_thread();
        let start = Instant::now();
        let timed = main.join_timeout(SHORT);
        let waited = start.elapsed();
        t_o.set();
        let joined = main.join();
        lg.lock().unwrap().push("main joined");
        g.set();
        (timed, waited, joined)
    });
    let (g, bg, lg, sl) = (go.clone(), b_go.clone(), log.clone(), slot.clone());
    let a = blocking::Thread::builder().name("A").target(move || {
        g.wait();
        let lb = lg.clone();
        let b = blocking::Thread::builder().name("B").target(move || {
            bg.wait();
            lb.lock().unwrap().push("B done");
        });
        b.start().unwrap();
        *sl.lock().unwrap() = Some(b);
        lg.lock().unwrap().push("A done");
    });
    let f = forever.clone();
    let d = blocking::Thread::builder()
        .name("D")
        .daemon(true)
        .target(move || f.wait());
    let (p, t, dt) = {
        let _in_rt = mt.enter();
        let (g, a2, bg, lg) = (go.clone(), a.clone(), b_go.clone(), log.clone());
        let p = Thread::builder().name("P").blocking_target(move || {
            g.wait();
            a2.join().unwrap();
            bg.set();
            lg.lock().unwrap().push("P done");
        });
        let (g, a3, sl, lg) = (go.clone(), a.clone(), slot.clone(), log.clone());
        let t = Thread::builder().name("T").target(move || async move {
            g.as_async().wait().await;
            a3.as_async().join().await.unwrap();
            let b = sl.lock().unwrap().clone().expect("A started B");
            b.as_async().join().await.unwrap();
            lg.lock().unwrap().push("T done");
        });
        let f = forever.clone();
        let dt = Thread::builder()
            .name("DT")
            .daemon(true)
            .target(move || async move { f.as_async().wait().await });
        (p, t, dt)
    };
    assert!(!joiner.daemon());
    for t in [a.as_async(), &p, &t] {
        assert!(!t.daemon(), "{t:?}");
    }
    joiner.start().unwrap();
    a.start().unwrap();
    d.start().unwrap();
    p.start().unwrap();
    t.start().unwrap();
    dt.start().unwrap();
    timed_out.wait();
    assert!(log.lock().unwrap().is_empty());
    assert!(joiner.is_alive() && a.is_alive() && p.is_alive() && t.is_alive());

    blocking::shutdown();

    assert!(
        !joiner.is_alive(),
        "shutdown returned before {joiner:?} finished"
    );
    for t in [a.as_async(), &p, &t] {
        assert!(!t.is_alive(), "shutdown returned before {t:?} finished");
    }
    let b = slot.lock().unwrap().clone().expect("A started B");
    assert!(!b.is_alive(), "shutdown returned before B finished");
    assert!(!b.daemon(), "B inherits A's flag");
    assert!(d.is_alive() && dt.is_alive(), "a daemon was waited for");
    {
        let log = log.lock().unwrap();
        assert_eq!(log.first(), Some(&"main joined"), "{log:?}");
        let mut rest = log[1..].to_vec();
        rest.sort_unstable();
        assert_eq!(rest, ["A done", "B done", "P done", "T done"], "{log:?}");
    }
    let (timed, waited, joined) = joiner.join().unwrap().unwrap();
    assert_eq!(timed, Err(JoinError::TimedOut));
    assert_waited(waited, SHORT);
    assert_eq!(joined, Ok(None));
    a.join().unwrap();
    b.join().unwrap();
    p.blocking().join().unwrap();
    t.blocking().join().unwrap();
    ok(
        "T-28, T-29",
        "blocking::shutdown() on main waits for every non-daemon thread (one started by another, a task, a pool thread), not for daemons; a join of main times out before it and returns at it",
    );

    assert_eq!(threading::current_thread(), main);
    assert_eq!(blocking::current_thread(), blocking::main_thread());
    assert!(!main.is_alive(), "main is done once it called shutdown");
    assert!(format!("{main:?}").contains(", stopped "), "{main:?}");
    assert_listed_exactly(&[&main, d.as_async(), &dt]);
    forever.set();
    d.join().unwrap();
    dt.blocking().join().unwrap();
    assert_listed_exactly(&[&main]);
    // Joins of main now return at once, from any thread; main still cannot join itself.
    let start = Instant::now();
    let from_thread = blocking::Thread::new(|| blocking::main_thread().join());
    from_thread.start().unwrap();
    assert_eq!(from_thread.join(), Ok(Some(Ok(None))));
    let from_foreign = std::thread::spawn(|| blocking::main_thread().join_timeout(Duration::ZERO));
    assert_eq!(join_thread(from_foreign), Ok(None));
    assert_eq!(main.blocking().join(), Err(JoinError::CurrentThread));
    // Nothing left to wait for: shutdown returns at once.
    blocking::shutdown();
    assert_quick(start, LATE);
    assert_listed_exactly(&[&main]);
    ok(
        "M-6, M-7, M-1",
        "after shutdown: current_thread() is still main, main is listed (not alive), and once the daemons end enumerate() == [main_thread()]",
    );

    // conformance: T-28
    // The async shutdown on main, after the blocking one: it still waits for the
    // non-daemon threads started since, a task-thread and an OS thread.
    let go = Arc::new(threading::Event::new());
    mt.block_on(async {
        let g = go.clone();
        let task = Thread::new(move || async move { g.wait().await });
        let g = go.clone();
        let os = blocking::Thread::new(move || g.blocking().wait());
        assert!(!task.daemon() && !os.daemon());
        task.start().unwrap();
        os.start().unwrap();
        let mut shutdown = pin!(threading::shutdown());
        assert!(poll!(shutdown.as_mut()).is_pending());
        assert!(task.is_alive() && os.is_alive());
        go.set();
        shutdown.await;
        assert!(!task.is_alive() && !os.is_alive());
    });
    assert_listed_exactly(&[&main]);
    ok(
        "T-28",
        "threading::shutdown().await on main waits for non-daemon threads started after an earlier shutdown",
    );

    // conformance: TL-12
    // Shutdown waits until the `Local` values of non-daemon threads are dropped: each
    // thread's value has a slow `Drop`, and it has run once `shutdown()` returns.
    static TASK_LOCAL: threading::Local<Option<SlowDrop>> = threading::Local::new(|| None);
    let dropped = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    {
        let d = dropped.clone();
        let os = blocking::Thread::builder()
            .daemon(false)
            .target(move || TASK_LOCAL.blocking().set(Some(SlowDrop(d))));
        os.start().unwrap();
        let d = dropped.clone();
        let _rt_guard = mt.enter();
        let task = Thread::builder()
            .daemon(false)
            .target(move || async move { TASK_LOCAL.set(Some(SlowDrop(d))) });
        task.start().unwrap();
        let d = dropped.clone();
        let pool = Thread::builder()
            .daemon(false)
            .blocking_target(move || TASK_LOCAL.set(Some(SlowDrop(d))));
        pool.start().unwrap();
    }
    blocking::shutdown();
    assert_eq!(dropped.load(std::sync::atomic::Ordering::SeqCst), 3);
    ok(
        "TL-12",
        "shutdown() returns after the Local values of non-daemon threads (OS, task, pool) were dropped",
    );

    // conformance: TL-11
    MAIN_LOCAL.with(|v| v.set(7));
    READ_LOCAL_AT_EXIT.with(|p| *p.borrow_mut() = Some(ReadLocalAtExit));

    println!("main_thread: all checks passed");
}
