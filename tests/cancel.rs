//! Cancel safety under load: bounded storms of acquires dropped at random points, by
//! `tokio::time::timeout` and `select!`, with plain threads contending on the same instance.
//! Afterwards every permit and the lock are accounted for, and there were never two holders.

mod common;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use common::{mt_runtime, Lcg};
use threading::{Event, Lock, Semaphore};

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
        assert!(
            n <= self.max,
            "{n} holders at once, at most {} allowed",
            self.max
        );
    }

    fn leave(&self) {
        self.now.fetch_sub(1, Ordering::SeqCst);
    }
}

const TASKS: usize = 8;
const ACQUIRES_PER_TASK: usize = 1_250; // 10,000 in all
const THREADS: usize = 2;
const ACQUIRES_PER_THREAD: usize = 2_000;

fn lock_storm(lock: Arc<Lock>) {
    let rt = mt_runtime();
    let inside = Arc::new(Inside::new(1));
    let completed = Arc::new(AtomicUsize::new(0));

    let threads: Vec<_> = (0..THREADS)
        .map(|i| {
            let (lock, inside) = (lock.clone(), inside.clone());
            std::thread::spawn(move || {
                let mut rng = Lcg(i as u64 + 1000);
                for _ in 0..ACQUIRES_PER_THREAD {
                    let timeout = Duration::from_micros(rng.next() % 200);
                    if let Some(_g) = lock.blocking().acquire_timeout(timeout) {
                        inside.enter();
                        inside.leave();
                    }
                }
            })
        })
        .collect();

    let tasks: Vec<_> = (0..TASKS)
        .map(|i| {
            let (lock, inside, completed) = (lock.clone(), inside.clone(), completed.clone());
            rt.spawn(async move {
                let mut rng = Lcg(i as u64);
                for _ in 0..ACQUIRES_PER_TASK {
                    let guard = match rng.next() % 3 {
                        // Dropped by tokio's timeout at a random point.
                        0 => {
                            let d = Duration::from_micros(rng.next() % 300);
                            tokio::time::timeout(d, lock.acquire()).await.ok()
                        }
                        // Dropped by select! when a yield finishes first.
                        1 => tokio::select! {
                            g = lock.acquire() => Some(g),
                            _ = tokio::task::yield_now() => None,
                        },
                        // Our own timeout.
                        _ => {
                            let d = Duration::from_micros(rng.next() % 300);
                            lock.acquire_timeout(d).await
                        }
                    };
                    if let Some(_g) = guard {
                        inside.enter();
                        if rng.next() % 4 == 0 {
                            tokio::task::yield_now().await;
                        }
                        inside.leave();
                        completed.fetch_add(1, Ordering::Relaxed);
                    }
                }
            })
        })
        .collect();

    rt.block_on(async {
        for t in tasks {
            t.await.unwrap();
        }
    });
    for t in threads {
        t.join().unwrap();
    }
    assert!(
        !lock.locked(),
        "the lock is stranded after the storm: {lock:?}"
    );
    assert!(format!("{lock:?}").contains("waiters=0"), "{lock:?}");
    // The lock still works from both worlds.
    drop(lock.blocking().acquire());
    drop(rt.block_on(lock.acquire()));
    assert!(
        completed.load(Ordering::Relaxed) > 0,
        "no acquire ever succeeded"
    );
}

#[test]
fn lock_storm_default_policy() {
    lock_storm(Arc::new(Lock::new()));
}

// conformance
#[test]
fn lock_storm_fair_policy() {
    lock_storm(Arc::new(Lock::new_fair()));
}

