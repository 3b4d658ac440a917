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

#[macro_use]
mod common;
use common::{ms, watchdog};

use std::collections::VecDeque;
use std::future::Future;
use std::pin::pin;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use futures::poll;
use threading::{
    Barrier, BoundedSemaphore, Condition, Event, JoinError, Lock, RLock, RLockReleaseError,
    Semaphore, SemaphoreReleaseError, Thread, Timer, TIMEOUT_MAX,
};

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
    section(rlock_owners()).await;
    section(rlock_tasks_on_one_thread()).await;
    section(condition_producer_consumer()).await;
    section(condition_notify_n()).await;
    section(condition_timeouts()).await;
    section(condition_over_rlock()).await;
    section(barrier_rounds()).await;
    section(barrier_broken()).await;
    section(threads_joined_across_worlds()).await;
    section(thread_panics_and_hooks()).await;
    section(timers()).await;
    section(local_data()).await;

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

async fn rlock_owners() {
    title("RLock: the owner re-enters; a thread and a task never share it");
    // The async form's owner is the task; the blocking form's owner is the OS thread.
    let lock = Arc::new(RLock::new());
    let outer = lock.acquire().await;
    tokio::task::yield_now().await; // the task may resume on the other worker: still the owner
    let middle = lock.acquire().await;
    let inner = lock.try_acquire().expect("the owner re-enters at once");
    say!(
        "task",
        "acquire, acquire, try_acquire: recursion_count() = {}",
        lock.recursion_count()
    );
    check!(lock.recursion_count() == 3, "the task holds it 3 deep");
    let plain = Lock::new();
    let held = plain.acquire().await;
    check!(
        plain.try_acquire().is_none(),
        "a Lock, by contrast, refuses its own holder: try_acquire() -> None"
    );
    drop(held);
    drop((inner, middle));
    check!(
        lock.locked() && lock.recursion_count() == 1,
        "two guards dropped: 1 level left, still locked"
    );
    drop(outer);
    check!(!lock.locked(), "the last guard frees it");

    // A thread holds the blocking form 2 deep; the task waits for the async form.
    let (held, go, last) = (
        Arc::new(Event::new()),
        Arc::new(Event::new()),
        Arc::new(Event::new()),
    );
    let holder = thread::spawn({
        let lock = lock.clone().into_blocking();
        let (held, go, last) = (held.clone(), go.clone(), last.clone());
        move || {
            let outer = lock.acquire();
            let inner = lock.acquire();
            say!(
                "thread",
                "holding it 2 deep (recursion_count() = {})",
                lock.recursion_count()
            );
            held.set();
            go.blocking().wait();
            drop(inner);
            say!("thread", "dropped one level: still held");
            thread::sleep(Duration::from_millis(20));
            say!("thread", "dropping the last level");
            last.set();
            drop(outer);
        }
    });
    held.wait().await;
    say!("task", "{lock:?}");
    check!(
        lock.locked() && !lock.is_owned() && lock.recursion_count() == 0,
        "the task is not the owner: is_owned() = false, recursion_count() = 0"
    );
    check!(
        lock.try_acquire().is_none(),
        "the task's try_acquire() -> None: a thread's levels are not the task's"
    );
    let err = lock.release().unwrap_err();
    say!("task", "release() -> Err: {err}");
    check!(
        err == RLockReleaseError::NotOwner && lock.locked(),
        "the non-owner's release() changed nothing"
    );
    go.set();
    say!("task", "acquire()...");
    let start = Instant::now();
    let guard = lock.acquire().await;
    say!("task", "got it after {} ms", ms(start));
    check!(
        last.is_set(),
        "the task got it only once the thread dropped both levels"
    );

    // Now the task owns it: a thread is the non-owner.
    let other = thread::spawn({
        let lock = lock.clone().into_blocking();
        move || (lock.try_acquire().is_none(), lock.release())
    });
    let (refused, released) = join(other).await;
    check!(
        refused && released == Err(RLockReleaseError::NotOwner),
        "a thread can neither take nor release the task's lock"
    );
    join(holder).await;
    drop(guard);
    let err = lock.release().unwrap_err();
    say!("task", "release() of the free lock -> Err: {err}");
    check!(err == RLockReleaseError::Unlocked, "Unlocked");
}

