//! Helpers shared by the integration tests.
#![allow(dead_code)]

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll, Waker};
use std::time::{Duration, Instant};

/// A multi-thread runtime with two workers and every driver, as the tests' default.
pub fn mt_runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
}

/// A current-thread runtime with every driver.
pub fn ct_runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

/// The generous upper bound for "not too late" on a loaded 2-core machine.
pub const LATE: Duration = Duration::from_secs(5);

/// A timeout for waits that are meant to run out: short, so the suite stays quick.
pub const SHORT: Duration = Duration::from_millis(100);

/// A timeout far longer than any test runs: a wait given it must end some other way.
pub const FOREVER: Duration = Duration::from_secs(600);

/// How long a test body may run before it counts as hung: a lost wake-up fails the test
/// instead of hanging the suite.
pub const WATCHDOG: Duration = Duration::from_secs(60);

/// A timed wait that failed must not have returned before its timeout (checked exactly,
/// on the monotonic clock), nor absurdly late.
#[track_caller]
pub fn assert_timed_out_in_time(start: Instant, timeout: Duration) {
    assert_waited(start.elapsed(), timeout);
}

/// A failed timed wait lasted at least `timeout` (exactly) and not absurdly longer.
#[track_caller]
pub fn assert_waited(elapsed: Duration, timeout: Duration) {
    assert!(
        elapsed >= timeout,
        "returned early: {elapsed:?} < {timeout:?}"
    );
    assert!(
        elapsed < timeout + LATE,
        "returned far too late: {elapsed:?}"
    );
}

/// Something that should happen at once did not take anywhere near `limit`.
#[track_caller]
pub fn assert_quick(start: Instant, limit: Duration) {
    let elapsed = start.elapsed();
    assert!(
        elapsed < limit,
        "took {elapsed:?}, expected well under {limit:?}"
    );
}

/// Spin (yielding) until `cond` holds, at most `LATE`; panics otherwise. Use it to wait
/// until a thread is known to be blocked (e.g. a waiter count), never a bare sleep.
#[track_caller]
pub fn wait_until(mut cond: impl FnMut() -> bool) {
    let start = Instant::now();
    while !cond() {
        assert!(start.elapsed() < LATE, "condition not reached in {LATE:?}");
        std::thread::sleep(Duration::from_millis(1));
    }
}

/// `wait_until` for async code: polls `cond` every millisecond without blocking the
/// worker, at most `LATE`.
pub async fn wait_until_async(mut cond: impl FnMut() -> bool) {
    let start = Instant::now();
    while !cond() {
        assert!(start.elapsed() < LATE, "condition not reached in {LATE:?}");
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
}

/// The number of queued waiters, read strictly from a `Debug` output ending `… waiters=N>`.
pub fn queued(x: &impl std::fmt::Debug) -> usize {
    let s = format!("{x:?}");
    let at = s.find("waiters=").expect("Debug output names the waiters") + "waiters=".len();
    s[at..]
        .trim_end_matches('>')
        .parse()
        .expect("a waiter count")
}

/// The number of queued waiters, read from the digits after `waiters=` in a `Debug` output
/// (whatever follows them, as in an event's `waiters=N: set>`).
pub fn queued_digits(x: &impl std::fmt::Debug) -> usize {
    let s = format!("{x:?}");
    let at = s
        .find("waiters=")
        .unwrap_or_else(|| panic!("no waiters= in {s}"))
        + 8;
    let digits: String = s[at..].chars().take_while(char::is_ascii_digit).collect();
    digits
        .parse()
        .unwrap_or_else(|_| panic!("bad waiters= in {s}"))
}

/// Run `body` on a thread of its own, re-raising its panic; fail if it hangs.
pub fn run_on_thread(body: impl FnOnce() + Send + 'static) {
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(std::panic::catch_unwind(std::panic::AssertUnwindSafe(body)));
    });
    match rx.recv_timeout(WATCHDOG) {
        Ok(Ok(())) => {}
        Ok(Err(panic)) => std::panic::resume_unwind(panic),
        Err(_) => panic!("the test hung for {WATCHDOG:?}"),
    }
}

/// Run `body` as a tokio task on a fresh two-worker runtime, re-raising its panic; fail if
/// it hangs.
pub fn run_in_task(body: impl Future<Output = ()> + Send + 'static) {
    let rt = mt_runtime();
    match rt.block_on(async move { tokio::time::timeout(WATCHDOG, tokio::spawn(body)).await }) {
        Ok(Ok(())) => {}
        Ok(Err(e)) => std::panic::resume_unwind(e.into_panic()),
        Err(_) => {
            rt.shutdown_background();
            panic!("the test hung for {WATCHDOG:?}");
        }
    }
}

/// Join a worker thread, at most `LATE` after the call; re-raise its panic.
#[track_caller]
pub fn join_thread<T>(h: std::thread::JoinHandle<T>) -> T {
    wait_until(|| h.is_finished());
    h.join().unwrap_or_else(|p| std::panic::resume_unwind(p))
}

/// Join a worker task, at most `LATE` after the call; re-raise its panic.
pub async fn join_task<T>(h: tokio::task::JoinHandle<T>) -> T {
    match tokio::time::timeout(LATE, h).await {
        Err(_) => panic!("worker task did not finish within {LATE:?}"),
        Ok(Err(e)) => std::panic::resume_unwind(e.into_panic()),
        Ok(Ok(v)) => v,
    }
}

/// Poll `fut` once with a no-op waker.
pub fn poll_once<F: Future + ?Sized>(fut: Pin<&mut F>) -> Poll<F::Output> {
    fut.poll(&mut Context::from_waker(Waker::noop()))
}

/// A small deterministic generator, so a failing storm can be replayed.
pub struct Lcg(pub u64);

impl Lcg {
    pub fn next(&mut self) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        self.0 >> 33
    }
}
