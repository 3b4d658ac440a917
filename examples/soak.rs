//! Soak: a bounded mixed workload on one set of instances of every primitive, used by plain
//! threads (blocking forms) and tokio tasks (async forms) at the same time, with its
//! invariants checked as it runs and at the end.
//!
//! ```sh
//! cargo run --release --example soak -- 1000000   # operations (default 10^6)
//! ```
//!
//! Four threads and four tasks share the operations; each operation is one of:
//!
//! - `Lock` (default policy): a counter it protects never sees two holders;
//! - `RLock` (fair), two levels deep: likewise;
//! - `Semaphore` (fair, 3) and `BoundedSemaphore` (default, 2): never more holders than
//!   permits, every permit back at the end, a release past the bound refused;
//! - `Event`: set, clear or a short timed wait (and a start gate nobody passes early);
//! - a bounded queue (capacity 2, one item at the start) on two `Condition`s sharing one
//!   `RLock`, as Python's `queue.Queue`: one item in then one out, or one out then one in
//!   (so that both conditions are waited on, and no wait can outlast the others' moves);
//!   every item is taken exactly once;
//! - `Barrier` of all eight workers at fixed points: indices distinct in every round;
//! - `Thread`: start one (OS thread, task, or blocking-pool closure) and join it, often from
//!   the other world; its value reaches the joiner once;
//! - `Timer`: start one with a tiny interval, maybe cancel it, join it; it fires exactly
//!   when not cancelled in time, and never early.
//!
//! `tests/soak.rs` runs this file's [`run`] as a test (100,000 operations, and 10^6 when
//! asked with `--ignored`).

use std::collections::VecDeque;
use std::fmt;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicU8, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use threading::{
    blocking, Barrier, BoundedSemaphore, Condition, Event, Lock, RLock, Semaphore, Thread, Timer,
};

fn main() {
    let ops = match std::env::args().nth(1) {
        Some(arg) => arg
            .replace('_', "")
            .parse()
            .unwrap_or_else(|_| panic!("the operation count must be a number, not {arg:?}")),
        None => 1_000_000,
    };
    println!("{}", run(ops));
}

/// Plain threads among the workers (blocking forms).
pub const THREADS: usize = 4;
/// Tasks among the workers (async forms), on a two-worker tokio runtime.
pub const TASKS: usize = 4;
const WORKERS: usize = THREADS + TASKS;
/// Every worker meets the others at the barrier once per this many operations.
const BARRIER_EVERY: usize = 1_000;
const SEMAPHORE_PERMITS: usize = 3;
const BOUNDED_PERMITS: usize = 2;
const QUEUE_CAPACITY: usize = 2;

/// The kinds of operation, in [`Summary::by_kind`] order.
pub const KINDS: [&str; 9] = [
    "lock",
    "rlock",
    "semaphore",
    "bounded",
    "event",
    "queue",
    "barrier",
    "thread",
    "timer",
];
const LOCK: usize = 0;
const RLOCK: usize = 1;
const SEMAPHORE: usize = 2;
const BOUNDED: usize = 3;
const EVENT: usize = 4;
const QUEUE: usize = 5;
const BARRIER: usize = 6;
const THREAD: usize = 7;
const TIMER: usize = 8;

/// What a run did.
#[derive(Debug, Clone)]
pub struct Summary {
    /// Operations done, in all.
    pub ops: usize,
    /// Wall time from the start gate to the last worker's end.
    pub elapsed: Duration,
    /// Operations per kind, in [`KINDS`] order.
    pub by_kind: [usize; KINDS.len()],
    /// Barrier rounds passed.
    pub rounds: usize,
    /// Timers that fired (the others were cancelled in time).
    pub timers_fired: usize,
    /// Waits on the queue's conditions: for room (`not_full`), for an item (`not_empty`).
    pub queue_waits: [usize; 2],
}

impl Summary {
    /// Operations per second of wall time.
    pub fn ops_per_sec(&self) -> f64 {
        self.ops as f64 / self.elapsed.as_secs_f64()
    }
}

