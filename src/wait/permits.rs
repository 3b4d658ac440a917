//! Permits: the state behind `Lock` (one permit), `Semaphore` and `BoundedSemaphore`.
//!
//! # Implementation
//!
//! One state word holds the free permits and a `QUEUED` bit:
//!
//! | bits          | meaning                                               |
//! |---------------|-------------------------------------------------------|
//! | `0`           | `QUEUED`: the waiter list may be non-empty            |
//! | `1..`         | free permits (`state >> 1`)                           |
//!
//! The uncontended acquire is one compare-and-swap taking a permit; the uncontended release
//! is one compare-and-swap adding it back, which sees no `QUEUED` bit and returns. Both
//! take no lock and allocate nothing.
//!
//! A waiter that finds no permit takes the queue lock, tries again, and otherwise sets
//! `QUEUED` (in the same compare-and-swap loop, so a release either sees the bit or the
//! waiter sees the permit) and links its node. `QUEUED` is cleared, under the lock, when
//! the list becomes empty.
//!
//! A release that sees `QUEUED` works under the queue lock:
//! - **fair** instances hand each released permit straight to the front waiter (status
//!   `GRANTED`); no permit reaches the counter while anyone waits, and newcomers (who see
//!   `QUEUED`) queue behind, so the order is strict FIFO (asyncio's );
//! - **default** instances add the permits to the counter, where a running newcomer may take
//!   them (throughput, as parking_lot), and wake one waiter per permit (status `WOKEN`) to
//!   retry; a woken waiter that loses queues again at the front, keeping its first arrival
//!   time. A front waiter that has waited longer than [`FAIR_AFTER`](super::sync::FAIR_AFTER)
//!   is handed a permit directly instead, so nobody starves.
//!
//! A dropped wait that was granted a permit releases it through the same path; one that
//! was woken and gives up wakes the next waiter if a permit is still free (`pass_on`).

use super::machine::Source;
use super::queue::{List, Queue, WakeList};
use super::sync::{AtomicUsize, MutexGuard, Ordering};
use super::waiter::{GRANTED, WOKEN};

const QUEUED: usize = 1;
const ONE: usize = 2;

/// The largest number of permits a semaphore can hold.
pub(crate) const MAX_PERMITS: usize = usize::MAX >> 1;

/// The `max` that makes a plain semaphore: no bound but [`MAX_PERMITS`].
pub(crate) const UNBOUNDED: usize = usize::MAX;

/// Why a release changed nothing.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum ReleaseFault {
    /// `n` was 0.
    Zero,
    /// The count would pass `max` (the bound of a bounded semaphore, or a lock's one permit).
    AboveMax { value: usize },
    /// The count would pass [`MAX_PERMITS`].
    Overflow,
}

/// Free permits plus the queue of waiters for them. (Public only because
/// `ConditionLock`'s hidden methods name it; it cannot be named outside the crate.)
#[derive(Debug)]
pub struct Permits {
    state: AtomicUsize,
    /// The most permits that may be free at once: 1 for a lock, the initial value for a
    /// bounded semaphore, [`MAX_PERMITS`] for a plain one.
    max: usize,
    /// Whether passing `max` is the caller's error (a lock, a bounded semaphore) rather than
    /// a count overflow (a plain semaphore). Kept apart from `max`, so a bounded semaphore
    /// whose bound is [`MAX_PERMITS`] still reports its bound.
    bounded: bool,
    fair: bool,
    queue: Queue,
}

impl Permits {
    /// `permits` free permits, at most `max` free at once.
    ///
    /// # Panics
    /// If `permits > max` or `max > MAX_PERMITS` (a constant-evaluation error in a `const`);
    /// `max == UNBOUNDED` means [`MAX_PERMITS`], unbounded.
    #[cfg(not(loom))]
    pub(crate) const fn new(permits: usize, max: usize, fair: bool) -> Self {
        let bounded = max != UNBOUNDED;
        let max = if bounded { max } else { MAX_PERMITS };
        assert!(
            max <= MAX_PERMITS,
            "a semaphore holds at most usize::MAX / 2 permits"
        );
        assert!(permits <= max);
        Self {
            state: AtomicUsize::new(permits << 1),
            max,
            bounded,
            fair,
            queue: Queue::new(),
        }
    }

