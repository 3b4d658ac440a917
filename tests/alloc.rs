//! The uncontended acquire and release of every primitive, in both forms, and an async wait
//! that has to queue, allocate nothing. A counting global allocator, with a per-thread
//! counter (the test harness runs tests on several threads at once).

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::future::Future;
use std::pin::pin;
use std::task::{Context, Poll};
use std::time::Duration;

use futures::task::noop_waker;
use threading::{BoundedSemaphore, Event, Lock, Semaphore};

struct Counting;

thread_local! {
    static ALLOCATIONS: Cell<usize> = const { Cell::new(0) };
}

// SAFETY: forwards to the system allocator; only counts.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let _ = ALLOCATIONS.try_with(|c| c.set(c.get() + 1));
        // SAFETY: same contract as ours.
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: same contract as ours.
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let _ = ALLOCATIONS.try_with(|c| c.set(c.get() + 1));
        // SAFETY: same contract as ours.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

/// How many allocations `f` made on this thread.
fn allocations(f: impl FnOnce()) -> usize {
    let before = ALLOCATIONS.with(Cell::get);
    f();
    ALLOCATIONS.with(Cell::get) - before
}

/// Poll a future to completion on this thread with a no-op waker (no runtime, so that only
/// the crate's own allocations are counted). Panics if it stays pending.
fn poll_now<F: Future>(fut: F) -> F::Output {
    let waker = noop_waker();
    let mut cx = Context::from_waker(&waker);
    let mut fut = pin!(fut);
    match fut.as_mut().poll(&mut cx) {
        Poll::Ready(v) => v,
        Poll::Pending => panic!("expected the future to be ready at once"),
    }
}

#[test]
fn uncontended_blocking_forms_allocate_nothing() {
    let lock = threading::blocking::Lock::new();
    let fair = threading::blocking::Lock::new_fair();
    let sem = threading::blocking::Semaphore::new(2);
    let bounded = threading::blocking::BoundedSemaphore::new(2);
    let event = threading::blocking::Event::new();
    // Warm up thread-locals (e.g. std's current-thread handle) outside the count.
    drop(lock.acquire());
    let n = allocations(|| {
        for _ in 0..100 {
            drop(lock.acquire());
            drop(lock.try_acquire());
            drop(lock.acquire_timeout(Duration::from_secs(1)));
            drop(fair.acquire());
            drop(sem.acquire());
            drop(sem.try_acquire());
            drop(bounded.acquire());
            sem.acquire().forget();
            sem.release(1).unwrap();
            event.set();
            event.wait();
            assert!(event.wait_timeout(Duration::from_secs(1)));
            event.clear();
        }
    });
    assert_eq!(n, 0, "uncontended blocking operations allocated {n} times");
}

#[test]
fn uncontended_async_forms_allocate_nothing() {
    let lock = Lock::new();
    let fair = Lock::new_fair();
    let sem = Semaphore::new(2);
    let bounded = BoundedSemaphore::new(2);
    let event = Event::new();
    let n = allocations(|| {
        for _ in 0..100 {
            drop(poll_now(lock.acquire()));
            drop(poll_now(lock.acquire_timeout(Duration::from_secs(1))));
            drop(poll_now(fair.acquire()));
            drop(poll_now(sem.acquire()));
            drop(poll_now(bounded.acquire()));
            event.set();
            poll_now(event.wait());
            event.clear();
        }
    });
    assert_eq!(n, 0, "uncontended async operations allocated {n} times");
}

/// An async acquire that has to queue keeps its waiter node inside the future: queueing,
/// being handed the lock, and completing allocate nothing (the waker is a no-op waker, whose
/// clone does not allocate; tokio's do not either).
#[test]
fn queued_async_acquire_allocates_nothing() {
    let lock = Lock::new_fair();
    let sem = Semaphore::new_fair(0);
    let waker = noop_waker();
    let mut cx = Context::from_waker(&waker);
    let n = allocations(|| {
        for _ in 0..100 {
            let held = lock.try_acquire().unwrap();
            {
                let mut fut = pin!(lock.acquire());
                assert!(fut.as_mut().poll(&mut cx).is_pending());
                drop(held); // hands the lock to the queued future
                match fut.as_mut().poll(&mut cx) {
                    Poll::Ready(g) => drop(g),
                    Poll::Pending => panic!("the lock was handed over"),
                }
            }
            {
                let mut fut = pin!(sem.acquire());
                assert!(fut.as_mut().poll(&mut cx).is_pending());
                // A dropped queued wait allocates nothing either.
            }
            let mut fut = pin!(sem.acquire());
            assert!(fut.as_mut().poll(&mut cx).is_pending());
            sem.release(1).unwrap();
            match fut.as_mut().poll(&mut cx) {
                Poll::Ready(p) => p.forget(),
                Poll::Pending => panic!("the permit was handed over"),
            }
        }
    });
    assert_eq!(n, 0, "queued async waits allocated {n} times");
}
