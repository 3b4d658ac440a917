//! `Lock`: Python's `threading.Lock` and `asyncio.Lock`, one state for both.

use std::fmt;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use crate::error::ReleaseUnlockedError;
use crate::forms::two_forms;
use crate::wait::{block, block_timeout, wait_timeout, Deadline, Permits, WaitFuture};

/// A primitive lock with an async interface: Python's `threading.Lock` / `asyncio.Lock`.
///
/// A `Lock` guards no data and has no owner: any thread or task may release it (as in
/// Python), through [`release`](Lock::release) or by dropping the [`LockGuard`] that
/// [`acquire`](Lock::acquire) returns. It is not reentrant: acquiring it twice from one task
/// waits for someone to release it.
///
/// One instance serves both worlds: [`blocking()`](Lock::blocking) gives the same lock
/// with blocking methods, for plain threads, at no cost.
///
/// # Fairness
/// - [`Lock::new`] (default): throughput first, as Python's `threading.Lock`. A newcomer may
///   take a lock that was just released, but a waiter that has waited longer than about a
///   millisecond is handed the lock directly, so nobody starves.
/// - [`Lock::new_fair`]: strict FIFO hand-off with no barging, as `asyncio.Lock`.
///
/// # Examples
///
/// ```
/// use std::sync::Arc;
/// use threading::Lock;
///
/// # #[tokio::main(flavor = "multi_thread", worker_threads = 2)]
/// # async fn main() {
/// let lock = Arc::new(Lock::new());
/// let guard = lock.acquire().await;
///
/// // A plain thread waits for the task to release it.
/// let l = lock.clone();
/// let t = std::thread::spawn(move || {
///     let _g = l.blocking().acquire();
///     "thread got the lock"
/// });
/// drop(guard);
/// assert_eq!(t.join().unwrap(), "thread got the lock");
/// # }
/// ```
#[repr(transparent)]
pub struct Lock {
    permits: Permits,
}

/// The blocking form of [`Lock`](crate::Lock): the same state, with methods that block the
/// calling thread. Needs no runtime.
///
/// # Fairness
/// As [`Lock`](crate::Lock): [`new`](Self::new) barges with a bounded wait, [`new_fair`](Self::new_fair)
/// is strict FIFO.
///
/// # Examples
///
/// ```
/// use threading::blocking::Lock;
///
/// static LOCK: Lock = Lock::new();
///
/// let guard = LOCK.acquire();
/// assert!(LOCK.locked());
/// assert!(LOCK.try_acquire().is_none());
/// drop(guard);
/// assert!(!LOCK.locked());
/// ```
#[repr(transparent)]
pub struct BlockingLock {
    permits: Permits,
}

two_forms!(Lock, BlockingLock, Permits, "lock", "Lock::new()");

impl Lock {
    pub(crate) fn permits(&self) -> &Permits {
        &self.permits
    }
}

macro_rules! lock_common {
    ($ty:ident, $path:literal) => {
        impl $ty {
            /// A new, unlocked lock with the default policy: barging, with a waiter that has
            /// waited about a millisecond handed the lock directly.
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
                    permits: Permits::new(1, 1, false),
                }
            }

            /// A new, unlocked lock with strict FIFO hand-off: a release hands the lock to the
            /// longest waiter, and a newcomer never overtakes a waiter (asyncio's fairness).
            ///
            /// # Examples
            ///
            /// ```
            #[doc = concat!("static LOCK: ", $path, " = ", $path, "::new_fair();")]
            /// assert!(!LOCK.locked());
            /// ```
            #[cfg(not(loom))]
            pub const fn new_fair() -> Self {
                Self {
                    permits: Permits::new(1, 1, true),
                }
            }

            /// A new, unlocked lock (default policy). Not `const` under loom.
            #[cfg(loom)]
            pub fn new() -> Self {
                Self {
                    permits: Permits::new(1, 1, false),
                }
            }

            /// A new, unlocked lock (fair policy). Not `const` under loom.
            #[cfg(loom)]
            pub fn new_fair() -> Self {
                Self {
                    permits: Permits::new(1, 1, true),
                }
            }

            /// Take the lock if it is free, without waiting (Python's
            /// `acquire(blocking=False)`). On a fair lock this fails while others wait.
            ///
            /// # Examples
            ///
            /// ```
            #[doc = concat!("let lock = ", $path, "::new();")]
            /// let guard = lock.try_acquire().expect("free");
            /// assert!(lock.try_acquire().is_none());
            /// drop(guard);
            /// ```
            #[inline]
            pub fn try_acquire(&self) -> Option<LockGuard<'_>> {
                self.permits
                    .try_acquire()
                    .then(|| LockGuard::new(&self.permits))
            }

            /// Release the lock (Python's `release()`), whoever acquired it: a `Lock` has no
            /// owner. Use it for a lock whose guard was given up with
            /// [`LockGuard::forget`]; otherwise dropping the guard releases. Releasing
            /// under a live guard is a bug, as in Python: the guard's drop then releases
            /// again, ending another holder's hold if one took the lock in between.
            ///
            /// # Errors
            /// [`ReleaseUnlockedError`] if the lock is not locked; nothing changes.
            ///
            /// # Examples
            ///
            /// ```
            #[doc = concat!("let lock = ", $path, "::new();")]
            /// lock.try_acquire().unwrap().forget();
            /// assert!(lock.locked());
            /// lock.release().unwrap();
            /// assert!(lock.release().is_err());
            /// ```
            pub fn release(&self) -> Result<(), ReleaseUnlockedError> {
                self.permits
                    .release(1)
                    .map_err(|_| ReleaseUnlockedError(()))
            }

            /// Whether the lock is held (Python's `locked()`).
            ///
            /// # Examples
            ///
            /// ```
            #[doc = concat!("let lock = ", $path, "::new();")]
            /// assert!(!lock.locked());
            /// let _g = lock.try_acquire();
            /// assert!(lock.locked());
            /// ```
            #[inline]
            pub fn locked(&self) -> bool {
                self.permits.available() == 0
            }

            /// Whether this lock hands off in strict FIFO order (made by `new_fair`).
            ///
            /// # Examples
            ///
            /// ```
            #[doc = concat!("assert!(", $path, "::new_fair().is_fair());")]
            #[doc = concat!("assert!(!", $path, "::new().is_fair());")]
            /// ```
            pub fn is_fair(&self) -> bool {
                self.permits.is_fair()
            }
        }

        impl Default for $ty {
            fn default() -> Self {
                Self::new()
            }
        }

        impl fmt::Debug for $ty {
            /// Python's repr: `<locked threading.Lock waiters=1>` or `<unlocked …>`.
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(
                    f,
                    "<{} threading.Lock{} waiters={}>",
                    if self.locked() { "locked" } else { "unlocked" },
                    if self.is_fair() { " fair" } else { "" },
                    self.permits.waiters()
                )
            }
        }
    };
}

