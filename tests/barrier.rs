//! `Barrier`, both forms: the blocking form driven from plain threads, the async form from
//! tokio tasks (CONFORMANCE sections 0, 9 and 15).
//!
//! Most tests are written once in [`forms!`] and run in both forms. States that a party
//! passes through too quickly to see from outside (draining, resetting) are held open in
//! one of two ways: an action that blocks on a [`Gate`] the test opens (the round is
//! complete but not yet released), or async parties stepped by hand with `poll!` (notified
//! but not yet resumed, so still inside the barrier). Timing checks are exact for "never
//! early" and generous for "not too late".

mod common;
use common::{
    assert_quick, assert_timed_out_in_time, join_thread, mt_runtime, wait_until, wait_until_async,
    FOREVER, LATE, SHORT,
};

use std::error::Error;
use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::pin::{pin, Pin};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering::SeqCst};
use std::sync::{Arc, Condvar, Mutex};
use std::task::Poll;
use std::time::{Duration, Instant};

use futures::{poll, FutureExt};
use threading::{Barrier, BarrierPartiesError, BrokenBarrierError, TIMEOUT_MAX};

/// Time given to a party to arrive where its arrival cannot be observed (a thread blocked
/// while the barrier drains or resets is not counted anywhere). The assertions made after
/// it hold whether or not the party has arrived by then; the grace only makes it likely
/// that a wrong implementation is caught.
const GRACE: Duration = Duration::from_millis(20);

/// Who is running: the tokio task, or else the OS thread.
fn who() -> String {
    match tokio::task::try_id() {
        Some(id) => format!("task {id}"),
        None => format!("thread {:?}", std::thread::current().id()),
    }
}

fn debug(x: &impl std::fmt::Debug) -> String {
    format!("{x:?}")
}

/// Join a worker thread, at most `LATE` after the call; its value or its panic.
#[track_caller]
fn thread_outcome<T>(h: std::thread::JoinHandle<T>) -> std::thread::Result<T> {
    wait_until(|| h.is_finished());
    h.join()
}

/// Join a worker task, at most `LATE` after the call; re-raise its panic.
async fn join_task<T>(h: tokio::task::JoinHandle<T>) -> T {
    task_outcome(h)
        .await
        .unwrap_or_else(|p| std::panic::resume_unwind(p))
}

/// Join a worker task, at most `LATE` after the call; its value or its panic.
async fn task_outcome<T>(h: tokio::task::JoinHandle<T>) -> std::thread::Result<T> {
    match tokio::time::timeout(LATE, h).await {
        Err(_) => panic!("worker task did not finish within {LATE:?}"),
        Ok(Err(e)) if e.is_panic() => Err(e.into_panic()),
        Ok(Err(e)) => panic!("worker task failed: {e}"),
        Ok(Ok(v)) => Ok(v),
    }
}

/// The error a broken barrier gives (the type has no public constructor).
fn broken() -> BrokenBarrierError {
    let b = threading::blocking::Barrier::new(1).unwrap();
    b.abort();
    b.wait().unwrap_err()
}

/// The panic message of a caught panic.
fn panic_message(p: &(dyn std::any::Any + Send)) -> String {
    if let Some(s) = p.downcast_ref::<&str>() {
        s.to_string()
    } else if let Some(s) = p.downcast_ref::<String>() {
        s.clone()
    } else {
        "<not a string>".to_string()
    }
}

/// A one-shot gate, built on std alone (not on the crate under test): `pass` blocks until
/// `open`. An action that passes it holds its round "complete but not released" for as
/// long as the test wants. Bounded: a gate never opened fails the test after `2 * LATE`.
#[derive(Default)]
struct Gate {
    open: Mutex<bool>,
    cv: Condvar,
    entered: AtomicUsize,
}

impl Gate {
    fn new() -> Arc<Self> {
        Arc::default()
    }

    fn pass(&self) {
        self.entered.fetch_add(1, SeqCst);
        let wait = || {
            let deadline = Instant::now() + 2 * LATE;
            let mut open = self.open.lock().unwrap();
            while !*open {
                let now = Instant::now();
                assert!(now < deadline, "the gate was never opened");
                open = self.cv.wait_timeout(open, deadline - now).unwrap().0;
            }
        };
        // On a tokio worker, let the worker's other tasks move on while this one blocks.
        match tokio::runtime::Handle::try_current() {
            Ok(h) if h.runtime_flavor() == tokio::runtime::RuntimeFlavor::MultiThread => {
                tokio::task::block_in_place(wait)
            }
            _ => wait(),
        }
    }

    fn open(&self) {
        *self.open.lock().unwrap() = true;
        self.cv.notify_all();
    }

    fn entered(&self) -> usize {
        self.entered.load(SeqCst)
    }
}

/// An action that passes `gate` on its first call only.
fn gated_once(gate: &Arc<Gate>) -> impl Fn() + Send + Sync + 'static {
    let gate = gate.clone();
    let first = AtomicBool::new(true);
    move || {
        if first.swap(false, SeqCst) {
            gate.pass();
        }
    }
}

