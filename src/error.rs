//! The crate's error types: one small type per failure, each `Error + Send + Sync`, with a
//! message that says what went wrong and what to do.

use std::fmt;

/// `Lock::release()` on a lock that is not locked (Python's `RuntimeError: release unlocked
/// lock`). Nothing changed.
///
/// # Examples
///
/// ```
/// let lock = threading::blocking::Lock::new();
/// let err = lock.release().unwrap_err();
/// assert!(err.to_string().contains("not locked"));
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReleaseUnlockedError(pub(crate) ());

impl fmt::Display for ReleaseUnlockedError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(
            "release() of a Lock that is not locked: release a lock once per acquire, \
             or let its guard release it",
        )
    }
}

impl std::error::Error for ReleaseUnlockedError {}

/// Why `Semaphore::release(n)` or `BoundedSemaphore::release(n)` failed. Nothing changed:
/// the release is all or nothing.
///
/// # Examples
///
/// ```
/// use threading::blocking::BoundedSemaphore;
/// use threading::SemaphoreReleaseError;
///
/// let sem = BoundedSemaphore::new(2);
/// let permit = sem.acquire();
/// permit.forget();
/// // One permit is out: releasing two would pass the initial value.
/// let err = sem.release(2).unwrap_err();
/// assert_eq!(err, SemaphoreReleaseError::AboveInitial { value: 1, initial: 2, n: 2 });
/// assert_eq!(sem.value(), 1);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum SemaphoreReleaseError {
    /// `release(0)`: Python's `ValueError: n must be one or more`.
    ZeroPermits,
    /// A `BoundedSemaphore` would rise above its initial value (Python's `ValueError:
    /// Semaphore released too many times`).
    AboveInitial {
        /// The value before the failed release.
        value: usize,
        /// The bound, the semaphore's initial value.
        initial: usize,
        /// The number of permits the call tried to release.
        n: usize,
    },
    /// The count would pass the largest a semaphore can hold (`usize::MAX / 2`).
    Overflow,
}

impl fmt::Display for SemaphoreReleaseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::ZeroPermits => f.write_str("release(0): release at least one permit"),
            Self::AboveInitial { value, initial, n } => write!(
                f,
                "BoundedSemaphore released too many times: releasing {n} at value {value} \
                 would pass its initial value {initial}; release only permits that were acquired"
            ),
            Self::Overflow => f.write_str(
                "semaphore count overflow: a semaphore holds at most usize::MAX / 2 permits",
            ),
        }
    }
}

impl std::error::Error for SemaphoreReleaseError {}

/// `RLock::release()` by a thread or task that does not hold the lock (Python's
/// `RuntimeError: cannot release un-acquired lock`). Nothing changed.
///
/// # Examples
///
/// ```
/// use threading::blocking::RLock;
/// use threading::RLockReleaseError;
///
/// let lock = RLock::new();
/// assert_eq!(lock.release(), Err(RLockReleaseError::Unlocked));
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum RLockReleaseError {
    /// Nobody holds the lock.
    Unlocked,
    /// Another thread or task holds it: only the owner may release an `RLock`.
    NotOwner,
}

impl fmt::Display for RLockReleaseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Unlocked => f.write_str(
                "release() of an RLock that is not locked: release once per acquire, \
                 or let the guards release it",
            ),
            Self::NotOwner => f.write_str(
                "release() of an RLock held by another thread or task: only the owner \
                 (the thread, or the task in the async form) that acquired it may release it",
            ),
        }
    }
}

impl std::error::Error for RLockReleaseError {}

/// A [`Barrier`](crate::Barrier) wait failed because the barrier is broken, or was broken
/// or reset while the caller waited (Python's `BrokenBarrierError`, a `RuntimeError`).
///
/// A barrier breaks when a party's wait times out, when the action panics, or on
/// `abort()`; it stays broken until `reset()`.
///
/// # Examples
///
/// ```
/// let barrier = threading::blocking::Barrier::new(2).unwrap();
/// barrier.abort();
/// let err = barrier.wait().unwrap_err();
/// assert!(err.to_string().contains("broken"));
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BrokenBarrierError(pub(crate) ());

impl fmt::Display for BrokenBarrierError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(
            "the barrier is broken (a wait timed out, the action panicked, or it was aborted \
             or reset while parties waited): call reset() before using it again",
        )
    }
}

impl std::error::Error for BrokenBarrierError {}

/// `Barrier::new(0)`: a barrier needs at least one party (Python's `ValueError`).
///
/// # Examples
///
/// ```
/// let err = threading::Barrier::new(0).unwrap_err();
/// assert!(err.to_string().contains("at least one"));
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BarrierPartiesError(pub(crate) ());

impl fmt::Display for BarrierPartiesError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a Barrier needs at least one party: pass parties >= 1")
    }
}

impl std::error::Error for BarrierPartiesError {}
