//! `RLock`: Python's `threading.RLock`, with a task-owned async twin; one state for both.

use std::fmt;
use std::future::Future;
use std::marker::PhantomData;
use std::sync::Arc;
use std::time::Duration;

use crate::error::RLockReleaseError;
use crate::forms::two_forms;
use crate::wait::{
    block, block_timeout, wait_timeout, Deadline, NotOwned, OwnerId, Reentrant, WaitFuture,
};

/// A reentrant lock with an async interface: Python's `threading.RLock`, for tasks.
///
/// The owner may acquire it again without waiting, and must release it once per acquire.
/// In this async form **the owner is the tokio task** (by [`tokio::task::try_id`]), not the
/// worker thread: a task that moves between workers across an `.await` still owns it, and
/// another task on the same worker does not. Used outside any task (directly inside
/// `Runtime::block_on`) the owner is the OS thread. A `spawn_blocking` closure is a task of
/// its own. Futures joined inside one task (`join!`, `select!`) share its identity, so one
/// of them may re-enter a lock that another of them holds. Task ids of tasks that ended may
/// be reused by tokio; a lock left held by a task that ended stays held (Python's rule: no
/// release when the owner ends).
///
/// The blocking form ([`blocking()`](RLock::blocking)) is owned by OS threads. A thread and a
/// task never share ownership: each waits for the other.
///
/// # Fairness
/// - [`RLock::new`] (default): barging, with a waiter that has waited about a millisecond
///   handed the lock directly.
/// - [`RLock::new_fair`]: strict FIFO hand-off.
///
/// # Examples
///
/// ```
/// use threading::RLock;
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// let lock = RLock::new();
/// let outer = lock.acquire().await;
/// let inner = lock.acquire().await; // the same task re-enters
/// assert_eq!(lock.recursion_count(), 2);
/// drop(inner);
/// drop(outer);
/// assert!(!lock.locked());
/// # }
/// ```
#[repr(transparent)]
pub struct RLock {
    state: Reentrant,
}

/// The blocking form of [`RLock`](crate::RLock): the same state, owned by OS threads, with
/// methods that block the calling thread. Needs no runtime.
///
/// # Fairness
/// As [`RLock`](crate::RLock).
///
/// # Examples
///
/// ```
/// use threading::blocking::RLock;
///
/// static LOCK: RLock = RLock::new();
///
/// let a = LOCK.acquire();
/// let b = LOCK.acquire();
/// assert_eq!(LOCK.recursion_count(), 2);
/// // Another thread cannot take it, nor release it.
/// std::thread::scope(|s| {
///     s.spawn(|| {
///         assert!(LOCK.try_acquire().is_none());
///         assert!(LOCK.release().is_err());
///     });
/// });
/// drop((b, a));
/// assert!(!LOCK.locked());
/// ```
#[repr(transparent)]
pub struct BlockingRLock {
    state: Reentrant,
}

two_forms!(RLock, BlockingRLock, Reentrant, "RLock", "RLock::new()");

impl RLock {
    pub(crate) fn state(&self) -> &Reentrant {
        &self.state
    }
}

/// What a guard remembers: who took it, and the lock's generation then (a `Condition`
/// wait that is dropped makes older guards inert by leaving a newer generation behind).
#[derive(Clone, Copy, Debug)]
struct Hold {
    owner: OwnerId,
    generation: u64,
}

impl Hold {
    fn new(state: &Reentrant, owner: OwnerId) -> Self {
        Self {
            owner,
            generation: state.generation(),
        }
    }

    /// Release one level, if this guard is still live and dropped by its owner.
    fn release(self, state: &Reentrant, current: OwnerId) {
        if current == self.owner {
            self.release_on_owner(state);
        }
    }

    /// Release one level, if this guard is still live; the caller is the owner (a blocking
    /// guard cannot leave its thread).
    fn release_on_owner(self, state: &Reentrant) {
        if state.generation() == self.generation {
            let _ = state.release(self.owner);
        }
    }
}

fn release_error(e: NotOwned) -> RLockReleaseError {
    match e {
        NotOwned::Unlocked => RLockReleaseError::Unlocked,
        NotOwned::OtherOwner => RLockReleaseError::NotOwner,
    }
}

