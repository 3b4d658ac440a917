//! `Semaphore` and `BoundedSemaphore`: Python's `threading`/`asyncio` semaphores, one state
//! for both forms. The two types differ only in their bound: a `BoundedSemaphore` refuses a
//! release that would lift its value above the initial value.

use std::fmt;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use crate::error::SemaphoreReleaseError;
use crate::forms::{cast_arc, two_forms};
use crate::wait::{
    block, block_timeout, wait_timeout, Deadline, Permits, ReleaseFault, WaitFuture, UNBOUNDED,
};

fn release_error(fault: ReleaseFault, initial: usize, n: usize) -> SemaphoreReleaseError {
    match fault {
        ReleaseFault::Zero => SemaphoreReleaseError::ZeroPermits,
        ReleaseFault::AboveMax { value } => {
            SemaphoreReleaseError::AboveInitial { value, initial, n }
        }
        ReleaseFault::Overflow => SemaphoreReleaseError::Overflow,
    }
}

macro_rules! semaphore {
    (
        $(#[$async_doc:meta])* async $async:ident,
        $(#[$blocking_doc:meta])* blocking $blocking:ident,
        name $name:literal, max($n:ident) = $max:expr
    ) => {
        $(#[$async_doc])*
        #[repr(transparent)]
        pub struct $async {
            permits: Permits,
        }

        $(#[$blocking_doc])*
        #[repr(transparent)]
        pub struct $blocking {
            permits: Permits,
        }

        two_forms!($async, $blocking, Permits, $name, concat!($name, "::new(1)"));

        semaphore!(@common $async, concat!("threading::", $name), $name, $n, $max);
        semaphore!(@common $blocking, concat!("threading::blocking::", $name), $name, $n, $max);

        impl $async {
            /// Wait for a permit and take it; the guard gives it back when dropped.
            ///
            /// # Cancel safety
            /// Cancel safe. A dropped `acquire` future leaves the queue; a permit that had
            /// already been handed to it goes to the next waiter (or back to the count).
            ///
            /// # Examples
            ///
            /// ```
            /// # #[tokio::main(flavor = "current_thread")]
            /// # async fn main() {
            #[doc = concat!("let sem = threading::", $name, "::new(1);")]
            /// let permit = sem.acquire().await;
            /// assert_eq!(sem.value(), 0);
            /// drop(permit);
            /// assert_eq!(sem.value(), 1);
            /// # }
            /// ```
            pub async fn acquire(&self) -> SemaphoreGuard<'_> {
                if !self.permits.try_acquire() {
                    WaitFuture::new(&self.permits, None).await;
                }
                SemaphoreGuard::new(&self.permits)
            }

            /// Wait at most `timeout` for a permit (Python's `acquire(timeout=t)`); `None`
            /// if none came in time. The deadline is fixed when this method is called; a free
            /// permit is taken at once, and a zero timeout is a single try. A timeout above
            /// [`TIMEOUT_MAX`](crate::TIMEOUT_MAX) waits forever.
            ///
            /// # Cancel safety
            /// Cancel safe, as [`acquire`](Self::acquire).
            ///
            /// # Panics
            /// If it has to wait (no free permit and a timeout that is not zero) outside a
            /// tokio runtime, or on one built without the time driver (`enable_time`): the
            /// timeout runs on tokio's timer, which panics there. [`acquire`](Self::acquire)
            /// needs no timer.
            ///
            /// # Examples
            ///
            /// ```
            /// use std::time::Duration;
            /// # #[tokio::main(flavor = "current_thread")]
            /// # async fn main() {
            #[doc = concat!("let sem = threading::", $name, "::new(1);")]
            /// let _p = sem.acquire().await;
            /// assert!(sem.acquire_timeout(Duration::from_millis(10)).await.is_none());
            /// # }
            /// ```
            pub fn acquire_timeout(
                &self,
                timeout: Duration,
            ) -> impl Future<Output = Option<SemaphoreGuard<'_>>> + Send + '_ {
                let wait = wait_timeout(&self.permits, timeout);
                async move { wait.await.then(|| SemaphoreGuard::new(&self.permits)) }
            }

            /// [`acquire`](Self::acquire) for an `Arc` of the semaphore: the guard keeps it
            /// alive and can move into a spawned task.
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
            #[doc = concat!("let sem = Arc::new(threading::", $name, "::new(1));")]
            /// let permit = sem.acquire_owned().await;
            /// tokio::spawn(async move { drop(permit) }).await.unwrap();
            /// assert_eq!(sem.value(), 1);
            /// # }
            /// ```
            pub async fn acquire_owned(self: &Arc<Self>) -> OwnedSemaphoreGuard {
                self.acquire().await.forget();
                OwnedSemaphoreGuard::new(cast_arc(self.clone()))
            }
        }

        impl $blocking {
            /// Block until a permit is free and take it; the guard gives it back when dropped.
            ///
            /// # Runtime threads
            /// A free permit is just taken, on any thread. If it must wait on a thread of a
            /// tokio multi-thread runtime, it waits inside `block_in_place`, so the worker's
            /// other tasks carry on elsewhere. On a current-thread runtime it parks the
            /// thread: if the releaser is a task of that same runtime, this deadlocks; use
            /// the async form's `acquire` there.
            ///
            /// # Panics
            /// Only where tokio refuses `block_in_place`, which its public API cannot tell
            /// beforehand: a wait inside a `LocalSet` driven by a multi-thread runtime
            /// panics with tokio's message. Use the async form there.
            ///
            /// # Examples
            ///
            /// ```
            #[doc = concat!("let sem = threading::blocking::", $name, "::new(2);")]
            /// let a = sem.acquire();
            /// let b = sem.acquire();
            /// assert!(sem.try_acquire().is_none());
            /// drop((a, b));
            /// ```
            #[inline]
            pub fn acquire(&self) -> SemaphoreGuard<'_> {
                if !self.permits.try_acquire() {
                    block(&self.permits, Deadline::Never);
                }
                SemaphoreGuard::new(&self.permits)
            }

            /// Block at most `timeout` for a permit (Python's `acquire(timeout=t)`); `None` if
            /// none came in time, never before `timeout` has passed. A free permit is taken
            /// at once; a zero timeout is a single try; a timeout above
            /// [`TIMEOUT_MAX`](crate::TIMEOUT_MAX) waits forever.
            ///
            /// # Runtime threads
            /// As [`acquire`](Self::acquire). A free permit or a zero timeout never waits.
            ///
            /// # Panics
            /// As [`acquire`](Self::acquire): only where tokio refuses `block_in_place` (a
            /// wait inside a `LocalSet` driven by a multi-thread runtime), and only if it
            /// has to wait.
            ///
            /// # Examples
            ///
            /// ```
            /// use std::time::Duration;
            #[doc = concat!("let sem = threading::blocking::", $name, "::new(1);")]
            /// let _p = sem.acquire();
            /// assert!(sem.acquire_timeout(Duration::from_millis(10)).is_none());
            /// ```
            pub fn acquire_timeout(&self, timeout: Duration) -> Option<SemaphoreGuard<'_>> {
                block_timeout(&self.permits, timeout).then(|| SemaphoreGuard::new(&self.permits))
            }

            /// [`acquire`](Self::acquire) for an `Arc` of the semaphore: the guard keeps it
            /// alive and can move to another thread.
            ///
            /// # Runtime threads
            /// As [`acquire`](Self::acquire).
            ///
            /// # Panics
            /// As [`acquire`](Self::acquire): only where tokio refuses `block_in_place`, and
            /// only if it has to wait.
            ///
            /// # Examples
            ///
            /// ```
            /// use std::sync::Arc;
            #[doc = concat!("let sem = Arc::new(threading::blocking::", $name, "::new(1));")]
            /// let permit = sem.acquire_owned();
            /// std::thread::spawn(move || drop(permit)).join().unwrap();
            /// assert_eq!(sem.value(), 1);
            /// ```
            pub fn acquire_owned(self: &Arc<Self>) -> OwnedSemaphoreGuard {
                self.acquire().forget();
                OwnedSemaphoreGuard::new(cast_arc(self.clone()))
            }
        }
    };

    (@common $ty:ident, $path:expr, $name:literal, $n:ident, $max:expr) => {
        impl $ty {
            /// A new semaphore with `value` permits and the default policy: barging, with a
            /// waiter that has waited about a millisecond handed a permit directly.
            ///
            /// # Panics
            /// If `value` is above `usize::MAX / 2` (in a `const`, a compile error).
            ///
            /// # Examples
            ///
            /// ```
            #[doc = concat!("static SEM: ", $path, " = ", $path, "::new(3);")]
            /// assert_eq!(SEM.value(), 3);
            /// ```
            #[cfg(not(loom))]
            pub const fn new(value: usize) -> Self {
                let $n = value;
                Self { permits: Permits::new(value, $max, false) }
            }

            /// A new semaphore with `value` permits and strict FIFO hand-off: a release hands
            /// its permit straight to the longest waiter, and a newcomer never overtakes a
            /// waiter (asyncio's fairness).
            ///
            /// # Panics
            /// If `value` is above `usize::MAX / 2` (in a `const`, a compile error).
            ///
            /// # Examples
            ///
            /// ```
            #[doc = concat!("static SEM: ", $path, " = ", $path, "::new_fair(3);")]
            /// assert!(SEM.is_fair());
            /// ```
            #[cfg(not(loom))]
            pub const fn new_fair(value: usize) -> Self {
                let $n = value;
                Self { permits: Permits::new(value, $max, true) }
            }

            /// A new semaphore (default policy). Not `const` under loom.
            #[cfg(loom)]
            pub fn new(value: usize) -> Self {
                let $n = value;
                Self { permits: Permits::new(value, $max, false) }
            }

            /// A new semaphore (fair policy). Not `const` under loom.
            #[cfg(loom)]
            pub fn new_fair(value: usize) -> Self {
                let $n = value;
                Self { permits: Permits::new(value, $max, true) }
            }

            /// Take a permit if one is free, without waiting (Python's
            /// `acquire(blocking=False)`). On a fair semaphore this fails while others wait.
            ///
            /// # Examples
            ///
            /// ```
            #[doc = concat!("let sem = ", $path, "::new(1);")]
            /// let p = sem.try_acquire().expect("one permit");
            /// assert!(sem.try_acquire().is_none());
            /// drop(p);
            /// ```
            #[inline]
            pub fn try_acquire(&self) -> Option<SemaphoreGuard<'_>> {
                self.permits.try_acquire().then(|| SemaphoreGuard::new(&self.permits))
            }

            /// Release `n` permits (Python's `release(n)`), waking up to `n` waiters. Any
            /// thread or task may release. All or nothing: on error nothing changes.
            ///
            /// # Errors
            /// - [`SemaphoreReleaseError::ZeroPermits`] if `n` is 0;
            /// - [`SemaphoreReleaseError::AboveInitial`] if a `BoundedSemaphore` would rise
            ///   above its initial value;
            /// - [`SemaphoreReleaseError::Overflow`] past `usize::MAX / 2` permits.
            ///
            /// # Examples
            ///
            /// ```
            #[doc = concat!("let sem = ", $path, "::new(2);")]
            /// sem.try_acquire().unwrap().forget();
            /// sem.try_acquire().unwrap().forget();
            /// sem.release(2).unwrap();
            /// assert_eq!(sem.value(), 2);
            /// assert!(sem.release(0).is_err());
            /// ```
            pub fn release(&self, n: usize) -> Result<(), SemaphoreReleaseError> {
                self.permits
                    .release(n)
                    .map_err(|fault| release_error(fault, self.permits.max(), n))
            }

            /// The number of free permits (Python's `_value`).
            ///
            /// # Examples
            ///
            /// ```
            #[doc = concat!("let sem = ", $path, "::new(3);")]
            /// let _p = sem.try_acquire();
            /// assert_eq!(sem.value(), 2);
            /// ```
            #[inline]
            pub fn value(&self) -> usize {
                self.permits.available()
            }

            /// Whether an `acquire` would have to wait: no free permit, or waiters queued
            /// ahead (asyncio's `Semaphore.locked()`).
            ///
            /// # Examples
            ///
            /// ```
            #[doc = concat!("let sem = ", $path, "::new(1);")]
            /// assert!(!sem.locked());
            /// let _p = sem.try_acquire();
            /// assert!(sem.locked());
            /// ```
            pub fn locked(&self) -> bool {
                self.permits.available() == 0 || self.permits.has_waiters()
            }

            /// Whether this semaphore hands off in strict FIFO order (made by `new_fair`).
            ///
            /// # Examples
            ///
            /// ```
            #[doc = concat!("assert!(", $path, "::new_fair(1).is_fair());")]
            /// ```
            pub fn is_fair(&self) -> bool {
                self.permits.is_fair()
            }
        }

        impl Default for $ty {
            /// A semaphore with one permit, Python's default value.
            fn default() -> Self {
                Self::new(1)
            }
        }

        impl fmt::Debug for $ty {
            /// Python's repr: `<threading.Semaphore value=3 waiters=0>`; a bounded semaphore
            /// shows `value=2/3`.
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "<threading.{} value={}", $name, self.value())?;
                if self.permits.bounded() {
                    write!(f, "/{}", self.permits.max())?;
                }
                if self.is_fair() {
                    f.write_str(" fair")?;
                }
                write!(f, " waiters={}>", self.permits.waiters())
            }
        }
    };
}

