//! `Timer` against the primitives it runs on, one scenario per group, ours and the peer side
//! by side. One iteration makes, starts and joins one timer whose function does nothing.
//!
//! - `timer/async_fire_1ms`: `threading::Timer::new(1 ms, || async {})`, `start()`,
//!   `join().await` vs `tokio::spawn(async { sleep(1 ms).await }).await`, from `block_on`
//!   on a 2-worker multi-thread runtime (criterion's `to_async`, the same for both).
//! - `timer/blocking_fire_1ms`: `threading::blocking::Timer::new(1 ms, || ())` vs
//!   `std::thread::spawn(|| std::thread::sleep(1 ms)).join()`.
//! - `timer/async_zero` and `timer/blocking_zero`: the same with a zero interval, against
//!   a plain spawn + join (no sleep): the timer's own overhead.
//!
//! The target (issue): each at most 1.2x its peer. Run with
//! `cargo bench --bench timer -- --noplot`; see BENCHMARKS.md.

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
    use std::time::Duration;

    use criterion::measurement::WallTime;
    use criterion::{BenchmarkGroup, Criterion, SamplingMode};

    /// The interval of the firing scenarios.
    const INTERVAL: Duration = Duration::from_millis(1);

    pub(super) fn run() {
        let mut c = crate::common::criterion();
        let rt = crate::common::runtime(2);
        async_timer(&mut c, &rt, "timer/async_fire_1ms", INTERVAL);
        async_timer(&mut c, &rt, "timer/async_zero", Duration::ZERO);
        blocking_timer(&mut c, "timer/blocking_fire_1ms", INTERVAL);
        blocking_timer(&mut c, "timer/blocking_zero", Duration::ZERO);
        c.final_summary();
    }

    struct Ours;
    struct Peer;

    // ---------------------------------------------------------------- async

    /// Run nothing once `interval` has passed, in a task, and join that task.
    trait AsyncFire {
        const NAME: &'static str;
        fn fire(interval: Duration) -> impl Future<Output = ()> + Send;
    }

    impl AsyncFire for Ours {
        const NAME: &'static str = "threading::Timer";
        async fn fire(interval: Duration) {
            let t = threading::Timer::new(interval, || async {});
            t.start().unwrap();
            t.join().await.unwrap();
        }
    }

    impl AsyncFire for Peer {
        const NAME: &'static str = "tokio::spawn (+ tokio::time::sleep)";
        async fn fire(interval: Duration) {
            if interval.is_zero() {
                tokio::spawn(async {}).await.unwrap();
            } else {
                tokio::spawn(tokio::time::sleep(interval)).await.unwrap();
            }
        }
    }

    fn async_timer(
        c: &mut Criterion,
        rt: &tokio::runtime::Runtime,
        group: &str,
        interval: Duration,
    ) {
        fn one<F: AsyncFire>(
            g: &mut BenchmarkGroup<'_, WallTime>,
            rt: &tokio::runtime::Runtime,
            interval: Duration,
        ) {
            g.bench_function(F::NAME, |b| b.to_async(rt).iter(|| F::fire(interval)));
        }
        let mut g = c.benchmark_group(group);
        if !interval.is_zero() {
            g.sampling_mode(SamplingMode::Flat);
        }
        one::<Ours>(&mut g, rt, interval);
        one::<Peer>(&mut g, rt, interval);
        g.finish();
    }

    // ---------------------------------------------------------------- blocking

    /// Run nothing once `interval` has passed, on an OS thread, and join that thread.
    trait BlockingFire {
        const NAME: &'static str;
        fn fire(interval: Duration);
    }

    impl BlockingFire for Ours {
        const NAME: &'static str = "threading::blocking::Timer";
        fn fire(interval: Duration) {
            let t = threading::blocking::Timer::new(interval, || ());
            t.start().unwrap();
            t.join().unwrap();
        }
    }

    impl BlockingFire for Peer {
        const NAME: &'static str = "std::thread::spawn (+ std::thread::sleep)";
        fn fire(interval: Duration) {
            if interval.is_zero() {
                std::thread::spawn(|| ()).join().unwrap();
            } else {
                std::thread::spawn(move || std::thread::sleep(interval))
                    .join()
                    .unwrap();
            }
        }
    }

    fn blocking_timer(c: &mut Criterion, group: &str, interval: Duration) {
        fn one<F: BlockingFire>(g: &mut BenchmarkGroup<'_, WallTime>, interval: Duration) {
            g.bench_function(F::NAME, |b| b.iter(|| F::fire(interval)));
        }
        let mut g = c.benchmark_group(group);
        g.sampling_mode(SamplingMode::Flat);
        one::<Ours>(&mut g, interval);
        one::<Peer>(&mut g, interval);
        g.finish();
    }
}