fn describe(state: &Reentrant, f: &mut fmt::Formatter<'_>) -> fmt::Result {
    let (owner, count) = state.snapshot();
    let locked = state.locked();
    write!(
        f,
        "<{} threading.RLock owner=",
        if locked { "locked" } else { "unlocked" }
    )?;
    match owner {
        0 => f.write_str("None")?,
        o if o & (1 << 63) != 0 => write!(f, "thread-{}", o & !(1 << 63))?,
        o => write!(f, "task-{o}")?,
    }
    write!(
        f,
        " count={}{} waiters={}>",
        if locked { count } else { 0 },
        if state.permits().is_fair() {
            " fair"
        } else {
            ""
        },
        state.permits().waiters()
    )
}

macro_rules! rlock_common {
    ($ty:ident, $path:literal, $me:expr) => {
        impl $ty {
            /// A new, unlocked reentrant lock with the default policy: barging, with a waiter
            /// that has waited about a millisecond handed the lock directly.
            ///
            /// # Examples
            ///
            /// ```
            #[doc = concat!("static LOCK: ", $path, " = ", $path, "::new();")]
            /// assert!(!LOCK.locked());
            /// ```
            #[cfg(not(loom))]
            pub const fn new() -> Self {
                Self {
                    state: Reentrant::new(false),
                }
            }

            /// A new, unlocked reentrant lock with strict FIFO hand-off.
            ///
            /// # Examples
            ///
            /// ```
            #[doc = concat!("static LOCK: ", $path, " = ", $path, "::new_fair();")]
            /// assert!(LOCK.is_fair());
            /// ```
            #[cfg(not(loom))]
            pub const fn new_fair() -> Self {
                Self {
                    state: Reentrant::new(true),
                }
            }

            /// A new reentrant lock (default policy). Not `const` under loom.
            #[cfg(loom)]
            pub fn new() -> Self {
                Self {
                    state: Reentrant::new(false),
                }
            }

            /// A new reentrant lock (fair policy). Not `const` under loom.
            #[cfg(loom)]
            pub fn new_fair() -> Self {
                Self {
                    state: Reentrant::new(true),
                }
            }

            /// Release one level held by the caller (Python's `release()`), for a lock whose
            /// guard was given up with `forget`; otherwise dropping the guard releases. The
            /// last level frees the lock.
            ///
            /// # Errors
            /// [`RLockReleaseError::Unlocked`] if nobody holds the lock;
            /// [`RLockReleaseError::NotOwner`] if another thread or task does. Nothing changes.
            ///
            /// # Examples
            ///
            /// ```
            #[doc = concat!("let lock = ", $path, "::new();")]
            /// lock.try_acquire().unwrap().forget();
            /// lock.release().unwrap();
            /// assert!(lock.release().is_err());
            /// ```
            pub fn release(&self) -> Result<(), RLockReleaseError> {
                self.state.release($me).map_err(release_error)
            }

            /// Whether anyone holds the lock (Python's `locked()`), asked from any thread.
            ///
            /// # Examples
            ///
            /// ```
            #[doc = concat!("let lock = ", $path, "::new();")]
            /// assert!(!lock.locked());
            /// ```
            #[inline]
            pub fn locked(&self) -> bool {
                self.state.locked()
            }

            /// Whether the caller owns the lock (Python's `_is_owned()`).
            ///
            /// # Examples
            ///
            /// ```
            #[doc = concat!("let lock = ", $path, "::new();")]
            /// let _g = lock.try_acquire();
            /// assert!(lock.is_owned());
            /// ```
            pub fn is_owned(&self) -> bool {
                self.state.is_owned_by($me)
            }

            /// How many times the caller holds the lock: 0 unless it is the owner (Python's
            /// `_recursion_count()`).
            ///
            /// # Examples
            ///
            /// ```
            #[doc = concat!("let lock = ", $path, "::new();")]
            /// let _a = lock.try_acquire();
            /// let _b = lock.try_acquire();
            /// assert_eq!(lock.recursion_count(), 2);
            /// ```
            pub fn recursion_count(&self) -> usize {
                self.state.depth_of($me)
            }

            /// Whether this lock hands off in strict FIFO order (made by `new_fair`).
            ///
            /// # Examples
            ///
            /// ```
            #[doc = concat!("assert!(!", $path, "::new().is_fair());")]
            /// ```
            pub fn is_fair(&self) -> bool {
                self.state.permits().is_fair()
            }
        }

        impl Default for $ty {
            fn default() -> Self {
                Self::new()
            }
        }

        impl fmt::Debug for $ty {
            /// Python's repr: `<locked threading.RLock owner=thread-3 count=2 waiters=0>`.
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                describe(&self.state, f)
            }
        }
    };
}

