//! `Local` against its peers: one scenario, ours and the peers side by side.
//!
//! - `local/with_initialised`: one thread reads and bumps its own value, already made, in a
//!   `Cell<u64>`. Ours: `threading::blocking::Local::with`, and `threading::Local::with`
//!   outside any task context (it checks for one first, then uses the thread's value). The
//!   target peer is the `thread_local` crate's `ThreadLocal::get_or`, the other per-instance
//!   thread-local (ours should stay within 1.2x of it). std's `thread_local!` `.with` is a
//!   static slot, a different thing, shown for reference.
//!
//! Run with `cargo bench --bench local -- --noplot`; see BENCHMARKS.md.

// The dev-dependencies (criterion, thread_local) exist only without `--cfg loom`.
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
    use std::cell::Cell;
    use std::hint::black_box;

    use criterion::Criterion;

    pub(super) fn run() {
        let mut c = crate::common::criterion();
        with_initialised(&mut c);
        c.final_summary();
    }

    /// A per-thread `Cell<u64>` that a thread can bump, as parking_lot's
    /// `benchmark/src/bin/mutex.rs` wraps each mutex.
    trait PerThread: Sync {
        const NAME: &'static str;
        fn new() -> Self;
        /// Add one to this thread's value; returns the new value.
        fn bump(&self) -> u64;
    }

    fn bump(c: &Cell<u64>) -> u64 {
        let n = c.get() + 1;
        c.set(n);
        n
    }

    struct Blocking(threading::blocking::Local<Cell<u64>>);
    impl PerThread for Blocking {
        const NAME: &'static str = "threading::blocking::Local::with";
        fn new() -> Self {
            Self(threading::blocking::Local::new(|| Cell::new(0)))
        }
        #[inline]
        fn bump(&self) -> u64 {
            self.0.with(bump)
        }
    }

    struct Async(threading::Local<Cell<u64>>);
    impl PerThread for Async {
        const NAME: &'static str = "threading::Local::with (no task context)";
        fn new() -> Self {
            Self(threading::Local::new(|| Cell::new(0)))
        }
        #[inline]
        fn bump(&self) -> u64 {
            self.0.with(bump)
        }
    }

    struct ThreadLocalCrate(thread_local::ThreadLocal<Cell<u64>>);
    impl PerThread for ThreadLocalCrate {
        const NAME: &'static str = "thread_local::ThreadLocal::get_or";
        fn new() -> Self {
            Self(thread_local::ThreadLocal::new())
        }
        #[inline]
        fn bump(&self) -> u64 {
            bump(self.0.get_or(|| Cell::new(0)))
        }
    }

    std::thread_local! {
        static STD: Cell<u64> = const { Cell::new(0) };
    }
    struct StdThreadLocal;
    impl PerThread for StdThreadLocal {
        const NAME: &'static str = "std thread_local! with";
        fn new() -> Self {
            Self
        }
        #[inline]
        fn bump(&self) -> u64 {
            STD.with(bump)
        }
    }

    fn one<P: PerThread>(g: &mut criterion::BenchmarkGroup<'_, criterion::measurement::WallTime>) {
        let p = P::new();
        p.bump(); // made before measuring
        let p = black_box(&p);
        g.bench_function(P::NAME, |b| b.iter(|| black_box(p.bump())));
    }

    fn with_initialised(c: &mut Criterion) {
        let mut g = c.benchmark_group("local/with_initialised");
        one::<Blocking>(&mut g);
        one::<Async>(&mut g);
        one::<ThreadLocalCrate>(&mut g);
        one::<StdThreadLocal>(&mut g);
        g.finish();
    }
}
