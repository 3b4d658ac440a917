//! Loom models of `RLock` through its public API: ownership hand-off between a thread
//! (blocking form) and a task (async form), with re-entry.
#![cfg(loom)]

use std::sync::Arc;

use loom::sync::atomic::{AtomicUsize, Ordering};
use loom::thread;
use threading::RLock;

fn critical(inside: &AtomicUsize) {
    assert_eq!(
        inside.fetch_add(1, Ordering::SeqCst),
        0,
        "two owners at once"
    );
    inside.fetch_sub(1, Ordering::SeqCst);
}

/// A thread re-enters and releases level by level while a task and the main thread
/// contend: never two owners, the count is exact, and the lock is free at the end.
#[test]
fn reentry_and_hand_off_between_thread_and_task() {
    for fair in [false, true] {
        loom::model(move || {
            let lock = Arc::new(if fair {
                RLock::new_fair()
            } else {
                RLock::new()
            });
            let inside = Arc::new(AtomicUsize::new(0));

            let (l1, i1) = (lock.clone(), inside.clone());
            let t = thread::spawn(move || {
                let l = l1.blocking();
                let outer = l.acquire();
                let inner = l.acquire();
                assert_eq!(l.recursion_count(), 2);
                critical(&i1);
                drop(inner);
                assert!(l.is_owned());
                drop(outer);
                assert!(!l.is_owned());
            });
            let (l2, i2) = (lock.clone(), inside.clone());
            let task = thread::spawn(move || {
                loom::future::block_on(async {
                    let _g = l2.acquire().await;
                    critical(&i2);
                })
            });
            {
                let _g = lock.blocking().acquire();
                critical(&inside);
            }
            t.join().unwrap();
            task.join().unwrap();
            assert!(!lock.locked());
        });
    }
}

/// Cancel racing a grant: a task's acquire is polled once (queued) and dropped while the
/// owning thread releases its last level; the lock passes on to a waiting thread, and
/// nobody owns it at the end.
#[test]
fn dropped_acquire_passes_the_lock_on() {
    use std::future::Future;
    use std::pin::pin;
    use std::task::{Context, Poll};

    loom::model(|| {
        let lock = Arc::new(RLock::new_fair());
        let outer = lock.blocking().acquire();
        let inner = lock.blocking().acquire();
        let l = lock.clone();
        let dropped = thread::spawn(move || {
            let mut acquire = pin!(l.acquire());
            let waker = futures::task::noop_waker();
            if let Poll::Ready(g) = acquire.as_mut().poll(&mut Context::from_waker(&waker)) {
                drop(g);
            }
        });
        let l = lock.clone();
        let waiter = thread::spawn(move || {
            let g = l.blocking().acquire();
            assert_eq!(l.blocking().recursion_count(), 1);
            drop(g);
        });
        drop(inner);
        drop(outer);
        dropped.join().unwrap();
        waiter.join().unwrap();
        assert!(!lock.locked());
    });
}
