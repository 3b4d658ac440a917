//! Cancel storms: 100,000 async waits in all, dropped at random points across every waiting
//! primitive, while plain threads wait (blocking form, timed and untimed) on the same
//! instances. Beyond `tests/cancel.rs`, each wait is dropped at one of these points, chosen
//! by a seeded generator so that a failure can be replayed:
//!
//! - before its first poll;
//! - after one poll, while queued;
//! - after one poll and a random pause, in which it may have been granted or woken;
//! - right after a grant or notification made on purpose: the task holds the primitive,
//!   queues a second wait behind itself, lets go (guard, bare `release`, `set`, `notify`,
//!   the end of a thread), and drops the wait without polling it again;
//! - by `tokio::time::timeout` with a tiny random duration (0 to 300 µs);
//! - by `select!` against another branch (a yield or a tiny sleep).
//!
//! Two phases make lost wake-ups visible, which busy traffic would otherwise heal: the
//! locks' and semaphores' quiet hand-offs (no other traffic; a helper thread queued behind
//! the dropped wait must get what it was handed or woken for), and the conditions' relay
//! (one item at a time for plain threads, while tasks drop waits that may have been
//! notified).
//!
//! Afterwards everything is accounted for: semaphores are back at their initial value,
//! locks are free and acquirable from both forms, no waiter is left queued (the `Debug`
//! waiter counts), a final `notify_all` (or `set`) reaches every remaining waiter, a
//! barrier is not broken unless broken on purpose and a final round passes, and the value
//! of a joined thread went to exactly one joiner. Every storm also checks the primitive's
//! invariant throughout (never two lock holders, never more permit holders than permits).
//!
//! The drop counts are exact: each task repeats its cases until it has dropped its share
//! (bounded by an attempt count). Run with `--nocapture` to see them.

mod common;

use std::future::Future;
use std::pin::pin;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{mpsc, Arc, Mutex};
use std::time::Duration;

use common::{mt_runtime, queued, queued_digits, run_on_thread, wait_until, Lcg, FOREVER, SHORT};
use futures::poll;
use threading::{
    Barrier, BoundedSemaphore, Condition, Event, JoinError, Lock, RLock, Semaphore, Thread,
};
use tokio::runtime::Runtime;

// How the 100,000 dropped waits are split.
const LOCK_DEFAULT: usize = 12_000;
const LOCK_FAIR: usize = 12_000;
const RLOCK_DEFAULT: usize = 8_000;
const RLOCK_FAIR: usize = 8_000;
const SEMAPHORE: usize = 10_000; // half default, half fair
const BOUNDED: usize = 10_000; // half default, half fair
const EVENT: usize = 10_000;
const CONDITION_RLOCK: usize = 8_000;
const CONDITION_LOCK: usize = 8_000;
const BARRIER: usize = 8_000;
const JOIN: usize = 6_000;
const _: () = assert!(
    LOCK_DEFAULT
        + LOCK_FAIR
        + RLOCK_DEFAULT
        + RLOCK_FAIR
        + SEMAPHORE
        + BOUNDED
        + EVENT
        + CONDITION_RLOCK
        + CONDITION_LOCK
        + BARRIER
        + JOIN
        == 100_000
);

/// Tasks per storm, each dropping its share of the waits.
const TASKS: usize = 4;
/// Plain threads per storm, waiting on the same instance with the blocking form.
const THREADS: usize = 2;
/// A task gives up (and fails the test) after this many cases per wait it had to drop.
const ATTEMPTS_PER_DROP: usize = 50;
/// The most iterations a plain thread runs before it stops on its own.
const THREAD_ITERATIONS: usize = 1_000_000;

/// A tiny random duration for timeouts and pauses: 0 to 300 µs.
fn tiny(rng: &mut Lcg) -> Duration {
    Duration::from_micros(rng.next() % 300)
}

/// Track how many holders are inside at once; more than `max` is a failure.
struct Inside {
    now: AtomicUsize,
    max: usize,
}

impl Inside {
    fn new(max: usize) -> Self {
        Self {
            now: AtomicUsize::new(0),
            max,
        }
    }

    fn enter(&self) {
        let n = self.now.fetch_add(1, Ordering::SeqCst) + 1;
        assert!(n <= self.max, "{n} holders at once, at most {}", self.max);
    }

    fn leave(&self) {
        self.now.fetch_sub(1, Ordering::SeqCst);
    }

    /// Enter, stay a moment (a plain thread), leave.
    fn visit_blocking(&self, rng: &mut Lcg) {
        self.enter();
        if rng.next() % 4 == 0 {
            std::thread::yield_now();
        }
        self.leave();
    }

    /// Enter, stay a moment (a task, which may move to the other worker), leave.
    async fn visit(&self, rng: &mut Lcg) {
        self.enter();
        if rng.next() % 4 == 0 {
            tokio::task::yield_now().await;
        }
        self.leave();
    }
}

/// A short random pause in a task: nothing, yields, or a tiny sleep.
async fn pause(rng: &mut Lcg) {
    match rng.next() % 4 {
        0 => {}
        1 => tokio::task::yield_now().await,
        2 => {
            for _ in 0..1 + rng.next() % 4 {
                tokio::task::yield_now().await;
            }
        }
        _ => tokio::time::sleep(tiny(rng)).await,
    }
}

/// Drive `fut` to a random point and drop it there: before its first poll, after one poll,
/// after one poll and a pause (in which it may be granted or woken), by
/// `tokio::time::timeout`, or by `select!` against a yield or a tiny sleep. `None` if it was
/// dropped unfinished; its output if it finished first.
async fn drop_at_random<F: Future>(fut: F, rng: &mut Lcg) -> Option<F::Output> {
    let mut fut = pin!(fut);
    match rng.next() % 6 {
        0 => None,
        1 => match poll!(fut.as_mut()) {
            std::task::Poll::Ready(v) => Some(v),
            std::task::Poll::Pending => None,
        },
        2 => match poll!(fut.as_mut()) {
            std::task::Poll::Ready(v) => Some(v),
            std::task::Poll::Pending => {
                pause(rng).await;
                None
            }
        },
        3 | 4 => tokio::time::timeout(tiny(rng), fut).await.ok(),
        _ => {
            if rng.next() % 2 == 0 {
                tokio::select! {
                    v = fut.as_mut() => Some(v),
                    _ = tokio::task::yield_now() => None,
                }
            } else {
                let d = tiny(rng);
                tokio::select! {
                    v = fut.as_mut() => Some(v),
                    _ = tokio::time::sleep(d) => None,
                }
            }
        }
    }
}

/// Poll `fut` once; if it queued, run `grant` (which lets it be granted or woken), pause at
/// random, and drop it unpolled. Whether it was dropped unfinished (false: it finished at
/// its first poll; `grant` still runs).
async fn drop_after_grant<F: Future>(fut: F, grant: impl FnOnce(), rng: &mut Lcg) -> bool {
    let mut fut = pin!(fut);
    let ready = poll!(fut.as_mut()).is_ready();
    grant();
    if !ready {
        pause(rng).await;
    }
    !ready
}

