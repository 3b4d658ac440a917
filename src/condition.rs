//! `Condition`: Python's `threading.Condition` and `asyncio.Condition`, one state for both.
//!
//! A condition is a lock plus a queue of waiters. `wait` takes the lock's guard, queues the
//! caller, releases the lock (every level of an `RLock`), waits for a notification, takes
//! the lock back (restoring the depth) and returns the guard. The guard proves that the
//! caller holds the lock, so waiting or notifying without it does not compile.

use std::fmt;
use std::future::{poll_fn, Future};
use std::pin::pin;
use std::sync::Arc;
use std::time::Duration;

use crate::lock::{BlockingLock, Lock, LockGuard};
use crate::rlock::{BlockingRLock, BlockingRLockGuard, RLock, RLockGuard};
use crate::wait::{block, block_after, Deadline, OwnerId, Permits, Signal, WaitFuture};

mod sealed {
    /// Seals [`ConditionLock`](super::ConditionLock): implemented for `Lock` and `RLock` only.
    pub trait Sealed {}
}

/// A lock a [`Condition`] can be built on: [`Lock`] or [`RLock`] (named by their async
/// form; the blocking form of the condition uses the same lock's blocking form). Sealed:
/// its hidden methods are the crate's own.
///
/// # Examples
///
/// ```
/// use std::sync::Arc;
/// use threading::{Condition, Lock};
///
/// // asyncio's default: a condition over a plain (non-reentrant) Lock.
/// let cond = Condition::with_lock(Arc::new(Lock::new()));
/// assert!(!cond.locked());
/// ```
pub trait ConditionLock: sealed::Sealed + Send + Sync + 'static {
    /// The lock's blocking form.
    type Blocking: Send + Sync + 'static;
    /// The guard that the async form's `acquire` returns and `Condition::wait` takes.
    type Guard<'a>: Send
    where
        Self: 'a;
    /// The guard that the blocking form's `acquire` returns and `blocking::Condition::wait`
    /// takes.
    type BlockingGuard<'a>
    where
        Self: 'a;
    /// What a wait must restore when it takes the lock back.
    #[doc(hidden)]
    type Saved: Copy + Send;

    #[doc(hidden)]
    fn permits(&self) -> &Permits;
    #[doc(hidden)]
    fn as_blocking(&self) -> &Self::Blocking;
    #[doc(hidden)]
    fn acquire_async(&self) -> impl Future<Output = Self::Guard<'_>> + Send;
    #[doc(hidden)]
    fn try_acquire_async(&self) -> Option<Self::Guard<'_>>;
    #[doc(hidden)]
    fn acquire_timeout_async(
        &self,
        timeout: Duration,
    ) -> impl Future<Output = Option<Self::Guard<'_>>> + Send;
    #[doc(hidden)]
    fn acquire_blocking(&self) -> Self::BlockingGuard<'_>;
    #[doc(hidden)]
    fn try_acquire_blocking(&self) -> Option<Self::BlockingGuard<'_>>;
    #[doc(hidden)]
    fn acquire_timeout_blocking(&self, timeout: Duration) -> Option<Self::BlockingGuard<'_>>;
    #[doc(hidden)]
    fn release_async<'a>(&'a self, guard: Self::Guard<'a>) -> Self::Saved;
    #[doc(hidden)]
    fn release_blocking<'a>(&'a self, guard: Self::BlockingGuard<'a>) -> Self::Saved;
    #[doc(hidden)]
    fn restore_async(&self, saved: Self::Saved) -> Self::Guard<'_>;
    #[doc(hidden)]
    fn restore_blocking(&self, saved: Self::Saved) -> Self::BlockingGuard<'_>;
    #[doc(hidden)]
    fn owns_async(&self, guard: &Self::Guard<'_>) -> bool;
    #[doc(hidden)]
    fn owns_blocking(&self, guard: &Self::BlockingGuard<'_>) -> bool;
}

impl sealed::Sealed for Lock {}
impl sealed::Sealed for RLock {}
impl sealed::Sealed for BlockingLock {}
impl sealed::Sealed for BlockingRLock {}

/// The blocking form of a [`ConditionLock`]: [`blocking::Lock`](crate::blocking::Lock) or
/// [`blocking::RLock`](crate::blocking::RLock), for
/// [`blocking::Condition::with_lock`](crate::blocking::Condition::with_lock). Sealed.
///
/// # Examples
///
/// ```
/// use std::sync::Arc;
/// use threading::blocking::{Condition, RLock};
///
/// let cond = Condition::with_lock(Arc::new(RLock::new()));
/// assert!(!cond.locked());
/// ```
pub trait BlockingConditionLock: sealed::Sealed + Send + Sync + 'static {
    /// The lock's async form, which names the condition's type.
    type Async: ConditionLock<Blocking = Self>;

    /// Turn an `Arc` of this blocking form into an `Arc` of its async form (free).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::Arc;
    /// use threading::BlockingConditionLock;
    ///
    /// let lock = Arc::new(threading::blocking::Lock::new());
    /// let a = BlockingConditionLock::into_async_lock(lock.clone());
    /// assert!(std::ptr::eq(a.blocking(), &*lock));
    /// ```
    fn into_async_lock(lock: Arc<Self>) -> Arc<Self::Async>;
}