/// One test body, run in both forms: `name::blocking` (workers are plain threads, the
/// blocking form) and `name::tasks` (workers are tasks on a two-worker runtime, the async
/// form; the body itself runs in `block_on`).
///
/// In the body, `$B` names the barrier type of that form. Calls that differ between the
/// forms are written
/// - `wait!(x)`: `x` in the blocking form, `x.await` in the async form;
/// - `spawn!({ .. })`: a worker thread or task (a `move` closure or block);
/// - `join!(h)`: join a worker (bounded by `LATE`) and take its result;
/// - `outcome!(h)`: join a worker (bounded by `LATE`): its result, or its panic;
/// - `catch_panic!(x)`: `x` (a wait), with a panic caught: `Result<_, panic payload>`;
/// - `until!(cond)`: wait (bounded by `LATE`) until `cond` holds, without blocking a task;
/// - `sleep!(d)`: sleep the thread or the task.
macro_rules! forms {
    ($( $(#[$m:meta])* fn $name:ident<$B:ident>() $body:block )*) => {$(
        mod $name {
            use super::*;

            #[test]
            $(#[$m])*
            #[allow(unused_macros, unused_mut)]
            fn blocking() {
                type $B = threading::blocking::Barrier;
                macro_rules! wait { ($e:expr) => { $e }; }
                macro_rules! spawn { ($b:block) => { std::thread::spawn(move || $b) }; }
                macro_rules! join { ($h:expr) => { join_thread($h) }; }
                macro_rules! outcome { ($h:expr) => { thread_outcome($h) }; }
                macro_rules! catch_panic {
                    ($e:expr) => { std::panic::catch_unwind(AssertUnwindSafe(|| $e)) };
                }
                macro_rules! until { ($c:expr) => { wait_until(|| $c) }; }
                macro_rules! sleep { ($d:expr) => { std::thread::sleep($d) }; }
                $body
            }

            #[test]
            $(#[$m])*
            #[allow(unused_macros, unused_mut)]
            fn tasks() {
                type $B = threading::Barrier;
                macro_rules! wait { ($e:expr) => { $e.await }; }
                macro_rules! spawn { ($b:block) => { tokio::spawn(async move $b) }; }
                macro_rules! join { ($h:expr) => { join_task($h).await }; }
                macro_rules! outcome { ($h:expr) => { task_outcome($h).await }; }
                macro_rules! catch_panic {
                    ($e:expr) => { AssertUnwindSafe($e).catch_unwind().await };
                }
                macro_rules! until { ($c:expr) => { wait_until_async(|| $c).await }; }
                macro_rules! sleep { ($d:expr) => { tokio::time::sleep($d).await }; }
                mt_runtime().block_on(async $body)
            }
        }
    )*};
}

forms! {
    // conformance: BA-1, A-27
    // Python rejects 0 and -1 parties (ValueError); `usize` has no negatives, and 0 is a
    // typed error, from `new` and from the builder alike.
    fn zero_parties_is_an_error<B>() {
        let err: BarrierPartiesError = B::new(0).unwrap_err();
        assert!(err.to_string().contains("at least one"), "{err}");
        assert!(B::builder(0).build().is_err());
        assert!(B::builder(0).action(|| ()).timeout(SHORT).build().is_err());
        assert_eq!(B::new(1).unwrap().parties(), 1);
        assert_eq!(B::builder(7).build().unwrap().parties(), 7);
    }

    // conformance: BA-2, BA-3, BA-4
    // lock_tests' `multipass`, for 10 passes of two waits each: nobody returns from its
    // k-th wait before all N called it, nobody passes the next wait before all N left the
    // k-th. Afterwards the barrier is empty, whole and still has N parties.
    fn parties_pass_in_lockstep_for_ten_generations<B>() {
        const N: usize = 5;
        const PASSES: usize = 10;
        let b = Arc::new(B::new(N).unwrap());
        let before = Arc::new(AtomicUsize::new(0));
        let after = Arc::new(AtomicUsize::new(0));
        let mut workers = Vec::new();
        for _ in 0..N {
            let (b, before, after) = (b.clone(), before.clone(), after.clone());
            workers.push(spawn!({
                assert_eq!(b.parties(), N);
                for i in 0..PASSES {
                    before.fetch_add(1, SeqCst);
                    assert_eq!(after.load(SeqCst), i * N, "passed a wait too early");
                    wait!(b.wait()).expect("first wait of a pass");
                    after.fetch_add(1, SeqCst);
                    assert_eq!(before.load(SeqCst), (i + 1) * N, "passed a wait too early");
                    wait!(b.wait()).expect("second wait of a pass");
                }
                assert_eq!(b.n_waiting(), 0);
                assert!(!b.broken());
            }));
        }
        for w in workers {
            join!(w);
        }
        assert_eq!(before.load(SeqCst), PASSES * N);
        assert_eq!(after.load(SeqCst), PASSES * N);
        assert_eq!(b.n_waiting(), 0);
        assert!(!b.broken());
        assert_eq!(b.parties(), N);
    }

    // conformance: BA-4, BA-5, A-22
    // Ten generations of five parties on one barrier: in each, the indices are exactly
    // 0..N-1 (so distinct, each below `parties`).
    fn indices_are_0_to_n_minus_1_in_every_generation<B>() {
        const N: usize = 5;
        const ROUNDS: usize = 10;
        let b = Arc::new(B::new(N).unwrap());
        let mut workers = Vec::new();
        for _ in 0..N {
            let b = b.clone();
            workers.push(spawn!({
                let mut got = Vec::new();
                for _ in 0..ROUNDS {
                    got.push(wait!(b.wait()).expect("nothing breaks this barrier"));
                }
                got
            }));
        }
        let mut rounds = vec![Vec::new(); ROUNDS];
        for w in workers {
            for (round, index) in join!(w).into_iter().enumerate() {
                rounds[round].push(index);
            }
        }
        for (round, mut indices) in rounds.into_iter().enumerate() {
            indices.sort_unstable();
            assert_eq!(indices, (0..N).collect::<Vec<_>>(), "round {round}");
        }
    }

    // conformance: BA-6
    // Parties that arrive one after the other get 0, 1, 2, ... in arrival order; the last
    // gets N-1 and releases the others. Twice, so it holds in a later generation too.
    fn indices_follow_arrival_order<B>() {
        const N: usize = 4;
        let b = Arc::new(B::new(N).unwrap());
        for _round in 0..2 {
            let mut workers = Vec::new();
            for k in 0..N - 1 {
                let b2 = b.clone();
                workers.push(spawn!({ wait!(b2.wait()) }));
                until!(b.n_waiting() == k + 1);
            }
            assert_eq!(wait!(b.wait()), Ok(N - 1));
            for (k, w) in workers.into_iter().enumerate() {
                assert_eq!(join!(w), Ok(k), "arrived {k}th");
            }
        }
    }

    // conformance: BA-7
    // The action runs once per generation, in the party that arrived last (the one given
    // index N-1), before any party returns: every party sees exactly k+1 calls after its
    // (k+1)-th wait.
    fn action_runs_once_per_round_in_the_last_party_before_release<B>() {
        const N: usize = 4;
        const ROUNDS: usize = 10;
        let calls = Arc::new(AtomicUsize::new(0));
        let actors = Arc::new(Mutex::new(Vec::new()));
        let (c, a) = (calls.clone(), actors.clone());
        let b = Arc::new(
            B::builder(N)
                .action(move || {
                    c.fetch_add(1, SeqCst);
                    a.lock().unwrap().push(who());
                })
                .build()
                .unwrap(),
        );
        let mut workers = Vec::new();
        for _ in 0..N {
            let (b, calls) = (b.clone(), calls.clone());
            workers.push(spawn!({
                let mut got = Vec::new();
                for round in 0..ROUNDS {
                    let index = wait!(b.wait()).expect("nothing breaks this barrier");
                    assert_eq!(calls.load(SeqCst), round + 1, "action calls seen after a wait");
                    got.push((index, who()));
                }
                got
            }));
        }
        let mut last = vec![String::new(); ROUNDS];
        for w in workers {
            for (round, (index, me)) in join!(w).into_iter().enumerate() {
                if index == N - 1 {
                    last[round] = me;
                }
            }
        }
        assert_eq!(calls.load(SeqCst), ROUNDS);
        assert_eq!(*actors.lock().unwrap(), last, "the action ran in another party");
    }

    // conformance: BA-8, A-26
    // The last party to arrive runs a panicking action: the panic comes out of its own
    // wait (here caught in it), every other party gets BrokenBarrierError, and the barrier
    // is broken until `reset()`, after which it works (and runs the action) again.
    fn panicking_action_breaks_the_barrier_and_panics_in_the_acting_party<B>() {
        const N: usize = 3;
        let calls = Arc::new(AtomicUsize::new(0));
        let c = calls.clone();
        let b = Arc::new(
            B::builder(N)
                .action(move || {
                    if c.fetch_add(1, SeqCst) == 0 {
                        panic!("action failed");
                    }
                })
                .build()
                .unwrap(),
        );
        let mut workers = Vec::new();
        for _ in 0..N - 1 {
            let b = b.clone();
            workers.push(spawn!({ wait!(b.wait()) }));
        }
        until!(b.n_waiting() == N - 1);
        let caught = catch_panic!(b.wait()).expect_err("the acting party must panic");
        assert_eq!(panic_message(&*caught), "action failed");
        for w in workers {
            assert_eq!(join!(w), Err(broken()));
        }
        assert!(b.broken());
        assert!(wait!(b.wait()).is_err(), "broken until reset");

        b.reset();
        assert!(!b.broken());
        let mut workers = Vec::new();
        for _ in 0..N - 1 {
            let b = b.clone();
            workers.push(spawn!({ wait!(b.wait()) }));
        }
        let mut indices = vec![wait!(b.wait()).expect("reset repaired the barrier")];
        for w in workers {
            indices.push(join!(w).expect("reset repaired the barrier"));
        }
        indices.sort_unstable();
        assert_eq!(indices, [0, 1, 2]);
        assert_eq!(calls.load(SeqCst), 2);
        assert!(!b.broken());
    }

    // conformance: BA-8
    // The same with every party a worker: exactly one worker (whichever came last) ends
    // in the action's panic, seen by its join handle; the others get BrokenBarrierError.
    fn panicking_action_in_a_worker_reaches_its_join_handle<B>() {
        const N: usize = 4;
        let b = Arc::new(
            B::builder(N)
                .action(|| panic!("action failed in a worker"))
                .build()
                .unwrap(),
        );
        let mut workers = Vec::new();
        for _ in 0..N {
            let b = b.clone();
            workers.push(spawn!({ wait!(b.wait()) }));
        }
        let (mut panicked, mut broken) = (0, 0);
        for w in workers {
            match outcome!(w) {
                Err(p) => {
                    assert_eq!(panic_message(&*p), "action failed in a worker");
                    panicked += 1;
                }
                Ok(r) => {
                    r.expect_err("no party may pass a round whose action panicked");
                    broken += 1;
                }
            }
        }
        assert_eq!((panicked, broken), (1, N - 1));
        assert!(b.broken());
    }

    // conformance: BA-9, BA-15, A-26
    // lock_tests' test_abort: after one good pass, one party aborts once the N-1 others
    // wait for the next: all N-1 get BrokenBarrierError, none completes, the barrier is
    // broken (and says so), and a later wait fails at once.
    fn abort_breaks_every_waiter_and_every_later_wait<B>() {
        const N: usize = 5;
        let b = Arc::new(B::new(N).unwrap());
        let completed = Arc::new(AtomicUsize::new(0));
        let failed = Arc::new(AtomicUsize::new(0));
        let mut workers = Vec::new();
        for _ in 0..N {
            let (b, completed, failed) = (b.clone(), completed.clone(), failed.clone());
            workers.push(spawn!({
                let i = wait!(b.wait()).expect("first pass");
                if i == N / 2 {
                    until!(b.n_waiting() == N - 1);
                    b.abort();
                } else {
                    match wait!(b.wait()) {
                        Ok(_) => completed.fetch_add(1, SeqCst),
                        Err(_) => failed.fetch_add(1, SeqCst),
                    };
                }
            }));
        }
        for w in workers {
            join!(w);
        }
        assert_eq!(completed.load(SeqCst), 0);
        assert_eq!(failed.load(SeqCst), N - 1);
        assert!(b.broken());
        assert_eq!(debug(&b), "<threading.Barrier broken waiters=0/5>");
        let start = Instant::now();
        // Not at once, it would run out at 2 * LATE and fail `assert_quick`.
        assert!(wait!(b.wait_timeout(2 * LATE)).is_err());
        assert!(wait!(b.wait()).is_err());
        assert_quick(start, LATE);
    }

    // conformance: BA-10, A-26
    // lock_tests' test_reset: one party resets while the N-1 others wait; they all get
    // BrokenBarrierError, and then all N pass the next wait.
    fn reset_with_n_minus_1_waiting_fails_them_and_the_barrier_is_reusable<B>() {
        const N: usize = 5;
        let b = Arc::new(B::new(N).unwrap());
        let (completed, failed, passed) = (
            Arc::new(AtomicUsize::new(0)),
            Arc::new(AtomicUsize::new(0)),
            Arc::new(AtomicUsize::new(0)),
        );
        let mut workers = Vec::new();
        for _ in 0..N {
            let (b, completed, failed, passed) =
                (b.clone(), completed.clone(), failed.clone(), passed.clone());
            workers.push(spawn!({
                let i = wait!(b.wait()).expect("first pass");
                if i == N / 2 {
                    until!(b.n_waiting() == N - 1);
                    b.reset();
                } else {
                    match wait!(b.wait()) {
                        Ok(_) => completed.fetch_add(1, SeqCst),
                        Err(_) => failed.fetch_add(1, SeqCst),
                    };
                }
                wait!(b.wait()).expect("the pass after reset");
                passed.fetch_add(1, SeqCst);
            }));
        }
        for w in workers {
            join!(w);
        }
        assert_eq!(completed.load(SeqCst), 0);
        assert_eq!(failed.load(SeqCst), N - 1);
        assert_eq!(passed.load(SeqCst), N);
        assert!(!b.broken());
        assert_eq!(b.n_waiting(), 0);
    }

    // conformance: BA-11, A-26
    // lock_tests' test_abort_and_reset: one party aborts, the N-1 waiting fail; all
    // meet on a second barrier so that nobody is inside the first, one of them resets it,
    // they meet again, and then all N pass the first barrier, which is no longer broken.
    // Also: `reset()` of an empty barrier just leaves it filling.
    fn abort_then_reset_with_nobody_inside_makes_it_usable<B>() {
        const N: usize = 5;
        let b = Arc::new(B::new(N).unwrap());
        b.reset();
        assert_eq!(debug(&b), "<threading.Barrier filling waiters=0/5>");
        assert!(!b.broken());

        let b2 = Arc::new(B::new(N).unwrap());
        let (completed, failed, passed) = (
            Arc::new(AtomicUsize::new(0)),
            Arc::new(AtomicUsize::new(0)),
            Arc::new(AtomicUsize::new(0)),
        );
        let mut workers = Vec::new();
        for _ in 0..N {
            let (b, b2) = (b.clone(), b2.clone());
            let (completed, failed, passed) = (completed.clone(), failed.clone(), passed.clone());
            workers.push(spawn!({
                // As in lock_tests, both waits are inside one `try`: the abort may come
                // while the first generation still drains, and then a party not yet
                // resumed fails its first wait instead of its second.
                let outcome = match wait!(b.wait()) {
                    Ok(i) if i == N / 2 => {
                        b.abort();
                        None
                    }
                    Ok(_) => Some(wait!(b.wait())),
                    Err(e) => Some(Err(e)),
                };
                match outcome {
                    None => {}
                    Some(Ok(_)) => {
                        completed.fetch_add(1, SeqCst);
                    }
                    Some(Err(_)) => {
                        failed.fetch_add(1, SeqCst);
                    }
                }
                if wait!(b2.wait()).expect("sync before reset") == N / 2 {
                    assert!(b.broken());
                    b.reset();
                }
                wait!(b2.wait()).expect("sync after reset");
                wait!(b.wait()).expect("the pass after abort and reset");
                passed.fetch_add(1, SeqCst);
            }));
        }
        for w in workers {
            join!(w);
        }
        assert_eq!(completed.load(SeqCst), 0);
        assert_eq!(failed.load(SeqCst), N - 1);
        assert_eq!(passed.load(SeqCst), N);
        assert!(!b.broken());
    }

    // conformance: BA-12, TO-1, TO-6, A-23
    // `wait_timeout` overrides a long default timeout. When it runs out (never early),
    // the barrier breaks: the parties waiting with no timeout of their own get
    // BrokenBarrierError, and so does a late arrival, at once. (A dropped async wait does
    // not break it, A-23; a timed-out one does.)
    fn a_timed_out_wait_breaks_the_barrier_for_everyone<B>() {
        const N: usize = 4;
        let b = Arc::new(B::builder(N).timeout(FOREVER).build().unwrap());
        let b2 = b.clone();
        let timed = spawn!({
            wait!(b2.wait()).expect("first pass");
            let start = Instant::now();
            let got = wait!(b2.wait_timeout(SHORT));
            assert_timed_out_in_time(start, SHORT);
            got
        });
        let mut patient = Vec::new();
        for _ in 0..2 {
            let b = b.clone();
            patient.push(spawn!({
                wait!(b.wait()).expect("first pass");
                wait!(b.wait())
            }));
        }
        wait!(b.wait()).expect("first pass");
        until!(b.broken());
        assert!(join!(timed).is_err());
        for p in patient {
            assert!(join!(p).is_err(), "a waiting party passed a broken barrier");
        }
        let start = Instant::now();
        assert!(wait!(b.wait_timeout(2 * LATE)).is_err());
        assert!(wait!(b.wait()).is_err());
        assert_quick(start, LATE);
        assert!(b.broken());
    }

    // conformance: BA-13, TO-1, TO-6
    // `wait()` with no timeout of its own uses the barrier's default: with two parties
    // and one waiting, it fails after at least the default (checked exactly) and breaks
    // the barrier.
    fn the_default_timeout_applies_to_wait<B>() {
        let b = Arc::new(B::builder(2).timeout(SHORT).build().unwrap());
        let b2 = b.clone();
        // In a worker, so that a wait that never times out fails the join instead of
        // hanging the test.
        let w = spawn!({
            let start = Instant::now();
            let got = wait!(b2.wait());
            assert_timed_out_in_time(start, SHORT);
            got
        });
        assert!(join!(w).is_err());
        assert!(b.broken());
        assert_eq!(b.n_waiting(), 0);
    }

    // conformance: TO-1
    // No timeout given means the default, which is forever if the barrier has none: a
    // lone party is still waiting (not broken) long after a short timeout would have run
    // out, and passes when the other party comes. The same with a long default.
    fn wait_without_a_timeout_waits_as_long_as_the_default_says<B>() {
        for b in [B::new(2).unwrap(), B::builder(2).timeout(FOREVER).build().unwrap()] {
            let b = Arc::new(b);
            let b2 = b.clone();
            let w = spawn!({ wait!(b2.wait()) });
            until!(b.n_waiting() == 1);
            sleep!(3 * SHORT);
            assert_eq!(b.n_waiting(), 1);
            assert!(!b.broken());
            assert!(!w.is_finished());
            assert_eq!(wait!(b.wait()), Ok(1));
            assert_eq!(join!(w), Ok(0));
        }
    }

    // conformance: TO-1
    // Timeouts too large to be deadlines (as a default or per call) wait as long as it
    // takes, without panicking.
    fn huge_timeouts_wait_as_long_as_it_takes<B>() {
        let b = Arc::new(B::builder(2).timeout(Duration::MAX).build().unwrap());
        for huge in [Duration::MAX, TIMEOUT_MAX + Duration::from_secs(1), TIMEOUT_MAX] {
            let b2 = b.clone();
            let w = spawn!({ wait!(b2.wait()) });
            until!(b.n_waiting() == 1);
            assert_eq!(wait!(b.wait_timeout(huge)), Ok(1));
            assert_eq!(join!(w), Ok(0));

            let b2 = b.clone();
            let w = spawn!({ wait!(b2.wait_timeout(huge)) });
            until!(b.n_waiting() == 1);
            assert_eq!(wait!(b.wait()), Ok(1));
            assert_eq!(join!(w), Ok(0));
        }
        assert!(!b.broken());
    }

    // conformance: BA-14, A-27
    // With one party, every wait returns 0 at once (a barrier default timeout of LATE
    // would make a wait that blocks fail), runs the action each time, even with a zero
    // timeout.
    fn a_single_party_passes_at_once_every_time<B>() {
        let calls = Arc::new(AtomicUsize::new(0));
        let c = calls.clone();
        let b = B::builder(1)
            .action(move || {
                c.fetch_add(1, SeqCst);
            })
            .timeout(LATE)
            .build()
            .unwrap();
        let start = Instant::now();
        for _ in 0..10 {
            assert_eq!(wait!(b.wait()), Ok(0));
        }
        assert_eq!(wait!(b.wait_timeout(Duration::ZERO)), Ok(0));
        assert_quick(start, LATE);
        assert_eq!(calls.load(SeqCst), 11);
        assert_eq!(b.n_waiting(), 0);
        assert!(!b.broken());
    }

    // conformance: BA-15, A-24
    // Debug shows `waiters=0/3` empty, `waiters=2/3` with two blocked, `waiters=0/3`
    // again once the generation has passed and left, and `broken` after `abort()`.
    fn debug_shows_the_state_and_the_waiters<B>() {
        let b = Arc::new(B::new(3).unwrap());
        assert_eq!(debug(&b), "<threading.Barrier filling waiters=0/3>");
        let mut workers = Vec::new();
        for _ in 0..2 {
            let b = b.clone();
            workers.push(spawn!({ wait!(b.wait()) }));
        }
        until!(b.n_waiting() == 2);
        assert_eq!(debug(&b), "<threading.Barrier filling waiters=2/3>");
        assert_eq!(wait!(b.wait()), Ok(2));
        for w in workers {
            join!(w).expect("the round passed");
        }
        assert_eq!(debug(&b), "<threading.Barrier filling waiters=0/3>");
        b.abort();
        assert_eq!(debug(&b), "<threading.Barrier broken waiters=0/3>");
        b.reset();
        assert_eq!(debug(&b), "<threading.Barrier filling waiters=0/3>");
    }

    // conformance: BA-17
    // A party that arrives for the next generation while the last one is still inside
    // (here: complete, its action running) waits until that generation has left, then
    // joins the next one: it never joins or corrupts the old one.
    fn a_newcomer_waits_for_the_old_generation_to_leave<B>() {
        const N: usize = 3;
        let gate = Gate::new();
        let b = Arc::new(B::builder(N).action(gated_once(&gate)).build().unwrap());
        let mut old = Vec::new();
        for _ in 0..N {
            let b = b.clone();
            old.push(spawn!({ wait!(b.wait()) }));
        }
        until!(gate.entered() == 1);
        assert_eq!(debug(&b), "<threading.Barrier filling waiters=3/3>");
        let b2 = b.clone();
        let newcomer = spawn!({ wait!(b2.wait()) });
        sleep!(GRACE);
        assert!(!newcomer.is_finished());
        assert_eq!(b.n_waiting(), N, "the newcomer joined the old generation");
        gate.open();
        let mut indices = Vec::new();
        for w in old {
            indices.push(join!(w).expect("the old generation passes"));
        }
        indices.sort_unstable();
        assert_eq!(indices, [0, 1, 2]);
        // Now the newcomer is the first party of the next generation.
        until!(b.n_waiting() == 1);
        let b3 = b.clone();
        let other = spawn!({ wait!(b3.wait()) });
        until!(b.n_waiting() == 2);
        assert_eq!(wait!(b.wait()), Ok(2));
        assert_eq!(join!(newcomer), Ok(0));
        assert_eq!(join!(other), Ok(1));
        assert!(!b.broken());
    }

    // conformance: BA-19, A-25
    // `reset()` while a complete generation is being released (its action running) does
    // not touch it: every party returns its index and the barrier is not broken (the
    // threading rule; asyncio would break the parties not yet resumed).
    fn reset_while_a_generation_is_released_leaves_it_alone<B>() {
        const N: usize = 3;
        let gate = Gate::new();
        let b = Arc::new(B::builder(N).action(gated_once(&gate)).build().unwrap());
        let mut old = Vec::new();
        for _ in 0..N {
            let b = b.clone();
            old.push(spawn!({ wait!(b.wait()) }));
        }
        until!(gate.entered() == 1);
        b.reset();
        assert!(!b.broken());
        gate.open();
        let mut indices = Vec::new();
        for w in old {
            indices.push(join!(w).expect("reset() must not break a passing generation"));
        }
        indices.sort_unstable();
        assert_eq!(indices, [0, 1, 2]);
        assert!(!b.broken());
        assert_eq!(debug(&b), "<threading.Barrier filling waiters=0/3>");
        // And the next generation passes as usual.
        let mut workers = Vec::new();
        for _ in 0..N - 1 {
            let b = b.clone();
            workers.push(spawn!({ wait!(b.wait()) }));
        }
        wait!(b.wait()).expect("the next generation");
        for w in workers {
            join!(w).expect("the next generation");
        }
    }

    // conformance: BA-20, BA-16, A-24
    // `abort()` while the action runs, then `reset()` while the acting party is still
    // inside: the barrier is "resetting" (n_waiting 0, not broken); the parties that were
    // waiting fail; the acting party passes (the abort comes after its action, as in
    // Python, where the action holds the lock); a newcomer waits until the acting party
    // has left, and then the barrier fills again.
    fn reset_with_a_party_inside_goes_through_resetting<B>() {
        const N: usize = 3;
        let gate = Gate::new();
        let b = Arc::new(B::builder(N).action(gated_once(&gate)).build().unwrap());
        let mut old = Vec::new();
        for _ in 0..N {
            let b = b.clone();
            old.push(spawn!({ wait!(b.wait()) }));
        }
        until!(gate.entered() == 1);
        b.abort();
        assert!(b.broken());
        assert_eq!(debug(&b), "<threading.Barrier broken waiters=0/3>");
        b.reset();
        assert_eq!(debug(&b), "<threading.Barrier resetting waiters=0/3>");
        assert_eq!(b.n_waiting(), 0);
        assert!(!b.broken());
        let b2 = b.clone();
        let newcomer = spawn!({ wait!(b2.wait()) });
        sleep!(GRACE);
        assert!(!newcomer.is_finished());
        assert_eq!(debug(&b), "<threading.Barrier resetting waiters=0/3>");
        gate.open();
        let (mut passed, mut failed) = (Vec::new(), 0);
        for w in old {
            match join!(w) {
                Ok(index) => passed.push(index),
                Err(_) => failed += 1,
            }
        }
        assert_eq!(passed, [N - 1], "the acting party passes");
        assert_eq!(failed, N - 1, "the waiting parties fail");
        until!(b.n_waiting() == 1);
        assert_eq!(debug(&b), "<threading.Barrier filling waiters=1/3>");
        let b3 = b.clone();
        let other = spawn!({ wait!(b3.wait()) });
        until!(b.n_waiting() == 2);
        assert_eq!(wait!(b.wait()), Ok(2));
        assert_eq!(join!(newcomer), Ok(0));
        assert_eq!(join!(other), Ok(1));
        assert!(!b.broken());
    }

    // conformance: BA-20
    // A broken barrier stays broken, however many waits fail on it, until `reset()`.
    fn a_broken_barrier_stays_broken_until_reset<B>() {
        const N: usize = 3;
        let b = Arc::new(B::new(N).unwrap());
        b.abort();
        for _ in 0..3 {
            assert!(wait!(b.wait()).is_err());
            assert!(wait!(b.wait_timeout(SHORT)).is_err());
            assert!(b.broken());
        }
        b.reset();
        assert!(!b.broken());
        let mut workers = Vec::new();
        for _ in 0..N - 1 {
            let b = b.clone();
            workers.push(spawn!({ wait!(b.wait()) }));
        }
        wait!(b.wait()).expect("reset repaired it");
        for w in workers {
            join!(w).expect("reset repaired it");
        }
    }
}

/// `k` async waits on `b`, each polled once, so each has arrived (and none completed).
async fn arrived<'a>(
    b: &'a Barrier,
    k: usize,
) -> Vec<Pin<Box<dyn Future<Output = Result<usize, BrokenBarrierError>> + Send + 'a>>> {
    let mut waits = Vec::new();
    for _ in 0..k {
        let mut w: Pin<Box<dyn Future<Output = _> + Send>> = Box::pin(b.wait());
        assert!(poll!(w.as_mut()).is_pending());
        waits.push(w);
    }
    waits
}

// conformance: BA-16, BA-17, A-24
// Hand-stepped: two tasks wait, a third completes the round. The two are notified but not
// resumed, so the barrier is draining: Debug says so and n_waiting reads 0 in both forms.
// A newcomer waits without joining that round; once the last old party has left, the
// barrier is filling and the newcomer is its first party.
#[tokio::test]
async fn draining_is_shown_and_a_newcomer_waits_for_it() {
    let b = Barrier::new(3).unwrap();
    let mut old = arrived(&b, 2).await;
    assert_eq!(b.n_waiting(), 2);
    assert_eq!(b.wait().await, Ok(2));
    assert_eq!(debug(&b), "<threading.Barrier draining waiters=0/3>");
    assert_eq!(b.n_waiting(), 0);
    assert_eq!(b.blocking().n_waiting(), 0);
    assert!(!b.broken());

    let mut newcomer = pin!(b.wait());
    assert!(poll!(newcomer.as_mut()).is_pending());
    assert_eq!(debug(&b), "<threading.Barrier draining waiters=0/3>");

    assert_eq!(poll!(old[0].as_mut()), Poll::Ready(Ok(0)));
    assert_eq!(debug(&b), "<threading.Barrier draining waiters=0/3>");
    assert!(poll!(newcomer.as_mut()).is_pending());
    assert_eq!(poll!(old[1].as_mut()), Poll::Ready(Ok(1)));
    assert_eq!(debug(&b), "<threading.Barrier filling waiters=0/3>");

    assert!(poll!(newcomer.as_mut()).is_pending());
    assert_eq!(debug(&b), "<threading.Barrier filling waiters=1/3>");
    let mut second = pin!(b.wait());
    assert!(poll!(second.as_mut()).is_pending());
    assert_eq!(b.wait().await, Ok(2));
    assert_eq!(newcomer.await, Ok(0));
    assert_eq!(second.await, Ok(1));
}

// conformance: BA-17, BA-16
// The blocking form: a plain thread arrives while tasks of the old generation are still
// inside (notified, not resumed). It does not join that generation; once they have left it
// is the first party of the next one.
#[test]
fn a_thread_arriving_while_tasks_drain_waits_for_them() {
    common::ct_runtime().block_on(async {
        let b = Arc::new(Barrier::new(3).unwrap());
        let mut old = arrived(&b, 2).await;
        assert_eq!(b.wait().await, Ok(2));
        assert_eq!(debug(&b), "<threading.Barrier draining waiters=0/3>");

        let started = Arc::new(AtomicBool::new(false));
        let (bb, s) = (b.clone().into_blocking(), started.clone());
        let thread = std::thread::spawn(move || {
            s.store(true, SeqCst);
            bb.wait()
        });
        wait_until(|| started.load(SeqCst));
        std::thread::sleep(GRACE);
        assert!(!thread.is_finished());
        assert_eq!(b.blocking().n_waiting(), 0);
        assert_eq!(debug(&b), "<threading.Barrier draining waiters=0/3>");

        assert_eq!(poll!(old[0].as_mut()), Poll::Ready(Ok(0)));
        assert_eq!(poll!(old[1].as_mut()), Poll::Ready(Ok(1)));
        wait_until(|| b.n_waiting() == 1);
        let mut second = pin!(b.wait());
        assert!(poll!(second.as_mut()).is_pending());
        assert_eq!(b.wait().await, Ok(2));
        assert_eq!(join_thread(thread), Ok(0));
        assert_eq!(second.await, Ok(1));
    });
}

// conformance: BA-19, A-25, A-26
// `reset()` while the barrier drains, one old party resumed and one not, and a newcomer
// waiting to enter: in asyncio the party not yet resumed would get BrokenBarrierError
// this crate follows threading (BA-19): it returns its index, the barrier is not
// broken, and the newcomer goes on waiting into the next generation.
#[tokio::test]
async fn reset_while_draining_follows_threading_not_asyncio() {
    let b = Barrier::new(3).unwrap();
    let mut old = arrived(&b, 2).await;
    assert_eq!(b.wait().await, Ok(2));
    assert_eq!(poll!(old[0].as_mut()), Poll::Ready(Ok(0)));
    let mut newcomer = pin!(b.wait());
    assert!(poll!(newcomer.as_mut()).is_pending());

    b.reset();
    assert_eq!(debug(&b), "<threading.Barrier draining waiters=0/3>");
    assert!(!b.broken());
    assert_eq!(poll!(old[1].as_mut()), Poll::Ready(Ok(1)));
    assert!(!b.broken());
    assert!(poll!(newcomer.as_mut()).is_pending());
    assert_eq!(debug(&b), "<threading.Barrier filling waiters=1/3>");

    let mut second = pin!(b.wait());
    assert!(poll!(second.as_mut()).is_pending());
    assert_eq!(b.wait().await, Ok(2));
    assert_eq!(newcomer.await, Ok(0));
    assert_eq!(second.await, Ok(1));
}

// conformance: BA-20, BA-16, A-24, A-26
// Hand-stepped: `reset()` (and `abort()` then `reset()`) while two tasks wait in a filling
// barrier, before they run again: the barrier is "resetting", n_waiting reads 0, a newcomer
// waits; the two get BrokenBarrierError as they resume, and when the last has left the
// barrier is filling, with the newcomer in it. The generation after passes as usual.
#[tokio::test]
async fn reset_with_tasks_inside_goes_through_resetting() {
    for abort_first in [false, true] {
        let b = Barrier::new(3).unwrap();
        let mut old = arrived(&b, 2).await;
        if abort_first {
            b.abort();
            assert_eq!(debug(&b), "<threading.Barrier broken waiters=0/3>");
        }
        b.reset();
        assert_eq!(debug(&b), "<threading.Barrier resetting waiters=0/3>");
        assert_eq!(b.n_waiting(), 0);
        assert!(!b.broken());

        let mut newcomer = pin!(b.wait());
        assert!(poll!(newcomer.as_mut()).is_pending());
        assert_eq!(debug(&b), "<threading.Barrier resetting waiters=0/3>");
        assert!(matches!(poll!(old[0].as_mut()), Poll::Ready(Err(_))));
        assert!(poll!(newcomer.as_mut()).is_pending());
        assert_eq!(debug(&b), "<threading.Barrier resetting waiters=0/3>");
        assert!(matches!(poll!(old[1].as_mut()), Poll::Ready(Err(_))));
        assert!(poll!(newcomer.as_mut()).is_pending());
        assert_eq!(debug(&b), "<threading.Barrier filling waiters=1/3>");

        let mut second = pin!(b.wait());
        assert!(poll!(second.as_mut()).is_pending());
        assert_eq!(b.wait().await, Ok(2));
        assert_eq!(newcomer.await, Ok(0));
        assert_eq!(second.await, Ok(1));
        assert!(!b.broken());
    }
}

// conformance: A-26, BA-9
// asyncio's test_abort_barrier_when_tasks_half_draining_half_blocking: `abort()` while the
// barrier drains breaks the party not yet resumed (as threading does: it checks the state
// again when it wakes) and the newcomer waiting to enter; the one already resumed kept its
// index. `reset()` then makes the barrier usable.
#[tokio::test]
async fn abort_while_draining_breaks_the_parties_not_yet_resumed() {
    let b = Barrier::new(3).unwrap();
    let mut old = arrived(&b, 2).await;
    assert_eq!(b.wait().await, Ok(2));
    assert_eq!(poll!(old[0].as_mut()), Poll::Ready(Ok(0)));
    let mut newcomer = pin!(b.wait());
    assert!(poll!(newcomer.as_mut()).is_pending());
    b.abort();
    assert!(matches!(poll!(old[1].as_mut()), Poll::Ready(Err(_))));
    assert!(matches!(poll!(newcomer.as_mut()), Poll::Ready(Err(_))));
    assert!(b.broken());
    b.reset();
    assert!(!b.broken());
    let mut rest = arrived(&b, 2).await;
    assert_eq!(b.wait().await, Ok(2));
    assert_eq!(rest.remove(0).await, Ok(0));
    assert_eq!(rest.remove(0).await, Ok(1));
}

// conformance: A-23, BA-5, BA-6
// A wait dropped while the barrier fills (whether it was the first, second or third to
// arrive) leaves: n_waiting drops, the barrier is not broken, and the remaining parties
// plus a newcomer finish the generation, with indices 0..N-1 in arrival order among the
// parties that stayed.
#[tokio::test]
async fn a_wait_dropped_while_filling_leaves_without_breaking() {
    const N: usize = 4;
    for drop_at in 0..3 {
        let b = Barrier::new(N).unwrap();
        let mut stay = Vec::new();
        let mut leaver = None;
        for k in 0..3 {
            let mut w = Box::pin(b.wait());
            assert!(poll!(w.as_mut()).is_pending());
            if k == drop_at {
                leaver = Some(w);
            } else {
                stay.push(w);
            }
        }
        assert_eq!(b.n_waiting(), 3);
        drop(leaver);
        assert_eq!(b.n_waiting(), 2, "drop_at {drop_at}");
        assert!(!b.broken());
        assert_eq!(debug(&b), "<threading.Barrier filling waiters=2/4>");
        let mut newcomer = Box::pin(b.wait());
        assert!(poll!(newcomer.as_mut()).is_pending());
        stay.push(newcomer);
        assert_eq!(b.wait().await, Ok(N - 1));
        for (k, w) in stay.into_iter().enumerate() {
            assert_eq!(w.await, Ok(k), "drop_at {drop_at}");
        }
        assert!(!b.broken());
    }
}

// conformance: A-23, BA-12, TO-6
// A wait dropped by `tokio::time::timeout` leaves without breaking the barrier (asyncio's
// cancel), even when the barrier has a default timeout; a `wait_timeout` that runs out
// breaks it (threading's timeout).
#[tokio::test]
async fn a_wait_dropped_by_timeout_leaves_but_a_timed_out_wait_breaks() {
    let b = Barrier::builder(2).timeout(FOREVER).build().unwrap();
    for _ in 0..3 {
        let start = Instant::now();
        assert!(tokio::time::timeout(SHORT, b.wait()).await.is_err());
        assert!(start.elapsed() >= SHORT);
        assert_eq!(b.n_waiting(), 0);
        assert!(!b.broken());
    }
    let (x, y) = tokio::join!(b.wait(), b.wait());
    assert_eq!((x, y), (Ok(0), Ok(1)));

    let start = Instant::now();
    let timed = tokio::time::timeout(LATE, b.wait_timeout(SHORT)).await;
    assert!(timed.expect("the timed wait never ended").is_err());
    assert_timed_out_in_time(start, SHORT);
    assert!(b.broken());
}

// conformance: A-24
// A wait dropped after its generation passed (notified, never resumed) just leaves: the
// barrier shows draining until the last party has left, then filling, unbroken.
#[tokio::test]
async fn a_wait_dropped_after_its_generation_passed_just_leaves() {
    let b = Barrier::new(3).unwrap();
    let mut old = arrived(&b, 2).await;
    assert_eq!(b.wait().await, Ok(2));
    drop(old.remove(0));
    assert_eq!(debug(&b), "<threading.Barrier draining waiters=0/3>");
    assert_eq!(old.remove(0).await, Ok(1));
    assert_eq!(debug(&b), "<threading.Barrier filling waiters=0/3>");
    assert!(!b.broken());
    let mut next = arrived(&b, 2).await;
    assert_eq!(b.wait().await, Ok(2));
    assert_eq!(next.remove(0).await, Ok(0));
    assert_eq!(next.remove(0).await, Ok(1));
}

// conformance
// asyncio.Barrier has no action and no timeout, its reset() and abort() are coroutines,
// and `async with barrier as i` gives the index. Here the async form has an action and
// timeouts (tested in both forms above), reset() and abort() are plain methods callable
// from either world, and the index is what `wait()` returns. What applies: tasks fill the
// barrier one by one (n_waiting counts them), the generation's indices are 0..N-1, the
// same tasks wait twice; and a one-party barrier's wait is ready at its first poll.
#[tokio::test]
async fn tasks_fill_the_barrier_one_by_one_and_get_0_to_n_minus_1() {
    const N: usize = 4;
    let b = Barrier::new(N).unwrap();
    for _round in 0..2 {
        let mut waits = Vec::new();
        for k in 0..N - 1 {
            let mut w = Box::pin(b.wait());
            assert!(poll!(w.as_mut()).is_pending());
            assert_eq!(b.n_waiting(), k + 1);
            waits.push(w);
        }
        assert_eq!(b.wait().await, Ok(N - 1));
        for (k, w) in waits.into_iter().enumerate() {
            assert_eq!(w.await, Ok(k));
        }
        assert_eq!(b.n_waiting(), 0);
    }

    let one = Barrier::new(1).unwrap();
    for _ in 0..2 {
        assert_eq!(poll!(pin!(one.wait())), Poll::Ready(Ok(0)));
        assert_eq!(poll!(pin!(one.wait_timeout(SHORT))), Poll::Ready(Ok(0)));
    }
}

// conformance: BA-2, BA-4, BA-5, BA-7
// Two plain threads (blocking form, via `into_blocking`) and two tasks (async form) are the
// four parties of one barrier for 50 generations: lockstep, indices 0..3 in every
// generation, one action call per generation made in the party given index 3, before any
// party returns.
#[test]
fn threads_and_tasks_are_parties_of_one_barrier_for_many_generations() {
    const N: usize = 4;
    const ROUNDS: usize = 50;
    let rt = mt_runtime();
    let calls = Arc::new(AtomicUsize::new(0));
    let actors = Arc::new(Mutex::new(Vec::new()));
    let (c, a) = (calls.clone(), actors.clone());
    let b = Arc::new(
        Barrier::builder(N)
            .action(move || {
                c.fetch_add(1, SeqCst);
                a.lock().unwrap().push(who());
            })
            .build()
            .unwrap(),
    );
    assert!(std::ptr::eq(b.blocking().as_async(), &*b));
    let arrivals = Arc::new(AtomicUsize::new(0));

    let check = {
        let (calls, arrivals) = (calls.clone(), arrivals.clone());
        move |round: usize, got: Result<usize, BrokenBarrierError>| {
            let index = got.expect("nothing breaks this barrier");
            assert!(arrivals.load(SeqCst) >= (round + 1) * N, "released early");
            assert_eq!(
                calls.load(SeqCst),
                round + 1,
                "action calls seen after a wait"
            );
            (index, who())
        }
    };
    let mut threads = Vec::new();
    for _ in 0..2 {
        let (bb, arrivals, check) = (b.clone().into_blocking(), arrivals.clone(), check.clone());
        threads.push(std::thread::spawn(move || {
            (0..ROUNDS)
                .map(|round| {
                    arrivals.fetch_add(1, SeqCst);
                    check(round, bb.wait())
                })
                .collect::<Vec<_>>()
        }));
    }
    let mut tasks = Vec::new();
    for _ in 0..2 {
        let (b, arrivals, check) = (b.clone(), arrivals.clone(), check.clone());
        tasks.push(rt.spawn(async move {
            let mut got = Vec::new();
            for round in 0..ROUNDS {
                arrivals.fetch_add(1, SeqCst);
                got.push(check(round, b.wait().await));
            }
            got
        }));
    }
    let mut results: Vec<Vec<(usize, String)>> = threads.into_iter().map(join_thread).collect();
    rt.block_on(async {
        for t in tasks {
            results.push(join_task(t).await);
        }
    });

    assert_eq!(calls.load(SeqCst), ROUNDS);
    let actors = actors.lock().unwrap();
    for round in 0..ROUNDS {
        let mut indices: Vec<usize> = results.iter().map(|r| r[round].0).collect();
        indices.sort_unstable();
        assert_eq!(indices, [0, 1, 2, 3], "round {round}");
        let last = results.iter().find(|r| r[round].0 == N - 1).unwrap();
        assert_eq!(
            actors[round], last[round].1,
            "round {round}: action ran elsewhere"
        );
    }
    let kinds: Vec<bool> = actors.iter().map(|w| w.starts_with("task")).collect();
    eprintln!(
        "actions run by tasks: {}, by threads: {}",
        kinds.iter().filter(|&&t| t).count(),
        kinds.iter().filter(|&&t| !t).count()
    );
    assert!(!b.broken());
    assert_eq!(b.n_waiting(), 0);
}

/// A small deterministic xorshift generator: the storm's choices.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
}