/// Repeat `case` (an expression evaluating to whether it dropped a wait) until `share`
/// waits were dropped; fails after `share * ATTEMPTS_PER_DROP` cases. Evaluates to the
/// number of cases run.
macro_rules! until_dropped {
    ($share:expr, $case:expr) => {{
        let share: usize = $share;
        let (mut dropped, mut attempts) = (0usize, 0usize);
        while dropped < share {
            attempts += 1;
            assert!(
                attempts <= share * ATTEMPTS_PER_DROP,
                "only {dropped} of {share} waits dropped in {attempts} cases"
            );
            if $case {
                dropped += 1;
            }
        }
        attempts
    }};
}

/// Await every task; the number of cases they ran.
fn join_tasks(rt: &Runtime, tasks: Vec<tokio::task::JoinHandle<usize>>) -> usize {
    rt.block_on(async {
        let mut cases = 0;
        for t in tasks {
            cases += t
                .await
                .unwrap_or_else(|e| std::panic::resume_unwind(e.into_panic()));
        }
        cases
    })
}

fn join_threads<T>(threads: Vec<std::thread::JoinHandle<T>>) -> Vec<T> {
    threads
        .into_iter()
        .map(|t| t.join().unwrap_or_else(|p| std::panic::resume_unwind(p)))
        .collect()
}

fn report(what: &str, dropped: usize, cases: usize) {
    eprintln!("storm: {what}: {dropped} async waits dropped in {cases} cases");
}

/// Quiet hand-offs per lock or semaphore storm (part of its quota), run after the storm.
const QUIET: usize = 250;

/// A plain thread that takes (owned guards, blocking form) and gives back one permit or
/// the lock per command, and acknowledges each once done.
struct Helper {
    cmd: mpsc::Sender<bool>,
    ack: tokio::sync::mpsc::UnboundedReceiver<()>,
    thread: std::thread::JoinHandle<()>,
}

impl Helper {
    /// `acquire` runs on the helper's thread, and so does the guard's drop.
    fn new<G>(acquire: impl Fn() -> G + Send + 'static) -> Self {
        let (cmd, commands) = mpsc::channel::<bool>();
        let (ack_tx, ack) = tokio::sync::mpsc::unbounded_channel();
        let thread = std::thread::spawn(move || {
            let mut held = Vec::new();
            while let Ok(take) = commands.recv() {
                if take {
                    held.push(acquire());
                } else {
                    held.pop().expect("something to give back");
                }
                if ack_tx.send(()).is_err() {
                    break;
                }
            }
        });
        Self { cmd, ack, thread }
    }

    /// Ask for a take (`true`) or a give-back, without waiting for it.
    fn send(&self, take: bool) {
        self.cmd.send(take).expect("the helper thread runs");
    }

    /// Wait for the acknowledgement of the oldest command; a helper stuck in a wait that
    /// nobody ends (a lost wake-up) fails the test.
    async fn acked(&mut self) {
        tokio::time::timeout(common::LATE, self.ack.recv())
            .await
            .expect("the helper thread never got it: a lost wake-up or hand-off")
            .expect("the helper thread runs");
    }

    async fn take(&mut self) {
        self.send(true);
        self.acked().await;
    }

    async fn give(&mut self) {
        self.send(false);
        self.acked().await;
    }

    fn finish(self) {
        drop(self.cmd);
        self.thread.join().unwrap();
    }
}

/// A boxed async acquire whose output is dropped at once.
type Wait<'a> = std::pin::Pin<Box<dyn Future<Output = ()> + Send + 'a>>;

/// Hand-offs with no other traffic to mask a lost wake-up: helper `h1` holds every permit,
/// an async wait queues at the front, helper `h2` queues behind it, `h1` lets one go, and
/// the async wait is dropped unpolled (at once or after a pause): whatever it was handed
/// or woken for must reach `h2`, or `h2` never acknowledges and the test fails. Run inside
/// `block_on`, outside any task (an `RLock`'s owner is then this thread).
async fn quiet_handoffs<'a>(
    permits: usize,
    seed: u64,
    waiters: impl Fn() -> usize,
    wait: impl Fn(u64) -> Wait<'a>,
    mut h1: Helper,
    mut h2: Helper,
) {
    let mut rng = Lcg(seed);
    for _ in 0..QUIET {
        for _ in 0..permits {
            h1.take().await;
        }
        let mut f = wait(rng.next());
        assert!(poll!(f.as_mut()).is_pending(), "acquired past a holder");
        h2.send(true);
        // Spin rather than sleep: a default-policy waiter queued for about a millisecond
        // is handed the permit instead of being woken, and both paths should be taken.
        for _ in 0..1_000_000 {
            if waiters() == 2 {
                break;
            }
            std::hint::spin_loop();
        }
        common::wait_until_async(|| waiters() == 2).await;
        h1.give().await;
        pause(&mut rng).await;
        drop(f);
        h2.acked().await;
        h2.give().await;
        for _ in 1..permits {
            h1.give().await;
        }
    }
    h1.finish();
    h2.finish();
}

// ---------------------------------------------------------------------------------------
// Lock
// ---------------------------------------------------------------------------------------

/// One task case on a `Lock`; whether it dropped a wait.
async fn lock_case(lock: &Arc<Lock>, inside: &Inside, rng: &mut Lcg) -> bool {
    match rng.next() % 6 {
        // Hold it, queue behind ourselves, let go (guard or bare release), drop the wait.
        0 | 1 => {
            let g = lock.acquire().await;
            inside.visit(rng).await;
            let bare = rng.next() % 2 == 0;
            let grant = move || {
                if bare {
                    g.forget();
                    lock.release().expect("held by the forgotten guard");
                } else {
                    drop(g);
                }
            };
            if rng.next() % 2 == 0 {
                drop_after_grant(lock.acquire(), grant, rng).await
            } else {
                drop_after_grant(lock.acquire_owned(), grant, rng).await
            }
        }
        2 | 3 => match drop_at_random(lock.acquire(), rng).await {
            Some(_g) => {
                inside.visit(rng).await;
                false
            }
            None => true,
        },
        4 => match drop_at_random(lock.acquire_owned(), rng).await {
            Some(_g) => {
                inside.visit(rng).await;
                false
            }
            None => true,
        },
        _ => {
            let d = tiny(rng);
            match drop_at_random(lock.acquire_timeout(d), rng).await {
                Some(Some(_g)) => {
                    inside.visit(rng).await;
                    false
                }
                Some(None) => false,
                None => true,
            }
        }
    }
}

