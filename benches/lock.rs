//! `Lock` against its peers, one scenario per group, ours and the peers side by side.
//!
//! - `lock/blocking_uncontended`: acquire + release on one thread, vs `parking_lot::Mutex<()>`
//!   and `std::sync::Mutex<()>`.
//! - `lock/async_uncontended`: `acquire().await` + drop on a current-thread runtime, vs
//!   `async_lock::Mutex<()>` and `tokio::sync::Mutex<()>`.
//! - `lock/blocking_contended_4_threads`: 4 threads each do K acquire/release pairs around
//!   a tiny critical section (a counter increment); time is total / (4 K).
//! - `lock/async_contended_4_tasks`: the same with 4 tasks on a 2-worker runtime.
//!
//! The contended groups also run `threading`'s fair lock (`new_fair`), for information.
//! Run with `cargo bench --bench lock -- --noplot`; see BENCHMARKS.md.

// The dev-dependencies (criterion, parking_lot, async-lock) exist only without `--cfg loom`,
// and the crate's constructors are not `const` under loom: build nothing there.
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
    use std::sync::{Arc, Barrier};
    use std::time::{Duration, Instant};

    use criterion::measurement::WallTime;
    use criterion::{BenchmarkGroup, Criterion, SamplingMode};

    /// Threads or tasks in the contended scenarios.
    const CONTENDERS: usize = 4;

    pub(super) fn run() {
        let mut c = crate::common::criterion();
        blocking_uncontended(&mut c);
        async_uncontended(&mut c);
        blocking_contended(&mut c);
        async_contended(&mut c);
        c.final_summary();
    }

    // ---------------------------------------------------------------- blocking locks

    /// A lock taken by a plain thread, as parking_lot's `benchmark/src/bin/mutex.rs`.
    trait BlockingMutex: Send + Sync + 'static {
        const NAME: &'static str;
        fn new() -> Self;
        /// Acquire, run `f`, release.
        fn with<R>(&self, f: impl FnOnce() -> R) -> R;
    }

    impl BlockingMutex for threading::blocking::Lock {
        const NAME: &'static str = "threading::blocking::Lock";
        fn new() -> Self {
            Self::new()
        }
        fn with<R>(&self, f: impl FnOnce() -> R) -> R {
            let _g = self.acquire();
            f()
        }
    }

    /// `threading::blocking::Lock::new_fair()`.
    struct FairBlockingLock(threading::blocking::Lock);

    impl BlockingMutex for FairBlockingLock {
        const NAME: &'static str = "threading::blocking::Lock (fair)";
        fn new() -> Self {
            Self(threading::blocking::Lock::new_fair())
        }
        fn with<R>(&self, f: impl FnOnce() -> R) -> R {
            let _g = self.0.acquire();
            f()
        }
    }

    impl BlockingMutex for parking_lot::Mutex<()> {
        const NAME: &'static str = "parking_lot::Mutex";
        fn new() -> Self {
            Self::new(())
        }
        fn with<R>(&self, f: impl FnOnce() -> R) -> R {
            let _g = self.lock();
            f()
        }
    }

    impl BlockingMutex for std::sync::Mutex<()> {
        const NAME: &'static str = "std::sync::Mutex";
        fn new() -> Self {
            Self::new(())
        }
        fn with<R>(&self, f: impl FnOnce() -> R) -> R {
            let _g = self.lock().unwrap();
            f()
        }
    }

    fn blocking_uncontended(c: &mut Criterion) {
        fn one<M: BlockingMutex>(g: &mut BenchmarkGroup<'_, WallTime>) {
            let lock = M::new();
            g.bench_function(M::NAME, |b| b.iter(|| black_box(&lock).with(|| ())));
        }
        let mut g = c.benchmark_group("lock/blocking_uncontended");
        one::<threading::blocking::Lock>(&mut g);
        one::<parking_lot::Mutex<()>>(&mut g);
        one::<std::sync::Mutex<()>>(&mut g);
        g.finish();
    }

    /// The critical section of the contended scenarios: a non-atomic increment (a load and a
    /// store), which only comes out exact if the lock excludes.
    fn bump(counter: &AtomicU64) {
        let v = counter.load(Ordering::Relaxed);
        counter.store(v + 1, Ordering::Relaxed);
    }

    use crate::common::wall;

    /// `iters` lock/unlock pairs split over [`CONTENDERS`] threads that start together;
    /// returns the wall time from the first thread's start to the last one's end, scaled to
    /// exactly `iters` operations. Each thread clocks itself: on a loaded 2-core machine a
    /// coordinator thread may not run again until the contenders are done.
    fn contended_threads<M: BlockingMutex>(iters: u64) -> Duration {
        let per_thread = iters.div_ceil(CONTENDERS as u64);
        let lock = M::new();
        let counter = AtomicU64::new(0);
        let start = Barrier::new(CONTENDERS);
        let elapsed = std::thread::scope(|s| {
            let threads: Vec<_> = (0..CONTENDERS)
                .map(|_| {
                    s.spawn(|| {
                        start.wait();
                        let t0 = Instant::now();
                        for _ in 0..per_thread {
                            lock.with(|| bump(&counter));
                        }
                        (t0, Instant::now())
                    })
                })
                .collect();
            wall(threads.into_iter().map(|t| t.join().unwrap()))
        });
        let ops = per_thread * CONTENDERS as u64;
        assert_eq!(counter.into_inner(), ops, "{} did not exclude", M::NAME);
        elapsed.mul_f64(iters as f64 / ops as f64)
    }

    fn blocking_contended(c: &mut Criterion) {
        fn one<M: BlockingMutex>(g: &mut BenchmarkGroup<'_, WallTime>) {
            g.bench_function(M::NAME, |b| b.iter_custom(contended_threads::<M>));
        }
        let mut g = c.benchmark_group("lock/blocking_contended_4_threads");
        g.sampling_mode(SamplingMode::Flat).sample_size(30);
        one::<threading::blocking::Lock>(&mut g);
        one::<std::sync::Mutex<()>>(&mut g);
        one::<parking_lot::Mutex<()>>(&mut g);
        one::<FairBlockingLock>(&mut g);
        g.finish();
    }

    // ---------------------------------------------------------------- async locks

    /// A lock taken by a task.
    trait AsyncMutex: Send + Sync + 'static {
        const NAME: &'static str;
        fn new() -> Self;
        /// Acquire (awaiting), run `f`, release.
        fn with<R: Send>(&self, f: impl FnOnce() -> R + Send) -> impl Future<Output = R> + Send;
    }

    impl AsyncMutex for threading::Lock {
        const NAME: &'static str = "threading::Lock";
        fn new() -> Self {
            Self::new()
        }
        async fn with<R: Send>(&self, f: impl FnOnce() -> R + Send) -> R {
            let _g = self.acquire().await;
            f()
        }
    }

    /// `threading::Lock::new_fair()`.
    struct FairLock(threading::Lock);

    impl AsyncMutex for FairLock {
        const NAME: &'static str = "threading::Lock (fair)";
        fn new() -> Self {
            Self(threading::Lock::new_fair())
        }
        async fn with<R: Send>(&self, f: impl FnOnce() -> R + Send) -> R {
            let _g = self.0.acquire().await;
            f()
        }
    }

    impl AsyncMutex for async_lock::Mutex<()> {
        const NAME: &'static str = "async_lock::Mutex";
        fn new() -> Self {
            Self::new(())
        }
        async fn with<R: Send>(&self, f: impl FnOnce() -> R + Send) -> R {
            let _g = self.lock().await;
            f()
        }
    }

    impl AsyncMutex for tokio::sync::Mutex<()> {
        const NAME: &'static str = "tokio::sync::Mutex";
        fn new() -> Self {
            Self::new(())
        }
        async fn with<R: Send>(&self, f: impl FnOnce() -> R + Send) -> R {
            let _g = self.lock().await;
            f()
        }
    }

    fn async_uncontended(c: &mut Criterion) {
        fn one<M: AsyncMutex>(g: &mut BenchmarkGroup<'_, WallTime>, rt: &tokio::runtime::Runtime) {
            let lock = M::new();
            g.bench_function(M::NAME, |b| {
                b.to_async(rt).iter(|| black_box(&lock).with(|| ()))
            });
        }
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let mut g = c.benchmark_group("lock/async_uncontended");
        one::<threading::Lock>(&mut g, &rt);
        one::<async_lock::Mutex<()>>(&mut g, &rt);
        one::<tokio::sync::Mutex<()>>(&mut g, &rt);
        g.finish();
    }

    /// `iters` lock/unlock pairs split over [`CONTENDERS`] tasks on `rt` that start together;
    /// returns the wall time from the first task's start to the last one's end, scaled to
    /// exactly `iters` operations.
    fn contended_tasks<M: AsyncMutex>(rt: &tokio::runtime::Runtime, iters: u64) -> Duration {
        let per_task = iters.div_ceil(CONTENDERS as u64);
        let shared = Arc::new((
            M::new(),
            AtomicU64::new(0),
            tokio::sync::Barrier::new(CONTENDERS),
        ));
        let elapsed = rt.block_on(async {
            let tasks: Vec<_> = (0..CONTENDERS)
                .map(|_| {
                    let shared = shared.clone();
                    tokio::spawn(async move {
                        let (lock, counter, start) = &*shared;
                        start.wait().await;
                        let t0 = Instant::now();
                        for _ in 0..per_task {
                            lock.with(|| bump(counter)).await;
                        }
                        (t0, Instant::now())
                    })
                })
                .collect();
            let mut spans = Vec::with_capacity(CONTENDERS);
            for t in tasks {
                spans.push(t.await.unwrap());
            }
            wall(spans)
        });
        let ops = per_task * CONTENDERS as u64;
        assert_eq!(
            shared.1.load(Ordering::Relaxed),
            ops,
            "{} did not exclude",
            M::NAME
        );
        elapsed.mul_f64(iters as f64 / ops as f64)
    }

    fn async_contended(c: &mut Criterion) {
        fn one<M: AsyncMutex>(g: &mut BenchmarkGroup<'_, WallTime>, rt: &tokio::runtime::Runtime) {
            g.bench_function(M::NAME, |b| {
                b.iter_custom(|iters| contended_tasks::<M>(rt, iters))
            });
        }
        let rt = crate::common::runtime(2);
        let mut g = c.benchmark_group("lock/async_contended_4_tasks");
        g.sampling_mode(SamplingMode::Flat).sample_size(30);
        one::<threading::Lock>(&mut g, &rt);
        one::<async_lock::Mutex<()>>(&mut g, &rt);
        one::<tokio::sync::Mutex<()>>(&mut g, &rt);
        one::<FairLock>(&mut g, &rt);
        g.finish();
    }
}