/// One attempt of the storm's flaky party: a wait dropped at a random point, or kept.
/// `None` if it was dropped before it finished.
async fn flaky_attempt(
    b: &Barrier,
    rng: &mut Rng,
    over: &AtomicBool,
) -> Option<Result<usize, BrokenBarrierError>> {
    let roll = rng.next();
    match roll % 4 {
        // Dropped right after it arrives (unless its arrival completes the round).
        0 => tokio::time::timeout(Duration::ZERO, b.wait()).await.ok(),
        // Dropped by the timer, a millisecond or two later.
        1 => {
            let d = Duration::from_micros((roll >> 8) % 2_000);
            tokio::time::timeout(d, b.wait()).await.ok()
        }
        // Dropped after a few polls.
        2 => {
            let mut w = pin!(b.wait());
            for _ in 0..=(roll >> 8) % 8 {
                if let Poll::Ready(r) = poll!(w.as_mut()) {
                    return Some(r);
                }
                tokio::task::yield_now().await;
            }
            None
        }
        // Kept until it finishes (or the storm is over).
        _ => {
            let start = Instant::now();
            let mut w = pin!(b.wait());
            loop {
                if let Ok(r) = tokio::time::timeout(Duration::from_millis(20), w.as_mut()).await {
                    return Some(r);
                }
                if over.load(SeqCst) {
                    return None;
                }
                assert!(start.elapsed() < LATE, "a round hung");
            }
        }
    }
}