impl BlockingConditionLock for BlockingLock {
    type Async = Lock;

    fn into_async_lock(lock: Arc<Self>) -> Arc<Lock> {
        lock.into_async()
    }
}

impl BlockingConditionLock for BlockingRLock {
    type Async = RLock;

    fn into_async_lock(lock: Arc<Self>) -> Arc<RLock> {
        lock.into_async()
    }
}

impl ConditionLock for Lock {
    type Blocking = BlockingLock;
    type Guard<'a> = LockGuard<'a>;
    type BlockingGuard<'a> = LockGuard<'a>;
    type Saved = ();

    fn permits(&self) -> &Permits {
        Lock::permits(self)
    }

    fn as_blocking(&self) -> &BlockingLock {
        self.blocking()
    }

    fn acquire_async(&self) -> impl Future<Output = LockGuard<'_>> + Send {
        Lock::acquire(self)
    }

    fn try_acquire_async(&self) -> Option<LockGuard<'_>> {
        Lock::try_acquire(self)
    }

    fn acquire_timeout_async(
        &self,
        timeout: Duration,
    ) -> impl Future<Output = Option<LockGuard<'_>>> + Send {
        Lock::acquire_timeout(self, timeout)
    }

    fn acquire_blocking(&self) -> LockGuard<'_> {
        self.blocking().acquire()
    }

    fn try_acquire_blocking(&self) -> Option<LockGuard<'_>> {
        self.blocking().try_acquire()
    }

    fn acquire_timeout_blocking(&self, timeout: Duration) -> Option<LockGuard<'_>> {
        self.blocking().acquire_timeout(timeout)
    }

    fn release_async<'a>(&'a self, guard: LockGuard<'a>) {
        guard.forget();
        let _ = self.permits().release(1);
    }

    fn release_blocking<'a>(&'a self, guard: LockGuard<'a>) {
        self.release_async(guard)
    }

    fn restore_async(&self, (): ()) -> LockGuard<'_> {
        LockGuard::new(self.permits())
    }

    fn restore_blocking(&self, (): ()) -> LockGuard<'_> {
        LockGuard::new(self.permits())
    }

    fn owns_async(&self, guard: &LockGuard<'_>) -> bool {
        std::ptr::eq(guard.permits(), self.permits())
    }

    fn owns_blocking(&self, guard: &LockGuard<'_>) -> bool {
        self.owns_async(guard)
    }
}

/// An RLock's saved state: who held it, how deep, and its generation. (Public only
/// because [`ConditionLock`]'s hidden methods name it; it cannot be named outside.)
#[doc(hidden)]
#[derive(Clone, Copy, Debug)]
pub struct RLockSaved {
    owner: OwnerId,
    depth: usize,
    generation: u64,
}

impl ConditionLock for RLock {
    type Blocking = BlockingRLock;
    type Guard<'a> = RLockGuard<'a>;
    type BlockingGuard<'a> = BlockingRLockGuard<'a>;
    type Saved = RLockSaved;

    fn permits(&self) -> &Permits {
        self.state().permits()
    }

    fn as_blocking(&self) -> &BlockingRLock {
        self.blocking()
    }

    fn acquire_async(&self) -> impl Future<Output = RLockGuard<'_>> + Send {
        RLock::acquire(self)
    }

    fn try_acquire_async(&self) -> Option<RLockGuard<'_>> {
        RLock::try_acquire(self)
    }

    fn acquire_timeout_async(
        &self,
        timeout: Duration,
    ) -> impl Future<Output = Option<RLockGuard<'_>>> + Send {
        RLock::acquire_timeout(self, timeout)
    }

    fn acquire_blocking(&self) -> BlockingRLockGuard<'_> {
        self.blocking().acquire()
    }

    fn try_acquire_blocking(&self) -> Option<BlockingRLockGuard<'_>> {
        self.blocking().try_acquire()
    }

    fn acquire_timeout_blocking(&self, timeout: Duration) -> Option<BlockingRLockGuard<'_>> {
        self.blocking().acquire_timeout(timeout)
    }

    fn release_async<'a>(&'a self, guard: RLockGuard<'a>) -> RLockSaved {
        let (state, owner) = guard.into_parts();
        let (depth, generation) = state
            .release_all(owner)
            .expect("checked by owns_async before the wait");
        RLockSaved {
            owner,
            depth,
            generation,
        }
    }

    fn release_blocking<'a>(&'a self, guard: BlockingRLockGuard<'a>) -> RLockSaved {
        let (state, owner) = guard.into_parts();
        let (depth, generation) = state
            .release_all(owner)
            .expect("checked by owns_blocking before the wait");
        RLockSaved {
            owner,
            depth,
            generation,
        }
    }

    fn restore_async(&self, s: RLockSaved) -> RLockGuard<'_> {
        self.state().restore(s.owner, s.depth, s.generation);
        RLockGuard::from_parts(self.state(), s.owner)
    }

    fn restore_blocking(&self, s: RLockSaved) -> BlockingRLockGuard<'_> {
        self.state().restore(s.owner, s.depth, s.generation);
        BlockingRLockGuard::from_parts(self.state(), s.owner)
    }

    fn owns_async(&self, guard: &RLockGuard<'_>) -> bool {
        std::ptr::eq(guard.state(), self.state())
            && guard.is_live()
            && self.state().is_owned_by(OwnerId::task_or_thread())
    }

    fn owns_blocking(&self, guard: &BlockingRLockGuard<'_>) -> bool {
        std::ptr::eq(guard.state(), self.state())
            && guard.is_live()
            && self.state().is_owned_by(OwnerId::thread())
    }
}

