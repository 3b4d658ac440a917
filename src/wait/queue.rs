//! The waiter queue: an intrusive FIFO list of [`Node`]s behind a short critical section.
//!
//! The mutex is held only to link, unlink, or move a grant to a node: never while waking,
//! parking or running user code. Wake targets are collected in a [`WakeList`] under the
//! lock and woken after it is released.

use std::pin::Pin;
use std::ptr;

use super::sync::{self, stamp as stamp_now, Mutex, MutexGuard};
use super::waiter::{Node, Target, WAITING};

/// The list behind the queue's mutex. Every node in it is pinned and alive: its owner
/// unlinks it (under this lock) before it can be dropped.
#[derive(Debug)]
pub(crate) struct List {
    head: *const Node,
    tail: *const Node,
    len: usize,
    epoch: u64,
}

// SAFETY: the raw pointers are only followed while the mutex around the `List` is held, and
// the nodes they point to are `Sync` (see `Node`).
unsafe impl Send for List {}

/// A queue of waiters: a mutex around a [`List`].
#[derive(Debug)]
pub(crate) struct Queue {
    list: Mutex<List>,
}

impl Queue {
    #[cfg(not(loom))]
    pub(crate) const fn new() -> Self {
        Self {
            list: Mutex::new(List::new()),
        }
    }

    #[cfg(loom)]
    pub(crate) fn new() -> Self {
        Self {
            list: Mutex::new(List::new()),
        }
    }

    pub(crate) fn lock(&self) -> MutexGuard<'_, List> {
        sync::lock(&self.list)
    }
}

impl List {
    const fn new() -> Self {
        Self {
            head: ptr::null(),
            tail: ptr::null(),
            len: 0,
            epoch: 0,
        }
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.head.is_null()
    }

    pub(crate) fn len(&self) -> usize {
        self.len
    }

    /// Start a new epoch and return the one that just ended: nodes linked up to now carry
    /// an epoch `<=` the returned value, nodes linked from now on a greater one.
    pub(crate) fn close_epoch(&mut self) -> u64 {
        let ended = self.epoch;
        self.epoch += 1;
        ended
    }

    /// Link `node` at the back (or, for a waiter that was woken and lost its turn to a
    /// newcomer, at the front), to be woken through `target`.
    ///
    /// # Safety
    /// `node` is not linked anywhere, stays pinned, and its owner unlinks it through this
    /// queue before it is dropped.
    ///
    /// `stamp`: record when the waiter first queued (a clock read), for eventual fairness;
    /// only default-policy permits use it.
    pub(crate) unsafe fn link(
        &mut self,
        node: Pin<&Node>,
        target: Target,
        front: bool,
        stamp: bool,
    ) {
        let node: &Node = node.get_ref();
        let p: *const Node = node;
        let epoch = self.epoch;
        // SAFETY: we hold the queue lock (we have `&mut List`).
        unsafe {
            node.with_links(|l| {
                l.target = Some(target);
                l.epoch = epoch;
                if l.since.is_some() {
                    l.requeued = true;
                } else if stamp {
                    l.since = Some(stamp_now());
                }
                if front {
                    l.prev = ptr::null();
                    l.next = self.head;
                } else {
                    l.prev = self.tail;
                    l.next = ptr::null();
                }
            });
        }
        if front {
            if self.head.is_null() {
                self.tail = p;
            } else {
                // SAFETY: linked nodes are alive (struct invariant); we hold the lock.
                unsafe { (*self.head).with_links(|l| l.prev = p) };
            }
            self.head = p;
        } else {
            if self.tail.is_null() {
                self.head = p;
            } else {
                // SAFETY: as above.
                unsafe { (*self.tail).with_links(|l| l.next = p) };
            }
            self.tail = p;
        }
        self.len += 1;
        node.set_status(WAITING);
    }

    /// Unlink `node` if it is linked (status `WAITING`). Returns its wake target, which the
    /// caller drops after releasing the lock: dropping a task's `Waker` runs the executor's
    /// code, which may touch this very queue.
    ///
    /// # Safety
    /// `node` is linked into this list or into none.
    #[must_use = "drop the target after releasing the queue lock"]
    pub(crate) unsafe fn unlink(&mut self, node: &Node) -> Option<Target> {
        if node.status() != WAITING {
            return None;
        }
        // SAFETY: we hold the lock; the node and its neighbours are linked, hence alive.
        let target = unsafe {
            let (prev, next, target) = node.with_links(|l| {
                (
                    std::mem::replace(&mut l.prev, ptr::null()),
                    std::mem::replace(&mut l.next, ptr::null()),
                    l.target.take(),
                )
            });
            if prev.is_null() {
                self.head = next;
            } else {
                (*prev).with_links(|l| l.next = next);
            }
            if next.is_null() {
                self.tail = prev;
            } else {
                (*next).with_links(|l| l.prev = prev);
            }
            target
        };
        self.len -= 1;
        node.set_status(super::waiter::IDLE);
        target
    }

