//! The one place that chooses between `std` and `loom`.
//!
//! Everything in the waiting core that is shared between threads (atomics, the queue
//! mutex, cells, parking) comes through here, so the same code runs in production and
//! under the loom model checker (`RUSTFLAGS="--cfg loom"`).

#[cfg(not(loom))]
pub(crate) use std::sync::{
    atomic::{AtomicU64, AtomicU8, AtomicUsize, Ordering},
    Mutex, MutexGuard,
};

#[cfg(loom)]
pub(crate) use loom::sync::{
    atomic::{AtomicU64, AtomicU8, AtomicUsize, Ordering},
    Mutex, MutexGuard,
};

/// Thread parking: `std::thread` in production, `loom::thread` under loom.
pub(crate) mod thread {
    #[cfg(not(loom))]
    pub(crate) use std::thread::{current, park, park_timeout, Thread};

    #[cfg(loom)]
    pub(crate) use loom::thread::{current, park, Thread};
}

/// An `UnsafeCell` with loom's closure API, so that loom can check every access.
#[cfg(not(loom))]
#[derive(Debug)]
pub(crate) struct UnsafeCell<T>(core::cell::UnsafeCell<T>);

#[cfg(not(loom))]
impl<T> UnsafeCell<T> {
    pub(crate) const fn new(value: T) -> Self {
        Self(core::cell::UnsafeCell::new(value))
    }

    pub(crate) fn with_mut<R>(&self, f: impl FnOnce(*mut T) -> R) -> R {
        f(self.0.get())
    }
}

#[cfg(loom)]
pub(crate) use loom::cell::UnsafeCell;

/// When a waiter first queued, for eventual fairness.
///
/// In production this is a clock reading; loom has no clock, so there a waiter counts as
/// overdue once it has been woken and had to queue again (see [`overdue`]).
#[cfg(not(loom))]
pub(crate) type Stamp = std::time::Instant;
#[cfg(loom)]
#[derive(Clone, Copy, Debug)]
pub(crate) struct Stamp;

#[cfg(not(loom))]
pub(crate) fn stamp() -> Stamp {
    std::time::Instant::now()
}
#[cfg(loom)]
pub(crate) fn stamp() -> Stamp {
    Stamp
}

/// How long a waiter of a default (barging) instance may be overtaken before a release
/// hands it the lock or permit directly. parking_lot uses 0.5 ms; SPEC asks for about 1 ms.
#[cfg(not(loom))]
pub(crate) const FAIR_AFTER: std::time::Duration = std::time::Duration::from_millis(1);

/// Whether a waiter that first queued at `since` (and has `requeued` after a wake-up that
/// it lost to a barging newcomer) is owed a direct hand-off.
#[cfg(not(loom))]
pub(crate) fn overdue(since: Stamp, _requeued: bool) -> bool {
    since.elapsed() >= FAIR_AFTER
}
#[cfg(loom)]
pub(crate) fn overdue(_since: Stamp, requeued: bool) -> bool {
    requeued
}

/// Lock a core mutex. The core never panics or runs user code while holding one, so a
/// poisoned mutex can only come from a bug in the core; its data is still consistent.
pub(crate) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    match m.lock() {
        Ok(g) => g,
        Err(poisoned) => poisoned.into_inner(),
    }
}
