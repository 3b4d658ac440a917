//! Helpers shared by the bench files (`#[path]`-included by each; not a bench target).
#![allow(dead_code)]

use std::time::{Duration, Instant};

use criterion::Criterion;

/// The settings every bench file uses: short runs (2 s measured, 0.5 s warm-up, 20
/// samples), overridable from the command line.
pub fn criterion() -> Criterion {
    Criterion::default()
        .measurement_time(Duration::from_secs(2))
        .warm_up_time(Duration::from_millis(500))
        .sample_size(20)
        .configure_from_args()
}

/// The wall time from the earliest start to the latest end of `spans`: each contender
/// times itself, so a late-scheduled main thread cannot distort the figure.
pub fn wall(spans: impl IntoIterator<Item = (Instant, Instant)>) -> Duration {
    let (first, last) = spans
        .into_iter()
        .reduce(|(a0, a1), (b0, b1)| (a0.min(b0), a1.max(b1)))
        .expect("at least one contender");
    last - first
}

/// A multi-thread tokio runtime with `workers` workers and every driver.
pub fn runtime(workers: usize) -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(workers)
        .enable_all()
        .build()
        .unwrap()
}