fn lock_storm(lock: Arc<Lock>, quota: usize, seed: u64) {
    let rt = mt_runtime();
    let inside = Arc::new(Inside::new(1));
    let stop = Arc::new(AtomicBool::new(false));

    let threads: Vec<_> = (0..THREADS as u64)
        .map(|i| {
            let (lock, inside, stop) = (lock.clone(), inside.clone(), stop.clone());
            std::thread::spawn(move || {
                let (l, mut rng) = (lock.blocking(), Lcg(seed + 100 + i));
                for _ in 0..THREAD_ITERATIONS {
                    if stop.load(Ordering::Relaxed) {
                        break;
                    }
                    let g = match rng.next() % 4 {
                        0 => Some(l.acquire()),
                        1 => l.try_acquire(),
                        _ => l.acquire_timeout(tiny(&mut rng)),
                    };
                    if let Some(g) = g {
                        inside.visit_blocking(&mut rng);
                        drop(g);
                    }
                }
            })
        })
        .collect();

    let tasks: Vec<_> = (0..TASKS as u64)
        .map(|i| {
            let (lock, inside) = (lock.clone(), inside.clone());
            rt.spawn(async move {
                let mut rng = Lcg(seed + i);
                until_dropped!(
                    (quota - QUIET) / TASKS,
                    lock_case(&lock, &inside, &mut rng).await
                )
            })
        })
        .collect();
    let cases = join_tasks(&rt, tasks);
    stop.store(true, Ordering::Relaxed);
    join_threads(threads);

    let (l1, l2) = (lock.clone().into_blocking(), lock.clone().into_blocking());
    rt.block_on(quiet_handoffs(
        1,
        seed + 300,
        || queued(&*lock),
        |k| -> Wait<'_> {
            match k % 3 {
                0 => Box::pin(async { drop(lock.acquire().await) }),
                1 => Box::pin(async { drop(lock.acquire_owned().await) }),
                _ => Box::pin(async { drop(lock.acquire_timeout(FOREVER).await) }),
            }
        },
        Helper::new(move || l1.acquire_owned()),
        Helper::new(move || l2.acquire_owned()),
    ));

    assert!(!lock.locked(), "stranded after the storm: {lock:?}");
    assert_eq!(queued(&*lock), 0, "{lock:?}");
    drop(lock.blocking().try_acquire().expect("free for a thread"));
    drop(
        lock.blocking()
            .acquire_timeout(SHORT)
            .expect("free for a thread"),
    );
    drop(rt.block_on(lock.acquire()));
    drop(
        rt.block_on(lock.acquire_timeout(SHORT))
            .expect("free for a task"),
    );
    let kind = if lock.is_fair() { "fair" } else { "default" };
    report(&format!("Lock ({kind})"), quota, cases + QUIET);
}

// conformance
#[test]
fn lock_default_storm() {
    run_on_thread(|| lock_storm(Arc::new(Lock::new()), LOCK_DEFAULT, 1));
}

// conformance
#[test]
fn lock_fair_storm() {
    run_on_thread(|| lock_storm(Arc::new(Lock::new_fair()), LOCK_FAIR, 2));
}

// ---------------------------------------------------------------------------------------
// RLock
// ---------------------------------------------------------------------------------------

/// One task case on an `RLock`; whether it dropped a wait.
async fn rlock_case(lock: &Arc<RLock>, inside: &Inside, rng: &mut Lcg) -> bool {
    /// A guard won: re-enter once (never waits), check the depth, leave.
    async fn held(lock: &RLock, inside: &Inside, rng: &mut Lcg) {
        inside.enter();
        let inner = lock.acquire().await;
        assert_eq!(lock.recursion_count(), 2);
        pause(rng).await; // may move to the other worker: still the owner
        drop(inner);
        inside.leave();
    }

    match rng.next() % 6 {
        // Another owner (a task, or a thread of the blocking pool with the blocking form)
        // holds it; queue behind it, let it go, drop the wait right after the hand-off.
        0 | 1 => {
            let (held_tx, held_rx) = tokio::sync::oneshot::channel();
            let (go_tx, go_rx) = tokio::sync::oneshot::channel::<()>();
            let holder = if rng.next() % 2 == 0 {
                let lock = lock.clone();
                tokio::spawn(async move {
                    let _g = lock.acquire().await;
                    let _ = held_tx.send(());
                    let _ = go_rx.await;
                })
            } else {
                let lock = lock.clone().into_blocking();
                tokio::task::spawn_blocking(move || {
                    let _g = lock.acquire();
                    let _ = held_tx.send(());
                    let _ = go_rx.blocking_recv();
                })
            };
            held_rx.await.expect("the holder took the lock");
            let grant = || {
                go_tx.send(()).expect("the holder waits");
            };
            let dropped = if rng.next() % 2 == 0 {
                let mut fut = pin!(lock.acquire());
                let ready = poll!(fut.as_mut()).is_ready();
                assert!(!ready, "acquired an RLock that another owner holds");
                grant();
                holder.await.unwrap(); // the guard is gone: the lock went to a waiter or is free
                pause(rng).await;
                true
            } else {
                drop_after_grant(lock.acquire_owned(), grant, rng).await
            };
            // In the second form the holder may still be letting go.
            dropped
        }
        2 | 3 => match drop_at_random(lock.acquire(), rng).await {
            Some(_g) => {
                held(lock, inside, rng).await;
                false
            }
            None => true,
        },
        4 => match drop_at_random(lock.acquire_owned(), rng).await {
            Some(_g) => {
                held(lock, inside, rng).await;
                false
            }
            None => true,
        },
        _ => {
            let d = tiny(rng);
            match drop_at_random(lock.acquire_timeout(d), rng).await {
                Some(Some(_g)) => {
                    held(lock, inside, rng).await;
                    false
                }
                Some(None) => false,
                None => true,
            }
        }
    }
}

fn rlock_storm(lock: Arc<RLock>, quota: usize, seed: u64) {
    let rt = mt_runtime();
    let inside = Arc::new(Inside::new(1));
    let stop = Arc::new(AtomicBool::new(false));

    let threads: Vec<_> = (0..THREADS as u64)
        .map(|i| {
            let (lock, inside, stop) = (lock.clone(), inside.clone(), stop.clone());
            std::thread::spawn(move || {
                let (l, mut rng) = (lock.blocking(), Lcg(seed + 100 + i));
                for _ in 0..THREAD_ITERATIONS {
                    if stop.load(Ordering::Relaxed) {
                        break;
                    }
                    let g = match rng.next() % 4 {
                        0 => Some(l.acquire()),
                        1 => l.try_acquire(),
                        _ => l.acquire_timeout(tiny(&mut rng)),
                    };
                    if let Some(g) = g {
                        inside.enter();
                        let inner = l.acquire_timeout(Duration::ZERO).expect("re-entry");
                        assert_eq!(l.recursion_count(), 2);
                        drop(inner);
                        inside.leave();
                        drop(g);
                    }
                }
            })
        })
        .collect();

    let tasks: Vec<_> = (0..TASKS as u64)
        .map(|i| {
            let (lock, inside) = (lock.clone(), inside.clone());
            rt.spawn(async move {
                let mut rng = Lcg(seed + i);
                until_dropped!(
                    (quota - QUIET) / TASKS,
                    rlock_case(&lock, &inside, &mut rng).await
                )
            })
        })
        .collect();
    let cases = join_tasks(&rt, tasks);
    stop.store(true, Ordering::Relaxed);
    join_threads(threads);
    // Let the last blocking-pool holders finish.
    rt.block_on(common::wait_until_async(|| !lock.locked()));

    let (l1, l2) = (lock.clone().into_blocking(), lock.clone().into_blocking());
    rt.block_on(quiet_handoffs(
        1,
        seed + 300,
        || queued(&*lock),
        |k| -> Wait<'_> {
            match k % 3 {
                0 => Box::pin(async { drop(lock.acquire().await) }),
                1 => Box::pin(async { drop(lock.acquire_owned().await) }),
                _ => Box::pin(async { drop(lock.acquire_timeout(FOREVER).await) }),
            }
        },
        Helper::new(move || l1.acquire_owned()),
        Helper::new(move || l2.acquire_owned()),
    ));

    assert!(!lock.locked(), "stranded after the storm: {lock:?}");
    assert_eq!(queued(&*lock), 0, "{lock:?}");
    assert_eq!(lock.recursion_count(), 0);
    drop(lock.blocking().try_acquire().expect("free for a thread"));
    drop(
        lock.blocking()
            .acquire_timeout(SHORT)
            .expect("free for a thread"),
    );
    rt.block_on(async {
        let a = lock.acquire().await;
        let b = lock.acquire_timeout(SHORT).await.expect("re-entry");
        assert_eq!(lock.recursion_count(), 2);
        drop((b, a));
    });
    assert!(!lock.locked());
    let kind = if lock.is_fair() { "fair" } else { "default" };
    report(&format!("RLock ({kind})"), quota, cases + QUIET);
}

