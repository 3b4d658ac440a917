//! Threads and tasks on one instance: each primitive, both directions, timeouts on both
//! sides.

mod common;
use common::mt_runtime;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use threading::{BoundedSemaphore, Event, Lock, Semaphore};

#[test]
fn task_waits_for_lock_held_by_thread() {
    let rt = mt_runtime();
    let lock = Arc::new(Lock::new());
    let held = lock.clone().into_blocking().acquire_owned();
    let l = lock.clone();
    let task = rt.spawn(async move {
        let _g = l.acquire().await;
        "task got it"
    });
    std::thread::sleep(Duration::from_millis(20));
    assert!(!task.is_finished());
    drop(held);
    assert_eq!(rt.block_on(task).unwrap(), "task got it");
    assert!(!lock.locked());
}

#[test]
fn thread_waits_for_lock_held_by_task() {
    let rt = mt_runtime();
    let lock = Arc::new(Lock::new());
    let guard = rt.block_on(lock.acquire_owned());
    let l = lock.clone();
    let t = std::thread::spawn(move || {
        let _g = l.blocking().acquire();
    });
    rt.block_on(async move {
        tokio::time::sleep(Duration::from_millis(20)).await;
        drop(guard);
    });
    t.join().unwrap();
    assert!(!lock.locked());
}

#[test]
fn timeouts_on_both_sides() {
    let rt = mt_runtime();
    let lock = Arc::new(Lock::new_fair());
    let held = lock.clone().into_blocking().acquire_owned();
    let l = lock.clone();
    let start = Instant::now();
    let got =
        rt.block_on(async move { l.acquire_timeout(Duration::from_millis(50)).await.is_some() });
    assert!(!got);
    assert!(start.elapsed() >= Duration::from_millis(50));
    drop(held);

    let guard = rt.block_on(lock.acquire_owned());
    let start = Instant::now();
    assert!(lock
        .blocking()
        .acquire_timeout(Duration::from_millis(50))
        .is_none());
    assert!(start.elapsed() >= Duration::from_millis(50));
    drop(guard);
    assert!(!lock.locked());
}

// 10,000 tasks waiting on one Event set by a plain thread all wake.
#[test]
fn ten_thousand_tasks_wake_on_one_event_set_by_a_thread() {
    let rt = mt_runtime();
    let event = Arc::new(Event::new());
    let woken = Arc::new(AtomicUsize::new(0));
    let mut tasks = Vec::with_capacity(10_000);
    for _ in 0..10_000 {
        let (e, w) = (event.clone(), woken.clone());
        tasks.push(rt.spawn(async move {
            e.wait().await;
            w.fetch_add(1, Ordering::Relaxed);
        }));
    }
    let e = event.clone();
    std::thread::spawn(move || e.blocking().set())
        .join()
        .unwrap();
    rt.block_on(async {
        for t in tasks {
            t.await.unwrap();
        }
    });
    assert_eq!(woken.load(Ordering::Relaxed), 10_000);
}

#[test]
fn semaphore_shared_by_threads_and_tasks() {
    let rt = mt_runtime();
    let sem = Arc::new(BoundedSemaphore::new(3));
    let inside = Arc::new(AtomicUsize::new(0));
    let max_inside = Arc::new(AtomicUsize::new(0));
    let enter = |inside: &AtomicUsize, max: &AtomicUsize| {
        let now = inside.fetch_add(1, Ordering::SeqCst) + 1;
        max.fetch_max(now, Ordering::SeqCst);
    };
    let mut threads = Vec::new();
    for _ in 0..4 {
        let (s, i, m) = (sem.clone(), inside.clone(), max_inside.clone());
        threads.push(std::thread::spawn(move || {
            for _ in 0..200 {
                let _p = s.blocking().acquire();
                enter(&i, &m);
                std::thread::yield_now();
                i.fetch_sub(1, Ordering::SeqCst);
            }
        }));
    }
    let mut tasks = Vec::new();
    for _ in 0..4 {
        let (s, i, m) = (sem.clone(), inside.clone(), max_inside.clone());
        tasks.push(rt.spawn(async move {
            for _ in 0..200 {
                let _p = s.acquire().await;
                enter(&i, &m);
                tokio::task::yield_now().await;
                i.fetch_sub(1, Ordering::SeqCst);
            }
        }));
    }
    for t in threads {
        t.join().unwrap();
    }
    rt.block_on(async {
        for t in tasks {
            t.await.unwrap();
        }
    });
    assert!(max_inside.load(Ordering::SeqCst) <= 3);
    assert_eq!(sem.value(), 3);
}

#[test]
fn thread_releases_semaphore_a_task_waits_for() {
    let rt = mt_runtime();
    let sem = Arc::new(Semaphore::new(0));
    let s = sem.clone();
    let task = rt.spawn(async move { s.acquire().await.forget() });
    std::thread::sleep(Duration::from_millis(10));
    sem.blocking().release(1).unwrap();
    rt.block_on(task).unwrap();
    assert_eq!(sem.value(), 0);
}

/// One instance serves tasks of two runtimes and a plain thread at once: nothing binds a
/// primitive to an event loop (asyncio's primitives bind to the first loop that contends).
// conformance: A-28
#[test]
fn one_lock_and_event_across_two_runtimes_and_a_thread() {
    let (rt_a, rt_b) = (mt_runtime(), common::ct_runtime());
    let lock = Arc::new(Lock::new_fair());
    let done = Arc::new(Event::new());
    let inside = Arc::new(AtomicUsize::new(0));
    let critical = |inside: &AtomicUsize| {
        assert_eq!(
            inside.fetch_add(1, Ordering::SeqCst),
            0,
            "two holders at once"
        );
        inside.fetch_sub(1, Ordering::SeqCst);
    };
    let task_a = {
        let (l, i) = (lock.clone(), inside.clone());
        rt_a.spawn(async move {
            for _ in 0..500 {
                let _g = l.acquire().await;
                critical(&i);
            }
        })
    };
    let thread = {
        let (l, i, d) = (lock.clone(), inside.clone(), done.clone());
        std::thread::spawn(move || {
            for _ in 0..500 {
                let _g = l.blocking().acquire();
                critical(&i);
            }
            d.blocking().wait();
        })
    };
    rt_b.block_on(async {
        for _ in 0..500 {
            let _g = lock.acquire().await;
            critical(&inside);
        }
        // A task of runtime A and of runtime B, and the thread, all wait on one event.
        let (d, waiter_a) = (done.clone(), done.clone());
        let on_a = rt_a.spawn(async move { waiter_a.wait().await });
        tokio::task::yield_now().await;
        d.set();
        done.wait().await;
        on_a.await.unwrap();
    });
    rt_a.block_on(task_a).unwrap();
    thread.join().unwrap();
    assert!(!lock.locked());
}
