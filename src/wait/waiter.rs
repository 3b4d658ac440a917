//! A waiter node: one per waiting call, on the waiting thread's stack or inside the
//! waiting future, never on the heap.

use std::marker::PhantomPinned;
use std::ptr;
use std::task::Waker;

use super::sync::{thread, AtomicU8, Ordering, Stamp, UnsafeCell};

/// Who to wake: a parked OS thread or a task. Threads and tasks sit side by side in one
/// queue, so any mix of them can wait on one instance.
#[derive(Debug)]
pub(crate) enum Target {
    Thread(thread::Thread),
    Task(Waker),
}

impl Target {
    pub(crate) fn wake(self) {
        match self {
            Target::Thread(t) => t.unpark(),
            Target::Task(w) => w.wake(),
        }
    }
}

/// Not linked: the node is owned by its waiter alone.
pub(crate) const IDLE: u8 = 0;
/// Linked into a queue, waiting.
pub(crate) const WAITING: u8 = 1;
/// Unlinked by a waker that moved a grant (the lock, a permit, a notification) to this node.
/// Whatever else happens, the node's owner now owns the grant.
pub(crate) const GRANTED: u8 = 2;
/// Unlinked and woken without a grant (a default, barging instance): the owner retries,
/// and must pass the wake-up on if it gives up.
pub(crate) const WOKEN: u8 = 3;

/// The fields that only the holder of the queue lock may touch.
#[derive(Debug)]
pub(crate) struct Links {
    pub(crate) prev: *const Node,
    pub(crate) next: *const Node,
    pub(crate) target: Option<Target>,
    /// The queue's epoch when the node was linked: "wake everyone waiting now" wakes the
    /// nodes of earlier epochs only (Event: set-then-clear; Condition: notify_all).
    pub(crate) epoch: u64,
    /// When the waiter first queued, for eventual fairness.
    pub(crate) since: Option<Stamp>,
    /// Whether it was woken, lost the race to a newcomer and queued again.
    pub(crate) requeued: bool,
}

/// A waiter node.
///
/// # Safety protocol
/// - `links` is read and written only while holding the lock of the queue the node is
///   linked into (or, while the node is not linked, by its owner holding that same lock).
/// - `status` is written only under that lock, and read lock-free by the owner with
///   `Acquire`: a waker sets it last, with `Release`, after it has unlinked the node and
///   moved its target out, so the owner that sees `GRANTED`/`WOKEN` may free the node.
/// - A node is pinned while linked, and its owner unlinks it (under the lock) before it
///   is dropped.
#[derive(Debug)]
pub(crate) struct Node {
    status: AtomicU8,
    links: UnsafeCell<Links>,
    _pin: PhantomPinned,
}

// SAFETY: `links` (raw pointers, the wake target) is only touched under the queue's mutex,
// which serialises all access across threads; `status` is atomic. `Target` is Send + Sync.
unsafe impl Send for Node {}
// SAFETY: as above: shared access from other threads goes through the queue mutex or the
// atomic status only.
unsafe impl Sync for Node {}

impl Node {
    #[cfg(not(loom))]
    pub(crate) const fn new() -> Self {
        Self {
            status: AtomicU8::new(IDLE),
            links: UnsafeCell::new(Links {
                prev: ptr::null(),
                next: ptr::null(),
                target: None,
                epoch: 0,
                since: None,
                requeued: false,
            }),
            _pin: PhantomPinned,
        }
    }

    #[cfg(loom)]
    pub(crate) fn new() -> Self {
        Self {
            status: AtomicU8::new(IDLE),
            links: UnsafeCell::new(Links {
                prev: ptr::null(),
                next: ptr::null(),
                target: None,
                epoch: 0,
                since: None,
                requeued: false,
            }),
            _pin: PhantomPinned,
        }
    }

    /// The node's status. `Acquire` pairs with the `Release` store of the waker, so that a
    /// grant's effects (e.g. the previous holder's writes) are visible to the new owner.
    pub(crate) fn status(&self) -> u8 {
        self.status.load(Ordering::Acquire)
    }

    /// Set the status; the caller holds the queue lock, and for `GRANTED`/`WOKEN` has already
    /// unlinked the node and taken its target, since the owner may free it right after.
    pub(crate) fn set_status(&self, status: u8) {
        self.status.store(status, Ordering::Release);
    }

    /// Run `f` on the node's locked fields.
    ///
    /// # Safety
    /// The caller holds the lock of the queue the node belongs to, and no other reference
    /// to the fields is live.
    pub(crate) unsafe fn with_links<R>(&self, f: impl FnOnce(&mut Links) -> R) -> R {
        // SAFETY: the caller holds the queue lock, which serialises every access to `links`.
        self.links.with_mut(|l| f(unsafe { &mut *l }))
    }
}