rlock_common!(RLock, "threading::RLock", OwnerId::task_or_thread());
rlock_common!(
    BlockingRLock,
    "threading::blocking::RLock",
    OwnerId::thread()
);

impl RLock {
    /// Take the lock, waiting while another task or thread holds it; the current task
    /// re-enters at once. The guard releases one level when dropped.
    ///
    /// # Cancel safety
    /// Cancel safe. A dropped `acquire` future leaves the queue; if the lock had already
    /// been handed to it, it passes the lock on to the next waiter (or frees it).
    ///
    /// # Examples
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// let lock = threading::RLock::new();
    /// let g = lock.acquire().await;
    /// assert!(lock.is_owned());
    /// drop(g);
    /// # }
    /// ```
    pub async fn acquire(&self) -> RLockGuard<'_> {
        let me = OwnerId::task_or_thread();
        if !self.state.try_acquire(me) {
            WaitFuture::new(self.state.permits(), None).await;
            self.state.claim(me, 1);
        }
        RLockGuard::new(&self.state, me)
    }

    /// Take the lock if the current task owns it or it is free, without waiting.
    ///
    /// # Examples
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// let lock = threading::RLock::new();
    /// let a = lock.try_acquire().unwrap();
    /// let b = lock.try_acquire().unwrap(); // re-entry
    /// drop((b, a));
    /// # }
    /// ```
    pub fn try_acquire(&self) -> Option<RLockGuard<'_>> {
        let me = OwnerId::task_or_thread();
        self.state
            .try_acquire(me)
            .then(|| RLockGuard::new(&self.state, me))
    }

    /// Wait at most `timeout` for the lock; `None` if it was not free in time (never
    /// before `timeout`). The deadline is fixed when this method is called; re-entry and a
    /// free lock succeed at once; a zero timeout is a try; a timeout above
    /// [`TIMEOUT_MAX`](crate::TIMEOUT_MAX) waits forever.
    ///
    /// # Cancel safety
    /// Cancel safe, as [`acquire`](Self::acquire).
    ///
    /// # Panics
    /// If it has to wait (another task or thread holds the lock and the timeout is not
    /// zero) outside a tokio runtime, or on one built without the time driver
    /// (`enable_time`): the timeout runs on tokio's timer, which panics there.
    /// [`acquire`](Self::acquire) needs no timer.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// let lock = std::sync::Arc::new(threading::RLock::new());
    /// let held = lock.acquire().await;
    /// // Another task waits, and gives up.
    /// let l = lock.clone();
    /// let other = tokio::spawn(async move {
    ///     l.acquire_timeout(Duration::from_millis(10)).await.is_none()
    /// });
    /// assert!(other.await.unwrap());
    /// drop(held);
    /// # }
    /// ```
    pub fn acquire_timeout(
        &self,
        timeout: Duration,
    ) -> impl Future<Output = Option<RLockGuard<'_>>> + Send + '_ {
        let wait = wait_timeout(self.state.permits(), timeout);
        async move {
            let me = OwnerId::task_or_thread();
            if self.state.try_acquire(me) {
                return Some(RLockGuard::new(&self.state, me));
            }
            if !wait.await {
                return None;
            }
            self.state.claim(me, 1);
            Some(RLockGuard::new(&self.state, me))
        }
    }

    /// [`acquire`](Self::acquire) for an `Arc<RLock>`: the guard is `'static` (it can be
    /// stored), and releases only when dropped in the task that took it.
    ///
    /// # Cancel safety
    /// Cancel safe, as [`acquire`](Self::acquire).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::Arc;
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// let lock = Arc::new(threading::RLock::new());
    /// let guard = lock.acquire_owned().await;
    /// assert!(guard.lock().is_owned());
    /// drop(guard);
    /// assert!(!lock.locked());
    /// # }
    /// ```
    pub async fn acquire_owned(self: &Arc<Self>) -> OwnedRLockGuard {
        let guard = self.acquire().await;
        let hold = guard.hold;
        std::mem::forget(guard);
        OwnedRLockGuard {
            lock: self.clone(),
            hold,
        }
    }
}

