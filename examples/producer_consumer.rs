//! The producer/consumer of Python's `threading` docs (`Condition`), ported in both forms:
//! plain threads and tokio tasks produce and consume through one condition.
//!
//! ```sh
//! cargo run --example producer_consumer
//! ```
//!
//! The Python original, from the docs' "Condition objects":
//!
//! ```python
//! # Consume one item
//! with cv:
//!     while not an_item_is_available():
//!         cv.wait()
//!     get_an_available_item()
//!
//! # Produce one item
//! with cv:
//!     make_an_item_available()
//!     cv.notify()
//!
//! # Consume an item, with wait_for
//! with cv:
//!     cv.wait_for(an_item_is_available)
//!     get_an_available_item()
//! ```
//!
//! In Rust the guard that `acquire()` returns is the `with cv:` block, and it is also the
//! proof that `wait` and `notify` need: `wait(guard)` gives the lock up while it waits and
//! hands the guard back once it holds the lock again. As in Python, a `Condition` guards no
//! data; the items sit in a `std::sync::Mutex` that is touched only while the condition's
//! lock is held, so it is never contended (Python's GIL did that part). Each step prints
//! what happens and asserts what it shows (the `ok:` lines).

#[macro_use]
mod common;
use common::{ms, watchdog};

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use threading::Condition;

/// What the producers put on the shelf: an item, or `None` to tell one consumer to stop.
type Item = Option<u32>;

/// The condition and the data it is about.
struct Shelf {
    /// `cv = threading.Condition()`: over a new `RLock`, as Python's.
    cv: Condition,
    items: Mutex<VecDeque<Item>>,
}

impl Shelf {
    fn new() -> Self {
        Self {
            cv: Condition::new(),
            items: Mutex::new(VecDeque::new()),
        }
    }

    // The three helpers of the Python code. Call them only while holding `cv`'s lock.
    fn an_item_is_available(&self) -> bool {
        !self.items.lock().unwrap().is_empty()
    }

    fn get_an_available_item(&self) -> Item {
        self.items
            .lock()
            .unwrap()
            .pop_front()
            .expect("an item is available")
    }

    fn make_an_item_available(&self, item: Item) {
        self.items.lock().unwrap().push_back(item);
    }
}

const PER_PRODUCER: u32 = 10;

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let start = Instant::now();
    watchdog(Duration::from_secs(30));
    println!("producer_consumer: Python's Condition example, threads and tasks on one condition");

    produce_and_consume().await;
    wait_for_with_timeout().await;

    println!("\nproducer_consumer passed in {} ms.", ms(start));
}

async fn produce_and_consume() {
    println!("\n1. A thread and a task produce; two threads and two tasks consume");
    let shelf = Arc::new(Shelf::new());

    // Consumers: each kind in each of the docs' two styles.
    let thread_while = threading::blocking::Thread::new({
        let shelf = shelf.clone();
        move || consume_loop_blocking(&shelf, "thread A")
    });
    let thread_wait_for = threading::blocking::Thread::new({
        let shelf = shelf.clone();
        move || consume_wait_for_blocking(&shelf, "thread B")
    });
    let task_while = threading::Thread::new({
        let shelf = shelf.clone();
        move || async move { consume_loop_async(&shelf, "task C").await }
    });
    let task_wait_for = threading::Thread::new({
        let shelf = shelf.clone();
        move || async move { consume_wait_for_async(&shelf, "task D").await }
    });
    let consumers = [
        thread_while.clone().into_async(),
        thread_wait_for.clone().into_async(),
        task_while.clone(),
        task_wait_for.clone(),
    ];
    for c in &consumers {
        c.start().expect("start");
    }

    // Producers: a thread makes items 1..=10, a task makes 11..=20.
    let thread_producer = threading::blocking::Thread::new({
        let shelf = shelf.clone();
        move || {
            for n in 1..=PER_PRODUCER {
                std::thread::sleep(Duration::from_millis(2));
                let guard = shelf.cv.blocking().acquire(); // `with cv:`
                shelf.make_an_item_available(Some(n));
                shelf.cv.blocking().notify(&guard, 1); // `cv.notify()`
            }
        }
    });
    thread_producer.start().expect("start");
    for n in PER_PRODUCER + 1..=2 * PER_PRODUCER {
        tokio::time::sleep(Duration::from_millis(2)).await;
        let guard = shelf.cv.acquire().await; // asyncio's `async with cv:`
        shelf.make_an_item_available(Some(n));
        shelf.cv.notify(&guard, 1);
    }
    thread_producer.as_async().join().await.expect("no panic");

    // One end marker per consumer, then wake them all.
    let guard = shelf.cv.acquire().await;
    for _ in &consumers {
        shelf.make_an_item_available(None);
    }
    say!("main", "put {} end markers, notify_all()", consumers.len());
    shelf.cv.notify_all(&guard);
    drop(guard);

    let results = [
        ("thread A", thread_while.as_async().join().await),
        ("thread B", thread_wait_for.as_async().join().await),
        ("task C", task_while.join().await),
        ("task D", task_wait_for.join().await),
    ];
    let mut all = Vec::new();
    let mut counts = Vec::new();
    for (who, result) in results {
        let got = result
            .expect("no panic")
            .expect("the first join takes the value");
        counts.push(format!("{who}: {}", got.len()));
        all.extend(got);
    }
    say!("main", "items per consumer: {}", counts.join(", "));
    all.sort_unstable();
    check!(
        all == (1..=2 * PER_PRODUCER).collect::<Vec<_>>(),
        "the {} items were consumed exactly once each",
        2 * PER_PRODUCER
    );
    check!(
        !shelf.an_item_is_available() && !shelf.cv.locked(),
        "the shelf is empty and the lock free"
    );
}

