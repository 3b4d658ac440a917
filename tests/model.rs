//! Model tests: random single-threaded sequences of operations on each primitive, checked
//! step by step against a plain model of Python's semantics (proptest shrinks a failure to
//! a minimal sequence).

use proptest::prelude::*;
use threading::blocking::{BoundedSemaphore, Event, Lock, RLock, Semaphore};
use threading::SemaphoreReleaseError;

#[derive(Clone, Debug)]
enum SemOp {
    TryAcquire,
    /// Give back the guard held at this index (modulo the number held), if any.
    DropGuard(usize),
    /// Forget the guard held at this index, if any.
    Forget(usize),
    Release(usize),
}

fn sem_ops() -> impl Strategy<Value = Vec<SemOp>> {
    prop::collection::vec(
        prop_oneof![
            Just(SemOp::TryAcquire),
            any::<usize>().prop_map(SemOp::DropGuard),
            any::<usize>().prop_map(SemOp::Forget),
            (0usize..4).prop_map(SemOp::Release),
        ],
        0..64,
    )
}

/// Run `ops` on a (bounded or not) semaphore and on the model: `value` counts free permits;
/// a bounded one refuses a release past `initial` and then changes nothing (BS-3, SB-14).
fn check_semaphore(initial: usize, bounded: bool, fair: bool, ops: Vec<SemOp>) {
    enum Sem {
        Plain(Semaphore),
        Bounded(BoundedSemaphore),
    }
    let sem = match (bounded, fair) {
        (false, false) => Sem::Plain(Semaphore::new(initial)),
        (false, true) => Sem::Plain(Semaphore::new_fair(initial)),
        (true, false) => Sem::Bounded(BoundedSemaphore::new(initial)),
        (true, true) => Sem::Bounded(BoundedSemaphore::new_fair(initial)),
    };
    let mut value = initial;
    let mut held = Vec::new();
    for op in ops {
        match op {
            SemOp::TryAcquire => {
                let got = match &sem {
                    Sem::Plain(s) => s.try_acquire(),
                    Sem::Bounded(s) => s.try_acquire(),
                };
                assert_eq!(got.is_some(), value > 0, "try_acquire at value {value}");
                if let Some(g) = got {
                    value -= 1;
                    held.push(g);
                }
            }
            SemOp::DropGuard(i) if !held.is_empty() => {
                drop(held.swap_remove(i % held.len()));
                // A guard's release that would pass the bound is dropped (documented).
                if !bounded || value < initial {
                    value += 1;
                }
            }
            SemOp::Forget(i) if !held.is_empty() => held.swap_remove(i % held.len()).forget(),
            SemOp::DropGuard(_) | SemOp::Forget(_) => {}
            SemOp::Release(n) => {
                let got = match &sem {
                    Sem::Plain(s) => s.release(n),
                    Sem::Bounded(s) => s.release(n),
                };
                let expected = if n == 0 {
                    Err(SemaphoreReleaseError::ZeroPermits)
                } else if bounded && value + n > initial {
                    Err(SemaphoreReleaseError::AboveInitial { value, initial, n })
                } else {
                    Ok(())
                };
                assert_eq!(got, expected, "release({n}) at value {value}");
                if got.is_ok() {
                    value += n;
                }
            }
        }
        let actual = match &sem {
            Sem::Plain(s) => s.value(),
            Sem::Bounded(s) => s.value(),
        };
        assert_eq!(actual, value);
    }
}

proptest! {
    // conformance: SB-4, SB-8, SB-14, S-1
    #[test]
    fn semaphore_matches_the_model(initial in 0usize..4, fair: bool, ops in sem_ops()) {
        check_semaphore(initial, false, fair, ops);
    }

    // conformance: BS-1, BS-3
    #[test]
    fn bounded_semaphore_matches_the_model(initial in 0usize..4, fair: bool, ops in sem_ops()) {
        check_semaphore(initial, true, fair, ops);
    }

    // conformance: L-3, L-5, LR-6
    #[test]
    fn lock_matches_the_model(fair: bool, ops in prop::collection::vec(0u8..3, 0..64)) {
        let lock = if fair { Lock::new_fair() } else { Lock::new() };
        let mut locked = false;
        let mut guard = None;
        for op in ops {
            match op {
                0 => {
                    let g = lock.try_acquire();
                    prop_assert_eq!(g.is_some(), !locked);
                    if g.is_some() {
                        locked = true;
                        guard = g;
                    }
                }
                1 => {
                    // A bare release: an error on an unlocked lock, and it changes nothing.
                    prop_assert_eq!(lock.release().is_ok(), locked);
                    if let Some(g) = guard.take() {
                        g.forget(); // its level was just released by hand
                    }
                    locked = false;
                }
                _ => {
                    if guard.take().is_some() {
                        locked = false;
                    }
                }
            }
            prop_assert_eq!(lock.locked(), locked);
        }
    }

    // conformance
    #[test]
    fn rlock_matches_the_model(ops in prop::collection::vec(0u8..3, 0..64)) {
        let lock = RLock::new();
        let mut guards = Vec::new();
        let mut forgotten = 0usize;
        for op in ops {
            let depth = guards.len() + forgotten;
            match op {
                0 => guards.push(lock.try_acquire().expect("the owner re-enters")),
                1 => {
                    // A bare release: one level, or an error on an unlocked lock.
                    let r = lock.release();
                    prop_assert_eq!(r.is_ok(), depth > 0);
                    if r.is_ok() {
                        if forgotten > 0 {
                            forgotten -= 1;
                        } else {
                            guards.pop().expect("a level").forget();
                        }
                    }
                }
                _ => {
                    if let Some(g) = guards.pop() {
                        g.forget();
                        forgotten += 1;
                    }
                }
            }
            let depth = guards.len() + forgotten;
            prop_assert_eq!(lock.recursion_count(), depth);
            prop_assert_eq!(lock.locked(), depth > 0);
        }
        drop(guards);
        for _ in 0..forgotten {
            lock.release().unwrap();
        }
        prop_assert!(!lock.locked());
    }

    // conformance: E-1, E-3, E-6
    #[test]
    fn event_matches_the_model(ops in prop::collection::vec(0u8..3, 0..64)) {
        let event = Event::new();
        let mut set = false;
        for op in ops {
            match op {
                0 => { event.set(); set = true; }
                1 => { event.clear(); set = false; }
                _ => prop_assert_eq!(event.wait_timeout(std::time::Duration::ZERO), set),
            }
            prop_assert_eq!(event.is_set(), set);
        }
    }
}
