//! The connection pool of Python's `threading` docs (`BoundedSemaphore`), ported: plain
//! threads and tokio tasks share one pool.
//!
//! ```sh
//! cargo run --example connection_pool
//! ```
//!
//! The Python original, from the docs' "Semaphore example":
//!
//! ```python
//! maxconnections = 5
//! # ...
//! pool_sema = BoundedSemaphore(value=maxconnections)
//!
//! with pool_sema:
//!     conn = connectdb()
//!     try:
//!         # ... use connection ...
//!     finally:
//!         conn.close()
//! ```
//!
//! In Rust `with pool_sema:` is the scope of the permit guard that `acquire()` returns, and
//! `finally: conn.close()` is the connection's `Drop`. Locals drop in reverse order, so the
//! connection closes before its permit goes back, as in the Python code. Each step prints
//! what happens and asserts what it shows (the `ok:` lines).

#[macro_use]
mod common;
use common::{ms, watchdog};

use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use threading::{BoundedSemaphore, Semaphore, SemaphoreReleaseError};

const MAX_CONNECTIONS: usize = 5;

// `pool_sema = BoundedSemaphore(value=maxconnections)`: `new` is a `const fn`, so the pool
// can be a module-level `static`, as in Python. The async form is this value; the blocking
// form is `POOL_SEMA.blocking()`, the same semaphore.
static POOL_SEMA: BoundedSemaphore = BoundedSemaphore::new(MAX_CONNECTIONS);

/// A stand-in for the database: counts the connections open now, the most ever open at
/// once, and the queries served.
static OPEN: AtomicUsize = AtomicUsize::new(0);
static MOST_OPEN: AtomicUsize = AtomicUsize::new(0);
static SERVED: AtomicUsize = AtomicUsize::new(0);

/// `connectdb()`.
fn connectdb() -> Connection {
    let open = OPEN.fetch_add(1, Ordering::SeqCst) + 1;
    MOST_OPEN.fetch_max(open, Ordering::SeqCst);
    Connection { open }
}

struct Connection {
    /// How many connections were open when this one opened (itself included).
    open: usize,
}

impl Connection {
    fn query(&self) {
        SERVED.fetch_add(1, Ordering::SeqCst);
    }
}

impl Drop for Connection {
    /// `conn.close()`, in the `finally:` of the Python code: it runs however the scope
    /// ends (normally, by `?` or `return`, or by a panic).
    fn drop(&mut self) {
        OPEN.fetch_sub(1, Ordering::SeqCst);
    }
}

const WORKERS: usize = 4; // of each kind: threads and tasks
const QUERIES: usize = 3; // per worker

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let start = Instant::now();
    watchdog(Duration::from_secs(30));
    println!("connection_pool: Python's BoundedSemaphore pool, shared by threads and tasks");

    shared_pool().await;
    exhausted_pool().await;
    cancelled_request().await;
    bounded_release().await;

    check!(
        POOL_SEMA.value() == MAX_CONNECTIONS && OPEN.load(Ordering::SeqCst) == 0,
        "all {MAX_CONNECTIONS} permits free, no connection left open"
    );
    println!("\nconnection_pool passed in {} ms.", ms(start));
}

/// `with pool_sema: conn = connectdb() ...` from 4 OS threads and 4 tasks at once.
async fn shared_pool() {
    println!("\n1. {WORKERS} threads and {WORKERS} tasks, {QUERIES} queries each, through a pool of {MAX_CONNECTIONS}");
    let mut threads = Vec::new();
    for i in 1..=WORKERS {
        // Python's `threading.Thread(target=worker, name=...)`: an OS thread.
        let t = threading::blocking::Thread::builder()
            .name(format!("thread-{i}"))
            .target(|| {
                for _ in 0..QUERIES {
                    let _permit = POOL_SEMA.blocking().acquire(); // `with pool_sema:`
                    let conn = connectdb();
                    let me = threading::current_thread().name();
                    say!(me, "connected ({} open)", conn.open);
                    conn.query();
                    std::thread::sleep(Duration::from_millis(10));
                } // `conn` closes, then `_permit` gives its permit back
            });
        t.start().expect("a new thread starts");
        threads.push(t);
    }
    let mut tasks = Vec::new();
    for i in 1..=WORKERS {
        // The same worker as a task: `threading::Thread` runs an async target on tokio.
        let t = threading::Thread::builder()
            .name(format!("task-{i}"))
            .target(|| async {
                for _ in 0..QUERIES {
                    let _permit = POOL_SEMA.acquire().await; // asyncio's `async with pool_sema:`
                    let conn = connectdb();
                    let me = threading::current_thread().name();
                    say!(me, "connected ({} open)", conn.open);
                    conn.query();
                    tokio::time::sleep(Duration::from_millis(10)).await;
                }
            });
        t.start().expect("a new task starts");
        tasks.push(t);
    }
    // A task joins both kinds: an OS thread's join is awaited like a task's.
    for t in threads {
        t.as_async().join().await.expect("no panic");
    }
    for t in tasks {
        t.join().await.expect("no panic");
    }

    let most = MOST_OPEN.load(Ordering::SeqCst);
    check!(
        most <= MAX_CONNECTIONS,
        "at most {most} connections were open at once (limit {MAX_CONNECTIONS})"
    );
    check!(
        SERVED.load(Ordering::SeqCst) == 2 * WORKERS * QUERIES,
        "all {} queries were served",
        2 * WORKERS * QUERIES
    );
}

