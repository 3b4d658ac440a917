//! A tour of `threading`: each primitive in its two forms, with plain threads and tokio
//! tasks using one instance at the same time.
//!
//! ```sh
//! cargo run --release --example tour
//! ```
//!
//! Each section prints what happens, one line per event, and asserts what it shows (the
//! `ok:` lines), so the tour is also a check. To add a section, write an `async fn` and call
//! it from `main` through `section`; the function prints its title with `title`.

use std::future::Future;
use std::pin::pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

use futures::poll;
use threading::{BoundedSemaphore, Event, Lock, Semaphore, SemaphoreReleaseError, TIMEOUT_MAX};

/// Print one event: `say!("task", "got it after {} ms", 51)` prints `[task]     got it after 51 ms`.
macro_rules! say {
    ($who:expr, $($msg:tt)+) => {
        println!("   {:<11}{}", format!("[{}]", $who), format_args!($($msg)+))
    };
}

/// Assert a fact and print it as an `ok:` line.
macro_rules! check {
    ($fact:expr, $($msg:tt)+) => {{
        assert!($fact, $($msg)+);
        println!("   ok: {}", format_args!($($msg)+));
    }};
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let start = Instant::now();
    watchdog(Duration::from_secs(30));
    println!("threading: one instance, two forms (async and blocking), threads and tasks together");

    section(lock_across_worlds()).await;
    section(event_wakes_threads()).await;
    section(semaphore_shared()).await;
    section(timeouts()).await;
    section(timeout_edges()).await;
    section(blocking_inside_task()).await;
    section(cancel_safety()).await;
    section(errors()).await;
    section(fair_vs_default()).await;

    println!("\nAll sections passed in {} ms.", ms(start));
}

async fn lock_across_worlds() {
    title("A plain thread holds a Lock, a task waits for it");
    // `Lock::new` is a `const fn`, so a lock can be a `static`. Tasks use it as it is (the
    // async form); `LOCK.blocking()` is the same lock with blocking methods, for threads.
    static LOCK: Lock = Lock::new();
    static HELD: Event = Event::new();
    static RELEASED: Event = Event::new();

    let holder = thread::spawn(|| {
        let guard = LOCK.blocking().acquire();
        say!("thread", "holding the lock");
        HELD.set();
        thread::sleep(Duration::from_millis(50));
        say!("thread", "releasing it");
        RELEASED.set();
        drop(guard);
    });

    HELD.wait().await; // an event set by a thread, awaited by a task
    say!("task", "waiting for the lock...");
    let start = Instant::now();
    let guard = LOCK.acquire().await;
    say!("task", "got it after {} ms", ms(start));
    check!(
        RELEASED.is_set(),
        "the task got the lock once the thread let go"
    );
    drop(guard);
    say!("task", "released it: {LOCK:?}");
    join(holder).await;
}

async fn event_wakes_threads() {
    title("A task sets an Event, parked threads wake up");
    let go = Arc::new(Event::new());
    let start = Instant::now();

    let mut threads = Vec::new();
    for i in 1..=3 {
        // `into_blocking` turns an `Arc<Event>` into an `Arc<blocking::Event>`: same event.
        let go = go.clone().into_blocking();
        threads.push(thread::spawn(move || {
            say!(format!("thread {i}"), "waiting for the event");
            go.wait();
            say!(format!("thread {i}"), "woken after {} ms", ms(start));
        }));
    }
    let waiting_task = tokio::spawn({
        let go = go.clone();
        async move {
            go.wait().await;
            say!("task 2", "woken after {} ms", ms(start));
        }
    });

    tokio::time::sleep(Duration::from_millis(30)).await;
    say!("task", "set()");
    go.set();
    for t in threads {
        join(t).await;
    }
    waiting_task.await.unwrap();
    check!(go.is_set(), "one set() woke three threads and a task");
}

async fn semaphore_shared() {
    title("Threads and tasks share one Semaphore(2)");
    const N: usize = 2;
    let sem = Arc::new(Semaphore::new(N));
    let room = Arc::new(Room::default());

    let mut threads = Vec::new();
    for i in 1..=3 {
        let (sem, room) = (sem.clone().into_blocking(), room.clone());
        threads.push(thread::spawn(move || {
            let _permit = sem.acquire();
            room.enter(&format!("thread {i}"));
            thread::sleep(Duration::from_millis(20));
            room.leave();
        }));
    }
    let mut tasks = Vec::new();
    for i in 1..=3 {
        let (sem, room) = (sem.clone(), room.clone());
        tasks.push(tokio::spawn(async move {
            let _permit = sem.acquire().await;
            room.enter(&format!("task {i}"));
            tokio::time::sleep(Duration::from_millis(20)).await;
            room.leave();
        }));
    }
    for t in threads {
        join(t).await;
    }
    for t in tasks {
        t.await.unwrap();
    }

    let most = room.most.load(Ordering::SeqCst);
    check!(
        most <= N,
        "at most {most} of the 6 were inside at once (limit {N})"
    );
    check!(sem.value() == N, "all {N} permits are free again");
}

