//! `Semaphore` and `BoundedSemaphore`, both forms: the blocking form driven from plain
//! threads, the async form from tokio tasks (CONFORMANCE sections 0, 5, 6, 7 and 15).
//!
//! Most tests are written once in [`forms!`] and run in both forms, on both types and both
//! fairness policies. Async-only statements (cancellation, asyncio's FIFO hand-off) step
//! the futures by hand; timing checks are exact for "never early" and generous for "not
//! too late".

mod common;
use common::{
    assert_quick, assert_timed_out_in_time, join_task, join_thread, queued_digits, wait_until,
    LATE, SHORT,
};

use std::pin::pin;
use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::sync::{Arc, Mutex};
use std::task::Poll;
use std::time::{Duration, Instant};

use futures::{poll, FutureExt};
use threading::{BoundedSemaphore, Semaphore, SemaphoreReleaseError, TIMEOUT_MAX};

/// Join a worker thread that must have panicked.
#[track_caller]
fn join_thread_panicked<T>(h: std::thread::JoinHandle<T>) {
    wait_until(|| h.is_finished());
    assert!(h.join().is_err(), "the worker was meant to panic");
}

/// Join a worker task that must have panicked.
async fn join_task_panicked<T>(h: tokio::task::JoinHandle<T>) {
    match tokio::time::timeout(LATE, h).await {
        Err(_) => panic!("worker task did not finish within {LATE:?}"),
        Ok(r) => assert!(
            r.is_err_and(|e| e.is_panic()),
            "the worker was meant to panic"
        ),
    }
}