// conformance: A-23, BA-5
// Cancel storm: 500 generations of a 3-party barrier whose parties are a task, a plain
// thread and a flaky task whose waits are dropped at random points (right after arriving,
// by a timer, after a few polls) and retried. Every generation needs all three, so no
// dropped wait may break the barrier or leave a generation hanging; every completed wait's
// index is distinct within its generation.
#[test]
fn cancel_storm_never_hangs_or_breaks_and_indices_stay_distinct() {
    const ROUNDS: usize = 500;
    let rt = mt_runtime();
    let done = Arc::new(AtomicUsize::new(0));
    let d = done.clone();
    let b = Arc::new(
        Barrier::builder(3)
            .action(move || {
                d.fetch_add(1, SeqCst);
            })
            .build()
            .unwrap(),
    );
    let over = Arc::new(AtomicBool::new(false));

    let steady_task = {
        let (b, done) = (b.clone(), done.clone());
        rt.spawn(async move {
            let mut rng = Rng(0x2545_f491_4f6c_dd1d);
            let mut got = Vec::new();
            for round in 0..ROUNDS {
                for _ in 0..rng.next() % 3 {
                    tokio::task::yield_now().await;
                }
                let r = tokio::time::timeout(LATE, b.wait()).await;
                let index = r
                    .expect("a round hung")
                    .expect("the storm broke the barrier");
                assert_eq!(done.load(SeqCst), round + 1);
                got.push(index);
            }
            got
        })
    };
    let steady_thread = {
        let (bb, done) = (b.clone().into_blocking(), done.clone());
        std::thread::spawn(move || {
            let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
            let mut got = Vec::new();
            for round in 0..ROUNDS {
                if rng.next() % 3 == 0 {
                    std::thread::yield_now();
                }
                // A timeout that runs out breaks the barrier: a hang fails loudly.
                let index = bb
                    .wait_timeout(LATE)
                    .expect("the storm broke or hung a round");
                assert_eq!(done.load(SeqCst), round + 1);
                got.push(index);
            }
            got
        })
    };
    let flaky = {
        let (b, done, over) = (b.clone(), done.clone(), over.clone());
        rt.spawn(async move {
            let mut rng = Rng(0xdead_beef_cafe_f00d);
            let mut got = Vec::new();
            let (mut attempts, mut dropped) = (0, 0);
            while done.load(SeqCst) < ROUNDS {
                attempts += 1;
                assert!(attempts < ROUNDS * 200, "the storm does not end");
                match flaky_attempt(&b, &mut rng, &over).await {
                    Some(r) => {
                        let index = r.expect("the storm broke the barrier");
                        // The next generation needs this party: `done` names this one.
                        got.push((done.load(SeqCst) - 1, index));
                    }
                    None => dropped += 1,
                }
            }
            (got, attempts, dropped)
        })
    };

    let thread_got = join_thread(steady_thread);
    let (task_got, (flaky_got, attempts, dropped)) = rt.block_on(async {
        let t = join_task(steady_task).await;
        over.store(true, SeqCst);
        (t, join_task(flaky).await)
    });

    assert_eq!(done.load(SeqCst), ROUNDS);
    let mut rounds: Vec<Vec<usize>> = (0..ROUNDS)
        .map(|r| vec![task_got[r], thread_got[r]])
        .collect();
    for &(round, index) in &flaky_got {
        rounds[round].push(index);
    }
    for (round, indices) in rounds.iter_mut().enumerate() {
        indices.sort_unstable();
        let before = indices.len();
        indices.dedup();
        assert_eq!(
            indices.len(),
            before,
            "round {round}: indices {indices:?} repeat"
        );
        assert!(indices.iter().all(|&i| i < 3), "round {round}: {indices:?}");
    }
    eprintln!(
        "storm: {attempts} flaky attempts, {dropped} dropped, {} completed",
        flaky_got.len()
    );
    assert!(dropped > 0, "the storm dropped no wait");
    assert!(!b.broken());
    assert_eq!(b.n_waiting(), 0);
}

