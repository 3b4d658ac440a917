//! Loom models of `Lock` through its public API: mutual exclusion and hand-off between a
//! thread and a task, in both policies.
#![cfg(loom)]

use std::sync::Arc;

use loom::sync::atomic::{AtomicUsize, Ordering};
use loom::thread;
use threading::Lock;

fn critical(inside: &AtomicUsize) {
    assert_eq!(
        inside.fetch_add(1, Ordering::SeqCst),
        0,
        "two holders at once"
    );
    inside.fetch_sub(1, Ordering::SeqCst);
}

/// A thread (blocking form) and a task (async form) contend with the main thread: never
/// two holders, and the lock is free at the end.
#[test]
fn thread_and_task_exclude_each_other() {
    for fair in [false, true] {
        loom::model(move || {
            let lock = Arc::new(if fair { Lock::new_fair() } else { Lock::new() });
            let inside = Arc::new(AtomicUsize::new(0));

            let (l1, i1) = (lock.clone(), inside.clone());
            let t = thread::spawn(move || {
                let _g = l1.blocking().acquire();
                critical(&i1);
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

/// `release()` from a thread that did not acquire (a Lock has no owner) wakes a task.
#[test]
fn release_from_other_thread_wakes_task() {
    loom::model(|| {
        let lock = Arc::new(Lock::new_fair());
        lock.blocking().acquire().forget();
        let l = lock.clone();
        let releaser = thread::spawn(move || l.release().unwrap());
        loom::future::block_on(async {
            let _g = lock.acquire().await;
        });
        releaser.join().unwrap();
        assert!(!lock.locked());
        assert!(lock.release().is_err());
    });
}

/// Release racing a timeout: a thread's `acquire_timeout` (under loom it expires as soon as
/// it has queued) either gets the lock or times out, never both and never a stranded
/// grant: afterwards the lock is free for a task.
#[test]
fn timeout_racing_release() {
    for fair in [false, true] {
        loom::model(move || {
            let lock = Arc::new(if fair { Lock::new_fair() } else { Lock::new() });
            let held = lock.blocking().acquire();
            let l = lock.clone();
            let timed = thread::spawn(move || {
                l.blocking()
                    .acquire_timeout(std::time::Duration::from_secs(1))
                    .is_some()
            });
            drop(held);
            let _got = timed.join().unwrap();
            assert!(!lock.locked(), "a grant to the timed-out waiter was lost");
            loom::future::block_on(async {
                let _g = lock.acquire().await;
            });
        });
    }
}

/// Cancel racing a grant: a task's acquire is polled once (queued) and then dropped while
/// the holder releases; the lock passes on to the thread waiting behind it.
#[test]
fn dropped_acquire_passes_the_grant_on() {
    use std::future::Future;
    use std::pin::pin;
    use std::task::{Context, Poll};

    loom::model(|| {
        let lock = Arc::new(Lock::new_fair());
        let held = lock.blocking().acquire();
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
            let _g = l.blocking().acquire();
        });
        drop(held);
        dropped.join().unwrap();
        waiter.join().unwrap();
        assert!(!lock.locked());
    });
}
