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
