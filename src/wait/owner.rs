//! Ownership for reentrant locks: who holds the lock (an OS thread or a tokio task), how
//! deep, and a generation that lets a `Condition` wait make the caller's other guards inert.
//!
//! # Implementation
//!
//! The lock itself is a one-permit [`Permits`]: all waiting goes through it. Beside it:
//!
//! | field        | written by                                 | read by                  |
//! |--------------|--------------------------------------------|--------------------------|
//! | `owner`      | the owner, after taking / before giving the permit | anyone (`Relaxed`)  |
//! | `depth`      | the owner only                             | the owner; `Debug`       |
//! | `generation` | the owner, around a `Condition` wait       | guards, when dropped     |
//!
//! A caller compares `owner` with its own id: it can only ever see its own id there if it
//! wrote it itself (program order), so `Relaxed` is enough, as in parking_lot's
//! `ReentrantMutex`. The permit's own Acquire/Release orders the critical sections.

use std::hash::{Hash, Hasher};
use std::num::NonZeroU64;

use super::permits::Permits;
use super::sync::{AtomicU64, AtomicUsize, Ordering};

/// Who may re-enter and release a reentrant lock: an OS thread, or a tokio task.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct OwnerId(NonZeroU64);

/// Thread ids have the top bit set; task ids (tokio's, small counters) do not.
const THREAD_TAG: u64 = 1 << 63;

impl OwnerId {
    /// The calling OS thread.
    #[inline]
    pub(crate) fn thread() -> Self {
        THREAD_ID.with(|id| *id)
    }

    /// The current tokio task, or the calling OS thread outside any task (e.g. directly
    /// inside `Runtime::block_on`). A `spawn_blocking` closure is a task too.
    pub(crate) fn task_or_thread() -> Self {
        match tokio::task::try_id() {
            Some(id) => {
                // tokio's `Id` exposes no number, but hashes as one: capture it.
                let mut h = Capture(0);
                id.hash(&mut h);
                let raw = h.0 & !THREAD_TAG;
                NonZeroU64::new(raw).map_or_else(Self::thread, OwnerId)
            }
            None => Self::thread(),
        }
    }

    pub(crate) fn get(self) -> u64 {
        self.0.get()
    }
}

/// A hasher that keeps the integers written to it (combined, should there be several).
struct Capture(u64);

impl Hasher for Capture {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = self.0.rotate_left(8) ^ u64::from(b);
        }
    }

    fn write_u64(&mut self, n: u64) {
        self.0 = self.0.rotate_left(32) ^ n;
    }
}

/// A process-wide counter of unique numbers (idents, automatic thread names). Always std's
/// atomic: these numbers are identities, not part of any waiting protocol loom explores.
#[derive(Debug)]
pub(crate) struct Counter(AtomicU64Std);

impl Counter {
    /// A counter whose first number is `first`.
    pub(crate) const fn new(first: u64) -> Self {
        Self(AtomicU64Std::new(first))
    }

    /// The next number. Relaxed: only uniqueness matters, and the read-modify-write
    /// guarantees it.
    pub(crate) fn next(&self) -> u64 {
        self.0.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
    }
}

static NEXT_THREAD: AtomicU64Std = AtomicU64Std::new(1);
type AtomicU64Std = std::sync::atomic::AtomicU64;

fn next_thread_id() -> OwnerId {
    // Relaxed: only uniqueness matters.
    let n = NEXT_THREAD.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    OwnerId(NonZeroU64::new(n | THREAD_TAG).expect("tagged, so non-zero"))
}

#[cfg(not(loom))]
std::thread_local! {
    static THREAD_ID: OwnerId = next_thread_id();
}
#[cfg(loom)]
loom::thread_local! {
    static THREAD_ID: OwnerId = next_thread_id();
}

/// Why a reentrant release changed nothing.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum NotOwned {
    /// Nobody holds the lock.
    Unlocked,
    /// Another thread or task holds it.
    OtherOwner,
}

/// A reentrant lock's state.
#[derive(Debug)]
pub(crate) struct Reentrant {
    permits: Permits,
    owner: AtomicU64,
    depth: AtomicUsize,
    generation: AtomicU64,
    /// The next never-used generation: a dropped `Condition` wait abandons the generation
    /// it saved, which must never come back (or guards made inert would live again).
    next_generation: AtomicU64,
}

impl Reentrant {
    #[cfg(not(loom))]
    pub(crate) const fn new(fair: bool) -> Self {
        Self {
            permits: Permits::new(1, 1, fair),
            owner: AtomicU64::new(0),
            depth: AtomicUsize::new(0),
            generation: AtomicU64::new(0),
            next_generation: AtomicU64::new(1),
        }
    }