    #[cfg(loom)]
    pub(crate) fn new(permits: usize, max: usize, fair: bool) -> Self {
        let bounded = max != UNBOUNDED;
        let max = if bounded { max } else { MAX_PERMITS };
        assert!(
            max <= MAX_PERMITS,
            "a semaphore holds at most usize::MAX / 2 permits"
        );
        assert!(permits <= max);
        Self {
            state: AtomicUsize::new(permits << 1),
            max,
            bounded,
            fair,
            queue: Queue::new(),
        }
    }

    /// Free permits now.
    pub(crate) fn available(&self) -> usize {
        self.state.load(Ordering::Acquire) >> 1
    }

    /// Whether waiters may be queued (asyncio's `locked()` counts them: A-18).
    pub(crate) fn has_waiters(&self) -> bool {
        self.state.load(Ordering::Acquire) & QUEUED != 0
    }

    /// The number of queued waiters (takes the queue lock; for `Debug`).
    pub(crate) fn waiters(&self) -> usize {
        self.queue.lock().len()
    }

    pub(crate) fn max(&self) -> usize {
        self.max
    }

    /// Whether `max` is a bound (a lock, a bounded semaphore) rather than the count limit.
    pub(crate) fn bounded(&self) -> bool {
        self.bounded
    }

    pub(crate) fn is_fair(&self) -> bool {
        self.fair
    }

    /// Take one permit if one is free (and, on a fair instance, nobody is queued for it).
    #[inline]
    pub(crate) fn try_acquire(&self) -> bool {
        let mut s = self.state.load(Ordering::Relaxed);
        loop {
            if s < ONE || (self.fair && s & QUEUED != 0) {
                return false;
            }
            // Acquire: pairs with the Release of the last release, so the previous holder's
            // writes are visible to the new one.
            match self
                .state
                .compare_exchange_weak(s, s - ONE, Ordering::Acquire, Ordering::Relaxed)
            {
                Ok(_) => return true,
                Err(actual) => s = actual,
            }
        }
    }

    /// Give back `n` permits: hand them to waiters, or make them free.
    #[inline]
    pub(crate) fn release(&self, n: usize) -> Result<(), ReleaseFault> {
        if n == 0 {
            return Err(ReleaseFault::Zero);
        }
        let mut s = self.state.load(Ordering::Relaxed);
        loop {
            if s & QUEUED != 0 {
                return self.release_slow(n);
            }
            let value = s >> 1;
            let new = self.check(value, n)?;
            // Release: publishes the holder's writes to the next acquirer.
            match self.state.compare_exchange_weak(
                s,
                new << 1,
                Ordering::Release,
                Ordering::Relaxed,
            ) {
                Ok(_) => return Ok(()),
                Err(actual) => s = actual,
            }
        }
    }

    fn check(&self, value: usize, n: usize) -> Result<usize, ReleaseFault> {
        match value.checked_add(n) {
            Some(new) if new <= self.max => Ok(new),
            _ if self.bounded => Err(ReleaseFault::AboveMax { value }),
            _ => Err(ReleaseFault::Overflow),
        }
    }

    #[cold]
    fn release_slow(&self, n: usize) -> Result<(), ReleaseFault> {
        let mut wakes = WakeList::new();
        let mut list = self.queue.lock();
        // The bound is checked against the counter as it stands under the lock, before
        // anything changes. While waiters are queued, `QUEUED` sends every other releaser
        // here, so the counter cannot grow behind our back; if the list is empty, `QUEUED`
        // may already be clear and a fast-path release may race us, so the check is then
        // made in the same compare-and-swap that adds the permits (`add_free`).
        if !list.is_empty() {
            self.check(self.available(), n)?;
        }
        // Fair instances hand every permit to the front waiter. Default instances hand
        // permits only to front waiters that are overdue (eventual fairness), before any
        // permit reaches the counter where a newcomer could take it.
        let mut left = n;
        while left > 0 && list.front().is_some_and(|front| self.fair || front.overdue) {
            list.pop_front(GRANTED, &mut wakes);
            left -= 1;
            if wakes.is_full() {
                // Wake this batch outside the lock, then carry on with the rest.
                drop(list);
                wakes.wake_all();
                list = self.queue.lock();
            }
        }
        // Cannot fail after a grant unless the lock was dropped between batches (over 32
        // waiters) while a bare release raced past the bound; then the permits already
        // handed out stay handed out and the rest are refused.
        self.add_free(left, &list)?;
        if !self.fair && left > 0 {
            self.wake_for_free(list, left, &mut wakes);
        }
        Ok(())
    }

