//! The soak workload of `examples/soak.rs` as tests: short runs that CI runs, and the full
//! 10^6 operations on request (`cargo test --release --test soak -- --ignored`).

mod common;

// The example's `main` is unused here.
#[allow(dead_code)]
#[path = "../examples/soak.rs"]
mod soak;

/// Short enough for every CI run, valgrind's included (about 0.5 s in a debug build).
#[test]
fn soak_100_000_operations() {
    common::run_on_thread(|| {
        let summary = soak::run(100_000);
        assert_eq!(summary.ops, 100_000);
        assert_eq!(summary.by_kind.iter().sum::<usize>(), 100_000);
        println!("{summary}");
    });
}

/// An operation count that does not divide evenly among the workers.
#[test]
fn soak_uneven_share() {
    common::run_on_thread(|| {
        let summary = soak::run(2_003);
        assert_eq!(summary.by_kind.iter().sum::<usize>(), 2_003);
    });
}

#[test]
#[ignore = "10^6 operations: slow in a debug build; run with --ignored, best with --release"]
fn soak_a_million_operations() {
    let summary = soak::run(1_000_000);
    assert_eq!(summary.ops, 1_000_000);
    println!("{summary}");
}