pub(crate) struct State<L> {
    lock: Arc<L>,
    signal: Signal,
}

const WRONG_GUARD: &str = "Condition: this guard does not prove that the caller holds the \
     condition's lock (a guard of another lock, an RLock guard used outside the thread or \
     task that took it, or one made inert by a dropped wait); pass a live guard of this \
     condition's own lock";

/// A condition variable with an async interface: Python's `threading.Condition` /
/// `asyncio.Condition`.
///
/// Built over a [`Lock`] or an [`RLock`] (the default, as Python's `threading`; asyncio's
/// default, a plain `Lock`, is [`Condition::with_lock`]). Several conditions may share one
/// lock. `wait` takes the lock's guard, releases the lock (all levels of an `RLock`),
/// waits for `notify`, takes the lock back and returns the guard; waiters are woken in FIFO
/// order, and a woken waiter runs only once the notifier has released the lock.
///
/// One instance serves both worlds: [`blocking()`](Condition::blocking) gives the same
/// condition with blocking methods.
///
/// # Panics
/// Every method that takes a guard panics if the guard is not one of this condition's lock
/// held by the caller (a guard of another lock, as std's `Condvar` does; an `RLock` guard
/// moved out of the task that took it; or one made inert by a cancelled `wait`). No input
/// can cause it: it is a programming error. Timed waits that have to wait also need tokio's
/// timer (see each method's `# Panics`).
///
/// Waiting or notifying without the lock does not compile:
///
/// ```compile_fail
/// let cond = threading::Condition::new();
/// cond.notify_all(); // a guard is required
/// ```
///
/// # Examples
///
/// ```
/// use std::sync::atomic::{AtomicBool, Ordering};
/// use std::sync::Arc;
/// use threading::Condition;
///
/// # #[tokio::main(flavor = "multi_thread", worker_threads = 2)]
/// # async fn main() {
/// let cond = Arc::new(Condition::new());
/// let ready = Arc::new(AtomicBool::new(false));
///
/// // A plain thread waits for a task's notification.
/// let (c, r) = (cond.clone(), ready.clone());
/// let waiter = std::thread::spawn(move || {
///     let c = c.blocking();
///     let guard = c.acquire();
///     let _guard = c.wait_for(guard, || r.load(Ordering::SeqCst));
/// });
///
/// let guard = cond.acquire().await;
/// ready.store(true, Ordering::SeqCst);
/// cond.notify_all(&guard);
/// drop(guard);
/// waiter.join().unwrap();
/// # }
/// ```
#[repr(transparent)]
pub struct Condition<L: ConditionLock = RLock> {
    state: State<L>,
}

/// The blocking form of [`Condition`](crate::Condition): the same state, with methods that
/// block the calling thread. Needs no runtime.
///
/// # Panics
/// As [`Condition`](crate::Condition): a guard that does not prove the caller holds this
/// condition's lock.
///
/// # Examples
///
/// ```
/// use std::sync::Arc;
/// use std::time::Duration;
/// use threading::blocking::Condition;
///
/// let cond = Arc::new(Condition::new());
/// let guard = cond.acquire();
/// // Nobody notifies: the wait times out, and the lock is held again afterwards.
/// let (guard, notified) = cond.wait_timeout(guard, Duration::from_millis(10));
/// assert!(!notified);
/// assert!(cond.locked());
/// drop(guard);
/// ```
#[repr(transparent)]
pub struct BlockingCondition<L: ConditionLock = RLock> {
    state: State<L>,
}

// SAFETY: both forms are `#[repr(transparent)]` over `State<L>` alone, with no `Drop`.
unsafe impl<L: ConditionLock> crate::forms::Form for Condition<L> {
    type State = State<L>;
}
// SAFETY: as above.
unsafe impl<L: ConditionLock> crate::forms::Form for BlockingCondition<L> {
    type State = State<L>;
}

impl Condition<RLock> {
    /// A new condition over a new [`RLock`] (Python's `threading.Condition()`).
    ///
    /// # Examples
    ///
    /// ```
    /// let cond = threading::Condition::new();
    /// assert!(!cond.locked());
    /// ```
    pub fn new() -> Self {
        Self::with_lock(Arc::new(RLock::new()))
    }
}

impl Default for Condition<RLock> {
    fn default() -> Self {
        Self::new()
    }
}

impl BlockingCondition<RLock> {
    /// A new condition over a new [`RLock`](crate::blocking::RLock) (Python's
    /// `threading.Condition()`).
    ///
    /// # Examples
    ///
    /// ```
    /// let cond = threading::blocking::Condition::new();
    /// assert!(!cond.locked());
    /// ```
    pub fn new() -> Self {
        Self::with_lock(Arc::new(BlockingRLock::new()))
    }
}

impl Default for BlockingCondition<RLock> {
    fn default() -> Self {
        Self::new()
    }
}