async fn rlock_tasks_on_one_thread() {
    title("RLock: two tasks on one thread do not share it");
    // A current-thread runtime runs all its tasks on one OS thread. The owner is the task,
    // not the thread, so the second task waits for the first as another thread would.
    let lock = Arc::new(RLock::new());
    let runtime_thread = thread::spawn({
        let lock = lock.clone();
        move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_time()
                .build()
                .expect("a current-thread runtime");
            runtime.block_on(async move {
                let (held, let_go) = (Arc::new(Event::new()), Arc::new(AtomicBool::new(false)));
                let a = tokio::spawn({
                    let (lock, held, let_go) = (lock.clone(), held.clone(), let_go.clone());
                    async move {
                        let guard = lock.acquire().await;
                        say!("task A", "holding it, on {:?}", thread::current().id());
                        held.set();
                        tokio::time::sleep(Duration::from_millis(20)).await;
                        say!("task A", "releasing it");
                        let_go.store(true, Ordering::SeqCst);
                        drop(guard);
                        thread::current().id()
                    }
                });
                let b = tokio::spawn(async move {
                    held.wait().await;
                    let refused = lock.try_acquire().is_none();
                    say!(
                        "task B",
                        "on {:?}: try_acquire() -> {}",
                        thread::current().id(),
                        if refused { "None" } else { "Some" }
                    );
                    let guard = lock.acquire().await;
                    let after_a = let_go.load(Ordering::SeqCst);
                    say!("task B", "got it");
                    drop(guard);
                    (thread::current().id(), refused, after_a)
                });
                (a.await.unwrap(), b.await.unwrap())
            })
        }
    });
    let (a_thread, (b_thread, refused, after_a)) = join(runtime_thread).await;
    check!(a_thread == b_thread, "both tasks ran on one OS thread");
    check!(
        refused && after_a,
        "task B could not re-enter task A's lock; it got it once A let go"
    );

    // By contrast, futures joined inside one task are that one task: they re-enter.
    let (a, b) = tokio::join!(lock.acquire(), lock.acquire());
    check!(
        lock.recursion_count() == 2,
        "tokio::join!(acquire(), acquire()) in one task: recursion_count() = 2"
    );
    drop((a, b));
    check!(!lock.locked(), "and both levels released");
}

async fn condition_producer_consumer() {
    title("Condition: a task produces, plain threads consume with wait_for");
    // As Python's, a Condition guards no data: the queue has its own std Mutex, touched
    // only while the condition's lock is held, so it is never contended.
    let cond = Arc::new(Condition::new());
    let queue = Arc::new(Mutex::new(VecDeque::<Option<u32>>::new()));
    const ITEMS: u32 = 6;
    const CONSUMERS: usize = 2;

    let mut consumers = Vec::new();
    for i in 1..=CONSUMERS {
        let (cond, queue) = (cond.clone().into_blocking(), queue.clone());
        consumers.push(thread::spawn(move || {
            let who = format!("thread {i}");
            let mut got = Vec::new();
            loop {
                let guard = cond.acquire();
                let guard = cond.wait_for(guard, || !queue.lock().unwrap().is_empty());
                let item = queue.lock().unwrap().pop_front().expect("not empty");
                drop(guard);
                match item {
                    Some(n) => {
                        say!(who, "got item {n}");
                        got.push(n);
                    }
                    None => return got, // the end marker
                }
            }
        }));
    }

    for n in 1..=ITEMS {
        tokio::time::sleep(Duration::from_millis(3)).await;
        let guard = cond.acquire().await;
        queue.lock().unwrap().push_back(Some(n));
        say!("task", "put item {n}, notify(1)");
        cond.notify(&guard, 1);
    }
    let guard = cond.acquire().await;
    queue.lock().unwrap().extend([None; CONSUMERS]);
    say!("task", "put {CONSUMERS} end markers, notify_all()");
    cond.notify_all(&guard);
    drop(guard);

    let mut all = Vec::new();
    for c in consumers {
        all.extend(join(c).await);
    }
    all.sort_unstable();
    check!(
        all == (1..=ITEMS).collect::<Vec<_>>(),
        "the threads consumed each of the {ITEMS} items exactly once"
    );
    check!(
        queue.lock().unwrap().is_empty() && !cond.locked(),
        "the queue is empty and the lock free"
    );
}

