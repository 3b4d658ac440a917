//! `Thread` against the primitive it runs on, one scenario per group, ours and the peer side
//! by side. One iteration makes, starts and joins one thread whose target returns `1`.
//!
//! - `thread/os_start_join`: `threading::blocking::Thread::new(|| 1)`, `start()`, `join()`
//!   vs `std::thread::spawn(|| 1).join()`.
//! - `thread/task_start_join`: `threading::Thread::new(|| async { 1 })`, `start()`,
//!   `join().await` vs `tokio::spawn(async { 1 }).await`, from `block_on` on a 2-worker
//!   multi-thread runtime (criterion's `to_async`, the same for both).
//! - `thread/spawn_blocking_start_join`: `threading::Thread::new_blocking(|| 1)` vs
//!   `tokio::task::spawn_blocking(|| 1).await`, on the same runtime.
//! - `thread/task_batch_100`: start 100 task-threads, then join them all, vs 100
//!   `tokio::spawn` then 100 awaits; time is per thread (throughput).
//!
//! The target (issue): each at most 1.2x its peer. Run with
//! `cargo bench --bench thread -- --noplot`; see BENCHMARKS.md.

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

    use criterion::measurement::WallTime;
    use criterion::{BenchmarkGroup, Criterion, SamplingMode, Throughput};

    /// Threads started before the first join in the batch scenario.
    const BATCH: usize = 100;

    pub(super) fn run() {
        let mut c = crate::common::criterion();
        os_start_join(&mut c);
        let rt = crate::common::runtime(2);
        task_start_join(&mut c, &rt);
        spawn_blocking_start_join(&mut c, &rt);
        task_batch(&mut c, &rt);
        c.final_summary();
    }

    // ---------------------------------------------------------------- OS threads

    /// Start an OS thread that returns 1 and join it.
    trait OsSpawn {
        const NAME: &'static str;
        fn start_join() -> i32;
    }

    struct Ours;
    struct Peer;

    impl OsSpawn for Ours {
        const NAME: &'static str = "threading::blocking::Thread";
        fn start_join() -> i32 {
            let t = threading::blocking::Thread::new(|| 1);
            t.start().unwrap();
            t.join().unwrap().unwrap()
        }
    }

    impl OsSpawn for Peer {
        const NAME: &'static str = "std::thread::spawn";
        fn start_join() -> i32 {
            std::thread::spawn(|| 1).join().unwrap()
        }
    }

    fn os_start_join(c: &mut Criterion) {
        fn one<S: OsSpawn>(g: &mut BenchmarkGroup<'_, WallTime>) {
            g.bench_function(S::NAME, |b| b.iter(|| black_box(S::start_join())));
        }
        let mut g = c.benchmark_group("thread/os_start_join");
        g.sampling_mode(SamplingMode::Flat);
        one::<Ours>(&mut g);
        one::<Peer>(&mut g);
        g.finish();
    }

    // ---------------------------------------------------------------- tasks and the pool

    /// Start a task (or `spawn_blocking` closure) that returns 1, and join it; or start
    /// [`BATCH`] of them, then join them all.
    trait TaskSpawn {
        /// The name in the task groups.
        const TASK: &'static str;
        /// The name in the `spawn_blocking` group.
        const POOL: &'static str;
        fn start_join() -> impl Future<Output = i32> + Send;
        fn start_join_blocking() -> impl Future<Output = i32> + Send;
        fn batch() -> impl Future<Output = i32> + Send;
    }

    impl TaskSpawn for Ours {
        const TASK: &'static str = "threading::Thread::new";
        const POOL: &'static str = "threading::Thread::new_blocking";
        async fn start_join() -> i32 {
            let t = threading::Thread::new(|| async { 1 });
            t.start().unwrap();
            t.join().await.unwrap().unwrap()
        }
        async fn start_join_blocking() -> i32 {
            let t = threading::Thread::new_blocking(|| 1);
            t.start().unwrap();
            t.join().await.unwrap().unwrap()
        }
        async fn batch() -> i32 {
            let ts: Vec<_> = (0..BATCH)
                .map(|_| {
                    let t = threading::Thread::new(|| async { 1 });
                    t.start().unwrap();
                    t
                })
                .collect();
            let mut sum = 0;
            for t in &ts {
                sum += t.join().await.unwrap().unwrap();
            }
            sum
        }
    }

    impl TaskSpawn for Peer {
        const TASK: &'static str = "tokio::spawn";
        const POOL: &'static str = "tokio::task::spawn_blocking";
        async fn start_join() -> i32 {
            tokio::spawn(async { 1 }).await.unwrap()
        }
        async fn start_join_blocking() -> i32 {
            tokio::task::spawn_blocking(|| 1).await.unwrap()
        }
        async fn batch() -> i32 {
            let hs: Vec<_> = (0..BATCH).map(|_| tokio::spawn(async { 1 })).collect();
            let mut sum = 0;
            for h in hs {
                sum += h.await.unwrap();
            }
            sum
        }
    }

    fn task_start_join(c: &mut Criterion, rt: &tokio::runtime::Runtime) {
        fn one<S: TaskSpawn>(g: &mut BenchmarkGroup<'_, WallTime>, rt: &tokio::runtime::Runtime) {
            g.bench_function(S::TASK, |b| b.to_async(rt).iter(S::start_join));
        }
        let mut g = c.benchmark_group("thread/task_start_join");
        one::<Ours>(&mut g, rt);
        one::<Peer>(&mut g, rt);
        g.finish();
    }

    fn spawn_blocking_start_join(c: &mut Criterion, rt: &tokio::runtime::Runtime) {
        fn one<S: TaskSpawn>(g: &mut BenchmarkGroup<'_, WallTime>, rt: &tokio::runtime::Runtime) {
            g.bench_function(S::POOL, |b| b.to_async(rt).iter(S::start_join_blocking));
        }
        let mut g = c.benchmark_group("thread/spawn_blocking_start_join");
        one::<Ours>(&mut g, rt);
        one::<Peer>(&mut g, rt);
        g.finish();
    }

    fn task_batch(c: &mut Criterion, rt: &tokio::runtime::Runtime) {
        fn one<S: TaskSpawn>(g: &mut BenchmarkGroup<'_, WallTime>, rt: &tokio::runtime::Runtime) {
            g.bench_function(S::TASK, |b| b.to_async(rt).iter(S::batch));
        }
        let mut g = c.benchmark_group("thread/task_batch_100");
        g.throughput(Throughput::Elements(BATCH as u64));
        one::<Ours>(&mut g, rt);
        one::<Peer>(&mut g, rt);
        g.finish();
    }
}