lock_common!(Lock, "threading::Lock");
lock_common!(BlockingLock, "threading::blocking::Lock");

impl Lock {
    /// Wait until the lock is free and take it; the guard releases it when dropped.
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
    /// let lock = threading::Lock::new();
    /// let guard = lock.acquire().await;
    /// assert!(lock.locked());
    /// drop(guard);
    /// assert!(!lock.locked());
    /// # }
    /// ```
    pub async fn acquire(&self) -> LockGuard<'_> {
        if !self.permits.try_acquire() {
            WaitFuture::new(&self.permits, None).await;
        }
        LockGuard::new(&self.permits)
    }

    /// Wait at most `timeout` for the lock (Python's `acquire(timeout=t)`); `None` if it
    /// was not free in time. The deadline is fixed when this method is called; a lock that
    /// is free is taken at once, and a zero timeout is a [`try_acquire`](Self::try_acquire).
    /// A timeout above [`TIMEOUT_MAX`](crate::TIMEOUT_MAX) waits forever.
    ///
    /// # Cancel safety
    /// Cancel safe, as [`acquire`](Self::acquire).
    ///
    /// # Panics
    /// If it has to wait (the lock is held and the timeout is not zero) outside a tokio
    /// runtime, or on one built without the time driver (`enable_time`): the timeout runs
    /// on tokio's timer, which panics there. [`acquire`](Self::acquire) needs no timer.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// let lock = threading::Lock::new();
    /// let _held = lock.acquire().await;
    /// assert!(lock.acquire_timeout(Duration::from_millis(10)).await.is_none());
    /// # }
    /// ```
    pub fn acquire_timeout(
        &self,
        timeout: Duration,
    ) -> impl Future<Output = Option<LockGuard<'_>>> + Send + '_ {
        let wait = wait_timeout(&self.permits, timeout);
        async move { wait.await.then(|| LockGuard::new(&self.permits)) }
    }

    /// [`acquire`](Self::acquire) for an `Arc<Lock>`: the guard keeps the lock alive and
    /// can move into a spawned task.
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
    /// let lock = Arc::new(threading::Lock::new());
    /// let guard = lock.acquire_owned().await;
    /// tokio::spawn(async move { drop(guard) }).await.unwrap();
    /// assert!(!lock.locked());
    /// # }
    /// ```
    pub async fn acquire_owned(self: &Arc<Self>) -> OwnedLockGuard {
        self.acquire().await.forget();
        OwnedLockGuard { lock: self.clone() }
    }
}