async fn condition_notify_n() {
    title("Condition: notify(2) wakes exactly two, longest waiting first");
    // Two conditions over one lock, as queue.Queue's not_empty and not_full: `go` is what
    // the waiters wait on, `changed` tells this task that the shared lists changed.
    let lock = Arc::new(RLock::new());
    let go = Arc::new(Condition::with_lock(lock.clone()));
    let changed = Arc::new(Condition::with_lock(lock.clone()));
    let arrived = Arc::new(Mutex::new(Vec::<String>::new()));
    let woken = Arc::new(Mutex::new(Vec::<String>::new()));

    let mut threads = Vec::new();
    let mut tasks = Vec::new();
    for i in 1..=2 {
        threads.push(thread::spawn({
            let who = format!("thread {i}");
            let (go, changed) = (go.clone().into_blocking(), changed.clone().into_blocking());
            let (arrived, woken) = (arrived.clone(), woken.clone());
            move || {
                let guard = go.acquire();
                arrived.lock().unwrap().push(who.clone());
                changed.notify_all(&guard); // one lock: its guard serves both conditions
                let guard = go.wait(guard);
                say!(who, "woken");
                woken.lock().unwrap().push(who);
                changed.notify_all(&guard);
            }
        }));
        tasks.push(tokio::spawn({
            let who = format!("task {i}");
            let (go, changed) = (go.clone(), changed.clone());
            let (arrived, woken) = (arrived.clone(), woken.clone());
            async move {
                let guard = go.acquire().await;
                arrived.lock().unwrap().push(who.clone());
                changed.notify_all(&guard);
                let guard = go.wait(guard).await;
                say!(who, "woken");
                woken.lock().unwrap().push(who);
                changed.notify_all(&guard);
            }
        }));
    }

    let guard = changed.acquire().await;
    let guard = changed
        .wait_for(guard, || arrived.lock().unwrap().len() == 4)
        .await;
    let order = arrived.lock().unwrap().clone();
    say!("task", "4 waiting, in this order: {}", order.join(", "));
    say!("task", "notify(2)");
    go.notify(&guard, 2);
    let guard = changed
        .wait_for(guard, || woken.lock().unwrap().len() >= 2)
        .await;
    drop(guard);
    tokio::time::sleep(Duration::from_millis(30)).await;
    let guard = go.acquire().await;
    let mut first_two = woken.lock().unwrap().clone();
    check!(first_two.len() == 2, "30 ms later, still exactly 2 woken");
    first_two.sort();
    let mut longest = order[..2].to_vec();
    longest.sort();
    check!(
        first_two == longest,
        "they are the two that waited longest ({})",
        longest.join(", ")
    );

    say!("task", "notify_all()");
    go.notify_all(&guard);
    let guard = changed
        .wait_for(guard, || woken.lock().unwrap().len() == 4)
        .await;
    drop(guard);
    for t in threads {
        join(t).await;
    }
    for t in tasks {
        t.await.unwrap();
    }
    check!(!lock.locked(), "all 4 woken, the lock free");
}

