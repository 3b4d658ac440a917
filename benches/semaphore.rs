//! `Semaphore` against its peers, one scenario per group, ours and the peers side by side.
//!
//! - `semaphore/async_uncontended`: `acquire().await` + drop of one permit (of 1) on a
//!   current-thread runtime, vs `tokio::sync::Semaphore` and `async_lock::Semaphore`.
//! - `semaphore/blocking_uncontended`: the same from a plain thread, vs
//!   `async_lock::Semaphore::acquire_blocking` (tokio's semaphore has no blocking acquire).
//! - `semaphore/async_contended_4_tasks_2_permits`: 4 tasks on a 2-worker runtime, each
//!   doing K acquire/release pairs on a semaphore of 2 permits around a counter increment;
//!   time is total / (4 K).
//!
//! The contended group also runs `threading`'s fair semaphore (`new_fair`), for information.
//! Run with `cargo bench --bench semaphore -- --noplot`; see BENCHMARKS.md.

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
    use std::sync::atomic::{AtomicU64, Ordering};
    use std::sync::Arc;
    use std::time::{Duration, Instant};

    use criterion::measurement::WallTime;
    use criterion::{BenchmarkGroup, Criterion, SamplingMode};

    /// Tasks in the contended scenario.
    const TASKS: usize = 4;
    /// Permits in the contended scenario.
    const PERMITS: usize = 2;

    pub(super) fn run() {
        let mut c = crate::common::criterion();
        async_uncontended(&mut c);
        blocking_uncontended(&mut c);
        async_contended(&mut c);
        c.final_summary();
    }

    /// A semaphore whose permits tasks acquire, as parking_lot's
    /// `benchmark/src/bin/mutex.rs` does for mutexes.
    trait AsyncSemaphore: Send + Sync + 'static {
        const NAME: &'static str;
        fn new(permits: usize) -> Self;
        /// Acquire a permit (awaiting), run `f`, release it.
        fn with<R: Send>(&self, f: impl FnOnce() -> R + Send) -> impl Future<Output = R> + Send;
    }

    impl AsyncSemaphore for threading::Semaphore {
        const NAME: &'static str = "threading::Semaphore";
        fn new(permits: usize) -> Self {
            Self::new(permits)
        }
        async fn with<R: Send>(&self, f: impl FnOnce() -> R + Send) -> R {
            let _p = self.acquire().await;
            f()
        }
    }

    /// `threading::Semaphore::new_fair(n)`.
    struct FairSemaphore(threading::Semaphore);

    impl AsyncSemaphore for FairSemaphore {
        const NAME: &'static str = "threading::Semaphore (fair)";
        fn new(permits: usize) -> Self {
            Self(threading::Semaphore::new_fair(permits))
        }
        async fn with<R: Send>(&self, f: impl FnOnce() -> R + Send) -> R {
            let _p = self.0.acquire().await;
            f()
        }
    }

    impl AsyncSemaphore for tokio::sync::Semaphore {
        const NAME: &'static str = "tokio::sync::Semaphore";
        fn new(permits: usize) -> Self {
            Self::new(permits)
        }
        async fn with<R: Send>(&self, f: impl FnOnce() -> R + Send) -> R {
            let _p = self.acquire().await.unwrap();
            f()
        }
    }

    impl AsyncSemaphore for async_lock::Semaphore {
        const NAME: &'static str = "async_lock::Semaphore";
        fn new(permits: usize) -> Self {
            Self::new(permits)
        }
        async fn with<R: Send>(&self, f: impl FnOnce() -> R + Send) -> R {
            let _p = self.acquire().await;
            f()
        }
    }

    fn async_uncontended(c: &mut Criterion) {
        fn one<S: AsyncSemaphore>(
            g: &mut BenchmarkGroup<'_, WallTime>,
            rt: &tokio::runtime::Runtime,
        ) {
            let sem = S::new(1);
            g.bench_function(S::NAME, |b| {
                b.to_async(rt).iter(|| black_box(&sem).with(|| ()))
            });
        }
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let mut g = c.benchmark_group("semaphore/async_uncontended");
        one::<threading::Semaphore>(&mut g, &rt);
        one::<tokio::sync::Semaphore>(&mut g, &rt);
        one::<async_lock::Semaphore>(&mut g, &rt);
        g.finish();
    }

    /// A semaphore whose permits plain threads acquire.
    trait BlockingSemaphore: Send + Sync + 'static {
        const NAME: &'static str;
        fn new(permits: usize) -> Self;
        /// Acquire a permit (blocking), run `f`, release it.
        fn with<R>(&self, f: impl FnOnce() -> R) -> R;
    }

    impl BlockingSemaphore for threading::blocking::Semaphore {
        const NAME: &'static str = "threading::blocking::Semaphore";
        fn new(permits: usize) -> Self {
            Self::new(permits)
        }
        fn with<R>(&self, f: impl FnOnce() -> R) -> R {
            let _p = self.acquire();
            f()
        }
    }

    impl BlockingSemaphore for async_lock::Semaphore {
        const NAME: &'static str = "async_lock::Semaphore (acquire_blocking)";
        fn new(permits: usize) -> Self {
            Self::new(permits)
        }
        fn with<R>(&self, f: impl FnOnce() -> R) -> R {
            let _p = self.acquire_blocking();
            f()
        }
    }

    fn blocking_uncontended(c: &mut Criterion) {
        fn one<S: BlockingSemaphore>(g: &mut BenchmarkGroup<'_, WallTime>) {
            let sem = S::new(1);
            g.bench_function(S::NAME, |b| b.iter(|| black_box(&sem).with(|| ())));
        }
        let mut g = c.benchmark_group("semaphore/blocking_uncontended");
        one::<threading::blocking::Semaphore>(&mut g);
        one::<async_lock::Semaphore>(&mut g);
        g.finish();
    }

    /// `iters` acquire/release pairs split over [`TASKS`] tasks on `rt` that start together,
    /// on a semaphore of [`PERMITS`]; returns the wall time from the first task's start to
    /// the last one's end, scaled to exactly `iters` operations.
    fn contended_tasks<S: AsyncSemaphore>(rt: &tokio::runtime::Runtime, iters: u64) -> Duration {
        let per_task = iters.div_ceil(TASKS as u64);
        let shared = Arc::new((
            S::new(PERMITS),
            AtomicU64::new(0),
            tokio::sync::Barrier::new(TASKS),
        ));
        let elapsed = rt.block_on(async {
            let tasks: Vec<_> = (0..TASKS)
                .map(|_| {
                    let shared = shared.clone();
                    tokio::spawn(async move {
                        let (sem, counter, start) = &*shared;
                        start.wait().await;
                        let t0 = Instant::now();
                        for _ in 0..per_task {
                            sem.with(|| counter.fetch_add(1, Ordering::Relaxed)).await;
                        }
                        (t0, Instant::now())
                    })
                })
                .collect();
            let (mut first, mut last) = (None::<Instant>, None::<Instant>);
            for t in tasks {
                let (t0, t1) = t.await.unwrap();
                first = Some(first.map_or(t0, |f| f.min(t0)));
                last = Some(last.map_or(t1, |l| l.max(t1)));
            }
            last.unwrap() - first.unwrap()
        });
        let ops = per_task * TASKS as u64;
        assert_eq!(shared.1.load(Ordering::Relaxed), ops);
        elapsed.mul_f64(iters as f64 / ops as f64)
    }

    fn async_contended(c: &mut Criterion) {
        fn one<S: AsyncSemaphore>(
            g: &mut BenchmarkGroup<'_, WallTime>,
            rt: &tokio::runtime::Runtime,
        ) {
            g.bench_function(S::NAME, |b| {
                b.iter_custom(|iters| contended_tasks::<S>(rt, iters))
            });
        }
        let rt = crate::common::runtime(2);
        let mut g = c.benchmark_group("semaphore/async_contended_4_tasks_2_permits");
        g.sampling_mode(SamplingMode::Flat).sample_size(30);
        one::<threading::Semaphore>(&mut g, &rt);
        one::<tokio::sync::Semaphore>(&mut g, &rt);
        one::<async_lock::Semaphore>(&mut g, &rt);
        one::<FairSemaphore>(&mut g, &rt);
        g.finish();
    }
}