#[test]
fn rlock_default_storm() {
    run_on_thread(|| rlock_storm(Arc::new(RLock::new()), RLOCK_DEFAULT, 3));
}

#[test]
fn rlock_fair_storm() {
    run_on_thread(|| rlock_storm(Arc::new(RLock::new_fair()), RLOCK_FAIR, 4));
}

// ---------------------------------------------------------------------------------------
// Semaphore and BoundedSemaphore
// ---------------------------------------------------------------------------------------

const PERMITS: usize = 3;

macro_rules! semaphore_storm {
    ($storm:ident, $case:ident, $ty:ty) => {
        /// One task case; whether it dropped a wait.
        async fn $case(sem: &Arc<$ty>, inside: &Inside, rng: &mut Lcg) -> bool {
            match rng.next() % 6 {
                // Take every free permit, queue behind them, give one back (guard or bare
                // release after forget), drop the wait right after the grant.
                0 | 1 => {
                    let mut held = Vec::new();
                    while let Some(p) = sem.try_acquire() {
                        inside.enter();
                        held.push(p);
                    }
                    let bare = rng.next() % 2 == 0;
                    let grant = || {
                        if let Some(p) = held.pop() {
                            inside.leave();
                            if bare {
                                p.forget();
                                sem.release(1).expect("a forgotten permit goes back");
                            } else {
                                drop(p);
                            }
                        }
                    };
                    let dropped = if rng.next() % 2 == 0 {
                        drop_after_grant(sem.acquire(), grant, rng).await
                    } else {
                        drop_after_grant(sem.acquire_owned(), grant, rng).await
                    };
                    for p in held {
                        inside.leave();
                        drop(p);
                    }
                    dropped
                }
                2 | 3 => match drop_at_random(sem.acquire(), rng).await {
                    Some(_p) => {
                        inside.visit(rng).await;
                        false
                    }
                    None => true,
                },
                4 => match drop_at_random(sem.acquire_owned(), rng).await {
                    Some(_p) => {
                        inside.visit(rng).await;
                        false
                    }
                    None => true,
                },
                _ => {
                    let d = tiny(rng);
                    match drop_at_random(sem.acquire_timeout(d), rng).await {
                        Some(Some(_p)) => {
                            inside.visit(rng).await;
                            false
                        }
                        Some(None) => false,
                        None => true,
                    }
                }
            }
        }

        fn $storm(sem: Arc<$ty>, quota: usize, seed: u64) -> usize {
            let rt = mt_runtime();
            let inside = Arc::new(Inside::new(PERMITS));
            let stop = Arc::new(AtomicBool::new(false));

            let threads: Vec<_> = (0..THREADS as u64)
                .map(|i| {
                    let (sem, inside, stop) = (sem.clone(), inside.clone(), stop.clone());
                    std::thread::spawn(move || {
                        let (s, mut rng) = (sem.blocking(), Lcg(seed + 100 + i));
                        for _ in 0..THREAD_ITERATIONS {
                            if stop.load(Ordering::Relaxed) {
                                break;
                            }
                            let p = match rng.next() % 4 {
                                0 => Some(s.acquire()),
                                1 => s.try_acquire(),
                                _ => s.acquire_timeout(tiny(&mut rng)),
                            };
                            if let Some(p) = p {
                                inside.visit_blocking(&mut rng);
                                if rng.next() % 4 == 0 {
                                    p.forget();
                                    s.release(1).expect("a forgotten permit goes back");
                                } else {
                                    drop(p);
                                }
                            }
                        }
                    })
                })
                .collect();

            let tasks: Vec<_> = (0..TASKS as u64)
                .map(|i| {
                    let (sem, inside) = (sem.clone(), inside.clone());
                    rt.spawn(async move {
                        let mut rng = Lcg(seed + i);
                        until_dropped!(
                            (quota - QUIET) / TASKS,
                            $case(&sem, &inside, &mut rng).await
                        )
                    })
                })
                .collect();
            let cases = join_tasks(&rt, tasks);
            stop.store(true, Ordering::Relaxed);
            join_threads(threads);

            let (s1, s2) = (sem.clone().into_blocking(), sem.clone().into_blocking());
            rt.block_on(quiet_handoffs(
                PERMITS,
                seed + 300,
                || queued(&*sem),
                |k| -> Wait<'_> {
                    match k % 3 {
                        0 => Box::pin(async { drop(sem.acquire().await) }),
                        1 => Box::pin(async { drop(sem.acquire_owned().await) }),
                        _ => Box::pin(async { drop(sem.acquire_timeout(FOREVER).await) }),
                    }
                },
                Helper::new(move || s1.acquire_owned()),
                Helper::new(move || s2.acquire_owned()),
            ));

            assert_eq!(sem.value(), PERMITS, "permits lost or made: {sem:?}");
            assert_eq!(queued(&*sem), 0, "{sem:?}");
            // Every permit can be taken again, from both forms, and no more.
            let a = sem.blocking().try_acquire().expect("a permit for a thread");
            let b = rt.block_on(sem.acquire());
            let c = sem
                .blocking()
                .acquire_timeout(SHORT)
                .expect("a permit for a thread");
            assert!(sem.try_acquire().is_none(), "a fourth permit: {sem:?}");
            drop((a, b, c));
            assert_eq!(sem.value(), PERMITS);
            cases + QUIET
        }
    };
}

semaphore_storm!(semaphore_storm, semaphore_case, Semaphore);
semaphore_storm!(bounded_storm, bounded_case, BoundedSemaphore);

// conformance: A-20
#[test]
fn semaphore_storm_both_policies() {
    run_on_thread(|| {
        let half = SEMAPHORE / 2;
        let cases = semaphore_storm(Arc::new(Semaphore::new(PERMITS)), half, 5);
        report("Semaphore (default)", half, cases);
        let cases = semaphore_storm(Arc::new(Semaphore::new_fair(PERMITS)), half, 6);
        report("Semaphore (fair)", half, cases);
    });
}