fn semaphore_storm(sem: Arc<Semaphore>, permits: usize) {
    let rt = mt_runtime();
    let inside = Arc::new(Inside::new(permits));

    let releaser = {
        // A plain thread that takes and gives back permits with bare release() too.
        let (sem, inside) = (sem.clone(), inside.clone());
        std::thread::spawn(move || {
            for _ in 0..ACQUIRES_PER_THREAD {
                if let Some(p) = sem.blocking().acquire_timeout(Duration::from_micros(50)) {
                    inside.enter();
                    inside.leave();
                    p.forget();
                    sem.blocking().release(1).unwrap();
                }
            }
        })
    };

    let tasks: Vec<_> = (0..TASKS)
        .map(|i| {
            let (sem, inside) = (sem.clone(), inside.clone());
            rt.spawn(async move {
                let mut rng = Lcg(i as u64 + 77);
                for _ in 0..ACQUIRES_PER_TASK {
                    let d = Duration::from_micros(rng.next() % 300);
                    let permit = if rng.next() % 2 == 0 {
                        tokio::time::timeout(d, sem.acquire()).await.ok()
                    } else {
                        tokio::select! {
                            p = sem.acquire() => Some(p),
                            _ = tokio::task::yield_now() => None,
                        }
                    };
                    if let Some(_p) = permit {
                        inside.enter();
                        tokio::task::yield_now().await;
                        inside.leave();
                    }
                }
            })
        })
        .collect();

    rt.block_on(async {
        for t in tasks {
            t.await.unwrap();
        }
    });
    releaser.join().unwrap();
    assert_eq!(sem.value(), permits, "permits lost or created: {sem:?}");
    assert!(format!("{sem:?}").contains("waiters=0"), "{sem:?}");
}

#[test]
fn semaphore_storm_default_policy() {
    semaphore_storm(Arc::new(Semaphore::new(3)), 3);
}

// conformance: A-20
#[test]
fn semaphore_storm_fair_policy() {
    semaphore_storm(Arc::new(Semaphore::new_fair(3)), 3);
}

/// Event waits dropped at random points leave no node behind, and every waiter still
/// queued when `set` runs is woken.
#[test]
fn event_wait_storm() {
    let rt = mt_runtime();
    for round in 0..50u64 {
        let event = Arc::new(Event::new());
        let woken = Arc::new(AtomicUsize::new(0));
        let tasks: Vec<_> = (0..100u64)
            .map(|i| {
                let (e, w) = (event.clone(), woken.clone());
                rt.spawn(async move {
                    let mut rng = Lcg(round * 1000 + i);
                    let d = Duration::from_micros(rng.next() % 500);
                    if tokio::time::timeout(d, e.wait()).await.is_ok() {
                        w.fetch_add(1, Ordering::Relaxed);
                    }
                    // Then a wait that must finish.
                    e.wait().await;
                })
            })
            .collect();
        std::thread::sleep(Duration::from_micros(200));
        event.blocking().set();
        rt.block_on(async {
            for t in tasks {
                t.await.unwrap();
            }
        });
        assert!(format!("{event:?}").contains("waiters=0"), "{event:?}");
    }
}

/// Spawn a plain thread that takes `cond`'s lock and waits on it (up to 5 s); return once it
/// is queued and the lock is free again.
async fn thread_waiter(cond: &Arc<threading::Condition>) -> std::thread::JoinHandle<bool> {
    let queued = Arc::new(Event::new());
    let handle = std::thread::spawn({
        let (cond, queued) = (cond.clone().into_blocking(), queued.clone());
        move || {
            let guard = cond.acquire();
            queued.set();
            cond.wait_timeout(guard, Duration::from_secs(5)).1
        }
    });
    queued.wait().await;
    drop(cond.acquire().await); // free only once that thread waits
    handle
}

