//! `Thread`, every way it runs: an OS thread (`threading::blocking::Thread`), a tokio task
//! (`threading::Thread::new`) and a `spawn_blocking` closure (`threading::Thread::new_blocking`),
//! joined from plain threads and tasks alike (CONFORMANCE section 10, and the join parts of
//! TO-1, TO-5 and TO-6).
//!
//! Most tests are written once in [`forms!`] and run three ways: `name::os`, `name::task`
//! and `name::pool`. Cross-world joins, automatic names and runtime corner cases are
//! written out below. Timing checks are exact for "never early" and generous for "not too
//! late"; nothing sleeps to prove a thread is blocked: a thread that must stay alive waits
//! on an `Event` that the test sets.
//!
//! T-28 and T-29 need the process's main thread and live in a binary of their own. Panicking
//! targets print the default excepthook's report to stderr: that is expected.

// conformance: T-20
// T-20 (N/A): a Rust target takes no `args`/`kwargs`; a closure captures what it needs, as
// every test here does.

// conformance: T-21
// T-21 (N/A): a Rust target is a closure or function, never "falsy" and never `None`: a
// thread that does nothing is `Thread::new(|| ())`.

// conformance: T-22
// T-22 (N/A): there is no `run()` to override: the target is the whole body of the thread.

mod common;
use common::{
    assert_quick, assert_timed_out_in_time, join_task, join_thread, mt_runtime, run_in_task,
    run_on_thread, wait_until, wait_until_async, FOREVER, LATE, SHORT,
};

use std::collections::HashSet;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering::SeqCst};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use threading::{Event, JoinError, StartError, Thread, TIMEOUT_MAX};

/// Which kind of thread a form makes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    /// `threading::blocking::Thread`: an OS thread; the test body runs on a plain thread.
    Os,
    /// `threading::Thread::new`: a tokio task; the test body runs in a task.
    Task,
    /// `threading::Thread::new_blocking`: a `spawn_blocking` closure; the body runs in a task.
    Pool,
}

/// What a thread that joins its own handle three ways returns (T-12).
type SelfJoins = [Result<(), JoinError>; 3];