impl<L: ConditionLock> Condition<L> {
    /// A new condition over `lock` (Python's `Condition(lock)`): the lock is shared, so
    /// locking either shows in both, and several conditions may share one lock.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::Arc;
    /// use threading::{Condition, Lock};
    ///
    /// let lock = Arc::new(Lock::new());
    /// let not_empty = Condition::with_lock(lock.clone());
    /// let not_full = Condition::with_lock(lock.clone());
    /// let _g = lock.try_acquire().unwrap();
    /// assert!(not_empty.locked() && not_full.locked());
    /// ```
    pub fn with_lock(lock: Arc<L>) -> Self {
        Self {
            state: State {
                lock,
                signal: Signal::new(),
            },
        }
    }

    /// The condition's lock.
    ///
    /// # Examples
    ///
    /// ```
    /// let cond = threading::Condition::new();
    /// assert!(!cond.lock().locked());
    /// ```
    pub fn lock(&self) -> &Arc<L> {
        &self.state.lock
    }

    /// This condition's blocking form: the same state, with blocking methods. Free.
    ///
    /// # Examples
    ///
    /// ```
    /// let cond = threading::Condition::new();
    /// assert!(std::ptr::eq(cond.blocking().as_async(), &cond));
    /// ```
    pub fn blocking(&self) -> &BlockingCondition<L> {
        crate::forms::cast_ref(self)
    }

    /// Turn an `Arc` of this condition into an `Arc` of its blocking form (free).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::Arc;
    /// let cond = Arc::new(threading::Condition::new());
    /// let b = cond.clone().into_blocking();
    /// assert!(std::ptr::eq(b.as_async(), &*cond));
    /// ```
    pub fn into_blocking(self: Arc<Self>) -> Arc<BlockingCondition<L>> {
        crate::forms::cast_arc(self)
    }

    /// Whether the condition's lock is held (Python 3.14's `Condition.locked()`).
    ///
    /// # Examples
    ///
    /// ```
    /// let cond = threading::Condition::new();
    /// assert!(!cond.locked());
    /// ```
    pub fn locked(&self) -> bool {
        ConditionLock::permits(&*self.state.lock).available() == 0
    }