/// `pool_sema.acquire(timeout=0.05)`: a client gives up when every connection is taken.
async fn exhausted_pool() {
    println!("\n2. The pool is exhausted: acquire with a timeout gives up, never early");
    let held: Vec<_> = (0..MAX_CONNECTIONS)
        .map(|_| POOL_SEMA.try_acquire().expect("a free permit")) // `acquire(blocking=False)`
        .collect();
    say!("task", "holding all {} permits: {POOL_SEMA:?}", held.len());

    let timeout = Duration::from_millis(50);
    let thread_side = threading::blocking::Thread::new(move || {
        let start = Instant::now();
        let permit = POOL_SEMA.blocking().acquire_timeout(timeout);
        (permit.is_none(), start.elapsed())
    });
    thread_side.start().expect("start");

    let start = Instant::now();
    let got = POOL_SEMA.acquire_timeout(timeout).await;
    let waited = start.elapsed();
    say!(
        "task",
        "acquire_timeout(50 ms) -> None after {} ms",
        waited.as_millis()
    );
    check!(
        got.is_none() && waited >= timeout,
        "the task got None, not before 50 ms"
    );
    let (none, waited) = thread_side
        .as_async()
        .join()
        .await
        .expect("no panic")
        .expect("the first join takes the value");
    say!(
        "thread",
        "acquire_timeout(50 ms) -> None after {} ms",
        waited.as_millis()
    );
    check!(
        none && waited >= timeout,
        "the thread got None, not before 50 ms"
    );
    drop(held);
}

/// A request cancelled while it waits for a connection takes no permit with it.
async fn cancelled_request() {
    println!("\n3. A request cancelled while it waits loses nothing");
    let held: Vec<_> = (0..MAX_CONNECTIONS)
        .map(|_| POOL_SEMA.try_acquire().expect("a free permit"))
        .collect();
    // asyncio's `await asyncio.wait_for(pool_sema.acquire(), 0.02)`: in Rust the elapsed
    // timeout drops the `acquire` future, which is how a wait is cancelled.
    let result = tokio::time::timeout(Duration::from_millis(20), POOL_SEMA.acquire()).await;
    say!(
        "task",
        "tokio::time::timeout(20 ms, acquire()) -> {}",
        if result.is_err() {
            "elapsed"
        } else {
            "a permit"
        }
    );
    check!(result.is_err(), "the acquire was dropped while it waited");
    // A thread waits for a permit while the task gives them back: it gets one, and the
    // dropped request above kept none.
    let waiter = threading::blocking::Thread::new(|| {
        let _permit = POOL_SEMA.blocking().acquire();
        let conn = connectdb();
        conn.query();
    });
    waiter.start().expect("start");
    drop(held);
    waiter.as_async().join().await.expect("no panic");
    check!(
        POOL_SEMA.value() == MAX_CONNECTIONS,
        "all {MAX_CONNECTIONS} permits are back: {POOL_SEMA:?}"
    );
}

/// Why the docs use a *bounded* semaphore: a permit given back twice is a bug it reports.
async fn bounded_release() {
    println!("\n4. A BoundedSemaphore refuses a release it never gave out");
    // Python's manual style: `pool_sema.acquire()` here, `pool_sema.release()` elsewhere.
    // `forget()` keeps the permit when the guard goes; a thread gives it back.
    POOL_SEMA.acquire().await.forget();
    say!("task", "acquire().forget(): {POOL_SEMA:?}");
    let releaser = threading::blocking::Thread::new(|| POOL_SEMA.blocking().release(1));
    releaser.start().expect("start");
    let released = releaser.as_async().join().await.expect("no panic");
    check!(
        released == Some(Ok(())),
        "a thread released the permit a task acquired: {POOL_SEMA:?}"
    );

    // The bug: one release too many. Python raises ValueError; here it is an error value
    // and the count does not change.
    let err = POOL_SEMA.release(1).unwrap_err();
    say!("task", "release(1) -> Err: {err}");
    check!(
        err == SemaphoreReleaseError::AboveInitial {
            value: MAX_CONNECTIONS,
            initial: MAX_CONNECTIONS,
            n: 1
        } && POOL_SEMA.value() == MAX_CONNECTIONS,
        "the release changed nothing: {POOL_SEMA:?}"
    );
    // A plain Semaphore would have let the pool grow past its limit, silently.
    let plain = Semaphore::new(MAX_CONNECTIONS);
    plain.release(1).expect("a Semaphore has no bound");
    check!(
        plain.value() == MAX_CONNECTIONS + 1,
        "a plain Semaphore rises to {} instead",
        plain.value()
    );
}
