//! Loom models of the waiting core: every interleaving of a few waiters and releasers,
//! threads and tasks together, with cancellation and timeouts as explicit steps.
//!
//! Run with `RUSTFLAGS="--cfg loom" LOOM_MAX_PREEMPTIONS=2 CARGO_TARGET_DIR=target/loom
//! cargo test --release --lib`.

use std::future::Future;
use std::pin::pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use futures::task::noop_waker;
use loom::sync::atomic::{AtomicUsize, Ordering};
use loom::thread;

use super::deadline::Deadline;
use super::flag::Flag;
use super::machine::{block, WaitFuture};
use super::permits::Permits;

/// Poll `fut` once with a waker that does nothing.
fn poll_once<F: Future>(fut: std::pin::Pin<&mut F>) -> Poll<F::Output> {
    let waker = noop_waker();
    fut.poll(&mut Context::from_waker(&waker))
}

fn lock(fair: bool) -> Permits {
    Permits::new(1, 1, fair)
}

/// A release races an async waiter that is dropped after queueing: whether or not the
/// release handed it the lock, the lock ends up free (never stranded, never held twice).
#[test]
fn release_races_dropped_future() {
    for fair in [true, false] {
        loom::model(move || {
            let l = Arc::new(lock(fair));
            assert!(l.try_acquire());
            let l2 = l.clone();
            let waiter = thread::spawn(move || {
                let mut fut = pin!(WaitFuture::new(&*l2, None));
                if poll_once(fut.as_mut()).is_ready() {
                    // Got it straight away: hold, then release.
                    l2.release(1).unwrap();
                }
                // Dropped here: unlinks, or gives back a grant it was handed.
            });
            l.release(1).unwrap();
            waiter.join().unwrap();
            assert_eq!(l.available(), 1, "the lock is free at the end");
            assert!(!l.has_waiters());
        });
    }
}

/// A release races a blocking waiter whose deadline expires (loom fires it as soon as it
/// has queued): the waiter either owns the lock or left the queue; nothing is stranded.
#[test]
fn release_races_timeout() {
    for fair in [true, false] {
        loom::model(move || {
            let l = Arc::new(lock(fair));
            assert!(l.try_acquire());
            let l2 = l.clone();
            let waiter = thread::spawn(move || {
                let deadline = Deadline::At(std::time::Instant::now());
                if l2.try_acquire() || block(&*l2, deadline) {
                    l2.release(1).unwrap();
                    true
                } else {
                    false
                }
            });
            l.release(1).unwrap();
            let _got = waiter.join().unwrap();
            assert_eq!(l.available(), 1);
            assert!(!l.has_waiters());
        });
    }
}

/// A parked thread and a task wait on one semaphore; two releasers give one permit each.
/// Both waiters get exactly one permit, and no permit is lost or duplicated.
#[test]
fn thread_and_task_waiters_two_releasers() {
    for fair in [true, false] {
        loom::model(move || {
            let s = Arc::new(Permits::new(0, super::UNBOUNDED, fair));
            let inside = Arc::new(AtomicUsize::new(0));

            let (s1, i1) = (s.clone(), inside.clone());
            let thread_waiter = thread::spawn(move || {
                if !s1.try_acquire() {
                    assert!(block(&*s1, Deadline::Never));
                }
                i1.fetch_add(1, Ordering::SeqCst);
            });
            let (s2, i2) = (s.clone(), inside.clone());
            let task_waiter = thread::spawn(move || {
                loom::future::block_on(async {
                    if !s2.try_acquire() {
                        assert!(WaitFuture::new(&*s2, None).await);
                    }
                });
                i2.fetch_add(1, Ordering::SeqCst);
            });
            let s3 = s.clone();
            let releaser = thread::spawn(move || s3.release(1).unwrap());
            s.release(1).unwrap();

            releaser.join().unwrap();
            thread_waiter.join().unwrap();
            task_waiter.join().unwrap();
            assert_eq!(inside.load(Ordering::SeqCst), 2);
            assert_eq!(s.available(), 0, "both permits were taken exactly once");
            assert!(!s.has_waiters());
        });
    }
}