impl fmt::Display for Summary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "soak: {} ops in {:.3} s: {:.0} ops/s ({THREADS} threads + {TASKS} tasks, all checks passed)",
            self.ops,
            self.elapsed.as_secs_f64(),
            self.ops_per_sec()
        )?;
        let kinds: Vec<String> = KINDS
            .iter()
            .zip(self.by_kind)
            .map(|(k, n)| format!("{k} {n}"))
            .collect();
        write!(
            f,
            "soak: {}; {} barrier rounds, {} timers fired, {} waits for room and {} for an item",
            kinds.join(", "),
            self.rounds,
            self.timers_fired,
            self.queue_waits[0],
            self.queue_waits[1]
        )
    }
}

/// A small deterministic generator per worker.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        self.0 >> 33
    }

    /// 0 to 200 µs.
    fn tiny(&mut self) -> Duration {
        Duration::from_micros(self.next() % 200)
    }
}

/// Counts holders; more than `max` at once fails.
struct Holders {
    now: AtomicUsize,
    max: usize,
}

impl Holders {
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
}

/// Data that a lock protects: a `std` mutex that must never be contended while the
/// `threading` lock is held (`try_lock` failing means two holders at once).
struct Guarded<T>(Mutex<T>);

impl<T> Guarded<T> {
    fn new(value: T) -> Self {
        Self(Mutex::new(value))
    }

    #[track_caller]
    fn with<R>(&self, f: impl FnOnce(&mut T) -> R) -> R {
        let mut data = self
            .0
            .try_lock()
            .expect("two holders of the lock that protects this data");
        f(&mut data)
    }
}

/// The one set of instances every worker uses.
struct Shared {
    lock: Lock,
    lock_count: Guarded<usize>,
    rlock: RLock,
    rlock_count: Guarded<usize>,
    semaphore: Semaphore,
    semaphore_holders: Holders,
    bounded: BoundedSemaphore,
    bounded_holders: Holders,
    event: Event,
    /// The start gate, and whether it was opened (nobody may pass before).
    gate: Event,
    gate_open: AtomicBool,
    /// The bounded queue: two conditions over one RLock, as Python's `queue.Queue`.
    queue_lock: Arc<RLock>,
    not_empty: Condition,
    not_full: Condition,
    queue: Guarded<VecDeque<usize>>,
    next_item: AtomicUsize,
    /// How many times each item was taken.
    taken: Vec<AtomicU8>,
    barrier: Barrier,
    rounds: Arc<AtomicUsize>,
    /// Per round, the indices handed out (a bit each).
    indices: Vec<AtomicU64>,
    timers_fired: AtomicUsize,
    /// Predicate checks that found the queue full, or empty.
    queue_waits: [AtomicUsize; 2],
    by_kind: [AtomicUsize; KINDS.len()],
    runtime: tokio::runtime::Handle,
}

impl Shared {
    fn count(&self, kind: usize) {
        self.by_kind[kind].fetch_add(1, Ordering::Relaxed);
    }

    fn new_item(&self) -> usize {
        self.next_item.fetch_add(1, Ordering::Relaxed)
    }

    fn take_item(&self, item: usize) {
        let before = self.taken[item].fetch_add(1, Ordering::Relaxed);
        assert_eq!(before, 0, "item {item} taken twice");
    }

    /// Whether the queue is full (called under its lock); counts the waits that follow.
    fn queue_full(&self) -> bool {
        let full = self.queue.with(|q| q.len() >= QUEUE_CAPACITY);
        if full {
            self.queue_waits[0].fetch_add(1, Ordering::Relaxed);
        }
        full
    }

    /// Whether the queue is empty (called under its lock); counts the waits that follow.
    fn queue_empty(&self) -> bool {
        let empty = self.queue.with(|q| q.is_empty());
        if empty {
            self.queue_waits[1].fetch_add(1, Ordering::Relaxed);
        }
        empty
    }

    fn barrier_index(&self, round: usize, index: usize) {
        assert!(index < WORKERS, "barrier index {index}");
        let before = self.indices[round].fetch_or(1 << index, Ordering::Relaxed);
        assert_eq!(
            before & (1 << index),
            0,
            "index {index} twice in round {round}"
        );
    }

    /// The barrier's round for a worker's operation `i`, if it meets the others there.
    fn barrier_round(i: usize, base: usize) -> Option<usize> {
        (i % BARRIER_EVERY == BARRIER_EVERY / 2 && i < base).then_some(i / BARRIER_EVERY)
    }

