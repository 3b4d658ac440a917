//! Conformance tests of `Condition`, in both forms: the blocking form waited on by plain
//! threads, the async form by tokio tasks, over an `RLock` (the default) or a plain `Lock`.
//!
//! Tests that read the same in both forms are written once, in `both_forms!`, which expands
//! them into `blocking_form::*` (the body runs on a plain thread, no runtime) and
//! `async_form::*` (the body runs as a tokio task on a two-worker runtime, so that an
//! `RLock`'s owner is a task). Inside those bodies `aw!(e)` is `e` or `e.await`, `spawn!{..}`
//! starts a thread or a task, `join!(h)` waits for it, `until!(c)` waits (bounded) until `c`
//! holds, `sleep!(d)` sleeps; `C` is the form's `Condition`, `RL` and `PL` its `RLock` and
//! `Lock`, `over_lock`/`over_rlock` build a condition over a given lock, and `rl!(cond)` is
//! the condition's `RLock` in the form. Both fail a body that runs past a 60 s watchdog,
//! so a lost wake-up fails the test instead of hanging the suite.
//!
//! Async cancel tests poll wait futures by hand (outside any task, so that the polling
//! thread is the owner), choosing exactly when a future is polled and when it is dropped.
//!
//! Never sleep to prove a waiter is blocked: wait until the `Debug` output shows it queued
//! (`queued(&cond)` for the condition's waiters, `queued(cond.lock())` for the lock's).

mod common;
use common::{
    assert_quick, assert_waited, poll_once, queued, run_in_task, run_on_thread, wait_until,
    wait_until_async, Lcg, LATE, SHORT,
};

use std::collections::VecDeque;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::pin::pin;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering::SeqCst};
use std::sync::{mpsc, Arc, Mutex};
use std::task::Poll;
use std::time::{Duration, Instant};

use threading::{Condition, Lock, RLock, RLockReleaseError, TIMEOUT_MAX};

/// A timeout for waits that must succeed long before it.
const LONG: Duration = Duration::from_secs(10);

/// The message of a caught panic.
fn panic_message(p: &(dyn std::any::Any + Send)) -> String {
    p.downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| p.downcast_ref::<String>().cloned())
        .unwrap_or_default()
}

/// Yield to the scheduler `n` times.
async fn yields(n: u64) {
    for _ in 0..n {
        tokio::task::yield_now().await;
    }
}