/// Counts who is inside the part a semaphore guards, and the most at once.
#[derive(Default)]
struct Room {
    inside: AtomicUsize,
    most: AtomicUsize,
}

impl Room {
    fn enter(&self, who: &str) {
        let now = self.inside.fetch_add(1, Ordering::SeqCst) + 1;
        self.most.fetch_max(now, Ordering::SeqCst);
        say!(who, "in ({now} inside)");
    }

    fn leave(&self) {
        self.inside.fetch_sub(1, Ordering::SeqCst);
    }
}

async fn timeouts() {
    title("Timeouts on both sides: never early");
    let timeout = Duration::from_millis(50);
    let lock = Arc::new(Lock::new());
    let _held = lock.try_acquire().expect("a new lock is free");

    // A thread and a task each wait at most 50 ms for the held lock, at the same time.
    let thread_side = thread::spawn({
        let lock = lock.clone().into_blocking();
        move || {
            say!("thread", "acquire_timeout(50 ms)...");
            let start = Instant::now();
            let got = lock.acquire_timeout(timeout).is_some();
            let waited = start.elapsed();
            say!("thread", "gave up after {} ms", waited.as_millis());
            (got, waited)
        }
    });
    say!("task", "acquire_timeout(50 ms)...");
    let start = Instant::now();
    let got = lock.acquire_timeout(timeout).await.is_some();
    let waited = start.elapsed();
    say!("task", "gave up after {} ms", waited.as_millis());
    check!(
        !got && waited >= timeout,
        "the task got None, not before 50 ms"
    );
    let (got, waited) = join(thread_side).await;
    check!(
        !got && waited >= timeout,
        "the thread got None, not before 50 ms"
    );

    // An event not set: `wait_timeout` returns false, in both forms.
    let (event, timeout) = (Event::new(), Duration::from_millis(20));
    let start = Instant::now();
    let set = event.wait_timeout(timeout).await;
    let waited = start.elapsed();
    say!(
        "task",
        "wait_timeout(20 ms) -> {set} after {} ms",
        waited.as_millis()
    );
    check!(!set && waited >= timeout, "not set, not before 20 ms");
    let start = Instant::now();
    let set = event.blocking().wait_timeout(timeout);
    let waited = start.elapsed();
    say!(
        "task",
        "blocking().wait_timeout(20 ms) -> {set} after {} ms",
        waited.as_millis()
    );
    check!(!set && waited >= timeout, "not set, not before 20 ms");

    // A timeout is a limit, not a delay: a permit released by a thread after 20 ms is taken
    // then, long before the 1 s timeout.
    let sem = Arc::new(Semaphore::new(0));
    let releaser = thread::spawn({
        let sem = sem.clone().into_blocking();
        move || {
            thread::sleep(Duration::from_millis(20));
            say!("thread", "release(1)");
            sem.release(1).unwrap();
        }
    });
    let start = Instant::now();
    let permit = sem.acquire_timeout(Duration::from_secs(1)).await;
    say!(
        "task",
        "Semaphore(0).acquire_timeout(1 s) got a permit after {} ms",
        ms(start)
    );
    check!(
        permit.is_some(),
        "acquire_timeout returns as soon as a permit is free"
    );
    join(releaser).await;
}

async fn timeout_edges() {
    title("Zero, TIMEOUT_MAX and larger timeouts");
    let lock = Arc::new(Lock::new());
    let held = lock.acquire().await;
    check!(
        lock.acquire_timeout(Duration::ZERO).await.is_none()
            && lock.blocking().acquire_timeout(Duration::ZERO).is_none(),
        "a zero timeout is a try: None at once from a held lock, in both forms"
    );
    drop(held);

    let years = TIMEOUT_MAX.as_secs() / (365 * 24 * 3600);
    say!(
        "task",
        "TIMEOUT_MAX = {} s (about {years} years)",
        TIMEOUT_MAX.as_secs()
    );
    check!(
        lock.acquire_timeout(TIMEOUT_MAX).await.is_some(),
        "a free lock is taken at once, whatever the timeout"
    );

    // Past TIMEOUT_MAX a timeout means "no timeout": no overflow, no panic, no error.
    let held = lock.clone().into_blocking().acquire_owned();
    let releaser = thread::spawn(move || {
        thread::sleep(Duration::from_millis(20));
        say!("thread", "releasing the lock");
        drop(held);
    });
    say!("task", "acquire_timeout(Duration::MAX)...");
    let got = lock.acquire_timeout(Duration::MAX).await.is_some();
    check!(got, "the task waited until the lock was free, then got it");
    join(releaser).await;

    let held = lock.acquire_owned().await;
    let waiter = thread::spawn({
        let lock = lock.clone().into_blocking();
        move || {
            say!("thread", "acquire_timeout(Duration::MAX)...");
            lock.acquire_timeout(Duration::MAX).is_some()
        }
    });
    tokio::time::sleep(Duration::from_millis(20)).await;
    say!("task", "releasing the lock");
    drop(held);
    check!(
        join(waiter).await,
        "the thread waited until the lock was free, then got it"
    );
}

