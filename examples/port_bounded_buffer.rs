//! A worked port from MIGRATING.md: a bounded producer/consumer buffer built on two
//! `Condition`s that share one lock (as `queue.Queue` is), usable from threads and tasks.
//!
//! ```sh
//! cargo run --example port_bounded_buffer
//! ```
//!
//! The Python original (in MIGRATING.md) has `put(item, timeout=None)` and `get()` for
//! threads. The port keeps them for threads and adds `put_async`/`get_async` for tasks, over
//! the same buffer: here a plain thread produces and a tokio task consumes. The code between
//! the `ANCHOR` lines is quoted in MIGRATING.md (`tests/examples.rs` checks the copy).

#[macro_use]
mod common;
use common::watchdog;

use std::time::{Duration, Instant};

// ANCHOR: buffer
use std::collections::VecDeque;
use std::sync::{Arc, Mutex};

use threading::{Condition, Lock};

pub struct BoundedBuffer<T> {
    /// Touched only while the conditions' lock is held (Python's GIL did that part).
    items: Mutex<VecDeque<T>>,
    capacity: usize,
    not_empty: Condition<Lock>,
    not_full: Condition<Lock>,
}

impl<T: Send> BoundedBuffer<T> {
    pub fn new(capacity: usize) -> Self {
        let lock = Arc::new(Lock::new()); // one lock, two conditions
        BoundedBuffer {
            items: Mutex::new(VecDeque::new()),
            capacity,
            not_empty: Condition::with_lock(lock.clone()),
            not_full: Condition::with_lock(lock),
        }
    }

    fn len(&self) -> usize {
        self.items.lock().unwrap().len()
    }

    /// For threads. `Err(item)` if the buffer stayed full for `timeout` (Python's
    /// TimeoutError). Python's `timeout=None` is `Duration::MAX`: it waits forever.
    pub fn put(&self, item: T, timeout: Duration) -> Result<(), T> {
        let not_full = self.not_full.blocking();
        let guard = not_full.acquire(); // with self.not_full:
        let (guard, room) =
            not_full.wait_for_timeout(guard, || self.len() < self.capacity, timeout);
        if !room {
            return Err(item);
        }
        self.items.lock().unwrap().push_back(item);
        self.not_empty.blocking().notify(&guard, 1); // the guard of the shared lock
        Ok(())
    }

    /// For threads.
    pub fn get(&self) -> T {
        let not_empty = self.not_empty.blocking();
        let guard = not_empty.acquire();
        let guard = not_empty.wait_for(guard, || self.len() > 0);
        let item = self.items.lock().unwrap().pop_front().expect("not empty");
        self.not_full.blocking().notify(&guard, 1);
        item
    }

    /// For tasks: the same buffer, waiting without blocking the worker thread.
    pub async fn put_async(&self, item: T, timeout: Duration) -> Result<(), T> {
        let guard = self.not_full.acquire().await;
        let (guard, room) = self
            .not_full
            .wait_for_timeout(guard, || self.len() < self.capacity, timeout)
            .await;
        if !room {
            return Err(item);
        }
        self.items.lock().unwrap().push_back(item);
        self.not_empty.notify(&guard, 1);
        Ok(())
    }

    /// For tasks.
    pub async fn get_async(&self) -> T {
        let guard = self.not_empty.acquire().await;
        let guard = self.not_empty.wait_for(guard, || self.len() > 0).await;
        let item = self.items.lock().unwrap().pop_front().expect("not empty");
        self.not_full.notify(&guard, 1);
        item
    }
}
// ANCHOR_END: buffer

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let start = Instant::now();
    watchdog(Duration::from_secs(30));
    println!("port_bounded_buffer: a thread produces, a task consumes, through BoundedBuffer(4)");

    // ANCHOR: use
    let buffer = Arc::new(BoundedBuffer::new(4));

    // The producer is a plain thread; `None` marks the end.
    let producer = threading::blocking::Thread::new({
        let buffer = buffer.clone();
        move || {
            for n in 0..20 {
                buffer.put(Some(n), Duration::MAX).expect("no timeout");
            }
            buffer.put(None, Duration::MAX).expect("no timeout");
        }
    });
    producer.start().expect("a new thread starts");

    // The consumer is this task.
    let mut out = Vec::new();
    while let Some(item) = buffer.get_async().await {
        out.push(item);
    }
    producer.as_async().join().await.expect("no panic");
    assert_eq!(out, (0..20).collect::<Vec<_>>());
    // ANCHOR_END: use
    println!("   ok: the task got the thread's 20 items, in order");

    // The other way round, and a put that times out on a full buffer.
    let consumer = threading::blocking::Thread::new({
        let buffer = buffer.clone();
        move || (0..3).map(|_| buffer.get()).collect::<Vec<Option<u32>>>()
    });
    consumer.start().expect("start");
    for n in [7, 8, 9] {
        buffer
            .put_async(Some(n), Duration::from_secs(5))
            .await
            .expect("room");
    }
    let got = consumer
        .as_async()
        .join()
        .await
        .expect("no panic")
        .expect("the first join takes the value");
    assert_eq!(got, [Some(7), Some(8), Some(9)]);
    println!("   ok: a thread got a task's 3 items");

    for n in 0..4 {
        buffer.put(Some(n), Duration::ZERO).expect("room for 4");
    }
    let timeout = Duration::from_millis(30);
    let t0 = Instant::now();
    let full = buffer.put_async(Some(4), timeout).await;
    let waited = t0.elapsed();
    assert!(full == Err(Some(4)) && waited >= timeout);
    let t0 = Instant::now();
    let full = buffer.put(Some(5), timeout);
    let waited_blocking = t0.elapsed();
    assert!(full == Err(Some(5)) && waited_blocking >= timeout);
    println!(
        "   ok: on a full buffer, put_async and put gave the item back after {} and {} ms, not before 30",
        waited.as_millis(),
        waited_blocking.as_millis()
    );

    println!(
        "\nport_bounded_buffer passed in {} ms.",
        start.elapsed().as_millis()
    );
}