async fn condition_timeouts() {
    title("Condition: wait_timeout and wait_for_timeout never return early");
    let cond = Arc::new(Condition::new());
    let timeout = Duration::from_millis(40);

    // Nobody notifies: a thread and a task each wait 40 ms on one condition, at once.
    let thread_side = thread::spawn({
        let cond = cond.clone().into_blocking();
        move || {
            let guard = cond.acquire();
            let start = Instant::now();
            let (guard, notified) = cond.wait_timeout(guard, timeout);
            let waited = start.elapsed();
            say!(
                "thread",
                "wait_timeout(40 ms) -> {notified} after {} ms",
                waited.as_millis()
            );
            let owned = cond.lock().is_owned();
            drop(guard);
            (notified, waited, owned)
        }
    });
    let guard = cond.acquire().await;
    let start = Instant::now();
    let (guard, notified) = cond.wait_timeout(guard, timeout).await;
    let waited = start.elapsed();
    say!(
        "task",
        "wait_timeout(40 ms) -> {notified} after {} ms",
        waited.as_millis()
    );
    check!(
        !notified && waited >= timeout && cond.lock().is_owned(),
        "the task: not notified, not before 40 ms, holding the lock again"
    );
    drop(guard);
    let (notified, waited, owned) = join(thread_side).await;
    check!(
        !notified && waited >= timeout && owned,
        "the thread: not notified, not before 40 ms, holding the lock again"
    );

    // One deadline covers every wake-up: a thread notifies every 10 ms, the predicate stays
    // false, and the wait still ends at its 40 ms deadline; no wake-up restarts it.
    let stop = Arc::new(AtomicBool::new(false));
    let notifier = thread::spawn({
        let (cond, stop) = (cond.clone().into_blocking(), stop.clone());
        move || {
            while !stop.load(Ordering::SeqCst) {
                thread::sleep(Duration::from_millis(10));
                let guard = cond.acquire();
                cond.notify_all(&guard);
            }
        }
    });
    let mut checks = 0;
    let guard = cond.acquire().await;
    let start = Instant::now();
    let (guard, ok) = cond
        .wait_for_timeout(
            guard,
            || {
                checks += 1;
                false
            },
            timeout,
        )
        .await;
    let waited = start.elapsed();
    drop(guard);
    stop.store(true, Ordering::SeqCst);
    say!(
        "task",
        "wait_for_timeout(|| false, 40 ms) -> {ok} after {} ms, predicate checked {checks} times",
        waited.as_millis()
    );
    check!(
        !ok && waited >= timeout && checks > 2,
        "woken by notifications, it still gave up at its deadline, not before 40 ms"
    );
    join(notifier).await;
}

async fn condition_over_rlock() {
    title("Condition over an RLock: waiting 2 deep, and a dropped wait");
    // `Condition::new()` is over an RLock, as Python's. A wait releases every level the
    // caller holds, and restores them when it takes the lock back.
    let cond = Arc::new(Condition::new());
    let outer = cond.acquire().await;
    let inner = cond.acquire().await;
    say!(
        "task",
        "holding the lock 2 deep; wait(inner guard), the outer guard still alive"
    );
    let notifier = thread::spawn({
        let cond = cond.clone().into_blocking();
        move || {
            // This thread can take the lock only if the wait released both levels.
            let guard = cond
                .acquire_timeout(Duration::from_secs(5))
                .expect("the task's wait released the lock");
            let depth = cond.lock().recursion_count();
            say!(
                "thread",
                "took the lock (recursion_count() = {depth}), notify(1)"
            );
            cond.notify(&guard, 1);
            depth
        }
    });
    let (inner, notified) = cond.wait_timeout(inner, Duration::from_secs(5)).await;
    let thread_depth = join(notifier).await;
    check!(
        notified && thread_depth == 1,
        "the wait released both levels: the thread held the lock 1 deep"
    );
    check!(
        cond.lock().recursion_count() == 2,
        "back from the wait, the task holds it 2 deep again"
    );
    drop(inner);
    check!(
        cond.lock().recursion_count() == 1,
        "inner guard dropped: 1 left"
    );
    drop(outer);
    check!(!cond.locked(), "outer guard dropped: free");

    // A dropped async wait passes its notification on. The task waits first; a thread
    // waits second; notify(1) picks the task's wait (FIFO), which is dropped before it runs.
    let guard = cond.acquire().await;
    let mut first = Box::pin(cond.wait(guard));
    assert!(poll!(&mut first).is_pending()); // queued first; the lock is released
    check!(
        !cond.locked(),
        "the task's wait is queued and the lock released"
    );
    let queued = Arc::new(Event::new());
    let second = thread::spawn({
        let (cond, queued) = (cond.clone().into_blocking(), queued.clone());
        move || {
            let guard = cond.acquire();
            queued.set(); // set under the lock: wait() queues before it lets go
            say!("thread", "wait_timeout(5 s), second in line");
            let (guard, notified) = cond.wait_timeout(guard, Duration::from_secs(5));
            say!("thread", "woken, notified: {notified}");
            drop(guard);
            notified
        }
    });
    queued.wait().await;
    let guard = cond.acquire().await; // free once the thread waits
    cond.notify(&guard, 1);
    drop(guard);
    say!(
        "task",
        "notify(1) picked the task's wait; dropping that wait"
    );
    drop(first);
    check!(
        join(second).await,
        "the thread got the notification the dropped wait passed on"
    );
    check!(!cond.locked(), "the lock is free: nothing leaked");
}