impl BlockingRLock {
    /// Take the lock, blocking while another thread or task holds it; the calling thread
    /// re-enters at once. The guard releases one level when dropped.
    ///
    /// # Runtime threads
    /// Re-entry and a free lock just succeed, on any thread. If it must wait on a thread
    /// of a tokio multi-thread runtime, it waits inside `block_in_place`; on a
    /// current-thread runtime it parks the thread, and if the holder is a task of that same
    /// runtime this deadlocks: use [`RLock::acquire`](crate::RLock::acquire) there.
    ///
    /// # Panics
    /// Only where tokio refuses `block_in_place`, which its public API cannot tell
    /// beforehand: a wait inside a `LocalSet` driven by a multi-thread runtime panics with
    /// tokio's message. Use the async form there.
    ///
    /// # Examples
    ///
    /// ```
    /// let lock = threading::blocking::RLock::new();
    /// let a = lock.acquire();
    /// let b = lock.acquire();
    /// assert_eq!(lock.recursion_count(), 2);
    /// drop((b, a));
    /// ```
    #[inline]
    pub fn acquire(&self) -> BlockingRLockGuard<'_> {
        let me = OwnerId::thread();
        if !self.state.try_acquire(me) {
            block(self.state.permits(), Deadline::Never);
            self.state.claim(me, 1);
        }
        BlockingRLockGuard::new(&self.state, me)
    }

    /// Take the lock if the calling thread owns it or it is free, without waiting.
    ///
    /// # Examples
    ///
    /// ```
    /// let lock = threading::blocking::RLock::new();
    /// let a = lock.try_acquire().unwrap();
    /// let b = lock.try_acquire().unwrap();
    /// drop((b, a));
    /// ```
    pub fn try_acquire(&self) -> Option<BlockingRLockGuard<'_>> {
        let me = OwnerId::thread();
        self.state
            .try_acquire(me)
            .then(|| BlockingRLockGuard::new(&self.state, me))
    }

    /// Block at most `timeout` for the lock; `None` if it was not free in time (never
    /// before `timeout`). Re-entry and a free lock succeed at once; a zero timeout is a try;
    /// a timeout above [`TIMEOUT_MAX`](crate::TIMEOUT_MAX) waits forever.
    ///
    /// # Runtime threads
    /// As [`acquire`](Self::acquire). Re-entry, a free lock or a zero timeout never waits.
    ///
    /// # Panics
    /// As [`acquire`](Self::acquire): only where tokio refuses `block_in_place` (a wait
    /// inside a `LocalSet` driven by a multi-thread runtime), and only if it has to wait.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// let lock = threading::blocking::RLock::new();
    /// let _held = lock.acquire();
    /// std::thread::scope(|s| {
    ///     s.spawn(|| assert!(lock.acquire_timeout(Duration::from_millis(10)).is_none()));
    /// });
    /// ```
    pub fn acquire_timeout(&self, timeout: Duration) -> Option<BlockingRLockGuard<'_>> {
        let me = OwnerId::thread();
        if self.state.try_acquire(me) {
            return Some(BlockingRLockGuard::new(&self.state, me));
        }
        if !block_timeout(self.state.permits(), timeout) {
            return None;
        }
        self.state.claim(me, 1);
        Some(BlockingRLockGuard::new(&self.state, me))
    }

    /// [`acquire`](Self::acquire) for an `Arc` of the lock: the guard is `'static` (it can
    /// be stored), and, like every blocking `RLock` guard, stays on the owning thread.
    ///
    /// # Runtime threads
    /// As [`acquire`](Self::acquire).
    ///
    /// # Panics
    /// As [`acquire`](Self::acquire): only where tokio refuses `block_in_place`, and only if
    /// it has to wait.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::Arc;
    /// let lock = Arc::new(threading::blocking::RLock::new());
    /// let guard = lock.acquire_owned();
    /// assert!(lock.is_owned());
    /// drop(guard);
    /// ```
    pub fn acquire_owned(self: &Arc<Self>) -> BlockingOwnedRLockGuard {
        let guard = self.acquire();
        let hold = guard.hold;
        std::mem::forget(guard);
        BlockingOwnedRLockGuard {
            lock: self.clone().into_async(),
            hold,
            _thread_bound: PhantomData,
        }
    }
}

