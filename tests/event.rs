//! `Event`, both forms: the blocking form driven from plain threads, the async form from
//! tokio tasks (CONFORMANCE sections 0, 8 and 15).
//!
//! Most tests are written once in [`forms!`] and run in both forms. Async-only statements
//! (a dropped wait, a wait that never suspends) step the futures by hand; timing checks are
//! exact for "never early" and generous for "not too late".

// conformance: E-10
// E-10 (fork only, N/A): Python re-creates the event's internal lock after `fork()`. A Rust
// process does not fork its threads, and the crate has no fork hook, so there is nothing
// to test.

mod common;
use common::{
    assert_quick, assert_timed_out_in_time, join_task, join_thread, queued_digits, wait_until,
    FOREVER, LATE, SHORT,
};

use std::pin::pin;
use std::sync::Arc;
use std::task::Poll;
use std::time::{Duration, Instant};

use futures::{poll, FutureExt};
use threading::{Event, TIMEOUT_MAX};

/// One test body, run in both forms: `name::blocking` (workers are threads) and
/// `name::tasks` (workers are tasks on a two-worker runtime; the body itself runs in
/// `block_on`).
///
/// In the body, `$E` names the event type of that form. Calls that differ between the
/// forms are written
/// - `wait!(x)`: `x` in the blocking form, `x.await` in the async form;
/// - `spawn!({ .. })`: a worker thread or task (a `move` closure or block);
/// - `join!(h)`: join a worker (bounded by `LATE`) and take its result.
macro_rules! forms {
    ($( $(#[$m:meta])* fn $name:ident<$E:ident>() $body:block )*) => {$(
        mod $name {
            use super::*;

            #[test]
            $(#[$m])*
            #[allow(unused_macros)]
            fn blocking() {
                type $E = threading::blocking::Event;
                macro_rules! wait { ($e:expr) => { $e }; }
                macro_rules! spawn { ($b:block) => { std::thread::spawn(move || $b) }; }
                macro_rules! join { ($h:expr) => { join_thread($h) }; }
                $body
            }

            #[test]
            $(#[$m])*
            #[allow(unused_macros)]
            fn tasks() {
                type $E = threading::Event;
                macro_rules! wait { ($e:expr) => { $e.await }; }
                macro_rules! spawn { ($b:block) => { tokio::spawn(async move $b) }; }
                macro_rules! join { ($h:expr) => { join_task($h).await }; }
                common::mt_runtime().block_on(async $body)
            }
        }
    )*};
}

forms! {
    // conformance: E-1
    fn flag_starts_clear_and_set_and_clear_are_idempotent<Ev>() {
        let e = Ev::new();
        assert!(!e.is_set());
        assert!(!Ev::default().is_set());
        e.set();
        assert!(e.is_set());
        e.set();
        assert!(e.is_set());
        e.clear();
        assert!(!e.is_set());
        e.clear();
        assert!(!e.is_set());
    }

    // conformance: E-2, E-3, E-9, TO-1
    // Five waiters, with no timeout (`wait()` waits as long as it takes) or a timeout that
    // never runs out, all wake on one `set` from another worker; while the flag stays set,
    // a second wait returns at once.
    fn set_wakes_every_waiter<Ev>() {
        let e = Arc::new(Ev::new());
        let mut workers = Vec::new();
        for i in 0..5 {
            let e = e.clone();
            workers.push(spawn!({
                let first = if i % 2 == 0 {
                    wait!(e.wait());
                    true
                } else {
                    wait!(e.wait_timeout(FOREVER))
                };
                // E-3: the flag is still set, so this returns at once.
                let start = Instant::now();
                wait!(e.wait());
                let second = wait!(e.wait_timeout(FOREVER));
                assert_quick(start, LATE);
                first && second
            }));
        }
        wait_until(|| queued_digits(&e) == 5);
        assert!(workers.iter().all(|w| !w.is_finished()));
        let setter = e.clone();
        join!(spawn!({ setter.set() }));
        for w in workers {
            assert!(join!(w), "a wait woken by set() reported a timeout");
        }
        assert_eq!(queued_digits(&e), 0);
    }

    // conformance: E-4
    fn event_is_reusable_after_clear<Ev>() {
        let e = Arc::new(Ev::new());
        for _round in 0..3 {
            let mut workers = Vec::new();
            for _ in 0..5 {
                let e = e.clone();
                workers.push(spawn!({ wait!(e.wait_timeout(FOREVER)) }));
            }
            wait_until(|| queued_digits(&e) == 5);
            e.set();
            for w in workers {
                assert!(join!(w));
            }
            e.clear();
            // Cleared: waits wait again (a zero timeout reads the flag only).
            assert!(!wait!(e.wait_timeout(Duration::ZERO)));
        }
    }

    // conformance: E-5, TO-5, TO-6, TO-9
    // Timed-out waits are measured on `std::time::Instant`, the monotonic clock.
    fn unset_event_times_out_never_early<Ev>() {
        let e = Arc::new(Ev::new());
        let start = Instant::now();
        assert!(!wait!(e.wait_timeout(Duration::ZERO)));
        assert_quick(start, LATE);
        let mut workers = Vec::new();
        for _ in 0..5 {
            let e = e.clone();
            workers.push(spawn!({
                let start = Instant::now();
                (wait!(e.wait_timeout(SHORT)), start)
            }));
        }
        for w in workers {
            let (got, start) = join!(w);
            assert!(!got, "nobody set the event");
            assert_timed_out_in_time(start, SHORT);
        }
        assert_eq!(queued_digits(&e), 0);
        assert!(!e.is_set());
    }

    // conformance: E-6, TO-7
    fn set_event_returns_true_at_once<Ev>() {
        let e = Ev::new();
        e.set();
        let start = Instant::now();
        assert!(wait!(e.wait_timeout(Duration::ZERO)));
        assert!(wait!(e.wait_timeout(SHORT)));
        // Far above LATE: waiting it out would fail the check below.
        assert!(wait!(e.wait_timeout(FOREVER)));
        assert!(wait!(e.wait_timeout(TIMEOUT_MAX)));
        wait!(e.wait());
        assert_quick(start, LATE);
        assert_eq!(queued_digits(&e), 0);
    }

    // conformance: E-7, A-9
    // `set()` then `clear()` at once still wakes every waiter that was already waiting, with
    // true: they report the wake-up, not the flag read later. Several rounds, so the clear
    // lands before, during and after the waiters run.
    fn set_then_clear_still_wakes_every_waiter<Ev>() {
        let e = Arc::new(Ev::new());
        for _round in 0..5 {
            let mut workers = Vec::new();
            for i in 0..6 {
                let e = e.clone();
                workers.push(spawn!({
                    if i % 2 == 0 {
                        wait!(e.wait());
                        true
                    } else {
                        wait!(e.wait_timeout(FOREVER))
                    }
                }));
            }
            wait_until(|| queued_digits(&e) == 6);
            e.set();
            e.clear();
            for w in workers {
                assert!(join!(w), "a waiter woken by set() reported false");
            }
            assert!(!e.is_set());
            assert_eq!(queued_digits(&e), 0);
            // A wait that starts after the clear waits for the next set.
            assert!(!wait!(e.wait_timeout(Duration::ZERO)));
        }
    }

    // conformance: E-8
    fn debug_ends_with_the_flag<Ev>() {
        let e = Ev::new();
        let d = format!("{e:?}");
        assert!(d.ends_with(": unset>"), "{d}");
        assert!(d.contains("Event"), "{d}");
        e.set();
        let d = format!("{e:?}");
        assert!(d.ends_with(": set>"), "{d}");
        e.clear();
        assert!(format!("{e:?}").ends_with(": unset>"));
    }

    // conformance: E-9
    // A timed wait returns true when the flag is set before its timeout, however late in
    // it; it returns false only if the timeout ran out first (never early).
    fn timed_wait_reports_whether_the_flag_came_in_time<Ev>() {
        let e = Arc::new(Ev::new());
        let e2 = e.clone();
        let w = spawn!({
            let start = Instant::now();
            let got = wait!(e2.wait_timeout(FOREVER));
            (got, start.elapsed())
        });
        wait_until(|| queued_digits(&e) == 1);
        e.set();
        let (got, elapsed) = join!(w);
        assert!(got);
        assert!(elapsed < FOREVER);
        e.clear();
        let start = Instant::now();
        assert!(!wait!(e.wait_timeout(SHORT)));
        assert_timed_out_in_time(start, SHORT);
    }

    // conformance: TO-1
    // A timeout too large to be a deadline (`Duration::MAX`, anything above `TIMEOUT_MAX`)
    // waits forever: no panic, no early false; it ends when the flag is set.
    fn huge_timeouts_wait_forever<Ev>() {
        let e = Arc::new(Ev::new());
        for timeout in [Duration::MAX, TIMEOUT_MAX + Duration::from_secs(1), TIMEOUT_MAX] {
            let e2 = e.clone();
            let w = spawn!({ wait!(e2.wait_timeout(timeout)) });
            wait_until(|| queued_digits(&e) == 1);
            assert!(!w.is_finished(), "a {timeout:?} wait returned early");
            e.set();
            assert!(join!(w), "a {timeout:?} wait gave up");
            e.clear();
        }
    }
}

// Waiters of both forms on one event, threads and tasks together, all wake on one set.
#[test]
fn one_set_wakes_threads_and_tasks_alike() {
    let rt = common::mt_runtime();
    let e = Arc::new(Event::new());
    let threads: Vec<_> = (0..3)
        .map(|_| {
            let e = e.clone().into_blocking();
            std::thread::spawn(move || e.wait_timeout(FOREVER))
        })
        .collect();
    let tasks: Vec<_> = (0..3)
        .map(|_| {
            let e = e.clone();
            rt.spawn(async move { e.wait_timeout(FOREVER).await })
        })
        .collect();
    wait_until(|| queued_digits(&*e) == 6);
    e.blocking().set();
    e.clear();
    for t in threads {
        assert!(join_thread(t));
    }
    rt.block_on(async {
        for t in tasks {
            assert!(join_task(t).await);
        }
    });
}

// conformance: A-9
// `wait()` on a set event returns without suspending, so a wait that starts after `set()`
// finishes before the waiters that `set()` woke; `set()` on a set event changes nothing.
#[tokio::test]
async fn async_wait_on_a_set_event_does_not_suspend() {
    let e = Event::new();
    let mut a = Box::pin(e.wait());
    let mut b = Box::pin(e.wait_timeout(FOREVER));
    assert!(poll!(a.as_mut()).is_pending());
    assert!(poll!(b.as_mut()).is_pending());
    assert_eq!(queued_digits(&e), 2);
    e.set();
    let before = format!("{e:?}");
    e.set();
    assert_eq!(format!("{e:?}"), before);
    assert!(e.is_set());
    // A new wait is ready on its first poll, before the woken ones have run.
    assert!(e.wait().now_or_never().is_some());
    assert_eq!(e.wait_timeout(FOREVER).now_or_never(), Some(true));
    assert_eq!(e.wait_timeout(Duration::ZERO).now_or_never(), Some(true));
    e.clear();
    // The woken ones still report the wake-up.
    assert!(poll!(a.as_mut()).is_ready());
    assert_eq!(poll!(b.as_mut()), Poll::Ready(true));
}

// conformance: A-9, E-7
// Async form, stepped by hand: set() then clear() before the waiters are polled again
// still completes each of them with true, and leaves no waiter queued.
#[tokio::test]
async fn async_set_then_clear_before_the_waiters_run() {
    let e = Event::new();
    let mut waits: Vec<_> = (0..4).map(|_| Box::pin(e.wait_timeout(FOREVER))).collect();
    let mut plain = Box::pin(e.wait());
    for w in &mut waits {
        assert!(poll!(w.as_mut()).is_pending());
    }
    assert!(poll!(plain.as_mut()).is_pending());
    assert_eq!(queued_digits(&e), 5);
    e.set();
    e.clear();
    assert_eq!(queued_digits(&e), 0);
    // A wait that starts now waits for the next set.
    let mut late = Box::pin(e.wait());
    assert!(poll!(late.as_mut()).is_pending());
    for w in &mut waits {
        assert_eq!(poll!(w.as_mut()), Poll::Ready(true));
    }
    assert!(poll!(plain.as_mut()).is_ready());
    assert!(poll!(late.as_mut()).is_pending());
    e.set();
    assert!(poll!(late.as_mut()).is_ready());
}

// conformance: A-10
// A dropped wait leaves the queue, whether dropped by hand, by `tokio::time::timeout` or by
// `select!`, and takes nothing from the waiters that remain.
#[tokio::test]
async fn async_dropped_wait_removes_its_waiter() {
    let e = Event::new();
    let mut stays = Box::pin(e.wait_timeout(FOREVER));
    assert!(poll!(stays.as_mut()).is_pending());
    let mut goes = Box::pin(e.wait());
    let mut goes_timed = Box::pin(e.wait_timeout(FOREVER));
    assert!(poll!(goes.as_mut()).is_pending());
    assert!(poll!(goes_timed.as_mut()).is_pending());
    assert_eq!(queued_digits(&e), 3);
    drop(goes);
    drop(goes_timed);
    assert_eq!(queued_digits(&e), 1);

    assert!(tokio::time::timeout(Duration::from_millis(10), e.wait())
        .await
        .is_err());
    assert_eq!(queued_digits(&e), 1);
    tokio::select! {
        _ = e.wait() => panic!("the event is not set"),
        _ = tokio::task::yield_now() => {}
    }
    assert_eq!(queued_digits(&e), 1);

    e.set();
    assert_eq!(poll!(stays.as_mut()), Poll::Ready(true));
    assert_eq!(queued_digits(&e), 0);
}

// conformance: A-10
// A wait dropped after `set()` chose it loses nothing for the others: every other waiter
// still wakes (an event's wake-up is not consumed).
#[tokio::test]
async fn async_wait_dropped_after_set_takes_nothing_from_others() {
    let e = Event::new();
    let mut a = Box::pin(e.wait());
    let mut b = Box::pin(e.wait());
    assert!(poll!(a.as_mut()).is_pending());
    assert!(poll!(b.as_mut()).is_pending());
    e.set();
    e.clear();
    drop(a);
    assert!(poll!(b.as_mut()).is_ready());
    assert_eq!(queued_digits(&e), 0);
}

// conformance: TO-5
// Async form: a zero timeout reads the flag on the first poll and never queues.
#[tokio::test]
async fn async_zero_timeout_resolves_on_the_first_poll() {
    let e = Event::new();
    assert_eq!(e.wait_timeout(Duration::ZERO).now_or_never(), Some(false));
    assert_eq!(queued_digits(&e), 0);
    e.set();
    assert_eq!(e.wait_timeout(Duration::ZERO).now_or_never(), Some(true));
}

// conformance: TO-8
// Blocking form: spurious wake-ups (unparks of the waiting thread) do not extend a timed
// wait. The waker keeps unparking for far longer than `SHORT + LATE` unless the wait ends,
// so a wait that restarted its timeout on each wake-up would fail.
#[test]
fn spurious_unparks_do_not_extend_a_blocking_timed_wait() {
    let e = Arc::new(threading::blocking::Event::new());
    let e2 = e.clone();
    let h = std::thread::spawn(move || {
        let start = Instant::now();
        (e2.wait_timeout(SHORT), start)
    });
    wait_until(|| queued_digits(&*e) == 1);
    let thread = h.thread().clone();
    for _ in 0..3000 {
        if h.is_finished() {
            break;
        }
        thread.unpark();
        std::thread::sleep(Duration::from_millis(2));
    }
    let (got, start) = join_thread(h);
    assert!(!got);
    assert_timed_out_in_time(start, SHORT);
}

// conformance: TO-8
// Async form: the deadline is fixed when `wait_timeout` is called, not when the future is
// first polled, and polling it again (spurious wake-ups) never moves it.
#[tokio::test(start_paused = true)]
async fn async_deadline_is_fixed_at_the_call() {
    let e = Event::new();
    let f = e.wait_timeout(SHORT);
    tokio::time::advance(SHORT).await;
    assert_eq!(
        f.now_or_never(),
        Some(false),
        "the deadline started at the first poll"
    );

    let mut f = pin!(e.wait_timeout(SHORT));
    let start = tokio::time::Instant::now();
    while start.elapsed() + Duration::from_millis(10) < SHORT {
        assert!(poll!(f.as_mut()).is_pending());
        tokio::time::advance(Duration::from_millis(10)).await;
    }
    assert!(poll!(f.as_mut()).is_pending());
    tokio::time::advance(SHORT - start.elapsed()).await;
    assert_eq!(poll!(f.as_mut()), Poll::Ready(false));
    assert_eq!(queued_digits(&e), 0);
}

// conformance: TO-9
// The async form times out on tokio's monotonic clock: with the clock paused, an hour's
// timeout runs out when the clock is advanced, not on any wall clock.
#[tokio::test(start_paused = true)]
async fn async_timeouts_follow_the_runtime_monotonic_clock() {
    let e = Event::new();
    let wall = Instant::now();
    let start = tokio::time::Instant::now();
    let hour = Duration::from_secs(3600);
    assert!(!e.wait_timeout(hour).await);
    assert!(start.elapsed() >= hour, "returned before its timeout");
    assert_quick(wall, LATE);
}