    /// Under the lock: add `n` free permits (possibly 0), within the bound, and clear
    /// `QUEUED` if nobody waits. The bound is checked in the same compare-and-swap, so a
    /// racing fast-path release cannot slip in between.
    fn add_free(&self, n: usize, list: &List) -> Result<(), ReleaseFault> {
        let mut s = self.state.load(Ordering::Relaxed);
        loop {
            let mut new = (self.check(s >> 1, n)? << 1) | (s & QUEUED);
            if list.is_empty() {
                new &= !QUEUED;
            }
            // Release: as in `release`. Acquire: bargers may have changed the word.
            match self
                .state
                .compare_exchange_weak(s, new, Ordering::AcqRel, Ordering::Relaxed)
            {
                Ok(_) => return Ok(()),
                Err(actual) => s = actual,
            }
        }
    }

    /// Default instances: wake up to `n` waiters for the free permits; a front waiter that
    /// is overdue is handed a permit instead, if one is still free. Wakes in batches,
    /// outside the lock.
    fn wake_for_free<'a>(&'a self, mut list: MutexGuard<'a, List>, n: usize, wakes: &mut WakeList) {
        let mut left = n;
        while left > 0 {
            let Some(front) = list.front() else { break };
            let status = if front.overdue && self.try_take_for_waiter() {
                GRANTED
            } else {
                WOKEN
            };
            list.pop_front(status, wakes);
            left -= 1;
            if wakes.is_full() {
                drop(list);
                wakes.wake_all();
                list = self.queue.lock();
            }
        }
        let _ = self.add_free(0, &list);
    }

    /// Take a free permit on behalf of a queued waiter (ignores `QUEUED`).
    fn try_take_for_waiter(&self) -> bool {
        let mut s = self.state.load(Ordering::Relaxed);
        while s >= ONE {
            match self
                .state
                .compare_exchange_weak(s, s - ONE, Ordering::Acquire, Ordering::Relaxed)
            {
                Ok(_) => return true,
                Err(actual) => s = actual,
            }
        }
        false
    }
}

impl Source for Permits {
    fn queue(&self) -> &Queue {
        &self.queue
    }

    fn try_fast(&self) -> bool {
        self.try_acquire()
    }

    fn try_locked(&self, list: &List) -> bool {
        let mut s = self.state.load(Ordering::Relaxed);
        loop {
            // Under the lock the list is exact: a fair waiter may take a free permit only
            // if nobody is ahead of it.
            let (new, took) = if s >= ONE && (!self.fair || list.is_empty()) {
                (s - ONE, true)
            } else if s & QUEUED != 0 {
                return false;
            } else {
                (s | QUEUED, false)
            };
            // AcqRel: Acquire when taking a permit; Release orders the QUEUED mark before
            // the node is linked (the releaser reads it, then takes the same lock).
            match self
                .state
                .compare_exchange_weak(s, new, Ordering::AcqRel, Ordering::Relaxed)
            {
                Ok(_) => return took,
                Err(actual) => s = actual,
            }
        }
    }

    fn after_unlink(&self, list: &List) {
        if list.is_empty() {
            self.state.fetch_and(!QUEUED, Ordering::Release);
        }
    }

    fn give_back(&self) {
        // A permit we were granted is ours to give back, so this cannot pass `max` unless
        // a bare `release()` raced past its bound; then the permit is dropped.
        let _ = self.release(1);
    }

    fn spins(&self) -> bool {
        true
    }

    fn barging(&self) -> bool {
        !self.fair
    }

    fn pass_on(&self) {
        if self.fair || self.available() == 0 {
            return;
        }
        let mut wakes = WakeList::new();
        self.wake_for_free(self.queue.lock(), 1, &mut wakes);
    }
}