/// A dropped Condition wait on an RLock leaves the caller's older guards inert for good:
/// no later wait that restores its own saved generation may bring them back to life (a
/// regression test: generations were once reused).
#[tokio::test]
async fn inert_rlock_guards_stay_inert_after_other_waits_restore() {
    use futures::poll;
    let cond = Arc::new(threading::Condition::new());
    let a = thread_waiter(&cond).await;
    let b = thread_waiter(&cond).await;
    {
        let g = cond.acquire().await;
        cond.notify(&g, 1); // FIFO: a
    }
    assert!(tokio::task::spawn_blocking(move || a.join().unwrap())
        .await
        .unwrap());
    let c = thread_waiter(&cond).await;

    let outer = cond.acquire().await;
    let inner = cond.acquire().await;
    let mut wait = Box::pin(cond.wait(inner));
    assert!(poll!(&mut wait).is_pending());
    drop(wait); // `outer` is now inert
    assert!(!cond.locked());
    {
        let g = cond.acquire().await;
        cond.notify(&g, 1); // FIFO: b, which restores its own saved generation
    }
    assert!(tokio::task::spawn_blocking(move || b.join().unwrap())
        .await
        .unwrap());

    let fresh = cond.acquire().await;
    drop(outer); // inert: must release nothing
    let intruder = {
        let cond = cond.clone().into_blocking();
        std::thread::spawn(move || cond.try_acquire().is_some())
    };
    assert!(
        !tokio::task::spawn_blocking(move || intruder.join().unwrap())
            .await
            .unwrap(),
        "an inert guard released a level that a newer guard holds"
    );
    assert_eq!(cond.lock().recursion_count(), 1);
    drop(fresh);
    assert!(!cond.locked());
    {
        let g = cond.acquire().await;
        cond.notify_all(&g);
    }
    assert!(tokio::task::spawn_blocking(move || c.join().unwrap())
        .await
        .unwrap());
}

/// RLock: tasks re-enter and are cancelled at random points (by `tokio::time::timeout` and
/// `select!`) while plain threads re-enter with timeouts: never two owners, every level
/// released, nothing stranded.
#[test]
fn rlock_storm_keeps_one_owner() {
    for fair in [false, true] {
        let rt = mt_runtime();
        let lock = Arc::new(if fair {
            threading::RLock::new_fair()
        } else {
            threading::RLock::new()
        });
        let inside = Arc::new(Inside::new(1));

        let threads: Vec<_> = (0..THREADS)
            .map(|i| {
                let (lock, inside) = (lock.clone(), inside.clone());
                std::thread::spawn(move || {
                    let l = lock.blocking();
                    let mut rng = Lcg(i as u64 + 500);
                    for _ in 0..ACQUIRES_PER_THREAD / 2 {
                        let timeout = Duration::from_micros(rng.next() % 200);
                        if let Some(outer) = l.acquire_timeout(timeout) {
                            inside.enter();
                            let inner = l.acquire(); // re-entry never waits
                            assert_eq!(l.recursion_count(), 2);
                            drop(inner);
                            inside.leave();
                            drop(outer);
                        }
                    }
                })
            })
            .collect();

        let tasks: Vec<_> = (0..TASKS)
            .map(|i| {
                let (lock, inside) = (lock.clone(), inside.clone());
                rt.spawn(async move {
                    let mut rng = Lcg(i as u64 + 900);
                    for _ in 0..ACQUIRES_PER_TASK / 2 {
                        let d = Duration::from_micros(rng.next() % 300);
                        let outer = if rng.next() % 2 == 0 {
                            tokio::time::timeout(d, lock.acquire()).await.ok()
                        } else {
                            tokio::select! {
                                g = lock.acquire() => Some(g),
                                _ = tokio::task::yield_now() => None,
                            }
                        };
                        if let Some(outer) = outer {
                            inside.enter();
                            let inner = lock.acquire().await; // re-entry by the same task
                            assert_eq!(lock.recursion_count(), 2);
                            tokio::task::yield_now().await; // may move to the other worker
                            drop(inner);
                            inside.leave();
                            drop(outer);
                        }
                    }
                })
            })
            .collect();

        rt.block_on(async {
            for t in tasks {
                t.await.unwrap();
            }
        });
        for t in threads {
            t.join().unwrap();
        }
        assert!(!lock.locked(), "stranded after the storm: {lock:?}");
        assert!(format!("{lock:?}").contains("waiters=0"), "{lock:?}");
        drop(lock.blocking().acquire());
    }
}