async fn barrier_rounds() {
    title("Barrier: 2 threads and 2 tasks are the parties, 3 rounds, with an action");
    const PARTIES: usize = 4;
    const ROUNDS: usize = 3;
    let actions = Arc::new(AtomicUsize::new(0));
    let barrier = Arc::new(
        Barrier::builder(PARTIES)
            .action({
                let actions = actions.clone();
                move || {
                    // Runs in the last party to arrive, before any party is released.
                    let round = actions.fetch_add(1, Ordering::SeqCst) + 1;
                    say!("action", "round {round}: all {PARTIES} arrived");
                }
            })
            .build()
            .expect("4 parties"),
    );

    // Each party returns, per round, its index and how many actions had run when it left.
    let mut threads = Vec::new();
    let mut tasks = Vec::new();
    for i in 1..=2u64 {
        threads.push(thread::spawn({
            let (barrier, actions) = (barrier.clone().into_blocking(), actions.clone());
            move || {
                (0..ROUNDS)
                    .map(|_| {
                        thread::sleep(Duration::from_millis(3 * i)); // arrive at different times
                        let index = barrier.wait().expect("not broken");
                        (index, actions.load(Ordering::SeqCst))
                    })
                    .collect::<Vec<_>>()
            }
        }));
        tasks.push(tokio::spawn({
            let (barrier, actions) = (barrier.clone(), actions.clone());
            async move {
                let mut rounds = Vec::new();
                for _ in 0..ROUNDS {
                    tokio::time::sleep(Duration::from_millis(2 * i)).await;
                    let index = barrier.wait().await.expect("not broken");
                    rounds.push((index, actions.load(Ordering::SeqCst)));
                }
                rounds
            }
        }));
    }
    let mut parties = Vec::new();
    for (i, t) in threads.into_iter().enumerate() {
        parties.push((format!("thread {}", i + 1), join(t).await));
    }
    for (i, t) in tasks.into_iter().enumerate() {
        parties.push((format!("task {}", i + 1), t.await.unwrap()));
    }

    for round in 0..ROUNDS {
        let line: Vec<String> = parties
            .iter()
            .map(|(who, rounds)| format!("{who} -> {}", rounds[round].0))
            .collect();
        say!("task", "round {}: indices {}", round + 1, line.join(", "));
        let mut indices: Vec<usize> = parties.iter().map(|(_, r)| r[round].0).collect();
        indices.sort_unstable();
        check!(
            indices == (0..PARTIES).collect::<Vec<_>>(),
            "round {}: the indices are 0..{PARTIES}, each once",
            round + 1
        );
    }
    check!(
        actions.load(Ordering::SeqCst) == ROUNDS
            && parties
                .iter()
                .all(|(_, r)| r.iter().enumerate().all(|(k, &(_, ran))| ran == k + 1)),
        "the action ran once per round, before any party of that round left"
    );
    check!(
        !barrier.broken() && barrier.n_waiting() == 0,
        "not broken, nobody waiting: {barrier:?}"
    );
}