    /// Take the condition's lock (Python's `with cond:`); the guard is what `wait` and
    /// `notify` take.
    ///
    /// # Cancel safety
    /// Cancel safe, as the lock's own `acquire`.
    ///
    /// # Examples
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// let cond = threading::Condition::new();
    /// let guard = cond.acquire().await;
    /// assert!(cond.locked());
    /// # drop(guard);
    /// # }
    /// ```
    pub async fn acquire(&self) -> L::Guard<'_> {
        self.state.lock.acquire_async().await
    }

    /// Take the condition's lock if it is free (or, for an `RLock`, owned by the caller),
    /// without waiting.
    ///
    /// # Examples
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// let cond = threading::Condition::new();
    /// assert!(cond.try_acquire().is_some());
    /// # }
    /// ```
    pub fn try_acquire(&self) -> Option<L::Guard<'_>> {
        self.state.lock.try_acquire_async()
    }

    /// Wait at most `timeout` for the condition's lock, as the lock's `acquire_timeout`.
    ///
    /// # Cancel safety
    /// Cancel safe, as the lock's own `acquire_timeout`.
    ///
    /// # Panics
    /// If it has to wait (the lock is held by another and the timeout is not zero) outside
    /// a tokio runtime, or on one built without the time driver (`enable_time`): the
    /// timeout runs on tokio's timer, which panics there.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// let cond = threading::Condition::new();
    /// assert!(cond.acquire_timeout(Duration::from_millis(10)).await.is_some());
    /// # }
    /// ```
    pub fn acquire_timeout(
        &self,
        timeout: Duration,
    ) -> impl Future<Output = Option<L::Guard<'_>>> + Send + '_ {
        self.state.lock.acquire_timeout_async(timeout)
    }

    /// Wait until notified: release the lock, wait for a `notify`, take the lock back,
    /// and return the guard. Like asyncio's since 3.13, a `wait` may rarely return without
    /// a notification of its own (one passed on by a dropped waiter), so check the state in
    /// a loop or use [`wait_for`](Self::wait_for).
    ///
    /// # Cancel safety
    /// A `wait` future dropped once polled leaves the lock **released** (a `Drop` cannot
    /// wait to take it back); on an `RLock` held several levels deep, the caller's other
    /// guards of it become inert (they release nothing, and a wait given one panics). A
    /// notification it was picked for passes to the next waiter. Nothing is leaked or
    /// released twice. (Dropped before its first poll, it has released nothing yet: it
    /// drops the guard it was given, which releases that one level.)
    ///
    /// # Panics
    /// If `guard` does not prove that the caller holds this condition's lock.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::Arc;
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// let cond = Arc::new(threading::Condition::new());
    /// let guard = cond.acquire().await;
    /// let c = cond.clone();
    /// let notifier = tokio::spawn(async move {
    ///     let g = c.acquire().await; // free once the waiter waits
    ///     c.notify(&g, 1);
    /// });
    /// let guard = cond.wait(guard).await;
    /// assert!(cond.locked());
    /// drop(guard);
    /// notifier.await.unwrap();
    /// # }
    /// ```
    pub async fn wait<'a>(&'a self, guard: L::Guard<'a>) -> L::Guard<'a> {
        self.wait_until(guard, None).await.0
    }

    /// Wait until notified or until `timeout` has passed; returns the guard and whether it
    /// was notified (false: timed out, never before `timeout`). The lock is held again in
    /// both cases. The deadline is fixed when this method is called; a zero timeout
    /// releases the lock, takes it back and reports false unless notified meanwhile.
    ///
    /// # Cancel safety
    /// As [`wait`](Self::wait).
    ///
    /// # Panics
    /// If `guard` does not prove that the caller holds this condition's lock; or, with a
    /// timeout that is not zero, outside a tokio runtime or on one built without the time
    /// driver (`enable_time`): the timeout runs on tokio's timer, which panics there.
    /// [`wait`](Self::wait) needs no timer.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// let cond = threading::Condition::new();
    /// let guard = cond.acquire().await;
    /// let (guard, notified) = cond.wait_timeout(guard, Duration::from_millis(10)).await;
    /// assert!(!notified && cond.locked());
    /// # drop(guard);
    /// # }
    /// ```
    pub fn wait_timeout<'a>(
        &'a self,
        guard: L::Guard<'a>,
        timeout: Duration,
    ) -> impl Future<Output = (L::Guard<'a>, bool)> + Send + 'a {
        let deadline = Deadline::after_async(timeout);
        async move { self.wait_until(guard, deadline).await }
    }

    /// Wait until `predicate` returns true: check it first (a true predicate returns at
    /// once), then after every wake-up. The predicate runs only while the lock is held.
    ///
    /// # Cancel safety
    /// As [`wait`](Self::wait).
    ///
    /// # Panics
    /// If it has to wait (the predicate is false) and `guard` does not prove that the
    /// caller holds this condition's lock. A panic in `predicate` propagates; the guard is
    /// dropped with it, so the lock is released.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::atomic::{AtomicU32, Ordering};
    /// use std::sync::Arc;
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// let cond = Arc::new(threading::Condition::new());
    /// let items = Arc::new(AtomicU32::new(0));
    /// let (c, i) = (cond.clone(), items.clone());
    /// tokio::spawn(async move {
    ///     for _ in 0..3 {
    ///         let g = c.acquire().await;
    ///         i.fetch_add(1, Ordering::SeqCst);
    ///         c.notify_all(&g);
    ///     }
    /// });
    /// let guard = cond.acquire().await;
    /// let guard = cond.wait_for(guard, || items.load(Ordering::SeqCst) == 3).await;
    /// assert_eq!(items.load(Ordering::SeqCst), 3);
    /// assert!(cond.locked()); // held again
    /// # drop(guard);
    /// # }
    /// ```
    pub async fn wait_for<'a>(
        &'a self,
        mut guard: L::Guard<'a>,
        mut predicate: impl FnMut() -> bool + Send,
    ) -> L::Guard<'a> {
        while !predicate() {
            guard = self.wait_until(guard, None).await.0;
        }
        guard
    }

    /// Wait until `predicate` returns true or `timeout` has passed; returns the guard and
    /// the predicate's last value. One deadline, fixed when this method is called, covers
    /// every wake-up: notifications that leave the predicate false never extend the wait.
    /// The predicate is checked once more after the deadline.
    ///
    /// # Cancel safety
    /// As [`wait`](Self::wait).
    ///
    /// # Panics
    /// As [`wait_for`](Self::wait_for); and if it has to wait (the predicate is false and
    /// the timeout is not zero) outside a tokio runtime or on one built without the time
    /// driver (`enable_time`): the timeout runs on tokio's timer, which panics there.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// let cond = threading::Condition::new();
    /// let guard = cond.acquire().await;
    /// let (guard, ok) = cond.wait_for_timeout(guard, || false, Duration::from_millis(10)).await;
    /// assert!(!ok);
    /// # drop(guard);
    /// # }
    /// ```
    pub fn wait_for_timeout<'a, P>(
        &'a self,
        guard: L::Guard<'a>,
        mut predicate: P,
        timeout: Duration,
    ) -> impl Future<Output = (L::Guard<'a>, bool)> + Send + use<'a, L, P>
    where
        P: FnMut() -> bool + Send,
    {
        let deadline = Deadline::after_async(timeout);
        async move {
            let mut guard = guard;
            let mut result = predicate();
            while !result {
                if deadline.is_some_and(|at| tokio::time::Instant::now() >= at) {
                    break;
                }
                guard = self.wait_until(guard, deadline).await.0;
                result = predicate();
            }
            (guard, result)
        }
    }

    /// Wake up to `n` waiters, longest-waiting first. They run once the caller has
    /// released the lock. With nobody waiting it does nothing (nothing is remembered).
    ///
    /// # Panics
    /// If `guard` does not prove that the caller holds this condition's lock.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::atomic::{AtomicBool, Ordering};
    /// use std::sync::Arc;
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// let cond = Arc::new(threading::Condition::new());
    /// let ready = Arc::new(AtomicBool::new(false));
    /// let (c, r) = (cond.clone(), ready.clone());
    /// let waiter = tokio::spawn(async move {
    ///     let g = c.acquire().await;
    ///     let _g = c.wait_for(g, || r.load(Ordering::SeqCst)).await;
    ///     "woken"
    /// });
    /// let guard = cond.acquire().await;
    /// ready.store(true, Ordering::SeqCst);
    /// cond.notify(&guard, 1); // the waiter runs once the lock is released
    /// drop(guard);
    /// assert_eq!(waiter.await.unwrap(), "woken");
    /// # }
    /// ```
    pub fn notify(&self, guard: &L::Guard<'_>, n: usize) {
        assert!(self.state.lock.owns_async(guard), "{WRONG_GUARD}");
        self.state.signal.notify(n);
    }

    /// Wake every waiter waiting at the time of the call.
    ///
    /// # Panics
    /// If `guard` does not prove that the caller holds this condition's lock.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::atomic::{AtomicBool, Ordering};
    /// use std::sync::Arc;
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// let cond = Arc::new(threading::Condition::new());
    /// let go = Arc::new(AtomicBool::new(false));
    /// let waiters: Vec<_> = (0..3)
    ///     .map(|_| {
    ///         let (c, go) = (cond.clone(), go.clone());
    ///         tokio::spawn(async move {
    ///             let g = c.acquire().await;
    ///             drop(c.wait_for(g, || go.load(Ordering::SeqCst)).await);
    ///         })
    ///     })
    ///     .collect();
    /// let guard = cond.acquire().await;
    /// go.store(true, Ordering::SeqCst);
    /// cond.notify_all(&guard);
    /// drop(guard);
    /// for w in waiters {
    ///     w.await.unwrap();
    /// }
    /// assert!(!cond.locked());
    /// # }
    /// ```
    pub fn notify_all(&self, guard: &L::Guard<'_>) {
        assert!(self.state.lock.owns_async(guard), "{WRONG_GUARD}");
        self.state.signal.notify_all();
    }

    /// The one wait: queue on the signal, release the lock, wait (until `deadline`), take
    /// the lock back.
    async fn wait_until<'a>(
        &'a self,
        guard: L::Guard<'a>,
        deadline: Option<tokio::time::Instant>,
    ) -> (L::Guard<'a>, bool) {
        let lock = &*self.state.lock;
        assert!(lock.owns_async(&guard), "{WRONG_GUARD}");
        let mut wait = pin!(WaitFuture::new(&self.state.signal, deadline));
        let mut guard = Some(guard);
        let mut saved = None;
        // The first poll queues this waiter; only then is the lock released, so a notify
        // that follows the release finds it.
        let notified = poll_fn(|cx| {
            let polled = wait.as_mut().poll(cx);
            if let Some(g) = guard.take() {
                saved = Some(lock.release_async(g));
            }
            polled
        })
        .await;
        let saved = saved.expect("released at the first poll");
        // Take the lock back. If this future is dropped meanwhile, a notification it
        // consumed goes to the next waiter.
        let pass_on = PassOn {
            signal: &self.state.signal,
            armed: notified,
        };
        let permits = lock.permits();
        if !permits.try_acquire() {
            WaitFuture::new(permits, None).await;
        }
        pass_on.disarm();
        (lock.restore_async(saved), notified)
    }
}

