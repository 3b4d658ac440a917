//! Conformance tests of `Lock`, in both forms: the blocking form driven from plain threads,
//! the async form from tokio tasks (and, for cancel and order tests, futures polled by hand).
//!
//! Tests that read the same in both forms are written once, in `both_forms!`, which expands
//! them into `blocking_form::*` (threads, no runtime) and `async_form::*` (tasks on a
//! two-worker runtime). Inside those bodies `aw!(e)` is `e` or `e.await`, `spawn!{..}` starts
//! a thread or a task, `join!(h)` waits for it, and `L` is the form's `Lock` type.
//!
//! Never sleep to prove a waiter is blocked: wait until the lock's `Debug` output shows it
//! queued (`queued(&lock)`).

mod common;
use common::{assert_quick, assert_waited, poll_once, queued, wait_until, LATE, SHORT};

use std::future::Future;
use std::pin::{pin, Pin};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering::SeqCst};
use std::sync::{Arc, Barrier, Mutex};
use std::task::{Context, Poll, Wake, Waker};
use std::time::{Duration, Instant};

use threading::{Lock, LockGuard, TIMEOUT_MAX};

/// A waker that counts its wake-ups.
#[derive(Default)]
struct Wakes(AtomicUsize);

impl Wake for Wakes {
    fn wake(self: Arc<Self>) {
        self.0.fetch_add(1, SeqCst);
    }
}

/// One `Lock::acquire()` future, polled by hand with a waker of its own, so that a test
/// chooses when it is polled and when it is dropped (cancelled), and sees when it is woken.
struct Probe<'a> {
    fut: Pin<Box<dyn Future<Output = LockGuard<'a>> + Send + 'a>>,
    wakes: Arc<Wakes>,
    waker: Waker,
}

impl<'a> Probe<'a> {
    fn new(lock: &'a Lock) -> Self {
        let wakes = Arc::new(Wakes::default());
        Self {
            fut: Box::pin(lock.acquire()),
            waker: Waker::from(wakes.clone()),
            wakes,
        }
    }

    fn poll(&mut self) -> Poll<LockGuard<'a>> {
        self.fut
            .as_mut()
            .poll(&mut Context::from_waker(&self.waker))
    }

    #[track_caller]
    fn pending(&mut self) {
        assert!(self.poll().is_pending(), "expected the acquire to wait");
    }

    #[track_caller]
    fn ready(&mut self) -> LockGuard<'a> {
        match self.poll() {
            Poll::Ready(g) => g,
            Poll::Pending => panic!("expected the acquire to have the lock"),
        }
    }

    /// How many times this waiter's task has been woken.
    fn woken(&self) -> usize {
        self.wakes.0.load(SeqCst)
    }
}