semaphore! {
    /// A counting semaphore with an async interface: Python's `threading.Semaphore` /
    /// `asyncio.Semaphore`.
    ///
    /// `acquire` takes one permit, waiting while there is none; `release(n)` adds `n`,
    /// and may lift the value above the initial one (see [`BoundedSemaphore`] for a capped
    /// one). One instance serves both worlds: [`blocking()`](Semaphore::blocking) gives the
    /// same semaphore with blocking methods, at no cost.
    ///
    /// # Fairness
    /// - [`Semaphore::new`] (default): a newcomer may take a permit that was just released,
    ///   but a waiter that has waited about a millisecond is handed one directly.
    /// - [`Semaphore::new_fair`]: strict FIFO hand-off, as `asyncio.Semaphore`.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::Arc;
    /// use threading::Semaphore;
    ///
    /// # #[tokio::main(flavor = "multi_thread", worker_threads = 2)]
    /// # async fn main() {
    /// let sem = Arc::new(Semaphore::new(0));
    /// // A plain thread releases what a task waits for.
    /// let s = sem.clone();
    /// std::thread::spawn(move || s.blocking().release(1).unwrap());
    /// let permit = sem.acquire().await;
    /// assert_eq!(sem.value(), 0);
    /// drop(permit);
    /// assert_eq!(sem.value(), 1);
    /// # }
    /// ```
    async Semaphore,
    /// The blocking form of [`Semaphore`](crate::Semaphore): the same state, with methods
    /// that block the calling thread. Needs no runtime.
    ///
    /// # Fairness
    /// As [`Semaphore`](crate::Semaphore).
    ///
    /// # Examples
    ///
    /// ```
    /// use threading::blocking::Semaphore;
    ///
    /// let sem = Semaphore::new(1);
    /// let p = sem.acquire();
    /// assert!(sem.try_acquire().is_none());
    /// drop(p);
    /// sem.release(2).unwrap(); // an unbounded semaphore may rise above its start
    /// assert_eq!(sem.value(), 3);
    /// ```
    blocking BlockingSemaphore,
    name "Semaphore", max(_n) = UNBOUNDED
}

