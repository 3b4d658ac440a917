//! A worked port from MIGRATING.md: a worker pool bounded by a `BoundedSemaphore`, with an
//! `Event` per job and a `stop` event. The jobs run on plain threads; they are submitted
//! and awaited by a tokio task.
//!
//! ```sh
//! cargo run --example port_worker_pool
//! ```
//!
//! The Python original (in MIGRATING.md) acquires a slot in the submitter and releases it
//! in the worker's `finally:`. In the port the slot is a permit guard that moves into the
//! worker thread, and the `finally:` is a `Drop`. The code between the `ANCHOR` lines is
//! quoted in MIGRATING.md (`tests/examples.rs` checks the copy).

#[macro_use]
mod common;
use common::watchdog;

use std::time::Instant;

// ANCHOR: pool
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use threading::{BoundedSemaphore, Event, SemaphoreGuard};

const MAX_WORKERS: usize = 3;
static SLOTS: BoundedSemaphore = BoundedSemaphore::new(MAX_WORKERS);
static STOP: Event = Event::new();
// `results` and `results_lock` in one: a std Mutex carries its data.
static RESULTS: Mutex<BTreeMap<u64, u64>> = Mutex::new(BTreeMap::new());

fn worker(job: u64, slot: SemaphoreGuard<'static>, done: Arc<Event>) {
    let _finally = Finally {
        slot: Some(slot),
        done,
    };
    if STOP.is_set() {
        return;
    }
    std::thread::sleep(Duration::from_millis(10)); // the job's work
    RESULTS.lock().unwrap().insert(job, job * job);
}

/// Python's `finally: slots.release(); done.set()`: runs however the worker ends, a
/// panic included.
struct Finally {
    slot: Option<SemaphoreGuard<'static>>,
    done: Arc<Event>,
}

impl Drop for Finally {
    fn drop(&mut self) {
        drop(self.slot.take()); // slots.release()
        self.done.set();
    }
}

/// Called from a task: waits for a free slot without blocking its worker thread.
async fn submit(job: u64) -> Arc<Event> {
    let slot = SLOTS.acquire().await; // at most MAX_WORKERS jobs at once
    let done = Arc::new(Event::new());
    let thread = threading::blocking::Thread::builder().daemon(true).target({
        let done = done.clone();
        move || worker(job, slot, done)
    });
    thread.start().expect("a new thread starts");
    done
}
// ANCHOR_END: pool

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let start = Instant::now();
    watchdog(Duration::from_secs(30));
    println!("port_worker_pool: a task submits 10 jobs to at most 3 worker threads");

    // ANCHOR: use
    let mut events = Vec::new();
    for job in 0..10 {
        events.push(submit(job).await);
    }
    for done in &events {
        if !done.wait_timeout(Duration::from_secs(5)).await {
            STOP.set();
            panic!("a job hung");
        }
    }
    let expected: BTreeMap<u64, u64> = (0..10).map(|job| (job, job * job)).collect();
    assert_eq!(*RESULTS.lock().unwrap(), expected);
    // ANCHOR_END: use
    println!("   ok: the 10 results are in");
    assert_eq!(SLOTS.value(), MAX_WORKERS);
    println!("   ok: every slot is free again: {SLOTS:?}");

    // `stop.set()`: jobs that start afterwards do nothing, and still free their slot and
    // set their event.
    STOP.set();
    let mut late = Vec::new();
    for job in 10..13 {
        late.push(submit(job).await);
    }
    for done in &late {
        assert!(done.wait_timeout(Duration::from_secs(5)).await, "set");
    }
    assert_eq!(RESULTS.lock().unwrap().len(), 10);
    assert_eq!(SLOTS.value(), MAX_WORKERS);
    println!("   ok: after stop.set(), 3 more jobs ended at once with no result");

    // A job that panics still frees its slot and sets its event (the `finally:`).
    // (Rust's own panic message is silenced here; the excepthook reports the panic.)
    let rust_hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(|_| {}));
    threading::set_excepthook(|args| {
        println!(
            "   [hook]      a worker panicked: {}",
            args.message().unwrap_or("?")
        );
    });
    let slot = SLOTS.acquire().await;
    let done = Arc::new(Event::new());
    let t = threading::blocking::Thread::new({
        let done = done.clone();
        move || {
            let _finally = Finally {
                slot: Some(slot),
                done,
            };
            panic!("disk full");
        }
    });
    t.start().expect("start");
    assert!(done.wait_timeout(Duration::from_secs(5)).await);
    assert!(t.as_async().join().await.is_err());
    threading::set_excepthook(threading::excepthook);
    std::panic::set_hook(rust_hook);
    assert_eq!(SLOTS.value(), MAX_WORKERS);
    println!("   ok: a panicking job freed its slot and set its event");

    println!(
        "\nport_worker_pool passed in {} ms.",
        start.elapsed().as_millis()
    );
}