impl BlockingLock {
    /// Block until the lock is free and take it; the guard releases it when dropped.
    ///
    /// # Runtime threads
    /// A free lock is just taken, on any thread. If it must wait on a thread of a tokio
    /// multi-thread runtime, it waits inside `block_in_place`, so the worker's other tasks
    /// (perhaps the one that will release) carry on elsewhere. On a current-thread
    /// runtime it parks the thread as std's locks do: if the holder is a task of that same
    /// runtime, this deadlocks; use [`Lock::acquire`](crate::Lock::acquire) there.
    ///
    /// # Panics
    /// Only where tokio refuses `block_in_place`, which its public API cannot tell
    /// beforehand: a wait inside a `LocalSet` driven by a multi-thread runtime panics with
    /// tokio's message. Use the async form there.
    ///
    /// # Examples
    ///
    /// ```
    /// let lock = threading::blocking::Lock::new();
    /// let guard = lock.acquire();
    /// assert!(lock.locked());
    /// drop(guard);
    /// ```
    #[inline]
    pub fn acquire(&self) -> LockGuard<'_> {
        if !self.permits.try_acquire() {
            block(&self.permits, Deadline::Never);
        }
        LockGuard::new(&self.permits)
    }

    /// Block at most `timeout` for the lock (Python's `acquire(timeout=t)`); `None` if it
    /// was not free in time, never before `timeout` has passed. A free lock is taken at
    /// once; a zero timeout is a [`try_acquire`](Self::try_acquire); a timeout above
    /// [`TIMEOUT_MAX`](crate::TIMEOUT_MAX) waits forever.
    ///
    /// # Runtime threads
    /// As [`acquire`](Self::acquire). A free lock or a zero timeout never waits.
    ///
    /// # Panics
    /// As [`acquire`](Self::acquire): only where tokio refuses `block_in_place` (a wait
    /// inside a `LocalSet` driven by a multi-thread runtime), and only if it has to wait.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// let lock = threading::blocking::Lock::new();
    /// let _held = lock.acquire();
    /// assert!(lock.acquire_timeout(Duration::from_millis(10)).is_none());
    /// ```
    pub fn acquire_timeout(&self, timeout: Duration) -> Option<LockGuard<'_>> {
        block_timeout(&self.permits, timeout).then(|| LockGuard::new(&self.permits))
    }

    /// [`acquire`](Self::acquire) for an `Arc` of the lock: the guard keeps the lock alive
    /// and can move to another thread.
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
    /// let lock = Arc::new(threading::blocking::Lock::new());
    /// let guard = lock.acquire_owned();
    /// std::thread::spawn(move || drop(guard)).join().unwrap();
    /// assert!(!lock.locked());
    /// ```
    pub fn acquire_owned(self: &Arc<Self>) -> OwnedLockGuard {
        self.acquire().forget();
        OwnedLockGuard {
            lock: self.clone().into_async(),
        }
    }
}

/// Holds a [`Lock`] (either form) and releases it when dropped.
///
/// # Examples
///
/// ```
/// let lock = threading::blocking::Lock::new();
/// {
///     let _guard = lock.acquire();
///     assert!(lock.locked());
/// }
/// assert!(!lock.locked());
/// ```
#[must_use = "the lock is released as soon as the guard is dropped"]
pub struct LockGuard<'a> {
    permits: &'a Permits,
}

impl<'a> LockGuard<'a> {
    pub(crate) fn new(permits: &'a Permits) -> Self {
        Self { permits }
    }

    pub(crate) fn permits(&self) -> &'a Permits {
        self.permits
    }

    /// Keep the lock held and drop the guard: the lock stays locked until someone calls
    /// `release()` (Python's manual `acquire()`/`release()` style).
    ///
    /// # Examples
    ///
    /// ```
    /// let lock = threading::blocking::Lock::new();
    /// lock.acquire().forget();
    /// assert!(lock.locked());
    /// lock.release().unwrap();
    /// ```
    pub fn forget(self) {
        std::mem::forget(self);
    }
}

impl Drop for LockGuard<'_> {
    #[inline]
    fn drop(&mut self) {
        // The guard holds the lock's one permit, so this cannot fail, unless someone
        // released the lock under the guard with a bare `release()`. Then, as Python's
        // `with` exit calls `release()`, this releases whatever hold is current: the lock
        // stays free if nobody took it since, and another holder's hold ends if one did.
        // A `Lock` has no owner to tell the two apart: give the guard up with `forget()`
        // before releasing by hand.
        let _ = self.permits.release(1);
    }
}

impl fmt::Debug for LockGuard<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("LockGuard")
    }
}

/// Holds an `Arc<`[`Lock`]`>` locked and releases it when dropped; made by
/// `acquire_owned` in either form. It is `'static`, so it can move into a spawned task.
///
/// # Examples
///
/// ```
/// use std::sync::Arc;
/// let lock = Arc::new(threading::blocking::Lock::new());
/// let guard = lock.acquire_owned();
/// assert!(guard.lock().locked());
/// drop(guard);
/// assert!(!lock.locked());
/// ```
#[must_use = "the lock is released as soon as the guard is dropped"]
pub struct OwnedLockGuard {
    lock: Arc<Lock>,
}

impl OwnedLockGuard {
    /// The lock this guard holds.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::Arc;
    /// let lock = Arc::new(threading::blocking::Lock::new());
    /// let guard = lock.acquire_owned();
    /// assert!(guard.lock().locked());
    /// ```
    pub fn lock(&self) -> &Arc<Lock> {
        &self.lock
    }
}

impl Drop for OwnedLockGuard {
    fn drop(&mut self) {
        let _ = self.lock.permits.release(1);
    }
}

impl fmt::Debug for OwnedLockGuard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OwnedLockGuard")
            .field("lock", &self.lock)
            .finish()
    }
}