async fn barrier_broken() {
    title("Barrier: a timeout breaks it, reset() mends it");
    let barrier = Arc::new(Barrier::new(3).expect("3 parties"));
    let waiter = thread::spawn({
        let barrier = barrier.clone().into_blocking();
        move || {
            say!("thread", "wait() (no timeout)");
            barrier.wait()
        }
    });
    while barrier.n_waiting() < 1 {
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
    let timeout = Duration::from_millis(30);
    say!(
        "task",
        "n_waiting() = {}; wait_timeout(30 ms), the third party never comes",
        barrier.n_waiting()
    );
    let start = Instant::now();
    let result = barrier.wait_timeout(timeout).await;
    let waited = start.elapsed();
    let err = result.expect_err("the third party never came");
    say!("task", "Err after {} ms: {err}", waited.as_millis());
    check!(waited >= timeout, "not before 30 ms");
    check!(
        join(waiter).await.is_err(),
        "the waiting thread got BrokenBarrierError too"
    );
    check!(
        barrier.broken() && barrier.wait().await.is_err(),
        "broken: a later wait() fails at once ({barrier:?})"
    );

    barrier.reset();
    check!(
        !barrier.broken() && barrier.n_waiting() == 0,
        "reset(): {barrier:?}"
    );
    let thread_party = thread::spawn({
        let barrier = barrier.clone().into_blocking();
        move || barrier.wait()
    });
    let task_party = tokio::spawn({
        let barrier = barrier.clone();
        async move { barrier.wait().await }
    });
    let mine = barrier.wait().await.expect("a full round");
    let theirs = join(thread_party).await.expect("a full round");
    let its = task_party.await.unwrap().expect("a full round");
    let mut indices = [mine, theirs, its];
    indices.sort_unstable();
    say!(
        "task",
        "a thread and two tasks meet again: indices {mine}, {theirs}, {its}"
    );
    check!(indices == [0, 1, 2], "a full round passes after reset()");
}

async fn threads_joined_across_worlds() {
    title("Thread: a task-thread and an OS thread, each joined from the other world");
    let go = Arc::new(Event::new());
    let fetcher = Thread::builder().name("fetcher").target({
        let go = go.clone();
        move || async move {
            let me = threading::current_thread();
            say!("fetcher", "I am {} (a task), waiting for go", me.name());
            go.wait().await;
            42
        }
    });
    check!(
        fetcher.ident().is_none() && !fetcher.is_alive(),
        "before start(): no ident, not alive: {fetcher:?}"
    );
    fetcher.start().expect("first start");
    check!(
        fetcher.is_alive() && threading::enumerate().iter().any(|t| t == &fetcher),
        "after start(): alive and listed by enumerate(): {fetcher:?}"
    );

    // A plain OS thread joins the task, first with a timeout that runs out.
    let joiner = threading::blocking::Thread::builder()
        .name("joiner")
        .target({
            let fetcher = fetcher.clone().into_blocking();
            move || {
                let start = Instant::now();
                let first = fetcher.join_timeout(Duration::from_millis(30));
                say!(
                    "joiner",
                    "join_timeout(30 ms) -> {first:?} after {} ms",
                    ms(start)
                );
                let second = fetcher.join();
                say!("joiner", "join() -> {second:?}");
                (first, start.elapsed(), second)
            }
        });
    joiner.start().expect("start");
    tokio::time::sleep(Duration::from_millis(60)).await;
    say!("task", "go.set()");
    go.set();

    // A task awaits the OS thread: its return value comes back to the first joiner.
    let (first, waited, second) = joiner
        .as_async()
        .join()
        .await
        .expect("no panic")
        .expect("the first joiner takes the value");
    check!(
        first == Err(JoinError::TimedOut) && waited >= Duration::from_millis(30),
        "the thread's join_timeout ran out first, never early"
    );
    check!(
        second == Ok(Some(42)),
        "then its join() got the task's value, 42"
    );
    check!(
        fetcher.join().await == Ok(None),
        "a later join gets Ok(None): the value went to the first joiner"
    );
    check!(
        !fetcher.is_alive() && !threading::enumerate().iter().any(|t| t == &fetcher),
        "ended: not alive, not listed: {fetcher:?}"
    );
    check!(
        matches!(fetcher.start(), Err(threading::StartError::AlreadyStarted)),
        "a second start() is an error"
    );
}

async fn thread_panics_and_hooks() {
    title("Thread: a panic goes to the excepthook and to every joiner, never further");
    threading::set_excepthook(|args| {
        let name = args.thread().map(|t| t.name()).unwrap_or_default();
        say!("hook", "{name} panicked: {}", args.message().unwrap_or("?"));
    });
    let lock = Arc::new(Lock::new());
    let worker = threading::blocking::Thread::builder()
        .name("worker")
        .target({
            let lock = lock.clone();
            move || {
                let _guard = lock.blocking().acquire();
                say!("worker", "holding the lock, then panicking");
                panic!("disk full");
            }
        });
    worker.start().expect("start");
    let by_task = worker.as_async().join().await;
    let by_thread = {
        let w = worker.clone();
        join(thread::spawn(move || w.join())).await
    };
    threading::set_excepthook(threading::excepthook);
    say!("task", "join() -> {by_task:?}");
    check!(
        matches!(&by_task, Err(JoinError::Panicked(p)) if p.message() == Some("disk full"))
            && by_task == by_thread,
        "a task and a thread both got JoinError::Panicked(\"disk full\")"
    );
    check!(
        !lock.locked() && !worker.is_alive(),
        "the lock it held is free again; the thread is not alive"
    );
}

async fn timers() {
    title("Timer: runs once after its interval, unless cancelled first");
    let fired_at = Arc::new(Mutex::new(None));
    let start = Instant::now();
    let timer = Timer::new(Duration::from_millis(40), {
        let fired_at = fired_at.clone();
        move || async move {
            *fired_at.lock().unwrap() = Some(start.elapsed());
            say!("timer", "fired after {} ms", ms(start));
        }
    });
    timer.start().expect("start");
    // A plain thread joins the timer's task.
    let t = timer.clone().into_blocking();
    join(thread::spawn(move || t.join()))
        .await
        .expect("no panic");
    let fired = fired_at.lock().unwrap().expect("fired");
    check!(
        fired >= Duration::from_millis(40),
        "not before its 40 ms interval ({} ms)",
        fired.as_millis()
    );

    let never =
        threading::blocking::Timer::new(Duration::from_secs(3600), || unreachable!("cancelled"));
    never.start().expect("start");
    let start = Instant::now();
    check!(never.cancel(), "cancel() while it waits: true");
    never.as_async().join().await.expect("no panic");
    check!(
        start.elapsed() < Duration::from_secs(60) && !never.is_alive(),
        "its thread ended at once ({} ms), without waiting out the hour",
        ms(start)
    );
    check!(!never.cancel(), "a second cancel() is harmless: false");
}

async fn local_data() {
    title("Local: one value per Thread task or OS thread, dropped when it ends");
    static REQUESTS: threading::Local<std::cell::Cell<u32>> =
        threading::Local::new(|| std::cell::Cell::new(0));
    let workers: Vec<Thread<u32>> = (1..=3)
        .map(|n| {
            Thread::new(move || async move {
                for _ in 0..n {
                    REQUESTS.with(|c| c.set(c.get() + 1));
                    tokio::task::yield_now().await; // may resume on another worker
                }
                REQUESTS.with(|c| c.get())
            })
        })
        .collect();
    for w in &workers {
        w.start().expect("start");
    }
    let mut counts = Vec::new();
    for w in &workers {
        counts.push(w.join().await.expect("no panic").expect("value"));
    }
    say!(
        "task",
        "each task-thread counted its own requests: {counts:?}"
    );
    check!(
        counts == [1, 2, 3],
        "three Threads, three values, though they share two workers"
    );
    let os = threading::blocking::Thread::new(|| {
        REQUESTS.blocking().with(|c| c.set(42));
        REQUESTS.blocking().with(|c| c.get())
    });
    os.start().expect("start");
    check!(
        os.as_async().join().await == Ok(Some(42)),
        "an OS thread has its own value too (blocking form)"
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

/// How a `try_acquire` went, for printing.
fn got<T>(guard: &Option<T>) -> &'static str {
    if guard.is_some() {
        "Some (got it)"
    } else {
        "None"
    }
}