    #[cfg(loom)]
    pub(crate) fn new(fair: bool) -> Self {
        Self {
            permits: Permits::new(1, 1, fair),
            owner: AtomicU64::new(0),
            depth: AtomicUsize::new(0),
            generation: AtomicU64::new(0),
            next_generation: AtomicU64::new(1),
        }
    }

    /// The lock's one permit: waits for the lock go through it.
    pub(crate) fn permits(&self) -> &Permits {
        &self.permits
    }

    /// Re-enter if `me` owns the lock. Returns whether it did.
    #[inline]
    pub(crate) fn try_reenter(&self, me: OwnerId) -> bool {
        if self.owner.load(Ordering::Relaxed) != me.get() {
            return false;
        }
        let d = self.depth.load(Ordering::Relaxed);
        self.depth.store(
            d.checked_add(1).expect("RLock recursion depth overflow"),
            Ordering::Relaxed,
        );
        true
    }

    /// Re-enter, or take the lock if it is free. Returns whether `me` now holds it.
    #[inline]
    pub(crate) fn try_acquire(&self, me: OwnerId) -> bool {
        if self.try_reenter(me) {
            return true;
        }
        if self.permits.try_acquire() {
            self.claim(me, 1);
            return true;
        }
        false
    }

    /// `me` was just given the permit: become the owner at `depth`.
    pub(crate) fn claim(&self, me: OwnerId, depth: usize) {
        self.depth.store(depth, Ordering::Relaxed);
        self.owner.store(me.get(), Ordering::Relaxed);
    }

    /// Release one level for `me`; the last level gives the lock up.
    #[inline]
    pub(crate) fn release(&self, me: OwnerId) -> Result<(), NotOwned> {
        self.check_owner(me)?;
        let d = self.depth.load(Ordering::Relaxed) - 1;
        if d == 0 {
            self.give_up();
        } else {
            self.depth.store(d, Ordering::Relaxed);
        }
        Ok(())
    }

    /// Release every level for `me` (Python's `_release_save`) and move to a generation
    /// never used before: guards made before it become inert until
    /// [`restore`](Self::restore) brings their generation back. Returns the depth and the
    /// generation to restore.
    ///
    /// A saved generation is unique while it is saved: a save of `g` happens only while the
    /// lock is at `g`, and moves it to a fresh value, so no other save of `g` can start
    /// until this one is restored. A wait that is dropped never restores, so the guards it
    /// made inert stay inert for good.
    pub(crate) fn release_all(&self, me: OwnerId) -> Result<(usize, u64), NotOwned> {
        self.check_owner(me)?;
        let depth = self.depth.load(Ordering::Relaxed);
        // Relaxed: only the owner touches the generations, and the permit orders owners.
        let fresh = self.next_generation.fetch_add(1, Ordering::Relaxed);
        let generation = self.generation.swap(fresh, Ordering::Relaxed);
        self.give_up();
        Ok((depth, generation))
    }

    /// After taking the permit again: restore `depth` and `generation` (Python's
    /// `_acquire_restore`), so the caller's earlier guards are live again.
    pub(crate) fn restore(&self, me: OwnerId, depth: usize, generation: u64) {
        self.generation.store(generation, Ordering::Relaxed);
        self.claim(me, depth);
    }

    fn give_up(&self) {
        self.depth.store(0, Ordering::Relaxed);
        self.owner.store(0, Ordering::Relaxed);
        // Release: publishes the critical section (and the cleared owner) to the next holder.
        let _ = self.permits.release(1);
    }

    fn check_owner(&self, me: OwnerId) -> Result<(), NotOwned> {
        match self.owner.load(Ordering::Relaxed) {
            o if o == me.get() => Ok(()),
            0 if !self.locked() => Err(NotOwned::Unlocked),
            0 => Err(NotOwned::OtherOwner), // taken, owner not yet recorded
            _ => Err(NotOwned::OtherOwner),
        }
    }

    pub(crate) fn locked(&self) -> bool {
        self.permits.available() == 0
    }

    pub(crate) fn is_owned_by(&self, me: OwnerId) -> bool {
        self.owner.load(Ordering::Relaxed) == me.get()
    }

    /// `me`'s recursion depth: 0 unless `me` owns the lock.
    pub(crate) fn depth_of(&self, me: OwnerId) -> usize {
        if self.is_owned_by(me) {
            self.depth.load(Ordering::Relaxed)
        } else {
            0
        }
    }

    /// The owner and its depth, as another thread can see them (for `Debug`).
    pub(crate) fn snapshot(&self) -> (u64, usize) {
        (
            self.owner.load(Ordering::Relaxed),
            self.depth.load(Ordering::Relaxed),
        )
    }

    pub(crate) fn generation(&self) -> u64 {
        self.generation.load(Ordering::Relaxed)
    }
}
