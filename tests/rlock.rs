//! Conformance tests of `RLock`, in both forms: the blocking form owned by plain threads,
//! the async form owned by tokio tasks.
//!
//! Tests that read the same in both forms are written once, in `both_forms!`, which expands
//! them into `blocking_form::*` (the body runs on a plain thread, no runtime) and
//! `async_form::*` (the body runs as a tokio task on a two-worker runtime, so that the owner
//! is a task and not the thread inside `block_on`). Inside those bodies `aw!(e)` is `e` or
//! `e.await`, `spawn!{..}` starts a thread or a task, `join!(h)` waits for it, `until!(c)`
//! waits (bounded) until `c` holds, `L` is the form's `RLock` type and `OWNER` how its
//! `Debug` names an owner.
//!
//! Both fail a body that runs past a 60 s watchdog, so a lost wake-up fails the test instead
//! of hanging the suite.
//!
//! Never sleep to prove a waiter is blocked: wait until the lock's `Debug` output shows it
//! queued (`queued(&lock)`).

mod common;
use common::{
    assert_quick, assert_waited, queued, run_in_task, run_on_thread, wait_until_async, LATE, SHORT,
};

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering::SeqCst};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use threading::{RLock, RLockReleaseError, TIMEOUT_MAX};

macro_rules! both_forms {
    (@with ($d:tt) $($(#[$meta:meta])* fn $name:ident() $body:block)*) => {
        mod blocking_form {
            #![allow(unused_imports, unused_macros)]
            use super::*;
            type L = threading::blocking::RLock;
            const OWNER: &str = "owner=thread-";
            macro_rules! aw { ($d e:expr) => { $d e }; }
            macro_rules! spawn {
                ($d ($d t:tt)*) => { std::thread::spawn(move || { $d ($d t)* }) };
            }
            macro_rules! join { ($d h:expr) => { $d h.join().unwrap() }; }
            macro_rules! yield_now { () => { std::thread::yield_now() }; }
            macro_rules! until { ($d c:expr) => { common::wait_until(|| $d c) }; }
            $( $(#[$meta])* #[test] fn $name() { super::run_on_thread(move || $body) } )*
        }
        mod async_form {
            #![allow(unused_imports, unused_macros)]
            use super::*;
            type L = threading::RLock;
            const OWNER: &str = "owner=task-";
            macro_rules! aw { ($d e:expr) => { $d e.await }; }
            macro_rules! spawn {
                ($d ($d t:tt)*) => { tokio::spawn(async move { $d ($d t)* }) };
            }
            macro_rules! join { ($d h:expr) => { $d h.await.unwrap() }; }
            macro_rules! yield_now { () => { tokio::task::yield_now().await }; }
            macro_rules! until { ($d c:expr) => { super::wait_until_async(|| $d c).await }; }
            $( $(#[$meta])* #[test] fn $name() { super::run_in_task(async move $body) } )*
        }
    };
    ($($items:tt)*) => { both_forms!(@with ($) $($items)*); };
}

both_forms! {
    // conformance: LR-1
    fn constructed_and_dropped_unlocked() {
        for lock in [L::new(), L::new_fair(), L::default()] {
            assert!(!lock.locked());
            assert!(!lock.is_owned());
            assert_eq!(lock.recursion_count(), 0);
            assert_eq!(queued(&lock), 0);
            // Dropped here, unlocked.
        }
        static LOCK: L = L::new();
        static FAIR: L = L::new_fair();
        assert!(!LOCK.locked() && !LOCK.is_fair());
        assert!(!FAIR.locked() && FAIR.is_fair());
        assert!(!L::default().is_fair());
        drop(aw!(LOCK.acquire()));
        drop(aw!(FAIR.acquire()));
        assert!(!LOCK.locked() && !FAIR.locked());
    }

    // conformance: LR-3, R-8
    fn debug_shows_state_owner_count_and_waiters() {
        let lock = Arc::new(L::new());
        assert_eq!(
            format!("{lock:?}"),
            "<unlocked threading.RLock owner=None count=0 waiters=0>"
        );
        let a = aw!(lock.acquire());
        let b = aw!(lock.acquire());
        let mine = format!("{lock:?}");
        assert!(mine.starts_with("<locked threading.RLock "), "{mine}");
        assert!(mine.contains(OWNER), "{mine}");
        assert!(mine.ends_with(" count=2 waiters=0>"), "{mine}");
        assert_eq!(format!("{a:?}"), "RLockGuard");

        // Asked from another thread or task: the owner's count, not the caller's (0).
        let l = lock.clone();
        let (theirs, their_count) = join!(spawn! { (format!("{l:?}"), l.recursion_count()) });
        assert_eq!(theirs, mine);
        assert_eq!(their_count, 0);

        // A waiter shows up in the count.
        let l = lock.clone();
        let waiter = spawn! { drop(aw!(l.acquire())) };
        until!(queued(&*lock) == 1);
        assert!(format!("{lock:?}").ends_with(" count=2 waiters=1>"));
        drop(b);
        assert!(format!("{lock:?}").ends_with(" count=1 waiters=1>"));
        drop(a);
        join!(waiter);
        assert_eq!(
            format!("{lock:?}"),
            "<unlocked threading.RLock owner=None count=0 waiters=0>"
        );

        let fair = L::new_fair();
        let g = aw!(fair.acquire());
        assert!(format!("{fair:?}").ends_with(" count=1 fair waiters=0>"), "{fair:?}");
        drop(g);
    }

    // conformance: LR-4
    fn dropped_while_held() {
        for lock in [L::new(), L::new_fair()] {
            aw!(lock.acquire()).forget();
            aw!(lock.acquire()).forget();
            assert!(lock.locked());
            // Dropped here, held two levels deep.
        }
        // The last `Arc` of a held lock, dropped on another thread or task.
        let lock = Arc::new(L::new());
        aw!(lock.acquire()).forget();
        join!(spawn! {
            assert!(lock.locked());
            drop(lock)
        });
    }

    // conformance: LR-5, R-1
    fn owner_reenters_at_once_and_releases_once_per_acquire() {
        for lock in [Arc::new(L::new()), Arc::new(L::new_fair())] {
            let start = Instant::now();
            let a = aw!(lock.acquire());
            let b = aw!(lock.acquire());
            let c = aw!(lock.acquire());
            assert_quick(start, LATE);
            assert_eq!(lock.recursion_count(), 3);
            drop(c);
            assert!(lock.locked());
            drop(b);
            assert!(lock.locked());
            drop(a);
            assert!(!lock.locked());

            // Python's bare acquire()/release() pairs.
            aw!(lock.acquire()).forget();
            aw!(lock.acquire()).forget();
            lock.release().unwrap();
            assert!(lock.locked());
            lock.release().unwrap();
            assert!(!lock.locked());
            assert_eq!(lock.release(), Err(RLockReleaseError::Unlocked));

            // Free for everyone afterwards.
            let l = lock.clone();
            assert!(join!(spawn! { l.try_acquire().is_some() }));
            assert!(!lock.locked());
            assert_eq!(queued(&*lock), 0);
        }
    }

    // conformance: LR-6, R-11
    fn try_acquire_takes_a_free_lock_and_reenters() {
        for lock in [L::new(), L::new_fair()] {
            let a = lock.try_acquire().expect("a free lock");
            assert!(lock.locked() && lock.is_owned());
            let b = lock.try_acquire().expect("the owner re-enters");
            assert_eq!(lock.recursion_count(), 2);
            drop(b);
            drop(a);
            assert!(!lock.locked());
        }
    }

    // conformance: LR-7, R-11
    fn try_acquire_by_a_non_owner_fails_at_once() {
        for lock in [Arc::new(L::new()), Arc::new(L::new_fair())] {
            let a = aw!(lock.acquire());
            let b = aw!(lock.acquire());
            let l = lock.clone();
            let (got, locked, took) = join!(spawn! {
                let start = Instant::now();
                let got = l.try_acquire().is_some();
                (got, l.locked(), start.elapsed())
            });
            assert!(!got);
            assert!(locked);
            assert!(took < LATE, "try_acquire took {took:?}");
            // Nothing changed for the owner.
            assert_eq!(lock.recursion_count(), 2);
            assert_eq!(queued(&*lock), 0);
            drop(b);
            drop(a);
            assert!(!lock.locked());
        }
    }

    // conformance: LR-8, TO-1
    fn five_waiters_stay_blocked_until_the_final_release_then_all_acquire_in_turn() {
        for lock in [Arc::new(L::new()), Arc::new(L::new_fair())] {
            let a = aw!(lock.acquire());
            let b = aw!(lock.acquire());
            let inside = Arc::new(AtomicUsize::new(0));
            let most = Arc::new(AtomicUsize::new(0));
            let done = Arc::new(AtomicUsize::new(0));
            let mut waiters = Vec::new();
            for _ in 0..5 {
                let (l, inside, most, done) =
                    (lock.clone(), inside.clone(), most.clone(), done.clone());
                waiters.push(spawn! {
                    let g = aw!(l.acquire());
                    let g2 = aw!(l.acquire());
                    most.fetch_max(inside.fetch_add(1, SeqCst) + 1, SeqCst);
                    assert_eq!(l.recursion_count(), 2);
                    yield_now!();
                    inside.fetch_sub(1, SeqCst);
                    drop(g2);
                    drop(g);
                    done.fetch_add(1, SeqCst);
                });
            }
            until!(queued(&*lock) == 5);
            assert_eq!(done.load(SeqCst), 0);
            // A partial release lets nobody in: the owner still holds one level.
            drop(b);
            assert_eq!(queued(&*lock), 5);
            assert!(lock.is_owned());
            drop(a);
            for w in waiters {
                join!(w);
            }
            assert_eq!(done.load(SeqCst), 5);
            assert_eq!(most.load(SeqCst), 1, "two holders at once");
            assert!(!lock.locked());
            assert_eq!(queued(&*lock), 0);
        }
    }

    // conformance: R-10
    fn each_final_release_lets_exactly_one_waiter_proceed() {
        for lock in [Arc::new(L::new()), Arc::new(L::new_fair())] {
            aw!(lock.acquire()).forget();
            aw!(lock.acquire()).forget();
            let entered = Arc::new(AtomicUsize::new(0));
            let go = Arc::new(AtomicUsize::new(0));
            let mut waiters = Vec::new();
            for _ in 0..3 {
                let (l, entered, go) = (lock.clone(), entered.clone(), go.clone());
                waiters.push(spawn! {
                    let g = aw!(l.acquire());
                    let me = entered.fetch_add(1, SeqCst);
                    // Hold the lock until told to let go: only the owner may release it.
                    until!(go.load(SeqCst) > me);
                    drop(g);
                });
            }
            until!(queued(&*lock) == 3);
            lock.release().unwrap();
            assert_eq!(queued(&*lock), 3, "a partial release let a waiter go");
            lock.release().unwrap();
            for k in 1..=3 {
                until!(entered.load(SeqCst) >= k);
                assert_eq!(queued(&*lock), 3 - k, "one release let more than one waiter go");
                assert_eq!(entered.load(SeqCst), k);
                assert!(lock.locked());
                go.store(k, SeqCst);
            }
            for w in waiters {
                join!(w);
            }
            assert!(!lock.locked());
        }
    }

    // conformance: LR-12, TO-4, TO-7
    fn acquire_timeout_max_on_a_free_or_owned_lock_succeeds_at_once() {
        for lock in [L::new(), L::new_fair()] {
            for timeout in [TIMEOUT_MAX, TIMEOUT_MAX + Duration::from_nanos(1), Duration::MAX] {
                let start = Instant::now();
                let a = aw!(lock.acquire_timeout(timeout)).expect("a free lock");
                let b = aw!(lock.acquire_timeout(timeout)).expect("the owner re-enters");
                assert_quick(start, LATE);
                assert_eq!(lock.recursion_count(), 2);
                drop(b);
                drop(a);
                assert!(!lock.locked());
            }
        }
    }

    // conformance: LR-13, TO-7
    fn acquire_timeout_on_a_free_lock_returns_at_once() {
        for lock in [L::new(), L::new_fair()] {
            let start = Instant::now();
            let a = aw!(lock.acquire_timeout(Duration::from_secs(60))).expect("a free lock");
            let b = aw!(lock.acquire_timeout(Duration::from_secs(60))).expect("re-entry");
            assert_quick(start, LATE);
            assert!(lock.locked());
            drop((b, a));
            assert!(!lock.locked());
        }
    }

    // conformance: LR-11, TO-2
    fn zero_timeout_is_a_try() {
        // TO-2 and TO-3 as Python states them cannot be written in Rust (`try_acquire()` and
        // `acquire_timeout(d)` are separate methods, and a `Duration` is never negative).
        // What remains (SPEC): a zero timeout is a try, also for re-entry.
        for lock in [Arc::new(L::new()), Arc::new(L::new_fair())] {
            let a = aw!(lock.acquire_timeout(Duration::ZERO)).expect("a free lock");
            let b = aw!(lock.acquire_timeout(Duration::ZERO)).expect("re-entry");
            let l = lock.clone();
            let start = Instant::now();
            assert!(join!(spawn! { aw!(l.acquire_timeout(Duration::ZERO)).is_none() }));
            assert_quick(start, LATE);
            assert_eq!(queued(&*lock), 0);
            drop((b, a));
            assert!(!lock.locked());
        }
    }

    // conformance: LR-14, TO-6
    fn acquire_timeout_while_another_holds_fails_never_early_and_leaves_no_waiter() {
        for lock in [Arc::new(L::new()), Arc::new(L::new_fair())] {
            let held = aw!(lock.acquire());
            let l = lock.clone();
            let (got, elapsed) = join!(spawn! {
                let start = Instant::now();
                let got = aw!(l.acquire_timeout(SHORT)).is_some();
                (got, start.elapsed())
            });
            assert!(!got);
            assert_waited(elapsed, SHORT);
            assert!(lock.locked() && lock.is_owned());
            assert_eq!(queued(&*lock), 0);
            drop(held);
            assert!(!lock.locked());
            let l = lock.clone();
            assert!(join!(spawn! { l.try_acquire().is_some() }));
        }
    }

    // conformance: TO-1, TO-4
    fn acquire_and_huge_timeouts_on_a_held_lock_wait_until_release() {
        let lock = Arc::new(L::new_fair());
        let held = aw!(lock.acquire());
        let got = Arc::new(AtomicUsize::new(0));
        let mut waiters = Vec::new();
        let (l, g) = (lock.clone(), got.clone());
        waiters.push(spawn! {
            drop(aw!(l.acquire()));
            g.fetch_add(1, SeqCst);
        });
        for timeout in [TIMEOUT_MAX, TIMEOUT_MAX + Duration::from_nanos(1), Duration::MAX] {
            let (l, g) = (lock.clone(), got.clone());
            waiters.push(spawn! {
                let guard = aw!(l.acquire_timeout(timeout)).expect("released, not timed out");
                drop(guard);
                g.fetch_add(1, SeqCst);
            });
        }
        until!(queued(&*lock) == 4);
        // Still waiting a while later: no early return, no error.
        std::thread::sleep(Duration::from_millis(50));
        assert_eq!(got.load(SeqCst), 0);
        assert_eq!(queued(&*lock), 4);
        drop(held);
        for w in waiters {
            join!(w);
        }
        assert_eq!(got.load(SeqCst), 4);
        assert!(!lock.locked());
    }

    // conformance: R-2
    fn release_of_an_unheld_lock_is_an_error() {
        fn is_error<E: std::error::Error + Send + Sync + 'static>(_: &E) {}
        for lock in [L::new(), L::new_fair()] {
            let err = lock.release().unwrap_err();
            is_error(&err);
            assert_eq!(err, RLockReleaseError::Unlocked);
            assert!(err.to_string().contains("not locked"), "{err}");
            // After balanced nesting, likewise.
            aw!(lock.acquire()).forget();
            aw!(lock.acquire()).forget();
            lock.release().unwrap();
            lock.release().unwrap();
            assert_eq!(lock.release(), Err(RLockReleaseError::Unlocked));
            // Nothing changed: one lock, still usable.
            assert!(!lock.locked());
            let g = aw!(lock.acquire());
            assert_eq!(lock.recursion_count(), 1);
            drop(g);
            assert!(!lock.locked());
        }
    }

    // conformance: R-3
    fn release_by_a_non_owner_is_an_error_and_changes_nothing() {
        for lock in [Arc::new(L::new()), Arc::new(L::new_fair())] {
            let a = aw!(lock.acquire());
            let b = aw!(lock.acquire());
            let l = lock.clone();
            let (err, still_held) = join!(spawn! {
                let err = l.release();
                (err, l.try_acquire().is_none())
            });
            let err = err.unwrap_err();
            assert_eq!(err, RLockReleaseError::NotOwner);
            assert!(err.to_string().contains("only the owner"), "{err}");
            assert!(still_held);
            assert!(lock.is_owned());
            assert_eq!(lock.recursion_count(), 2);
            assert!(format!("{lock:?}").contains(" count=2 "));
            drop(b);
            drop(a);
            assert!(!lock.locked());
        }
    }

    // conformance: R-4
    fn is_owned_only_by_the_owner_at_every_level() {
        let lock = Arc::new(L::new());
        assert!(!lock.is_owned());
        let a = aw!(lock.acquire());
        assert!(lock.is_owned());
        let b = aw!(lock.acquire());
        assert!(lock.is_owned());
        let l = lock.clone();
        assert!(!join!(spawn! { l.is_owned() }));
        drop(b);
        assert!(lock.is_owned(), "owned after a partial release");
        let l = lock.clone();
        assert!(!join!(spawn! { l.is_owned() }));
        drop(a);
        assert!(!lock.is_owned());
    }

    // conformance: R-5
    fn recursion_count_tracks_nesting_and_reads_zero_for_others() {
        let lock = Arc::new(L::new());
        assert_eq!(lock.recursion_count(), 0);
        let a = aw!(lock.acquire());
        assert_eq!(lock.recursion_count(), 1);
        let b = aw!(lock.acquire());
        let c = aw!(lock.acquire());
        assert_eq!(lock.recursion_count(), 3);
        let l = lock.clone();
        assert_eq!(join!(spawn! { l.recursion_count() }), 0);
        drop(c);
        assert_eq!(lock.recursion_count(), 2);
        drop(b);
        drop(a);
        assert_eq!(lock.recursion_count(), 0);
        // Held elsewhere: still 0 here.
        let checked = Arc::new(AtomicBool::new(false));
        let (l, c) = (lock.clone(), checked.clone());
        let holder = spawn! {
            let g = aw!(l.acquire());
            let g2 = aw!(l.acquire());
            until!(c.load(SeqCst));
            drop((g2, g));
        };
        until!(lock.locked());
        assert_eq!(lock.recursion_count(), 0);
        assert!(!lock.is_owned());
        checked.store(true, SeqCst);
        join!(holder);
        assert!(!lock.locked());
    }

    // conformance: R-6
    fn locked_at_every_level_until_the_final_release() {
        let lock = L::new();
        assert!(!lock.locked());
        let a = aw!(lock.acquire());
        assert!(lock.locked());
        let b = aw!(lock.acquire());
        assert!(lock.locked());
        drop(b);
        assert!(lock.locked(), "locked after a partial release");
        drop(a);
        assert!(!lock.locked());
    }

    // conformance: R-7
    fn locked_for_non_owners_and_left_locked_by_an_owner_that_ended() {
        let lock = Arc::new(L::new());
        let l = lock.clone();
        join!(spawn! {
            aw!(l.acquire()).forget();
            aw!(l.acquire()).forget();
            assert!(l.is_owned());
        });
        // The owner ended without releasing: there is no release when it ends.
        assert!(lock.locked());
        assert!(!lock.is_owned());
        assert_eq!(lock.recursion_count(), 0);
        assert!(format!("{lock:?}").contains(" count=2 "));
        assert!(lock.try_acquire().is_none());
        assert_eq!(lock.release(), Err(RLockReleaseError::NotOwner));
        let l = lock.clone();
        assert!(join!(spawn! { l.locked() && l.try_acquire().is_none() }));
        let start = Instant::now();
        assert!(aw!(lock.acquire_timeout(SHORT)).is_none());
        assert_waited(start.elapsed(), SHORT);
        assert!(lock.locked());
    }

    // conformance: LR-15
    fn arc_and_weak_references() {
        let lock = Arc::new(L::new());
        let weak = Arc::downgrade(&lock);
        assert!(weak.upgrade().is_some());
        // An owned guard keeps the lock alive.
        let guard = aw!(lock.acquire_owned());
        drop(lock);
        let alive = weak.upgrade().expect("the guard keeps the lock alive");
        assert!(alive.locked() && alive.is_owned());
        drop(alive);
        drop(guard);
        assert!(weak.upgrade().is_none());
    }

    fn owned_and_borrowed_guards_nest_in_any_drop_order() {
        for lock in [Arc::new(L::new()), Arc::new(L::new_fair())] {
            let a = aw!(lock.acquire_owned());
            let b = aw!(lock.acquire());
            let c = aw!(lock.acquire_owned());
            assert_eq!(lock.recursion_count(), 3);
            assert!(a.lock().is_owned());
            let s = format!("{c:?}");
            assert!(s.starts_with("OwnedRLockGuard") && s.contains("<locked"), "{s}");
            // Each guard is one level, whatever the order they are dropped in.
            drop(a);
            assert_eq!(lock.recursion_count(), 2);
            drop(c);
            assert_eq!(lock.recursion_count(), 1);
            let l = lock.clone();
            assert!(join!(spawn! { l.try_acquire().is_none() }));
            drop(b);
            assert!(!lock.locked());
            let l = lock.clone();
            assert!(join!(spawn! { l.try_acquire().is_some() }));
        }
    }

    fn fair_lock_hands_off_in_arrival_order() {
        let lock = Arc::new(L::new_fair());
        let held = aw!(lock.acquire());
        let order = Arc::new(Mutex::new(Vec::new()));
        let mut waiters = Vec::new();
        for i in 0..4 {
            let (l, o) = (lock.clone(), order.clone());
            waiters.push(spawn! {
                let g = aw!(l.acquire());
                o.lock().unwrap().push(i);
                drop(g);
            });
            until!(queued(&*lock) == i + 1);
        }
        drop(held);
        for w in waiters {
            join!(w);
        }
        assert_eq!(*order.lock().unwrap(), [0, 1, 2, 3]);
        assert!(!lock.locked());
    }

    fn default_lock_starves_no_waiter_of_a_barging_owner() {
        // The default policy lets a running newcomer take a just-released lock, but hands it
        // to a waiter that has waited about a millisecond. An owner that re-takes the lock
        // at once after each release must therefore let the waiter in soon.
        let lock = Arc::new(L::new());
        let held = aw!(lock.acquire());
        let got = Arc::new(AtomicBool::new(false));
        let (l, g) = (lock.clone(), got.clone());
        let waiter = spawn! {
            drop(aw!(l.acquire()));
            g.store(true, SeqCst);
        };
        until!(queued(&*lock) == 1);
        drop(held);
        let start = Instant::now();
        let mut rounds = 0;
        while !got.load(SeqCst) && rounds < 1_000_000 {
            assert!(start.elapsed() < LATE, "the waiter starved");
            if let Some(g) = lock.try_acquire() {
                std::hint::spin_loop();
                drop(g);
            }
            rounds += 1;
            if rounds % 64 == 0 {
                yield_now!();
            }
        }
        assert!(got.load(SeqCst), "the waiter starved for {rounds} rounds");
        join!(waiter);
        assert!(!lock.locked());
    }
}

// conformance: LR-2
// `RLock::new()` and `RLock::new_fair()` take no arguments: the type signature enforces what
// Python checks at run time, so there is nothing to test.

// conformance: R-9
// Python's `_release_save` on an RLock nobody holds raises RuntimeError. Its Rust
// counterpart is the release inside a `Condition` wait, and a wait takes the lock's guard by
// value: without a guard, a wait on an unheld lock cannot be written (see the `compile_fail`
// example in `src/condition.rs`). A guard moved to a non-owner is rejected instead: see
// `wait_with_a_guard_the_caller_does_not_own_panics` in `tests/condition.rs`.

// ---------------------------------------------------------------------------------------
// Guards and panics.

// conformance: LR-9
#[test]
fn blocking_guards_release_on_scope_exit_and_on_panic() {
    let lock = Arc::new(threading::blocking::RLock::new());
    {
        let _a = lock.acquire();
        let _b = lock.acquire();
        assert_eq!(lock.recursion_count(), 2);
    }
    assert!(!lock.locked());

    let l = lock.clone();
    let panicked = std::panic::catch_unwind(move || {
        let _a = l.acquire();
        let _b = l.acquire_owned();
        assert!(l.locked());
        std::panic::panic_any(42_u32);
    })
    .unwrap_err();
    // The panic propagates unchanged, and every level is released.
    assert_eq!(panicked.downcast_ref::<u32>(), Some(&42));
    assert!(!lock.locked());
    let l = lock.clone();
    assert!(std::thread::spawn(move || l.try_acquire().is_some())
        .join()
        .unwrap());

    // A thread that panics holding the lock frees it for everyone else.
    let l = lock.clone();
    let err = std::thread::spawn(move || {
        let _g = l.acquire();
        std::panic::panic_any("boom")
    })
    .join()
    .unwrap_err();
    assert_eq!(err.downcast_ref::<&str>(), Some(&"boom"));
    assert!(!lock.locked());
    drop(lock.acquire());
}

// conformance: LR-9
#[test]
fn async_guards_release_on_scope_exit_and_on_panic() {
    use futures::FutureExt;
    run_in_task(async {
        let lock = Arc::new(RLock::new());
        {
            let _a = lock.acquire().await;
            let _b = lock.acquire().await;
            assert_eq!(lock.recursion_count(), 2);
        }
        assert!(!lock.locked());

        let l = lock.clone();
        let panicked = std::panic::AssertUnwindSafe(async move {
            let _a = l.acquire().await;
            let _b = l.acquire_owned().await;
            tokio::task::yield_now().await;
            std::panic::panic_any(42_u32);
        })
        .catch_unwind()
        .await
        .unwrap_err();
        assert_eq!(panicked.downcast_ref::<u32>(), Some(&42));
        assert!(!lock.locked());

        // A task that panics holding the lock frees it, and a waiting task gets it.
        let l = lock.clone();
        let holder = tokio::spawn(async move {
            let _g = l.acquire().await;
            let _g2 = l.acquire().await;
            wait_until_async(|| queued(&*l) == 1).await;
            std::panic::panic_any("boom")
        });
        wait_until_async(|| lock.locked()).await;
        let l = lock.clone();
        let waiter = tokio::spawn(async move { drop(l.acquire().await) });
        let err = holder.await.unwrap_err();
        assert!(err.is_panic());
        assert_eq!(err.into_panic().downcast_ref::<&str>(), Some(&"boom"));
        waiter.await.unwrap();
        assert!(!lock.locked());
    });
}

// ---------------------------------------------------------------------------------------
// Ownership in the async form: the task, not the worker thread.

// conformance
#[test]
fn two_tasks_on_one_thread_do_not_share_ownership() {
    common::ct_runtime().block_on(async {
        let lock = Arc::new(RLock::new());
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        let l = lock.clone();
        let holder = tokio::spawn(async move {
            let g = l.acquire().await;
            rx.await.unwrap();
            // Still the owner after an `.await`: it re-enters.
            let g2 = l.try_acquire().expect("the owner re-enters");
            assert_eq!(l.recursion_count(), 2);
            drop(g2);
            drop(g);
            std::thread::current().id()
        });
        wait_until_async(|| lock.locked()).await;
        let l = lock.clone();
        let other = tokio::spawn(async move {
            // The same OS thread, another task: not the owner.
            assert!(!l.is_owned());
            assert_eq!(l.recursion_count(), 0);
            assert!(l.try_acquire().is_none());
            assert_eq!(l.release(), Err(RLockReleaseError::NotOwner));
            let g = l.acquire().await;
            assert_eq!(l.recursion_count(), 1);
            drop(g);
            std::thread::current().id()
        });
        wait_until_async(|| queued(&*lock) == 1).await;
        assert!(!other.is_finished());
        tx.send(()).unwrap();
        let (a, b) = (holder.await.unwrap(), other.await.unwrap());
        assert_eq!(
            a, b,
            "a current-thread runtime runs both tasks on one thread"
        );
        assert_eq!(a, std::thread::current().id());
        assert!(!lock.locked());
    });
}

// conformance
#[test]
fn a_task_keeps_ownership_across_awaits_that_move_it_between_workers() {
    let rt = common::mt_runtime();
    let lock = Arc::new(RLock::new());
    let l = lock.clone();
    let moves = rt
        .block_on(rt.spawn(async move {
            let outer = l.acquire().await;
            let mut moves = 0;
            for _ in 0..40 {
                if moves >= 3 {
                    break;
                }
                let before = std::thread::current().id();
                // Occupy this worker with a task that blocks it (a task spawned from a worker
                // runs next on that worker), so that this one resumes on the other worker.
                let stop = Arc::new(AtomicBool::new(false));
                let s = stop.clone();
                let blocker = tokio::spawn(async move {
                    let start = Instant::now();
                    while !s.load(SeqCst) && start.elapsed() < Duration::from_millis(200) {
                        std::thread::sleep(Duration::from_millis(1));
                    }
                });
                tokio::time::sleep(Duration::from_millis(2)).await;
                if std::thread::current().id() != before {
                    moves += 1;
                }
                // Wherever it runs now, it is still the owner: it re-enters and releases.
                assert!(l.is_owned());
                assert_eq!(l.recursion_count(), 1);
                let inner = l.acquire().await;
                let again = l.try_acquire().expect("re-entry after a move");
                assert_eq!(l.recursion_count(), 3);
                drop(again);
                drop(inner);
                assert_eq!(l.recursion_count(), 1);
                stop.store(true, SeqCst);
                blocker.await.unwrap();
            }
            drop(outer);
            assert!(!l.locked());
            moves
        }))
        .unwrap();
    assert!(moves > 0, "the task never moved between workers");
    assert!(!lock.locked());
}

// conformance, LR-7
#[test]
fn a_thread_and_a_task_never_share_ownership_even_on_one_os_thread() {
    let rt = common::ct_runtime();
    let lock = Arc::new(RLock::new());

    // This thread holds the blocking form; a task running on this very thread is not the
    // owner.
    let g = lock.blocking().acquire();
    let l = lock.clone();
    rt.block_on(async move {
        tokio::spawn(async move {
            assert!(!l.is_owned());
            assert_eq!(l.recursion_count(), 0);
            assert!(l.try_acquire().is_none());
            assert_eq!(l.release(), Err(RLockReleaseError::NotOwner));
            let start = Instant::now();
            assert!(l.acquire_timeout(SHORT).await.is_none());
            assert_waited(start.elapsed(), SHORT);
        })
        .await
        .unwrap()
    });
    assert_eq!(lock.blocking().recursion_count(), 1);
    drop(g);
    assert!(!lock.locked());

    // A task holds the async form; the thread it runs on is not the owner.
    let l = lock.clone();
    rt.block_on(async move {
        tokio::spawn(async move {
            let g = l.acquire().await;
            let b = l.blocking();
            assert!(!b.is_owned());
            assert_eq!(b.recursion_count(), 0);
            assert!(b.try_acquire().is_none());
            assert_eq!(b.release(), Err(RLockReleaseError::NotOwner));
            assert_eq!(l.recursion_count(), 1);
            drop(g);
        })
        .await
        .unwrap()
    });
    assert!(!lock.locked());
}

#[test]
fn threads_and_tasks_wait_for_each_other() {
    let rt = common::mt_runtime();
    let lock = Arc::new(RLock::new());

    // A task holds; a plain thread blocks until the task lets go.
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    let l = lock.clone();
    let task = rt.spawn(async move {
        let g = l.acquire().await;
        let g2 = l.acquire().await;
        rx.await.unwrap();
        drop(g2);
        drop(g);
    });
    common::wait_until(|| lock.locked());
    let l = lock.clone();
    let thread = std::thread::spawn(move || {
        let b = l.blocking();
        let g = b.acquire();
        assert_eq!(b.recursion_count(), 1);
        drop(g);
    });
    common::wait_until(|| queued(&*lock) == 1);
    tx.send(()).unwrap();
    thread.join().unwrap();
    rt.block_on(task).unwrap();
    assert!(!lock.locked());

    // A thread holds; a task waits until the thread lets go.
    let b = lock.blocking();
    let g = b.acquire();
    let g2 = b.acquire();
    let l = lock.clone();
    let task = rt.spawn(async move {
        let g = l.acquire().await;
        assert_eq!(l.recursion_count(), 1);
        drop(g);
    });
    common::wait_until(|| queued(&*lock) == 1);
    drop(g2);
    assert_eq!(queued(&*lock), 1);
    drop(g);
    rt.block_on(task).unwrap();
    assert!(!lock.locked());
}

#[test]
fn outside_any_task_the_async_form_is_owned_by_the_thread() {
    // Documented: directly inside `block_on` there is no task, so the owner is the thread,
    // the same owner as the blocking form's on that thread.
    let lock = RLock::new();
    common::ct_runtime().block_on(async {
        let g = lock.acquire().await;
        assert!(format!("{lock:?}").contains("owner=thread-"));
        let b = lock
            .blocking()
            .try_acquire()
            .expect("the same owner: this thread");
        assert_eq!(lock.recursion_count(), 2);
        assert_eq!(lock.blocking().recursion_count(), 2);
        drop(b);
        drop(g);
    });
    assert!(!lock.locked());
}

// conformance: R-1
#[test]
fn futures_joined_in_one_task_share_its_identity() {
    run_in_task(async {
        let lock = RLock::new();
        let (held_tx, held_rx) = tokio::sync::oneshot::channel::<()>();
        let (done_tx, done_rx) = tokio::sync::oneshot::channel::<()>();
        let first = async {
            let g = lock.acquire().await;
            held_tx.send(()).unwrap();
            // Hold it across an `.await` while the other future runs.
            done_rx.await.unwrap();
            assert_eq!(lock.recursion_count(), 1);
            drop(g);
        };
        let second = async {
            held_rx.await.unwrap();
            // The other future of this task holds the lock: this one re-enters.
            assert!(lock.is_owned());
            let a = lock.try_acquire().expect("same task: re-entry");
            let b = lock.acquire().await;
            let c = lock
                .acquire_timeout(Duration::ZERO)
                .await
                .expect("re-entry");
            assert_eq!(lock.recursion_count(), 4);
            drop((c, b, a));
            done_tx.send(()).unwrap();
        };
        tokio::join!(first, second);
        assert!(!lock.locked());
    });
}

#[test]
fn a_spawn_blocking_closure_is_a_task_of_its_own() {
    run_in_task(async {
        let lock = Arc::new(RLock::new());
        let g = lock.acquire().await;
        let l = lock.clone();
        let (got, owned, released) = tokio::task::spawn_blocking(move || {
            (l.try_acquire().is_some(), l.is_owned(), l.release())
        })
        .await
        .unwrap();
        assert!(!got && !owned);
        assert_eq!(released, Err(RLockReleaseError::NotOwner));
        assert_eq!(lock.recursion_count(), 1);
        drop(g);

        let l = lock.clone();
        tokio::task::spawn_blocking(move || {
            let a = l.try_acquire().expect("a free lock");
            let b = l.try_acquire().expect("the closure re-enters");
            assert_eq!(l.recursion_count(), 2);
            assert!(format!("{l:?}").contains("owner=task-"));
            drop((b, a));
        })
        .await
        .unwrap();
        assert!(!lock.locked());
    });
}

#[test]
fn async_owned_guard_dropped_by_another_task_releases_nothing() {
    run_in_task(async {
        let lock = Arc::new(RLock::new());
        let g = lock.acquire_owned().await;
        assert!(Arc::ptr_eq(g.lock(), &lock));
        // Only the owner may release an RLock: dropped elsewhere, the guard does nothing.
        tokio::spawn(async move { drop(g) }).await.unwrap();
        assert!(lock.locked() && lock.is_owned());
        assert_eq!(lock.recursion_count(), 1);
        let g = lock.acquire_owned().await;
        std::thread::spawn(move || drop(g)).join().unwrap();
        assert_eq!(lock.recursion_count(), 2);
        // The owner still can, with bare releases.
        lock.release().unwrap();
        lock.release().unwrap();
        assert!(!lock.locked());
        // A guard kept in a struct across awaits releases when the task drops it.
        struct Holder(threading::OwnedRLockGuard);
        let h = Holder(lock.acquire_owned().await);
        tokio::task::yield_now().await;
        assert!(h.0.lock().is_owned());
        drop(h);
        assert!(!lock.locked());
    });
}

#[test]
fn owned_guards_through_either_forms_arc() {
    let lock = Arc::new(RLock::new());
    let b = lock.clone().into_blocking();
    let g = b.acquire_owned();
    assert!(std::ptr::eq(g.lock().as_async(), &*lock));
    assert!(lock.blocking().is_owned());
    let back = b.clone().into_async();
    assert!(Arc::ptr_eq(&back, &lock));
    drop(g);
    assert!(!lock.locked());
    run_in_task(async move {
        let g = lock
            .clone()
            .into_blocking()
            .into_async()
            .acquire_owned()
            .await;
        assert!(Arc::ptr_eq(g.lock(), &lock));
        assert!(lock.is_owned());
        drop(g);
        assert!(!lock.locked());
    });
}

#[test]
fn a_task_aborted_while_holding_the_lock_releases_it() {
    run_in_task(async {
        let lock = Arc::new(RLock::new());
        let l = lock.clone();
        let holder = tokio::spawn(async move {
            let _a = l.acquire().await;
            let _b = l.acquire().await;
            std::future::pending::<()>().await;
        });
        wait_until_async(|| lock.locked()).await;
        let l = lock.clone();
        let waiter = tokio::spawn(async move { drop(l.acquire().await) });
        wait_until_async(|| queued(&*lock) == 1).await;
        holder.abort();
        assert!(holder.await.unwrap_err().is_cancelled());
        waiter.await.unwrap();
        assert!(!lock.locked());
    });
}

// conformance: A-5
#[test]
fn dropped_acquire_leaves_the_queue_and_a_granted_one_passes_the_lock_on() {
    run_in_task(async {
        for lock in [Arc::new(RLock::new()), Arc::new(RLock::new_fair())] {
            // Cancelled while waiting: it leaves the queue.
            let held = lock.acquire().await;
            let l = lock.clone();
            let dropped =
                tokio::spawn(
                    async move { tokio::time::timeout(SHORT, l.acquire()).await.is_err() },
                );
            assert!(dropped.await.unwrap());
            assert_eq!(queued(&*lock), 0);
            assert_eq!(lock.recursion_count(), 1);
            drop(held);
            assert!(!lock.locked());

            // Handed the lock, then dropped before it ran: the lock goes on to the next.
            let b = lock.blocking();
            let (tx, rx) = std::sync::mpsc::channel::<()>();
            let l = lock.clone();
            let thread = std::thread::spawn(move || {
                let g = l.blocking().acquire();
                rx.recv().unwrap();
                drop(g);
            });
            wait_until_async(|| b.locked()).await;
            let l = lock.clone();
            let first = tokio::spawn(async move { l.acquire().await.forget() });
            wait_until_async(|| queued(&*lock) == 1).await;
            let l = lock.clone();
            let second = tokio::spawn(async move {
                let g = l.acquire().await;
                assert_eq!(l.recursion_count(), 1);
                drop(g);
            });
            wait_until_async(|| queued(&*lock) == 2).await;
            first.abort();
            tx.send(()).unwrap();
            let _ = first.await;
            second.await.unwrap();
            thread.join().unwrap();
            // `first` either never got the lock, or got it and its abort released it (a
            // task's future is dropped inside the task): the lock is free either way.
            assert!(!lock.locked(), "{lock:?}");
            assert_eq!(queued(&*lock), 0);
        }
    });
}

#[test]
fn fair_lock_serves_threads_and_tasks_in_arrival_order() {
    let rt = common::mt_runtime();
    let lock = Arc::new(RLock::new_fair());
    let held = lock.blocking().acquire();
    let order = Arc::new(Mutex::new(Vec::new()));
    let mut threads = Vec::new();
    let mut tasks = Vec::new();
    for i in 0..6 {
        let (l, o) = (lock.clone(), order.clone());
        if i % 2 == 0 {
            threads.push(std::thread::spawn(move || {
                let g = l.blocking().acquire();
                o.lock().unwrap().push(i);
                drop(g);
            }));
        } else {
            tasks.push(rt.spawn(async move {
                let g = l.acquire().await;
                o.lock().unwrap().push(i);
                drop(g);
            }));
        }
        common::wait_until(|| queued(&*lock) == i + 1);
    }
    drop(held);
    for t in threads {
        t.join().unwrap();
    }
    for t in tasks {
        rt.block_on(t).unwrap();
    }
    assert_eq!(*order.lock().unwrap(), [0, 1, 2, 3, 4, 5]);
    assert!(!lock.locked());
}
