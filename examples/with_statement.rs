//! Python's `with lock:` for `Lock`, `RLock`, `Condition`, `Semaphore` and
//! `BoundedSemaphore`, ported: the scope of a guard. Then asyncio's `async with lock:` (a
//! guard from `.await`), and one instance used by threads and tasks at once, which neither
//! asyncio nor `threading` allows.
//!
//! ```sh
//! cargo run --example with_statement
//! ```
//!
//! The Python original, from the docs' "Using locks, conditions, and semaphores in the with
//! statement":
//!
//! ```python
//! with some_lock:
//!     # do something...
//!
//! # is equivalent to:
//! some_lock.acquire()
//! try:
//!     # do something...
//! finally:
//!     some_lock.release()
//! ```
//!
//! In Rust, `acquire()` returns a guard and the guard's `Drop` is the `finally:` clause: the
//! lock is released however the scope ends (its closing brace, `return`, `?`, `break`, a
//! panic). Each step prints what happens and asserts what it shows (the `ok:` lines).

#[macro_use]
mod common;
use common::{ms, watchdog};

use std::panic::{self, AssertUnwindSafe};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use threading::{BoundedSemaphore, Condition, Lock, RLock, Semaphore};

// `const fn` constructors: module-level primitives, as in Python.
static LOCK: Lock = Lock::new();
static RLOCK: RLock = RLock::new();
static SEM: Semaphore = Semaphore::new(2);
static BOUNDED: BoundedSemaphore = BoundedSemaphore::new(2);

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let start = Instant::now();
    watchdog(Duration::from_secs(30));
    println!("with_statement: `with x:` is a guard's scope, in threads and in tasks");

    // The blocking form belongs in plain threads: run that part on one.
    let t = threading::blocking::Thread::new(|| {
        with_in_a_thread();
        every_exit_releases();
    });
    t.start().expect("start");
    t.as_async().join().await.expect("no panic");

    async_with_in_a_task().await;
    one_instance_for_threads_and_tasks().await;

    println!("\nwith_statement passed in {} ms.", ms(start));
}

/// `with x:` for each of the five, in a plain thread (the blocking form).
fn with_in_a_thread() {
    println!("\n1. `with x:` in a thread: Lock, RLock, Condition, Semaphore, BoundedSemaphore");
    // with some_lock:
    {
        let _guard = LOCK.blocking().acquire();
        check!(LOCK.locked(), "Lock: locked inside the block");
    }
    check!(!LOCK.locked(), "Lock: released at the end of the block");

    // with rlock: (twice, nested: the owner re-enters)
    {
        let _outer = RLOCK.blocking().acquire();
        {
            let _inner = RLOCK.blocking().acquire();
            check!(
                RLOCK.blocking().recursion_count() == 2,
                "RLock: 2 deep in the nested block"
            );
        }
        check!(
            RLOCK.blocking().recursion_count() == 1 && RLOCK.locked(),
            "RLock: 1 level left after it"
        );
    }
    check!(!RLOCK.locked(), "RLock: released by the outer block");

    // with cv: ... cv.notify_all()
    let cv = threading::blocking::Condition::new();
    {
        let guard = cv.acquire();
        cv.notify_all(&guard); // the guard proves the lock is held: no RuntimeError possible
        check!(cv.locked(), "Condition: its lock held inside the block");
    }
    check!(!cv.locked(), "Condition: released at the end of the block");

    // with sem:
    {
        let _permit = SEM.blocking().acquire();
        check!(
            SEM.value() == 1,
            "Semaphore: one of 2 permits taken inside the block"
        );
    }
    check!(
        SEM.value() == 2,
        "Semaphore: given back at the end of the block"
    );

    // with bounded:
    {
        let _permit = BOUNDED.blocking().acquire();
        check!(
            BOUNDED.value() == 1,
            "BoundedSemaphore: one of 2 permits taken inside the block"
        );
    }
    check!(
        BOUNDED.value() == 2,
        "BoundedSemaphore: given back at the end of the block"
    );
}

/// The `finally:`: every way out of the scope releases.
fn every_exit_releases() {
    println!("\n2. The guard's Drop is the `finally:` clause");
    fn withdraw(balance: u64, amount: u64) -> Result<u64, String> {
        let _guard = LOCK.blocking().acquire();
        if amount > balance {
            Err(format!("{amount} is more than the balance {balance}"))?; // leaves early
        }
        Ok(balance - amount)
    }
    let result = withdraw(10, 20);
    say!("thread", "withdraw(10, 20) -> {result:?}");
    check!(
        result.is_err() && !LOCK.locked(),
        "an early `?` released the lock"
    );

    // A panic inside the block: the lock is released as the panic unwinds (no poisoning,
    // as in Python, where the exception passes through `finally:`).
    let quiet = panic::take_hook();
    panic::set_hook(Box::new(|_| {}));
    let caught = panic::catch_unwind(AssertUnwindSafe(|| {
        let _guard = LOCK.blocking().acquire();
        panic!("disk full");
    }));
    panic::set_hook(quiet);
    check!(
        caught.is_err() && !LOCK.locked(),
        "a panic in the block released the lock"
    );

    // Ending the block early: drop the guard.
    let guard = LOCK.blocking().acquire();
    drop(guard);
    check!(!LOCK.locked(), "drop(guard) releases before the scope ends");

    // Python's manual style, `acquire()` ... `release()`: keep the lock past the guard with
    // `forget()`, release it by hand. Any thread or task may release a Lock, as in Python.
    LOCK.blocking().acquire().forget();
    check!(LOCK.locked(), "acquire().forget(): still locked, no guard");
    LOCK.release().expect("it is locked");
    check!(!LOCK.locked(), "release() unlocked it");
    let err = LOCK.release().unwrap_err();
    say!("thread", "release() again -> Err: {err}");
}