/// `with cv: while not an_item_is_available(): cv.wait()`, in a plain thread.
fn consume_loop_blocking(shelf: &Shelf, who: &str) -> Vec<u32> {
    let cv = shelf.cv.blocking();
    let mut got = Vec::new();
    loop {
        let mut guard = cv.acquire();
        while !shelf.an_item_is_available() {
            guard = cv.wait(guard); // gives the lock up while it waits
        }
        let item = shelf.get_an_available_item();
        drop(guard); // the end of the `with` block
        match item {
            Some(n) => {
                say!(who, "got item {n}");
                got.push(n);
            }
            None => return got,
        }
    }
}

/// `with cv: cv.wait_for(an_item_is_available)`, in a plain thread.
fn consume_wait_for_blocking(shelf: &Shelf, who: &str) -> Vec<u32> {
    let cv = shelf.cv.blocking();
    let mut got = Vec::new();
    loop {
        let guard = cv.acquire();
        let guard = cv.wait_for(guard, || shelf.an_item_is_available());
        let item = shelf.get_an_available_item();
        drop(guard);
        match item {
            Some(n) => {
                say!(who, "got item {n}");
                got.push(n);
            }
            None => return got,
        }
    }
}

/// The `while` loop in a task: asyncio's `async with cv: while ...: await cv.wait()`.
async fn consume_loop_async(shelf: &Shelf, who: &str) -> Vec<u32> {
    let mut got = Vec::new();
    loop {
        let mut guard = shelf.cv.acquire().await;
        while !shelf.an_item_is_available() {
            guard = shelf.cv.wait(guard).await;
        }
        let item = shelf.get_an_available_item();
        drop(guard);
        match item {
            Some(n) => {
                say!(who, "got item {n}");
                got.push(n);
            }
            None => return got,
        }
    }
}

/// `wait_for` in a task: asyncio's `await cv.wait_for(an_item_is_available)`.
async fn consume_wait_for_async(shelf: &Shelf, who: &str) -> Vec<u32> {
    let mut got = Vec::new();
    loop {
        let guard = shelf.cv.acquire().await;
        let guard = shelf
            .cv
            .wait_for(guard, || shelf.an_item_is_available())
            .await;
        let item = shelf.get_an_available_item();
        drop(guard);
        match item {
            Some(n) => {
                say!(who, "got item {n}");
                got.push(n);
            }
            None => return got,
        }
    }
}

/// `cv.wait_for(an_item_is_available, timeout=0.05)` on an empty shelf: false, never early,
/// and the lock is held again when it returns.
async fn wait_for_with_timeout() {
    println!("\n2. wait_for with a timeout on an empty shelf, in both forms");
    let shelf = Arc::new(Shelf::new());
    let timeout = Duration::from_millis(50);

    let thread_side = threading::blocking::Thread::new({
        let shelf = shelf.clone();
        move || {
            let cv = shelf.cv.blocking();
            let guard = cv.acquire();
            let start = Instant::now();
            let (guard, available) =
                cv.wait_for_timeout(guard, || shelf.an_item_is_available(), timeout);
            let waited = start.elapsed();
            let held = cv.lock().is_owned();
            drop(guard);
            (available, waited, held)
        }
    });
    thread_side.start().expect("start");

    let guard = shelf.cv.acquire().await;
    let start = Instant::now();
    let (guard, available) = shelf
        .cv
        .wait_for_timeout(guard, || shelf.an_item_is_available(), timeout)
        .await;
    let waited = start.elapsed();
    say!(
        "task",
        "wait_for_timeout(50 ms) -> {available} after {} ms",
        waited.as_millis()
    );
    check!(
        !available && waited >= timeout && shelf.cv.lock().is_owned(),
        "the task: false, not before 50 ms, holding the lock again"
    );
    drop(guard);

    let (available, waited, held) = thread_side
        .as_async()
        .join()
        .await
        .expect("no panic")
        .expect("the first join takes the value");
    say!(
        "thread",
        "wait_for_timeout(50 ms) -> {available} after {} ms",
        waited.as_millis()
    );
    check!(
        !available && waited >= timeout && held,
        "the thread: false, not before 50 ms, holding the lock again"
    );
}