async fn blocking_inside_task() {
    title("A blocking call inside a task does not panic");
    // tokio's `Mutex::blocking_lock` panics when called from async code, even on a free
    // mutex. Here a blocking call inside a task works: a free lock is just taken...
    let lock = Arc::new(Lock::new());
    drop(lock.blocking().acquire());
    check!(
        !lock.locked(),
        "lock.blocking().acquire() of a free lock, inside a task"
    );

    // ...and a held one is waited for through `block_in_place`, so the tasks of this
    // worker thread move to another one, including the task that will release the lock.
    let held = lock.acquire_owned().await;
    let blocker = tokio::spawn({
        let lock = lock.clone();
        async move {
            say!("task 2", "lock.blocking().acquire()...");
            let start = Instant::now();
            let _guard = lock.blocking().acquire();
            say!("task 2", "got it after {} ms", ms(start));
        }
    });
    tokio::time::sleep(Duration::from_millis(30)).await;
    say!("task", "still running; releasing the lock");
    drop(held);
    blocker.await.unwrap();
    check!(
        !lock.locked(),
        "task 2 waited in block_in_place and got the lock"
    );
}

async fn cancel_safety() {
    title("Cancel safety: a dropped acquire loses nothing");
    // A fair lock hands the lock to the front of its queue. A dropped waiter left in the
    // queue would be handed the lock and keep it forever, so a free lock at the end shows
    // that the dropped acquires left nothing behind.
    static LOCK: Lock = Lock::new_fair();
    static HELD: Event = Event::new();
    static RELEASE: Event = Event::new();

    let holder = thread::spawn(|| {
        let _guard = LOCK.blocking().acquire();
        say!("thread", "holding the lock");
        HELD.set();
        RELEASE.blocking().wait();
        say!("thread", "releasing it");
    });
    HELD.wait().await;

    let result = tokio::time::timeout(Duration::from_millis(20), LOCK.acquire()).await;
    check!(
        result.is_err(),
        "tokio::time::timeout(20 ms, acquire()) elapsed and dropped it"
    );
    tokio::select! {
        _guard = LOCK.acquire() => unreachable!("the thread holds the lock"),
        () = tokio::time::sleep(Duration::from_millis(20)) => {
            say!("task", "select!: the sleep won, the acquire was dropped");
        }
    }
    RELEASE.set();
    join(holder).await;
    check!(
        LOCK.try_acquire().is_some(),
        "the lock is free: no dropped waiter kept it"
    );

    // The harder case: a release hands the lock to a waiter, then that waiter is dropped
    // before it runs. It passes the lock on to the next waiter.
    let guard = LOCK.acquire().await;
    let mut first = Box::pin(LOCK.acquire());
    let mut second = pin!(LOCK.acquire());
    assert!(poll!(&mut first).is_pending()); // polled once: now queued, first in line
    assert!(poll!(&mut second).is_pending()); // second in line
    drop(guard);
    say!(
        "task",
        "released: the lock is handed to the first waiter, which is then dropped"
    );
    drop(first);
    check!(
        poll!(&mut second).is_ready(),
        "the second waiter got the lock the dropped one was handed"
    );
    check!(!LOCK.locked(), "and released it: nothing leaked");
}

