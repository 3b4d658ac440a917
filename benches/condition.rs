//! `Condition` against its peers, one scenario per group, ours and the peers side by side.
//!
//! Both scenarios are a ping-pong: a counter behind the condition's lock, and two sides
//! that take turns. Side `p` (0 or 1) takes the lock, waits until the counter's parity is
//! `p`, increments it, notifies one waiter (still holding the lock, as Python requires)
//! and releases. One round trip is one turn of each side; time is per round trip.
//!
//! - `condition/blocking_ping_pong_2_threads`: two plain threads, N round trips each
//!   sample (`iter_custom`). Ours over a `Lock` (`Condition::with_lock`) and over the
//!   default `RLock`, vs `std::sync::Condvar` + `std::sync::Mutex<u64>` and
//!   `parking_lot::Condvar` + `parking_lot::Mutex<u64>`.
//! - `condition/async_ping_pong_2_tasks`: two tasks on a 2-worker multi-thread runtime.
//!   Ours over a `Lock` and over an `RLock`, vs the closest tokio has to an async condition
//!   variable: `tokio::sync::Notify` + `tokio::sync::Mutex<u64>` (the waiter registers with
//!   `Notified::enable` before it lets go of the mutex; the notifier calls
//!   `notify_waiters`, which, like a condition's notify, remembers nothing when nobody
//!   waits). async-lock has no condition variable.
//!
//! Run with `cargo bench --bench condition -- --noplot`; see BENCHMARKS.md.

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
    use std::pin::pin;
    use std::sync::atomic::{AtomicU64, Ordering};
    use std::sync::{Arc, Barrier};
    use std::time::{Duration, Instant};

    use criterion::measurement::WallTime;
    use criterion::{BenchmarkGroup, Criterion, SamplingMode};
    use threading::ConditionLock;

    pub(super) fn run() {
        let mut c = crate::common::criterion();
        blocking_ping_pong(&mut c);
        async_ping_pong(&mut c);
        c.final_summary();
    }

    use crate::common::wall;

    // ---------------------------------------------------------------- blocking conditions

    /// A condition variable and its counter, used by plain threads, as parking_lot's
    /// `benchmark/src/bin/mutex.rs` does for locks.
    trait BlockingPingPong: Send + Sync + 'static {
        const NAME: &'static str;
        fn new() -> Self;
        /// Take the lock, wait for the counter's parity to be `side`, increment it, notify
        /// one waiter, release.
        fn turn(&self, side: u64);
        /// The counter, once both sides are done.
        fn count(&self) -> u64;
    }

    /// Ours, blocking form: the counter is an atomic only because `Condition` holds no
    /// data; it is read and written with the lock held, so `Relaxed` is enough.
    struct Ours<C> {
        cond: C,
        counter: AtomicU64,
    }

    impl<L: ConditionLock> Ours<threading::blocking::Condition<L>> {
        fn blocking_turn(&self, side: u64) {
            let g = self.cond.acquire();
            let g = self
                .cond
                .wait_for(g, || self.counter.load(Ordering::Relaxed) % 2 == side);
            self.counter.fetch_add(1, Ordering::Relaxed);
            self.cond.notify(&g, 1);
        }
    }

    impl BlockingPingPong for Ours<threading::blocking::Condition<threading::Lock>> {
        const NAME: &'static str = "threading::blocking::Condition<Lock>";
        fn new() -> Self {
            Self {
                cond: threading::blocking::Condition::with_lock(Arc::new(
                    threading::blocking::Lock::new(),
                )),
                counter: AtomicU64::new(0),
            }
        }
        fn turn(&self, side: u64) {
            self.blocking_turn(side);
        }
        fn count(&self) -> u64 {
            self.counter.load(Ordering::Relaxed)
        }
    }

    impl BlockingPingPong for Ours<threading::blocking::Condition<threading::RLock>> {
        const NAME: &'static str = "threading::blocking::Condition<RLock>";
        fn new() -> Self {
            Self {
                cond: threading::blocking::Condition::new(),
                counter: AtomicU64::new(0),
            }
        }
        fn turn(&self, side: u64) {
            self.blocking_turn(side);
        }
        fn count(&self) -> u64 {
            self.counter.load(Ordering::Relaxed)
        }
    }

    /// A peer's condition variable beside the mutex holding the counter.
    struct Peer<M, C> {
        mutex: M,
        cond: C,
    }

    impl BlockingPingPong for Peer<std::sync::Mutex<u64>, std::sync::Condvar> {
        const NAME: &'static str = "std::sync::Condvar + Mutex";
        fn new() -> Self {
            Self {
                mutex: std::sync::Mutex::new(0),
                cond: std::sync::Condvar::new(),
            }
        }
        fn turn(&self, side: u64) {
            let g = self.mutex.lock().unwrap();
            let mut g = self.cond.wait_while(g, |n| *n % 2 != side).unwrap();
            *g += 1;
            self.cond.notify_one();
        }
        fn count(&self) -> u64 {
            *self.mutex.lock().unwrap()
        }
    }

    impl BlockingPingPong for Peer<parking_lot::Mutex<u64>, parking_lot::Condvar> {
        const NAME: &'static str = "parking_lot::Condvar + Mutex";
        fn new() -> Self {
            Self {
                mutex: parking_lot::Mutex::new(0),
                cond: parking_lot::Condvar::new(),
            }
        }
        fn turn(&self, side: u64) {
            let mut g = self.mutex.lock();
            self.cond.wait_while(&mut g, |n| *n % 2 != side);
            *g += 1;
            self.cond.notify_one();
        }
        fn count(&self) -> u64 {
            *self.mutex.lock()
        }
    }

    /// `iters` round trips between two threads that start together; returns the wall time
    /// from the first thread's start to the last one's end. Each thread clocks itself.
    fn ping_pong_threads<P: BlockingPingPong>(iters: u64) -> Duration {
        let pp = P::new();
        let start = Barrier::new(2);
        let elapsed = std::thread::scope(|s| {
            let sides: Vec<_> = (0..2)
                .map(|side| {
                    let (pp, start) = (&pp, &start);
                    s.spawn(move || {
                        start.wait();
                        let t0 = Instant::now();
                        for _ in 0..iters {
                            pp.turn(side);
                        }
                        (t0, Instant::now())
                    })
                })
                .collect();
            wall(sides.into_iter().map(|t| t.join().unwrap()))
        });
        assert_eq!(pp.count(), 2 * iters, "{} lost a turn", P::NAME);
        elapsed
    }

    fn blocking_ping_pong(c: &mut Criterion) {
        fn one<P: BlockingPingPong>(g: &mut BenchmarkGroup<'_, WallTime>) {
            g.bench_function(P::NAME, |b| b.iter_custom(ping_pong_threads::<P>));
        }
        let mut g = c.benchmark_group("condition/blocking_ping_pong_2_threads");
        g.sampling_mode(SamplingMode::Flat).sample_size(30);
        one::<Ours<threading::blocking::Condition<threading::Lock>>>(&mut g);
        one::<Ours<threading::blocking::Condition<threading::RLock>>>(&mut g);
        one::<Peer<std::sync::Mutex<u64>, std::sync::Condvar>>(&mut g);
        one::<Peer<parking_lot::Mutex<u64>, parking_lot::Condvar>>(&mut g);
        g.finish();
    }

    // ---------------------------------------------------------------- async conditions

    /// A condition variable and its counter, used by tasks.
    trait AsyncPingPong: Send + Sync + 'static {
        const NAME: &'static str;
        fn new() -> Self;
        /// As [`BlockingPingPong::turn`], awaiting.
        fn turn(&self, side: u64) -> impl Future<Output = ()> + Send;
        fn count(&self) -> u64;
    }

    impl<L: ConditionLock> Ours<threading::Condition<L>> {
        async fn async_turn(&self, side: u64) {
            let g = self.cond.acquire().await;
            let g = self
                .cond
                .wait_for(g, || self.counter.load(Ordering::Relaxed) % 2 == side)
                .await;
            self.counter.fetch_add(1, Ordering::Relaxed);
            self.cond.notify(&g, 1);
        }
    }

    impl AsyncPingPong for Ours<threading::Condition<threading::Lock>> {
        const NAME: &'static str = "threading::Condition<Lock>";
        fn new() -> Self {
            Self {
                cond: threading::Condition::with_lock(Arc::new(threading::Lock::new())),
                counter: AtomicU64::new(0),
            }
        }
        fn turn(&self, side: u64) -> impl Future<Output = ()> + Send {
            self.async_turn(side)
        }
        fn count(&self) -> u64 {
            self.counter.load(Ordering::Relaxed)
        }
    }

    impl AsyncPingPong for Ours<threading::Condition<threading::RLock>> {
        const NAME: &'static str = "threading::Condition<RLock>";
        fn new() -> Self {
            Self {
                cond: threading::Condition::new(),
                counter: AtomicU64::new(0),
            }
        }
        fn turn(&self, side: u64) -> impl Future<Output = ()> + Send {
            self.async_turn(side)
        }
        fn count(&self) -> u64 {
            self.counter.load(Ordering::Relaxed)
        }
    }

    impl AsyncPingPong for Peer<tokio::sync::Mutex<u64>, tokio::sync::Notify> {
        const NAME: &'static str = "tokio::sync::Notify + Mutex";
        fn new() -> Self {
            Self {
                mutex: tokio::sync::Mutex::new(0),
                cond: tokio::sync::Notify::new(),
            }
        }
        async fn turn(&self, side: u64) {
            let mut g = self.mutex.lock().await;
            while *g % 2 != side {
                // Register before letting go of the mutex, so the notification that
                // follows the release cannot be missed (a condition's wait).
                let mut notified = pin!(self.cond.notified());
                notified.as_mut().enable();
                drop(g);
                notified.await;
                g = self.mutex.lock().await;
            }
            *g += 1;
            self.cond.notify_waiters();
        }
        fn count(&self) -> u64 {
            *self.mutex.try_lock().expect("both sides are done")
        }
    }

    /// `iters` round trips between two tasks on `rt` that start together; returns the wall
    /// time from the first task's start to the last one's end.
    fn ping_pong_tasks<P: AsyncPingPong>(rt: &tokio::runtime::Runtime, iters: u64) -> Duration {
        let shared = Arc::new((P::new(), tokio::sync::Barrier::new(2)));
        let elapsed = rt.block_on(async {
            let sides: Vec<_> = (0..2)
                .map(|side| {
                    let shared = shared.clone();
                    tokio::spawn(async move {
                        let (pp, start) = &*shared;
                        start.wait().await;
                        let t0 = Instant::now();
                        for _ in 0..iters {
                            pp.turn(side).await;
                        }
                        (t0, Instant::now())
                    })
                })
                .collect();
            let mut spans = Vec::with_capacity(2);
            for t in sides {
                spans.push(t.await.unwrap());
            }
            wall(spans)
        });
        assert_eq!(shared.0.count(), 2 * iters, "{} lost a turn", P::NAME);
        elapsed
    }

    fn async_ping_pong(c: &mut Criterion) {
        fn one<P: AsyncPingPong>(
            g: &mut BenchmarkGroup<'_, WallTime>,
            rt: &tokio::runtime::Runtime,
        ) {
            g.bench_function(P::NAME, |b| {
                b.iter_custom(|iters| ping_pong_tasks::<P>(rt, iters))
            });
        }
        let rt = crate::common::runtime(2);
        let mut g = c.benchmark_group("condition/async_ping_pong_2_tasks");
        g.sampling_mode(SamplingMode::Flat).sample_size(30);
        one::<Ours<threading::Condition<threading::Lock>>>(&mut g, &rt);
        one::<Ours<threading::Condition<threading::RLock>>>(&mut g, &rt);
        one::<Peer<tokio::sync::Mutex<u64>, tokio::sync::Notify>>(&mut g, &rt);
        g.finish();
    }
}