// conformance
#[test]
fn bounded_semaphore_storm_both_policies() {
    run_on_thread(|| {
        let half = BOUNDED / 2;
        for (fair, seed) in [(false, 7), (true, 8)] {
            let sem = Arc::new(if fair {
                BoundedSemaphore::new_fair(PERMITS)
            } else {
                BoundedSemaphore::new(PERMITS)
            });
            let cases = bounded_storm(sem.clone(), half, seed);
            // Still bounded: a release past the initial value is refused and changes nothing.
            assert!(sem.release(1).is_err());
            assert!(sem.blocking().release(1).is_err());
            assert_eq!(sem.value(), PERMITS);
            let kind = if fair { "fair" } else { "default" };
            report(&format!("BoundedSemaphore ({kind})"), half, cases);
        }
    });
}

// ---------------------------------------------------------------------------------------
// Event
// ---------------------------------------------------------------------------------------

/// One task case on an `Event`; whether it dropped a wait.
async fn event_case(event: &Event, rng: &mut Lcg) -> bool {
    match rng.next() % 5 {
        // Queue, set it (either form), drop the woken wait unpolled, maybe clear again.
        0 | 1 => {
            let blocking = rng.next() % 2 == 0;
            let dropped = drop_after_grant(
                event.wait(),
                || {
                    if blocking {
                        event.blocking().set();
                    } else {
                        event.set();
                    }
                },
                rng,
            )
            .await;
            if rng.next() % 4 != 0 {
                event.clear();
            }
            dropped
        }
        2 | 3 => drop_at_random(event.wait(), rng).await.is_none(),
        _ => {
            let d = if rng.next() % 2 == 0 {
                tiny(rng)
            } else {
                FOREVER
            };
            drop_at_random(event.wait_timeout(d), rng).await.is_none()
        }
    }
}

// conformance: A-10
#[test]
fn event_storm() {
    run_on_thread(|| {
        let rt = mt_runtime();
        let event = Arc::new(Event::new());
        let stop = Arc::new(AtomicBool::new(false));
        let seed = 9;

        let threads: Vec<_> = (0..THREADS as u64)
            .map(|i| {
                let (event, stop) = (event.clone(), stop.clone());
                std::thread::spawn(move || {
                    let (e, mut rng) = (event.blocking(), Lcg(seed + 100 + i));
                    for _ in 0..THREAD_ITERATIONS {
                        if stop.load(Ordering::Relaxed) {
                            break;
                        }
                        match rng.next() % 8 {
                            // Untimed: the tasks set it often, and it is left set at the end.
                            0 => e.wait(),
                            1 => e.set(),
                            2 => e.clear(),
                            _ => {
                                e.wait_timeout(tiny(&mut rng));
                            }
                        }
                    }
                })
            })
            .collect();

        let tasks: Vec<_> = (0..TASKS as u64)
            .map(|i| {
                let event = event.clone();
                rt.spawn(async move {
                    let mut rng = Lcg(seed + i);
                    until_dropped!(EVENT / TASKS, event_case(&event, &mut rng).await)
                })
            })
            .collect();
        let cases = join_tasks(&rt, tasks);
        stop.store(true, Ordering::Relaxed);
        event.set(); // ends the threads' untimed waits
        join_threads(threads);
        assert_eq!(queued_digits(&*event), 0, "{event:?}");

        // A final set reaches every waiter, tasks and threads.
        event.clear();
        let waiters: Vec<_> = (0..TASKS)
            .map(|_| {
                let e = event.clone();
                rt.spawn(async move { e.wait().await })
            })
            .collect();
        let threads: Vec<_> = (0..THREADS)
            .map(|_| {
                let e = event.clone();
                std::thread::spawn(move || e.blocking().wait())
            })
            .collect();
        wait_until(|| queued_digits(&*event) == TASKS + THREADS);
        event.blocking().set();
        rt.block_on(async {
            for w in waiters {
                common::join_task(w).await;
            }
        });
        for t in threads {
            common::join_thread(t);
        }
        assert_eq!(queued_digits(&*event), 0, "{event:?}");
        report("Event", EVENT, cases);
    });
}

// ---------------------------------------------------------------------------------------
// Condition
// ---------------------------------------------------------------------------------------

/// What a condition storm shares.
struct CondShared<C> {
    cond: C,
    inside: Inside,
    /// Items made by notifiers and taken by `wait_for` predicates, under the lock.
    tokens: AtomicUsize,
    /// The storm is over: plain threads leave their loops.
    stop: AtomicBool,
    /// The final `notify_all` is coming: final waits may return.
    release: AtomicBool,
    /// Items made so far by the relay's notifier.
    issued: AtomicUsize,
    /// Dropped waits by kind: `wait`, `wait_for`, `wait_timeout`, `wait_for_timeout`.
    by_kind: [AtomicUsize; 4],
}

impl<C> CondShared<C> {
    fn new(cond: C) -> Self {
        Self {
            cond,
            inside: Inside::new(1),
            tokens: AtomicUsize::new(0),
            stop: AtomicBool::new(false),
            release: AtomicBool::new(false),
            issued: AtomicUsize::new(0),
            by_kind: Default::default(),
        }
    }

    /// Take a token if there is one (called under the lock).
    fn take(&self) -> bool {
        self.tokens
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |t| t.checked_sub(1))
            .is_ok()
    }
}