/// One level of an [`RLock`] held by a task (or by a thread outside any task), released
/// when dropped.
///
/// It is `Send`, so a task can hold it across `.await` while moving between workers. It
/// releases only when dropped by the task that took it: dropped anywhere else it releases
/// nothing and the lock stays held (only the owner may release an `RLock`), so it can never
/// corrupt the count. After a [`Condition`](crate::Condition) wait that was cancelled, the
/// caller's other guards of the lock release nothing either: the wait already released
/// every level.
///
/// # Examples
///
/// ```
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// let lock = threading::RLock::new();
/// {
///     let _g = lock.acquire().await;
///     assert!(lock.locked());
/// }
/// assert!(!lock.locked());
/// # }
/// ```
#[must_use = "the lock is released as soon as the guard is dropped"]
pub struct RLockGuard<'a> {
    state: &'a Reentrant,
    hold: Hold,
}

impl<'a> RLockGuard<'a> {
    fn new(state: &'a Reentrant, owner: OwnerId) -> Self {
        Self {
            state,
            hold: Hold::new(state, owner),
        }
    }

    pub(crate) fn into_parts(self) -> (&'a Reentrant, OwnerId) {
        let parts = (self.state, self.hold.owner);
        std::mem::forget(self);
        parts
    }

    pub(crate) fn from_parts(state: &'a Reentrant, owner: OwnerId) -> Self {
        Self::new(state, owner)
    }

    pub(crate) fn state(&self) -> &'a Reentrant {
        self.state
    }

    /// Whether this guard still counts: a dropped `Condition` wait makes older guards inert.
    pub(crate) fn is_live(&self) -> bool {
        self.state.generation() == self.hold.generation
    }

    /// Keep this level held and drop the guard; the owner releases it later with
    /// `release()`.
    ///
    /// # Examples
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// let lock = threading::RLock::new();
    /// lock.acquire().await.forget();
    /// lock.release().unwrap();
    /// # }
    /// ```
    pub fn forget(self) {
        std::mem::forget(self);
    }
}

impl Drop for RLockGuard<'_> {
    fn drop(&mut self) {
        self.hold.release(self.state, OwnerId::task_or_thread());
    }
}

impl fmt::Debug for RLockGuard<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("RLockGuard")
    }
}

/// One level of an [`RLock`](crate::blocking::RLock) held by an OS thread, released when
/// dropped. It is neither `Send` nor `Sync`: only the owning thread may release an `RLock`,
/// so the guard cannot leave it.
///
/// ```compile_fail
/// let lock = std::sync::Arc::new(threading::blocking::RLock::new());
/// let guard = lock.acquire_owned();
/// std::thread::spawn(move || drop(guard)); // a blocking RLock guard stays on its thread
/// ```
///
/// # Examples
///
/// ```
/// let lock = threading::blocking::RLock::new();
/// {
///     let _g = lock.acquire();
///     assert!(lock.locked());
/// }
/// assert!(!lock.locked());
/// ```
#[must_use = "the lock is released as soon as the guard is dropped"]
pub struct BlockingRLockGuard<'a> {
    state: &'a Reentrant,
    hold: Hold,
    _thread_bound: PhantomData<*const ()>,
}

