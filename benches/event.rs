//! `Event` against its peers, one scenario per group, ours and the peers side by side.
//!
//! - `event/ping_pong_2_threads`: two threads, two events. Each thread waits on its own
//!   event, clears it, and sets the other's; one iteration is one round trip (two
//!   wake-ups). Peers: an event built from `std::sync::{Mutex<bool>, Condvar}` (what
//!   Python's `threading.Event` is) and the same from `parking_lot`.
//! - `event/ping_pong_thread_task`: the same between a plain thread (blocking form) and a
//!   tokio task (async form) on a 1-worker multi-thread runtime, over ONE pair of
//!   `threading::Event`s. No peer has one primitive that waits in both worlds and is an
//!   event, so the peers are the nearest builds: `tokio::sync::Notify` towards the task plus
//!   a std `Condvar` event towards the thread, and `async_lock::Semaphore(0)` both ways
//!   (`acquire().await` in the task, `acquire_blocking()` on the thread).
//!
//! Run with `cargo bench --bench event -- --noplot`; see BENCHMARKS.md.

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
    use std::sync::{Arc, Barrier};
    use std::time::{Duration, Instant};

    use criterion::measurement::WallTime;
    use criterion::{BenchmarkGroup, Criterion, SamplingMode};

    pub(super) fn run() {
        let mut c = crate::common::criterion();
        ping_pong_threads(&mut c);
        ping_pong_thread_task(&mut c);
        c.final_summary();
    }

    // ---------------------------------------------------------------- thread <-> thread

    /// An event that plain threads wait on, as parking_lot's `benchmark/src/bin/mutex.rs`
    /// does for mutexes.
    trait ThreadEvent: Send + Sync + 'static {
        const NAME: &'static str;
        fn new() -> Self;
        fn set(&self);
        fn clear(&self);
        fn wait(&self);
    }

    impl ThreadEvent for threading::blocking::Event {
        const NAME: &'static str = "threading::blocking::Event";
        fn new() -> Self {
            Self::new()
        }
        fn set(&self) {
            self.set();
        }
        fn clear(&self) {
            self.clear();
        }
        fn wait(&self) {
            self.wait();
        }
    }

    /// Python's `threading.Event`: a flag under a mutex, and a condition variable.
    #[derive(Default)]
    struct StdCondvarEvent {
        flag: std::sync::Mutex<bool>,
        cv: std::sync::Condvar,
    }

    impl ThreadEvent for StdCondvarEvent {
        const NAME: &'static str = "std Mutex<bool>+Condvar";
        fn new() -> Self {
            Self::default()
        }
        fn set(&self) {
            *self.flag.lock().unwrap() = true;
            self.cv.notify_all();
        }
        fn clear(&self) {
            *self.flag.lock().unwrap() = false;
        }
        fn wait(&self) {
            let mut set = self.flag.lock().unwrap();
            while !*set {
                set = self.cv.wait(set).unwrap();
            }
        }
    }

    /// [`StdCondvarEvent`] on parking_lot.
    #[derive(Default)]
    struct PlCondvarEvent {
        flag: parking_lot::Mutex<bool>,
        cv: parking_lot::Condvar,
    }

    impl ThreadEvent for PlCondvarEvent {
        const NAME: &'static str = "parking_lot Mutex<bool>+Condvar";
        fn new() -> Self {
            Self::default()
        }
        fn set(&self) {
            *self.flag.lock() = true;
            self.cv.notify_all();
        }
        fn clear(&self) {
            *self.flag.lock() = false;
        }
        fn wait(&self) {
            let mut set = self.flag.lock();
            while !*set {
                self.cv.wait(&mut set);
            }
        }
    }

    /// `iters` round trips between this thread and a partner thread.
    fn round_trips_threads<E: ThreadEvent>(iters: u64) -> Duration {
        let (ping, pong) = (E::new(), E::new());
        let start = Barrier::new(2);
        std::thread::scope(|s| {
            s.spawn(|| {
                start.wait();
                for _ in 0..iters {
                    ping.wait();
                    ping.clear();
                    pong.set();
                }
            });
            start.wait();
            let t0 = Instant::now();
            for _ in 0..iters {
                ping.set();
                pong.wait();
                pong.clear();
            }
            t0.elapsed()
        })
    }

    fn ping_pong_threads(c: &mut Criterion) {
        fn one<E: ThreadEvent>(g: &mut BenchmarkGroup<'_, WallTime>) {
            g.bench_function(E::NAME, |b| b.iter_custom(round_trips_threads::<E>));
        }
        let mut g = c.benchmark_group("event/ping_pong_2_threads");
        g.sampling_mode(SamplingMode::Flat).sample_size(30);
        one::<threading::blocking::Event>(&mut g);
        one::<StdCondvarEvent>(&mut g);
        one::<PlCondvarEvent>(&mut g);
        g.finish();
    }

    // ---------------------------------------------------------------- thread <-> task

    /// A pair of signals between a plain thread and a task: each side wakes the other and
    /// waits for (and consumes) the other's signal.
    trait Bridge: Send + Sync + 'static {
        const NAME: &'static str;
        fn new() -> Self;
        /// On the thread: wake the task.
        fn signal_task(&self);
        /// On the thread: block until the task's signal, and consume it.
        fn wait_on_thread(&self);
        /// In the task: wake the thread.
        fn signal_thread(&self);
        /// In the task: wait for the thread's signal, and consume it.
        fn wait_in_task(&self) -> impl Future<Output = ()> + Send;
    }

    /// Ours: two `threading::Event`s, each waited on in one form and set from the other.
    #[derive(Default)]
    struct EventBridge {
        to_task: threading::Event,
        to_thread: threading::Event,
    }

    impl Bridge for EventBridge {
        const NAME: &'static str = "threading::Event (blocking + async)";
        fn new() -> Self {
            Self::default()
        }
        fn signal_task(&self) {
            self.to_task.set();
        }
        fn wait_on_thread(&self) {
            self.to_thread.blocking().wait();
            self.to_thread.clear();
        }
        fn signal_thread(&self) {
            self.to_thread.set();
        }
        async fn wait_in_task(&self) {
            self.to_task.wait().await;
            self.to_task.clear();
        }
    }

    /// tokio's `Notify` towards the task (its stored permit is the "set" flag), a std
    /// condvar event towards the thread.
    #[derive(Default)]
    struct NotifyCondvarBridge {
        to_task: tokio::sync::Notify,
        to_thread: StdCondvarEvent,
    }

    impl Bridge for NotifyCondvarBridge {
        const NAME: &'static str = "tokio Notify + std Condvar";
        fn new() -> Self {
            Self::default()
        }
        fn signal_task(&self) {
            self.to_task.notify_one();
        }
        fn wait_on_thread(&self) {
            self.to_thread.wait();
            self.to_thread.clear();
        }
        fn signal_thread(&self) {
            self.to_thread.set();
        }
        async fn wait_in_task(&self) {
            self.to_task.notified().await;
        }
    }

    /// async-lock's semaphore, which waits in both worlds: a permit is the signal.
    struct AsyncLockBridge {
        to_task: async_lock::Semaphore,
        to_thread: async_lock::Semaphore,
    }

    impl Bridge for AsyncLockBridge {
        const NAME: &'static str = "async_lock::Semaphore(0) (blocking + async)";
        fn new() -> Self {
            Self {
                to_task: async_lock::Semaphore::new(0),
                to_thread: async_lock::Semaphore::new(0),
            }
        }
        fn signal_task(&self) {
            self.to_task.add_permits(1);
        }
        fn wait_on_thread(&self) {
            self.to_thread.acquire_blocking().forget();
        }
        fn signal_thread(&self) {
            self.to_thread.add_permits(1);
        }
        async fn wait_in_task(&self) {
            self.to_task.acquire().await.forget();
        }
    }

    /// `iters` round trips between this (plain) thread and a task spawned on `rt`.
    fn round_trips_thread_task<B: Bridge>(rt: &tokio::runtime::Runtime, iters: u64) -> Duration {
        let bridge = Arc::new(B::new());
        let task = {
            let bridge = bridge.clone();
            rt.spawn(async move {
                for _ in 0..iters {
                    bridge.wait_in_task().await;
                    bridge.signal_thread();
                }
            })
        };
        let t0 = Instant::now();
        for _ in 0..iters {
            bridge.signal_task();
            bridge.wait_on_thread();
        }
        let elapsed = t0.elapsed();
        rt.block_on(task).unwrap();
        elapsed
    }

    fn ping_pong_thread_task(c: &mut Criterion) {
        fn one<B: Bridge>(g: &mut BenchmarkGroup<'_, WallTime>, rt: &tokio::runtime::Runtime) {
            g.bench_function(B::NAME, |b| {
                b.iter_custom(|iters| round_trips_thread_task::<B>(rt, iters))
            });
        }
        let rt = crate::common::runtime(1);
        let mut g = c.benchmark_group("event/ping_pong_thread_task");
        g.sampling_mode(SamplingMode::Flat).sample_size(30);
        one::<EventBridge>(&mut g, &rt);
        one::<NotifyCondvarBridge>(&mut g, &rt);
        one::<AsyncLockBridge>(&mut g, &rt);
        g.finish();
    }
}
