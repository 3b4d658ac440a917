//! Loom models of `Semaphore` and `BoundedSemaphore` through their public API.
#![cfg(loom)]

use std::sync::Arc;

use loom::thread;
use threading::{BoundedSemaphore, Semaphore};

/// Concurrent bounded releases never lift the value above the bound, and a refused one
/// changes nothing.
#[test]
fn bounded_release_races_keep_the_bound() {
    loom::model(|| {
        let sem = Arc::new(BoundedSemaphore::new(1));
        sem.blocking().acquire().forget();
        let s = sem.clone();
        let other = thread::spawn(move || s.release(1).is_ok());
        let mine = sem.release(1).is_ok();
        let theirs = other.join().unwrap();
        assert!(
            mine ^ theirs,
            "exactly one of two releases fits under the bound"
        );
        assert_eq!(sem.value(), 1);
    });
}

/// `release(2)` wakes two waiters, one thread and one task.
#[test]
fn release_n_wakes_n_waiters() {
    for fair in [false, true] {
        loom::model(move || {
            let sem = Arc::new(if fair {
                Semaphore::new_fair(0)
            } else {
                Semaphore::new(0)
            });
            let s1 = sem.clone();
            let t = thread::spawn(move || s1.blocking().acquire().forget());
            let s2 = sem.clone();
            let task = thread::spawn(move || {
                loom::future::block_on(async move { s2.acquire().await.forget() })
            });
            sem.release(2).unwrap();
            t.join().unwrap();
            task.join().unwrap();
            assert_eq!(sem.value(), 0);
        });
    }
}

/// Cancel racing a grant: a task's acquire is polled once (queued) and dropped while a
/// permit is released; the permit reaches the thread waiting behind it, and the value is
/// whole at the end.
#[test]
fn dropped_acquire_passes_the_permit_on() {
    use std::future::Future;
    use std::pin::pin;
    use std::task::{Context, Poll};

    loom::model(|| {
        let sem = Arc::new(Semaphore::new_fair(1));
        let held = sem.blocking().acquire();
        let s = sem.clone();
        let dropped = thread::spawn(move || {
            let mut acquire = pin!(s.acquire());
            let waker = futures::task::noop_waker();
            if let Poll::Ready(g) = acquire.as_mut().poll(&mut Context::from_waker(&waker)) {
                drop(g);
            }
        });
        let s = sem.clone();
        let waiter = thread::spawn(move || {
            let _g = s.blocking().acquire();
        });
        drop(held);
        dropped.join().unwrap();
        waiter.join().unwrap();
        assert_eq!(sem.value(), 1, "a permit was lost or made up");
    });
}