/// asyncio's `async with x:` is `let _guard = x.acquire().await;` in the async form.
async fn async_with_in_a_task() {
    // conformance: A-29 — asyncio's primitives accept only `async with`: a plain `with` or a
    // bare `await lock` raises TypeError. In Rust the async form's `acquire()` returns a
    // future, and only `.await` turns it into the guard; the future is not a guard, so
    // using one as the other does not compile, and a future that is never awaited takes
    // nothing.
    println!("\n3. asyncio's `async with x:` is a guard from `.await`, in a task");
    let pending = LOCK.acquire(); // not awaited yet: a future, not a guard
    check!(!LOCK.locked(), "acquire() without .await has taken nothing");
    {
        let _guard = pending.await; // `async with lock:`
        check!(LOCK.locked(), "Lock: locked inside `async with`");
    }
    check!(!LOCK.locked(), "Lock: released at the end of the block");

    // The async RLock is owned by the task, so the task re-enters it.
    {
        let _outer = RLOCK.acquire().await;
        let _inner = RLOCK.acquire().await;
        check!(
            RLOCK.recursion_count() == 2,
            "RLock: the task holds it 2 deep"
        );
    }
    check!(!RLOCK.locked(), "RLock: released");

    // async with cv: await cv.wait_for(...), with a thread as the notifier.
    let cv = Arc::new(Condition::new());
    let ready = Arc::new(AtomicUsize::new(0));
    let notifier = threading::blocking::Thread::new({
        let (cv, ready) = (cv.clone(), ready.clone());
        move || {
            let cv = cv.blocking();
            let guard = cv.acquire(); // `with cv:` in a thread
            ready.store(1, Ordering::SeqCst);
            cv.notify_all(&guard);
        }
    });
    {
        let guard = cv.acquire().await; // `async with cv:`
        notifier.start().expect("start");
        let _guard = cv
            .wait_for(guard, || ready.load(Ordering::SeqCst) == 1)
            .await;
        check!(
            cv.locked(),
            "Condition: a thread's notify woke the task, which holds the lock again"
        );
    }
    check!(!cv.locked(), "Condition: released at the end of the block");
    notifier.as_async().join().await.expect("no panic");

    {
        let _permit = SEM.acquire().await; // `async with sem:`
        let _bounded = BOUNDED.acquire().await;
        check!(
            SEM.value() == 1 && BOUNDED.value() == 1,
            "Semaphore, BoundedSemaphore: a permit each inside `async with`"
        );
    }
    check!(
        SEM.value() == 2 && BOUNDED.value() == 2,
        "Semaphore, BoundedSemaphore: given back"
    );
}

/// One `Lock` serves threads and tasks at the same time.
async fn one_instance_for_threads_and_tasks() {
    // conformance: A-30 — asyncio's primitives are not thread-safe (and `threading.Lock`
    // in a coroutine blocks the event loop), so Python code shared between threads and
    // coroutines needs two locks that cannot exclude each other. Here one `Lock` is taken
    // by plain threads with `LOCK.blocking().acquire()` and by tasks with
    // `LOCK.acquire().await`, and excludes them all from each other.
    println!("\n4. One Lock, four threads and four tasks: `counter += 1` under the lock");
    const WORKERS: u64 = 4;
    const ROUNDS: u64 = 200;
    // `counter += 1` in two steps, a read and a write, as Python's is: without the lock,
    // two workers could read the same value and one increment would be lost.
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    static INSIDE: AtomicUsize = AtomicUsize::new(0);
    static MOST_INSIDE: AtomicUsize = AtomicUsize::new(0);
    fn increment() {
        let now = INSIDE.fetch_add(1, Ordering::SeqCst) + 1;
        MOST_INSIDE.fetch_max(now, Ordering::SeqCst);
        let read = COUNTER.load(Ordering::SeqCst);
        std::hint::spin_loop();
        COUNTER.store(read + 1, Ordering::SeqCst);
        INSIDE.fetch_sub(1, Ordering::SeqCst);
    }

    let threads: Vec<_> = (0..WORKERS)
        .map(|_| {
            let t = threading::blocking::Thread::new(|| {
                for _ in 0..ROUNDS {
                    let _guard = LOCK.blocking().acquire(); // `with lock:`
                    increment();
                }
            });
            t.start().expect("start");
            t
        })
        .collect();
    let tasks: Vec<_> = (0..WORKERS)
        .map(|_| {
            let t = threading::Thread::new(|| async {
                for _ in 0..ROUNDS {
                    {
                        let _guard = LOCK.acquire().await; // `async with lock:`
                        increment();
                    }
                    tokio::task::yield_now().await;
                }
            });
            t.start().expect("start");
            t
        })
        .collect();
    for t in threads {
        t.as_async().join().await.expect("no panic");
    }
    for t in tasks {
        t.join().await.expect("no panic");
    }
    let total = COUNTER.load(Ordering::SeqCst);
    say!(
        "main",
        "counter = {total} after {} increments",
        2 * WORKERS * ROUNDS
    );
    check!(
        total == 2 * WORKERS * ROUNDS,
        "no increment was lost: threads and tasks excluded each other"
    );
    check!(
        MOST_INSIDE.load(Ordering::SeqCst) == 1 && !LOCK.locked(),
        "never more than one inside; the lock is free"
    );
}
