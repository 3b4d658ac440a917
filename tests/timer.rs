//! `Timer`, both forms: the blocking form (an OS thread, driven from a plain thread with no
//! runtime) and the async form (a tokio task, driven from a task) (CONFORMANCE section 11).
//!
//! Most tests are written once in [`forms!`] and run in both forms; cross-world cancels and
//! the runtime corner are written out below. "Never early" is checked exactly on
//! `Instant`, "not too late" with the generous bounds of `common`. A timer that must not
//! fire during a test has a one-hour interval; a function that must keep running waits on
//! an `Event` the test sets.

// conformance: TM-2
// TM-2 (N/A): a Rust timer function takes no `args`/`kwargs` (it is called with none); what
// it needs it captures, so no two timers can share a default argument list.

mod common;
use common::{
    assert_quick, assert_timed_out_in_time, assert_waited, join_task, join_thread, mt_runtime,
    run_in_task, run_on_thread, wait_until, wait_until_async, LATE, SHORT,
};

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering::SeqCst};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use threading::{JoinError, StartError};

/// An interval no test waits out.
const HOUR: Duration = Duration::from_secs(3600);

/// One test body, run in both forms: `name::blocking` (a `blocking::Timer`; the body runs on
/// a plain thread) and `name::tasks` (a `Timer`; the body runs in a task of a two-worker
/// runtime).
///
/// In the body, `$E` is the event type of the form, and
/// - `timer!(interval, { .. })`: a timer whose function runs the block;
/// - `hold!(e)`: inside the function, wait until the event `e` is set;
/// - `wait!(x)`: `x` in the blocking form, `x.await` in the async form;
/// - `until!(cond)`: poll `cond`, at most `LATE`, without blocking a runtime worker;
/// - `spawn!({ .. })`, `join!(w)`: a worker thread or task, and its end.
macro_rules! forms {
    ($( $(#[$m:meta])* fn $name:ident<$E:ident>() $body:block )*) => {$(
        mod $name {
            use super::*;

            #[test]
            $(#[$m])*
            #[allow(unused_macros, dead_code)]
            fn blocking() {
                type $E = threading::blocking::Event;
                macro_rules! timer {
                    ($d:expr, $b:block) => { threading::blocking::Timer::new($d, move || $b) };
                }
                macro_rules! hold { ($e:expr) => { $e.wait() }; }
                macro_rules! wait { ($e:expr) => { $e }; }
                macro_rules! until { ($c:expr) => { wait_until(|| $c) }; }
                macro_rules! spawn { ($b:block) => { std::thread::spawn(move || $b) }; }
                macro_rules! join { ($h:expr) => { join_thread($h) }; }
                run_on_thread(move || $body)
            }

            #[test]
            $(#[$m])*
            #[allow(unused_macros, dead_code)]
            fn tasks() {
                type $E = threading::Event;
                macro_rules! timer {
                    ($d:expr, $b:block) => { threading::Timer::new($d, move || async move $b) };
                }
                macro_rules! hold { ($e:expr) => { $e.wait().await }; }
                macro_rules! wait { ($e:expr) => { $e.await }; }
                macro_rules! until { ($c:expr) => { wait_until_async(|| $c).await }; }
                macro_rules! spawn { ($b:block) => { tokio::spawn(async move $b) }; }
                macro_rules! join { ($h:expr) => { join_task($h).await }; }
                run_in_task(async move $body)
            }
        }
    )*};
}

/// When a timer function ran, and on which thread (its ident).
type Fired = Arc<Mutex<Vec<(Instant, u64)>>>;

forms! {
    // conformance: TM-1, TM-6, TM-8
    // The function runs once, in the timer's own thread (its ident is the timer's), never
    // before the interval has passed since start(); then the timer thread ends (TM-8: its
    // internal event is private; what it does is seen as the end of the thread).
    fn fires_once_after_its_interval_in_its_own_thread<Ev>() {
        for interval in [SHORT, Duration::from_millis(20), Duration::from_millis(1)] {
            let fired: Fired = Arc::default();
            let f = fired.clone();
            let timer = timer!(interval, {
                f.lock().unwrap().push((Instant::now(), threading::get_ident()));
            });
            assert_eq!(timer.interval(), interval);
            let start = Instant::now();
            timer.start().unwrap();
            assert!(timer.is_alive());
            assert_eq!(wait!(timer.join_timeout(interval + LATE)), Ok(Some(())));
            let fired = fired.lock().unwrap().clone();
            assert_eq!(fired.len(), 1, "called {} times", fired.len());
            let (at, ident) = fired[0];
            assert_waited(at - start, interval);
            assert_eq!(Some(ident), timer.ident(), "not run in the timer's thread");
            assert!(!timer.is_alive());
        }
    }

    // conformance: TM-6
    // A zero interval runs the function at once.
    fn a_zero_interval_fires_at_once<Ev>() {
        let calls = Arc::new(AtomicUsize::new(0));
        let c = calls.clone();
        let timer = timer!(Duration::ZERO, { c.fetch_add(1, SeqCst); });
        let start = Instant::now();
        timer.start().unwrap();
        assert_eq!(wait!(timer.join_timeout(LATE)), Ok(Some(())));
        assert_quick(start, LATE);
        assert_eq!(calls.load(SeqCst), 1);
    }

    // conformance: TM-3, TM-5, TO-6
    // While the timer waits, a timed join runs out (never early) and the timer stays
    // alive; cancel() then stops the call and ends the timer thread at once: the join
    // returns far before the one-hour interval. A second cancel() is harmless.
    fn cancel_while_waiting_ends_the_timer_at_once<Ev>() {
        let called = Arc::new(AtomicBool::new(false));
        let c = called.clone();
        let timer = timer!(HOUR, { c.store(true, SeqCst); });
        timer.start().unwrap();
        let start = Instant::now();
        assert_eq!(wait!(timer.join_timeout(SHORT)), Err(JoinError::TimedOut));
        assert_timed_out_in_time(start, SHORT);
        assert!(timer.is_alive());
        let start = Instant::now();
        assert!(timer.cancel());
        assert!(!timer.cancel(), "a second cancel() reports nothing stopped");
        assert_eq!(wait!(timer.join_timeout(LATE)), Ok(Some(())));
        assert_quick(start, LATE);
        assert!(!timer.is_alive());
        assert!(!called.load(SeqCst));
        assert!(!timer.cancel());
    }

    // conformance: TM-4
    // cancel() before start() stops the call: start() still works and the timer thread
    // ends at once without calling the function.
    fn cancel_before_start_stops_the_call<Ev>() {
        let called = Arc::new(AtomicBool::new(false));
        let c = called.clone();
        let timer = timer!(HOUR, { c.store(true, SeqCst); });
        assert!(timer.cancel());
        assert!(!timer.is_alive());
        let start = Instant::now();
        timer.start().unwrap();
        assert_eq!(wait!(timer.join_timeout(LATE)), Ok(Some(())));
        assert_quick(start, LATE);
        assert!(!called.load(SeqCst));

        // The same with a zero interval: the cancel still wins.
        let c = called.clone();
        let timer = timer!(Duration::ZERO, { c.store(true, SeqCst); });
        assert!(timer.cancel());
        timer.start().unwrap();
        assert_eq!(wait!(timer.join_timeout(LATE)), Ok(Some(())));
        assert!(!called.load(SeqCst));
    }

    // conformance: TM-5
    // cancel() once the function has started returns false and does not interrupt it: the
    // function goes on until the test lets it finish; after it finished, cancel() is still
    // false and harmless.
    fn cancel_after_the_function_started_does_not_interrupt_it<Ev>() {
        let entered = Arc::new(Ev::new());
        let release = Arc::new(Ev::new());
        let done = Arc::new(AtomicBool::new(false));
        let (e, r, d) = (entered.clone(), release.clone(), done.clone());
        let timer = timer!(Duration::ZERO, {
            e.set();
            hold!(r);
            d.store(true, SeqCst);
        });
        timer.start().unwrap();
        assert!(wait!(entered.wait_timeout(LATE)), "the function never started");
        assert!(!timer.cancel(), "cancel() after the function started");
        assert!(!timer.cancel());
        assert!(timer.is_alive(), "the function was interrupted");
        assert!(!done.load(SeqCst));
        release.set();
        assert_eq!(wait!(timer.join_timeout(LATE)), Ok(Some(())));
        assert!(done.load(SeqCst), "the function did not run to its end");
        assert!(!timer.cancel());
    }

    // conformance: TM-7, T-4, T-10, T-25
    // A Timer is a Thread: a plain automatic name `Thread-N` (no target part), a daemon
    // flag that can be set before start only, an ident, is_alive, join (several joiners,
    // the value once), a Python repr with class `Timer`, and a second start() is an error,
    // also after the end.
    fn a_timer_is_a_thread<Ev>() {
        let go = Arc::new(Ev::new());
        let g = go.clone();
        let timer = timer!(Duration::ZERO, { hold!(g); });
        let name = timer.name();
        let n: u64 = name
            .strip_prefix("Thread-")
            .unwrap_or_else(|| panic!("not an automatic name: {name}"))
            .parse()
            .unwrap_or_else(|_| panic!("a Timer's name has no target part: {name}"));
        assert!(n > 0);
        assert_eq!(timer.ident(), None);
        assert_eq!(wait!(timer.join()), Err(JoinError::NotStarted));
        timer.set_daemon(false).unwrap();
        assert!(!timer.daemon());
        assert_eq!(format!("{timer:?}"), format!("<Timer({name}, initial)>"));
        timer.start().unwrap();
        let id = timer.ident().unwrap();
        assert!(timer.is_alive());
        assert_eq!(format!("{timer:?}"), format!("<Timer({name}, started {id})>"));
        assert!(matches!(timer.start(), Err(StartError::AlreadyStarted)));
        assert!(timer.set_daemon(true).is_err());
        assert!(threading::enumerate().iter().any(|t| t.ident() == Some(id)));
        timer.set_name("tick");
        assert_eq!(timer.name(), "tick");

        let ready = Arc::new(AtomicUsize::new(0));
        let timer = Arc::new(timer);
        let joiners: Vec<_> = (0..3)
            .map(|_| {
                let (t, r) = (timer.clone(), ready.clone());
                spawn!({
                    r.fetch_add(1, SeqCst);
                    wait!(t.join())
                })
            })
            .collect();
        until!(ready.load(SeqCst) == 3);
        go.set();
        let mut got = Vec::new();
        for j in joiners {
            got.push(join!(j));
        }
        assert_eq!(got.iter().filter(|r| **r == Ok(Some(()))).count(), 1, "{got:?}");
        assert_eq!(got.iter().filter(|r| **r == Ok(None)).count(), 2, "{got:?}");
        assert!(!timer.is_alive());
        assert_eq!(format!("{timer:?}"), format!("<Timer(tick, stopped {id})>"));
        assert!(matches!(timer.start(), Err(StartError::AlreadyStarted)));
        assert!(!threading::enumerate().iter().any(|t| t.ident() == Some(id)));
    }

    // conformance: T-8, TM-7
    // Made on a thread this crate did not start, a Timer is a daemon, as any Thread.
    fn a_timer_made_on_a_foreign_thread_is_a_daemon<Ev>() {
        let timer = timer!(HOUR, {});
        assert!(timer.daemon());
        assert!(format!("{timer:?}").ends_with(", initial daemon)>"), "{timer:?}");
    }

    // conformance: TM-9, T-24
    // A panicking function: the timer's joiners get `Panicked` with the message and the
    // timer's name (the default excepthook prints the report); the timer is no longer
    // alive and the process goes on.
    fn a_panicking_function_reaches_the_joiner<Ev>() {
        let timer = timer!(Duration::ZERO, {
            if threading::get_ident() != 0 {
                panic!("timer {}", "boom");
            }
        });
        timer.set_name("ticker");
        timer.start().unwrap();
        for _ in 0..2 {
            match wait!(timer.join_timeout(LATE)) {
                Err(JoinError::Panicked(p)) => {
                    assert_eq!(p.message(), Some("timer boom"));
                    assert_eq!(p.thread_name(), "ticker");
                }
                other => panic!("expected Panicked, got {other:?}"),
            }
        }
        assert!(!timer.is_alive());
        assert!(!timer.cancel(), "the function ran: nothing to cancel");
    }
}

// ---------------------------------------------------------------------------------------
// Across the worlds.
// ---------------------------------------------------------------------------------------

// conformance: TM-3
// An async Timer, waiting on its runtime, is cancelled and joined from a plain thread: the
// timer task ends at once, the function never runs.
#[test]
fn an_async_timer_is_cancelled_from_a_plain_thread() {
    let rt = mt_runtime();
    let called = Arc::new(AtomicBool::new(false));
    let c = called.clone();
    let timer = Arc::new({
        let _in_rt = rt.enter();
        threading::Timer::new(HOUR, move || async move { c.store(true, SeqCst) })
    });
    timer.start().unwrap();
    let t = timer.clone();
    run_on_thread(move || {
        assert!(tokio::runtime::Handle::try_current().is_err());
        let start = Instant::now();
        assert_eq!(t.blocking().join_timeout(SHORT), Err(JoinError::TimedOut));
        assert_timed_out_in_time(start, SHORT);
        let start = Instant::now();
        assert!(t.blocking().cancel());
        assert_eq!(t.blocking().join_timeout(LATE), Ok(Some(())));
        assert_quick(start, LATE);
        assert!(!t.is_alive());
    });
    assert!(!called.load(SeqCst));
    assert!(!timer.cancel());
}

// conformance: TM-3
// A blocking Timer (an OS thread) is cancelled and awaited from a task.
#[test]
fn a_blocking_timer_is_cancelled_from_a_task() {
    let called = Arc::new(AtomicBool::new(false));
    let c = called.clone();
    let timer = Arc::new(threading::blocking::Timer::new(HOUR, move || {
        c.store(true, SeqCst)
    }));
    timer.start().unwrap();
    let t = timer.clone();
    run_in_task(async move {
        let a = t.as_async();
        let start = Instant::now();
        assert_eq!(a.join_timeout(SHORT).await, Err(JoinError::TimedOut));
        assert_timed_out_in_time(start, SHORT);
        let start = Instant::now();
        assert!(a.cancel());
        assert_eq!(a.join_timeout(LATE).await, Ok(Some(())));
        assert_quick(start, LATE);
        assert!(!a.is_alive());
    });
    assert!(!called.load(SeqCst));
    assert!(!timer.cancel());
}

// conformance: TM-1, TM-6
// An async Timer started from a plain thread and joined there: it fires on the runtime it
// was made on, never early; a blocking Timer fires with no runtime anywhere.
#[test]
fn timers_fire_across_the_worlds() {
    let rt = mt_runtime();
    let fired: Fired = Arc::default();
    let f = fired.clone();
    let timer = {
        let _in_rt = rt.enter();
        threading::Timer::new(SHORT, move || async move {
            f.lock()
                .unwrap()
                .push((Instant::now(), threading::get_ident()));
        })
    };
    run_on_thread(move || {
        assert!(tokio::runtime::Handle::try_current().is_err());
        let start = Instant::now();
        timer.start().unwrap();
        assert_eq!(timer.blocking().join_timeout(SHORT + LATE), Ok(Some(())));
        let fired = fired.lock().unwrap().clone();
        assert_eq!(fired.len(), 1);
        assert_waited(fired[0].0 - start, SHORT);
        assert_eq!(Some(fired[0].1), timer.ident());

        let calls = Arc::new(AtomicUsize::new(0));
        let c = calls.clone();
        let b = threading::blocking::Timer::new(Duration::from_millis(5), move || {
            c.fetch_add(1, SeqCst);
        });
        let start = Instant::now();
        b.start().unwrap();
        assert_eq!(b.join_timeout(LATE), Ok(Some(())));
        assert!(start.elapsed() >= Duration::from_millis(5));
        assert_eq!(calls.load(SeqCst), 1);
    });
}

// An async Timer made and started with no runtime anywhere cannot start
// (`StartError::NoRuntime`), and is left as a thread that never started.
#[test]
fn an_async_timer_without_a_runtime_does_not_start() {
    run_on_thread(|| {
        let timer = threading::Timer::new(Duration::ZERO, || async {});
        assert!(matches!(timer.start(), Err(StartError::NoRuntime)));
        assert!(!timer.is_alive());
        assert_eq!(timer.blocking().join(), Err(JoinError::NotStarted));
        assert!(timer.cancel());
    });
}
