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