/// One test body, run for each kind of thread: `name::os`, `name::task`, `name::pool`.
///
/// In the body, `$E` is the event type of the body's world and `$H<T>` the handle type of
/// the threads made. `KIND` says which form runs. Thread targets are written as blocks:
/// - `thread!({ .. })`: a thread with an automatic name running the block;
/// - `target!(builder!().name(..), { .. })`: the same through the builder;
/// - `hold!(e)`: inside a target, wait until the event `e` (a `$E`) is set;
/// - `tjoin!(h)`, `tjoin_timeout!(h, d)`: inside a target, join the handle `h`;
/// - `current!()`: `current_thread()` as a `$H<()>`.
///
/// In the body itself:
/// - `wait!(x)`: `x` in the blocking form, `x.await` in the async forms;
/// - `until!(cond)`: poll `cond` (at most `LATE`) without blocking a runtime worker;
/// - `spawn!({ .. })`, `join!(w)`: a worker thread or task of the body's world, and its end.
macro_rules! forms {
    ($( $(#[$m:meta])* fn $name:ident<$E:ident, $H:ident>() $body:block )*) => {$(
        mod $name {
            use super::*;

            #[test]
            $(#[$m])*
            #[allow(unused_macros, dead_code)]
            fn os() {
                const KIND: Kind = Kind::Os;
                type $E = threading::blocking::Event;
                type $H<T> = threading::blocking::Thread<T>;
                macro_rules! thread {
                    ($b:block) => { threading::blocking::Thread::new(move || $b) };
                }
                macro_rules! builder { () => { threading::blocking::Thread::builder() }; }
                macro_rules! target { ($bl:expr, $b:block) => { $bl.target(move || $b) }; }
                macro_rules! hold { ($e:expr) => { $e.wait() }; }
                macro_rules! tjoin { ($t:expr) => { $t.join() }; }
                macro_rules! tjoin_timeout { ($t:expr, $d:expr) => { $t.join_timeout($d) }; }
                macro_rules! current { () => { threading::blocking::current_thread() }; }
                macro_rules! wait { ($e:expr) => { $e }; }
                macro_rules! until { ($c:expr) => { wait_until(|| $c) }; }
                macro_rules! spawn { ($b:block) => { std::thread::spawn(move || $b) }; }
                macro_rules! join { ($h:expr) => { join_thread($h) }; }
                run_on_thread(move || $body)
            }

            #[test]
            $(#[$m])*
            #[allow(unused_macros, dead_code)]
            fn task() {
                const KIND: Kind = Kind::Task;
                type $E = threading::Event;
                type $H<T> = threading::Thread<T>;
                macro_rules! thread {
                    ($b:block) => { threading::Thread::new(move || async move $b) };
                }
                macro_rules! builder { () => { threading::Thread::builder() }; }
                macro_rules! target {
                    ($bl:expr, $b:block) => { $bl.target(move || async move $b) };
                }
                macro_rules! hold { ($e:expr) => { $e.wait().await }; }
                macro_rules! tjoin { ($t:expr) => { $t.join().await }; }
                macro_rules! tjoin_timeout {
                    ($t:expr, $d:expr) => { $t.join_timeout($d).await };
                }
                macro_rules! current { () => { threading::current_thread() }; }
                macro_rules! wait { ($e:expr) => { $e.await }; }
                macro_rules! until { ($c:expr) => { wait_until_async(|| $c).await }; }
                macro_rules! spawn { ($b:block) => { tokio::spawn(async move $b) }; }
                macro_rules! join { ($h:expr) => { join_task($h).await }; }
                run_in_task(async move $body)
            }

            #[test]
            $(#[$m])*
            #[allow(unused_macros, dead_code)]
            fn pool() {
                const KIND: Kind = Kind::Pool;
                type $E = threading::Event;
                type $H<T> = threading::Thread<T>;
                macro_rules! thread {
                    ($b:block) => { threading::Thread::new_blocking(move || $b) };
                }
                macro_rules! builder { () => { threading::Thread::builder() }; }
                macro_rules! target {
                    ($bl:expr, $b:block) => { $bl.blocking_target(move || $b) };
                }
                macro_rules! hold { ($e:expr) => { $e.blocking().wait() }; }
                macro_rules! tjoin { ($t:expr) => { $t.blocking().join() }; }
                macro_rules! tjoin_timeout {
                    ($t:expr, $d:expr) => { $t.blocking().join_timeout($d) };
                }
                macro_rules! current { () => { threading::current_thread() }; }
                macro_rules! wait { ($e:expr) => { $e.await }; }
                macro_rules! until { ($c:expr) => { wait_until_async(|| $c).await }; }
                macro_rules! spawn { ($b:block) => { tokio::spawn(async move $b) }; }
                macro_rules! join { ($h:expr) => { join_task($h).await }; }
                run_in_task(async move $body)
            }
        }
    )*};
}

/// The idents of the threads `enumerate()` lists now.
fn listed() -> HashSet<u64> {
    threading::enumerate()
        .iter()
        .filter_map(Thread::ident)
        .collect()
}

/// Split an automatic name `Thread-N` or `Thread-N (target)` into N and the target part.
#[track_caller]
fn auto_name(name: &str) -> (u64, Option<&str>) {
    let rest = name
        .strip_prefix("Thread-")
        .unwrap_or_else(|| panic!("not an automatic name: {name:?}"));
    let (n, target) = match rest.split_once(' ') {
        Some((n, t)) => {
            let t = t
                .strip_prefix('(')
                .and_then(|t| t.strip_suffix(')'))
                .unwrap_or_else(|| panic!("bad target part in {name:?}"));
            (n, Some(t))
        }
        None => (rest, None),
    };
    let n = n
        .parse()
        .unwrap_or_else(|_| panic!("bad number in {name:?}"));
    assert!(n > 0, "automatic names count from 1: {name:?}");
    (n, target)
}

forms! {
    // conformance: T-10, T-11
    // join before start is an error (at once, with or without a timeout); a second start
    // is an error while it runs and after it ended, through any handle of it.
    fn start_once_and_join_only_after_start<Ev, H>() {
        let go = Arc::new(Ev::new());
        let g = go.clone();
        let t = thread!({ hold!(g); 1_u8 });
        let start = Instant::now();
        assert_eq!(wait!(t.join()), Err(JoinError::NotStarted));
        assert_eq!(wait!(t.join_timeout(FOREVER)), Err(JoinError::NotStarted));
        assert_eq!(wait!(t.join_timeout(Duration::ZERO)), Err(JoinError::NotStarted));
        assert_quick(start, LATE);
        assert!(!JoinError::NotStarted.to_string().is_empty());

        t.start().unwrap();
        assert!(matches!(t.start(), Err(StartError::AlreadyStarted)));
        assert!(matches!(t.clone().start(), Err(StartError::AlreadyStarted)));
        assert!(t.is_alive(), "a refused second start() left the thread alone");
        go.set();
        assert_eq!(wait!(t.join_timeout(LATE)), Ok(Some(1)));
        assert!(matches!(t.start(), Err(StartError::AlreadyStarted)));
        assert!(!t.is_alive());
        assert_eq!(wait!(t.join()), Ok(None));
        assert!(!StartError::AlreadyStarted.to_string().is_empty());
    }

    // conformance: T-12
    // A thread joining its own handle (a clone moved in), with and without a timeout, and
    // through `current_thread()`, gets `CurrentThread` at once; another joiner waiting on
    // it meanwhile is not blocked forever and gets the thread's value.
    fn joining_yourself_is_an_error_not_a_deadlock<Ev, H>() {
        let slot: Arc<OnceLock<H<SelfJoins>>> = Arc::new(OnceLock::new());
        let go = Arc::new(Ev::new());
        let (s, g) = (slot.clone(), go.clone());
        let t = thread!({
            hold!(g);
            let me = s.get().expect("the handle is set before start");
            [
                tjoin!(me).map(|_| ()),
                tjoin_timeout!(me, FOREVER).map(|_| ()),
                tjoin!(current!()).map(|_| ()),
            ]
        });
        assert!(slot.set(t.clone()).is_ok());
        t.start().unwrap();
        let ready = Arc::new(AtomicBool::new(false));
        let (t2, r) = (t.clone(), ready.clone());
        let other = spawn!({
            r.store(true, SeqCst);
            wait!(t2.join_timeout(FOREVER))
        });
        until!(ready.load(SeqCst));
        go.set();
        let own = Err(JoinError::CurrentThread);
        assert_eq!(join!(other), Ok(Some([own.clone(), own.clone(), own])));
        assert!(!t.is_alive());
        assert!(!JoinError::CurrentThread.to_string().is_empty());
    }

    // conformance: T-13, T-14, T-15, M-10
    // `ident` and `native_id` are None before start. Once start() returns: a nonzero ident
    // (the one `get_ident()` gives inside), the thread is alive and listed. `native_id`:
    // an OS thread has it when start() returns; a spawn_blocking thread once its pool
    // thread picks it up; a task-thread never, as documented (it has no OS thread of its
    // own: `get_native_id()` inside a task is the worker's). Both are kept after the end,
    // and differ between threads alive at once.
    fn ident_and_native_id<Ev, H>() {
        let go = Arc::new(Ev::new());
        let (g1, g2) = (go.clone(), go.clone());
        let a = thread!({
            hold!(g1);
            (threading::get_ident(), current!().ident(), threading::get_native_id())
        });
        let b = thread!({ hold!(g2); threading::get_ident() });
        assert_eq!((a.ident(), a.native_id()), (None, None));
        a.start().unwrap();
        let id = a.ident().expect("an ident once start() returned");
        assert_ne!(id, 0);
        assert!(a.is_alive());
        assert!(listed().contains(&id), "a started thread is listed by enumerate()");
        b.start().unwrap();
        assert_ne!(b.ident(), Some(id));
        match KIND {
            Kind::Os => {
                let n = a.native_id().expect("an OS thread has its native id at start()");
                assert_ne!(Some(n), b.native_id());
                assert_ne!(n, threading::get_native_id());
                assert_ne!(Some(n), threading::main_thread().native_id());
            }
            Kind::Pool => {
                until!(a.native_id().is_some() && b.native_id().is_some());
                assert_ne!(a.native_id(), b.native_id(), "two pool threads alive at once");
            }
            Kind::Task => assert_eq!((a.native_id(), b.native_id()), (None, None)),
        }
        go.set();
        let (inside, inside_current, inside_native) =
            wait!(a.join_timeout(LATE)).unwrap().unwrap();
        assert_eq!((inside, inside_current), (id, Some(id)));
        assert_eq!(wait!(b.join_timeout(LATE)), Ok(Some(b.ident().unwrap())));
        assert_eq!(a.ident(), Some(id), "the ident is kept after the end");
        match KIND {
            Kind::Os | Kind::Pool => assert_eq!(a.native_id(), Some(inside_native)),
            Kind::Task => assert_eq!(a.native_id(), None),
        }
    }

    // conformance: T-16, M-8
    // is_alive: false before start, true from start() until the target ends, false once it
    // ended (without a join) and once a join returned; the thread then left enumerate().
    fn is_alive_follows_the_life_of_the_thread<Ev, H>() {
        for joined in [false, true] {
            let go = Arc::new(Ev::new());
            let g = go.clone();
            let t = thread!({ hold!(g) });
            assert!(!t.is_alive());
            t.start().unwrap();
            assert!(t.is_alive());
            let id = t.ident().unwrap();
            assert!(listed().contains(&id));
            go.set();
            if joined {
                assert_eq!(wait!(t.join_timeout(LATE)), Ok(Some(())));
                assert!(!t.is_alive(), "alive after join() returned");
                assert!(!listed().contains(&id), "listed after join() returned");
            } else {
                until!(!t.is_alive());
                assert!(!listed().contains(&id), "listed after it ended");
            }
        }
    }

    // conformance: T-17, T-19, TO-5, TO-6
    // A timed join of a live thread returns TimedOut (no value) no earlier than its
    // timeout, and the thread stays alive; a zero timeout (Python's join(t <= 0)) just
    // checks. A later join waits for the end and gets the value.
    fn timed_join_never_early_and_thread_stays_alive<Ev, H>() {
        let go = Arc::new(Ev::new());
        let g = go.clone();
        let t = thread!({ hold!(g); 7_u32 });
        t.start().unwrap();
        let start = Instant::now();
        assert_eq!(wait!(t.join_timeout(SHORT)), Err(JoinError::TimedOut));
        assert_timed_out_in_time(start, SHORT);
        assert!(t.is_alive());
        let start = Instant::now();
        assert_eq!(wait!(t.join_timeout(Duration::ZERO)), Err(JoinError::TimedOut));
        assert_quick(start, LATE);
        assert!(t.is_alive());
        assert!(!JoinError::TimedOut.to_string().is_empty());

        let t2 = t.clone();
        let later = spawn!({ wait!(t2.join()) });
        go.set();
        assert_eq!(join!(later), Ok(Some(7)));
        // Finished: a zero timeout now gives the outcome (the value is gone).
        assert_eq!(wait!(t.join_timeout(Duration::ZERO)), Ok(None));
    }

    // conformance: TO-1, T-18
    // join() with no timeout, and timeouts too large to be deadlines, wait as long as it
    // takes. Once the thread ended, joins (any timeout, TIMEOUT_MAX included) return at
    // once, as often as asked.
    fn untimed_and_huge_joins_wait_for_the_end<Ev, H>() {
        let go = Arc::new(Ev::new());
        let g = go.clone();
        let t = thread!({ hold!(g); 9_i64 });
        t.start().unwrap();
        let ready = Arc::new(AtomicUsize::new(0));
        let mut joiners = Vec::new();
        for timeout in [None, Some(Duration::MAX), Some(TIMEOUT_MAX + Duration::from_secs(1))] {
            let (t, r) = (t.clone(), ready.clone());
            joiners.push(spawn!({
                r.fetch_add(1, SeqCst);
                match timeout {
                    None => wait!(t.join()),
                    Some(d) => wait!(t.join_timeout(d)),
                }
            }));
        }
        until!(ready.load(SeqCst) == 3);
        assert!(joiners.iter().all(|j| !j.is_finished()), "a join returned before the end");
        go.set();
        let mut got = Vec::new();
        for j in joiners {
            got.push(join!(j));
        }
        assert_eq!(got.iter().filter(|r| **r == Ok(Some(9))).count(), 1, "{got:?}");
        assert_eq!(got.iter().filter(|r| **r == Ok(None)).count(), 2, "{got:?}");

        let start = Instant::now();
        for _ in 0..5 {
            assert_eq!(wait!(t.join()), Ok(None));
            assert_eq!(wait!(t.join_timeout(TIMEOUT_MAX)), Ok(None));
            assert_eq!(wait!(t.join_timeout(FOREVER)), Ok(None));
            assert_eq!(wait!(t.join_timeout(Duration::MAX)), Ok(None));
        }
        assert_quick(start, LATE);
    }

    // conformance: T-18
    // Several joiners of the body's world at once: exactly one gets the value, the others
    // `Ok(None)`; joining after that gives `Ok(None)` again.
    fn the_value_goes_to_one_joiner<Ev, H>() {
        let go = Arc::new(Ev::new());
        let g = go.clone();
        let t = thread!({ hold!(g); String::from("value") });
        t.start().unwrap();
        let ready = Arc::new(AtomicUsize::new(0));
        let joiners: Vec<_> = (0..6)
            .map(|i| {
                let (t, r) = (t.clone(), ready.clone());
                spawn!({
                    r.fetch_add(1, SeqCst);
                    if i % 2 == 0 { wait!(t.join()) } else { wait!(t.join_timeout(FOREVER)) }
                })
            })
            .collect();
        until!(ready.load(SeqCst) == 6);
        go.set();
        let mut got = Vec::new();
        for j in joiners {
            got.push(join!(j));
        }
        assert_eq!(got.iter().filter(|r| **r == Ok(Some("value".into()))).count(), 1, "{got:?}");
        assert_eq!(got.iter().filter(|r| **r == Ok(None)).count(), 5, "{got:?}");
        assert_eq!(wait!(t.join()), Ok(None));
    }

    // conformance: T-24, T-23
    // A panicking target: every joiner, waiting or late, with or without a timeout, gets
    // `Panicked` with the message and the thread's name; the thread is not alive, is no
    // longer listed, and the process (this test) goes on. The target's captures are
    // dropped (T-23, "by an exception"). T-24's excepthook half (the default hook prints
    // the report) is checked where the hook can be replaced, not here: it is process-wide.
    fn a_panic_reaches_every_joiner<Ev, H>() {
        let go = Arc::new(Ev::new());
        let token = Arc::new(());
        let (g, tk) = (go.clone(), token.clone());
        let t = target!(builder!().name("boomer"), {
            hold!(g);
            if Arc::strong_count(&tk) > 0 {
                panic!("boom {}", 42);
            }
            0_u8
        });
        t.start().unwrap();
        let id = t.ident().unwrap();
        let ready = Arc::new(AtomicUsize::new(0));
        let joiners: Vec<_> = (0..4)
            .map(|i| {
                let (t, r) = (t.clone(), ready.clone());
                spawn!({
                    r.fetch_add(1, SeqCst);
                    if i % 2 == 0 { wait!(t.join()) } else { wait!(t.join_timeout(FOREVER)) }
                })
            })
            .collect();
        until!(ready.load(SeqCst) == 4);
        go.set();
        let mut got = Vec::new();
        for j in joiners {
            got.push(join!(j));
        }
        got.push(wait!(t.join()));
        got.push(wait!(t.join_timeout(Duration::ZERO)));
        for r in got {
            match r {
                Err(JoinError::Panicked(p)) => {
                    assert_eq!(p.message(), Some("boom 42"));
                    assert_eq!(p.thread_name(), "boomer");
                    assert!(p.to_string().contains("boom 42"), "{p}");
                }
                other => panic!("expected Panicked, got {other:?}"),
            }
        }
        assert!(!t.is_alive());
        assert!(!listed().contains(&id));
        assert_eq!(Arc::strong_count(&token), 1, "the target's captures outlived it");
    }

    // conformance: T-23
    // What the target captured is kept while it runs and dropped once it ended: by the
    // time a join returns, an Arc it captured is back to one strong reference.
    fn the_target_is_dropped_when_it_ends<Ev, H>() {
        let go = Arc::new(Ev::new());
        let token = Arc::new(());
        let (g, tk) = (go.clone(), token.clone());
        let t = thread!({ hold!(g); Arc::strong_count(&tk) });
        assert_eq!(Arc::strong_count(&token), 2);
        t.start().unwrap();
        assert_eq!(Arc::strong_count(&token), 2, "the running target holds its captures");
        go.set();
        assert_eq!(wait!(t.join_timeout(LATE)), Ok(Some(2)));
        assert_eq!(Arc::strong_count(&token), 1, "the target's captures outlived it");
    }

    // conformance: T-25
    // Debug is Python's repr: initial, started <ident>, stopped <ident> (even unjoined),
    // with ` daemon` exactly for daemons.
    fn debug_is_the_python_repr<Ev, H>() {
        let go = Arc::new(Ev::new());
        let g = go.clone();
        let t = target!(builder!().name("r").daemon(false), { hold!(g) });
        assert_eq!(format!("{t:?}"), "<Thread(r, initial)>");
        t.start().unwrap();
        let id = t.ident().unwrap();
        assert_eq!(format!("{t:?}"), format!("<Thread(r, started {id})>"));
        go.set();
        until!(!t.is_alive());
        assert_eq!(format!("{t:?}"), format!("<Thread(r, stopped {id})>"));

        let go = Arc::new(Ev::new());
        let g = go.clone();
        let d = target!(builder!().name("d").daemon(true), { hold!(g) });
        assert_eq!(format!("{d:?}"), "<Thread(d, initial daemon)>");
        d.start().unwrap();
        let id = d.ident().unwrap();
        assert_eq!(format!("{d:?}"), format!("<Thread(d, started daemon {id})>"));
        go.set();
        assert_eq!(wait!(d.join_timeout(LATE)), Ok(Some(())));
        assert_eq!(format!("{d:?}"), format!("<Thread(d, stopped daemon {id})>"));
    }

    // conformance: T-8
    // The daemon flag: a thread made on a thread this crate did not start (the test's own
    // thread, or a runtime worker) is a daemon; a thread made inside a crate thread takes
    // that thread's flag, whatever kind either is (Timers too); an explicit flag wins. The
    // main-thread default (false) needs the process's main thread and is tested there.
    fn the_daemon_flag_is_inherited<Ev, H>() {
        assert!(thread!({}).daemon(), "made on a foreign thread: a daemon");
        assert!(!target!(builder!().daemon(false), {}).daemon(), "explicit flag");
        for parent_daemon in [false, true] {
            let parent = target!(builder!().daemon(parent_daemon), {
                let inherited = [
                    threading::blocking::Thread::new(|| ()).daemon(),
                    threading::Thread::new(|| async {}).daemon(),
                    threading::Thread::new_blocking(|| ()).daemon(),
                    threading::blocking::Timer::new(Duration::ZERO, || ()).daemon(),
                    threading::Timer::new(Duration::ZERO, || async {}).daemon(),
                ];
                let explicit = threading::blocking::Thread::builder()
                    .daemon(!parent_daemon)
                    .target(|| ())
                    .daemon();
                (inherited, explicit)
            });
            assert_eq!(parent.daemon(), parent_daemon);
            parent.start().unwrap();
            let (inherited, explicit) = wait!(parent.join_timeout(LATE)).unwrap().unwrap();
            assert_eq!(inherited, [parent_daemon; 5], "parent daemon={parent_daemon}");
            assert_eq!(explicit, !parent_daemon);
        }
    }

    // conformance: T-9
    // set_daemon works before start and is an error (flag unchanged) once started, also
    // after the end.
    fn set_daemon_after_start_is_an_error<Ev, H>() {
        let go = Arc::new(Ev::new());
        let g = go.clone();
        let t = thread!({ hold!(g) });
        t.set_daemon(false).unwrap();
        assert!(!t.daemon());
        t.set_daemon(true).unwrap();
        assert!(t.daemon());
        t.start().unwrap();
        let err = t.set_daemon(false).unwrap_err();
        assert!(!err.to_string().is_empty());
        assert!(t.daemon(), "a refused set_daemon changed the flag");
        go.set();
        assert_eq!(wait!(t.join_timeout(LATE)), Ok(Some(())));
        assert!(t.set_daemon(false).is_err());
        assert!(t.daemon());
    }

    // conformance: T-27, M-2, M-10
    // Inside the target, current_thread() is this very thread (equal to a clone of the
    // handle moved in), with its name and ident; outside, it is not.
    fn current_thread_inside_is_the_thread<Ev, H>() {
        let slot: Arc<OnceLock<H<(bool, String, u64)>>> = Arc::new(OnceLock::new());
        let s = slot.clone();
        let t = thread!({
            let me = s.get().expect("the handle is set before start");
            let cur = current!();
            (cur == *me, cur.name(), threading::get_ident())
        });
        assert!(slot.set(t.clone()).is_ok());
        assert!(current!() != t);
        t.start().unwrap();
        let (same, name, ident) = wait!(t.join_timeout(LATE)).unwrap().unwrap();
        assert!(same, "current_thread() inside is not the thread's handle");
        assert_eq!(name, t.name());
        assert_eq!(Some(ident), t.ident());
        assert!(current!() != t);
    }

    // conformance: T-1, T-2, T-3, T-6
    // A given name is exact; a non-string is converted (123 → "123"); an empty or missing
    // name is the automatic `Thread-N` (a closure target adds no name). The name can change
    // at any time, inside the thread too, and several threads may share one.
    fn names_given_converted_automatic_and_changed<Ev, H>() {
        assert_eq!(target!(builder!().name("x"), {}).name(), "x");
        assert_eq!(target!(builder!().name(123), {}).name(), "123");
        for t in [target!(builder!().name(""), {}), target!(builder!(), {}), thread!({})] {
            assert_eq!(auto_name(&t.name()).1, None, "{}", t.name());
        }

        let go = Arc::new(Ev::new());
        let g = go.clone();
        let t = thread!({
            hold!(g);
            let before = current!().name();
            current!().set_name("renamed inside");
            (before, current!().name())
        });
        t.set_name("before start");
        assert_eq!(t.name(), "before start");
        t.start().unwrap();
        t.set_name(5);
        assert_eq!(t.name(), "5");
        go.set();
        let (seen, after) = wait!(t.join_timeout(LATE)).unwrap().unwrap();
        assert_eq!(seen, "5", "a rename while running is seen inside");
        assert_eq!(after, "renamed inside");
        assert_eq!(t.name(), "renamed inside");
        t.set_name("after the end");
        assert_eq!(t.name(), "after the end");

        let u = thread!({});
        u.set_name("after the end");
        assert_eq!(u.name(), t.name());
        assert!(u != t, "a shared name does not make two threads one");
    }

    // conformance: T-30, M-8
    // 1,000 threads, started and ended in counted batches of 50, half joined and half
    // never joined: none is listed by enumerate() afterwards, their idents were all
    // distinct, and nothing is kept: every value and capture (an Arc) is freed, even those
    // of the threads nobody joined. Other tests run in this process too, so this checks
    // only this test's idents, not the global count.
    fn a_thousand_threads_leave_nothing_behind<Ev, H>() {
        let token = Arc::new(());
        let mut idents = HashSet::new();
        for batch in 0..20 {
            let threads: Vec<_> = (0..50)
                .map(|_| {
                    let tk = token.clone();
                    thread!({ tk })
                })
                .collect();
            for t in &threads {
                t.start().unwrap();
                assert!(idents.insert(t.ident().unwrap()), "an ident was reused");
            }
            if batch % 2 == 0 {
                for t in &threads {
                    assert!(matches!(wait!(t.join_timeout(LATE)), Ok(Some(_))));
                }
            } else {
                until!(threads.iter().all(|t| !t.is_alive()));
            }
        }
        assert_eq!(idents.len(), 1000);
        let now = listed();
        assert!(idents.iter().all(|i| !now.contains(i)), "an ended thread is still listed");
        until!(Arc::strong_count(&token) == 1);
    }
}

// ---------------------------------------------------------------------------------------
// Automatic names (T-4, T-5) and OS thread names (T-7).
// ---------------------------------------------------------------------------------------

fn work() -> u32 {
    1
}

async fn fetch() -> u32 {
    2
}

fn generic<T: Default>() -> T {
    T::default()
}

mod deep {
    pub fn nested() -> u32 {
        3
    }
}

// conformance: T-3, T-4
// A named function as target gives `Thread-N (name)`, in every form; a closure gives plain
// `Thread-N`; an explicit name ignores the target; an empty name is the automatic one.
#[test]
fn automatic_names_carry_a_named_target() {
    let rt = mt_runtime();
    let _in_rt = rt.enter();
    let named: Vec<(String, &str)> = vec![
        (threading::blocking::Thread::new(work).name(), "work"),
        (
            threading::blocking::Thread::new(deep::nested).name(),
            "nested",
        ),
        (
            threading::blocking::Thread::new(generic::<u8>).name(),
            "generic",
        ),
        (Thread::new(fetch).name(), "fetch"),
        (Thread::new_blocking(work).name(), "work"),
        (Thread::builder().blocking_target(work).name(), "work"),
        (Thread::builder().target(fetch).name(), "fetch"),
        (
            threading::blocking::Thread::builder()
                .name("")
                .target(work)
                .name(),
            "work",
        ),
        (Thread::builder().name("").target(fetch).name(), "fetch"),
    ];
    for (name, target) in &named {
        assert_eq!(auto_name(name).1, Some(*target), "{name}");
    }
    let plain = [
        threading::blocking::Thread::new(|| 1).name(),
        Thread::new(|| async { 1 }).name(),
        Thread::new_blocking(|| 1).name(),
    ];
    for name in &plain {
        assert_eq!(auto_name(name).1, None, "{name}");
    }
    assert_eq!(
        threading::blocking::Thread::builder()
            .name("x")
            .target(work)
            .name(),
        "x"
    );
    assert_eq!(Thread::builder().name("y").target(fetch).name(), "y");
    assert_eq!(
        Thread::builder().name("z").blocking_target(work).name(),
        "z"
    );
}

// conformance: T-4
// "A target with no name (such as a callable object) gets plain Thread-N": the Rust
// callables that carry no function name (a boxed closure, a function pointer) get no
// target part, as the docs of `Thread::new` say ("`Thread-N (target)` when `target` is a
// named function, else `Thread-N`").
#[test]
fn unnamed_callables_get_plain_names() {
    let boxed: Box<dyn FnOnce() -> u32 + Send> = Box::new(|| 1);
    let pointer: fn() -> u32 = work;
    let names = [
        threading::blocking::Thread::new(boxed).name(),
        threading::blocking::Thread::new(pointer).name(),
    ];
    let with_target: Vec<&String> = names.iter().filter(|n| auto_name(n).1.is_some()).collect();
    assert!(
        with_target.is_empty(),
        "named after no function: {with_target:?}"
    );
}

// conformance: T-5
// One process-wide counter serves `Thread-N` and `Dummy-N`, and only grows: names made one
// after the other, with a dummy between, have increasing numbers. (Other tests make names
// at the same time, so neither "starts at 1" nor "advances only for automatic names" can be
// checked here.)
#[test]
fn automatic_names_share_one_growing_counter() {
    let first = auto_name(&threading::blocking::Thread::new(work).name()).0;
    let dummy = std::thread::spawn(|| threading::current_thread().name())
        .join()
        .unwrap();
    let dummy: u64 = dummy
        .strip_prefix("Dummy-")
        .unwrap_or_else(|| panic!("not a dummy name: {dummy}"))
        .parse()
        .unwrap();
    let last = auto_name(&threading::blocking::Thread::new(|| ()).name()).0;
    assert!(first < dummy && dummy < last, "{first} < {dummy} < {last}");
}

/// The OS name of the calling thread, as std sees it.
fn os_name() -> Option<String> {
    std::thread::current().name().map(str::to_owned)
}

// conformance: T-7
// Blocking form: start() names the OS thread, cut at a NUL and (Linux) to 15 bytes at a
// character boundary; the handle keeps the full name. Renaming a running thread renames the
// handle only (documented: Rust cannot rename a running OS thread).
#[cfg(target_os = "linux")]
#[test]
fn os_threads_get_their_name_cut_to_the_platform_limit() {
    run_on_thread(|| {
        let cases = [
            ("short", "short"),
            ("exactly15bytes!", "exactly15bytes!"),
            ("sixteen-bytes-xx", "sixteen-bytes-x"),
            ("abcdefghijklmné", "abcdefghijklmn"),
            ("ab\0cd", "ab"),
        ];
        for (given, os) in cases {
            let t = threading::blocking::Thread::builder()
                .name(given)
                .target(os_name);
            t.start().unwrap();
            assert_eq!(t.name(), given);
            assert_eq!(
                t.join_timeout(LATE),
                Ok(Some(Some(os.to_owned()))),
                "{given:?}"
            );
        }
        let t = threading::blocking::Thread::new(os_name);
        let full = t.name();
        t.start().unwrap();
        let cut = &full[..full.len().min(15)];
        assert_eq!(t.join_timeout(LATE), Ok(Some(Some(cut.to_owned()))));

        let t = threading::blocking::Thread::builder()
            .name("first")
            .target(|| {
                threading::current_thread().set_name("second");
                (threading::current_thread().name(), os_name())
            });
        t.start().unwrap();
        assert_eq!(
            t.join_timeout(LATE),
            Ok(Some(("second".to_owned(), Some("first".to_owned()))))
        );
    });
}

// ---------------------------------------------------------------------------------------
// Many joiners from both worlds (T-18).
// ---------------------------------------------------------------------------------------

/// For 2 to 19 joiners, half plain threads and half tasks, with and without timeouts, all
/// joining one thread of `kind` at once: one gets the value, the others `Ok(None)`.
fn joiners_from_both_worlds(kind: Kind) {
    run_on_thread(move || {
        let rt = mt_runtime();
        for n in 2..=19_usize {
            let go = Arc::new(Event::new());
            let g = go.clone();
            let t: Thread<usize> = {
                let _in_rt = rt.enter();
                match kind {
                    Kind::Os => threading::blocking::Thread::new(move || {
                        g.blocking().wait();
                        n
                    })
                    .into_async(),
                    Kind::Task => Thread::new(move || async move {
                        g.wait().await;
                        n
                    }),
                    Kind::Pool => Thread::new_blocking(move || {
                        g.blocking().wait();
                        n
                    }),
                }
            };
            t.start().unwrap();
            let ready = Arc::new(AtomicUsize::new(0));
            let mut threads = Vec::new();
            let mut tasks = Vec::new();
            for i in 0..n {
                let (t, r) = (t.clone(), ready.clone());
                if i % 2 == 0 {
                    let b = t.into_blocking();
                    threads.push(std::thread::spawn(move || {
                        r.fetch_add(1, SeqCst);
                        if i % 4 == 0 {
                            b.join()
                        } else {
                            b.join_timeout(FOREVER)
                        }
                    }));
                } else {
                    tasks.push(rt.spawn(async move {
                        r.fetch_add(1, SeqCst);
                        if i % 4 == 1 {
                            t.join().await
                        } else {
                            t.join_timeout(FOREVER).await
                        }
                    }));
                }
            }
            wait_until(|| ready.load(SeqCst) == n);
            assert!(t.is_alive());
            go.set();
            let mut got: Vec<_> = threads.into_iter().map(join_thread).collect();
            got.extend(rt.block_on(async {
                let mut v = Vec::new();
                for h in tasks {
                    v.push(join_task(h).await);
                }
                v
            }));
            assert_eq!(got.len(), n);
            assert_eq!(
                got.iter().filter(|r| **r == Ok(Some(n))).count(),
                1,
                "{got:?}"
            );
            assert_eq!(
                got.iter().filter(|r| **r == Ok(None)).count(),
                n - 1,
                "{got:?}"
            );
            assert!(!t.is_alive());
        }
    });
}

// conformance: T-18
#[test]
fn many_joiners_from_threads_and_tasks_of_an_os_thread() {
    joiners_from_both_worlds(Kind::Os);
}

// conformance: T-18
#[test]
fn many_joiners_from_threads_and_tasks_of_a_task_thread() {
    joiners_from_both_worlds(Kind::Task);
}

// conformance: T-18
#[test]
fn many_joiners_from_threads_and_tasks_of_a_pool_thread() {
    joiners_from_both_worlds(Kind::Pool);
}

// ---------------------------------------------------------------------------------------
// Cross-world joins with timeouts.
// ---------------------------------------------------------------------------------------

// conformance: T-17, TO-6
// A plain thread joins a task-thread and a spawn_blocking thread through their blocking
// form: a timeout that runs out first (never early, the thread still alive), then a join
// that succeeds once the joiner itself lets the thread end.
#[test]
fn a_plain_thread_joins_a_task_thread_with_timeouts() {
    let rt = mt_runtime();
    for kind in [Kind::Task, Kind::Pool] {
        let go = Arc::new(Event::new());
        let g = go.clone();
        let t: Thread<Kind> = {
            let _in_rt = rt.enter();
            if kind == Kind::Task {
                Thread::new(move || async move {
                    g.wait().await;
                    kind
                })
            } else {
                Thread::new_blocking(move || {
                    g.blocking().wait();
                    kind
                })
            }
        };
        t.start().unwrap();
        let b = t.clone().into_blocking();
        run_on_thread(move || {
            let start = Instant::now();
            assert_eq!(b.join_timeout(SHORT), Err(JoinError::TimedOut));
            assert_timed_out_in_time(start, SHORT);
            assert!(b.is_alive());
            go.set();
            let start = Instant::now();
            assert_eq!(b.join_timeout(FOREVER), Ok(Some(kind)));
            assert_quick(start, LATE);
            assert!(!b.is_alive());
        });
        assert_eq!(t.blocking().join(), Ok(None));
    }
}

// conformance: T-17, TO-6
// A task awaits an OS thread: the timed join runs out first (never early), then succeeds.
#[test]
fn a_task_awaits_an_os_thread_with_timeouts() {
    run_in_task(async {
        let go = Arc::new(threading::blocking::Event::new());
        let g = go.clone();
        let t = threading::blocking::Thread::new(move || {
            g.wait();
            6_u8
        });
        t.start().unwrap();
        let a = t.as_async();
        let start = Instant::now();
        assert_eq!(a.join_timeout(SHORT).await, Err(JoinError::TimedOut));
        assert_timed_out_in_time(start, SHORT);
        assert!(a.is_alive());
        go.set();
        assert_eq!(a.join_timeout(FOREVER).await, Ok(Some(6)));
        assert!(!t.is_alive());
        assert_eq!(t.join(), Ok(None));
    });
}

// conformance: T-17, TO-6
// A task awaits a spawn_blocking thread: timeout first (never early), then the value.
#[test]
fn a_task_awaits_a_spawn_blocking_thread_with_timeouts() {
    run_in_task(async {
        let go = Arc::new(Event::new());
        let g = go.clone();
        let t = Thread::new_blocking(move || {
            g.blocking().wait();
            "pool"
        });
        t.start().unwrap();
        let start = Instant::now();
        assert_eq!(t.join_timeout(SHORT).await, Err(JoinError::TimedOut));
        assert_timed_out_in_time(start, SHORT);
        assert!(t.is_alive());
        go.set();
        assert_eq!(t.join_timeout(FOREVER).await, Ok(Some("pool")));
        assert!(!t.is_alive());
    });
}

// ---------------------------------------------------------------------------------------
// Runtimes: where a task-thread runs, and what happens when its runtime goes.
// ---------------------------------------------------------------------------------------

// A Thread made inside a runtime and started from a plain thread (no runtime current)
// runs on the runtime it was made on, task and spawn_blocking closure alike. A
// spawn_blocking thread keeps tokio's OS thread name (here the runtime's), while `name()`
// gives the Thread's.
#[test]
fn a_thread_made_in_a_runtime_runs_there_when_started_elsewhere() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .thread_name("owner-rt")
        .enable_all()
        .build()
        .unwrap();
    let (task, pool) = {
        let _in_rt = rt.enter();
        (
            Thread::builder().name("task").target(|| async {
                tokio::time::sleep(Duration::from_millis(1)).await;
                os_name()
            }),
            Thread::builder().name("pool").blocking_target(os_name),
        )
    };
    run_on_thread(move || {
        assert!(tokio::runtime::Handle::try_current().is_err());
        task.start().unwrap();
        pool.start().unwrap();
        let on_rt = Some("owner-rt".to_owned());
        assert_eq!(task.blocking().join_timeout(LATE), Ok(Some(on_rt.clone())));
        assert_eq!(pool.blocking().join_timeout(LATE), Ok(Some(on_rt)));
        assert_eq!((task.name(), pool.name()), ("task".into(), "pool".into()));
    });
}

// A task-thread whose runtime shuts down before it finishes: every joiner (plain threads,
// with and without a timeout, and a task on another runtime) gets `Cancelled`; the thread
// is not alive, not listed, and its target's captures are dropped (T-23).
#[test]
fn a_task_thread_whose_runtime_shuts_down_is_cancelled() {
    run_on_thread(|| {
        let rt = mt_runtime();
        let never = Arc::new(Event::new());
        let n = never.clone();
        let t = {
            let _in_rt = rt.enter();
            Thread::new(move || async move {
                n.wait().await;
                1_u8
            })
        };
        t.start().unwrap();
        let id = t.ident().unwrap();
        let ready = Arc::new(AtomicUsize::new(0));
        let joiners: Vec<_> = (0..2)
            .map(|i| {
                let (b, r) = (t.clone().into_blocking(), ready.clone());
                std::thread::spawn(move || {
                    r.fetch_add(1, SeqCst);
                    if i == 0 {
                        b.join()
                    } else {
                        b.join_timeout(FOREVER)
                    }
                })
            })
            .collect();
        let other = mt_runtime();
        let (t2, r) = (t.clone(), ready.clone());
        let task_joiner = other.spawn(async move {
            r.fetch_add(1, SeqCst);
            t2.join().await
        });
        wait_until(|| ready.load(SeqCst) == 3);
        assert!(t.is_alive());
        drop(rt);
        for j in joiners {
            assert_eq!(join_thread(j), Err(JoinError::Cancelled));
        }
        assert_eq!(
            other.block_on(join_task(task_joiner)),
            Err(JoinError::Cancelled)
        );
        assert_eq!(
            t.blocking().join_timeout(Duration::ZERO),
            Err(JoinError::Cancelled)
        );
        assert!(!t.is_alive());
        assert!(!listed().contains(&id));
        assert_eq!(Arc::strong_count(&never), 1);
        assert!(format!("{t:?}").contains("stopped"), "{t:?}");
        assert!(!JoinError::Cancelled.to_string().is_empty());
    });
}

// conformance: T-26
// Besides the OS's refusal (a stack no OS grants: see the races below), the async form has
// its own: a task-thread made and started with no runtime anywhere gets
// `StartError::NoRuntime`, and is left unregistered (not alive, not listed, not joinable),
// as T-26 asks of a thread the OS refused.
#[test]
fn a_refused_start_leaves_nothing_registered() {
    run_on_thread(|| {
        assert!(tokio::runtime::Handle::try_current().is_err());
        let token = Arc::new(());
        let (t1, t2) = (token.clone(), token.clone());
        let threads = [
            Thread::new(move || async move { drop(t1) }),
            Thread::new_blocking(move || drop(t2)),
        ];
        for t in &threads {
            let err = t.start().unwrap_err();
            assert!(matches!(err, StartError::NoRuntime), "{err:?}");
            assert!(!err.to_string().is_empty());
            assert!(!t.is_alive());
            assert!(!threading::enumerate().contains(t));
            if let Some(id) = t.ident() {
                assert!(!listed().contains(&id));
            }
            assert!(format!("{t:?}").contains("initial"), "{t:?}");
            assert_eq!(t.blocking().join(), Err(JoinError::NotStarted));
            assert!(t.start().is_err());
        }
        drop(threads);
        assert_eq!(Arc::strong_count(&token), 1, "a refused target was kept");
    });
}

// After a `NoRuntime` refusal nothing ran and the target is still there: `start()` may be
// tried again where there is a runtime (as CPython allows a retry after a failed start).
#[test]
fn a_start_refused_for_want_of_a_runtime_can_be_retried() {
    let t = std::thread::spawn(|| Thread::new(|| async { 5 }))
        .join()
        .unwrap();
    let moved = t.clone();
    let refused = std::thread::spawn(move || moved.start()).join().unwrap();
    assert!(matches!(refused, Err(StartError::NoRuntime)), "{refused:?}");
    assert_eq!(t.ident(), None);
    let rt = common::mt_runtime();
    rt.block_on(async {
        t.start().expect("a retry inside a runtime starts it");
        assert_eq!(t.join().await, Ok(Some(5)));
    });
    assert!(matches!(t.start(), Err(StartError::AlreadyStarted)));
}

// ---------------------------------------------------------------------------------------
// Joins racing a start that fails.
// ---------------------------------------------------------------------------------------

/// A stack size no OS grants: the start of an OS thread that asks for it fails with
/// `StartError::Spawn`.
const REFUSED_STACK: usize = usize::MAX / 2;

/// Rounds of a refused start raced by joiners, each with fresh racers.
const RACE_ROUNDS: usize = 40;

/// At most this many joins per racer and round: a racer stops soon after `start()` has
/// returned, or at this bound, whichever comes first.
const RACE_SPINS: usize = 200_000;

/// How one racer joins, each time round its loop.
#[derive(Clone, Copy, Debug)]
enum Racer {
    /// A plain thread: `join_timeout(LATE)`.
    ThreadTimed,
    /// A plain thread: an untimed `join()`; the racer's own end is bounded by `LATE`.
    ThreadUntimed,
    /// A task: `join_timeout(LATE).await`.
    TaskTimed,
    /// A task: an untimed `join().await`; the task's end is bounded by `LATE`.
    TaskUntimed,
    /// A plain thread: `blocking::shutdown()`, which waits for every non-daemon thread.
    Shutdown,
}

/// What a racer saw: every join gave `NotStarted`, how many joins it made before `start()`
/// returned, and how many after.
type Seen = (usize, usize);

/// One racer's loop: `join` until `done` is set (then once more), at most `RACE_SPINS` times,
/// each result `NotStarted`. A join that blocks on the refused thread runs into `LATE` (the
/// timed joins return `TimedOut`, the untimed ones never return): the test fails either way.
fn race_loop(
    ready: &AtomicUsize,
    done: &AtomicBool,
    mut join: impl FnMut() -> Result<(), JoinError>,
) -> Seen {
    let (mut before, mut after) = (0, 0);
    for i in 0..RACE_SPINS {
        let finished = done.load(SeqCst);
        let r = join();
        assert_eq!(
            r,
            Err(JoinError::NotStarted),
            "join {i} (start returned: {finished})"
        );
        if i == 0 {
            ready.fetch_add(1, SeqCst);
        }
        if finished {
            after += 1;
            break;
        }
        before += 1;
    }
    (before, after)
}

/// Race `start` (which must fail) against every kind of [`Racer`]: plain threads and tasks on
/// `rt` keep joining `t` from before the call until after it returned. Returns the error.
fn race_a_refused_start(
    rt: &tokio::runtime::Runtime,
    t: &Thread,
    racers: &[Racer],
    start: impl FnOnce() -> Result<(), StartError>,
) -> StartError {
    let ready = Arc::new(AtomicUsize::new(0));
    let done = Arc::new(AtomicBool::new(false));
    let mut threads = Vec::new();
    let mut tasks = Vec::new();
    for &racer in racers {
        let (t, ready, done) = (t.clone(), ready.clone(), done.clone());
        match racer {
            Racer::ThreadTimed | Racer::ThreadUntimed | Racer::Shutdown => {
                threads.push(std::thread::spawn(move || {
                    let b = t.blocking();
                    race_loop(&ready, &done, || match racer {
                        Racer::ThreadTimed => b.join_timeout(LATE).map(drop),
                        Racer::ThreadUntimed => b.join().map(drop),
                        // Shutdown has no error: it must just return, and the thread
                        // still reads as not started.
                        _ => {
                            threading::blocking::shutdown();
                            b.join_timeout(Duration::ZERO).map(drop)
                        }
                    })
                }));
            }
            Racer::TaskTimed | Racer::TaskUntimed => {
                tasks.push(rt.spawn(async move {
                    let (mut before, mut after) = (0, 0);
                    for i in 0..RACE_SPINS {
                        let finished = done.load(SeqCst);
                        let r = match racer {
                            Racer::TaskTimed => t.join_timeout(LATE).await,
                            _ => t.join().await,
                        };
                        assert_eq!(r, Err(JoinError::NotStarted), "join {i} ({finished})");
                        if i == 0 {
                            ready.fetch_add(1, SeqCst);
                        }
                        if finished {
                            after += 1;
                            break;
                        }
                        before += 1;
                    }
                    (before, after)
                }));
            }
        }
    }
    wait_until(|| ready.load(SeqCst) == racers.len());
    let err = start().expect_err("this start must be refused");
    done.store(true, SeqCst);
    let mut seen: Vec<Seen> = threads.into_iter().map(join_thread).collect();
    seen.extend(rt.block_on(async {
        let mut v = Vec::new();
        for h in tasks {
            v.push(join_task(h).await);
        }
        v
    }));
    assert_eq!(seen.len(), racers.len());
    // Every racer joined before start() and, unless it hit its bound first, after it.
    assert!(seen.iter().all(|&(before, _)| before >= 1), "{seen:?}");

    // After the refusal: never started, not listed, and a join returns at once.
    assert!(!t.is_alive());
    assert_eq!(t.ident(), None);
    assert!(!threading::enumerate().contains(t));
    assert!(format!("{t:?}").contains("initial"), "{t:?}");
    let at = Instant::now();
    assert_eq!(t.blocking().join(), Err(JoinError::NotStarted));
    assert_eq!(
        t.blocking().join_timeout(FOREVER),
        Err(JoinError::NotStarted)
    );
    assert_eq!(
        rt.block_on(t.join_timeout(FOREVER)),
        Err(JoinError::NotStarted)
    );
    assert_eq!(rt.block_on(t.join()), Err(JoinError::NotStarted));
    assert_quick(at, LATE);
    err
}

const ALL_RACERS: [Racer; 5] = [
    Racer::ThreadTimed,
    Racer::ThreadUntimed,
    Racer::TaskTimed,
    Racer::TaskUntimed,
    Racer::Shutdown,
];

// regression: issue 13 defect 7
// conformance: T-26
// An OS thread whose stack the OS refuses: start() returns StartError::Spawn, and every
// join racing it (plain threads and tasks, timed and untimed, and a shutdown, all started
// before the call and joining until after it) returns NotStarted at once. The thread reads
// as never started and cannot be started again (its target went with the refused spawn).
#[test]
fn joins_racing_a_start_the_os_refuses_return_not_started_at_once() {
    run_on_thread(|| {
        let rt = mt_runtime();
        for round in 0..RACE_ROUNDS {
            let token = Arc::new(());
            let t2 = token.clone();
            let t = threading::blocking::Thread::builder()
                .name(format!("refused-{round}"))
                .daemon(false)
                .stack_size(REFUSED_STACK)
                .target(move || drop(t2))
                .into_async();
            let s = t.clone();
            let err = race_a_refused_start(&rt, &t, &ALL_RACERS, move || s.start());
            assert!(
                matches!(err, StartError::Spawn(_)),
                "round {round}: {err:?}"
            );
            assert!(!err.to_string().is_empty());
            assert!(matches!(t.start(), Err(StartError::AlreadyStarted)));
            assert_eq!(Arc::strong_count(&token), 1, "the refused target was kept");
        }
    });
}

// regression: issue 13 defect 7
// The same race for a task-thread and a spawn_blocking thread started where there is no
// runtime (StartError::NoRuntime): every join returns NotStarted at once, and the thread,
// which may be started again, then runs once started inside a runtime.
#[test]
fn joins_racing_a_start_without_a_runtime_return_not_started_at_once() {
    run_on_thread(|| {
        let rt = mt_runtime();
        for round in 0..RACE_ROUNDS {
            let value = Arc::new(AtomicUsize::new(0));
            let v = value.clone();
            let t: Thread = if round % 2 == 0 {
                Thread::builder()
                    .daemon(false)
                    .target(move || async move { v.store(round + 1, SeqCst) })
            } else {
                Thread::builder()
                    .daemon(false)
                    .blocking_target(move || v.store(round + 1, SeqCst))
            };
            let s = t.clone();
            // This thread is outside any runtime, and so was the one that made `t`.
            let err = race_a_refused_start(&rt, &t, &ALL_RACERS, move || s.start());
            assert!(
                matches!(err, StartError::NoRuntime),
                "round {round}: {err:?}"
            );
            let _in_rt = rt.enter();
            t.start().expect("a retry inside a runtime starts it");
            assert_eq!(t.blocking().join_timeout(LATE), Ok(Some(())));
            assert_eq!(value.load(SeqCst), round + 1);
        }
    });
}

/// A `fmt::Write` that reads the thread it is given the `Debug` of, at every write.
struct ReadsTheThread {
    t: threading::blocking::Thread,
    out: String,
}

impl std::fmt::Write for ReadsTheThread {
    fn write_str(&mut self, s: &str) -> std::fmt::Result {
        let _ = (
            self.t.name(),
            self.t.ident(),
            self.t.daemon(),
            self.t.is_alive(),
        );
        self.out.push_str(s);
        Ok(())
    }
}

// regression: issue 13, point 2's rule (audit of src/thread.rs: `Debug` wrote to the
// caller's writer under the thread's own lock)
// A thread's `Debug` runs the caller's writer with no lock of the crate held: a writer
// that reads the same thread (name, ident, flag, liveness) at each write gets the repr,
// before start, while it runs and after, also through an excepthook's arguments. On a
// thread of its own with a bounded wait, so a deadlock fails the test.
#[test]
fn debug_into_a_writer_that_reads_the_thread_does_not_deadlock() {
    use std::fmt::Write as _;
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let go = Arc::new(threading::blocking::Event::new());
        let g = go.clone();
        let t = threading::blocking::Thread::builder()
            .name("read-back")
            .target(move || g.wait());
        let mut w = ReadsTheThread {
            t: t.clone(),
            out: String::new(),
        };
        write!(w, "{t:?}").unwrap();
        t.start().unwrap();
        write!(w, "|{t:?}").unwrap();
        let payload: Box<dyn std::any::Any + Send> = Box::new("p");
        let me = t.as_async().clone();
        write!(
            w,
            "|{:?}",
            threading::ExceptHookArgs::new(&*payload, Some(&me))
        )
        .unwrap();
        go.set();
        let joined = t.join_timeout(LATE);
        write!(w, "|{t:?}").unwrap();
        let _ = tx.send((w.out, joined, t.ident().unwrap()));
    });
    let (out, joined, id) = rx
        .recv_timeout(LATE)
        .expect("a Debug into a writer that reads the thread deadlocked");
    assert_eq!(joined, Ok(Some(())));
    assert_eq!(
        out,
        format!(
            "<Thread(read-back, initial daemon)>|<Thread(read-back, started daemon {id})>|\
             ExceptHookArgs {{ message: Some(\"p\"), thread: Some(<Thread(read-back, started \
             daemon {id})>) }}|<Thread(read-back, stopped daemon {id})>"
        )
    );
}

// conformance: T-27, M-2
// Inside a task-thread on a two-worker runtime, current_thread() stays this Thread across
// many `.await`s, on whichever worker the task is resumed.
#[test]
fn current_thread_follows_a_task_across_awaits() {
    run_in_task(async {
        let slot: Arc<OnceLock<Thread<usize>>> = Arc::new(OnceLock::new());
        let s = slot.clone();
        let t = Thread::new(move || async move {
            let me = s.get().expect("the handle is set before start");
            let mut workers = HashSet::new();
            for i in 0..200 {
                assert!(threading::current_thread() == *me, "lost at step {i}");
                assert_eq!(Some(threading::get_ident()), me.ident());
                workers.insert(std::thread::current().id());
                if i % 10 == 0 {
                    tokio::time::sleep(Duration::from_millis(1)).await;
                } else {
                    tokio::task::yield_now().await;
                }
            }
            workers.len()
        });
        assert!(slot.set(t.clone()).is_ok());
        t.start().unwrap();
        match t.join_timeout(LATE).await {
            Ok(Some(workers)) => assert!(workers >= 1),
            other => panic!("{other:?}"),
        }
    });
}