macro_rules! condition_storm {
    ($storm:ident, $case:ident, $relay:ident, $relay_case:ident, $lock:ty, $deep:expr) => {
        /// One task case; whether it dropped a wait.
        async fn $case(s: &CondShared<Condition<$lock>>, rng: &mut Lcg) -> bool {
            let cond = &s.cond;
            // On an RLock, sometimes hold it two deep: a dropped wait leaves `outer` inert.
            let outer = if $deep && rng.next() % 4 == 0 {
                Some(cond.acquire().await)
            } else {
                None
            };
            let g = cond.acquire().await;
            s.inside.visit(rng).await;
            if rng.next() % 8 == 0 {
                // A notifier: make an item and wake one waiter or all.
                s.tokens.fetch_add(1, Ordering::SeqCst);
                if rng.next() % 2 == 0 {
                    cond.notify(&g, 1);
                } else {
                    cond.notify_all(&g);
                }
                return false;
            }
            let kind = (rng.next() % 4) as usize;
            let dropped = if rng.next() % 3 == 0 {
                // Queue, then notify from this task (holding the lock again), and drop the
                // wait: before or after letting go, or after one more poll that moves a
                // notified wait on to retaking the lock (which this task holds).
                let d = tiny(rng);
                let wait: std::pin::Pin<Box<dyn Future<Output = _> + Send + '_>> = match kind {
                    0 => Box::pin(async move { (cond.wait(g).await, true) }),
                    1 => Box::pin(async move { (cond.wait_for(g, || s.take()).await, true) }),
                    2 => Box::pin(cond.wait_timeout(g, d)),
                    _ => Box::pin(cond.wait_for_timeout(g, || s.take(), d)),
                };
                let mut wait = wait;
                if poll!(wait.as_mut()).is_ready() {
                    false
                } else {
                    let g2 = cond.acquire().await;
                    s.inside.enter();
                    s.tokens.fetch_add(1, Ordering::SeqCst);
                    if rng.next() % 2 == 0 {
                        cond.notify(&g2, 1);
                    } else {
                        cond.notify_all(&g2);
                    }
                    s.inside.leave();
                    match rng.next() % 3 {
                        0 => {
                            drop(wait);
                            drop(g2);
                        }
                        1 => {
                            assert!(
                                poll!(wait.as_mut()).is_pending(),
                                "a wait took back the lock that this task holds"
                            );
                            drop(wait);
                            drop(g2);
                        }
                        _ => {
                            drop(g2);
                            pause(rng).await;
                            drop(wait);
                        }
                    }
                    true
                }
            } else {
                let d = tiny(rng);
                let g = match kind {
                    0 => drop_at_random(cond.wait(g), rng).await,
                    1 => drop_at_random(cond.wait_for(g, || s.take()), rng).await,
                    2 => drop_at_random(cond.wait_timeout(g, d), rng)
                        .await
                        .map(|r| r.0),
                    _ => drop_at_random(cond.wait_for_timeout(g, || s.take(), d), rng)
                        .await
                        .map(|r| r.0),
                };
                match g {
                    Some(g) => {
                        // Woken or timed out: the lock is held again.
                        s.inside.visit(rng).await;
                        drop(g);
                        false
                    }
                    None => true,
                }
            };
            if dropped {
                s.by_kind[kind].fetch_add(1, Ordering::Relaxed);
            }
            drop(outer);
            dropped
        }

        /// One task case of the relay; whether it dropped a wait. A wait that returns
        /// notified passes the notification on itself (tasks take no items), so every
        /// notification ends with a plain thread unless a dropped wait loses it.
        async fn $relay_case(s: &CondShared<Condition<$lock>>, rng: &mut Lcg) -> bool {
            let cond = &s.cond;
            let g = cond.acquire().await;
            if rng.next() % 3 == 0 {
                // Stay queued until the notifier has made its next item, then drop the wait
                // at once: if it was at the front, the notification was its to pass on.
                let mut wait = pin!(cond.wait(g));
                let before = s.issued.load(Ordering::SeqCst);
                if let std::task::Poll::Ready(g) = poll!(wait.as_mut()) {
                    cond.notify(&g, 1);
                    return false;
                }
                for _ in 0..100_000 {
                    if s.issued.load(Ordering::SeqCst) != before {
                        break;
                    }
                    tokio::task::yield_now().await;
                }
                s.by_kind[0].fetch_add(1, Ordering::Relaxed);
                return true;
            }
            let timed = rng.next() % 2 == 0;
            let r = if timed {
                let d = tiny(rng);
                drop_at_random(cond.wait_timeout(g, d), rng).await
            } else {
                drop_at_random(cond.wait(g), rng).await.map(|g| (g, true))
            };
            match r {
                Some((g, notified)) => {
                    if notified {
                        cond.notify(&g, 1);
                    }
                    false
                }
                None => {
                    s.by_kind[if timed { 2 } else { 0 }].fetch_add(1, Ordering::Relaxed);
                    true
                }
            }
        }

        /// The relay: plain threads wait (untimed) for items; a notifier makes one item at
        /// a time with `notify(1)` and waits until a thread took it, while tasks queue
        /// waits and drop them at random points. A notification lost by a dropped wait
        /// leaves the item untaken and the threads asleep, and fails the wait for it.
        fn $relay(
            s: &Arc<CondShared<Condition<$lock>>>,
            rt: &Runtime,
            quota: usize,
            seed: u64,
        ) -> usize {
            s.stop.store(false, Ordering::SeqCst);
            let taken = Arc::new(AtomicUsize::new(0));
            let threads: Vec<_> = (0..THREADS)
                .map(|_| {
                    let (s, taken) = (s.clone(), taken.clone());
                    std::thread::spawn(move || {
                        let c = s.cond.blocking();
                        for _ in 0..THREAD_ITERATIONS {
                            let mut took = false;
                            let g = c.acquire();
                            let g = c.wait_for(g, || {
                                took = s.take();
                                took || s.stop.load(Ordering::SeqCst)
                            });
                            drop(g);
                            if !took {
                                break;
                            }
                            taken.fetch_add(1, Ordering::SeqCst);
                        }
                    })
                })
                .collect();
            let running = Arc::new(AtomicUsize::new(TASKS));
            let tasks: Vec<_> = (0..TASKS as u64)
                .map(|i| {
                    let (s, running) = (s.clone(), running.clone());
                    rt.spawn(async move {
                        let mut rng = Lcg(seed + 200 + i);
                        let cases = until_dropped!(quota / TASKS, $relay_case(&s, &mut rng).await);
                        running.fetch_sub(1, Ordering::SeqCst);
                        cases
                    })
                })
                .collect();
            let mut items = 0;
            for _ in 0..THREAD_ITERATIONS {
                if running.load(Ordering::SeqCst) == 0 {
                    break;
                }
                {
                    let c = s.cond.blocking();
                    let g = c.acquire();
                    s.tokens.fetch_add(1, Ordering::SeqCst);
                    c.notify(&g, 1);
                    s.issued.fetch_add(1, Ordering::SeqCst);
                }
                items += 1;
                wait_until(|| taken.load(Ordering::SeqCst) == items);
            }
            let cases = join_tasks(rt, tasks);
            {
                let c = s.cond.blocking();
                let g = c.acquire();
                s.stop.store(true, Ordering::SeqCst);
                c.notify_all(&g);
            }
            for t in threads {
                common::join_thread(t);
            }
            assert!(items > 0);
            eprintln!("storm: condition relay: {items} items, each taken by a plain thread");
            assert_eq!(s.tokens.load(Ordering::SeqCst), 0);
            assert_eq!(queued(&s.cond), 0, "{:?}", s.cond);
            assert!(!s.cond.locked(), "stranded after the relay: {:?}", s.cond);
            cases
        }

        fn $storm(cond: Condition<$lock>, quota: usize, seed: u64) -> ([usize; 4], usize) {
            let rt = mt_runtime();
            let s = Arc::new(CondShared::new(cond));
            let (relay_quota, quota) = (quota / 4, quota - quota / 4);
            let (done_tx, done_rx) = mpsc::channel();

            let threads: Vec<_> = (0..THREADS as u64)
                .map(|i| {
                    let s = s.clone();
                    std::thread::spawn(move || {
                        let (c, mut rng) = (s.cond.blocking(), Lcg(seed + 100 + i));
                        for _ in 0..THREAD_ITERATIONS {
                            if s.stop.load(Ordering::SeqCst) {
                                break;
                            }
                            let g = c.acquire();
                            s.inside.visit_blocking(&mut rng);
                            let g = match rng.next() % 6 {
                                0 => {
                                    s.tokens.fetch_add(1, Ordering::SeqCst);
                                    c.notify(&g, 1);
                                    g
                                }
                                1 => c.wait_timeout(g, tiny(&mut rng)).0,
                                2 => c.wait_for_timeout(g, || s.take(), tiny(&mut rng)).0,
                                // Untimed: ends with an item or at the end of the storm.
                                3 => c.wait_for(g, || s.stop.load(Ordering::SeqCst) || s.take()),
                                _ => c.wait_timeout(g, tiny(&mut rng)).0,
                            };
                            s.inside.visit_blocking(&mut rng);
                            drop(g);
                        }
                        // The final wait, for the final notify_all.
                        let g = c.acquire();
                        drop(c.wait_for(g, || s.release.load(Ordering::SeqCst)));
                    })
                })
                .collect();

            let tasks: Vec<_> = (0..TASKS as u64)
                .map(|i| {
                    let (s, done) = (s.clone(), done_tx.clone());
                    rt.spawn(async move {
                        let mut rng = Lcg(seed + i);
                        let cases = until_dropped!(quota / TASKS, $case(&s, &mut rng).await);
                        done.send(()).unwrap();
                        // The final wait, for the final notify_all.
                        let g = s.cond.acquire().await;
                        drop(
                            s.cond
                                .wait_for(g, || s.release.load(Ordering::SeqCst))
                                .await,
                        );
                        cases
                    })
                })
                .collect();
            for _ in 0..TASKS {
                done_rx
                    .recv_timeout(common::WATCHDOG)
                    .expect("a task ended its storm");
            }
            {
                // End the threads' loops (and wake their untimed waits).
                let g = s.cond.blocking().acquire();
                s.stop.store(true, Ordering::SeqCst);
                s.cond.blocking().notify_all(&g);
            }
            // Everyone, tasks and threads, ends up in its final wait, and nobody else waits.
            wait_until(|| queued(&s.cond) == TASKS + THREADS);
            {
                let g = s.cond.blocking().acquire();
                s.release.store(true, Ordering::SeqCst);
                s.cond.blocking().notify_all(&g);
            }
            let cases = rt.block_on(async {
                let mut cases = 0;
                for t in tasks {
                    cases += common::join_task(t).await;
                }
                cases
            });
            for t in threads {
                common::join_thread(t);
            }

            assert_eq!(queued(&s.cond), 0, "{:?}", s.cond);
            assert!(!s.cond.locked(), "stranded after the storm: {:?}", s.cond);
            assert_eq!(queued(&**s.cond.lock()), 0, "{:?}", s.cond.lock());
            // The lock is acquirable from both forms, and waits still work.
            drop(s.cond.blocking().try_acquire().expect("free for a thread"));
            rt.block_on(async {
                let g = s.cond.acquire().await;
                let (g, notified) = s.cond.wait_timeout(g, Duration::from_millis(1)).await;
                assert!(!notified);
                drop(g);
            });
            assert!(!s.cond.locked());
            s.tokens.store(0, Ordering::SeqCst);
            let cases = cases + $relay(&s, &rt, relay_quota, seed);
            (
                std::array::from_fn(|k| s.by_kind[k].load(Ordering::Relaxed)),
                cases,
            )
        }
    };
}