/// One test body, run in both forms, for each kind of semaphore listed:
/// `semaphore`, `semaphore_fair`, `bounded`, `bounded_fair`. Each becomes
/// `name::kind::blocking` (workers are threads) and `name::kind::tasks` (workers are tasks
/// on a two-worker runtime; the body itself runs in `block_on`).
///
/// In the body, `$S` names the semaphore type of that form and `new_sem(n)` builds one
/// with that kind's policy. Calls that differ between the forms are written
/// - `wait!(x)`: `x` in the blocking form, `x.await` in the async form;
/// - `spawn!({ .. })`: a worker thread or task (a `move` closure or block);
/// - `join!(h)`: join a worker (bounded by `LATE`) and take its result;
/// - `join_panicked!(h)`: join a worker that must have panicked;
/// - `sleep!(d)`: sleep in the worker's own way.
macro_rules! forms {
    ($( $(#[$m:meta])* fn $name:ident<$S:ident: $($kind:ident)|+>() $body:block )*) => {$(
        mod $name {
            use super::*;
            forms!(@each [$($kind)+] $S [$(#[$m])*] $body);
        }
    )*};
    (@each [] $S:ident [$($m:tt)*] $body:block) => {};
    (@each [$kind:ident $($rest:ident)*] $S:ident [$($m:tt)*] $body:block) => {
        mod $kind {
            use super::*;

            #[test]
            $($m)*
            #[allow(unused_macros, dead_code)]
            fn blocking() {
                type $S = forms!(@blocking $kind);
                fn new_sem(value: usize) -> $S {
                    if forms!(@fair $kind) { <$S>::new_fair(value) } else { <$S>::new(value) }
                }
                macro_rules! wait { ($e:expr) => { $e }; }
                macro_rules! spawn { ($b:block) => { std::thread::spawn(move || $b) }; }
                macro_rules! join { ($h:expr) => { join_thread($h) }; }
                macro_rules! join_panicked { ($h:expr) => { join_thread_panicked($h) }; }
                macro_rules! sleep { ($d:expr) => { std::thread::sleep($d) }; }
                $body
            }

            #[test]
            $($m)*
            #[allow(unused_macros, dead_code)]
            fn tasks() {
                type $S = forms!(@async $kind);
                fn new_sem(value: usize) -> $S {
                    if forms!(@fair $kind) { <$S>::new_fair(value) } else { <$S>::new(value) }
                }
                macro_rules! wait { ($e:expr) => { $e.await }; }
                macro_rules! spawn { ($b:block) => { tokio::spawn(async move $b) }; }
                macro_rules! join { ($h:expr) => { join_task($h).await }; }
                macro_rules! join_panicked { ($h:expr) => { join_task_panicked($h).await }; }
                macro_rules! sleep { ($d:expr) => { tokio::time::sleep($d).await }; }
                common::mt_runtime().block_on(async $body)
            }
        }
        forms!(@each [$($rest)*] $S [$($m)*] $body);
    };
    (@blocking semaphore) => { threading::blocking::Semaphore };
    (@blocking semaphore_fair) => { threading::blocking::Semaphore };
    (@blocking bounded) => { threading::blocking::BoundedSemaphore };
    (@blocking bounded_fair) => { threading::blocking::BoundedSemaphore };
    (@async semaphore) => { threading::Semaphore };
    (@async semaphore_fair) => { threading::Semaphore };
    (@async bounded) => { threading::BoundedSemaphore };
    (@async bounded_fair) => { threading::BoundedSemaphore };
    (@fair semaphore) => { false };
    (@fair semaphore_fair) => { true };
    (@fair bounded) => { false };
    (@fair bounded_fair) => { true };
}

// conformance: SB-1
// The value is a `usize`, so Python's negative initial values (ValueError) cannot be
// written at all. What can be written is a value above the most a semaphore holds
// (`usize::MAX / 2`): `new` panics on it when called at run time (in a `const`, it is a
// compile error).
/// A constructor under test, by name.
type Ctor = (&'static str, fn(usize));

#[test]
fn new_above_the_largest_count_panics() {
    let too_many = std::hint::black_box(usize::MAX / 2 + 1);
    let ctors: [Ctor; 8] = [
        ("Semaphore::new", |n| _ = Semaphore::new(n)),
        ("Semaphore::new_fair", |n| _ = Semaphore::new_fair(n)),
        ("BoundedSemaphore::new", |n| _ = BoundedSemaphore::new(n)),
        ("BoundedSemaphore::new_fair", |n| {
            _ = BoundedSemaphore::new_fair(n)
        }),
        ("blocking::Semaphore::new", |n| {
            _ = threading::blocking::Semaphore::new(n)
        }),
        ("blocking::Semaphore::new_fair", |n| {
            _ = threading::blocking::Semaphore::new_fair(n)
        }),
        ("blocking::BoundedSemaphore::new", |n| {
            _ = threading::blocking::BoundedSemaphore::new(n)
        }),
        ("blocking::BoundedSemaphore::new_fair", |n| {
            _ = threading::blocking::BoundedSemaphore::new_fair(n)
        }),
    ];
    for (name, ctor) in ctors {
        assert!(
            std::panic::catch_unwind(|| ctor(too_many)).is_err(),
            "{name}({too_many}) did not panic"
        );
        // The largest count itself is accepted.
        ctor(std::hint::black_box(usize::MAX / 2));
    }
}

forms! {
    // conformance: SB-2, A-18
    fn zero_initial_value_blocks_until_a_release<Sem: semaphore | semaphore_fair>() {
        let sem = Arc::new(new_sem(0));
        assert_eq!(sem.value(), 0);
        assert!(sem.locked());
        assert!(sem.try_acquire().is_none());
        let s = sem.clone();
        let h = spawn!({
            wait!(s.acquire()).forget();
        });
        wait_until(|| queued_digits(&sem) == 1);
        assert!(!h.is_finished());
        assert!(sem.locked());
        sem.release(1).unwrap();
        join!(h);
        assert_eq!(sem.value(), 0);
        assert_eq!(queued_digits(&sem), 0);
    }

    // conformance: SB-3
    fn default_value_is_one_and_a_second_acquire_waits<Sem: semaphore | bounded>() {
        let sem = Arc::new(<Sem>::default());
        assert_eq!(sem.value(), 1);
        let first = wait!(sem.acquire());
        let s = sem.clone();
        let h = spawn!({
            let _second = wait!(s.acquire());
        });
        wait_until(|| queued_digits(&sem) == 1);
        assert!(!h.is_finished(), "the second acquire did not wait");
        drop(first);
        join!(h);
        assert_eq!(sem.value(), 1);
    }

    // conformance: SB-4
    fn value_v_allows_v_acquires_without_waiting<Sem: semaphore | semaphore_fair | bounded | bounded_fair>() {
        for v in [1, 2] {
            let sem = Arc::new(new_sem(v));
            let s = sem.clone();
            // If an acquire waited, nobody would release: the bounded join fails.
            let h = spawn!({
                let mut held = Vec::new();
                for _ in 0..v {
                    held.push(wait!(s.acquire()));
                }
                assert_eq!(s.value(), 0);
                assert!(s.try_acquire().is_none());
                drop(held);
                assert_eq!(s.value(), v);
                // Balanced explicit releases restore the value too.
                for _ in 0..v {
                    wait!(s.acquire()).forget();
                }
                assert_eq!(s.value(), 0);
                for _ in 0..v {
                    s.release(1).unwrap();
                }
            });
            join!(h);
            assert_eq!(sem.value(), v);
        }
    }

    // conformance: SB-5
    fn dropped_while_permits_are_out<Sem: semaphore | semaphore_fair | bounded | bounded_fair>() {
        let sem = Box::new(new_sem(2));
        wait!(sem.acquire()).forget();
        wait!(sem.acquire()).forget();
        assert_eq!(sem.value(), 0);
        drop(sem); // frees it, with two permits out
        let sem = Arc::new(new_sem(1));
        let permit = wait!(sem.acquire_owned());
        drop(sem); // the owned permit keeps the state alive
        drop(permit);
    }

    // conformance: SB-6, SB-17, SB-15
    fn contended_acquires_are_counted_exactly<Sem: semaphore | semaphore_fair | bounded | bounded_fair>() {
        let sem = Arc::new(new_sem(7));
        let held = wait!(sem.acquire());
        let acquired = Arc::new(AtomicUsize::new(0));
        let done = Arc::new(AtomicUsize::new(0));
        let mut workers = Vec::new();
        for _ in 0..10 {
            let (s, a, d) = (sem.clone(), acquired.clone(), done.clone());
            workers.push(spawn!({
                for _ in 0..2 {
                    // SB-17: a plain acquire() always comes back with a permit.
                    wait!(s.acquire()).forget();
                    a.fetch_add(1, SeqCst);
                }
                d.fetch_add(1, SeqCst);
            }));
        }
        // Settled: `k` acquisitions made, no free permit, every unfinished worker queued.
        let settled = |k: usize| {
            acquired.load(SeqCst) == k
                && sem.value() == 0
                && queued_digits(&sem) == 10 - done.load(SeqCst)
        };
        wait_until(|| settled(6));
        for _ in 0..7 {
            sem.release(1).unwrap();
        }
        wait_until(|| settled(13));
        for _ in 0..6 {
            sem.release(1).unwrap();
        }
        wait_until(|| settled(19));
        assert!(sem.try_acquire().is_none());
        assert_eq!(acquired.load(SeqCst), 19);
        sem.release(1).unwrap();
        for w in workers {
            join!(w);
        }
        assert_eq!(acquired.load(SeqCst), 20);
        drop(held);
        assert_eq!(sem.value(), 1);
    }

    // conformance: SB-7, SB-17
    fn release_n_admits_exactly_n_waiters<Sem: semaphore | semaphore_fair | bounded | bounded_fair>() {
        let sem = Arc::new(new_sem(7));
        let held = wait!(sem.acquire());
        let acquired = Arc::new(AtomicUsize::new(0));
        let done = Arc::new(AtomicUsize::new(0));
        let mut workers = Vec::new();
        for _ in 0..10 {
            let (s, a, d) = (sem.clone(), acquired.clone(), done.clone());
            workers.push(spawn!({
                for _ in 0..2 {
                    wait!(s.acquire()).forget();
                    a.fetch_add(1, SeqCst);
                }
                d.fetch_add(1, SeqCst);
            }));
        }
        let settled = |k: usize| {
            acquired.load(SeqCst) == k
                && sem.value() == 0
                && queued_digits(&sem) == 10 - done.load(SeqCst)
        };
        wait_until(|| settled(6));
        sem.release(7).unwrap();
        wait_until(|| settled(13));
        sem.release(6).unwrap();
        wait_until(|| settled(19));
        assert!(sem.try_acquire().is_none());
        sem.release(1).unwrap();
        for w in workers {
            join!(w);
        }
        assert_eq!(acquired.load(SeqCst), 20);
        drop(held);
        assert_eq!(sem.value(), 1);
    }

    // conformance: SB-8
    fn try_acquire_succeeds_only_while_the_value_is_above_zero<Sem: semaphore | semaphore_fair | bounded | bounded_fair>() {
        let sem = new_sem(2);
        let a = sem.try_acquire().expect("value 2");
        assert_eq!(sem.value(), 1);
        let b = sem.try_acquire().expect("value 1");
        assert_eq!(sem.value(), 0);
        assert!(sem.try_acquire().is_none());
        assert_eq!(sem.value(), 0);
        drop(a);
        let c = sem.try_acquire().expect("value 1 after a release");
        assert!(sem.try_acquire().is_none());
        drop((b, c));
        assert_eq!(sem.value(), 2);
    }

    // conformance: SB-9
    fn concurrent_try_acquires_are_counted_exactly<Sem: semaphore | semaphore_fair | bounded | bounded_fair>() {
        let sem = Arc::new(new_sem(4));
        let held = sem.try_acquire().unwrap();
        let mut workers = Vec::new();
        for _ in 0..5 {
            let s = sem.clone();
            workers.push(spawn!({
                let mut results = Vec::new();
                for _ in 0..2 {
                    results.push(s.try_acquire().map(|p| p.forget()).is_some());
                }
                results
            }));
        }
        let mut results = Vec::new();
        for w in workers {
            results.extend(join!(w));
        }
        assert_eq!(results.iter().filter(|&&ok| ok).count(), 3, "{results:?}");
        assert_eq!(results.iter().filter(|&&ok| !ok).count(), 7, "{results:?}");
        assert_eq!(sem.value(), 0);
        drop(held);
    }

    // conformance: SB-10, SB-11, TO-7
    // SB-10 (Python's ValueError for `acquire(blocking=False, timeout=t)`) cannot be
    // written: a try is `try_acquire()`, which takes no timeout, and a timed wait is
    // `acquire_timeout(d)`, two separate methods.
    fn acquire_timeout_takes_a_free_permit_at_once<Sem: semaphore | semaphore_fair | bounded | bounded_fair>() {
        let sem = new_sem(2);
        let start = Instant::now();
        // A timeout far above LATE: waiting it out would fail the check below.
        let a = wait!(sem.acquire_timeout(Duration::from_secs(60))).expect("a free permit");
        let b = wait!(sem.acquire_timeout(Duration::from_millis(5))).expect("a free permit");
        assert_quick(start, LATE);
        assert_eq!(sem.value(), 0);
        let start = Instant::now();
        assert!(wait!(sem.acquire_timeout(SHORT)).is_none());
        assert_timed_out_in_time(start, SHORT);
        drop(a);
        let start = Instant::now();
        let c = wait!(sem.acquire_timeout(Duration::from_secs(60))).expect("released permit");
        assert_quick(start, LATE);
        drop((b, c));
        assert_eq!(sem.value(), 2);
    }

    // conformance: SB-12, TO-6, TO-9
    // Timed out waits are measured here on `std::time::Instant`, the monotonic clock.
    fn acquire_timeout_without_permits_fails_never_early<Sem: semaphore | semaphore_fair | bounded | bounded_fair>() {
        let sem = Arc::new(new_sem(1));
        let held = wait!(sem.acquire());
        let mut workers = Vec::new();
        for _ in 0..5 {
            let s = sem.clone();
            workers.push(spawn!({
                let start = Instant::now();
                let got = wait!(s.acquire_timeout(SHORT)).is_some();
                (got, start)
            }));
        }
        for w in workers {
            let (got, start) = join!(w);
            assert!(!got, "no permit was ever free");
            assert_timed_out_in_time(start, SHORT);
        }
        // The timed-out waiters left nothing behind.
        assert_eq!(queued_digits(&sem), 0);
        drop(held);
        assert_eq!(sem.value(), 1);
        assert!(sem.try_acquire().is_some());
    }

    // conformance: SB-13
    fn nested_guard_scopes_give_their_permits_back<Sem: semaphore | semaphore_fair | bounded | bounded_fair>() {
        let sem = new_sem(2);
        {
            let _outer = wait!(sem.acquire());
            assert_eq!(sem.value(), 1);
            {
                let _inner = wait!(sem.acquire());
                assert_eq!(sem.value(), 0);
                assert!(sem.try_acquire().is_none());
            }
            assert_eq!(sem.value(), 1);
        }
        assert_eq!(sem.value(), 2);
    }

    // conformance: SB-13
    fn a_panic_while_holding_a_permit_gives_it_back<Sem: semaphore | semaphore_fair | bounded | bounded_fair>() {
        let sem = Arc::new(new_sem(2));
        let s = sem.clone();
        let h = spawn!({
            let _p = wait!(s.acquire());
            assert_eq!(s.value(), 1);
            panic!("panic while holding a permit");
        });
        join_panicked!(h);
        assert_eq!(sem.value(), 2);
        let s = sem.clone();
        let h = spawn!({
            let _p = wait!(s.acquire_owned());
            let _q = wait!(s.acquire());
            panic!("panic while holding an owned permit and a permit");
        });
        join_panicked!(h);
        assert_eq!(sem.value(), 2);
        // Nothing is stuck: both permits can be taken again, by someone else.
        let s = sem.clone();
        join!(spawn!({
            let _a = wait!(s.acquire());
            let _b = wait!(s.acquire());
        }));
    }

    // conformance: SB-14
    fn release_zero_is_an_error_and_changes_nothing<Sem: semaphore | semaphore_fair | bounded | bounded_fair>() {
        let sem = Arc::new(new_sem(1));
        assert_eq!(sem.release(0), Err(SemaphoreReleaseError::ZeroPermits));
        assert_eq!(sem.value(), 1);
        assert!(!SemaphoreReleaseError::ZeroPermits.to_string().is_empty());
        // Also with a waiter queued, where a release would hand permits over.
        let held = wait!(sem.acquire());
        let s = sem.clone();
        let h = spawn!({
            wait!(s.acquire()).forget();
        });
        wait_until(|| queued_digits(&sem) == 1);
        assert_eq!(sem.release(0), Err(SemaphoreReleaseError::ZeroPermits));
        assert_eq!(sem.value(), 0);
        assert_eq!(queued_digits(&sem), 1);
        assert!(!h.is_finished());
        drop(held);
        join!(h);
        assert_eq!(sem.value(), 0);
    }

    // conformance: SB-15
    fn each_single_release_wakes_exactly_one_waiter<Sem: semaphore | semaphore_fair | bounded | bounded_fair>() {
        let sem = Arc::new(new_sem(5));
        for _ in 0..5 {
            wait!(sem.acquire()).forget();
        }
        let woken = Arc::new(AtomicUsize::new(0));
        let mut workers = Vec::new();
        for _ in 0..5 {
            let (s, w) = (sem.clone(), woken.clone());
            workers.push(spawn!({
                wait!(s.acquire()).forget();
                w.fetch_add(1, SeqCst);
            }));
        }
        wait_until(|| queued_digits(&sem) == 5);
        for i in 1..=5 {
            sem.release(1).unwrap();
            wait_until(|| woken.load(SeqCst) >= i && sem.value() == 0 && queued_digits(&sem) == 5 - i);
            assert_eq!(woken.load(SeqCst), i, "one release let more than one waiter in");
        }
        for w in workers {
            join!(w);
        }
    }

    // conformance: SB-16, TO-5
    // A `Duration` cannot be negative, so Python's `timeout=-1` has no Rust spelling; the
    // zero timeout is the one "timeout <= 0" there is.
    fn zero_timeout_is_a_single_try<Sem: semaphore | semaphore_fair | bounded | bounded_fair>() {
        let sem = Arc::new(new_sem(1));
        let p = wait!(sem.acquire_timeout(Duration::ZERO)).expect("one free permit");
        assert_eq!(sem.value(), 0);
        // With no permit, nobody ever releases: a zero timeout that waited would not end.
        let s = sem.clone();
        let h = spawn!({
            wait!(s.acquire_timeout(Duration::ZERO)).is_some()
        });
        assert!(!join!(h));
        assert_eq!(queued_digits(&sem), 0);
        drop(p);
        assert_eq!(sem.value(), 1);
    }

    // conformance: TO-1
    // `acquire()` has no timeout and waits as long as it takes. A timeout too large to be a
    // deadline (`Duration::MAX`, anything above `TIMEOUT_MAX`) also waits forever: no panic,
    // no early `None`; `TIMEOUT_MAX` itself takes a free permit at once.
    fn huge_timeouts_wait_forever<Sem: semaphore | semaphore_fair | bounded | bounded_fair>() {
        let sem = Arc::new(new_sem(1));
        let start = Instant::now();
        let held = wait!(sem.acquire_timeout(TIMEOUT_MAX)).expect("a free permit");
        assert_quick(start, LATE);
        for timeout in [Duration::MAX, TIMEOUT_MAX + Duration::from_secs(1), TIMEOUT_MAX] {
            let s = sem.clone();
            let h = spawn!({
                wait!(s.acquire_timeout(timeout)).map(|p| p.forget()).is_some()
            });
            wait_until(|| queued_digits(&sem) == 1);
            assert!(!h.is_finished(), "a {timeout:?} wait returned early");
            sem.release(1).unwrap();
            assert!(join!(h), "a {timeout:?} wait gave up");
        }
        let s = sem.clone();
        let h = spawn!({
            wait!(s.acquire()).forget();
        });
        wait_until(|| queued_digits(&sem) == 1);
        sem.release(1).unwrap();
        join!(h);
        drop(held);
    }

    // conformance: TO-8
    // A waiter of a default (barging) semaphore is woken by each release but may find the
    // permit taken by a newcomer. However many times that happens, its total wait stays
    // bounded by the deadline fixed at the call. The thief keeps going (bounded by count,
    // for far longer than `SHORT + LATE`) until the waiter returns, so a wait that
    // restarted its timeout on each wake-up would fail the "not too late" check.
    fn stolen_releases_do_not_extend_a_timed_wait<Sem: semaphore | bounded>() {
        let sem = Arc::new(new_sem(1));
        wait!(sem.acquire()).forget();
        let s = sem.clone();
        let h = spawn!({
            let start = Instant::now();
            let got = wait!(s.acquire_timeout(SHORT)).map(|p| p.forget()).is_some();
            (got, start)
        });
        wait_until(|| queued_digits(&sem) == 1 || h.is_finished());
        let mut steals = 0;
        for _ in 0..4000 {
            if h.is_finished() {
                break;
            }
            let _ = sem.release(1);
            if let Some(p) = sem.try_acquire() {
                p.forget();
                steals += 1;
            }
            sleep!(Duration::from_millis(2));
        }
        let (got, start) = join!(h);
        let elapsed = start.elapsed();
        if !got {
            assert_timed_out_in_time(start, SHORT);
        }
        assert!(
            elapsed < SHORT + LATE,
            "waited {elapsed:?} (got a permit: {got}, {steals} releases stolen)"
        );
    }

    // conformance: S-1
    fn release_above_the_initial_value_raises_the_count<Sem: semaphore | semaphore_fair>() {
        let sem = Arc::new(new_sem(1));
        sem.release(1).unwrap();
        assert_eq!(sem.value(), 2);
        let s = sem.clone();
        // Both acquires succeed without anyone releasing (the join is bounded).
        join!(spawn!({
            wait!(s.acquire()).forget();
            wait!(s.acquire()).forget();
        }));
        assert_eq!(sem.value(), 0);
    }

    // conformance: S-2
    fn debug_shows_the_value<Sem: semaphore | semaphore_fair>() {
        let sem = new_sem(3);
        assert!(format!("{sem:?}").contains(" value=3 "), "{sem:?}");
        assert!(format!("{sem:?}").contains("Semaphore"), "{sem:?}");
        let p = wait!(sem.acquire());
        assert!(format!("{sem:?}").contains(" value=2 "), "{sem:?}");
        p.forget();
        sem.release(1).unwrap();
        assert!(format!("{sem:?}").contains(" value=3 "), "{sem:?}");
        sem.release(1).unwrap();
        assert!(format!("{sem:?}").contains(" value=4 "), "{sem:?}");
        assert_eq!(queued_digits(&sem), 0);
    }

    // conformance: BS-1, A-21
    fn release_at_the_initial_value_is_an_error<Sem: bounded | bounded_fair>() {
        let sem = new_sem(1);
        let above = Err(SemaphoreReleaseError::AboveInitial { value: 1, initial: 1, n: 1 });
        assert_eq!(sem.release(1), above);
        assert_eq!(sem.value(), 1);
        drop(wait!(sem.acquire()));
        assert_eq!(sem.release(1), above);
        assert_eq!(sem.value(), 1);
        wait!(sem.acquire()).forget();
        assert_eq!(sem.release(1), Ok(()));
        assert_eq!(sem.release(1), above);
        assert_eq!(sem.value(), 1);
        // A bound of zero refuses every release.
        let zero = new_sem(0);
        assert_eq!(
            zero.release(1),
            Err(SemaphoreReleaseError::AboveInitial { value: 0, initial: 0, n: 1 })
        );
        assert_eq!(zero.value(), 0);
    }

    // conformance: BS-2
    fn any_worker_may_release_up_to_the_bound<Sem: bounded | bounded_fair>() {
        for limit in 1..=9 {
            let sem = Arc::new(new_sem(limit));
            let acquirers: Vec<_> = (0..limit)
                .map(|_| {
                    let s = sem.clone();
                    spawn!({
                        wait!(s.acquire()).forget();
                    })
                })
                .collect();
            for a in acquirers {
                join!(a);
            }
            assert_eq!(sem.value(), 0);
            let releasers: Vec<_> = (0..limit)
                .map(|_| {
                    let s = sem.clone();
                    spawn!({ s.release(1) })
                })
                .collect();
            for r in releasers {
                assert_eq!(join!(r), Ok(()));
            }
            assert_eq!(sem.value(), limit);
            assert!(matches!(
                sem.release(1),
                Err(SemaphoreReleaseError::AboveInitial { .. })
            ));
            assert_eq!(sem.value(), limit);
        }
    }

    // conformance: BS-3
    fn release_n_past_the_initial_value_changes_nothing<Sem: bounded | bounded_fair>() {
        let sem = Arc::new(new_sem(2));
        wait!(sem.acquire()).forget();
        assert_eq!(
            sem.release(2),
            Err(SemaphoreReleaseError::AboveInitial { value: 1, initial: 2, n: 2 })
        );
        assert_eq!(sem.value(), 1, "a failed release(2) must not release one");
        // Also with a waiter queued (the hand-off path): nothing is handed over.
        wait!(sem.acquire()).forget();
        let s = sem.clone();
        let h = spawn!({
            wait!(s.acquire()).forget();
        });
        wait_until(|| queued_digits(&sem) == 1);
        assert_eq!(
            sem.release(3),
            Err(SemaphoreReleaseError::AboveInitial { value: 0, initial: 2, n: 3 })
        );
        assert_eq!(sem.value(), 0);
        assert_eq!(queued_digits(&sem), 1);
        assert!(!h.is_finished());
        sem.release(2).unwrap();
        join!(h);
        assert_eq!(sem.value(), 1);
    }

    // conformance: BS-4
    fn debug_shows_value_over_initial<Sem: bounded | bounded_fair>() {
        let sem = new_sem(3);
        assert!(format!("{sem:?}").contains(" value=3/3 "), "{sem:?}");
        assert!(format!("{sem:?}").contains("BoundedSemaphore"), "{sem:?}");
        let p = wait!(sem.acquire());
        assert!(format!("{sem:?}").contains(" value=2/3 "), "{sem:?}");
        drop(p);
        assert!(format!("{sem:?}").contains(" value=3/3 "), "{sem:?}");
    }

    // conformance: BS-5
    fn bound_caps_how_many_are_inside_at_once<Sem: bounded | bounded_fair>() {
        let sem = Arc::new(new_sem(3));
        let inside = Arc::new(AtomicUsize::new(0));
        let most = Arc::new(AtomicUsize::new(0));
        let workers: Vec<_> = (0..10)
            .map(|_| {
                let (s, i, m) = (sem.clone(), inside.clone(), most.clone());
                spawn!({
                    for _ in 0..10 {
                        let _p = wait!(s.acquire());
                        let now = i.fetch_add(1, SeqCst) + 1;
                        m.fetch_max(now, SeqCst);
                        sleep!(Duration::from_micros(200));
                        i.fetch_sub(1, SeqCst);
                    }
                })
            })
            .collect();
        for w in workers {
            join!(w);
        }
        let most = most.load(SeqCst);
        assert!((1..=3).contains(&most), "{most} inside at once");
        assert_eq!(sem.value(), 3);
    }

    // A forgotten permit stays taken until someone releases it.
    fn forget_keeps_the_permit_until_released<Sem: semaphore | semaphore_fair | bounded | bounded_fair>() {
        let sem = Arc::new(new_sem(2));
        wait!(sem.acquire()).forget();
        assert_eq!(sem.value(), 1);
        wait!(sem.acquire_owned()).forget();
        assert_eq!(sem.value(), 0);
        assert!(sem.try_acquire().is_none());
        sem.release(2).unwrap();
        assert_eq!(sem.value(), 2);
        // A forgotten owned guard does not keep the semaphore alive either.
        assert_eq!(Arc::strong_count(&sem), 1);
    }

    // An owned permit moves into another worker and is given back there, waking a waiter.
    fn owned_permit_moves_to_another_worker<Sem: semaphore | semaphore_fair | bounded | bounded_fair>() {
        let sem = Arc::new(new_sem(1));
        let permit = wait!(sem.acquire_owned());
        assert_eq!(sem.value(), 0);
        let s = sem.clone();
        let waiter = spawn!({
            wait!(s.acquire()).forget();
        });
        wait_until(|| queued_digits(&sem) == 1);
        assert!(!waiter.is_finished());
        // The permit is given back by the worker it moved into.
        let holder = spawn!({
            drop(permit);
        });
        join!(holder);
        join!(waiter);
        assert_eq!(sem.value(), 0);
        assert_eq!(Arc::strong_count(&sem), 1);
    }

    // A permit taken by one worker may be released by another (Python has no owner).
    fn release_by_another_worker_wakes_a_waiter<Sem: semaphore | semaphore_fair | bounded | bounded_fair>() {
        let sem = Arc::new(new_sem(1));
        let s = sem.clone();
        join!(spawn!({
            wait!(s.acquire()).forget();
        }));
        let s = sem.clone();
        let waiter = spawn!({
            wait!(s.acquire()).forget();
        });
        wait_until(|| queued_digits(&sem) == 1);
        let s = sem.clone();
        join!(spawn!({ s.release(1).unwrap() }));
        join!(waiter);
        assert_eq!(sem.value(), 0);
    }

    // conformance: A-19
    // Fair semaphores hand permits over in arrival order, in both forms.
    fn fair_waiters_are_served_in_arrival_order<Sem: semaphore_fair | bounded_fair>() {
        let sem = Arc::new(new_sem(5));
        for _ in 0..5 {
            wait!(sem.acquire()).forget();
        }
        let order = Arc::new(Mutex::new(Vec::new()));
        let mut workers = Vec::new();
        for i in 0..5 {
            let (s, o) = (sem.clone(), order.clone());
            workers.push(spawn!({
                wait!(s.acquire()).forget();
                o.lock().unwrap().push(i);
            }));
            wait_until(|| queued_digits(&sem) == i + 1);
        }
        for i in 1..=5 {
            sem.release(1).unwrap();
            // The permit went straight to a waiter: no newcomer can take it.
            assert!(sem.try_acquire().is_none());
            wait_until(|| order.lock().unwrap().len() == i);
        }
        for w in workers {
            join!(w);
        }
        assert_eq!(*order.lock().unwrap(), [0, 1, 2, 3, 4]);
    }
}

// conformance: A-18
// asyncio's `Semaphore` has no try/timeout arguments and its `release()` takes no n; the
// crate keeps threading's fuller API on the async form too. `locked()` is true while the
// value is 0 or a waiter (not dropped) is queued.
#[tokio::test]
async fn async_locked_counts_the_value_and_queued_waiters() {
    let sem = Semaphore::new(0);
    assert!(sem.locked());
    sem.release(1).unwrap();
    assert!(!sem.locked());
    let p = sem.acquire().await;
    assert!(sem.locked());
    drop(p);
    assert!(!sem.locked());

    for sem in [Semaphore::new(0), Semaphore::new_fair(0)] {
        let mut waiter = Box::pin(sem.acquire());
        assert!(poll!(waiter.as_mut()).is_pending());
        assert_eq!(queued_digits(&sem), 1);
        assert!(sem.locked());
        drop(waiter); // cancelled: no longer queued
        assert_eq!(queued_digits(&sem), 0);
        assert!(sem.locked(), "still no free permit");
        sem.release(1).unwrap();
        assert!(!sem.locked());
        assert_eq!(sem.value(), 1);
    }

    // On a fair semaphore a release goes straight to the queued waiter: still locked.
    let sem = Semaphore::new_fair(0);
    let mut waiter = Box::pin(sem.acquire());
    assert!(poll!(waiter.as_mut()).is_pending());
    sem.release(1).unwrap();
    assert_eq!(sem.value(), 0);
    assert!(sem.locked());
    let Poll::Ready(p) = poll!(waiter.as_mut()) else {
        panic!("the queued waiter was not handed the permit")
    };
    drop(p);
    assert!(!sem.locked());
}

// conformance: A-19
// `new_fair`: a release hands its permit straight to the first waiter, so the value stays 0
// and a newcomer can neither try nor queue past it; waiters are served in arrival order,
// and a release of several permits serves that many waiters in order.
#[tokio::test]
async fn fair_release_hands_the_permit_to_the_first_waiter() {
    let sem = Semaphore::new_fair(0);
    let mut a = Box::pin(sem.acquire());
    let mut b = Box::pin(sem.acquire_timeout(LATE));
    let mut c = Box::pin(sem.acquire());
    assert!(poll!(a.as_mut()).is_pending());
    assert!(poll!(b.as_mut()).is_pending());
    assert!(poll!(c.as_mut()).is_pending());
    assert_eq!(queued_digits(&sem), 3);

    sem.release(1).unwrap();
    assert_eq!(sem.value(), 0);
    assert!(sem.locked());
    assert!(
        sem.try_acquire().is_none(),
        "a newcomer took a handed-off permit"
    );
    let mut newcomer = Box::pin(sem.acquire());
    assert!(poll!(newcomer.as_mut()).is_pending());
    // Polled out of order: only the first in line has a permit.
    assert!(poll!(c.as_mut()).is_pending());
    assert!(poll!(b.as_mut()).is_pending());
    let Poll::Ready(pa) = poll!(a.as_mut()) else {
        panic!("the first waiter was not served first")
    };

    sem.release(2).unwrap();
    assert_eq!(sem.value(), 0);
    assert!(poll!(newcomer.as_mut()).is_pending());
    let Poll::Ready(Some(pb)) = poll!(b.as_mut()) else {
        panic!("the second waiter was not served")
    };
    let Poll::Ready(pc) = poll!(c.as_mut()) else {
        panic!("the third waiter was not served")
    };
    assert!(poll!(newcomer.as_mut()).is_pending());

    drop(pa);
    let Poll::Ready(pn) = poll!(newcomer.as_mut()) else {
        panic!("the newcomer was not served after the others")
    };
    drop((pb, pc, pn));
    assert_eq!(sem.value(), 3);
}

// conformance: A-19
// Real tasks, queued one after another on a fair semaphore, acquire in arrival order.
#[test]
fn fair_tasks_acquire_in_arrival_order() {
    let rt = common::mt_runtime();
    let sem = Arc::new(Semaphore::new_fair(0));
    let order = Arc::new(Mutex::new(Vec::new()));
    let mut tasks = Vec::new();
    for i in 0..8 {
        let (s, o) = (sem.clone(), order.clone());
        tasks.push(rt.spawn(async move {
            let _p = s.acquire().await;
            o.lock().unwrap().push(i);
        }));
        wait_until(|| queued_digits(&sem) == i + 1);
    }
    // Each task gives its permit back when done, which hands it to the next in line.
    sem.release(1).unwrap();
    rt.block_on(async {
        for t in tasks {
            join_task(t).await;
        }
    });
    assert_eq!(*order.lock().unwrap(), (0..8).collect::<Vec<_>>());
    assert_eq!(sem.value(), 1);
}

/// A-20 on both policies: a fair semaphore grants the dropped waiter the permit, a
/// default one wakes it to take the permit; either way the next waiter must get it.
fn both_policies() -> [Semaphore; 2] {
    [Semaphore::new(0), Semaphore::new_fair(0)]
}

// conformance: A-20
// A waiter that was handed a permit (or woken for one) and is then dropped before it runs
// gives the permit back, and the next waiter gets it.
#[tokio::test]
async fn dropped_waiter_that_was_handed_a_permit_passes_it_on() {
    for sem in both_policies() {
        let mut a = Box::pin(sem.acquire());
        let mut b = Box::pin(sem.acquire_timeout(LATE));
        let mut c = Box::pin(sem.acquire());
        assert!(poll!(a.as_mut()).is_pending());
        assert!(poll!(b.as_mut()).is_pending());
        assert!(poll!(c.as_mut()).is_pending());
        sem.release(1).unwrap();
        drop(a); // the permit was meant for `a`
        let Poll::Ready(Some(pb)) = poll!(b.as_mut()) else {
            panic!("{sem:?}: the permit of the dropped waiter was stranded")
        };
        assert!(poll!(c.as_mut()).is_pending());
        assert_eq!(sem.value(), 0);
        drop(pb);
        let Poll::Ready(pc) = poll!(c.as_mut()) else {
            panic!("{sem:?}: the last waiter was not served")
        };
        drop(pc);
        assert_eq!(sem.value(), 1);
        assert_eq!(queued_digits(&sem), 0);
    }
}

// conformance: A-20
// Two dropped waiters and one release: exactly one of the remaining waiters runs, the
// first in line; whether the drops come before the release or after it.
#[tokio::test]
async fn two_dropped_waiters_and_one_release_serve_the_first_remaining() {
    for drop_after_release in [false, true] {
        for sem in both_policies() {
            let mut w: Vec<_> = (0..4).map(|_| Box::pin(sem.acquire())).collect();
            for f in &mut w {
                assert!(poll!(f.as_mut()).is_pending());
            }
            assert_eq!(queued_digits(&sem), 4);
            let mut rest = w.split_off(2);
            if drop_after_release {
                sem.release(1).unwrap();
                drop(w);
            } else {
                drop(w);
                assert_eq!(queued_digits(&sem), 2);
                sem.release(1).unwrap();
            }
            let (c, d) = rest.split_at_mut(1);
            let Poll::Ready(pc) = poll!(c[0].as_mut()) else {
                panic!("{sem:?} (drops after release: {drop_after_release}): first remaining waiter not served")
            };
            assert!(
                poll!(d[0].as_mut()).is_pending(),
                "one release served two waiters"
            );
            assert_eq!(sem.value(), 0);
            drop(pc);
            assert!(poll!(d[0].as_mut()).is_ready());
        }
    }
}

// conformance: A-20
// Waits cancelled by `tokio::time::timeout` and `select!` leave nothing queued, and never
// cause a hang: a later release goes to the count or to a live waiter.
#[test]
fn cancelled_waits_never_cause_a_hang() {
    let rt = common::mt_runtime();
    for sem in both_policies() {
        let sem = Arc::new(sem);
        rt.block_on(async {
            assert!(
                tokio::time::timeout(Duration::from_millis(20), sem.acquire())
                    .await
                    .is_err()
            );
            assert_eq!(queued_digits(&*sem), 0);
            tokio::select! {
                _ = sem.acquire() => panic!("no permit was free"),
                _ = tokio::task::yield_now() => {}
            }
            assert_eq!(queued_digits(&*sem), 0);
        });
        // A live waiter task and several tasks that give up.
        let s = sem.clone();
        let live = rt.spawn(async move { s.acquire().await.forget() });
        wait_until(|| queued_digits(&*sem) == 1);
        let quitters: Vec<_> = (0..4)
            .map(|_| {
                let s = sem.clone();
                rt.spawn(async move {
                    tokio::time::timeout(Duration::from_millis(10), s.acquire())
                        .await
                        .is_err()
                })
            })
            .collect();
        rt.block_on(async {
            for q in quitters {
                assert!(join_task(q).await);
            }
        });
        sem.release(1).unwrap();
        rt.block_on(join_task(live));
        assert_eq!(sem.value(), 0);
        assert_eq!(queued_digits(&*sem), 0);
        sem.release(1).unwrap();
        assert_eq!(sem.value(), 1);
    }
}

// An owned permit of the async form moves into a spawned task; one of the blocking form
// (the same `Arc`, converted for free) moves to a plain thread, and a task waits for it.
#[test]
fn owned_permits_cross_between_forms() {
    let rt = common::mt_runtime();
    let sem = Arc::new(Semaphore::new(1));
    let permit = rt.block_on(sem.acquire_owned());
    rt.block_on(async move {
        tokio::spawn(async move { drop(permit) }).await.unwrap();
    });
    assert_eq!(sem.value(), 1);

    let blocking = sem.clone().into_blocking();
    let permit = blocking.acquire_owned();
    let s = sem.clone();
    let waiter = rt.spawn(async move { s.acquire_owned().await });
    wait_until(|| queued_digits(&*sem) == 1);
    std::thread::spawn(move || drop(permit)).join().unwrap();
    let permit = rt.block_on(join_task(waiter));
    assert_eq!(sem.value(), 0);
    drop(permit);
    assert_eq!(sem.value(), 1);
    let back: Arc<Semaphore> = blocking.into_async();
    assert!(Arc::ptr_eq(&back, &sem));
}

// conformance: TO-8
// Blocking form: spurious wake-ups (unparks of the waiting thread) do not extend a timed
// wait. The waker keeps unparking for far longer than `SHORT + LATE` unless the wait ends,
// so a wait that restarted its timeout on each wake-up would fail.
#[test]
fn spurious_unparks_do_not_extend_a_blocking_timed_wait() {
    let sem = Arc::new(threading::blocking::Semaphore::new(0));
    let s = sem.clone();
    let h = std::thread::spawn(move || {
        let start = Instant::now();
        let got = s.acquire_timeout(SHORT).is_some();
        (got, start)
    });
    wait_until(|| queued_digits(&*sem) == 1);
    let thread = h.thread().clone();
    for _ in 0..3000 {
        if h.is_finished() {
            break;
        }
        thread.unpark();
        std::thread::sleep(Duration::from_millis(2));
    }
    let (got, start) = join_thread(h);
    assert!(!got);
    assert_timed_out_in_time(start, SHORT);
}

// conformance: TO-8
// Async form: the deadline is fixed when `acquire_timeout` is called, not when the future
// is first polled, and polling it again (spurious wake-ups) never moves it.
#[tokio::test(start_paused = true)]
async fn async_deadline_is_fixed_at_the_call() {
    for sem in both_policies() {
        let f = sem.acquire_timeout(SHORT);
        tokio::time::advance(SHORT).await;
        assert!(
            matches!(f.now_or_never(), Some(None)),
            "the deadline started at the first poll"
        );

        let mut f = pin!(sem.acquire_timeout(SHORT));
        let start = tokio::time::Instant::now();
        while start.elapsed() + Duration::from_millis(10) < SHORT {
            assert!(poll!(f.as_mut()).is_pending());
            tokio::time::advance(Duration::from_millis(10)).await;
        }
        assert!(poll!(f.as_mut()).is_pending());
        tokio::time::advance(SHORT - start.elapsed()).await;
        assert!(matches!(poll!(f.as_mut()), Poll::Ready(None)));
        assert_eq!(queued_digits(&sem), 0);
    }
}

// conformance: SB-16, TO-5
// Async form: a zero timeout is one try that resolves on the first poll, and never queues.
#[tokio::test]
async fn async_zero_timeout_resolves_on_the_first_poll() {
    for sem in both_policies() {
        assert!(matches!(
            sem.acquire_timeout(Duration::ZERO).now_or_never(),
            Some(None)
        ));
        assert_eq!(queued_digits(&sem), 0);
        sem.release(1).unwrap();
        let got = sem.acquire_timeout(Duration::ZERO).now_or_never();
        assert!(matches!(got, Some(Some(_))));
        drop(got);
        assert_eq!(sem.value(), 1);
    }
}

// conformance: TO-7
// Async form: a free permit is taken on the first poll, whatever the timeout.
#[tokio::test]
async fn async_acquire_with_a_free_permit_is_ready_on_the_first_poll() {
    let sem = BoundedSemaphore::new_fair(3);
    let a = sem.acquire().now_or_never().expect("ready at once");
    let b = sem
        .acquire_timeout(TIMEOUT_MAX)
        .now_or_never()
        .expect("ready at once")
        .expect("a permit");
    let arc = Arc::new(BoundedSemaphore::new(1));
    let c = arc.acquire_owned().now_or_never().expect("ready at once");
    drop((a, b, c));
    assert_eq!(sem.value(), 3);
}

// conformance: TO-9
// The async form times out on tokio's monotonic clock: with the clock paused, an hour's
// timeout runs out when the clock is advanced, not on any wall clock.
#[tokio::test(start_paused = true)]
async fn async_timeouts_follow_the_runtime_monotonic_clock() {
    let sem = BoundedSemaphore::new(1);
    let _held = sem.acquire().await;
    let wall = Instant::now();
    let start = tokio::time::Instant::now();
    let hour = Duration::from_secs(3600);
    assert!(sem.acquire_timeout(hour).await.is_none());
    assert!(start.elapsed() >= hour, "returned before its timeout");
    assert_quick(wall, LATE);
}