    /// The front node's epoch and whether it is owed a direct hand-off, if there is one.
    pub(crate) fn front(&self) -> Option<Front> {
        if self.head.is_null() {
            return None;
        }
        // SAFETY: the head is linked, hence alive; we hold the lock.
        unsafe {
            (*self.head).with_links(|l| {
                Some(Front {
                    epoch: l.epoch,
                    overdue: l.since.is_some_and(|s| sync::overdue(s, l.requeued)),
                })
            })
        }
    }

    /// Unlink the front node, give it `status` (`GRANTED` or `WOKEN`) and put its wake
    /// target in `wakes`. Returns false if the list is empty.
    pub(crate) fn pop_front(&mut self, status: u8, wakes: &mut WakeList) -> bool {
        let node = self.head;
        if node.is_null() {
            return false;
        }
        // SAFETY: the head is linked, hence alive; we hold the lock. The status is set last:
        // from then on the owner may free the node, and we do not touch it again.
        unsafe {
            let (next, target) = (*node).with_links(|l| {
                l.prev = ptr::null();
                (std::mem::replace(&mut l.next, ptr::null()), l.target.take())
            });
            self.head = next;
            if next.is_null() {
                self.tail = ptr::null();
            } else {
                (*next).with_links(|l| l.prev = ptr::null());
            }
            self.len -= 1;
            if let Some(t) = target {
                wakes.push(t);
            }
            (*node).set_status(status);
        }
        true
    }

    /// Whether a linked node would wake `waker` already (`Waker::will_wake` compares the
    /// waker's data and vtable pointers: it runs no executor code).
    ///
    /// # Safety
    /// `node` is linked into this list.
    pub(crate) unsafe fn wakes(&self, node: &Node, waker: &std::task::Waker) -> bool {
        // SAFETY: we hold the lock (`&List` is only reachable through the guard) and the node
        // is linked.
        unsafe {
            node.with_links(|l| matches!(&l.target, Some(Target::Task(w)) if w.will_wake(waker)))
        }
    }

    /// Give a linked node a new wake target (a task polled with a new waker, cloned by the
    /// caller before it took the lock). Returns the old target, for the caller to drop after
    /// releasing the lock.
    ///
    /// # Safety
    /// `node` is linked into this list.
    #[must_use = "drop the old target after releasing the queue lock"]
    pub(crate) unsafe fn retarget(&mut self, node: &Node, target: Target) -> Option<Target> {
        // SAFETY: we hold the lock and the node is linked.
        unsafe { node.with_links(|l| l.target.replace(target)) }
    }
}

/// What a releaser needs to know about the front waiter.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Front {
    pub(crate) epoch: u64,
    pub(crate) overdue: bool,
}

/// Wake targets collected under the queue lock and woken after it is released (on drop).
/// Holds a fixed number, so waking never allocates; a caller with more to wake releases
/// the lock, wakes this batch with [`WakeList::wake_all`], and locks again.
///
/// # A waker that panics
/// `Waker::wake` runs the executor's code, which may panic. One waker's panic must not
/// strand the rest of the batch, nor the batches after it, nor the state change the caller
/// is in the middle of (permits half handed out, a flag raised with waiters still queued).
/// So [`wake_all`](Self::wake_all) wakes every target, catching each panic, and keeps the
/// first; the list re-raises it when it is dropped, which callers do last, after the whole
/// operation is done and the queue lock released. The caller of `set`/`release`/`notify`
/// thus sees the executor's panic, but only once the primitive is consistent and every
/// other waiter is woken. If the thread is already unwinding (a guard dropped by a panic),
/// the waker's panic is dropped instead of aborting the process.
pub(crate) struct WakeList {
    targets: [Option<Target>; WakeList::CAP],
    len: usize,
    panic: Option<Box<dyn std::any::Any + Send>>,
}

impl WakeList {
    pub(crate) const CAP: usize = 32;

    pub(crate) fn new() -> Self {
        const NONE: Option<Target> = None;
        Self {
            targets: [NONE; WakeList::CAP],
            len: 0,
            panic: None,
        }
    }

    pub(crate) fn is_full(&self) -> bool {
        self.len == Self::CAP
    }

    fn push(&mut self, t: Target) {
        debug_assert!(!self.is_full());
        self.targets[self.len] = Some(t);
        self.len += 1;
    }

    /// Wake every collected target; call it with no queue lock held. Never panics: a
    /// waker's panic is kept, to be re-raised when the list is dropped.
    pub(crate) fn wake_all(&mut self) {
        for slot in &mut self.targets[..self.len] {
            if let Some(t) = slot.take() {
                let woke = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| t.wake()));
                if let Err(payload) = woke {
                    // Keep the first; a later payload is dropped here, outside any lock.
                    self.panic.get_or_insert(payload);
                }
            }
        }
        self.len = 0;
    }
}

impl Drop for WakeList {
    fn drop(&mut self) {
        self.wake_all();
        if let Some(payload) = self.panic.take() {
            if !std::thread::panicking() {
                std::panic::resume_unwind(payload);
            }
        }
    }
}
