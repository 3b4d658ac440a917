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
//!
//! ## The bound, at every instant
//!
//! A bounded instance (a lock: 1; a `BoundedSemaphore`: its initial value) refuses a release
//! that would lift the *value* past the bound, where the value is, as in Python, the free
//! permits plus those in flight: reserved by a release that is still handing them out (a
//! batch wakes at most 32 waiters with the lock held, then lets go of it to wake them), and
//! granted to a waiter that has not taken its grant yet. `in_flight` counts both:
//! `reserve` checks the bound and adds `n`, under the lock, in the same step as it sets
//! `QUEUED` (so every other releaser comes to the lock); a granted waiter subtracts its
//! permit when it sees `GRANTED` (`took_grant`), and a dropped one hands it on as a release
//! already reserved (`give_back`). `QUEUED` stays set while anything is in flight, and is
//! cleared under the lock once the list is empty and nothing is in flight. So a release
//! nested inside a batch (from a waker, or a woken task polled inline) is checked against
//! everything the batch is placing, and an over-release is refused with nothing changed.
//! Unbounded semaphores keep no such count: their only limit is the counter's size.

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
    /// Bounded instances only: permits counted against `max` that are not free (see
    /// [`Permits::in_flight`]). Grows only under the queue lock.
    in_flight: AtomicUsize,
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
            in_flight: AtomicUsize::new(0),
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
            in_flight: AtomicUsize::new(0),
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
            if s < ONE {
                return false;
            }
            if self.fair && s & QUEUED != 0 {
                // Someone may be queued ahead, or the mark is only a grant in flight: the
                // list, under its lock, tells which.
                return self.try_acquire_marked();
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

    /// A fair instance with free permits and `QUEUED` set: take a permit if nobody is
    /// queued (the mark then only stays for grants in flight, or until `settle` clears it).
    #[cold]
    fn try_acquire_marked(&self) -> bool {
        let list = self.queue.lock();
        if !list.is_empty() {
            return false;
        }
        let idle = self.in_flight() == 0;
        let mut s = self.state.load(Ordering::Relaxed);
        loop {
            if s < ONE {
                return false;
            }
            let new = if idle { (s - ONE) & !QUEUED } else { s - ONE };
            // Acquire: as in `try_acquire`.
            match self
                .state
                .compare_exchange_weak(s, new, Ordering::Acquire, Ordering::Relaxed)
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
        let list = self.queue.lock();
        if self.bounded {
            self.reserve(n)?;
        } else if !list.is_empty() {
            // While waiters are queued, `QUEUED` sends every other releaser here, so the
            // counter cannot grow behind our back; if the list is empty, `QUEUED` may
            // already be clear and a fast-path release may race us, so the check is then
            // made in the same compare-and-swap that adds the permits (`add_free`).
            self.check(self.available(), n)?;
        }
        self.hand_out(list, n, &mut wakes)
        // `wakes` is dropped last: every waiter chosen above is woken with no lock held,
        // and a waker's panic reaches the caller only now that the permits are all placed.
    }

    /// Bounded instances, under the lock: check the bound against the free permits plus
    /// those in flight (the value Python's `BoundedSemaphore` checks: a permit handed to a
    /// waiter counts until the waiter has taken it), then reserve `n` more in flight. The
    /// check and the `QUEUED` mark are one compare-and-swap, so no fast-path release slips
    /// in; `in_flight` only grows under this lock, and a waiter taking its grant only lowers
    /// it, which makes the check stricter, never looser.
    fn reserve(&self, n: usize) -> Result<(), ReleaseFault> {
        let flight = self.in_flight.load(Ordering::Acquire);
        let mut s = self.state.load(Ordering::Relaxed);
        loop {
            // Both terms are at most `max <= MAX_PERMITS`, so the sum cannot overflow.
            self.check((s >> 1) + flight, n)?;
            // AcqRel: Acquire pairs with the releases that freed permits; Release orders the
            // mark before the hand-off below.
            match self.state.compare_exchange_weak(
                s,
                s | QUEUED,
                Ordering::AcqRel,
                Ordering::Relaxed,
            ) {
                Ok(_) => break,
                Err(actual) => s = actual,
            }
        }
        self.in_flight.fetch_add(n, Ordering::AcqRel);
        Ok(())
    }

    /// Under the lock: place `n` released permits (reserved in flight on a bounded
    /// instance). Fair instances hand every permit to the front waiter; default instances
    /// hand permits only to front waiters that are overdue (eventual fairness), then make
    /// the rest free, where a newcomer may take them, and wake a waiter for each.
    fn hand_out<'a>(
        &'a self,
        mut list: MutexGuard<'a, List>,
        n: usize,
        wakes: &mut WakeList,
    ) -> Result<(), ReleaseFault> {
        let mut left = n;
        while left > 0 && list.front().is_some_and(|front| self.fair || front.overdue) {
            // On a bounded instance the permit stays counted in flight until its waiter
            // takes it (`took_grant`) or hands it back (`give_back`).
            list.pop_front(GRANTED, wakes);
            left -= 1;
            if wakes.is_full() {
                // Wake this batch outside the lock, then carry on with the rest. The permits
                // not yet placed stay reserved (bounded) or outside the counter, and any
                // other releaser comes to this lock: nothing can pass the bound meanwhile.
                drop(list);
                wakes.wake_all();
                list = self.queue.lock();
            }
        }
        // Unbounded: cannot fail after a grant unless the lock was dropped between batches
        // (over 32 waiters) while a bare release raced past the count limit; then the
        // permits already handed out stay handed out and the rest are refused.
        self.add_free(left, &list)?;
        if !self.fair && left > 0 {
            self.wake_for_free(list, left, wakes);
        }
        Ok(())
    }

    /// Under the lock: add `n` free permits (possibly 0) and clear `QUEUED` if nothing needs
    /// the slow path any more. Bounded: the permits were reserved in flight, so they are
    /// within the bound and leave `in_flight` here. Unbounded: the count limit is checked in
    /// the same compare-and-swap, so a racing fast-path release cannot slip in between.
    fn add_free(&self, n: usize, list: &List) -> Result<(), ReleaseFault> {
        let mut s = self.state.load(Ordering::Relaxed);
        loop {
            let free = if self.bounded {
                (s >> 1) + n
            } else {
                self.check(s >> 1, n)?
            };
            // Release: as in `release`. Acquire: bargers may have changed the word.
            match self.state.compare_exchange_weak(
                s,
                (free << 1) | (s & QUEUED),
                Ordering::AcqRel,
                Ordering::Relaxed,
            ) {
                Ok(_) => break,
                Err(actual) => s = actual,
            }
        }
        // Free first, then out of flight: in between the permits count twice, which only
        // makes a concurrent bound check stricter.
        if self.bounded && n > 0 {
            self.in_flight.fetch_sub(n, Ordering::AcqRel);
        }
        self.settle(list);
        Ok(())
    }

    /// Under the lock: clear `QUEUED` if no waiter is queued and no grant is in flight.
    /// (`QUEUED` is only ever set under this lock, so the clear cannot hide a new mark.)
    fn settle(&self, list: &List) {
        if list.is_empty() && self.in_flight() == 0 {
            self.state.fetch_and(!QUEUED, Ordering::Release);
        }
    }

    /// Permits counted against the bound but not free: reserved by a release still handing
    /// them out, or granted to a waiter that has not taken its grant yet. Always 0 on an
    /// unbounded instance, which does not count them (it has no bound to keep).
    fn in_flight(&self) -> usize {
        if self.bounded {
            self.in_flight.load(Ordering::Acquire)
        } else {
            0
        }
    }

    /// Default instances: wake up to `n` waiters for the free permits; a front waiter that
    /// is overdue is handed a permit instead, if one is still free. Wakes in batches,
    /// outside the lock.
    fn wake_for_free<'a>(&'a self, mut list: MutexGuard<'a, List>, n: usize, wakes: &mut WakeList) {
        let mut left = n;
        while left > 0 {
            let Some(front) = list.front() else { break };
            let status = if front.overdue && self.take_for_waiter() {
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
        self.settle(&list);
    }

    /// Under the lock: move a free permit into flight, for a queued waiter about to be
    /// granted it (ignores `QUEUED`). Counted in flight first, so that it is never counted
    /// nowhere.
    fn take_for_waiter(&self) -> bool {
        if self.bounded {
            self.in_flight.fetch_add(1, Ordering::AcqRel);
        }
        let took = self.try_take_for_waiter();
        if !took && self.bounded {
            self.in_flight.fetch_sub(1, Ordering::AcqRel);
        }
        took
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
                // A `QUEUED` left by a grant that has since been taken is cleared here.
                let idle = list.is_empty() && self.in_flight() == 0;
                (if idle { (s - ONE) & !QUEUED } else { s - ONE }, true)
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
        self.settle(list);
    }

    fn give_back(&self) {
        if self.bounded {
            // The permit is still counted in flight: hand it on as a release whose bound
            // was checked when it was first released.
            let mut wakes = WakeList::new();
            let _ = self.hand_out(self.queue.lock(), 1, &mut wakes);
        } else {
            // Unbounded: the permit is ours to give back; it cannot pass the count limit
            // unless bare `release()` calls raced it there, and then it is dropped.
            let _ = self.release(1);
        }
    }

    fn took_grant(&self) {
        if self.bounded {
            // The lock's `QUEUED` mark, kept while this grant was in flight, is cleared by
            // the next operation under the lock (`settle`, `try_locked`).
            self.in_flight.fetch_sub(1, Ordering::AcqRel);
        }
    }

    fn spins(&self) -> bool {
        // A fair instance serves its queue in order: a blocking caller that spun on
        // `try_fast` before queueing would overtake no one only by luck, and a caller that
        // arrived later but queued sooner would be served first. So only barging instances
        // spin (issue 13, defect 10).
        !self.fair
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