/// Two async waiters queue on a fair lock; the first is dropped while the holder
/// releases. The release reaches the second waiter (directly, or through the dropped
/// one's give-back): it is never lost.
#[test]
fn grant_to_dropped_waiter_reaches_next() {
    loom::model(|| {
        let l = Arc::new(lock(true));
        assert!(l.try_acquire());

        let mut second = Box::pin(WaitFuture::new(&*l, None));
        {
            let mut first = Box::pin(WaitFuture::new(&*l, None));
            assert!(poll_once(first.as_mut()).is_pending());
            assert!(poll_once(second.as_mut()).is_pending());

            let l2 = l.clone();
            let releaser = thread::spawn(move || l2.release(1).unwrap());
            drop(first);
            releaser.join().unwrap();
        }
        // The second waiter now owns the lock.
        assert_eq!(poll_once(second.as_mut()), Poll::Ready(true));
        drop(second);
        assert_eq!(l.available(), 0);
        l.release(1).unwrap();
        assert_eq!(l.available(), 1);
    });
}

/// A default (barging) lock: a woken waiter that is dropped before it retries passes the
/// wake-up on, so the other waiter is not stranded while the lock sits free.
#[test]
fn woken_waiter_dropped_passes_on() {
    loom::model(|| {
        let l = Arc::new(lock(false));
        assert!(l.try_acquire());

        let l2 = l.clone();
        let thread_waiter = thread::spawn(move || {
            if !l2.try_acquire() {
                assert!(block(&*l2, Deadline::Never));
            }
            l2.release(1).unwrap();
        });

        let mut fut = Box::pin(WaitFuture::new(&*l, None));
        let queued = poll_once(fut.as_mut()).is_pending();
        let l3 = l.clone();
        let releaser = thread::spawn(move || l3.release(1).unwrap());
        if queued {
            drop(fut);
        } else {
            // It could only be ready if the release already happened.
            l.release(1).unwrap();
        }
        releaser.join().unwrap();
        thread_waiter.join().unwrap();
        assert_eq!(l.available(), 1);
    });
}

/// A blocking wait and an async wait are queued; `clear` right after `set` must not strand
/// either (CONFORMANCE E-7). (A wait that has not queued yet when `clear` runs may rightly
/// wait for the next `set`, as in Python, so the model waits until both have queued.)
#[test]
fn event_set_then_clear_wakes_current_waiters() {
    loom::model(|| {
        let e = Arc::new(Flag::new());
        let e1 = e.clone();
        let thread_waiter = thread::spawn(move || {
            if !e1.is_set() {
                assert!(block(&*e1, Deadline::Never));
            }
        });
        let e2 = e.clone();
        let task_waiter = thread::spawn(move || {
            loom::future::block_on(async {
                if !e2.is_set() {
                    assert!(WaitFuture::new(&*e2, None).await);
                }
            })
        });
        while e.waiters() < 2 {
            thread::yield_now();
        }
        e.set();
        e.clear();
        thread_waiter.join().unwrap();
        task_waiter.join().unwrap();
    });
}

/// A timed event wait racing `set`: it returns true if and only if the flag was set by
/// the time it decided; it never hangs and leaves no node behind.
#[test]
fn event_timeout_races_set() {
    loom::model(|| {
        let e = Arc::new(Flag::new());
        let e1 = e.clone();
        let waiter = thread::spawn(move || {
            e1.is_set() || block(&*e1, Deadline::At(std::time::Instant::now()))
        });
        e.set();
        let _ = waiter.join().unwrap();
        assert_eq!(e.waiters(), 0);
    });
}

/// Eventual fairness on a default lock: a waiter that lost a wake-up to a barging newcomer
/// queues again at the front and is then owed a hand-off (under loom "overdue" means
/// "requeued once"). Every interleaving ends with each party served and the lock free.
#[test]
fn barging_then_hand_off_to_overdue_waiter() {
    loom::model(|| {
        let l = Arc::new(lock(false));
        assert!(l.try_acquire());
        let served = Arc::new(AtomicUsize::new(0));

        let (l1, s1) = (l.clone(), served.clone());
        let waiter = thread::spawn(move || {
            if !l1.try_acquire() {
                assert!(block(&*l1, Deadline::Never));
            }
            s1.fetch_add(1, Ordering::SeqCst);
            l1.release(1).unwrap();
        });
        let (l2, s2) = (l.clone(), served.clone());
        let barger = thread::spawn(move || {
            if !l2.try_acquire() {
                assert!(block(&*l2, Deadline::Never));
            }
            s2.fetch_add(1, Ordering::SeqCst);
            l2.release(1).unwrap();
        });
        l.release(1).unwrap();
        waiter.join().unwrap();
        barger.join().unwrap();
        assert_eq!(served.load(Ordering::SeqCst), 2);
        assert_eq!(l.available(), 1);
        assert!(!l.has_waiters());
    });
}

