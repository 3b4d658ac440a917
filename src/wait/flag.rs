//! A flag that waiters wait to see set: the state behind `Event`.
//!
//! # Implementation
//!
//! One state word: `SET` (the flag) and `QUEUED` (the waiter list may be non-empty). `wait`
//! on a set flag is one load. A waiter that finds it clear takes the queue lock, sets
//! `QUEUED`, and returns at once if the same read-modify-write saw `SET`; otherwise it
//! links its node. `set` is one compare-and-swap while nobody is queued; with `QUEUED` it
//! raises the flag under the queue lock and grants every node linked before it (by the
//! queue's epoch), in batches woken outside the lock. A granted node returns true even if the flag was cleared before it ran
//! (CONFORMANCE E-7, A-9): it reports the wake-up, not a later read of the flag.

use super::machine::Source;
use super::queue::{List, Queue, WakeList};
use super::sync::{AtomicUsize, Ordering};
use super::waiter::GRANTED;

const SET: usize = 1;
const QUEUED: usize = 2;

/// An event flag and its waiters.
#[derive(Debug)]
pub(crate) struct Flag {
    state: AtomicUsize,
    queue: Queue,
}

impl Flag {
    #[cfg(not(loom))]
    pub(crate) const fn new() -> Self {
        Self {
            state: AtomicUsize::new(0),
            queue: Queue::new(),
        }
    }

    #[cfg(loom)]
    pub(crate) fn new() -> Self {
        Self {
            state: AtomicUsize::new(0),
            queue: Queue::new(),
        }
    }

    /// Whether the flag is set. Acquire: pairs with `set`'s Release, so a waiter that sees
    /// the flag also sees what the setter wrote before setting it.
    #[inline]
    pub(crate) fn is_set(&self) -> bool {
        self.state.load(Ordering::Acquire) & SET != 0
    }

    /// The number of waiters (takes the queue lock; for `Debug`).
    pub(crate) fn waiters(&self) -> usize {
        self.queue.lock().len()
    }

    /// Set the flag and wake every current waiter.
    ///
    /// With nobody queued this is one compare-and-swap. With waiters queued, the flag is
    /// raised under the queue lock, so raising it and choosing whom to wake are one step:
    /// a waiter that queues after a `clear()` that followed cannot be woken by this `set`.
    #[inline]
    pub(crate) fn set(&self) {
        let mut s = self.state.load(Ordering::Relaxed);
        loop {
            if s & SET != 0 {
                return;
            }
            if s & QUEUED != 0 {
                return self.set_slow();
            }
            // Release: publishes what the setter wrote to waiters that see the flag.
            match self
                .state
                .compare_exchange_weak(s, s | SET, Ordering::Release, Ordering::Relaxed)
            {
                Ok(_) => return,
                Err(actual) => s = actual,
            }
        }
    }

    /// Lower the flag.
    #[inline]
    pub(crate) fn clear(&self) {
        self.state.fetch_and(!SET, Ordering::Release);
    }

    #[cold]
    fn set_slow(&self) {
        let mut wakes = WakeList::new();
        let mut list = self.queue.lock();
        if self.state.fetch_or(SET, Ordering::AcqRel) & SET != 0 {
            // Another `set` raised it (and woke the queue) first.
            return;
        }
        let epoch = list.close_epoch();
        while list.front().is_some_and(|f| f.epoch <= epoch) {
            list.pop_front(GRANTED, &mut wakes);
            if wakes.is_full() {
                drop(list);
                wakes.wake_all();
                list = self.queue.lock();
            }
        }
        self.after_unlink(&list);
    }
}

impl Source for Flag {
    fn queue(&self) -> &Queue {
        &self.queue
    }

    fn try_fast(&self) -> bool {
        self.is_set()
    }

    fn try_locked(&self, list: &List) -> bool {
        // AcqRel: Acquire to see the setter's writes if the flag is set; Release orders the
        // QUEUED mark before the node is linked.
        let set = self.state.fetch_or(QUEUED, Ordering::AcqRel) & SET != 0;
        if set {
            self.after_unlink(list);
        }
        set
    }

    fn after_unlink(&self, list: &List) {
        if list.is_empty() {
            self.state.fetch_and(!QUEUED, Ordering::Release);
        }
    }

    fn give_back(&self) {
        // A notification is not consumed: nothing to give back.
    }

    fn pass_on(&self) {
        // Event waiters are always granted, never merely woken.
    }
}