async fn errors() {
    title("Errors: over-release and release of an unlocked Lock");
    let sem = BoundedSemaphore::new(2);
    let permit = sem.acquire().await;
    drop(permit); // the guard gives its permit back
    say!(
        "task",
        "BoundedSemaphore::new(2): acquire, drop the permit, then release(1)"
    );
    let err = sem.release(1).unwrap_err();
    say!("task", "Err: {err}");
    let expected = SemaphoreReleaseError::AboveInitial {
        value: 2,
        initial: 2,
        n: 1,
    };
    check!(
        err == expected && sem.value() == 2,
        "the release changed nothing"
    );

    let err = sem.blocking().release(0).unwrap_err();
    say!("task", "sem.blocking().release(0) -> Err: {err}");
    check!(err == SemaphoreReleaseError::ZeroPermits, "ZeroPermits");

    // The manual style, as Python's acquire()/release(): keep the permit, release it later.
    sem.acquire().await.forget();
    check!(
        sem.value() == 1 && sem.release(1).is_ok(),
        "a forgotten permit is given back by release(1)"
    );

    let lock = Lock::new();
    let err = lock.release().unwrap_err();
    say!("task", "Lock::new().release() -> Err: {err}");
    check!(!lock.locked(), "nothing changed");
}

async fn fair_vs_default() {
    title("Fair vs default Lock");
    // `new_fair`: a release hands the lock to the longest waiter; a newcomer cannot take it.
    let fair = Lock::new_fair();
    let guard = fair.acquire().await;
    let mut waiter = pin!(fair.acquire());
    assert!(poll!(&mut waiter).is_pending()); // queued
    drop(guard);
    let newcomer = fair.try_acquire();
    say!(
        "fair",
        "released, one waiter queued; a newcomer's try_acquire() -> {}",
        got(&newcomer)
    );
    check!(newcomer.is_none(), "the newcomer did not get it");
    check!(
        poll!(&mut waiter).is_ready(),
        "the waiter did (FIFO hand-off)"
    );

    // `new`: the lock is freed and the waiter woken; a running newcomer may take it first
    // (fewer hand-offs, more throughput), unless the waiter has waited about 1 ms.
    let lock = Lock::new();
    let guard = lock.acquire().await;
    let mut waiter = pin!(lock.acquire());
    let queued = Instant::now();
    assert!(poll!(&mut waiter).is_pending());
    drop(guard);
    let newcomer = lock.try_acquire();
    let barged = newcomer.is_some();
    say!(
        "default",
        "released, one waiter queued; a newcomer's try_acquire() -> {}",
        got(&newcomer)
    );
    if queued.elapsed() < Duration::from_millis(1) {
        check!(barged, "the newcomer took it, ahead of the waiter");
    } else {
        // This machine was slow: the waiter had already waited 1 ms and was owed the lock.
        check!(!barged, "the waiter, queued over 1 ms ago, was handed it");
    }
    drop(newcomer);
    check!(poll!(&mut waiter).is_ready(), "the waiter got it next");

    // Eventual fairness: a waiter that has waited longer than about 1 ms is handed the lock.
    let guard = lock.acquire().await;
    let mut waiter = pin!(lock.acquire());
    assert!(poll!(&mut waiter).is_pending());
    tokio::time::sleep(Duration::from_millis(5)).await;
    drop(guard);
    let newcomer = lock.try_acquire();
    say!(
        "default",
        "released after 5 ms; a newcomer's try_acquire() -> {}",
        got(&newcomer)
    );
    check!(newcomer.is_none(), "the newcomer did not get it");
    check!(
        poll!(&mut waiter).is_ready(),
        "the waiter did: nobody starves"
    );
}

// Helpers ---------------------------------------------------------------------------------

/// Run a section as a tokio task, so that its `[task]` lines come from a task on a worker
/// thread. A failed assertion in it fails the tour.
async fn section(body: impl Future<Output = ()> + Send + 'static) {
    tokio::spawn(body).await.expect("the section failed");
}

/// Print a section's title, numbered in the order the sections run.
fn title(title: &str) {
    static NUMBER: AtomicUsize = AtomicUsize::new(1);
    println!("\n{}. {title}", NUMBER.fetch_add(1, Ordering::Relaxed));
}

/// Wait for a plain thread from async code, without blocking a worker thread.
async fn join<T: Send + 'static>(thread: thread::JoinHandle<T>) -> T {
    let joined = tokio::task::spawn_blocking(move || thread.join());
    match joined.await.expect("spawn_blocking") {
        Ok(value) => value,
        Err(panic) => std::panic::resume_unwind(panic),
    }
}

/// Milliseconds since `start`.
fn ms(start: Instant) -> u128 {
    start.elapsed().as_millis()
}

/// How a `try_acquire` went, for printing.
fn got<T>(guard: &Option<T>) -> &'static str {
    if guard.is_some() {
        "Some (got it)"
    } else {
        "None"
    }
}

/// The tour must never hang: stop it, failed, if it runs past `limit`.
fn watchdog(limit: Duration) {
    thread::spawn(move || {
        thread::sleep(limit);
        eprintln!("the tour ran longer than {limit:?}: something is stuck");
        std::process::exit(1);
    });
}