macro_rules! both_forms {
    (@with ($d:tt) $($(#[$meta:meta])* fn $name:ident() $body:block)*) => {
        mod blocking_form {
            #![allow(unused_imports, unused_macros, dead_code)]
            use super::*;
            type C<L = RLock> = threading::blocking::Condition<L>;
            type RL = threading::blocking::RLock;
            type PL = threading::blocking::Lock;
            fn over_lock(lock: &Arc<PL>) -> C<Lock> {
                C::<Lock>::with_lock(lock.clone())
            }
            fn over_rlock(lock: &Arc<RL>) -> C<RLock> {
                C::<RLock>::with_lock(lock.clone())
            }
            macro_rules! rl { ($d c:expr) => { $d c.lock() }; }
            macro_rules! aw { ($d e:expr) => { $d e }; }
            macro_rules! spawn {
                ($d ($d t:tt)*) => { std::thread::spawn(move || { $d ($d t)* }) };
            }
            macro_rules! join { ($d h:expr) => { $d h.join().unwrap() }; }
            macro_rules! until { ($d c:expr) => { common::wait_until(|| $d c) }; }
            macro_rules! sleep { ($d t:expr) => { std::thread::sleep($d t) }; }
            $( $(#[$meta])* #[test] fn $name() { super::run_on_thread(move || $body) } )*
        }
        mod async_form {
            #![allow(unused_imports, unused_macros, dead_code)]
            use super::*;
            type C<L = RLock> = threading::Condition<L>;
            type RL = threading::RLock;
            type PL = threading::Lock;
            fn over_lock(lock: &Arc<PL>) -> C<Lock> {
                C::<Lock>::with_lock(lock.clone())
            }
            fn over_rlock(lock: &Arc<RL>) -> C<RLock> {
                C::<RLock>::with_lock(lock.clone())
            }
            macro_rules! rl { ($d c:expr) => { &**$d c.lock() }; }
            macro_rules! aw { ($d e:expr) => { $d e.await }; }
            macro_rules! spawn {
                ($d ($d t:tt)*) => { tokio::spawn(async move { $d ($d t)* }) };
            }
            macro_rules! join { ($d h:expr) => { $d h.await.unwrap() }; }
            macro_rules! until { ($d c:expr) => { super::wait_until_async(|| $d c).await }; }
            macro_rules! sleep { ($d t:expr) => { tokio::time::sleep($d t).await }; }
            $( $(#[$meta])* #[test] fn $name() { super::run_in_task(async move $body) } )*
        }
    };
    ($($items:tt)*) => { both_forms!(@with ($) $($items)*); };
}

both_forms! {
    // conformance: C-1
    fn default_lock_is_an_rlock_taken_twice_and_released_twice() {
        let cond = Arc::new(C::new());
        let a = aw!(cond.acquire());
        let b = aw!(cond.acquire());
        assert!(rl!(cond).is_owned());
        assert_eq!(rl!(cond).recursion_count(), 2);
        let c = cond.clone();
        assert!(join!(spawn! { c.locked() && c.try_acquire().is_none() }));
        drop(b);
        assert!(cond.locked(), "released once, acquired twice");
        drop(a);
        assert!(!cond.locked());
        let c = cond.clone();
        assert!(join!(spawn! { c.try_acquire().is_some() }));
        assert!(!cond.locked());
    }

    // conformance: C-2, A-11, C-25
    fn condition_uses_the_lock_it_is_given() {
        // A plain Lock (asyncio's default): not reentrant, and shared.
        let lock = Arc::new(PL::new());
        let cond = Arc::new(over_lock(&lock));
        let g = aw!(cond.acquire());
        assert!(lock.locked() && cond.locked());
        assert!(lock.try_acquire().is_none());
        assert!(cond.try_acquire().is_none(), "a Lock condition is not reentrant");
        drop(g);
        assert!(!lock.locked() && !cond.locked());
        let g = aw!(lock.acquire());
        assert!(cond.locked());
        assert!(cond.try_acquire().is_none());
        let c = cond.clone();
        assert!(join!(spawn! { c.try_acquire().is_none() }));
        drop(g);
        {
            let _g = aw!(cond.acquire());
            assert!(lock.locked());
        }
        assert!(!lock.locked());

        // An RLock.
        let rlock = Arc::new(RL::new());
        let cond = Arc::new(over_rlock(&rlock));
        let g = aw!(cond.acquire());
        assert!(rlock.locked() && rlock.is_owned());
        let r = rlock.clone();
        assert!(join!(spawn! { r.try_acquire().is_none() }));
        drop(g);
        assert!(!rlock.locked());
        // Held directly by another thread or task: the condition cannot be taken.
        let checked = Arc::new(AtomicBool::new(false));
        let (r, ch) = (rlock.clone(), checked.clone());
        let holder = spawn! {
            let g = aw!(r.acquire());
            until!(ch.load(SeqCst));
            drop(g);
        };
        until!(rlock.locked());
        assert!(cond.locked());
        assert!(cond.try_acquire().is_none());
        checked.store(true, SeqCst);
        join!(holder);
        assert!(!cond.locked());

        // A guard taken from the lock itself is the condition's guard.
        let a = aw!(rlock.acquire());
        let g = aw!(rlock.acquire());
        let (g, notified) = aw!(cond.wait_timeout(g, Duration::from_millis(1)));
        assert!(!notified);
        assert_eq!(rlock.recursion_count(), 2);
        cond.notify_all(&g);
        drop((g, a));
        assert!(!rlock.locked());
    }

    // conformance: C-3
    fn default_condition_passes_the_rlock_suite() {
        let cond = Arc::new(C::new());
        assert_eq!(rl!(cond).release(), Err(RLockReleaseError::Unlocked));
        let a = aw!(cond.acquire());
        let b = cond.try_acquire().expect("re-entry");
        let c = cond.clone();
        let (err, held) = join!(spawn! {
            (rl!(c).release(), c.try_acquire().is_none() && !rl!(c).is_owned())
        });
        assert_eq!(err, Err(RLockReleaseError::NotOwner));
        assert!(held);
        assert!(rl!(cond).is_owned());
        assert_eq!(rl!(cond).recursion_count(), 2);
        drop(b);
        assert!(rl!(cond).is_owned());
        drop(a);
        assert!(!rl!(cond).is_owned());
        assert_eq!(rl!(cond).release(), Err(RLockReleaseError::Unlocked));

        // Try and timed acquires through the condition.
        let a = aw!(cond.acquire_timeout(LONG)).expect("a free lock");
        let b = aw!(cond.acquire_timeout(Duration::ZERO)).expect("re-entry");
        let c = cond.clone();
        let (got, elapsed) = join!(spawn! {
            let start = Instant::now();
            let got = aw!(c.acquire_timeout(SHORT)).is_some();
            (got, start.elapsed())
        });
        assert!(!got);
        assert_waited(elapsed, SHORT);
        drop((b, a));
        assert!(!cond.locked());

        // The condition's guards are the lock's: a forgotten one is released by hand.
        aw!(cond.acquire()).forget();
        rl!(cond).release().unwrap();
        assert!(!cond.locked());
    }

    // conformance: C-6, C-7, C-8, C-9, C-10, C-11, A-16
    fn notify_wakes_exactly_n_and_woken_waiters_run_after_the_notifier_releases() {
        // Five waiters wait twice each. notify(3) wakes exactly 3 (they record phase 1, set
        // after the notify but before the release); notify(5) then wakes the 2 still in their
        // first wait and the 3 in their second (phase 2); notify_all wakes the last 2
        // (phase 3). Run twice on one condition, for a default and a Lock condition.
        macro_rules! cycle {
            ($cond:expr) => {{
                let cond = $cond;
                let phase = Arc::new(AtomicUsize::new(0));
                let seen = Arc::new(Mutex::new(Vec::new()));
                let mut waiters = Vec::new();
                for i in 0..5 {
                    let (c, p, s) = (cond.clone(), phase.clone(), seen.clone());
                    waiters.push(spawn! {
                        let mut g = aw!(c.acquire());
                        for _ in 0..2 {
                            let (g2, notified) = if i % 2 == 0 {
                                (aw!(c.wait(g)), true)
                            } else {
                                aw!(c.wait_timeout(g, LONG))
                            };
                            g = g2;
                            s.lock().unwrap().push((i, p.load(SeqCst), notified));
                        }
                        drop(g);
                    });
                }
                let seen_len = || seen.lock().unwrap().len();
                until!(queued(&*cond) == 5);

                // Phase 1: exactly 3 of 5.
                let g = aw!(cond.acquire());
                cond.notify(&g, 3);
                assert_eq!(queued(&*cond), 2, "notify(3) must pick exactly 3 waiters");
                // The 3 now wait for the lock, which the notifier still holds.
                until!(queued(cond.lock()) == 3);
                assert_eq!(seen_len(), 0, "a woken waiter returned before the release");
                phase.store(1, SeqCst);
                drop(g);
                until!(seen_len() == 3);
                // They go back into wait; the other 2 never left their first one.
                until!(queued(&*cond) == 5);
                assert_eq!(seen_len(), 3);

                // Phase 2: all 5, whichever wait they are in.
                let g = aw!(cond.acquire());
                cond.notify(&g, 5);
                assert_eq!(queued(&*cond), 0, "notify(5) must pick all 5 waiters");
                until!(queued(cond.lock()) == 5);
                phase.store(2, SeqCst);
                drop(g);
                until!(seen_len() == 8);
                until!(queued(&*cond) == 2);

                // Phase 3: notify_all.
                let g = aw!(cond.acquire());
                cond.notify_all(&g);
                assert_eq!(queued(&*cond), 0);
                phase.store(3, SeqCst);
                drop(g);
                for w in waiters {
                    join!(w);
                }
                let seen = seen.lock().unwrap().clone();
                assert_eq!(seen.len(), 10);
                assert!(seen.iter().all(|&(_, _, notified)| notified), "{seen:?}");
                let in_phase = |p| seen.iter().filter(|s| s.1 == p).count();
                assert_eq!(
                    (in_phase(0), in_phase(1), in_phase(2), in_phase(3)),
                    (0, 3, 5, 2),
                    "{seen:?}"
                );
                // Each waiter woke in phase 2 exactly once: no stale entry woke it twice.
                for i in 0..5 {
                    assert_eq!(seen.iter().filter(|s| s.0 == i && s.1 == 2).count(), 1);
                }
                assert!(!cond.locked());
                assert_eq!(queued(&*cond), 0);
                assert_eq!(queued(cond.lock()), 0);
            }};
        }
        let cond = Arc::new(C::new());
        cycle!(cond.clone());
        cycle!(cond.clone());
        let cond = Arc::new(over_lock(&Arc::new(PL::new())));
        cycle!(cond.clone());
        cycle!(cond.clone());
    }

    // conformance: C-12, TO-6, C-18
    fn five_timed_waits_without_a_notify_return_false_never_early() {
        let cond = Arc::new(C::new());
        let mut waiters = Vec::new();
        for _ in 0..5 {
            let c = cond.clone();
            waiters.push(spawn! {
                let a = aw!(c.acquire());
                let b = aw!(c.acquire());
                let start = Instant::now();
                let (b, notified) = aw!(c.wait_timeout(b, SHORT));
                let elapsed = start.elapsed();
                // Held again, at the same depth.
                let held = rl!(c).is_owned() && rl!(c).recursion_count() == 2;
                drop((b, a));
                (notified, elapsed, held)
            });
        }
        for w in waiters {
            let (notified, elapsed, held) = join!(w);
            assert!(!notified);
            assert_waited(elapsed, SHORT);
            assert!(held);
        }
        assert!(!cond.locked());
        assert_eq!(queued(&*cond), 0);
    }

    // conformance: C-13
    fn wait_for_rechecks_after_each_wakeup_and_returns_once_true() {
        let cond = Arc::new(C::new());
        let state = Arc::new(AtomicUsize::new(0));
        let (c, s) = (cond.clone(), state.clone());
        let waiter = spawn! {
            let g = aw!(c.acquire());
            let mut calls = 0;
            let g = aw!(c.wait_for(g, || {
                calls += 1;
                s.load(SeqCst) >= 4
            }));
            let seen = s.load(SeqCst);
            drop(g);
            (calls, seen)
        };
        for _ in 0..4 {
            until!(queued(&*cond) == 1);
            let g = aw!(cond.acquire());
            state.fetch_add(1, SeqCst);
            cond.notify(&g, 1);
            drop(g);
        }
        let (calls, seen) = join!(waiter);
        assert_eq!(seen, 4);
        assert_eq!(calls, 5, "once before waiting, once after each of 4 wake-ups");
        assert!(!cond.locked());
    }

    // conformance: C-14, TO-8, TO-6
    fn wait_for_timeout_keeps_one_deadline_across_notifications() {
        const TIMEOUT: Duration = Duration::from_millis(200);
        let cond = Arc::new(C::new());
        let done = Arc::new(AtomicBool::new(false));
        let (c, d) = (cond.clone(), done.clone());
        // A notification every 20 ms for up to 10 s, far past TIMEOUT + LATE: a deadline
        // that a wake-up re-armed would keep the waiter waiting as long as this runs.
        let notifier = spawn! {
            until!(queued(&*c) == 1);
            let mut sent = 0;
            while !d.load(SeqCst) && sent < 500 {
                sleep!(Duration::from_millis(20));
                let g = aw!(c.acquire());
                c.notify_all(&g);
                drop(g);
                sent += 1;
            }
            sent
        };
        let g = aw!(cond.acquire());
        let mut calls = 0;
        let start = Instant::now();
        let (g, ok) = aw!(cond.wait_for_timeout(
            g,
            || {
                calls += 1;
                false
            },
            TIMEOUT
        ));
        let elapsed = start.elapsed();
        assert!(rl!(cond).is_owned());
        drop(g);
        done.store(true, SeqCst);
        let sent = join!(notifier);
        assert!(!ok, "the predicate's last value");
        assert_waited(elapsed, TIMEOUT);
        assert!(calls >= 2, "no notification arrived during the wait ({calls} calls)");
        assert!(sent >= 1);
    }

    // conformance: C-15, A-17, TO-7
    fn wait_for_with_a_true_predicate_returns_at_once() {
        let cond = Arc::new(C::new());
        let a = aw!(cond.acquire());
        let g = aw!(cond.acquire());
        let mut calls = 0;
        let start = Instant::now();
        let g = aw!(cond.wait_for(g, || {
            calls += 1;
            true
        }));
        let (g, ok) = aw!(cond.wait_for_timeout(
            g,
            || {
                calls += 1;
                true
            },
            Duration::from_secs(60)
        ));
        let (g, ok_zero) = aw!(cond.wait_for_timeout(
            g,
            || {
                calls += 1;
                true
            },
            Duration::ZERO
        ));
        assert_quick(start, LATE);
        assert!(ok && ok_zero);
        assert_eq!(calls, 3);
        assert_eq!(queued(&*cond), 0);
        assert_eq!(rl!(cond).recursion_count(), 2);
        drop(g);
        assert!(cond.locked());
        drop(a);
        assert!(!cond.locked());

        // A free condition's timed acquire succeeds at once too.
        let start = Instant::now();
        let g = aw!(cond.acquire_timeout(Duration::from_secs(60))).expect("a free lock");
        assert_quick(start, LATE);
        drop(g);
    }

    // conformance: C-16
    fn wait_for_calls_the_predicate_only_while_holding_the_lock() {
        let cond = Arc::new(C::new());
        let state = Arc::new(AtomicUsize::new(0));
        let (c, s) = (cond.clone(), state.clone());
        let waiter = spawn! {
            let a = aw!(c.acquire());
            let g = aw!(c.acquire());
            let (mut calls, mut unheld) = (0, 0);
            let g = aw!(c.wait_for(g, || {
                calls += 1;
                if !(rl!(c).is_owned() && rl!(c).recursion_count() == 2) {
                    unheld += 1;
                }
                s.load(SeqCst) >= 2
            }));
            drop((g, a));
            (calls, unheld)
        };
        for _ in 0..2 {
            until!(queued(&*cond) == 1);
            let g = aw!(cond.acquire());
            state.fetch_add(1, SeqCst);
            cond.notify(&g, 1);
            drop(g);
        }
        let (calls, unheld) = join!(waiter);
        assert_eq!(calls, 3);
        assert_eq!(unheld, 0, "the predicate ran without the lock");

        // A Lock condition: the lock is held at every call.
        let cond = Arc::new(over_lock(&Arc::new(PL::new())));
        let g = aw!(cond.acquire());
        let mut held = Vec::new();
        let (g, _) = aw!(cond.wait_for_timeout(
            g,
            || {
                held.push(cond.locked());
                false
            },
            Duration::from_millis(20)
        ));
        drop(g);
        assert!(held.len() >= 2 && held.iter().all(|&h| h), "{held:?}");
    }

    // conformance: C-17, C-18
    fn wait_on_an_rlock_held_three_deep_releases_every_level_and_restores_them() {
        let cond = Arc::new(C::new());
        let c = cond.clone();
        let waiter = spawn! {
            let a = aw!(c.acquire());
            let b = aw!(c.acquire());
            let g = aw!(c.acquire());
            let (g, notified) = aw!(c.wait_timeout(g, LONG));
            let restored = (rl!(c).is_owned(), rl!(c).recursion_count());
            // Every guard is live again: each drop releases one level.
            drop(g);
            let after_one = rl!(c).recursion_count();
            drop(b);
            let after_two = rl!(c).recursion_count();
            drop(a);
            (notified, restored, after_one, after_two, rl!(c).is_owned())
        };
        until!(queued(&*cond) == 1);
        // All three levels are free: another thread or task takes the lock, at depth 1.
        let g = aw!(cond.acquire());
        assert_eq!(rl!(cond).recursion_count(), 1);
        cond.notify(&g, 1);
        drop(g);
        let (notified, restored, after_one, after_two, owned) = join!(waiter);
        assert!(notified);
        assert_eq!(restored, (true, 3));
        assert_eq!((after_one, after_two), (2, 1));
        assert!(!owned);
        assert!(!cond.locked());

        // Timed out: the same, and it waits for the lock before it returns.
        let c = cond.clone();
        let waiter = spawn! {
            let a = aw!(c.acquire());
            let b = aw!(c.acquire());
            let g = aw!(c.acquire());
            let (g, notified) = aw!(c.wait_timeout(g, SHORT));
            let restored = (rl!(c).is_owned(), rl!(c).recursion_count());
            drop((g, b, a));
            (notified, restored)
        };
        until!(queued(&*cond) == 1);
        let g = aw!(cond.acquire());
        // Timed out, it now waits for the lock this caller holds.
        until!(queued(&*cond) == 0 && queued(cond.lock()) == 1);
        drop(g);
        let (notified, restored) = join!(waiter);
        assert!(!notified);
        assert_eq!(restored, (true, 3));
        assert!(!cond.locked());
    }

    // conformance: C-19
    fn a_timed_out_waiter_leaves_the_queue_and_absorbs_no_later_notify() {
        let cond = Arc::new(C::new());
        let g = aw!(cond.acquire());
        let (g, notified) = aw!(cond.wait_timeout(g, Duration::from_millis(10)));
        assert!(!notified);
        assert_eq!(queued(&*cond), 0);
        drop(g);
        let c = cond.clone();
        assert!(!join!(spawn! {
            let g = aw!(c.acquire());
            aw!(c.wait_timeout(g, Duration::from_millis(10))).1
        }));
        assert_eq!(queued(&*cond), 0);
        // The next waiter gets the next notification.
        let c = cond.clone();
        let second = spawn! {
            let g = aw!(c.acquire());
            aw!(c.wait_timeout(g, LONG)).1
        };
        until!(queued(&*cond) == 1);
        let g = aw!(cond.acquire());
        cond.notify(&g, 1);
        drop(g);
        assert!(join!(second));
    }

    // conformance: C-19
    fn a_timeout_racing_a_notify_either_takes_it_or_leaves_it_to_the_next_waiter() {
        // A short timed wait at the front of the queue, a long one behind it, and notify(1)
        // sent around the short one's deadline. Either the short one returns notified and
        // the long one still waits, or the long one gets the notification: never neither.
        let cond = Arc::new(C::new());
        for round in 0..20u64 {
            let short_done = Arc::new(AtomicBool::new(false));
            let (c, sd) = (cond.clone(), short_done.clone());
            let timeout = Duration::from_millis(2 + round % 5);
            let short = spawn! {
                let g = aw!(c.acquire());
                let (g, notified) = aw!(c.wait_timeout(g, timeout));
                drop(g);
                sd.store(true, SeqCst);
                notified
            };
            until!(queued(&*cond) == 1 || short_done.load(SeqCst));
            let c = cond.clone();
            let long = spawn! {
                let g = aw!(c.acquire());
                let (g, notified) = aw!(c.wait_timeout(g, LONG));
                drop(g);
                notified
            };
            until!(
                queued(&*cond) == 2 || (short_done.load(SeqCst) && queued(&*cond) == 1)
            );
            sleep!(Duration::from_micros(round * 350 % 6000));
            let g = aw!(cond.acquire());
            cond.notify(&g, 1);
            drop(g);
            if join!(short) {
                // The timed waiter took it: the other is still waiting, un-notified.
                assert_eq!(queued(&*cond), 1, "round {round}");
                let g = aw!(cond.acquire());
                cond.notify(&g, 1);
                drop(g);
            }
            assert!(join!(long), "round {round}: the notification was lost");
            assert_eq!(queued(&*cond), 0);
        }
        assert!(!cond.locked());
    }

    // conformance: C-20
    fn notify_without_waiters_does_nothing_and_is_not_remembered() {
        let cond = Arc::new(C::new());
        let g = aw!(cond.acquire());
        cond.notify(&g, 1);
        cond.notify(&g, 100);
        cond.notify_all(&g);
        assert!(cond.locked());
        drop(g);
        let c = cond.clone();
        let (notified, elapsed) = join!(spawn! {
            let g = aw!(c.acquire());
            let start = Instant::now();
            let (g, notified) = aw!(c.wait_timeout(g, SHORT));
            drop(g);
            (notified, start.elapsed())
        });
        assert!(!notified, "an earlier notify was remembered");
        assert_waited(elapsed, SHORT);
    }

    // conformance: C-21, A-16
    fn notify_wakes_waiters_in_the_order_they_waited() {
        let cond = Arc::new(C::new());
        let woken = Arc::new(Mutex::new(Vec::new()));
        let mut waiters = Vec::new();
        for i in 0..5 {
            let (c, w) = (cond.clone(), woken.clone());
            waiters.push(spawn! {
                let g = aw!(c.acquire());
                let g = aw!(c.wait(g));
                w.lock().unwrap().push(i);
                drop(g);
            });
            until!(queued(&*cond) == i + 1);
        }
        let woken_now = || woken.lock().unwrap().clone();
        let g = aw!(cond.acquire());
        cond.notify(&g, 1);
        assert_eq!(queued(&*cond), 4);
        drop(g);
        until!(woken_now().len() == 1);
        assert_eq!(woken_now(), [0]);
        let g = aw!(cond.acquire());
        cond.notify(&g, 2);
        assert_eq!(queued(&*cond), 2);
        drop(g);
        until!(woken_now().len() == 3);
        let mut next = woken_now()[1..].to_vec();
        next.sort();
        assert_eq!(next, [1, 2], "notify(2) must wake the two longest waiting");
        // More than are waiting wakes all of them.
        let g = aw!(cond.acquire());
        cond.notify(&g, 2048);
        assert_eq!(queued(&*cond), 0);
        drop(g);
        for w in waiters {
            join!(w);
        }
        let mut last = woken_now()[3..].to_vec();
        last.sort();
        assert_eq!(last, [3, 4]);
    }

    // conformance: C-23, TO-5
    fn zero_timeout_wait_does_not_block_and_reports_false() {
        let cond = Arc::new(C::new());
        let a = aw!(cond.acquire());
        let g = aw!(cond.acquire());
        let start = Instant::now();
        let (g, notified) = aw!(cond.wait_timeout(g, Duration::ZERO));
        assert!(!notified);
        let mut calls = 0;
        let (g, ok) = aw!(cond.wait_for_timeout(
            g,
            || {
                calls += 1;
                false
            },
            Duration::ZERO
        ));
        assert!(!ok);
        assert_eq!(calls, 1, "checked once");
        assert_quick(start, LATE);
        assert!(rl!(cond).is_owned());
        assert_eq!(rl!(cond).recursion_count(), 2);
        assert_eq!(queued(&*cond), 0);
        drop((g, a));
        assert!(!cond.locked());

        let cond = over_lock(&Arc::new(PL::new()));
        let g = aw!(cond.acquire());
        let start = Instant::now();
        let (g, notified) = aw!(cond.wait_timeout(g, Duration::ZERO));
        assert!(!notified && cond.locked());
        assert_quick(start, LATE);
        drop(g);
        assert!(!cond.locked());
    }

    // conformance: C-24, C-10
    fn notify_all_wakes_only_the_waiters_already_waiting() {
        let cond = Arc::new(C::new());
        let wakes = Arc::new(AtomicUsize::new(0));
        let mut waiters = Vec::new();
        for _ in 0..2 {
            let (c, w) = (cond.clone(), wakes.clone());
            waiters.push(spawn! {
                let mut g = aw!(c.acquire());
                for _ in 0..2 {
                    g = aw!(c.wait(g));
                    w.fetch_add(1, SeqCst);
                }
                drop(g);
            });
        }
        until!(queued(&*cond) == 2);
        let g = aw!(cond.acquire());
        cond.notify_all(&g);
        // The notifier waits right after its notify_all: that call does not wake it.
        let start = Instant::now();
        let (g, notified) = aw!(cond.wait_timeout(g, SHORT));
        assert!(!notified);
        assert_waited(start.elapsed(), SHORT);
        drop(g);
        // The two woken ones went back to waiting, and that notify_all did not wake them
        // again: one wake-up each.
        until!(queued(&*cond) == 2);
        assert_eq!(wakes.load(SeqCst), 2);
        let g = aw!(cond.acquire());
        cond.notify_all(&g);
        drop(g);
        for w in waiters {
            join!(w);
        }
        assert_eq!(wakes.load(SeqCst), 4);
    }

    // conformance: C-25
    fn locked_reports_the_underlying_lock_to_anyone() {
        let cond = Arc::new(C::new());
        assert!(!cond.locked());
        assert_eq!(format!("{cond:?}"), "<threading.Condition unlocked waiters=0>");
        let g = aw!(cond.acquire());
        assert!(cond.locked());
        assert_eq!(format!("{cond:?}"), "<threading.Condition locked waiters=0>");
        let c = cond.clone();
        assert!(join!(spawn! { c.locked() }));
        drop(g);
        assert!(!cond.locked());
        // Taken through the lock itself.
        let lock = Arc::new(PL::new());
        let cond = over_lock(&lock);
        let g = aw!(lock.acquire());
        assert!(cond.locked());
        drop(g);
        assert!(!cond.locked());
    }

    // conformance: TO-1, TO-4
    fn untimed_and_huge_timeout_waits_wait_until_notified() {
        let cond = Arc::new(C::new());
        let go = Arc::new(AtomicBool::new(false));
        let returned = Arc::new(AtomicUsize::new(0));
        let mut waiters = Vec::new();
        for kind in 0..5 {
            let (c, go, r) = (cond.clone(), go.clone(), returned.clone());
            waiters.push(spawn! {
                let g = aw!(c.acquire());
                let g = match kind {
                    0 => aw!(c.wait(g)),
                    1 => aw!(c.wait_for(g, || go.load(SeqCst))),
                    2 => {
                        let (g, notified) = aw!(c.wait_timeout(g, TIMEOUT_MAX));
                        assert!(notified);
                        g
                    }
                    3 => {
                        let (g, notified) = aw!(c.wait_timeout(g, Duration::MAX));
                        assert!(notified);
                        g
                    }
                    _ => {
                        let (g, ok) =
                            aw!(c.wait_for_timeout(g, || go.load(SeqCst), Duration::MAX));
                        assert!(ok);
                        g
                    }
                };
                drop(g);
                r.fetch_add(1, SeqCst);
            });
        }
        until!(queued(&*cond) == 5);
        // Still waiting a while later: no early return, no panic.
        sleep!(Duration::from_millis(50));
        assert_eq!(returned.load(SeqCst), 0);
        assert_eq!(queued(&*cond), 5);
        let g = aw!(cond.acquire());
        go.store(true, SeqCst);
        cond.notify_all(&g);
        drop(g);
        for w in waiters {
            join!(w);
        }
        assert_eq!(returned.load(SeqCst), 5);
    }

    fn two_conditions_sharing_one_lock_make_a_bounded_queue() {
        // queue.Queue's not_empty / not_full, over one plain Lock.
        const N: usize = 300;
        const CAP: usize = 2;
        let lock = Arc::new(PL::new());
        let not_empty = Arc::new(over_lock(&lock));
        let not_full = Arc::new(over_lock(&lock));
        let buf = Arc::new(Mutex::new(VecDeque::new()));
        let (ne, nf, b) = (not_empty.clone(), not_full.clone(), buf.clone());
        let producer = spawn! {
            for i in 0..N {
                let g = aw!(nf.acquire());
                let g = aw!(nf.wait_for(g, || b.lock().unwrap().len() < CAP));
                b.lock().unwrap().push_back(i);
                // The other condition, with this guard: they share the lock.
                ne.notify(&g, 1);
                drop(g);
            }
        };
        let (ne, nf, b) = (not_empty.clone(), not_full.clone(), buf.clone());
        let consumer = spawn! {
            let mut got = Vec::new();
            for _ in 0..N {
                let g = aw!(ne.acquire());
                let g = aw!(ne.wait_for(g, || !b.lock().unwrap().is_empty()));
                assert!(b.lock().unwrap().len() <= CAP);
                got.push(b.lock().unwrap().pop_front().unwrap());
                nf.notify(&g, 1);
                drop(g);
            }
            got
        };
        join!(producer);
        let got = join!(consumer);
        assert_eq!(got, (0..N).collect::<Vec<_>>());
        assert!(!lock.locked());
        assert_eq!((queued(&*not_empty), queued(&*not_full)), (0, 0));
    }
}

// conformance: C-4, C-5, A-17
// `wait()`, `notify()` and `notify_all()` without the lock raise RuntimeError in Python. In
// Rust they take the lock's guard, so calling them without holding the lock does not compile:
// see the `compile_fail` example on `Condition` in `src/condition.rs`.

// conformance: R-9
// Python's `_release_save` on an RLock nobody holds raises RuntimeError; here it is the
// release inside `wait`, which needs a guard of the lock, so it cannot be reached without
// holding the lock (the `compile_fail` example in `src/condition.rs`).

// ---------------------------------------------------------------------------------------
// Guards that prove nothing, and panics.

// conformance: C-22
#[test]
fn a_guard_that_does_not_prove_ownership_is_rejected_with_a_panic() {
    // A guard of another condition's lock.
    let a = threading::blocking::Condition::new();
    let b = threading::blocking::Condition::new();
    let g = b.acquire();
    let err = catch_unwind(AssertUnwindSafe(|| a.notify(&g, 1))).unwrap_err();
    assert!(panic_message(&*err).contains("does not prove"), "{err:?}");
    assert!(catch_unwind(AssertUnwindSafe(|| a.notify_all(&g))).is_err());
    // Waiting with it: the panic drops the guard, which releases its own lock.
    assert!(catch_unwind(AssertUnwindSafe(|| drop(a.wait(g)))).is_err());
    assert!(!b.locked() && !a.locked());
    assert_eq!(queued(&a), 0);

    // A guard of another plain Lock.
    let lock = Arc::new(threading::blocking::Lock::new());
    let other = threading::blocking::Lock::new();
    let cond = threading::blocking::Condition::<Lock>::with_lock(lock.clone());
    let g = other.acquire();
    assert!(catch_unwind(AssertUnwindSafe(|| cond.notify(&g, 1))).is_err());
    assert!(!lock.locked());
    drop(g);

    // An RLock guard moved to a task that does not own the lock.
    run_in_task(async {
        // A guard that can move to another task borrows a condition that lives for ever.
        let cond: &'static Condition = Box::leak(Box::new(Condition::new()));
        let g = cond.acquire().await;
        let err = tokio::spawn(async move { cond.notify(&g, 1) })
            .await
            .unwrap_err();
        assert!(panic_message(&*err.into_panic()).contains("does not prove"));
        // The moved guard, dropped in that task, released nothing: this task still owns it.
        assert!(cond.lock().is_owned());
        cond.lock().release().unwrap();
        assert!(!cond.locked());
    });
}

// conformance: C-18
#[test]
fn blocking_panicking_predicate_leaves_the_lock_released_and_the_condition_usable() {
    let cond = Arc::new(threading::blocking::Condition::new());
    let c = cond.clone();
    let waiter = std::thread::spawn(move || {
        let a = c.acquire();
        let g = c.acquire();
        let mut calls = 0;
        let g = c.wait_for(g, || {
            calls += 1;
            if calls == 2 {
                std::panic::panic_any("predicate");
            }
            false
        });
        drop((g, a));
    });
    wait_until(|| queued(&*cond) == 1);
    let g = cond.acquire();
    cond.notify(&g, 1);
    drop(g);
    let err = waiter.join().unwrap_err();
    assert_eq!(panic_message(&*err), "predicate");
    assert!(!cond.locked());
    assert_eq!(queued(&*cond), 0);

    // Caught on this thread: the lock is free afterwards.
    let r = catch_unwind(AssertUnwindSafe(|| {
        let g = cond.acquire();
        drop(cond.wait_for(g, || panic!("at once")));
    }));
    assert!(r.is_err());
    assert!(!cond.locked());

    // Still a working condition.
    let c = cond.clone();
    let waiter = std::thread::spawn(move || {
        let g = c.acquire();
        let (g, notified) = c.wait_timeout(g, LONG);
        drop(g);
        notified
    });
    wait_until(|| queued(&*cond) == 1);
    let g = cond.acquire();
    cond.notify(&g, 1);
    drop(g);
    assert!(waiter.join().unwrap());
}

// conformance: C-18
#[test]
fn async_panicking_predicate_leaves_the_lock_released_and_the_condition_usable() {
    run_in_task(async {
        let cond = Arc::new(Condition::new());
        let c = cond.clone();
        let waiter = tokio::spawn(async move {
            let a = c.acquire().await;
            let g = c.acquire().await;
            let mut calls = 0;
            let g = c
                .wait_for(g, || {
                    calls += 1;
                    if calls == 2 {
                        std::panic::panic_any("predicate");
                    }
                    false
                })
                .await;
            drop((g, a));
        });
        wait_until_async(|| queued(&*cond) == 1).await;
        let g = cond.acquire().await;
        cond.notify(&g, 1);
        drop(g);
        let err = waiter.await.unwrap_err();
        assert_eq!(panic_message(&*err.into_panic()), "predicate");
        assert!(!cond.locked());
        assert_eq!(queued(&*cond), 0);

        let c = cond.clone();
        let waiter = tokio::spawn(async move {
            let g = c.acquire().await;
            let (g, notified) = c.wait_timeout(g, LONG).await;
            drop(g);
            notified
        });
        wait_until_async(|| queued(&*cond) == 1).await;
        let g = cond.acquire().await;
        cond.notify(&g, 1);
        drop(g);
        assert!(waiter.await.unwrap());
    });
}

// ---------------------------------------------------------------------------------------
// The async form: dropped waits (A-12's Rust reading, A-13), polled by hand.

// conformance: A-12, C-17
#[test]
fn a_dropped_wait_leaves_an_rlock_released_and_the_callers_other_guards_inert() {
    let cond = Arc::new(Condition::new());
    // Outside any task, this thread is the owner.
    let a = cond.try_acquire().unwrap();
    let b = cond.try_acquire().unwrap();
    let c = cond.try_acquire().unwrap();
    {
        let mut wait = pin!(cond.wait(c));
        assert!(poll_once(wait.as_mut()).is_pending());
        // Waiting: all three levels are released.
        assert!(!cond.locked());
        assert_eq!(queued(&*cond), 1);
    }
    // Dropped: the lock stays released, and the waiter is gone.
    assert!(!cond.locked());
    assert_eq!(queued(&*cond), 0);
    assert_eq!(cond.lock().recursion_count(), 0);

    // Another thread takes the lock; this thread's remaining guards are inert: dropping them
    // releases nothing of it.
    let (held_tx, held_rx) = mpsc::channel();
    let (go_tx, go_rx) = mpsc::channel::<()>();
    let c2 = cond.clone();
    let holder = std::thread::spawn(move || {
        let rl = c2.lock().blocking();
        let g = rl.acquire();
        held_tx.send(()).unwrap();
        go_rx.recv().unwrap();
        let state = (rl.is_owned(), rl.recursion_count(), rl.locked());
        drop(g);
        state
    });
    held_rx.recv().unwrap();
    drop(b);
    assert!(cond.locked());
    drop(a);
    assert!(cond.locked());
    go_tx.send(()).unwrap();
    assert_eq!(holder.join().unwrap(), (true, 1, true));
    assert!(!cond.locked());

    // Nothing was released twice: still one lock, which this thread can take and re-enter.
    let g = cond.try_acquire().unwrap();
    let g2 = cond.try_acquire().unwrap();
    let c2 = cond.clone();
    assert!(
        std::thread::spawn(move || c2.blocking().try_acquire().is_none())
            .join()
            .unwrap()
    );
    drop((g2, g));
    assert!(!cond.locked());
}

// conformance: A-12
#[test]
fn a_wait_dropped_before_its_first_poll_just_drops_its_guard() {
    // Never polled, the wait never released anything: dropping it drops the guard it was
    // given (one level), and the caller's other guards stay live.
    let cond = Condition::new();
    let a = cond.try_acquire().unwrap();
    let b = cond.try_acquire().unwrap();
    drop(cond.wait(b));
    assert!(cond.locked());
    assert_eq!(cond.lock().recursion_count(), 1);
    assert_eq!(queued(&cond), 0);
    drop(a);
    assert!(!cond.locked());
}

// conformance: A-12
#[test]
fn inert_guards_stay_inert_after_the_owner_takes_the_lock_again() {
    let cond = Condition::new();
    let a = cond.try_acquire().unwrap();
    let b = cond.try_acquire().unwrap();
    {
        let mut wait = pin!(cond.wait(b));
        assert!(poll_once(wait.as_mut()).is_pending());
    }
    // The same owner takes the lock again: the old guard still releases nothing.
    let fresh = cond.try_acquire().unwrap();
    assert_eq!(cond.lock().recursion_count(), 1);
    drop(a);
    assert!(cond.locked());
    assert_eq!(cond.lock().recursion_count(), 1);
    drop(fresh);
    assert!(!cond.locked());
}

// conformance: A-12
#[test]
fn a_dropped_wait_leaves_a_plain_lock_released_once() {
    let lock = Arc::new(Lock::new());
    let cond = Condition::with_lock(lock.clone());
    let g = cond.try_acquire().unwrap();
    {
        let mut wait = pin!(cond.wait(g));
        assert!(poll_once(wait.as_mut()).is_pending());
        assert!(!lock.locked());
        // Someone else takes the lock while the wait is pending...
        lock.try_acquire().unwrap().forget();
    }
    // ...and dropping the wait does not release it a second time.
    assert!(lock.locked());
    lock.release().unwrap();
    assert!(!lock.locked());
    assert!(lock.release().is_err());
    assert_eq!(queued(&cond), 0);
}

/// A thread waiting on `cond` (blocking form) with a long timeout; returns whether it was
/// notified.
fn thread_waiter(cond: &Arc<Condition>) -> std::thread::JoinHandle<bool> {
    let c = cond.clone();
    std::thread::spawn(move || {
        let c = c.blocking();
        let g = c.acquire();
        let (g, notified) = c.wait_timeout(g, LONG);
        drop(g);
        notified
    })
}

// conformance
#[test]
fn a_notified_wait_dropped_before_it_runs_passes_the_notification_on() {
    let cond = Arc::new(Condition::new());
    // W1: a future polled by hand on this thread; W2, a thread, queued behind it.
    let g = cond.try_acquire().unwrap();
    let mut w1 = Box::pin(cond.wait(g));
    assert!(poll_once(w1.as_mut()).is_pending());
    let w2 = thread_waiter(&cond);
    wait_until(|| queued(&*cond) == 2);
    // notify(1) picks W1, the first.
    let g = cond.blocking().acquire();
    cond.blocking().notify(&g, 1);
    assert_eq!(queued(&*cond), 1);
    drop(g);
    // W1 is dropped before it runs: W2 gets the notification, though nobody picked it.
    drop(w1);
    assert!(
        w2.join().unwrap(),
        "the dropped waiter swallowed the notification"
    );
    assert_eq!(queued(&*cond), 0);
    assert!(!cond.locked());
}

// conformance
#[test]
fn a_wait_dropped_while_it_retakes_a_contested_lock_passes_the_notification_on() {
    for lock in [Arc::new(RLock::new()), Arc::new(RLock::new_fair())] {
        let cond = Arc::new(Condition::with_lock(lock.clone()));
        let g = cond.try_acquire().unwrap();
        let mut w1 = Box::pin(cond.wait(g));
        assert!(poll_once(w1.as_mut()).is_pending());
        let w2 = thread_waiter(&cond);
        wait_until(|| queued(&*cond) == 2);
        // A notifier thread holds the lock and picks W1.
        let (held_tx, held_rx) = mpsc::channel();
        let (go_tx, go_rx) = mpsc::channel::<()>();
        let c = cond.clone();
        let notifier = std::thread::spawn(move || {
            let c = c.blocking();
            let g = c.acquire();
            c.notify(&g, 1);
            held_tx.send(queued(c)).unwrap();
            go_rx.recv().unwrap();
            drop(g);
        });
        assert_eq!(held_rx.recv().unwrap(), 1);
        // W1 runs: notified, it now waits for the lock the notifier holds.
        assert!(poll_once(w1.as_mut()).is_pending());
        assert_eq!(queued(&*lock), 1);
        // Dropped there: it leaves the lock's queue, the lock stays the notifier's, and W2,
        // handed the notification, now waits for the lock in W1's place.
        drop(w1);
        wait_until(|| queued(&*cond) == 0 && queued(&*lock) == 1);
        assert_eq!(queued(&*lock), 1);
        assert!(cond.locked());
        go_tx.send(()).unwrap();
        notifier.join().unwrap();
        assert!(
            w2.join().unwrap(),
            "the dropped waiter swallowed the notification"
        );
        assert!(!cond.locked());
        assert_eq!((queued(&*cond), queued(&*lock)), (0, 0));
    }
}

// conformance
#[test]
fn a_wait_handed_the_lock_and_dropped_before_it_runs_gives_both_on() {
    let lock = Arc::new(RLock::new_fair());
    let cond = Arc::new(Condition::with_lock(lock.clone()));
    let g = cond.try_acquire().unwrap();
    let mut w1 = Box::pin(cond.wait(g));
    assert!(poll_once(w1.as_mut()).is_pending());
    let w2 = thread_waiter(&cond);
    wait_until(|| queued(&*cond) == 2);
    let (held_tx, held_rx) = mpsc::channel();
    let (go_tx, go_rx) = mpsc::channel::<()>();
    let c = cond.clone();
    let notifier = std::thread::spawn(move || {
        let c = c.blocking();
        let g = c.acquire();
        c.notify(&g, 1);
        held_tx.send(()).unwrap();
        go_rx.recv().unwrap();
        drop(g);
    });
    held_rx.recv().unwrap();
    assert!(poll_once(w1.as_mut()).is_pending());
    assert_eq!(queued(&*lock), 1);
    go_tx.send(()).unwrap();
    notifier.join().unwrap();
    // The fair lock was handed to W1, which has not run: it is held for W1.
    assert!(cond.locked());
    assert_eq!(queued(&*lock), 0);
    // W1 dropped: the lock and the notification both go on, to W2.
    drop(w1);
    assert!(
        w2.join().unwrap(),
        "the dropped waiter swallowed the notification"
    );
    assert!(!cond.locked());
    assert_eq!((queued(&*cond), queued(&*lock)), (0, 0));
}

// conformance: A-13
#[test]
fn an_aborted_task_passes_its_notification_on() {
    // This thread notifies W1 and aborts it, before (even rounds) or after (odd rounds)
    // releasing the lock. Either W1 was dropped before returning, and W2 gets the
    // notification; or W1 returned with it first, and W2 still waits, un-notified.
    let rt = common::mt_runtime();
    let mut dropped_rounds = 0;
    for round in 0..10 {
        let cond = Arc::new(Condition::new());
        let returned = Arc::new(AtomicBool::new(false));
        let (c, r) = (cond.clone(), returned.clone());
        let w1 = rt.spawn(async move {
            let g = c.acquire().await;
            let g = c.wait(g).await;
            r.store(true, SeqCst);
            drop(g);
        });
        wait_until(|| queued(&*cond) == 1);
        let c = cond.clone();
        let w2 = rt.spawn(async move {
            let g = c.acquire().await;
            let (g, notified) = c.wait_timeout(g, LONG).await;
            drop(g);
            notified
        });
        wait_until(|| queued(&*cond) == 2);
        let g = cond.blocking().acquire();
        cond.blocking().notify(&g, 1);
        if round % 2 == 0 {
            w1.abort();
            drop(g);
        } else {
            drop(g);
            w1.abort();
        }
        let _ = rt.block_on(w1);
        if returned.load(SeqCst) {
            assert_eq!(queued(&*cond), 1, "round {round}: W2 was woken too");
            let g = cond.blocking().acquire();
            cond.blocking().notify(&g, 1);
            drop(g);
        } else {
            dropped_rounds += 1;
        }
        assert!(
            rt.block_on(w2).unwrap(),
            "round {round}: the notification was lost"
        );
        assert!(!cond.locked());
        assert_eq!(queued(&*cond), 0);
    }
    // In even rounds W1 was aborted while this thread held the lock: it cannot have returned.
    assert!(dropped_rounds >= 5, "{dropped_rounds}");
}

// conformance
#[test]
fn cancellation_comes_from_outside_and_reaches_the_caller_unchanged() {
    run_in_task(async {
        let cond = Arc::new(Condition::new());
        // While waiting: `timeout` returns its own `Elapsed`, never before the timeout.
        let g = cond.acquire().await;
        let start = Instant::now();
        assert!(tokio::time::timeout(SHORT, cond.wait(g)).await.is_err());
        assert_waited(start.elapsed(), SHORT);
        assert!(!cond.locked());
        assert_eq!(queued(&*cond), 0);

        // While retaking the lock after a notify: the caller's own branch of `select!`.
        let (cancel_tx, cancel_rx) = tokio::sync::oneshot::channel::<()>();
        let c = cond.clone();
        let waiter = tokio::spawn(async move {
            let g = c.acquire().await;
            tokio::select! {
                biased;
                _ = cancel_rx => "cancelled",
                g = c.wait(g) => {
                    drop(g);
                    "returned"
                }
            }
        });
        wait_until_async(|| queued(&*cond) == 1).await;
        let g = cond.acquire().await;
        cond.notify(&g, 1);
        wait_until_async(|| queued(&**cond.lock()) == 1).await;
        cancel_tx.send(()).unwrap();
        assert_eq!(waiter.await.unwrap(), "cancelled");
        assert!(cond.lock().is_owned());
        drop(g);
        assert!(!cond.locked());

        // An aborted task: tokio's own JoinError.
        let c = cond.clone();
        let waiter = tokio::spawn(async move {
            let g = c.acquire().await;
            drop(c.wait(g).await);
        });
        wait_until_async(|| queued(&*cond) == 1).await;
        waiter.abort();
        assert!(waiter.await.unwrap_err().is_cancelled());
        assert!(!cond.locked());
        assert_eq!(queued(&*cond), 0);
    });
}

// ---------------------------------------------------------------------------------------
// Threads and tasks on one condition.

// conformance: A-16, C-21
#[test]
fn notify_order_is_fifo_across_threads_and_tasks() {
    let rt = common::mt_runtime();
    let cond = Arc::new(Condition::new());
    let woken = Arc::new(Mutex::new(Vec::new()));
    let mut threads = Vec::new();
    let mut tasks = Vec::new();
    for i in 0..6 {
        let (c, w) = (cond.clone(), woken.clone());
        if i % 2 == 0 {
            threads.push(std::thread::spawn(move || {
                let c = c.blocking();
                let g = c.acquire();
                let g = c.wait(g);
                w.lock().unwrap().push(i);
                drop(g);
            }));
        } else {
            tasks.push(rt.spawn(async move {
                let g = c.acquire().await;
                let g = c.wait(g).await;
                w.lock().unwrap().push(i);
                drop(g);
            }));
        }
        wait_until(|| queued(&*cond) == i + 1);
    }
    for k in 1..=6 {
        let g = cond.blocking().acquire();
        cond.blocking().notify(&g, 1);
        assert_eq!(queued(&*cond), 6 - k);
        drop(g);
        wait_until(|| woken.lock().unwrap().len() == k);
    }
    assert_eq!(*woken.lock().unwrap(), [0, 1, 2, 3, 4, 5]);
    for t in threads {
        t.join().unwrap();
    }
    for t in tasks {
        rt.block_on(t).unwrap();
    }
    assert!(!cond.locked());
}

#[test]
fn two_conditions_on_one_rlock_serve_threads_and_tasks_as_a_bounded_queue() {
    const PER_PRODUCER: usize = 200;
    const CAP: usize = 3;
    let rt = common::mt_runtime();
    let lock = Arc::new(RLock::new());
    let not_empty = Arc::new(Condition::with_lock(lock.clone()));
    let not_full = Arc::new(Condition::with_lock(lock.clone()));
    let buf = Arc::new(Mutex::new(VecDeque::new()));
    let taken = Arc::new(AtomicUsize::new(0));
    let total = 2 * PER_PRODUCER;

    let (ne, nf, b) = (not_empty.clone(), not_full.clone(), buf.clone());
    let thread_producer = std::thread::spawn(move || {
        let (ne, nf) = (ne.blocking(), nf.blocking());
        for i in 0..PER_PRODUCER {
            let g = nf.acquire();
            let g = nf.wait_for(g, || b.lock().unwrap().len() < CAP);
            b.lock().unwrap().push_back((0, i));
            ne.notify(&g, 1);
            drop(g);
        }
    });
    let (ne, nf, b) = (not_empty.clone(), not_full.clone(), buf.clone());
    let task_producer = rt.spawn(async move {
        for i in 0..PER_PRODUCER {
            let g = nf.acquire().await;
            let g = nf.wait_for(g, || b.lock().unwrap().len() < CAP).await;
            b.lock().unwrap().push_back((1, i));
            ne.notify(&g, 1);
            drop(g);
        }
    });
    let (ne, nf, b, t) = (
        not_empty.clone(),
        not_full.clone(),
        buf.clone(),
        taken.clone(),
    );
    let thread_consumer = std::thread::spawn(move || {
        let (ne, nf) = (ne.blocking(), nf.blocking());
        let mut got = Vec::new();
        loop {
            let g = ne.acquire();
            let g = ne.wait_for(g, || {
                !b.lock().unwrap().is_empty() || t.load(SeqCst) == total
            });
            let Some(item) = b.lock().unwrap().pop_front() else {
                break;
            };
            got.push(item);
            if t.fetch_add(1, SeqCst) + 1 == total {
                ne.notify_all(&g);
            }
            nf.notify(&g, 1);
            drop(g);
        }
        got
    });
    let (ne, nf, b, t) = (
        not_empty.clone(),
        not_full.clone(),
        buf.clone(),
        taken.clone(),
    );
    let task_consumer = rt.spawn(async move {
        let mut got = Vec::new();
        loop {
            let g = ne.acquire().await;
            let g = ne
                .wait_for(g, || {
                    !b.lock().unwrap().is_empty() || t.load(SeqCst) == total
                })
                .await;
            let Some(item) = b.lock().unwrap().pop_front() else {
                break;
            };
            got.push(item);
            if t.fetch_add(1, SeqCst) + 1 == total {
                ne.notify_all(&g);
            }
            nf.notify(&g, 1);
            drop(g);
        }
        got
    });
    thread_producer.join().unwrap();
    rt.block_on(task_producer).unwrap();
    let mut all = thread_consumer.join().unwrap();
    let from_task = rt.block_on(task_consumer).unwrap();
    // Each consumer saw each producer's items in order.
    for got in [&all, &from_task] {
        for p in 0..2 {
            let mine: Vec<_> = got.iter().filter(|x| x.0 == p).map(|x| x.1).collect();
            assert!(
                mine.windows(2).all(|w| w[0] < w[1]),
                "out of order: {mine:?}"
            );
        }
    }
    all.extend(from_task);
    all.sort();
    let expected: Vec<_> = (0..2)
        .flat_map(|p| (0..PER_PRODUCER).map(move |i| (p, i)))
        .collect();
    assert_eq!(all, expected);
    assert!(!lock.locked());
    assert_eq!((queued(&*not_empty), queued(&*not_full)), (0, 0));
}

// conformance
#[test]
fn cancel_storm_loses_no_notification() {
    // One item at a time: the producer (this thread) puts it up and notifies one waiter,
    // then waits, on a second condition over the same lock, until the consumer (a thread)
    // has taken it. Meanwhile noise tasks crowd the queue with waits cancelled at random
    // points (by `tokio::time::timeout`, or by `select!` after a random number of polls)
    // until 2,000 of them were: a noise wait that returns hands its notification on by
    // hand, a cancelled one must do so by itself. A notification lost
    // on the way leaves the item untaken, and the producer's wait times out.
    const NOISE_TASKS: u64 = 4;
    const CANCELS: usize = 2_000;
    const MAX_WAITS_PER_TASK: usize = 10_000;
    let rt = common::mt_runtime();
    let cond = Arc::new(Condition::new());
    let taken_cond = Arc::new(Condition::with_lock(cond.lock().clone()));
    let items = Arc::new(AtomicUsize::new(0));
    let consumed = Arc::new(AtomicUsize::new(0));
    let stop = Arc::new(AtomicBool::new(false));
    let cancelled = Arc::new(AtomicUsize::new(0));
    let passed = Arc::new(AtomicUsize::new(0));
    let noise_left = Arc::new(AtomicUsize::new(NOISE_TASKS as usize));

    let (c, tc, it, co, st) = (
        cond.clone(),
        taken_cond.clone(),
        items.clone(),
        consumed.clone(),
        stop.clone(),
    );
    let consumer = std::thread::spawn(move || {
        let (c, tc) = (c.blocking(), tc.blocking());
        let mut g = c.acquire();
        loop {
            g = c.wait_for(g, || it.load(SeqCst) > 0 || st.load(SeqCst));
            if it.load(SeqCst) == 0 {
                break;
            }
            it.fetch_sub(1, SeqCst);
            co.fetch_add(1, SeqCst);
            tc.notify(&g, 1);
        }
        drop(g);
    });

    let noise: Vec<_> = (0..NOISE_TASKS)
        .map(|i| {
            let (c, ca, pa, left) = (
                cond.clone(),
                cancelled.clone(),
                passed.clone(),
                noise_left.clone(),
            );
            rt.spawn(async move {
                let mut rng = Lcg(i + 7);
                for _ in 0..MAX_WAITS_PER_TASK {
                    if ca.load(SeqCst) >= CANCELS {
                        break;
                    }
                    let wait = async {
                        let g = c.acquire().await;
                        let g = c.wait(g).await;
                        // Not ours to keep: pass it on.
                        c.notify(&g, 1);
                    };
                    // Cancelled by a timer, or after a random number of polls.
                    let r = rng.next();
                    let waited = if r % 2 == 0 {
                        let t = Duration::from_micros(r / 2 % 100);
                        tokio::time::timeout(t, wait).await.is_ok()
                    } else {
                        tokio::select! {
                            () = wait => true,
                            () = yields(r / 2 % 8) => false,
                        }
                    };
                    if waited {
                        pa.fetch_add(1, SeqCst);
                    } else {
                        ca.fetch_add(1, SeqCst);
                    }
                }
                left.fetch_sub(1, SeqCst);
            })
        })
        .collect();

    let (c, tc) = (cond.blocking(), taken_cond.blocking());
    let mut produced = 0;
    while noise_left.load(SeqCst) > 0 && produced < 100_000 {
        let g = c.acquire();
        items.fetch_add(1, SeqCst);
        produced += 1;
        c.notify(&g, 1);
        let (g, taken) = tc.wait_for_timeout(g, || items.load(SeqCst) == 0, LATE);
        assert!(
            taken,
            "item {produced} was never taken: a notification was lost"
        );
        drop(g);
    }
    for n in noise {
        rt.block_on(n).unwrap();
    }
    let g = c.acquire();
    stop.store(true, SeqCst);
    c.notify_all(&g);
    drop(g);
    consumer.join().unwrap();

    assert!(produced > 0);
    assert_eq!(consumed.load(SeqCst), produced);
    let (cancelled, passed) = (cancelled.load(SeqCst), passed.load(SeqCst));
    assert!(
        cancelled >= CANCELS,
        "only {cancelled} waits were cancelled"
    );
    assert!(passed > 0, "no notification reached a noise waiter");
    assert!(!cond.locked());
    assert_eq!(queued(&*cond), 0);
    assert_eq!(queued(&*taken_cond), 0);
}

// conformance: TO-8, C-14, TO-6
#[tokio::test(start_paused = true)]
async fn async_deadlines_are_fixed_on_tokios_clock() {
    let cond = Arc::new(Condition::new());
    let c = cond.clone();
    let notifier = tokio::spawn(async move {
        for _ in 0..1000 {
            tokio::time::sleep(Duration::from_millis(10)).await;
            let g = c.acquire().await;
            c.notify_all(&g);
        }
    });
    let g = cond.acquire().await;
    let start = tokio::time::Instant::now();
    let mut calls = 0;
    let (g, ok) = cond
        .wait_for_timeout(
            g,
            || {
                calls += 1;
                false
            },
            Duration::from_millis(100),
        )
        .await;
    let elapsed = start.elapsed();
    assert!(!ok);
    assert!(elapsed >= Duration::from_millis(100), "early: {elapsed:?}");
    assert!(
        elapsed <= Duration::from_millis(110),
        "the deadline moved: {elapsed:?}"
    );
    assert!(calls >= 5, "the notifications did not arrive ({calls})");
    drop(g);
    notifier.abort();

    // A timed wait nobody notifies: exactly its timeout on tokio's clock.
    let g = cond.acquire().await;
    let start = tokio::time::Instant::now();
    let (g, notified) = cond.wait_timeout(g, Duration::from_secs(3600)).await;
    assert!(!notified);
    assert!(start.elapsed() >= Duration::from_secs(3600));
    assert!(start.elapsed() < Duration::from_secs(3601));
    drop(g);
}

// ---------------------------------------------------------------------------------------
// Inert guards (A-12's Rust reading) under reuse; the last is a crate bug, kept as a
// failing test.

// conformance: A-12
#[test]
fn inert_guards_stay_inert_when_the_generation_comes_round_again() {
    // A regression test: generations were once reused (a restore wrote back a value that
    // a later wait handed out again), and this sequence brought an inert guard back to life.
    let cond = Arc::new(Condition::new());
    // A: a thread that waits twice.
    let c = cond.clone();
    let a = std::thread::spawn(move || {
        let c = c.blocking();
        for _ in 0..2 {
            let g = c.acquire();
            let (g, notified) = c.wait_timeout(g, LONG);
            assert!(notified);
            drop(g);
        }
    });
    wait_until(|| queued(&*cond) == 1);
    // This thread (outside any task) holds two levels, notifies A, and drops a wait on the
    // inner level: b1 is inert from here on.
    let b1 = cond.try_acquire().unwrap();
    let b2 = cond.try_acquire().unwrap();
    cond.notify(&b1, 1);
    {
        let mut wait = pin!(cond.wait(b2));
        assert!(poll_once(wait.as_mut()).is_pending());
    }
    // A takes the lock back, returns, and waits again; then this thread takes the lock.
    wait_until(|| queued(&*cond) == 1 && !cond.locked());
    let b3 = cond.try_acquire().expect("free while A waits");
    assert_eq!(cond.lock().recursion_count(), 1);
    drop(b1);
    let still_held = cond.locked();
    if still_held {
        cond.notify(&b3, 1);
        drop(b3);
    } else {
        // Let A finish before failing.
        let g = cond.try_acquire().unwrap();
        cond.notify(&g, 1);
        drop(g);
        std::mem::forget(b3);
    }
    a.join().unwrap();
    assert!(
        still_held,
        "an inert guard released the level this thread holds through a fresh guard"
    );
}

// conformance: A-12
#[test]
fn waiting_with_an_inert_guard_releases_nothing_twice() {
    let cond = Arc::new(Condition::new());
    let a = cond.try_acquire().unwrap();
    let b = cond.try_acquire().unwrap();
    {
        let mut wait = pin!(cond.wait(b));
        assert!(poll_once(wait.as_mut()).is_pending());
    }
    // `a` is inert; this thread takes the lock again through `fresh`.
    let fresh = cond.try_acquire().unwrap();
    // Waiting with the inert guard: rejecting it (a panic) is fine; if it is accepted, the
    // guard it gives back must not release `fresh`'s level as well.
    let wait = catch_unwind(AssertUnwindSafe(|| {
        let mut wait = Box::pin(cond.wait(a));
        let _ = poll_once(wait.as_mut());
        wait
    }));
    let Ok(mut wait) = wait else {
        assert!(cond.locked() && cond.lock().is_owned());
        drop(fresh);
        assert!(!cond.locked());
        return;
    };
    let c = cond.clone();
    std::thread::spawn(move || {
        let c = c.blocking();
        let g = c.acquire();
        c.notify(&g, 1);
    })
    .join()
    .unwrap();
    let back = match poll_once(wait.as_mut()) {
        Poll::Ready(g) => g,
        Poll::Pending => panic!("notified, with the lock free"),
    };
    drop(wait);
    drop(back);
    assert!(
        cond.locked(),
        "the guard returned for an inert one released the level held through `fresh`"
    );
    drop(fresh);
    assert!(!cond.locked());
}
