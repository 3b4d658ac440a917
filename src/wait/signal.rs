//! Notifications: the queue behind `Condition` (and `Barrier`).
//!
//! # Implementation
//!
//! A waiter always queues (there is nothing to take without a notification), and is linked
//! *before* it lets go of the lock that protects the caller's state, so a notification sent
//! after that can always find it. `notify(n)` moves a notification to each of the first `n`
//! nodes (status `GRANTED`) under the queue lock and wakes them after it; `notify_all` does
//! the same for every node linked before the call, by the queue's epoch, so waiters that
//! arrive meanwhile are not woken (CONFORMANCE C-24). A dropped wait that was notified
//! passes its notification on to the next waiter; a timed-out one that was not simply
//! leaves, so it can never absorb a later notification (C-19).

use super::machine::Source;
use super::queue::{List, Queue, WakeList};
use super::waiter::GRANTED;

/// A queue of waiters for notifications.
#[derive(Debug)]
pub(crate) struct Signal {
    queue: Queue,
}

impl Signal {
    #[cfg(not(loom))]
    pub(crate) const fn new() -> Self {
        Self {
            queue: Queue::new(),
        }
    }

    #[cfg(loom)]
    pub(crate) fn new() -> Self {
        Self {
            queue: Queue::new(),
        }
    }

    /// Notify up to `n` waiters, in FIFO order; returns how many.
    pub(crate) fn notify(&self, n: usize) -> usize {
        self.notify_while(n, None)
    }

    /// Notify every waiter linked before this call; returns how many.
    pub(crate) fn notify_all(&self) -> usize {
        self.notify_while(usize::MAX, Some(()))
    }

    fn notify_while(&self, n: usize, current_only: Option<()>) -> usize {
        let mut wakes = WakeList::new();
        let mut list = self.queue.lock();
        let epoch = current_only.map(|()| list.close_epoch());
        let mut woken = 0;
        while woken < n
            && list
                .front()
                .is_some_and(|f| epoch.is_none_or(|e| f.epoch <= e))
        {
            list.pop_front(GRANTED, &mut wakes);
            woken += 1;
            if wakes.is_full() {
                drop(list);
                wakes.wake_all();
                list = self.queue.lock();
            }
        }
        woken
    }

    /// The number of waiters (takes the queue lock).
    pub(crate) fn waiters(&self) -> usize {
        self.queue.lock().len()
    }
}

impl Source for Signal {
    fn queue(&self) -> &Queue {
        &self.queue
    }

    fn try_fast(&self) -> bool {
        false
    }

    fn try_locked(&self, _list: &List) -> bool {
        false
    }

    fn after_unlink(&self, _list: &List) {}

    fn give_back(&self) {
        // A notification picked for a waiter that is gone goes to the next one.
        self.notify(1);
    }

    fn pass_on(&self) {
        // Signal waiters are always granted, never merely woken.
    }
}