// conformance: TO-8, TO-6
// The blocking form: spurious wake-ups (unparks of the waiting thread, every 2 ms) do not
// extend a timed wait. Were its deadline restarted on each one, the wait would outlast the
// storm (3 s at least) instead of ending after its 100 ms.
#[test]
fn blocking_timed_wait_is_not_extended_by_spurious_wakeups() {
    let b = Arc::new(threading::blocking::Barrier::new(2).unwrap());
    let b2 = b.clone();
    let start = Instant::now();
    let w = std::thread::spawn(move || b2.wait_timeout(SHORT));
    let thread = w.thread().clone();
    for _ in 0..1_500 {
        if w.is_finished() {
            break;
        }
        thread.unpark();
        std::thread::sleep(Duration::from_millis(2));
    }
    assert!(w.is_finished(), "spurious wake-ups extended the wait");
    assert!(w.join().unwrap().is_err());
    assert_timed_out_in_time(start, SHORT);
    assert!(b.broken());
}

// conformance: TO-8, TO-6
// The async form: polls that do not complete the wait (every 2 ms, whether or not it was
// woken) do not extend it: it fails once, never early, after its timeout.
#[tokio::test]
async fn async_timed_wait_is_not_extended_by_spurious_polls() {
    let b = Barrier::new(2).unwrap();
    let start = Instant::now();
    let mut w = pin!(b.wait_timeout(SHORT));
    let mut got = None;
    for _ in 0..1_500 {
        if let Poll::Ready(r) = poll!(w.as_mut()) {
            got = Some(r);
            break;
        }
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    let got = got.expect("spurious polls extended the wait");
    assert!(got.is_err());
    assert_timed_out_in_time(start, SHORT);
    assert!(b.broken());
}

// conformance: BA-18
// Python: BrokenBarrierError is a subclass of RuntimeError. The Rust reading: it is a
// `std::error::Error + Send + Sync + 'static` (so `?` turns it into a
// `Box<dyn Error + Send + Sync>`, the catch-all of a caller, and it crosses threads), with
// a message saying what to do; so is the error for 0 parties.
#[test]
fn broken_barrier_error_is_a_send_sync_std_error() {
    fn is_error<E: Error + Send + Sync + 'static>() {}
    is_error::<BrokenBarrierError>();
    is_error::<BarrierPartiesError>();

    let b = threading::blocking::Barrier::new(2).unwrap();
    b.abort();
    let err = b.wait().unwrap_err();
    let msg = err.to_string();
    assert!(msg.contains("broken") && msg.contains("reset()"), "{msg}");

    fn through_question_mark(
        b: &threading::blocking::Barrier,
    ) -> Result<usize, Box<dyn Error + Send + Sync>> {
        Ok(b.wait()?)
    }
    let boxed = through_question_mark(&b).unwrap_err();
    assert_eq!(boxed.downcast_ref::<BrokenBarrierError>(), Some(&err));
    let from_thread = std::thread::spawn(move || err).join().unwrap();
    assert_eq!(from_thread.to_string(), msg);
}

/// A party's timeout counts from when it enters the round, as in Python: a thread that
/// waits out a slow release (the action of the previous round) does not break the next
/// round the moment it enters.
// conformance: TO-6, BA-17
#[test]
fn timeout_counts_from_entry_not_from_the_call() {
    let action_started = Arc::new(threading::blocking::Event::new());
    let started = action_started.clone();
    let rounds = Arc::new(AtomicUsize::new(0));
    let r = rounds.clone();
    let barrier = Arc::new(
        threading::blocking::Barrier::builder(2)
            .action(move || {
                if r.fetch_add(1, SeqCst) == 0 {
                    started.set();
                    std::thread::sleep(Duration::from_millis(150));
                }
            })
            .build()
            .unwrap(),
    );
    let first: Vec<_> = (0..2)
        .map(|_| {
            let b = barrier.clone();
            std::thread::spawn(move || b.wait())
        })
        .collect();
    action_started.wait();
    // The first round is releasing: this party waits to enter, with a 100 ms timeout that
    // the 150 ms action would use up if it counted.
    let b = barrier.clone();
    let timed = std::thread::spawn(move || b.wait_timeout(Duration::from_millis(100)));
    for t in first {
        assert!(t.join().unwrap().is_ok());
    }
    wait_until(|| barrier.n_waiting() == 1);
    assert!(
        !barrier.broken(),
        "the timed party broke the round as it entered"
    );
    assert!(barrier.wait().is_ok());
    assert!(timed.join().unwrap().is_ok());
}

/// A `reset()` that comes while the action runs takes effect after it, as in Python where
/// the action holds the lock: if the action then panics, the reset still mends the barrier.
// conformance: BA-8, BA-11
#[test]
fn reset_during_a_panicking_action_still_resets() {
    let gate = Arc::new(threading::blocking::Event::new());
    let in_action = Arc::new(threading::blocking::Event::new());
    let (g, a) = (gate.clone(), in_action.clone());
    let calls = Arc::new(AtomicUsize::new(0));
    let c = calls.clone();
    let barrier = Arc::new(
        threading::blocking::Barrier::builder(2)
            .action(move || {
                if c.fetch_add(1, SeqCst) == 0 {
                    a.set();
                    g.wait();
                    panic!("the action fails once");
                }
            })
            .build()
            .unwrap(),
    );
    let parties: Vec<_> = (0..2)
        .map(|_| {
            let b = barrier.clone();
            std::thread::spawn(move || b.wait())
        })
        .collect();
    in_action.wait();
    barrier.reset();
    gate.set();
    let outcomes: Vec<_> = parties.into_iter().map(|t| t.join()).collect();
    // One party panicked (it ran the action); the other got BrokenBarrierError.
    assert_eq!(outcomes.iter().filter(|o| o.is_err()).count(), 1);
    assert!(outcomes.iter().any(|o| matches!(o, Ok(Err(_)))));
    wait_until(|| !barrier.broken());
    let b = barrier.clone();
    let other = std::thread::spawn(move || b.wait());
    assert!(barrier.wait().is_ok());
    assert!(other.join().unwrap().is_ok());
}
