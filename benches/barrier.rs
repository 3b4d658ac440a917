//! `Barrier` against its peers, one scenario per group, ours and the peers side by side.
//!
//! - `barrier/blocking_4_threads`: 4 plain threads pass a 4-party barrier K times each
//!   sample (`iter_custom`); time is per round. Ours vs `std::sync::Barrier`.
//! - `barrier/async_4_tasks`: the same with 4 tasks on a 2-worker multi-thread runtime.
//!   Ours vs `tokio::sync::Barrier` and `async_lock::Barrier`.
//!
//! Run with `cargo bench --bench barrier -- --noplot`; see BENCHMARKS.md.

// The dev-dependencies (criterion, async-lock) exist only without `--cfg loom`, and the
// crate's constructors are not `const` under loom: build nothing there.
#[cfg(loom)]
fn main() {}

#[cfg(not(loom))]
#[path = "common/mod.rs"]
mod common;

#[cfg(not(loom))]
fn main() {
    benches::run();
}

#[cfg(not(loom))]
mod benches {
    use std::future::Future;
    use std::hint::black_box;
    use std::sync::Arc;
    use std::time::{Duration, Instant};

    use criterion::measurement::WallTime;
    use criterion::{BenchmarkGroup, Criterion, SamplingMode};

    /// Threads or tasks, and the barrier's parties.
    const PARTIES: usize = 4;

    pub(super) fn run() {
        let mut c = crate::common::criterion();
        blocking_rounds(&mut c);
        async_rounds(&mut c);
        c.final_summary();
    }

    use crate::common::wall;

    // ---------------------------------------------------------------- blocking barriers

    /// A barrier passed by plain threads, as parking_lot's `benchmark/src/bin/mutex.rs`
    /// does for locks.
    trait BlockingBarrier: Send + Sync + 'static {
        const NAME: &'static str;
        fn new(parties: usize) -> Self;
        /// Wait for the round; true in exactly one party per round.
        fn wait(&self) -> bool;
    }

    impl BlockingBarrier for threading::blocking::Barrier {
        const NAME: &'static str = "threading::blocking::Barrier";
        fn new(parties: usize) -> Self {
            Self::new(parties).unwrap()
        }
        fn wait(&self) -> bool {
            threading::blocking::Barrier::wait(self).unwrap() == 0
        }
    }

    impl BlockingBarrier for std::sync::Barrier {
        const NAME: &'static str = "std::sync::Barrier";
        fn new(parties: usize) -> Self {
            Self::new(parties)
        }
        fn wait(&self) -> bool {
            std::sync::Barrier::wait(self).is_leader()
        }
    }

    /// `iters` rounds of [`PARTIES`] threads that start together (on a std barrier, so the
    /// one measured starts empty); returns the wall time from the first thread's start to
    /// the last one's end. Each thread clocks itself.
    fn rounds_threads<B: BlockingBarrier>(iters: u64) -> Duration {
        let barrier = B::new(PARTIES);
        let start = std::sync::Barrier::new(PARTIES);
        let (elapsed, leaders) = std::thread::scope(|s| {
            let threads: Vec<_> = (0..PARTIES)
                .map(|_| {
                    s.spawn(|| {
                        start.wait();
                        let t0 = Instant::now();
                        let mut led = 0u64;
                        for _ in 0..iters {
                            led += u64::from(black_box(&barrier).wait());
                        }
                        ((t0, Instant::now()), led)
                    })
                })
                .collect();
            let results: Vec<_> = threads.into_iter().map(|t| t.join().unwrap()).collect();
            let leaders: u64 = results.iter().map(|r| r.1).sum();
            (wall(results.into_iter().map(|r| r.0)), leaders)
        });
        assert_eq!(leaders, iters, "{}: one leader per round", B::NAME);
        elapsed
    }

    fn blocking_rounds(c: &mut Criterion) {
        fn one<B: BlockingBarrier>(g: &mut BenchmarkGroup<'_, WallTime>) {
            g.bench_function(B::NAME, |b| b.iter_custom(rounds_threads::<B>));
        }
        let mut g = c.benchmark_group("barrier/blocking_4_threads");
        g.sampling_mode(SamplingMode::Flat).sample_size(30);
        one::<threading::blocking::Barrier>(&mut g);
        one::<std::sync::Barrier>(&mut g);
        g.finish();
    }

    // ---------------------------------------------------------------- async barriers

    /// A barrier passed by tasks.
    trait AsyncBarrier: Send + Sync + 'static {
        const NAME: &'static str;
        fn new(parties: usize) -> Self;
        /// Wait for the round; true in exactly one party per round.
        fn wait(&self) -> impl Future<Output = bool> + Send;
    }

    impl AsyncBarrier for threading::Barrier {
        const NAME: &'static str = "threading::Barrier";
        fn new(parties: usize) -> Self {
            Self::new(parties).unwrap()
        }
        async fn wait(&self) -> bool {
            threading::Barrier::wait(self).await.unwrap() == 0
        }
    }

    impl AsyncBarrier for tokio::sync::Barrier {
        const NAME: &'static str = "tokio::sync::Barrier";
        fn new(parties: usize) -> Self {
            Self::new(parties)
        }
        async fn wait(&self) -> bool {
            tokio::sync::Barrier::wait(self).await.is_leader()
        }
    }

    impl AsyncBarrier for async_lock::Barrier {
        const NAME: &'static str = "async_lock::Barrier";
        fn new(parties: usize) -> Self {
            Self::new(parties)
        }
        async fn wait(&self) -> bool {
            async_lock::Barrier::wait(self).await.is_leader()
        }
    }

    /// `iters` rounds of [`PARTIES`] tasks on `rt` that start together; returns the wall
    /// time from the first task's start to the last one's end.
    fn rounds_tasks<B: AsyncBarrier>(rt: &tokio::runtime::Runtime, iters: u64) -> Duration {
        let shared = Arc::new((B::new(PARTIES), tokio::sync::Barrier::new(PARTIES)));
        let (elapsed, leaders) = rt.block_on(async {
            let tasks: Vec<_> = (0..PARTIES)
                .map(|_| {
                    let shared = shared.clone();
                    tokio::spawn(async move {
                        let (barrier, start) = &*shared;
                        start.wait().await;
                        let t0 = Instant::now();
                        let mut led = 0u64;
                        for _ in 0..iters {
                            led += u64::from(black_box(barrier).wait().await);
                        }
                        ((t0, Instant::now()), led)
                    })
                })
                .collect();
            let mut spans = Vec::with_capacity(PARTIES);
            let mut leaders = 0;
            for t in tasks {
                let (span, led) = t.await.unwrap();
                spans.push(span);
                leaders += led;
            }
            (wall(spans), leaders)
        });
        assert_eq!(leaders, iters, "{}: one leader per round", B::NAME);
        elapsed
    }

    fn async_rounds(c: &mut Criterion) {
        fn one<B: AsyncBarrier>(
            g: &mut BenchmarkGroup<'_, WallTime>,
            rt: &tokio::runtime::Runtime,
        ) {
            g.bench_function(B::NAME, |b| {
                b.iter_custom(|iters| rounds_tasks::<B>(rt, iters))
            });
        }
        let rt = crate::common::runtime(2);
        let mut g = c.benchmark_group("barrier/async_4_tasks");
        g.sampling_mode(SamplingMode::Flat).sample_size(30);
        one::<threading::Barrier>(&mut g, &rt);
        one::<tokio::sync::Barrier>(&mut g, &rt);
        one::<async_lock::Barrier>(&mut g, &rt);
        g.finish();
    }
}