    fn pick(rng: &mut Rng) -> usize {
        match rng.next() % 1_000 {
            0..=2 => THREAD,
            3..=4 => TIMER,
            r => match r % 100 {
                0..=19 => LOCK,
                20..=34 => RLOCK,
                35..=49 => SEMAPHORE,
                50..=59 => BOUNDED,
                60..=69 => EVENT,
                _ => QUEUE,
            },
        }
    }
}

/// Run `ops` operations (spread evenly over the workers) and check every invariant;
/// panics on a violation.
pub fn run(ops: usize) -> Summary {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("a tokio runtime");
    let base = ops / WORKERS;
    let rounds_expected = (0..base)
        .filter(|&i| Shared::barrier_round(i, base).is_some())
        .count();
    let rounds = Arc::new(AtomicUsize::new(0));
    let queue_lock = Arc::new(RLock::new_fair());
    let s = Arc::new(Shared {
        lock: Lock::new(),
        lock_count: Guarded::new(0),
        rlock: RLock::new_fair(),
        rlock_count: Guarded::new(0),
        semaphore: Semaphore::new_fair(SEMAPHORE_PERMITS),
        semaphore_holders: Holders::new(SEMAPHORE_PERMITS),
        bounded: BoundedSemaphore::new(BOUNDED_PERMITS),
        bounded_holders: Holders::new(BOUNDED_PERMITS),
        event: Event::new(),
        gate: Event::new(),
        gate_open: AtomicBool::new(false),
        not_empty: Condition::with_lock(queue_lock.clone()),
        not_full: Condition::with_lock(queue_lock.clone()),
        queue_lock,
        // One item at the start, so that neither a full nor an empty queue can hold every
        // worker up: a waiting put means someone holds an item it will take, a waiting get
        // means someone took one it will put back.
        queue: Guarded::new(VecDeque::from([0])),
        next_item: AtomicUsize::new(1),
        taken: (0..=ops).map(|_| AtomicU8::new(0)).collect(),
        barrier: {
            let rounds = rounds.clone();
            Barrier::builder(WORKERS)
                .action(move || {
                    rounds.fetch_add(1, Ordering::SeqCst);
                })
                .build()
                .expect("parties > 0")
        },
        rounds,
        indices: (0..rounds_expected).map(|_| AtomicU64::new(0)).collect(),
        timers_fired: AtomicUsize::new(0),
        queue_waits: Default::default(),
        by_kind: Default::default(),
        runtime: runtime.handle().clone(),
    });

    // Worker w does `base` operations, plus one of the remainder if w < ops % WORKERS.
    let share = move |w: usize| base + usize::from(w < ops % WORKERS);
    let threads: Vec<_> = (0..THREADS)
        .map(|w| {
            let s = s.clone();
            std::thread::spawn(move || thread_worker(&s, w as u64, share(w), base))
        })
        .collect();
    let tasks: Vec<_> = (THREADS..WORKERS)
        .map(|w| {
            let s = s.clone();
            runtime.spawn(async move { task_worker(&s, w as u64, share(w), base).await })
        })
        .collect();

    let start = Instant::now();
    s.gate_open.store(true, Ordering::SeqCst);
    s.gate.set();
    for t in threads {
        t.join().unwrap_or_else(|p| std::panic::resume_unwind(p));
    }
    runtime.block_on(async {
        for t in tasks {
            t.await
                .unwrap_or_else(|e| std::panic::resume_unwind(e.into_panic()));
        }
    });
    let elapsed = start.elapsed();

    // Everything is accounted for.
    let by_kind: [usize; KINDS.len()] =
        std::array::from_fn(|k| s.by_kind[k].load(Ordering::Relaxed));
    assert_eq!(
        by_kind.iter().sum::<usize>(),
        ops,
        "operations lost: {by_kind:?}"
    );
    assert!(!s.lock.locked() && !s.rlock.locked() && !s.queue_lock.locked());
    assert_eq!(s.lock_count.with(|c| *c), by_kind[LOCK]);
    assert_eq!(s.rlock_count.with(|c| *c), by_kind[RLOCK]);
    assert_eq!(s.semaphore.value(), SEMAPHORE_PERMITS, "{:?}", s.semaphore);
    assert_eq!(s.bounded.value(), BOUNDED_PERMITS, "{:?}", s.bounded);
    assert!(s.bounded.release(1).is_err(), "released past the bound");
    // One item is left in the queue: take it too.
    let last = s.queue.with(|q| {
        assert_eq!(q.len(), 1, "items lost or made: {q:?}");
        q.pop_front().expect("one item")
    });
    s.take_item(last);
    let items = s.next_item.load(Ordering::SeqCst);
    assert_eq!(items, by_kind[QUEUE] + 1);
    assert!(
        s.taken[..items]
            .iter()
            .all(|t| t.load(Ordering::Relaxed) == 1),
        "an item was never taken"
    );
    let rounds = s.rounds.load(Ordering::SeqCst);
    assert_eq!(rounds, rounds_expected);
    assert_eq!(by_kind[BARRIER], rounds * WORKERS);
    let all = (1u64 << WORKERS) - 1;
    assert!(
        s.indices.iter().all(|m| m.load(Ordering::Relaxed) == all),
        "a round without every index"
    );
    assert!(!s.barrier.broken() && s.barrier.n_waiting() == 0);
    for debug in [
        format!("{:?}", s.lock),
        format!("{:?}", s.rlock),
        format!("{:?}", s.semaphore),
        format!("{:?}", s.bounded),
        format!("{:?}", s.not_empty),
        format!("{:?}", s.not_full),
        format!("{:?}", s.event),
    ] {
        assert!(debug.contains("waiters=0"), "a waiter left queued: {debug}");
    }
    Summary {
        ops,
        elapsed,
        by_kind,
        rounds,
        timers_fired: s.timers_fired.load(Ordering::SeqCst),
        queue_waits: std::array::from_fn(|k| s.queue_waits[k].load(Ordering::Relaxed)),
    }
}