semaphore! {
    /// A semaphore that refuses to rise above its initial value, with an async interface:
    /// Python's `threading.BoundedSemaphore` / `asyncio.BoundedSemaphore`.
    ///
    /// A `release(n)` that would lift the value above the initial one is an error and
    /// changes nothing, which catches a permit released twice.
    ///
    /// # Fairness
    /// - [`BoundedSemaphore::new`] (default): barging, with a waiter that has waited about a
    ///   millisecond handed a permit directly.
    /// - [`BoundedSemaphore::new_fair`]: strict FIFO hand-off.
    ///
    /// # Examples
    ///
    /// ```
    /// use threading::BoundedSemaphore;
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// let sem = BoundedSemaphore::new(2);
    /// let p = sem.acquire().await;
    /// drop(p);
    /// assert!(sem.release(1).is_err()); // already at its initial value
    /// assert_eq!(sem.value(), 2);
    /// # }
    /// ```
    async BoundedSemaphore,
    /// The blocking form of [`BoundedSemaphore`](crate::BoundedSemaphore): the same state,
    /// with methods that block the calling thread. Needs no runtime.
    ///
    /// # Fairness
    /// As [`BoundedSemaphore`](crate::BoundedSemaphore).
    ///
    /// # Examples
    ///
    /// ```
    /// use threading::blocking::BoundedSemaphore;
    ///
    /// let sem = BoundedSemaphore::new(1);
    /// sem.acquire().forget();
    /// sem.release(1).unwrap();
    /// assert!(sem.release(1).is_err());
    /// ```
    blocking BlockingBoundedSemaphore,
    name "BoundedSemaphore", max(n) = n
}