condition_storm!(
    condition_rlock_storm,
    condition_rlock_case,
    condition_rlock_relay,
    condition_rlock_relay_case,
    RLock,
    true
);
condition_storm!(
    condition_lock_storm,
    condition_lock_case,
    condition_lock_relay,
    condition_lock_relay_case,
    Lock,
    false
);

fn report_condition(what: &str, quota: usize, (by_kind, cases): ([usize; 4], usize)) {
    assert_eq!(by_kind.iter().sum::<usize>(), quota);
    eprintln!(
        "storm: {what}: {quota} async waits dropped in {cases} cases (wait {}, wait_for {}, \
         wait_timeout {}, wait_for_timeout {})",
        by_kind[0], by_kind[1], by_kind[2], by_kind[3]
    );
}

// conformance
#[test]
fn condition_over_rlock_storm() {
    run_on_thread(|| {
        let by_kind = condition_rlock_storm(Condition::new(), CONDITION_RLOCK, 10);
        report_condition("Condition (RLock)", CONDITION_RLOCK, by_kind);
    });
}

// conformance
#[test]
fn condition_over_lock_storm() {
    run_on_thread(|| {
        let cond = Condition::with_lock(Arc::new(Lock::new()));
        let by_kind = condition_lock_storm(cond, CONDITION_LOCK, 11);
        report_condition("Condition (Lock)", CONDITION_LOCK, by_kind);
    });
}

// ---------------------------------------------------------------------------------------
// Barrier
// ---------------------------------------------------------------------------------------

const PARTIES: usize = 3;

/// One task case on a `Barrier`; whether it dropped a wait.
async fn barrier_case(barrier: &Barrier, rounds: &AtomicUsize, rng: &mut Lcg) -> bool {
    let check = |r: Result<usize, threading::BrokenBarrierError>| {
        let i = r.expect("nobody breaks the barrier during the storm");
        assert!(i < PARTIES, "index {i}");
    };
    match rng.next() % 5 {
        // Queue in the filling round, let the round pass (the threads come back), drop the
        // released wait unpolled: it just leaves.
        0 => {
            let mut fut = pin!(barrier.wait());
            let before = rounds.load(Ordering::SeqCst);
            match poll!(fut.as_mut()) {
                std::task::Poll::Ready(r) => {
                    check(r);
                    false
                }
                std::task::Poll::Pending => {
                    for _ in 0..100_000 {
                        if rounds.load(Ordering::SeqCst) != before {
                            break;
                        }
                        tokio::task::yield_now().await;
                    }
                    pause(rng).await;
                    true
                }
            }
        }
        // Wait it out now and then, so that rounds pass with tasks in them.
        1 => {
            check(barrier.wait().await);
            false
        }
        2 | 3 => match drop_at_random(barrier.wait(), rng).await {
            Some(r) => {
                check(r);
                false
            }
            None => true,
        },
        _ => match drop_at_random(barrier.wait_timeout(FOREVER), rng).await {
            Some(r) => {
                check(r);
                false
            }
            None => true,
        },
    }
}

