//! Loom models of `Barrier` through its public API: a round whose timeout races the last
//! arrival either passes for both parties or breaks for both.
#![cfg(loom)]

use std::sync::Arc;
use std::time::Duration;

use loom::thread;
use threading::Barrier;

#[test]
fn timeout_racing_the_last_arrival() {
    loom::model(|| {
        let barrier = Arc::new(Barrier::new(2).unwrap());
        let b = barrier.clone();
        // Under loom a timed wait expires as soon as it has queued.
        let timed = thread::spawn(move || b.blocking().wait_timeout(Duration::from_secs(1)));
        let other = loom::future::block_on(barrier.wait());
        let timed = timed.join().unwrap();
        match (timed, other) {
            (Ok(a), Ok(b)) => assert_eq!(a + b, 1, "distinct indices"),
            (Err(_), Err(_)) => assert!(barrier.broken()),
            (a, b) => panic!("one party passed and the other broke: {a:?} {b:?}"),
        }
        assert_eq!(barrier.n_waiting(), 0);
    });
}

/// `abort()` racing the last arrival: both parties pass with distinct indices, or both get
/// `BrokenBarrierError`, or (an abort between the round's release and the waiter's exit, as
/// in Python) the last arrival passes and the waiter breaks; nobody is left waiting.
#[test]
fn abort_racing_the_last_arrival() {
    loom::model(|| {
        let barrier = Arc::new(Barrier::new(2).unwrap());
        let b = barrier.clone();
        let first = thread::spawn(move || b.blocking().wait());
        let b = barrier.clone();
        let aborter = thread::spawn(move || b.abort());
        let second = loom::future::block_on(barrier.wait());
        aborter.join().unwrap();
        let first = first.join().unwrap();
        match (first, second) {
            (Ok(a), Ok(b)) => assert_eq!(a + b, 1, "distinct indices"),
            (Err(_), Err(_)) => {}
            // As Python's: an abort after the round completed but before the waiting party
            // left breaks that party; the last arrival (index 1) has already passed.
            (Ok(i), Err(_)) | (Err(_), Ok(i)) => assert_eq!(i, 1, "only the last arrival passes"),
        }
        assert!(barrier.broken(), "abort() leaves the barrier broken");
        assert_eq!(barrier.n_waiting(), 0);
    });
}