/// Two bare releases of a held lock race a waiter whose deadline expires: the bound is
/// checked in the same step that adds the permit, so the lock never holds two permits, and
/// the permits add up (a regression model: the check was once made apart from the add).
#[test]
fn releases_racing_a_timeout_keep_the_bound() {
    for fair in [true, false] {
        loom::model(move || {
            let l = Arc::new(lock(fair));
            assert!(l.try_acquire());
            let l1 = l.clone();
            let waiter = thread::spawn(move || {
                l1.try_acquire() || block(&*l1, Deadline::At(std::time::Instant::now()))
            });
            let l2 = l.clone();
            let releaser = thread::spawn(move || l2.release(1).is_ok());
            let mine = l.release(1).is_ok();
            let theirs = releaser.join().unwrap();
            let waiter_took = waiter.join().unwrap();
            let oks = usize::from(mine) + usize::from(theirs);
            assert!(l.available() <= 1, "a lock with two permits");
            assert_eq!(l.available() + usize::from(waiter_took), oks);
        });
    }
}

/// A waker that panics when woken (a buggy executor).
struct PanickingWaker;

impl std::task::Wake for PanickingWaker {
    fn wake(self: Arc<Self>) {
        panic!("waker panicked on purpose");
    }
}

/// A wake batch whose first target is a task with a panicking waker, and a parked thread
/// behind it: the thread is still woken, the panic reaches the caller of `set` once the
/// batch is done, and the task's future, polled again, sees the flag (issue 13, defect 1).
#[test]
fn wake_batch_survives_panicking_waker() {
    loom::model(|| {
        let f = Arc::new(Flag::new());
        let waker = std::task::Waker::from(Arc::new(PanickingWaker));
        let mut task = Box::pin(WaitFuture::new(&*f, None));
        assert!(task
            .as_mut()
            .poll(&mut Context::from_waker(&waker))
            .is_pending());

        let f2 = f.clone();
        let parked = thread::spawn(move || {
            if !f2.is_set() {
                assert!(block(&*f2, Deadline::Never));
            }
        });
        let f3 = f.clone();
        let setter = thread::spawn(move || {
            std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| f3.set())).is_err()
        });
        assert!(
            setter.join().unwrap(),
            "the waker's panic reaches the setter"
        );
        parked.join().unwrap();
        assert!(poll_once(task.as_mut()).is_ready());
    });
}

/// A fair lock with one blocking and one async waiter, both queued behind the holder:
/// each gets the lock exactly once, never together, and it ends free with nobody queued.
/// The hand-off counts each grant in flight until its waiter takes it (defect 4's bound).
#[test]
fn fair_lock_hand_off_thread_and_task() {
    loom::model(|| {
        let l = Arc::new(lock(true));
        let inside = Arc::new(AtomicUsize::new(0));
        assert!(l.try_acquire());

        let (l1, i1) = (l.clone(), inside.clone());
        let thread_waiter = thread::spawn(move || {
            if !l1.try_acquire() {
                assert!(block(&*l1, Deadline::Never));
            }
            assert_eq!(i1.fetch_add(1, Ordering::SeqCst), 0, "two holders");
            i1.fetch_sub(1, Ordering::SeqCst);
            l1.release(1).unwrap();
        });
        let (l2, i2) = (l.clone(), inside.clone());
        let task_waiter = thread::spawn(move || {
            loom::future::block_on(async {
                if !l2.try_acquire() {
                    assert!(WaitFuture::new(&*l2, None).await);
                }
            });
            assert_eq!(i2.fetch_add(1, Ordering::SeqCst), 0, "two holders");
            i2.fetch_sub(1, Ordering::SeqCst);
            l2.release(1).unwrap();
        });
        l.release(1).unwrap();
        thread_waiter.join().unwrap();
        task_waiter.join().unwrap();
        assert_eq!(l.available(), 1);
        assert!(!l.has_waiters());
        assert!(l.release(1).is_err(), "releasing the free lock is refused");
    });
}
