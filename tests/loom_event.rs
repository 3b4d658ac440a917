//! Loom models of `Event` through its public API.
#![cfg(loom)]

use std::sync::Arc;

use loom::thread;
use threading::Event;

/// A task sets the event a thread and another task wait for, and `clear` follows at once:
/// neither queued waiter hangs (E-7). The model waits until both have queued: a wait that
/// has not queued when `clear` runs may rightly wait for the next `set`, as in Python.
#[test]
fn set_wakes_thread_and_task_despite_clear() {
    loom::model(|| {
        let e = Arc::new(Event::new());
        let e1 = e.clone();
        let t = thread::spawn(move || e1.blocking().wait());
        let e2 = e.clone();
        let task = thread::spawn(move || loom::future::block_on(e2.wait()));
        while !format!("{e:?}").contains("waiters=2") {
            thread::yield_now();
        }
        loom::future::block_on(async {
            e.set();
        });
        e.clear();
        t.join().unwrap();
        task.join().unwrap();
        assert!(!e.is_set());
    });
}

/// `set()` racing a thread's timed wait (under loom it expires as soon as it has queued):
/// the wait reports true only if the flag was set, and a task waiting after the set returns.
#[test]
fn timeout_racing_set() {
    loom::model(|| {
        let event = Arc::new(Event::new());
        let e = event.clone();
        let timed =
            thread::spawn(move || e.blocking().wait_timeout(std::time::Duration::from_secs(1)));
        event.set();
        // Either outcome of the timed wait is allowed; it must return (no hang, no lost
        // wake-up) and leave the flag readable by both forms.
        timed.join().unwrap();
        assert!(event.blocking().wait_timeout(std::time::Duration::ZERO));
        loom::future::block_on(event.wait());
    });
}
