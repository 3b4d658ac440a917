//! `RLock` against its peers, one scenario per group, ours and the peers side by side.
//!
//! - `rlock/blocking_reentry`: one level held for the whole benchmark, then acquire +
//!   release of a second level in the loop, vs `parking_lot::ReentrantMutex<()>`.
//! - `rlock/blocking_uncontended`: acquire + release of a free lock on one thread, vs
//!   `parking_lot::ReentrantMutex<()>`. (std's `ReentrantLock` is unstable.)
//! - `rlock/async_uncontended_in_task` and `rlock/async_reentry_in_task`: the async form
//!   inside a tokio task (the owner is then the task, found through `tokio::task::try_id`),
//!   on a current-thread runtime. No peer has an async reentrant lock; the async
//!   `threading::Lock` and `tokio::sync::Mutex` run beside it as non-reentrant references
//!   only, to show what task ownership costs.
//!
//! Run with `cargo bench --bench rlock -- --noplot`; see BENCHMARKS.md.

// The dev-dependencies (criterion, parking_lot) exist only without `--cfg loom`, and the
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
    use criterion::{BenchmarkGroup, Criterion};

    pub(super) fn run() {
        let mut c = crate::common::criterion();
        blocking_reentry(&mut c);
        blocking_uncontended(&mut c);
        async_in_task(&mut c);
        c.final_summary();
    }

    // ---------------------------------------------------------------- blocking locks

    /// A reentrant lock taken by a plain thread, as parking_lot's
    /// `benchmark/src/bin/mutex.rs`.
    trait BlockingReentrant: Send + Sync + 'static {
        const NAME: &'static str;
        fn new() -> Self;
        /// Acquire (re-entering if the caller holds it), run `f`, release one level.
        fn with<R>(&self, f: impl FnOnce() -> R) -> R;
    }

    impl BlockingReentrant for threading::blocking::RLock {
        const NAME: &'static str = "threading::blocking::RLock";
        fn new() -> Self {
            Self::new()
        }
        fn with<R>(&self, f: impl FnOnce() -> R) -> R {
            let _g = self.acquire();
            f()
        }
    }

    impl BlockingReentrant for parking_lot::ReentrantMutex<()> {
        const NAME: &'static str = "parking_lot::ReentrantMutex";
        fn new() -> Self {
            Self::new(())
        }
        fn with<R>(&self, f: impl FnOnce() -> R) -> R {
            let _g = self.lock();
            f()
        }
    }

    fn blocking_reentry(c: &mut Criterion) {
        fn one<M: BlockingReentrant>(g: &mut BenchmarkGroup<'_, WallTime>) {
            let lock = M::new();
            g.bench_function(M::NAME, |b| {
                // The outer level stays held while the loop re-enters.
                lock.with(|| b.iter(|| black_box(&lock).with(|| ())));
            });
        }
        let mut g = c.benchmark_group("rlock/blocking_reentry");
        one::<threading::blocking::RLock>(&mut g);
        one::<parking_lot::ReentrantMutex<()>>(&mut g);
        g.finish();
    }

    fn blocking_uncontended(c: &mut Criterion) {
        fn one<M: BlockingReentrant>(g: &mut BenchmarkGroup<'_, WallTime>) {
            let lock = M::new();
            g.bench_function(M::NAME, |b| b.iter(|| black_box(&lock).with(|| ())));
        }
        let mut g = c.benchmark_group("rlock/blocking_uncontended");
        one::<threading::blocking::RLock>(&mut g);
        one::<parking_lot::ReentrantMutex<()>>(&mut g);
        g.finish();
    }

    // ---------------------------------------------------------------- async locks

    /// A lock taken by a task.
    trait AsyncLock: Send + Sync + 'static {
        const NAME: &'static str;
        type Guard<'a>: Send
        where
            Self: 'a;
        fn new() -> Self;
        /// Acquire (awaiting, or re-entering if the task holds it); the guard releases.
        fn lock(&self) -> impl Future<Output = Self::Guard<'_>> + Send;
    }

    impl AsyncLock for threading::RLock {
        const NAME: &'static str = "threading::RLock";
        type Guard<'a> = threading::RLockGuard<'a>;
        fn new() -> Self {
            Self::new()
        }
        async fn lock(&self) -> Self::Guard<'_> {
            self.acquire().await
        }
    }

    impl AsyncLock for threading::Lock {
        const NAME: &'static str = "threading::Lock (non-reentrant, reference)";
        type Guard<'a> = threading::LockGuard<'a>;
        fn new() -> Self {
            Self::new()
        }
        async fn lock(&self) -> Self::Guard<'_> {
            self.acquire().await
        }
    }

    impl AsyncLock for tokio::sync::Mutex<()> {
        const NAME: &'static str = "tokio::sync::Mutex (non-reentrant, reference)";
        type Guard<'a> = tokio::sync::MutexGuard<'a, ()>;
        fn new() -> Self {
            Self::new(())
        }
        async fn lock(&self) -> Self::Guard<'_> {
            tokio::sync::Mutex::lock(self).await
        }
    }

    /// `iters` acquire/release pairs inside one task spawned on `rt` (criterion's
    /// `to_async` would run them directly in `block_on`, outside any task, where the
    /// async `RLock` falls back to thread ownership). With `hold_outer`, one level is held
    /// around the loop, so each pair re-enters.
    fn in_task<M: AsyncLock>(
        rt: &tokio::runtime::Runtime,
        iters: u64,
        hold_outer: bool,
    ) -> Duration {
        let lock = Arc::new(M::new());
        let task = rt.spawn(async move {
            let lock = &*lock;
            let _outer = if hold_outer {
                Some(lock.lock().await)
            } else {
                None
            };
            let t0 = Instant::now();
            for _ in 0..iters {
                drop(black_box(lock).lock().await);
            }
            t0.elapsed()
        });
        rt.block_on(task).expect("the benchmark task panicked")
    }

    fn async_in_task(c: &mut Criterion) {
        fn one<M: AsyncLock>(
            g: &mut BenchmarkGroup<'_, WallTime>,
            rt: &tokio::runtime::Runtime,
            hold_outer: bool,
        ) {
            g.bench_function(M::NAME, |b| {
                b.iter_custom(|iters| in_task::<M>(rt, iters, hold_outer))
            });
        }
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();

        let mut g = c.benchmark_group("rlock/async_uncontended_in_task");
        one::<threading::RLock>(&mut g, &rt, false);
        one::<threading::Lock>(&mut g, &rt, false);
        one::<tokio::sync::Mutex<()>>(&mut g, &rt, false);
        g.finish();

        let mut g = c.benchmark_group("rlock/async_reentry_in_task");
        one::<threading::RLock>(&mut g, &rt, true);
        g.finish();
    }
}