/// Passes a consumed notification on if a wait is dropped while it takes its lock back.
struct PassOn<'a> {
    signal: &'a Signal,
    armed: bool,
}

impl PassOn<'_> {
    fn disarm(mut self) {
        self.armed = false;
    }
}

impl Drop for PassOn<'_> {
    fn drop(&mut self) {
        if self.armed {
            self.signal.notify(1);
        }
    }
}

impl<L: ConditionLock> BlockingCondition<L> {
    /// A new condition over `lock` (Python's `Condition(lock)`), shared with its other users.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::Arc;
    /// use threading::blocking::{Condition, Lock};
    ///
    /// let lock = Arc::new(Lock::new());
    /// let cond = Condition::with_lock(lock.clone());
    /// let _g = lock.acquire();
    /// assert!(cond.locked());
    /// ```
    pub fn with_lock<B>(lock: Arc<B>) -> Self
    where
        B: BlockingConditionLock<Async = L>,
    {
        Self {
            state: State {
                lock: B::into_async_lock(lock),
                signal: Signal::new(),
            },
        }
    }

    /// The condition's lock, in its blocking form (`as_async().lock()` gives the shared
    /// `Arc` of its async form).
    ///
    /// # Examples
    ///
    /// ```
    /// let cond = threading::blocking::Condition::new();
    /// let guard = cond.acquire();
    /// assert!(cond.lock().is_owned()); // asked as this thread
    /// # drop(guard);
    /// ```
    pub fn lock(&self) -> &L::Blocking {
        self.state.lock.as_blocking()
    }

    /// This condition's async form: the same state. Free.
    ///
    /// # Examples
    ///
    /// ```
    /// let cond = threading::blocking::Condition::new();
    /// assert!(std::ptr::eq(cond.as_async().blocking(), &cond));
    /// ```
    pub fn as_async(&self) -> &Condition<L> {
        crate::forms::cast_ref(self)
    }

    /// Turn an `Arc` of this condition into an `Arc` of its async form (free).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::Arc;
    /// let cond = Arc::new(threading::blocking::Condition::new());
    /// let a = cond.clone().into_async();
    /// assert!(std::ptr::eq(a.blocking(), &*cond));
    /// ```
    pub fn into_async(self: Arc<Self>) -> Arc<Condition<L>> {
        crate::forms::cast_arc(self)
    }

    /// Whether the condition's lock is held.
    ///
    /// # Examples
    ///
    /// ```
    /// let cond = threading::blocking::Condition::new();
    /// assert!(!cond.locked());
    /// ```
    pub fn locked(&self) -> bool {
        self.as_async().locked()
    }

