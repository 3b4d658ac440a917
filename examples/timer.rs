//! The `Timer` of Python's `threading` docs, ported: "hello, world" after an interval, in
//! both forms, and a timer stopped by `cancel()` before it fires.
//!
//! ```sh
//! cargo run --example timer
//! ```
//!
//! The Python original, from the docs' "Timer objects":
//!
//! ```python
//! def hello():
//!     print("hello, world")
//!
//! t = Timer(30.0, hello)
//! t.start()  # after 30 seconds, "hello, world" will be printed
//! ```
//!
//! `Timer(30.0, hello)` is `threading::blocking::Timer::new(Duration::from_secs(30), hello)`
//! (an OS thread, no runtime needed), or `threading::Timer::new(interval, || async { .. })`
//! for an async function run as a tokio task. A timer is a thread: it derefs to
//! `Thread`, so `start`, `join`, `is_alive` and `name` work on it. The intervals here are
//! shorter than the docs' 30 s so the example runs in a moment. Each step prints what
//! happens and asserts what it shows (the `ok:` lines).

#[macro_use]
mod common;
use common::{ms, watchdog};

use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use threading::{StartError, Timer};

/// How many times `hello` ran.
static HELLOS: AtomicUsize = AtomicUsize::new(0);

fn hello() {
    say!(threading::current_thread().name(), "hello, world");
    HELLOS.fetch_add(1, Ordering::SeqCst);
}

/// The docs' 30 s, shortened.
const INTERVAL: Duration = Duration::from_millis(300);

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let start = Instant::now();
    watchdog(Duration::from_secs(30));
    println!("timer: Python's Timer example, \"hello, world\" after an interval");

    hello_after_an_interval().await;
    cancelled_while_waiting().await;
    cancel_edges().await;
    a_timer_is_a_thread().await;

    println!("\ntimer passed in {} ms.", ms(start));
}

async fn hello_after_an_interval() {
    println!("\n1. Timer(0.3, hello).start(), in both forms");
    // The blocking form: `hello` runs on the timer's own OS thread.
    let t = threading::blocking::Timer::new(INTERVAL, hello);
    let start = Instant::now();
    t.start().expect("start"); // after 300 ms, "hello, world" will be printed
    say!("main", "started {}: hello comes after 300 ms", t.name());
    t.as_async().join().await.expect("no panic");
    let waited = start.elapsed();
    check!(
        HELLOS.load(Ordering::SeqCst) == 1 && waited >= INTERVAL,
        "hello ran once, not before 300 ms ({} ms)",
        waited.as_millis()
    );

    // The async form: the function is an async closure, run as a task.
    let t = Timer::new(INTERVAL, || async { hello() });
    let start = Instant::now();
    t.start().expect("start");
    t.join().await.expect("no panic");
    let waited = start.elapsed();
    check!(
        HELLOS.load(Ordering::SeqCst) == 2 && waited >= INTERVAL,
        "the task's hello ran once, not before 300 ms ({} ms)",
        waited.as_millis()
    );
}

async fn cancelled_while_waiting() {
    println!("\n2. cancel() while the timer waits: hello never runs");
    let before = HELLOS.load(Ordering::SeqCst);
    // The docs' real 30 s: the cancel must end the timer long before that.
    let t = threading::blocking::Timer::new(Duration::from_secs(30), hello);
    t.start().expect("start");
    tokio::time::sleep(Duration::from_millis(20)).await;
    let start = Instant::now();
    let stopped = t.cancel();
    say!("main", "cancel() -> {stopped}");
    t.as_async().join().await.expect("no panic");
    say!(
        "main",
        "the timer thread ended {} ms after the cancel",
        ms(start)
    );
    check!(stopped, "cancel() stopped it while it waited");
    check!(
        start.elapsed() < Duration::from_secs(10) && !t.is_alive(),
        "its thread ended at once, without waiting out the 30 s"
    );
    check!(HELLOS.load(Ordering::SeqCst) == before, "hello never ran");
}

async fn cancel_edges() {
    println!("\n3. cancel() before start(), and after the timer fired");
    let before = HELLOS.load(Ordering::SeqCst);
    let t = Timer::new(INTERVAL, || async { hello() });
    check!(t.cancel(), "cancel() before start() -> true");
    t.start().expect("start");
    t.join().await.expect("no panic");
    check!(
        HELLOS.load(Ordering::SeqCst) == before,
        "start() after cancel() ends at once: hello never ran"
    );

    let t = threading::blocking::Timer::new(Duration::ZERO, hello);
    t.start().expect("start");
    t.as_async().join().await.expect("no panic");
    check!(
        HELLOS.load(Ordering::SeqCst) == before + 1,
        "a zero interval runs hello at once"
    );
    check!(
        !t.cancel() && !t.cancel(),
        "cancel() once it ran -> false, and again harmlessly"
    );
}

async fn a_timer_is_a_thread() {
    println!("\n4. A Timer is a Thread: name, is_alive, daemon, joined from either world");
    let t = Timer::new(INTERVAL, || async { hello() });
    say!("main", "{t:?}");
    check!(
        t.name().starts_with("Thread-") && !t.is_alive(),
        "before start(): named {}, not alive",
        t.name()
    );
    t.set_daemon(true).expect("before start()");
    t.start().expect("start");
    check!(t.is_alive() && t.daemon(), "after start(): alive, a daemon");
    // A plain thread joins the timer's task.
    let joiner = threading::blocking::Thread::new({
        let t = t.clone().into_blocking();
        move || t.join()
    });
    joiner.start().expect("start");
    let joined = joiner
        .as_async()
        .join()
        .await
        .expect("no panic")
        .expect("the first join takes the value");
    check!(joined.is_ok() && !t.is_alive(), "a plain thread joined it");
    check!(
        matches!(t.start(), Err(StartError::AlreadyStarted)),
        "a second start() is an error, as Python's RuntimeError"
    );
}