/// A worker on a plain thread: the blocking forms.
fn thread_worker(s: &Shared, seed: u64, ops: usize, base: usize) {
    let mut rng = Rng(seed * 7919 + 1);
    s.gate.blocking().wait();
    assert!(
        s.gate_open.load(Ordering::SeqCst),
        "passed the gate before it opened"
    );
    for i in 0..ops {
        let kind = match Shared::barrier_round(i, base) {
            Some(round) => {
                let index = s
                    .barrier
                    .blocking()
                    .wait()
                    .expect("the barrier never breaks");
                s.barrier_index(round, index);
                BARRIER
            }
            None => Shared::pick(&mut rng),
        };
        match kind {
            LOCK => {
                let l = s.lock.blocking();
                let g = if rng.next() % 4 == 0 {
                    retry(|| l.acquire_timeout(rng.tiny()))
                } else {
                    l.acquire()
                };
                s.lock_count.with(|c| *c += 1);
                drop(g);
            }
            RLOCK => {
                let l = s.rlock.blocking();
                let outer = l.acquire();
                let inner = l.acquire_timeout(Duration::ZERO).expect("re-entry");
                s.rlock_count.with(|c| *c += 1);
                drop((inner, outer));
            }
            SEMAPHORE => {
                let sem = s.semaphore.blocking();
                let p = if rng.next() % 4 == 0 {
                    retry(|| sem.acquire_timeout(rng.tiny()))
                } else {
                    sem.acquire()
                };
                s.semaphore_holders.enter();
                s.semaphore_holders.leave();
                drop(p);
            }
            BOUNDED => {
                let sem = s.bounded.blocking();
                let p = sem.acquire();
                s.bounded_holders.enter();
                s.bounded_holders.leave();
                if rng.next() % 2 == 0 {
                    p.forget();
                    sem.release(1).expect("a forgotten permit goes back");
                } else {
                    drop(p);
                }
            }
            EVENT => {
                let e = s.event.blocking();
                match rng.next() % 3 {
                    0 => e.set(),
                    1 => e.clear(),
                    _ => {
                        e.wait_timeout(rng.tiny());
                    }
                }
            }
            QUEUE => {
                if rng.next() % 2 == 0 {
                    put_blocking(s, &mut rng);
                    get_blocking(s, &mut rng);
                } else {
                    get_blocking(s, &mut rng);
                    put_blocking(s, &mut rng);
                }
            }
            BARRIER => {}
            THREAD => {
                let x = rng.next();
                let t = if rng.next() % 2 == 0 {
                    blocking::Thread::new(move || x.wrapping_mul(3))
                } else {
                    // A task, joined from this plain thread.
                    let _rt = s.runtime.enter();
                    Thread::new(move || async move { x.wrapping_mul(3) }).into_blocking()
                };
                t.start().expect("a new thread starts");
                assert_eq!(t.join(), Ok(Some(x.wrapping_mul(3))));
                assert_eq!(t.join(), Ok(None), "the value went to the first joiner");
                assert!(!t.is_alive());
            }
            TIMER => {
                let interval = rng.tiny();
                let fired = Arc::new(Mutex::new(None));
                let f = fired.clone();
                let timer = blocking::Timer::new(interval, move || {
                    *f.lock().unwrap() = Some(Instant::now());
                });
                let started = Instant::now();
                timer.start().expect("a new timer starts");
                let cancelled = rng.next() % 2 == 0 && timer.cancel();
                timer.join().expect("a timer ends");
                check_timer(s, *fired.lock().unwrap(), started, interval, cancelled);
            }
            _ => unreachable!(),
        }
        s.count(kind);
    }
}