macro_rules! both_forms {
    (@with ($d:tt) $($(#[$meta:meta])* fn $name:ident() $body:block)*) => {
        mod blocking_form {
            #![allow(unused_imports, unused_macros)]
            use super::*;
            type L = threading::blocking::Lock;
            macro_rules! aw { ($d e:expr) => { $d e }; }
            macro_rules! spawn {
                ($d ($d t:tt)*) => { std::thread::spawn(move || { $d ($d t)* }) };
            }
            macro_rules! join { ($d h:expr) => { $d h.join().unwrap() }; }
            macro_rules! yield_now { () => { std::thread::yield_now() }; }
            $( $(#[$meta])* #[test] fn $name() $body )*
        }
        mod async_form {
            #![allow(unused_imports, unused_macros)]
            use super::*;
            type L = threading::Lock;
            macro_rules! aw { ($d e:expr) => { $d e.await }; }
            macro_rules! spawn {
                ($d ($d t:tt)*) => { tokio::spawn(async move { $d ($d t)* }) };
            }
            macro_rules! join { ($d h:expr) => { $d h.await.unwrap() }; }
            macro_rules! yield_now { () => { tokio::task::yield_now().await }; }
            $( $(#[$meta])* #[test] fn $name() { common::mt_runtime().block_on(async $body) } )*
        }
    };
    ($($items:tt)*) => { both_forms!(@with ($) $($items)*); };
}

both_forms! {
    // conformance: LR-1
    fn constructed_and_dropped_unlocked() {
        for lock in [L::new(), L::new_fair(), L::default()] {
            assert!(!lock.locked());
            assert_eq!(queued(&lock), 0);
            // Dropped here, unlocked.
        }
        static LOCK: L = L::new();
        static FAIR: L = L::new_fair();
        assert!(!LOCK.locked() && !LOCK.is_fair());
        assert!(!FAIR.locked() && FAIR.is_fair());
        drop(aw!(LOCK.acquire()));
        drop(aw!(FAIR.acquire()));
        assert!(!LOCK.locked() && !FAIR.locked());
    }

    // conformance: LR-3
    fn debug_starts_with_locked_or_unlocked() {
        for lock in [L::new(), L::new_fair()] {
            assert!(format!("{lock:?}").starts_with("<unlocked"), "{lock:?}");
            let g = aw!(lock.acquire());
            assert!(format!("{lock:?}").starts_with("<locked"), "{lock:?}");
            assert_eq!(format!("{g:?}"), "LockGuard");
            drop(g);
            assert!(format!("{lock:?}").starts_with("<unlocked"), "{lock:?}");
        }
        let lock = Arc::new(L::new());
        let g = aw!(lock.acquire_owned());
        assert!(format!("{g:?}").contains("<locked"), "{g:?}");
    }

    // conformance: LR-4
    fn dropped_while_held() {
        for lock in [L::new(), L::new_fair()] {
            aw!(lock.acquire()).forget();
            assert!(lock.locked());
            // Dropped here, held.
        }
        // The last `Arc` of a held lock, dropped on another thread or task.
        let lock = Arc::new(L::new());
        aw!(lock.acquire()).forget();
        join!(spawn! { drop(lock) });
    }

    // conformance: LR-5, L-5
    fn acquire_free_lock_then_release() {
        for lock in [L::new(), L::new_fair()] {
            let start = Instant::now();
            let g = aw!(lock.acquire());
            assert_quick(start, LATE);
            assert!(lock.locked());
            drop(g);
            assert!(!lock.locked());

            // The same with a bare `release()`, Python's acquire()/release() pair.
            aw!(lock.acquire()).forget();
            assert!(lock.locked());
            lock.release().unwrap();
            assert!(!lock.locked());
            assert_eq!(queued(&lock), 0);
        }
    }

    // conformance: LR-6, L-5
    fn try_acquire_free_lock_takes_it() {
        for lock in [L::new(), L::new_fair()] {
            let g = lock.try_acquire().expect("a free lock");
            assert!(lock.locked());
            assert!(lock.try_acquire().is_none());
            drop(g);
            assert!(!lock.locked());
        }
    }

    // conformance: LR-7
    fn try_acquire_while_another_holds_fails_at_once() {
        for lock in [Arc::new(L::new()), Arc::new(L::new_fair())] {
            let g = aw!(lock.acquire_owned());
            let l = lock.clone();
            let h = spawn! {
                let start = Instant::now();
                let got = l.try_acquire().is_some();
                (got, start.elapsed())
            };
            let (got, took) = join!(h);
            assert!(!got);
            assert!(took < LATE, "try_acquire took {took:?}");
            assert!(lock.locked());
            drop(g);
            assert!(!lock.locked());
        }
    }

    // conformance: LR-8, TO-1
    fn five_waiters_stay_blocked_until_release_then_all_acquire_in_turn() {
        for lock in [Arc::new(L::new()), Arc::new(L::new_fair())] {
            let held = aw!(lock.acquire_owned());
            let inside = Arc::new(AtomicUsize::new(0));
            let most = Arc::new(AtomicUsize::new(0));
            let done = Arc::new(AtomicUsize::new(0));
            let mut waiters = Vec::new();
            for _ in 0..5 {
                let (l, inside, most, done) =
                    (lock.clone(), inside.clone(), most.clone(), done.clone());
                waiters.push(spawn! {
                    let g = aw!(l.acquire());
                    most.fetch_max(inside.fetch_add(1, SeqCst) + 1, SeqCst);
                    yield_now!();
                    inside.fetch_sub(1, SeqCst);
                    drop(g);
                    done.fetch_add(1, SeqCst);
                });
            }
            wait_until(|| queued(&*lock) == 5);
            assert_eq!(done.load(SeqCst), 0);
            assert!(lock.locked());
            drop(held);
            for w in waiters {
                join!(w);
            }
            assert_eq!(done.load(SeqCst), 5);
            assert_eq!(most.load(SeqCst), 1, "two holders at once");
            assert!(!lock.locked());
            assert_eq!(queued(&*lock), 0);
        }
    }

    // conformance: LR-12, TO-4
    fn acquire_timeout_max_on_free_lock_succeeds_at_once() {
        for lock in [L::new(), L::new_fair()] {
            for timeout in [TIMEOUT_MAX, TIMEOUT_MAX + Duration::from_nanos(1), Duration::MAX] {
                let start = Instant::now();
                let g = aw!(lock.acquire_timeout(timeout)).expect("a free lock");
                assert_quick(start, LATE);
                assert!(lock.locked());
                drop(g);
            }
        }
    }

    // conformance: TO-1, TO-4
    fn acquire_and_huge_timeouts_on_held_lock_wait_until_release() {
        // `acquire()` waits forever (TO-1); `TIMEOUT_MAX` is finite but 292 years away; past
        // it a timeout waits forever (TO-4's Rust reading). None may panic or return early.
        let lock = Arc::new(L::new_fair());
        aw!(lock.acquire()).forget();
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
        wait_until(|| queued(&*lock) == 4);
        // Still waiting a while later: no early return, no error.
        std::thread::sleep(Duration::from_millis(50));
        assert_eq!(got.load(SeqCst), 0);
        assert_eq!(queued(&*lock), 4);
        lock.release().unwrap();
        for w in waiters {
            join!(w);
        }
        assert_eq!(got.load(SeqCst), 4);
        assert!(!lock.locked());
    }

    // conformance: LR-13, TO-7
    fn acquire_timeout_on_free_lock_returns_at_once() {
        for lock in [L::new(), L::new_fair()] {
            let start = Instant::now();
            let g = aw!(lock.acquire_timeout(Duration::from_secs(60))).expect("a free lock");
            assert_quick(start, LATE);
            assert!(lock.locked());
            drop(g);
        }
    }

    // conformance: TO-2, LR-11
    fn zero_timeout_is_a_try() {
        // TO-2 and TO-3 do not apply as Python states them: `try_acquire()` and
        // `acquire_timeout(d)` are separate methods, so "non-blocking with a timeout" cannot
        // be written, and a `Duration` cannot be negative. What remains (SPEC): a zero
        // timeout is a try, not an error.
        for lock in [Arc::new(L::new()), Arc::new(L::new_fair())] {
            let g = aw!(lock.acquire_timeout(Duration::ZERO)).expect("a free lock");
            let l = lock.clone();
            let start = Instant::now();
            assert!(join!(spawn! { aw!(l.acquire_timeout(Duration::ZERO)).is_none() }));
            assert_quick(start, LATE);
            assert_eq!(queued(&*lock), 0);
            drop(g);
            assert!(!lock.locked());
        }
    }

    // conformance: LR-14, TO-6, L-4
    fn acquire_timeout_on_held_lock_fails_never_early_and_leaves_no_state() {
        for lock in [Arc::new(L::new()), Arc::new(L::new_fair())] {
            let held = aw!(lock.acquire_owned());
            let l = lock.clone();
            let h = spawn! {
                let start = Instant::now();
                let got = aw!(l.acquire_timeout(SHORT)).is_some();
                (got, start.elapsed())
            };
            let (got, elapsed) = join!(h);
            assert!(!got);
            assert_waited(elapsed, SHORT);
            // L-4: no stale waiter is left behind to absorb the next release.
            assert!(lock.locked());
            assert_eq!(queued(&*lock), 0);
            drop(held);
            assert!(!lock.locked());
            assert!(lock.try_acquire().is_some());
        }
    }

    // conformance: L-1, A-2
    fn not_reentrant_second_acquire_waits_for_someone_else_to_release() {
        for lock in [Arc::new(L::new()), Arc::new(L::new_fair())] {
            let second = Arc::new(AtomicBool::new(false));
            let (l, s) = (lock.clone(), second.clone());
            let h = spawn! {
                aw!(l.acquire()).forget();
                // The holder itself asks again: it waits.
                aw!(l.acquire()).forget();
                s.store(true, SeqCst);
            };
            wait_until(|| queued(&*lock) == 1);
            assert!(!second.load(SeqCst));
            assert!(lock.locked());
            lock.release().unwrap();
            join!(h);
            assert!(second.load(SeqCst));
            assert!(lock.locked());
            lock.release().unwrap();
            assert!(!lock.locked());
        }
    }

    // conformance: L-2, A-2
    fn released_by_another_thread_or_task_than_the_acquirer() {
        for lock in [Arc::new(L::new()), Arc::new(L::new_fair())] {
            aw!(lock.acquire()).forget();
            let l = lock.clone();
            join!(spawn! { l.release().unwrap() });
            assert!(!lock.locked());
            drop(lock.try_acquire().expect("free again"));

            // A third party waits; a second one releases what the first acquired.
            let l = lock.clone();
            join!(spawn! { aw!(l.acquire()).forget() });
            let l = lock.clone();
            let waiter = spawn! { drop(aw!(l.acquire())) };
            wait_until(|| queued(&*lock) == 1);
            let l = lock.clone();
            join!(spawn! { l.release().unwrap() });
            join!(waiter);
            assert!(!lock.locked());
        }
    }

    // conformance: L-3, A-2
    fn release_of_unlocked_lock_errors_and_changes_nothing() {
        fn is_error<E: std::error::Error + Send + Sync + 'static>(_: &E) {}
        for lock in [L::new(), L::new_fair()] {
            let err = lock.release().unwrap_err();
            is_error(&err);
            assert!(err.to_string().contains("not locked"), "{err}");
            assert!(!lock.locked());
            assert_eq!(queued(&lock), 0);

            // Once per acquire: the second release fails.
            aw!(lock.acquire()).forget();
            lock.release().unwrap();
            assert!(lock.release().is_err());

            // Nothing changed: still one lock, not a second permit.
            let g = aw!(lock.acquire());
            assert!(lock.try_acquire().is_none());
            drop(g);
            assert!(!lock.locked());
        }
    }

    // conformance: L-6
    fn each_release_lets_exactly_one_waiter_proceed() {
        for lock in [Arc::new(L::new()), Arc::new(L::new_fair())] {
            aw!(lock.acquire()).forget();
            let entered = Arc::new(AtomicUsize::new(0));
            let mut waiters = Vec::new();
            for _ in 0..3 {
                let (l, e) = (lock.clone(), entered.clone());
                waiters.push(spawn! {
                    // Keep the lock: only the next release() lets anyone else in.
                    aw!(l.acquire()).forget();
                    e.fetch_add(1, SeqCst);
                });
            }
            wait_until(|| queued(&*lock) == 3);
            for k in 1..=3 {
                lock.release().unwrap();
                wait_until(|| entered.load(SeqCst) >= k);
                assert_eq!(entered.load(SeqCst), k);
                assert_eq!(queued(&*lock), 3 - k, "a release let more than one waiter go");
                assert!(lock.locked());
            }
            for w in waiters {
                join!(w);
            }
            lock.release().unwrap();
            assert!(!lock.locked());
        }
    }

    // conformance: LR-15
    fn arc_and_weak_references() {
        let lock = Arc::new(L::new());
        let weak = Arc::downgrade(&lock);
        assert!(weak.upgrade().is_some());
        // An owned guard keeps the lock alive, on another thread or task too.
        let guard = aw!(lock.acquire_owned());
        drop(lock);
        let alive = weak.upgrade().expect("the guard keeps the lock alive");
        assert!(alive.locked());
        drop(alive);
        join!(spawn! { drop(guard) });
        assert!(weak.upgrade().is_none());
    }

    fn owned_guard_released_on_another_thread_or_task() {
        for lock in [Arc::new(L::new()), Arc::new(L::new_fair())] {
            let guard = aw!(lock.acquire_owned());
            // The guard's lock is this lock (seen through the async form).
            let same = Arc::as_ptr(guard.lock()).cast::<()>() == Arc::as_ptr(&lock).cast::<()>();
            assert!(same);
            let h = spawn! {
                assert!(guard.lock().locked());
                drop(guard);
            };
            join!(h);
            assert!(!lock.locked());
            assert_eq!(queued(&*lock), 0);
        }
    }
}

// conformance: LR-2
// `Lock::new()` and `Lock::new_fair()` take no arguments: the type signature enforces what
// Python checks at run time, so there is nothing to test.

// conformance: TO-3
// A `Duration` cannot be negative, so `acquire_timeout(-100)` cannot be written: there is no
// negative timeout to reject. See `zero_timeout_is_a_try` for what TO-2 leaves in Rust.

// conformance: L-7
// Fork only (`_at_fork_reinit`): not applicable to the crate.

// conformance: TO-9
// The blocking form's deadlines are `std::time::Instant`s, a monotonic clock by definition,
// and a test cannot move the wall clock. The async form's are on tokio's clock:
// `async_timeout_runs_on_tokios_clock` checks that a timeout follows it, not the real ones.

// ---------------------------------------------------------------------------------------
// Guards and panics.

// conformance: LR-9
#[test]
fn blocking_guard_releases_on_scope_exit_and_on_panic() {
    let lock = Arc::new(threading::blocking::Lock::new());
    {
        let _g = lock.acquire();
        assert!(lock.locked());
    }
    assert!(!lock.locked());

    let l = lock.clone();
    let panicked = std::panic::catch_unwind(move || {
        let _g = l.acquire();
        assert!(l.locked());
        std::panic::panic_any(42_u32);
    })
    .unwrap_err();
    // The panic propagates unchanged, and the lock is free.
    assert_eq!(panicked.downcast_ref::<u32>(), Some(&42));
    assert!(!lock.locked());
    let l = lock.clone();
    assert!(std::thread::spawn(move || l.try_acquire().is_some())
        .join()
        .unwrap());

    // A thread that panics holding an owned guard frees the lock for everyone else.
    let guard = lock.acquire_owned();
    let err = std::thread::spawn(move || {
        let _g = guard;
        std::panic::panic_any("boom")
    })
    .join()
    .unwrap_err();
    assert_eq!(err.downcast_ref::<&str>(), Some(&"boom"));
    assert!(!lock.locked());
    drop(lock.acquire());
}

// conformance: LR-9
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn async_guard_releases_on_scope_exit_and_on_panic() {
    use futures::FutureExt;
    let lock = Arc::new(Lock::new());
    {
        let _g = lock.acquire().await;
        assert!(lock.locked());
    }
    assert!(!lock.locked());

    let l = lock.clone();
    let panicked = std::panic::AssertUnwindSafe(async move {
        let _g = l.acquire().await;
        assert!(l.locked());
        std::panic::panic_any(42_u32);
    })
    .catch_unwind()
    .await
    .unwrap_err();
    assert_eq!(panicked.downcast_ref::<u32>(), Some(&42));
    assert!(!lock.locked());

    // A task that panics holding an owned guard frees the lock, and a waiting task gets it.
    let guard = lock.acquire_owned().await;
    let l = lock.clone();
    let waiter = tokio::spawn(async move { l.acquire().await.forget() });
    wait_until(|| queued(&*lock) == 1);
    let err = tokio::spawn(async move {
        let _g = guard;
        std::panic::panic_any("boom")
    })
    .await
    .unwrap_err();
    assert!(err.is_panic());
    assert_eq!(err.into_panic().downcast_ref::<&str>(), Some(&"boom"));
    waiter.await.unwrap();
    assert!(lock.locked());
    lock.release().unwrap();
    assert!(!lock.locked());
}

// conformance: L-2
#[test]
fn forgotten_guard_released_across_worlds() {
    let rt = common::mt_runtime();
    let lock = Arc::new(Lock::new());
    // A thread acquires and forgets; a task releases.
    let l = lock.clone();
    std::thread::spawn(move || l.blocking().acquire().forget())
        .join()
        .unwrap();
    assert!(lock.locked());
    let l = lock.clone();
    rt.block_on(rt.spawn(async move { l.release().unwrap() }))
        .unwrap();
    assert!(!lock.locked());
    // A task acquires and forgets; a thread releases.
    let l = lock.clone();
    rt.block_on(rt.spawn(async move { l.acquire().await.forget() }))
        .unwrap();
    assert!(lock.locked());
    let l = lock.clone().into_blocking();
    std::thread::spawn(move || l.release().unwrap())
        .join()
        .unwrap();
    assert!(!lock.locked());
}

#[test]
fn owned_guards_cross_between_forms_and_worlds() {
    let rt = common::mt_runtime();
    let lock = Arc::new(Lock::new());
    // Taken by a thread through the blocking form, dropped in a task.
    let guard = lock.clone().into_blocking().acquire_owned();
    assert!(Arc::ptr_eq(guard.lock(), &lock));
    rt.block_on(rt.spawn(async move { drop(guard) })).unwrap();
    assert!(!lock.locked());
    // Taken by a task, dropped on a plain thread.
    let l = lock.clone();
    let guard = rt
        .block_on(rt.spawn(async move { l.acquire_owned().await }))
        .unwrap();
    assert!(lock.locked());
    std::thread::spawn(move || drop(guard)).join().unwrap();
    assert!(!lock.locked());
}

// ---------------------------------------------------------------------------------------
// Timeouts: fixed deadlines, tokio's clock.

// conformance: TO-8, TO-6
#[test]
fn blocking_spurious_unparks_do_not_extend_the_deadline() {
    let lock = Arc::new(threading::blocking::Lock::new());
    lock.acquire().forget();
    let l = lock.clone();
    let h = std::thread::spawn(move || {
        let start = Instant::now();
        let got = l.acquire_timeout(SHORT).is_some();
        (got, start.elapsed())
    });
    wait_until(|| queued(&*lock) == 1);
    // Unpark the waiter every 5 ms until it returns: a deadline re-armed on each wake-up
    // would keep it waiting until the unparks stop, 10 s from now.
    for _ in 0..2000 {
        if h.is_finished() {
            break;
        }
        h.thread().unpark();
        std::thread::sleep(Duration::from_millis(5));
    }
    let (got, elapsed) = h.join().unwrap();
    assert!(!got);
    assert_waited(elapsed, SHORT);
    assert_eq!(queued(&*lock), 0);
    lock.release().unwrap();
}

// conformance: TO-8, TO-6
#[tokio::test(start_paused = true)]
async fn async_repolls_do_not_extend_the_deadline() {
    let lock = Lock::new();
    lock.try_acquire().unwrap().forget();
    let start = tokio::time::Instant::now();
    let mut acquire = pin!(lock.acquire_timeout(SHORT));
    let mut repolls = 0;
    // Poll the wait again every 10 ms (of tokio's paused clock) until it gives up.
    let got = loop {
        tokio::select! {
            biased;
            got = &mut acquire => break got,
            _ = tokio::time::sleep(Duration::from_millis(10)), if repolls < 1000 => repolls += 1,
        }
    };
    assert!(got.is_none());
    let elapsed = start.elapsed();
    assert!(elapsed >= SHORT, "returned early: {elapsed:?}");
    assert!(
        elapsed <= SHORT + Duration::from_millis(10),
        "deadline moved: {elapsed:?}"
    );
    assert!(repolls >= 5, "the wait was not re-polled ({repolls})");
    assert_eq!(queued(&lock), 0);
}

// conformance: TO-9
#[tokio::test(start_paused = true)]
async fn async_timeout_runs_on_tokios_clock() {
    // The async form's deadline is on tokio's monotonic clock, which a test can pause and
    // move: an hour of it passes in no time on the real clocks.
    let lock = Lock::new();
    lock.try_acquire().unwrap().forget();
    let (wall, real) = (std::time::SystemTime::now(), Instant::now());
    let start = tokio::time::Instant::now();
    let mut acquire = pin!(lock.acquire_timeout(Duration::from_secs(3600)));
    assert!(poll_once(acquire.as_mut()).is_pending());
    tokio::time::sleep(Duration::from_secs(3599)).await;
    assert!(poll_once(acquire.as_mut()).is_pending(), "returned early");
    tokio::time::sleep(Duration::from_secs(2)).await;
    match poll_once(acquire.as_mut()) {
        Poll::Ready(got) => assert!(got.is_none()),
        Poll::Pending => panic!("the timeout did not follow tokio's clock"),
    }
    assert!(start.elapsed() >= Duration::from_secs(3600));
    assert!(real.elapsed() < LATE);
    assert!(wall.elapsed().unwrap_or_default() < LATE);
}

// conformance: TO-4
#[tokio::test(start_paused = true)]
async fn async_timeout_max_expires_and_longer_ones_never_do() {
    const YEAR: Duration = Duration::from_secs(365 * 24 * 3600);
    let lock = Lock::new();
    lock.try_acquire().unwrap().forget();
    let start = tokio::time::Instant::now();
    let mut finite = pin!(lock.acquire_timeout(TIMEOUT_MAX));
    let mut forever = pin!(lock.acquire_timeout(TIMEOUT_MAX + Duration::from_nanos(1)));
    let mut really_forever = pin!(lock.acquire_timeout(Duration::MAX));
    let mut expired_after = None;
    // 300 years of tokio's paused clock, a year at a time: TIMEOUT_MAX (292 years) expires,
    // never before its time; the longer ones still wait.
    for _ in 0..300 {
        tokio::time::sleep(YEAR).await;
        if expired_after.is_none() {
            if let Poll::Ready(got) = poll_once(finite.as_mut()) {
                assert!(got.is_none());
                expired_after = Some(start.elapsed());
            }
        }
        assert!(poll_once(forever.as_mut()).is_pending());
        assert!(poll_once(really_forever.as_mut()).is_pending());
    }
    let expired_after = expired_after.expect("TIMEOUT_MAX is finite");
    assert!(
        expired_after >= TIMEOUT_MAX,
        "returned early: {expired_after:?}"
    );
    assert!(expired_after <= TIMEOUT_MAX + 2 * YEAR);
    // Released, the waiting ones get it, one after the other.
    lock.release().unwrap();
    let g = match poll_once(forever.as_mut()) {
        Poll::Ready(g) => g.expect("released"),
        Poll::Pending => {
            // A barging lock woke the other one first: take it from there.
            match poll_once(really_forever.as_mut()) {
                Poll::Ready(g) => g.expect("released"),
                Poll::Pending => panic!("nobody got the released lock"),
            }
        }
    };
    assert!(lock.locked());
    drop(g);
}

// ---------------------------------------------------------------------------------------
// The async form: cancellation (a dropped future) and order.

// conformance
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn timeout_from_outside_cancels_the_wait_and_leaves_nothing() {
    for lock in [Lock::new(), Lock::new_fair()] {
        let held = lock.acquire().await;
        let start = Instant::now();
        assert!(tokio::time::timeout(SHORT, lock.acquire()).await.is_err());
        assert!(start.elapsed() >= SHORT);
        tokio::select! {
            _ = lock.acquire() => panic!("got a held lock"),
            _ = tokio::time::sleep(Duration::from_millis(10)) => {}
        }
        // Nothing left behind: no waiter, still held by the holder, free after it.
        assert_eq!(queued(&lock), 0);
        assert!(lock.locked());
        drop(held);
        assert!(!lock.locked());
        assert!(lock.try_acquire().is_some());
    }
}

// conformance: A-5
#[test]
fn dropped_waiters_leave_the_queue_and_absorb_nothing() {
    for lock in [Lock::new(), Lock::new_fair()] {
        lock.try_acquire().unwrap().forget();
        let mut a = Probe::new(&lock);
        let mut b = Probe::new(&lock);
        let mut c = Probe::new(&lock);
        a.pending();
        b.pending();
        c.pending();
        assert_eq!(queued(&lock), 3);
        drop(b);
        assert_eq!(queued(&lock), 2);
        lock.release().unwrap();
        let g = a.ready();
        assert_eq!(c.woken(), 0);
        drop(g);
        // The dropped middle waiter absorbed nothing: the next release reaches `c`.
        assert_eq!(c.woken(), 1);
        drop(c.ready());
        assert!(!lock.locked());
        assert_eq!(queued(&lock), 0);
        // The last waiter dropped: the lock is plain free again, the fast path works.
        lock.try_acquire().unwrap().forget();
        let mut d = Probe::new(&lock);
        d.pending();
        drop(d);
        assert_eq!(queued(&lock), 0);
        lock.release().unwrap();
        assert!(lock.try_acquire().is_some());
    }
}

// conformance: A-3
#[test]
fn fair_lock_waiters_acquire_in_arrival_order() {
    let lock = Lock::new_fair();
    let held = lock.try_acquire().unwrap();
    let mut c1 = Probe::new(&lock);
    let mut c2 = Probe::new(&lock);
    let mut c3 = Probe::new(&lock);
    c1.pending();
    c2.pending();
    c3.pending();
    drop(held);
    // Only the first is woken, and polling the later ones first does not let them in.
    assert_eq!((c1.woken(), c2.woken(), c3.woken()), (1, 0, 0));
    c3.pending();
    c2.pending();
    let g1 = c1.ready();
    drop(g1);
    assert_eq!((c2.woken(), c3.woken()), (1, 0));
    c3.pending();
    let g2 = c2.ready();
    drop(g2);
    assert_eq!(c3.woken(), 1);
    drop(c3.ready());
    assert!(!lock.locked());
}

// conformance: A-4
#[test]
fn fair_lock_newcomers_never_barge() {
    let lock = Lock::new_fair();
    let held = lock.try_acquire().unwrap();
    let mut first = Probe::new(&lock);
    first.pending();
    drop(held);
    // Handed to `first`, which has not run yet: the lock stays locked for everyone else.
    assert_eq!(first.woken(), 1);
    assert!(lock.locked());
    assert!(lock.try_acquire().is_none());
    assert!(lock.blocking().try_acquire().is_none());
    let start = Instant::now();
    assert!(lock.blocking().acquire_timeout(SHORT).is_none());
    assert_waited(start.elapsed(), SHORT);
    let mut newcomer = Probe::new(&lock);
    newcomer.pending();
    let g = first.ready();
    drop(g);
    // The newcomer queued behind and is served next.
    assert_eq!(newcomer.woken(), 1);
    let g = newcomer.ready();
    drop(g);
    // With every waiter cancelled, a newcomer takes the fast path.
    lock.try_acquire().unwrap().forget();
    let mut gone = Probe::new(&lock);
    gone.pending();
    drop(gone);
    lock.release().unwrap();
    assert!(!lock.locked());
    assert!(lock.try_acquire().is_some());
}

// conformance
#[test]
fn woken_waiter_dropped_before_it_runs_passes_the_lock_on() {
    // The default lock hands the lock to an overdue waiter or wakes it to retry, depending
    // on how long it waited: run it both ways (released at once, released after 2 ms).
    let cases = [
        (Lock::new_fair(), false),
        (Lock::new(), false),
        (Lock::new(), true),
    ];
    for (lock, overdue) in cases {
        lock.try_acquire().unwrap().forget();
        let mut a = Probe::new(&lock);
        let mut b = Probe::new(&lock);
        a.pending();
        b.pending();
        if overdue {
            std::thread::sleep(Duration::from_millis(2));
        }
        lock.release().unwrap();
        assert_eq!(a.woken(), 1);
        assert_eq!(b.woken(), 0);
        // Cancelled after its wake-up, before it ran: the wake-up goes on to `b`.
        drop(a);
        assert_eq!(
            b.woken(),
            1,
            "the wake-up was lost (fair: {})",
            lock.is_fair()
        );
        let g = b.ready();
        assert!(lock.locked());
        assert!(lock.try_acquire().is_none());
        drop(g);
        assert!(!lock.locked());
        assert_eq!(queued(&lock), 0);
    }
}

// conformance
#[test]
fn head_waiter_dropped_while_released_lock_reaches_the_next_never_two_holders() {
    for round in 0..400 {
        let lock = if round % 2 == 0 {
            Lock::new_fair()
        } else {
            Lock::new()
        };
        lock.try_acquire().unwrap().forget();
        let mut a = Probe::new(&lock);
        let mut b = Probe::new(&lock);
        let mut c = Probe::new(&lock);
        a.pending();
        b.pending();
        c.pending();
        // Release and cancel the head waiter at the same moment, on two threads.
        let go = Barrier::new(2);
        std::thread::scope(|s| {
            s.spawn(|| {
                go.wait();
                lock.release().unwrap();
            });
            s.spawn(|| {
                go.wait();
                drop(a);
            });
        });
        // Whichever came first, `b` is woken and gets the lock...
        assert!(b.woken() >= 1, "round {round}: the lock is stuck");
        let g = b.ready();
        // ...and it is the only holder.
        assert!(lock.locked());
        assert!(lock.try_acquire().is_none());
        c.pending();
        drop(g);
        assert!(c.woken() >= 1, "round {round}: the lock is stuck");
        drop(c.ready());
        assert!(!lock.locked(), "round {round}");
        assert_eq!(queued(&lock), 0, "round {round}");
    }
}

// conformance: A-6
#[test]
fn task_aborted_while_the_lock_is_released_does_not_strand_it() {
    let rt = common::mt_runtime();
    for round in 0..100 {
        let lock = Arc::new(if round % 2 == 0 {
            Lock::new_fair()
        } else {
            Lock::new()
        });
        lock.try_acquire().unwrap().forget();
        let l = lock.clone();
        let first = rt.spawn(async move { drop(l.acquire().await) });
        wait_until(|| queued(&*lock) == 1);
        let l = lock.clone();
        let second = rt.spawn(async move { drop(l.acquire().await) });
        wait_until(|| queued(&*lock) == 2);
        lock.release().unwrap();
        first.abort();
        let done = rt.block_on(async { tokio::time::timeout(LATE, second).await });
        assert!(
            done.is_ok(),
            "round {round}: the second waiter never got the lock"
        );
        let _ = rt.block_on(first);
        assert!(!lock.locked(), "round {round}");
        assert_eq!(queued(&*lock), 0, "round {round}");
    }
}

// conformance: A-7
#[test]
fn cancelled_waits_racing_releases_never_make_two_holders() {
    let rt = common::mt_runtime();
    for lock in [Arc::new(Lock::new()), Arc::new(Lock::new_fair())] {
        let inside = Arc::new(AtomicUsize::new(0));
        let entries = Arc::new(AtomicUsize::new(0));
        let enter = |inside: &AtomicUsize, entries: &AtomicUsize| {
            assert_eq!(inside.fetch_add(1, SeqCst), 0, "two holders at once");
            entries.fetch_add(1, SeqCst);
        };
        let mut tasks = Vec::new();
        for t in 0..4_u64 {
            let (l, i, e) = (lock.clone(), inside.clone(), entries.clone());
            tasks.push(rt.spawn(async move {
                for n in 0..300_u64 {
                    match (n + t) % 3 {
                        // Queue, let the others run a while (perhaps handing us the lock),
                        // then cancel without looking.
                        0 => {
                            let mut acquire = pin!(l.acquire());
                            if let Poll::Ready(g) = futures::poll!(acquire.as_mut()) {
                                enter(&i, &e);
                                i.fetch_sub(1, SeqCst);
                                drop(g);
                            } else {
                                tokio::time::sleep(Duration::from_millis(1)).await;
                            }
                        }
                        // Cancel when a timer fires, the timer checked first, racing with
                        // the releases.
                        1 => {
                            let wait = Duration::from_micros(200 * ((n + t) % 5));
                            tokio::select! {
                                biased;
                                _ = tokio::time::sleep(wait) => {}
                                g = l.acquire() => {
                                    enter(&i, &e);
                                    tokio::task::yield_now().await;
                                    i.fetch_sub(1, SeqCst);
                                    drop(g);
                                }
                            }
                        }
                        _ => {
                            let g = l.acquire().await;
                            enter(&i, &e);
                            tokio::task::yield_now().await;
                            i.fetch_sub(1, SeqCst);
                            drop(g);
                        }
                    }
                }
            }));
        }
        // Plain threads take part too.
        let mut threads = Vec::new();
        for _ in 0..2 {
            let (l, i, e) = (lock.clone(), inside.clone(), entries.clone());
            threads.push(std::thread::spawn(move || {
                for n in 0..300_u32 {
                    let g = if n % 2 == 0 {
                        l.blocking().acquire_timeout(Duration::from_micros(300))
                    } else {
                        // Bounded, so that a stranded lock fails the test, not hangs it.
                        let g = l.blocking().acquire_timeout(LATE);
                        assert!(g.is_some(), "the lock was stranded");
                        g
                    };
                    if let Some(g) = g {
                        enter(&i, &e);
                        std::thread::yield_now();
                        i.fetch_sub(1, SeqCst);
                        drop(g);
                    }
                }
            }));
        }
        rt.block_on(async {
            for t in tasks {
                tokio::time::timeout(LATE * 4, t)
                    .await
                    .expect("a waiter hung")
                    .unwrap();
            }
        });
        for t in threads {
            t.join().unwrap();
        }
        assert!(entries.load(SeqCst) >= 4 * 100 + 2 * 150);
        assert!(!lock.locked());
        assert_eq!(queued(&*lock), 0);
    }
}

// ---------------------------------------------------------------------------------------
// Fairness policies.

// conformance
#[test]
fn fair_lock_hands_off_in_fifo_order_to_threads_and_tasks() {
    const WAITERS: usize = 8;
    let rt = common::mt_runtime();
    let lock = Arc::new(Lock::new_fair());
    lock.try_acquire().unwrap().forget();
    let order = Arc::new(Mutex::new(Vec::new()));
    let mut threads = Vec::new();
    let mut tasks = Vec::new();
    for i in 0..WAITERS {
        let (l, o) = (lock.clone(), order.clone());
        if i % 2 == 0 {
            threads.push(std::thread::spawn(move || {
                let _g = l.blocking().acquire();
                o.lock().unwrap().push(i);
            }));
        } else {
            tasks.push(rt.spawn(async move {
                let _g = l.acquire().await;
                o.lock().unwrap().push(i);
            }));
        }
        wait_until(|| queued(&*lock) == i + 1);
    }
    // A newcomer tries to barge in all through the hand-offs: it never gets in before the
    // last queued waiter is served.
    let (l, o) = (lock.clone(), order.clone());
    let barger = std::thread::spawn(move || {
        for _ in 0..1_000_000 {
            if let Some(_g) = l.blocking().try_acquire() {
                return o.lock().unwrap().len();
            }
        }
        WAITERS
    });
    lock.release().unwrap();
    for t in threads {
        t.join().unwrap();
    }
    rt.block_on(async {
        for t in tasks {
            t.await.unwrap();
        }
    });
    assert_eq!(barger.join().unwrap(), WAITERS, "a newcomer barged in");
    assert_eq!(*order.lock().unwrap(), (0..WAITERS).collect::<Vec<_>>());
    assert!(!lock.locked());
}

#[test]
fn default_lock_hands_the_lock_to_a_waiter_that_waited_over_a_millisecond() {
    // A task's wait, polled by hand.
    let lock = Lock::new();
    lock.try_acquire().unwrap().forget();
    let mut waiter = Probe::new(&lock);
    waiter.pending();
    // Let the waiter age past the bound (about a millisecond): this sleep proves nothing
    // about blocking, it only makes the waiter overdue.
    std::thread::sleep(Duration::from_millis(5));
    lock.release().unwrap();
    // Handed over, not merely woken: a newcomer cannot take it before the waiter runs.
    assert!(lock.locked());
    assert!(lock.try_acquire().is_none());
    assert!(lock.blocking().try_acquire().is_none());
    assert_eq!(waiter.woken(), 1);
    drop(waiter.ready());
    assert!(!lock.locked());

    // A parked thread.
    let lock = Arc::new(Lock::new());
    lock.try_acquire().unwrap().forget();
    let l = lock.clone();
    let t = std::thread::spawn(move || l.blocking().acquire().forget());
    wait_until(|| queued(&*lock) == 1);
    std::thread::sleep(Duration::from_millis(5));
    lock.release().unwrap();
    assert!(
        lock.try_acquire().is_none(),
        "a newcomer took the overdue waiter's lock"
    );
    t.join().unwrap();
    assert!(lock.locked());
    lock.release().unwrap();
}

/// Three threads that hammer a default lock (acquire, release, at once again) while a
/// waiter calls `acquire()` once. The hammers warm up, then the waiter says it is about to
/// wait; from then on each hammer counts its iterations, and stops once the waiter got the
/// lock or after `ITERATIONS` (then it is "exhausted").
///
/// This is the bounded end-to-end check; on this crate's core even a lock without the
/// direct hand-off lets the waiter in within a few thousand iterations (checked by
/// mutation), so the precise check of the hand-off is
/// `default_lock_hands_the_lock_to_a_waiter_that_waited_over_a_millisecond`.
struct Hammers {
    warm: Arc<AtomicBool>,
    started: Arc<AtomicBool>,
    got: Arc<AtomicBool>,
    exhausted: Arc<AtomicUsize>,
    threads: Vec<std::thread::JoinHandle<()>>,
}

impl Hammers {
    const THREADS: usize = 3;
    const WARM_UP: usize = 10_000;
    const ITERATIONS: usize = 200_000;

    fn start(lock: &Arc<Lock>) -> Self {
        let warm = Arc::new(AtomicBool::new(false));
        let started = Arc::new(AtomicBool::new(false));
        let got = Arc::new(AtomicBool::new(false));
        let exhausted = Arc::new(AtomicUsize::new(0));
        let threads = (0..Self::THREADS)
            .map(|_| {
                let l = lock.clone();
                let (w, s, g, x) = (
                    warm.clone(),
                    started.clone(),
                    got.clone(),
                    exhausted.clone(),
                );
                std::thread::spawn(move || {
                    let mut counted = 0;
                    // Bounded even if the waiter never comes.
                    for n in 0..100 * Self::ITERATIONS {
                        if g.load(SeqCst) {
                            return;
                        }
                        drop(l.blocking().acquire());
                        if n == Self::WARM_UP {
                            w.store(true, SeqCst);
                        }
                        if s.load(SeqCst) {
                            counted += 1;
                            if counted == Self::ITERATIONS {
                                break;
                            }
                        }
                    }
                    x.fetch_add(1, SeqCst);
                })
            })
            .collect();
        Self {
            warm,
            started,
            got,
            exhausted,
            threads,
        }
    }

    /// Stop and join the hammers.
    fn stop(self) {
        self.got.store(true, SeqCst);
        for t in self.threads {
            t.join().unwrap();
        }
    }
}

#[test]
fn default_lock_does_not_starve_a_thread_waiter() {
    let lock = Arc::new(Lock::new());
    let hammers = Hammers::start(&lock);
    let (l, warm, started, got, exhausted) = (
        lock.clone(),
        hammers.warm.clone(),
        hammers.started.clone(),
        hammers.got.clone(),
        hammers.exhausted.clone(),
    );
    let waiter = std::thread::spawn(move || {
        wait_until(|| warm.load(SeqCst));
        started.store(true, SeqCst);
        let g = l.blocking().acquire();
        let seen = exhausted.load(SeqCst);
        got.store(true, SeqCst);
        drop(g);
        seen
    });
    let seen = waiter.join().unwrap();
    hammers.stop();
    // A lock that never hands off would keep the waiter out until the hammers ran out.
    assert_eq!(
        seen, 0,
        "the waiter got the lock only once {seen} hammers gave up"
    );
    assert!(!lock.locked());
}

#[test]
fn default_lock_does_not_starve_a_task_waiter() {
    let rt = common::mt_runtime();
    let lock = Arc::new(Lock::new());
    let hammers = Hammers::start(&lock);
    let (l, warm, started, got, exhausted) = (
        lock.clone(),
        hammers.warm.clone(),
        hammers.started.clone(),
        hammers.got.clone(),
        hammers.exhausted.clone(),
    );
    wait_until(|| warm.load(SeqCst));
    let waiter = rt.spawn(async move {
        started.store(true, SeqCst);
        let g = l.acquire().await;
        let seen = exhausted.load(SeqCst);
        got.store(true, SeqCst);
        drop(g);
        seen
    });
    let seen = rt.block_on(waiter).unwrap();
    hammers.stop();
    assert_eq!(
        seen, 0,
        "the waiter got the lock only once {seen} hammers gave up"
    );
    assert!(!lock.locked());
}