    /// Take the condition's lock, blocking; the guard is what `wait` and `notify` take.
    ///
    /// # Runtime threads
    /// As the lock's blocking `acquire`.
    ///
    /// # Panics
    /// As the lock's blocking `acquire`: only where tokio refuses `block_in_place` (a wait
    /// inside a `LocalSet` driven by a multi-thread runtime), and only if it has to wait.
    ///
    /// # Examples
    ///
    /// ```
    /// let cond = threading::blocking::Condition::new();
    /// let guard = cond.acquire();
    /// assert!(cond.locked());
    /// # drop(guard);
    /// ```
    pub fn acquire(&self) -> L::BlockingGuard<'_> {
        self.state.lock.acquire_blocking()
    }

    /// Take the condition's lock if it is free (or owned by this thread), without waiting.
    ///
    /// # Examples
    ///
    /// ```
    /// let cond = threading::blocking::Condition::new();
    /// assert!(cond.try_acquire().is_some());
    /// ```
    pub fn try_acquire(&self) -> Option<L::BlockingGuard<'_>> {
        self.state.lock.try_acquire_blocking()
    }

    /// Block at most `timeout` for the condition's lock.
    ///
    /// # Runtime threads
    /// As the lock's blocking `acquire_timeout`.
    ///
    /// # Panics
    /// As [`acquire`](Self::acquire).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// let cond = threading::blocking::Condition::new();
    /// assert!(cond.acquire_timeout(Duration::from_millis(10)).is_some());
    /// ```
    pub fn acquire_timeout(&self, timeout: Duration) -> Option<L::BlockingGuard<'_>> {
        self.state.lock.acquire_timeout_blocking(timeout)
    }

    /// Block until notified: release the lock, wait for a `notify`, take the lock back,
    /// and return the guard.
    ///
    /// # Runtime threads
    /// On a tokio multi-thread runtime it waits inside `block_in_place`; on a
    /// current-thread runtime it parks the thread, and if the notifier is a task of that
    /// same runtime this deadlocks: use [`Condition::wait`](crate::Condition::wait) there.
    ///
    /// # Panics
    /// If `guard` does not prove that the caller holds this condition's lock; and where
    /// tokio refuses `block_in_place` (inside a `LocalSet` driven by a multi-thread
    /// runtime), with tokio's message: a condition wait always waits.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::Arc;
    /// let cond = Arc::new(threading::blocking::Condition::new());
    /// let guard = cond.acquire();
    /// let c = cond.clone();
    /// let notifier = std::thread::spawn(move || {
    ///     let g = c.acquire();
    ///     c.notify(&g, 1);
    /// });
    /// let guard = cond.wait(guard);
    /// assert!(cond.locked());
    /// drop(guard);
    /// notifier.join().unwrap();
    /// ```
    pub fn wait<'a>(&'a self, guard: L::BlockingGuard<'a>) -> L::BlockingGuard<'a> {
        self.wait_until(guard, Deadline::Never).0
    }

    /// Block until notified or until `timeout` has passed; returns the guard and whether
    /// it was notified (false: timed out, never before `timeout`). The lock is held again in
    /// both cases.
    ///
    /// # Runtime threads
    /// As [`wait`](Self::wait).
    ///
    /// # Panics
    /// As [`wait`](Self::wait), even with a zero timeout: every wait releases the lock and
    /// queues.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// let cond = threading::blocking::Condition::new();
    /// let guard = cond.acquire();
    /// let (guard, notified) = cond.wait_timeout(guard, Duration::from_millis(10));
    /// assert!(!notified && cond.locked());
    /// # drop(guard);
    /// ```
    pub fn wait_timeout<'a>(
        &'a self,
        guard: L::BlockingGuard<'a>,
        timeout: Duration,
    ) -> (L::BlockingGuard<'a>, bool) {
        self.wait_until(guard, Deadline::after(timeout))
    }

    /// Block until `predicate` returns true: check it first, then after every wake-up,
    /// always while holding the lock.
    ///
    /// # Runtime threads
    /// As [`wait`](Self::wait). A predicate that is already true returns at once.
    ///
    /// # Panics
    /// As [`wait`](Self::wait), if it has to wait (the predicate is false). A panic in
    /// `predicate` propagates; the guard is dropped with it, so the lock is released.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::atomic::{AtomicU32, Ordering};
    /// use std::sync::Arc;
    ///
    /// let cond = Arc::new(threading::blocking::Condition::new());
    /// let items = Arc::new(AtomicU32::new(0));
    /// let (c, i) = (cond.clone(), items.clone());
    /// let producer = std::thread::spawn(move || {
    ///     for _ in 0..3 {
    ///         let g = c.acquire();
    ///         i.fetch_add(1, Ordering::SeqCst);
    ///         c.notify_all(&g);
    ///     }
    /// });
    /// let guard = cond.acquire();
    /// let guard = cond.wait_for(guard, || items.load(Ordering::SeqCst) == 3);
    /// assert_eq!(items.load(Ordering::SeqCst), 3);
    /// drop(guard);
    /// producer.join().unwrap();
    /// ```
    pub fn wait_for<'a>(
        &'a self,
        mut guard: L::BlockingGuard<'a>,
        mut predicate: impl FnMut() -> bool,
    ) -> L::BlockingGuard<'a> {
        while !predicate() {
            guard = self.wait_until(guard, Deadline::Never).0;
        }
        guard
    }

    /// Block until `predicate` returns true or `timeout` has passed; returns the guard and
    /// the predicate's last value. One deadline covers every wake-up; the predicate is
    /// checked once more after it.
    ///
    /// # Runtime threads
    /// As [`wait_for`](Self::wait_for). A true predicate or a zero timeout never waits.
    ///
    /// # Panics
    /// As [`wait_for`](Self::wait_for), if it has to wait (the predicate is false and the
    /// timeout is not zero).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// let cond = threading::blocking::Condition::new();
    /// let guard = cond.acquire();
    /// let (guard, ok) = cond.wait_for_timeout(guard, || false, Duration::from_millis(10));
    /// assert!(!ok);
    /// # drop(guard);
    /// ```
    pub fn wait_for_timeout<'a>(
        &'a self,
        mut guard: L::BlockingGuard<'a>,
        mut predicate: impl FnMut() -> bool,
        timeout: Duration,
    ) -> (L::BlockingGuard<'a>, bool) {
        let deadline = Deadline::after(timeout);
        let mut result = predicate();
        while !result {
            if let Deadline::At(at) = deadline {
                if std::time::Instant::now() >= at {
                    break;
                }
            }
            guard = self.wait_until(guard, deadline).0;
            result = predicate();
        }
        (guard, result)
    }

    /// Wake up to `n` waiters, longest-waiting first; they run once the caller has
    /// released the lock.
    ///
    /// # Panics
    /// If `guard` does not prove that the caller holds this condition's lock.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::atomic::{AtomicBool, Ordering};
    /// use std::sync::Arc;
    ///
    /// let cond = Arc::new(threading::blocking::Condition::new());
    /// let ready = Arc::new(AtomicBool::new(false));
    /// let (c, r) = (cond.clone(), ready.clone());
    /// let waiter = std::thread::spawn(move || {
    ///     let g = c.acquire();
    ///     let _g = c.wait_for(g, || r.load(Ordering::SeqCst));
    ///     "woken"
    /// });
    /// let guard = cond.acquire();
    /// ready.store(true, Ordering::SeqCst);
    /// cond.notify(&guard, 1); // the waiter runs once the lock is released
    /// drop(guard);
    /// assert_eq!(waiter.join().unwrap(), "woken");
    /// ```
    pub fn notify(&self, guard: &L::BlockingGuard<'_>, n: usize) {
        assert!(self.state.lock.owns_blocking(guard), "{WRONG_GUARD}");
        self.state.signal.notify(n);
    }

    /// Wake every waiter waiting at the time of the call.
    ///
    /// # Panics
    /// If `guard` does not prove that the caller holds this condition's lock.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::atomic::{AtomicBool, Ordering};
    /// use std::sync::Arc;
    ///
    /// let cond = Arc::new(threading::blocking::Condition::new());
    /// let go = Arc::new(AtomicBool::new(false));
    /// let waiters: Vec<_> = (0..3)
    ///     .map(|_| {
    ///         let (c, go) = (cond.clone(), go.clone());
    ///         std::thread::spawn(move || {
    ///             let g = c.acquire();
    ///             drop(c.wait_for(g, || go.load(Ordering::SeqCst)));
    ///         })
    ///     })
    ///     .collect();
    /// let guard = cond.acquire();
    /// go.store(true, Ordering::SeqCst);
    /// cond.notify_all(&guard);
    /// drop(guard);
    /// for w in waiters {
    ///     w.join().unwrap();
    /// }
    /// assert!(!cond.locked());
    /// ```
    pub fn notify_all(&self, guard: &L::BlockingGuard<'_>) {
        assert!(self.state.lock.owns_blocking(guard), "{WRONG_GUARD}");
        self.state.signal.notify_all();
    }

    fn wait_until<'a>(
        &'a self,
        guard: L::BlockingGuard<'a>,
        deadline: Deadline,
    ) -> (L::BlockingGuard<'a>, bool) {
        let lock = &*self.state.lock;
        assert!(lock.owns_blocking(&guard), "{WRONG_GUARD}");
        let mut guard = Some(guard);
        let mut saved = None;
        let notified = block_after(&self.state.signal, deadline, || {
            if let Some(g) = guard.take() {
                saved = Some(lock.release_blocking(g));
            }
        });
        let saved = saved.expect("released once queued");
        let permits = lock.permits();
        if !permits.try_acquire() {
            block(permits, Deadline::Never);
        }
        (lock.restore_blocking(saved), notified)
    }
}

fn describe<L: ConditionLock>(state: &State<L>, f: &mut fmt::Formatter<'_>) -> fmt::Result {
    let lock = ConditionLock::permits(&*state.lock);
    write!(
        f,
        "<threading.Condition {} waiters={}>",
        if lock.available() == 0 {
            "locked"
        } else {
            "unlocked"
        },
        state.signal.waiters()
    )
}

impl<L: ConditionLock> fmt::Debug for Condition<L> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        describe(&self.state, f)
    }
}

impl<L: ConditionLock> fmt::Debug for BlockingCondition<L> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        describe(&self.state, f)
    }
}