impl<'a> BlockingRLockGuard<'a> {
    fn new(state: &'a Reentrant, owner: OwnerId) -> Self {
        Self {
            state,
            hold: Hold::new(state, owner),
            _thread_bound: PhantomData,
        }
    }

    pub(crate) fn into_parts(self) -> (&'a Reentrant, OwnerId) {
        let parts = (self.state, self.hold.owner);
        std::mem::forget(self);
        parts
    }

    pub(crate) fn from_parts(state: &'a Reentrant, owner: OwnerId) -> Self {
        Self::new(state, owner)
    }

    pub(crate) fn state(&self) -> &'a Reentrant {
        self.state
    }

    /// Whether this guard still counts: a dropped `Condition` wait makes older guards inert.
    pub(crate) fn is_live(&self) -> bool {
        self.state.generation() == self.hold.generation
    }

    /// Keep this level held and drop the guard; the thread releases it later with
    /// `release()`.
    ///
    /// # Examples
    ///
    /// ```
    /// let lock = threading::blocking::RLock::new();
    /// lock.acquire().forget();
    /// lock.release().unwrap();
    /// ```
    pub fn forget(self) {
        std::mem::forget(self);
    }
}

impl Drop for BlockingRLockGuard<'_> {
    #[inline]
    fn drop(&mut self) {
        // `!Send`: dropped on the thread that took it.
        self.hold.release_on_owner(self.state);
    }
}

impl fmt::Debug for BlockingRLockGuard<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("RLockGuard")
    }
}

/// [`RLockGuard`] for an `Arc<RLock>`, made by [`RLock::acquire_owned`]: `'static`, and
/// released only when dropped by the task that took it.
///
/// # Examples
///
/// ```
/// use std::sync::Arc;
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// let lock = Arc::new(threading::RLock::new());
/// let g = lock.acquire_owned().await;
/// drop(g);
/// assert!(!lock.locked());
/// # }
/// ```
#[must_use = "the lock is released as soon as the guard is dropped"]
pub struct OwnedRLockGuard {
    lock: Arc<RLock>,
    hold: Hold,
}

impl OwnedRLockGuard {
    /// The lock this guard holds.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::Arc;
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// let lock = Arc::new(threading::RLock::new());
    /// let g = lock.acquire_owned().await;
    /// assert!(g.lock().locked());
    /// # }
    /// ```
    pub fn lock(&self) -> &Arc<RLock> {
        &self.lock
    }
}

impl Drop for OwnedRLockGuard {
    fn drop(&mut self) {
        self.hold
            .release(&self.lock.state, OwnerId::task_or_thread());
    }
}

impl fmt::Debug for OwnedRLockGuard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OwnedRLockGuard")
            .field("lock", &self.lock)
            .finish()
    }
}

/// [`RLockGuard`](crate::blocking::RLockGuard) for an `Arc` of the lock, made by the
/// blocking form's `acquire_owned`: `'static`, and bound to the owning thread.
///
/// # Examples
///
/// ```
/// use std::sync::Arc;
/// let lock = Arc::new(threading::blocking::RLock::new());
/// let g = lock.acquire_owned();
/// assert!(g.lock().locked());
/// ```
#[must_use = "the lock is released as soon as the guard is dropped"]
pub struct BlockingOwnedRLockGuard {
    lock: Arc<RLock>,
    hold: Hold,
    _thread_bound: PhantomData<*const ()>,
}

impl BlockingOwnedRLockGuard {
    /// The lock this guard holds, in its blocking form.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::Arc;
    /// let lock = Arc::new(threading::blocking::RLock::new());
    /// let g = lock.acquire_owned();
    /// assert!(g.lock().is_owned());
    /// ```
    pub fn lock(&self) -> &BlockingRLock {
        self.lock.blocking()
    }
}

impl Drop for BlockingOwnedRLockGuard {
    fn drop(&mut self) {
        // `!Send`: dropped on the thread that took it.
        self.hold.release_on_owner(&self.lock.state);
    }
}

impl fmt::Debug for BlockingOwnedRLockGuard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OwnedRLockGuard")
            .field("lock", &self.lock)
            .finish()
    }
}