/// A permit of a semaphore (either form, bounded or not), given back when dropped.
///
/// # Examples
///
/// ```
/// let sem = threading::blocking::Semaphore::new(1);
/// {
///     let _permit = sem.acquire();
///     assert_eq!(sem.value(), 0);
/// }
/// assert_eq!(sem.value(), 1);
/// ```
#[must_use = "the permit is given back as soon as the guard is dropped"]
pub struct SemaphoreGuard<'a> {
    permits: &'a Permits,
}

impl<'a> SemaphoreGuard<'a> {
    fn new(permits: &'a Permits) -> Self {
        Self { permits }
    }

    /// Keep the permit: drop the guard without giving it back (the semaphore's value stays
    /// one lower until someone calls `release`).
    ///
    /// # Examples
    ///
    /// ```
    /// let sem = threading::blocking::Semaphore::new(1);
    /// sem.acquire().forget();
    /// assert_eq!(sem.value(), 0);
    /// ```
    pub fn forget(self) {
        std::mem::forget(self);
    }
}

impl Drop for SemaphoreGuard<'_> {
    #[inline]
    fn drop(&mut self) {
        // The guard holds a permit, so this cannot pass a bound unless a bare `release()`
        // already gave that permit back; then the value stays at its bound.
        let _ = self.permits.release(1);
    }
}

