//! Helpers shared by the integration tests.
#![allow(dead_code)]

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

/// A timed wait that failed must not have returned before its timeout (checked exactly,
/// on the monotonic clock), nor absurdly late.
#[track_caller]
pub fn assert_timed_out_in_time(start: Instant, timeout: Duration) {
    let elapsed = start.elapsed();
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
