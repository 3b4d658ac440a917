//! A worked port from MIGRATING.md: a sync library whose lock is taken by a plain thread
//! and, through new async methods, by the tasks of an async service: one lock for both.
//!
//! ```sh
//! cargo run --example port_shared_lock
//! ```
//!
//! In the Python original (in MIGRATING.md) the asyncio service must send every call into
//! the library through `asyncio.to_thread`, because the library's `threading.Lock` would
//! block the event loop and an `asyncio.Lock` cannot be taken by the library's thread. In
//! the port the library keeps its blocking API and gains `reserve_async`, which awaits the
//! very lock that the thread takes. The code between the `ANCHOR` lines is quoted in
//! MIGRATING.md (`tests/examples.rs` checks the copy).

#[macro_use]
mod common;
use common::watchdog;

use std::sync::Arc;
use std::time::Instant;

// ANCHOR: library
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

use threading::Lock;

pub struct Inventory {
    lock: Lock,
    /// Touched only while `lock` is held.
    stock: Mutex<HashMap<String, u32>>,
}

impl Inventory {
    pub fn new() -> Self {
        Inventory {
            lock: Lock::new(),
            stock: Mutex::new(HashMap::new()),
        }
    }

    /// The library's API for threads, unchanged.
    pub fn reserve(&self, item: &str, n: u32) -> bool {
        let _guard = self.lock.blocking().acquire(); // with self.lock:
        self.reserve_locked(item, n)
    }

    /// New: the same for tasks. It waits for the lock without blocking its worker thread.
    pub async fn reserve_async(&self, item: &str, n: u32) -> bool {
        let _guard = self.lock.acquire().await; // the same lock
        self.reserve_locked(item, n)
    }

    fn reserve_locked(&self, item: &str, n: u32) -> bool {
        match self.stock.lock().unwrap().get_mut(item) {
            Some(left) if *left >= n => {
                *left -= n;
                true
            }
            _ => false,
        }
    }

    pub fn deliver(&self, item: &str, n: u32) {
        let _guard = self.lock.blocking().acquire(); // held while the delivery is checked
        std::thread::sleep(Duration::from_millis(20));
        *self
            .stock
            .lock()
            .unwrap()
            .entry(item.to_owned())
            .or_insert(0) += n;
    }

    pub fn left(&self, item: &str) -> u32 {
        let _guard = self.lock.blocking().acquire();
        self.stock.lock().unwrap().get(item).copied().unwrap_or(0)
    }
}
// ANCHOR_END: library

impl Default for Inventory {
    fn default() -> Self {
        Self::new()
    }
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let start = Instant::now();
    watchdog(Duration::from_secs(30));
    println!("port_shared_lock: a thread and 20 tasks share the Inventory's one Lock");

    // ANCHOR: service
    let inventory = Arc::new(Inventory::new());

    // A plain thread delivers 5 times 2 apples, holding the lock 20 ms each time.
    let receiving = threading::blocking::Thread::new({
        let inventory = inventory.clone();
        move || {
            for _ in 0..5 {
                inventory.deliver("apple", 2);
            }
        }
    });
    receiving.start().expect("a new thread starts");

    // 20 orders, each a task, await the lock the thread holds.
    let orders: Vec<_> = (0..20)
        .map(|_| {
            let inventory = inventory.clone();
            tokio::spawn(async move { inventory.reserve_async("apple", 1).await })
        })
        .collect();
    let mut served = 0;
    for order in orders {
        served += u32::from(order.await.expect("no panic"));
    }
    receiving.as_async().join().await.expect("no panic");
    // The lock is free now: a blocking call that need not wait just succeeds, in a task too.
    assert_eq!(served + inventory.left("apple"), 10);

    // A library that cannot gain async methods: `asyncio.to_thread(inventory.reserve, ...)`.
    let reserve = threading::Thread::new_blocking({
        let inventory = inventory.clone();
        move || inventory.reserve("apple", 1)
    });
    reserve.start().expect("inside a runtime");
    let reserved: bool = reserve
        .join()
        .await
        .expect("no panic")
        .expect("the first join");
    // ANCHOR_END: service
    println!(
        "   ok: {served} orders served while apples arrived; served + left = 10 (then one more order: {reserved})"
    );

    // Blocking calls in a task do not panic (on a multi-thread runtime they wait inside
    // `block_in_place`), but a task should await: here a task holds the lock while a
    // thread's blocking call waits for it.
    let guard = inventory.lock.acquire().await;
    let waiter = threading::blocking::Thread::new({
        let inventory = inventory.clone();
        move || inventory.left("apple")
    });
    waiter.start().expect("start");
    tokio::time::sleep(Duration::from_millis(10)).await;
    assert!(waiter.is_alive(), "the thread waits for the task's lock");
    drop(guard);
    waiter.as_async().join().await.expect("no panic");
    println!("   ok: a thread's blocking call waited for the lock a task held");

    println!(
        "\nport_shared_lock passed in {} ms.",
        start.elapsed().as_millis()
    );
}