impl fmt::Debug for SemaphoreGuard<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SemaphoreGuard")
    }
}

/// A permit of an `Arc`'d semaphore (either form, bounded or not), given back when dropped;
/// made by `acquire_owned`. It is `'static`, so it can move into a spawned task.
///
/// # Examples
///
/// ```
/// use std::sync::Arc;
/// let sem = Arc::new(threading::blocking::Semaphore::new(1));
/// let permit = sem.acquire_owned();
/// std::thread::spawn(move || drop(permit)).join().unwrap();
/// assert_eq!(sem.value(), 1);
/// ```
#[must_use = "the permit is given back as soon as the guard is dropped"]
pub struct OwnedSemaphoreGuard {
    /// `None` once forgotten.
    permits: Option<Arc<Permits>>,
}

impl OwnedSemaphoreGuard {
    fn new(permits: Arc<Permits>) -> Self {
        Self {
            permits: Some(permits),
        }
    }

    /// Keep the permit: drop the guard without giving it back.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::Arc;
    /// let sem = Arc::new(threading::blocking::Semaphore::new(1));
    /// sem.acquire_owned().forget();
    /// assert_eq!(sem.value(), 0);
    /// ```
    pub fn forget(mut self) {
        self.permits = None;
    }
}

impl Drop for OwnedSemaphoreGuard {
    fn drop(&mut self) {
        if let Some(permits) = self.permits.take() {
            let _ = permits.release(1);
        }
    }
}

impl fmt::Debug for OwnedSemaphoreGuard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("OwnedSemaphoreGuard")
    }
}