/// A worker in a tokio task: the async forms.
async fn task_worker(s: &Shared, seed: u64, ops: usize, base: usize) {
    let mut rng = Rng(seed * 7919 + 1);
    s.gate.wait().await;
    assert!(
        s.gate_open.load(Ordering::SeqCst),
        "passed the gate before it opened"
    );
    for i in 0..ops {
        let kind = match Shared::barrier_round(i, base) {
            Some(round) => {
                let index = s.barrier.wait().await.expect("the barrier never breaks");
                s.barrier_index(round, index);
                BARRIER
            }
            None => Shared::pick(&mut rng),
        };
        match kind {
            LOCK => {
                let g = if rng.next() % 4 == 0 {
                    loop {
                        if let Some(g) = s.lock.acquire_timeout(rng.tiny()).await {
                            break g;
                        }
                    }
                } else {
                    s.lock.acquire().await
                };
                s.lock_count.with(|c| *c += 1);
                if rng.next() % 8 == 0 {
                    tokio::task::yield_now().await; // hold it across a yield
                }
                drop(g);
            }
            RLOCK => {
                let outer = s.rlock.acquire().await;
                tokio::task::yield_now().await; // may move to the other worker
                let inner = s.rlock.acquire().await;
                s.rlock_count.with(|c| *c += 1);
                drop((inner, outer));
            }
            SEMAPHORE => {
                let p = s.semaphore.acquire().await;
                s.semaphore_holders.enter();
                tokio::task::yield_now().await;
                s.semaphore_holders.leave();
                drop(p);
            }
            BOUNDED => {
                let p = if rng.next() % 2 == 0 {
                    loop {
                        if let Some(p) = s.bounded.acquire_timeout(rng.tiny()).await {
                            break p;
                        }
                    }
                } else {
                    s.bounded.acquire().await
                };
                s.bounded_holders.enter();
                s.bounded_holders.leave();
                drop(p);
            }
            EVENT => match rng.next() % 3 {
                0 => s.event.set(),
                1 => s.event.clear(),
                _ => {
                    s.event.wait_timeout(rng.tiny()).await;
                }
            },
            QUEUE => {
                if rng.next() % 2 == 0 {
                    put_async(s, &mut rng).await;
                    get_async(s, &mut rng).await;
                } else {
                    get_async(s, &mut rng).await;
                    put_async(s, &mut rng).await;
                }
            }
            BARRIER => {}
            THREAD => {
                let x = rng.next();
                let t: Thread<u64> = match rng.next() % 3 {
                    0 => Thread::new(move || async move { x.wrapping_mul(3) }),
                    1 => Thread::new_blocking(move || x.wrapping_mul(3)),
                    // An OS thread, joined from this task.
                    _ => blocking::Thread::new(move || x.wrapping_mul(3)).into_async(),
                };
                t.start().expect("a new thread starts");
                assert_eq!(t.join().await, Ok(Some(x.wrapping_mul(3))));
                assert_eq!(
                    t.join().await,
                    Ok(None),
                    "the value went to the first joiner"
                );
                assert!(!t.is_alive());
            }
            TIMER => {
                let interval = rng.tiny();
                let fired = Arc::new(Mutex::new(None));
                let f = fired.clone();
                let timer = Timer::new(interval, move || async move {
                    *f.lock().unwrap() = Some(Instant::now());
                });
                let started = Instant::now();
                timer.start().expect("a new timer starts");
                let cancelled = rng.next() % 2 == 0 && timer.cancel();
                timer.join().await.expect("a timer ends");
                let at = *fired.lock().unwrap();
                check_timer(s, at, started, interval, cancelled);
            }
            _ => unreachable!(),
        }
        s.count(kind);
    }
}

