//! Blocking calls on tokio runtime threads: never a panic. On a multi-thread runtime they
//! wait inside `block_in_place`; on `spawn_blocking` threads they just wait; on a
//! current-thread runtime they park as std's locks do.

mod common;

use std::sync::Arc;
use std::time::Duration;

use threading::{Event, Lock, Semaphore};

/// With one worker, a blocking acquire in one task can only succeed if the task that holds
/// the lock gets to run: `block_in_place` hands the worker's other tasks to a new thread.
#[test]
fn multi_thread_worker_waits_in_block_in_place() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    let lock = Arc::new(Lock::new());
    rt.block_on(async {
        let holder_ready = Arc::new(Event::new());
        let (l, ready) = (lock.clone(), holder_ready.clone());
        let holder = tokio::spawn(async move {
            let _g = l.acquire().await;
            ready.set();
            tokio::time::sleep(Duration::from_millis(20)).await;
        });
        holder_ready.wait().await;
        let l = lock.clone();
        let waiter = tokio::spawn(async move {
            // A blocking call on the runtime's only worker thread.
            let _g = l.blocking().acquire();
            "got it"
        });
        assert_eq!(waiter.await.unwrap(), "got it");
        holder.await.unwrap();
    });
    assert!(!lock.locked());
}

/// The same for a timed blocking wait and for an event: they time out or succeed, no panic.
#[test]
fn multi_thread_worker_timed_blocking_waits() {
    let rt = common::mt_runtime();
    let event = Arc::new(Event::new());
    let e = event.clone();
    let timed_out =
        rt.block_on(rt.spawn(async move { !e.blocking().wait_timeout(Duration::from_millis(20)) }));
    assert!(timed_out.unwrap());
}

/// Inside `Runtime::block_on` of a multi-thread runtime (not a worker), a blocking wait
/// works too.
#[test]
fn multi_thread_block_on_thread_waits() {
    let rt = common::mt_runtime();
    let sem = Arc::new(Semaphore::new(0));
    let s = sem.clone();
    rt.block_on(async move {
        let releaser = tokio::spawn(async move {
            tokio::time::sleep(Duration::from_millis(10)).await;
            s.release(1).unwrap();
        });
        sem.blocking().acquire().forget();
        releaser.await.unwrap();
    });
}

/// `spawn_blocking` threads wait plainly, on either flavour of runtime.
#[test]
fn spawn_blocking_threads_wait() {
    for rt in [common::mt_runtime(), common::ct_runtime()] {
        let lock = Arc::new(Lock::new());
        let guard = rt.block_on(lock.acquire_owned());
        let l = lock.clone();
        let waiter = rt.spawn_blocking(move || {
            let _g = l.blocking().acquire();
        });
        rt.block_on(async {
            tokio::time::sleep(Duration::from_millis(10)).await;
            drop(guard);
            waiter.await.unwrap();
        });
        assert!(!lock.locked());
    }
}

/// On a current-thread runtime's own thread, a blocking call that need not wait just
/// succeeds, and one that must wait parks until a plain thread releases (no panic).
/// Waiting there for a task of the same runtime would deadlock, as documented.
#[test]
fn current_thread_runtime_parks_plainly() {
    let rt = common::ct_runtime();
    let lock = Arc::new(Lock::new());
    rt.block_on(async {
        drop(lock.blocking().acquire()); // free: no wait
        let event = Event::new();
        event.set();
        event.blocking().wait(); // set: no wait

        let held = lock.clone().into_blocking().acquire_owned();
        let releaser = std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(20));
            drop(held);
        });
        let _g = lock.blocking().acquire(); // parks this runtime thread; a plain thread releases
        releaser.join().unwrap();
    });
}

/// A timed async wait needs tokio's timer: on a runtime without it, waiting panics with
/// tokio's message (documented under `# Panics`).
#[test]
fn async_timeout_without_time_driver_panics_with_message() {
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    let lock = Lock::new();
    let _held = lock.blocking().acquire();
    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        rt.block_on(lock.acquire_timeout(Duration::from_millis(10)))
            .is_none()
    }));
    let message = match result {
        Ok(_) => panic!("a timed wait without a timer should panic"),
        Err(e) => e
            .downcast_ref::<String>()
            .cloned()
            .or_else(|| e.downcast_ref::<&str>().map(|s| s.to_string()))
            .unwrap_or_default(),
    };
    assert!(
        message.contains("timers are disabled"),
        "message: {message}"
    );
    // A wait that need not wait needs no timer.
    drop(_held);
    assert!(rt
        .block_on(lock.acquire_timeout(Duration::from_millis(10)))
        .is_some());
}

/// Inside a `LocalSet` driven by a multi-thread runtime's `block_on`, tokio refuses
/// `block_in_place`, and its public API cannot tell that case apart beforehand. A blocking
/// call that need not wait still succeeds there; one that must wait panics with tokio's
/// message, as documented on the blocking methods (use the async form in a `LocalSet`).
#[test]
fn local_set_on_multi_thread_runtime() {
    let rt = common::mt_runtime();
    let local = tokio::task::LocalSet::new();
    let lock = Arc::new(Lock::new());
    local.block_on(&rt, async {
        drop(lock.blocking().acquire()); // free: no wait, no panic
        let l = lock.clone();
        let held = lock.clone().into_blocking().acquire_owned();
        let result = tokio::task::spawn_local(async move {
            l.blocking()
                .acquire_timeout(Duration::from_millis(10))
                .is_some()
        })
        .await;
        drop(held);
        let err = result.expect_err("tokio refuses block_in_place inside a LocalSet");
        assert!(err.is_panic());
    });
    assert!(!lock.locked());
    assert_eq!(format!("{lock:?}"), "<unlocked threading.Lock waiters=0>");
}