// conformance: A-23, BA-5, BA-12, BA-20
#[test]
fn barrier_storm() {
    run_on_thread(|| {
        let rt = mt_runtime();
        let rounds = Arc::new(AtomicUsize::new(0));
        let barrier = Arc::new({
            let rounds = rounds.clone();
            Barrier::builder(PARTIES)
                .action(move || {
                    rounds.fetch_add(1, Ordering::SeqCst);
                })
                .build()
                .unwrap()
        });
        let stop = Arc::new(AtomicBool::new(false));
        let alive = Arc::new(AtomicUsize::new(THREADS));
        let seed = 12;

        // Two parties are plain threads that come back round after round (some waits timed,
        // with a timeout that never runs out: a timed wait that ran out would break it).
        let threads: Vec<_> = (0..THREADS as u64)
            .map(|i| {
                let (barrier, stop, alive) = (barrier.clone(), stop.clone(), alive.clone());
                std::thread::spawn(move || {
                    let (b, mut rng) = (barrier.blocking(), Lcg(seed + 100 + i));
                    for _ in 0..THREAD_ITERATIONS {
                        if stop.load(Ordering::SeqCst) {
                            break;
                        }
                        let r = if rng.next() % 2 == 0 {
                            b.wait()
                        } else {
                            b.wait_timeout(FOREVER)
                        };
                        assert!(r.expect("not broken during the storm") < PARTIES);
                    }
                    alive.fetch_sub(1, Ordering::SeqCst);
                })
            })
            .collect();

        let tasks: Vec<_> = (0..TASKS as u64)
            .map(|i| {
                let (barrier, rounds) = (barrier.clone(), rounds.clone());
                rt.spawn(async move {
                    let mut rng = Lcg(seed + i);
                    until_dropped!(
                        BARRIER / TASKS,
                        barrier_case(&barrier, &rounds, &mut rng).await
                    )
                })
            })
            .collect();
        let cases = join_tasks(&rt, tasks);

        // Let the threads go: they wait in one filling round; tasks fill it.
        stop.store(true, Ordering::SeqCst);
        wait_until(|| barrier.n_waiting() == alive.load(Ordering::SeqCst));
        let live = alive.load(Ordering::SeqCst);
        if live > 0 {
            rt.block_on(async {
                let fillers: Vec<_> = (live..PARTIES)
                    .map(|_| {
                        let b = barrier.clone();
                        tokio::spawn(async move { b.wait().await })
                    })
                    .collect();
                for f in fillers {
                    assert!(common::join_task(f).await.is_ok());
                }
            });
        }
        join_threads(threads);
        assert!(!barrier.broken(), "{barrier:?}");
        assert_eq!(barrier.n_waiting(), 0, "{barrier:?}");
        assert_eq!(queued_digits(&*barrier), 0, "{barrier:?}");

        // A final round passes, a thread and tasks together, with distinct indices.
        let round = |rt: &Runtime| {
            let before = rounds.load(Ordering::SeqCst);
            let b = barrier.clone();
            let thread = std::thread::spawn(move || b.blocking().wait_timeout(FOREVER));
            let tasks: Vec<_> = (1..PARTIES)
                .map(|_| {
                    let b = barrier.clone();
                    rt.spawn(async move { b.wait().await })
                })
                .collect();
            let mut indices: Vec<usize> = rt.block_on(async {
                let mut v = Vec::new();
                for t in tasks {
                    v.push(common::join_task(t).await.unwrap());
                }
                v
            });
            indices.push(common::join_thread(thread).unwrap());
            indices.sort_unstable();
            assert_eq!(indices, (0..PARTIES).collect::<Vec<_>>());
            assert_eq!(rounds.load(Ordering::SeqCst), before + 1);
        };
        round(&rt);

        // Broken by design: a thread's timed wait runs out while a task waits; both see it,
        // and after a reset a round passes again.
        let waiting = {
            let b = barrier.clone();
            rt.spawn(async move { b.wait().await })
        };
        wait_until(|| barrier.n_waiting() == 1);
        assert!(barrier.blocking().wait_timeout(SHORT).is_err());
        assert!(rt.block_on(common::join_task(waiting)).is_err());
        assert!(barrier.broken());
        barrier.reset();
        assert!(!barrier.broken());
        round(&rt);
        report("Barrier", BARRIER, cases);
    });
}

// ---------------------------------------------------------------------------------------
// Thread join
// ---------------------------------------------------------------------------------------

const JOIN_ROUNDS: usize = 50;

/// One task case on a running thread's `join`; whether it dropped a wait (always: the
/// thread runs until the gate opens).
async fn join_case(t: &Thread<u64>, rng: &mut Lcg) -> bool {
    let r = if rng.next() % 4 == 0 {
        let d = if rng.next() % 2 == 0 {
            tiny(rng)
        } else {
            FOREVER
        };
        drop_at_random(t.join_timeout(d), rng).await
    } else {
        drop_at_random(t.join(), rng).await
    };
    match r {
        None => true,
        Some(Err(JoinError::TimedOut)) => false,
        Some(other) => panic!("a join ended while the thread runs: {other:?}"),
    }
}

#[test]
fn thread_join_storm() {
    run_on_thread(|| {
        let rt = mt_runtime();
        let share = JOIN / JOIN_ROUNDS / TASKS;
        let mut cases = 0;
        let mut dropped = 0;
        for round in 0..JOIN_ROUNDS as u64 {
            let gate = Arc::new(Event::new());
            // An OS thread, a task, or a closure on tokio's blocking pool.
            let t: Thread<u64> = {
                let g = gate.clone();
                let _rt = rt.enter();
                let t = match round % 3 {
                    0 => threading::blocking::Thread::new(move || {
                        g.blocking().wait();
                        round
                    })
                    .into_async(),
                    1 => Thread::new(move || async move {
                        g.wait().await;
                        round
                    }),
                    _ => Thread::new_blocking(move || {
                        g.blocking().wait();
                        round
                    }),
                };
                t.start().unwrap();
                t
            };
            let values = Arc::new(Mutex::new(Vec::new()));

            // Plain threads join with tiny timeouts, then untimed, from the other world.
            let joiners: Vec<_> = (0..THREADS as u64)
                .map(|i| {
                    let (t, values) = (t.clone().into_blocking(), values.clone());
                    std::thread::spawn(move || {
                        let mut rng = Lcg(round * 1000 + i);
                        for _ in 0..1_000 {
                            match t.join_timeout(tiny(&mut rng)) {
                                Err(JoinError::TimedOut) => continue,
                                r => {
                                    values.lock().unwrap().push(r.unwrap());
                                    return;
                                }
                            }
                        }
                        values.lock().unwrap().push(t.join().unwrap());
                    })
                })
                .collect();

            let (ready_tx, ready_rx) = mpsc::channel();
            let go = Arc::new(Event::new());
            let tasks: Vec<_> = (0..TASKS as u64)
                .map(|i| {
                    let (t, gate, values, ready, go) = (
                        t.clone(),
                        gate.clone(),
                        values.clone(),
                        ready_tx.clone(),
                        go.clone(),
                    );
                    rt.spawn(async move {
                        let mut rng = Lcg(round * 1000 + 500 + i);
                        // Task 0 drops its last wait right after the end, the others while
                        // the thread runs.
                        let own = if i == 0 { share - 1 } else { share };
                        let mut cases = until_dropped!(own, join_case(&t, &mut rng).await);
                        ready.send(()).unwrap();
                        if i == 0 {
                            go.wait().await; // every task is done with the running thread
                            let mut fut = pin!(t.join());
                            assert!(poll!(fut.as_mut()).is_pending());
                            gate.set();
                            let mut n = 0;
                            while t.is_alive() {
                                n += 1;
                                assert!(n < 1_000_000, "the thread did not end");
                                tokio::task::yield_now().await;
                            }
                            cases += 1; // dropped unpolled: the value stays for others
                        }
                        let v = t.join().await.unwrap();
                        values.lock().unwrap().push(v);
                        cases
                    })
                })
                .collect();
            for _ in 0..TASKS {
                ready_rx.recv_timeout(common::WATCHDOG).unwrap();
            }
            go.set();
            cases += join_tasks(&rt, tasks);
            dropped += share * TASKS;
            join_threads(joiners);
            // The value went to exactly one joiner; a last join finds it taken or takes it.
            let mut values = values.lock().unwrap().clone();
            values.push(t.blocking().join().unwrap());
            let got: Vec<_> = values.iter().flatten().collect();
            assert_eq!(got, [&round], "the value of round {round}: {values:?}");
            assert!(!t.is_alive());
        }
        assert_eq!(dropped, JOIN);
        report("Thread join", JOIN, cases);
    });
}