/// Call `f` until it gives something (a timed acquire that may time out); bounded.
fn retry<T>(mut f: impl FnMut() -> Option<T>) -> T {
    for _ in 0..10_000_000 {
        if let Some(v) = f() {
            return v;
        }
    }
    panic!("never acquired");
}

/// A timer fires exactly when it was not cancelled in time, and never early.
fn check_timer(
    s: &Shared,
    fired: Option<Instant>,
    started: Instant,
    interval: Duration,
    cancelled: bool,
) {
    match fired {
        Some(at) => {
            assert!(!cancelled, "a timer fired after a successful cancel");
            assert!(
                at.duration_since(started) >= interval,
                "a timer fired early: {:?} < {interval:?}",
                at.duration_since(started)
            );
            s.timers_fired.fetch_add(1, Ordering::Relaxed);
        }
        None => assert!(cancelled, "a timer neither fired nor was cancelled"),
    }
}

/// Put one new item in the bounded queue, waiting while it is full.
fn put_blocking(s: &Shared, rng: &mut Rng) {
    let c = s.not_full.blocking();
    // Sometimes two levels deep: the wait releases both and restores both.
    let outer = (rng.next() % 4 == 0).then(|| c.acquire());
    let g = c.acquire();
    let full = || s.queue_full();
    let g = if rng.next() % 2 == 0 {
        c.wait_for(g, || !full())
    } else {
        let mut g = g;
        loop {
            let (again, ok) = c.wait_for_timeout(g, || !full(), rng.tiny());
            g = again;
            if ok {
                break g;
            }
        }
    };
    let item = s.new_item();
    s.queue.with(|q| q.push_back(item));
    s.not_empty.blocking().notify(&g, 1);
    drop(g);
    drop(outer);
}

/// Take one item from the bounded queue, waiting while it is empty.
fn get_blocking(s: &Shared, rng: &mut Rng) {
    let c = s.not_empty.blocking();
    let mut g = c.acquire();
    let empty = || s.queue_empty();
    if rng.next() % 2 == 0 {
        while empty() {
            g = c.wait(g);
        }
    } else {
        g = c.wait_for(g, || !empty());
    }
    let item = s.queue.with(|q| q.pop_front()).expect("an item");
    s.take_item(item);
    s.not_full.blocking().notify(&g, 1);
    drop(g);
}

/// [`put_blocking`] in a task.
async fn put_async(s: &Shared, rng: &mut Rng) {
    let c = &s.not_full;
    let outer = if rng.next() % 4 == 0 {
        Some(c.acquire().await)
    } else {
        None
    };
    let g = c.acquire().await;
    let full = || s.queue_full();
    let g = if rng.next() % 2 == 0 {
        c.wait_for(g, || !full()).await
    } else {
        let mut g = g;
        loop {
            let (again, ok) = c.wait_for_timeout(g, || !full(), rng.tiny()).await;
            g = again;
            if ok {
                break g;
            }
        }
    };
    let item = s.new_item();
    s.queue.with(|q| q.push_back(item));
    s.not_empty.notify(&g, 1);
    drop(g);
    drop(outer);
}

/// [`get_blocking`] in a task.
async fn get_async(s: &Shared, rng: &mut Rng) {
    let c = &s.not_empty;
    let mut g = c.acquire().await;
    let empty = || s.queue_empty();
    if rng.next() % 2 == 0 {
        while empty() {
            g = c.wait(g).await;
        }
    } else {
        g = c.wait_for(g, || !empty()).await;
    }
    let item = s.queue.with(|q| q.pop_front()).expect("an item");
    s.take_item(item);
    s.not_full.notify(&g, 1);
    drop(g);
}
