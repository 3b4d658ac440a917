//! Loom models of `Condition` through its public API: a notification picked for a waiter
//! that is dropped reaches another waiter; wait/notify between a thread and a task.
#![cfg(loom)]

use std::future::Future;
use std::pin::pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use futures::task::noop_waker;
use loom::sync::atomic::{AtomicUsize, Ordering};
use loom::thread;
use threading::{Condition, Lock};

/// A dropped async waiter may be the one `notify(1)` picks: the notification passes on, so
/// the blocking waiter still consumes the item (CONFORMANCE A-13).
#[test]
fn notify_to_dropped_waiter_reaches_the_other() {
    loom::model(|| {
        let cond = Arc::new(Condition::with_lock(Arc::new(Lock::new())));
        let items = Arc::new(AtomicUsize::new(0));

        let (c1, i1) = (cond.clone(), items.clone());
        let consumer = thread::spawn(move || {
            let c = c1.blocking();
            let guard = c.acquire();
            let guard = c.wait_for(guard, || i1.load(Ordering::SeqCst) > 0);
            i1.fetch_sub(1, Ordering::SeqCst);
            drop(guard);
        });

        let c2 = cond.clone();
        let dropped = thread::spawn(move || {
            let guard = loom::future::block_on(c2.acquire());
            let mut wait = pin!(c2.wait(guard));
            let waker = noop_waker();
            // Queue, release the lock, then give up.
            if let Poll::Ready(guard) = wait.as_mut().poll(&mut Context::from_waker(&waker)) {
                drop(guard);
            }
        });

        {
            let guard = cond.blocking().acquire();
            items.fetch_add(1, Ordering::SeqCst);
            cond.blocking().notify(&guard, 1);
        }
        dropped.join().unwrap();
        consumer.join().unwrap();
        assert_eq!(items.load(Ordering::SeqCst), 0);
        assert!(!cond.locked());
    });
}

/// A task waits (with `wait_for`) for a thread's notification over the default RLock.
#[test]
fn task_waits_for_thread_notification() {
    loom::model(|| {
        let cond = Arc::new(Condition::new());
        let ready = Arc::new(AtomicUsize::new(0));
        let (c, r) = (cond.clone(), ready.clone());
        let notifier = thread::spawn(move || {
            let c = c.blocking();
            let guard = c.acquire();
            r.store(1, Ordering::SeqCst);
            c.notify_all(&guard);
        });
        loom::future::block_on(async {
            let guard = cond.acquire().await;
            let guard = cond
                .wait_for(guard, || ready.load(Ordering::SeqCst) == 1)
                .await;
            drop(guard);
        });
        notifier.join().unwrap();
        assert!(!cond.locked());
    });
}
