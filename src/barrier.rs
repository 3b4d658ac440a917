//! `Barrier`: Python's `threading.Barrier` (and `asyncio.Barrier`), one state for both forms.
//!
//! The state machine is Python's: a barrier is *filling* until `parties` have arrived, then
//! *draining* while they leave; a newcomer waits for draining (or *resetting*) to finish; a
//! timeout, a panicking action or `abort()` makes it *broken* until `reset()`. The state
//! sits behind a short mutex that is never held while waiting or running the action; parties
//! wait on the core's [`Signal`], queued before the mutex is released.

use std::fmt;
use std::future::{poll_fn, Future};
use std::marker::PhantomData;
use std::panic::{catch_unwind, resume_unwind, AssertUnwindSafe};
use std::pin::pin;
use std::task::Poll;
use std::time::Duration;

use crate::error::{BarrierPartiesError, BrokenBarrierError};
use crate::forms::two_forms;
use crate::wait::sync::{self, Mutex, MutexGuard};
use crate::wait::{blocking_region, park_after, Deadline, Signal, WaitFuture};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Phase {
    /// Parties are arriving.
    Filling,
    /// All arrived; the last one runs the action (outside the mutex).
    Releasing,
    /// The generation passed; its parties are leaving.
    Draining,
    /// `reset()` with parties inside: they fail and leave, then the barrier fills again.
    Resetting,
    /// Broken until `reset()`.
    Broken,
}

#[derive(Debug)]
struct Inner {
    phase: Phase,
    /// Parties inside the barrier (arrived and not yet left).
    count: usize,
    /// Arrival tickets handed out in this generation.
    arrivals: u64,
    /// A `reset()` that came while the action ran: applied after it, as in Python where the
    /// action holds the lock.
    reset_pending: bool,
    /// Waiters must be woken once the mutex is released (set under it, acted on after).
    wake: bool,
    /// Arrival tickets of the parties in this round, in order (at most `parties`). A party
    /// whose async wait was dropped while the round filled is removed, so indices (ranks in
    /// this list) stay distinct, dense and in arrival order.
    present: Vec<u64>,
}

impl Inner {
    fn index_of(&self, ticket: u64) -> usize {
        self.present.partition_point(|&t| t < ticket)
    }

    /// Python's `_exit`: the last party out of a draining or resetting barrier starts the
    /// next generation (and waiters must be woken).
    fn leave(&mut self) {
        self.count -= 1;
        if self.count == 0 && matches!(self.phase, Phase::Draining | Phase::Resetting) {
            self.new_generation();
            self.wake = true;
        }
    }

    fn new_generation(&mut self) {
        self.phase = Phase::Filling;
        self.reset_pending = false;
        self.arrivals = 0;
        self.present.clear();
    }

    fn break_barrier(&mut self) {
        self.phase = Phase::Broken;
        self.wake = true;
    }
}

type Action = Box<dyn Fn() + Send + Sync>;

pub(crate) struct Shared {
    parties: usize,
    timeout: Option<Duration>,
    action: Option<Action>,
    inner: Mutex<Inner>,
    signal: Signal,
}

/// What a waiting party does next, decided under the mutex.
enum Step<R> {
    Done(R),
    /// Wait for a notification, until the caller's deadline.
    Wait,
    /// Wait for a notification with no deadline (the action is running: a timeout that
    /// passes meanwhile does not break the barrier, as in Python where the action holds
    /// the lock).
    WaitUntimed,
}

/// Where a party stands after entering.
enum Entered {
    /// It was the last to arrive: it releases the generation.
    Release(u64),
    /// It waits for the others, with this ticket.
    Wait(u64),
}

impl Shared {
    fn new(
        parties: usize,
        action: Option<Action>,
        timeout: Option<Duration>,
    ) -> Result<Self, BarrierPartiesError> {
        if parties == 0 {
            return Err(BarrierPartiesError(()));
        }
        Ok(Self {
            parties,
            timeout,
            action,
            inner: Mutex::new(Inner {
                phase: Phase::Filling,
                count: 0,
                arrivals: 0,
                reset_pending: false,
                wake: false,
                present: Vec::new(),
            }),
            signal: Signal::new(),
        })
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        // No user code runs under it (the action runs outside), so it is never poisoned.
        sync::lock(&self.inner)
    }

    /// Release the mutex, then wake the waiters if a change under it asked for that: wakes
    /// never happen under the mutex.
    fn unlock(&self, mut inner: MutexGuard<'_, Inner>) {
        let wake = std::mem::take(&mut inner.wake);
        drop(inner);
        if wake {
            self.signal.notify_all();
        }
    }

    /// Python's `_enter`: wait while draining or resetting; fail if broken; else arrive.
    fn try_enter(&self, inner: &mut Inner) -> Step<Result<Entered, BrokenBarrierError>> {
        match inner.phase {
            Phase::Releasing | Phase::Draining | Phase::Resetting => Step::WaitUntimed,
            Phase::Broken => Step::Done(Err(BrokenBarrierError(()))),
            Phase::Filling => {
                let ticket = inner.arrivals;
                inner.arrivals += 1;
                inner.count += 1;
                inner.present.push(ticket);
                if inner.count == self.parties {
                    inner.phase = Phase::Releasing;
                    Step::Done(Ok(Entered::Release(ticket)))
                } else {
                    Step::Done(Ok(Entered::Wait(ticket)))
                }
            }
        }
    }

    /// Python's `_wait`, for a party that arrived with `ticket`: done once the generation
    /// passed (its index) or the barrier broke or reset (an error); at the deadline, break it.
    fn try_finish(
        &self,
        inner: &mut Inner,
        ticket: u64,
        expired: bool,
    ) -> Step<Result<usize, BrokenBarrierError>> {
        let result = match inner.phase {
            Phase::Draining => Ok(inner.index_of(ticket)),
            Phase::Broken | Phase::Resetting => Err(BrokenBarrierError(())),
            Phase::Releasing => return Step::WaitUntimed,
            Phase::Filling if expired => {
                inner.break_barrier();
                Err(BrokenBarrierError(()))
            }
            Phase::Filling => return Step::Wait,
        };
        inner.leave();
        Step::Done(result)
    }

    /// The last party to arrive: run the action outside the mutex, then release everyone.
    fn release(&self, ticket: u64) -> Result<usize, BrokenBarrierError> {
        let outcome = match &self.action {
            Some(action) => catch_unwind(AssertUnwindSafe(action)),
            None => Ok(()),
        };
        let mut inner = self.lock();
        let result = match outcome {
            Ok(()) => {
                // An abort() while the action ran comes after it, as in Python (where the
                // action holds the lock): the others fail, this party does not.
                if inner.phase == Phase::Releasing {
                    inner.phase = Phase::Draining;
                }
                Ok(inner.index_of(ticket))
            }
            Err(_) => {
                inner.break_barrier();
                Err(())
            }
        };
        if std::mem::take(&mut inner.reset_pending) {
            Self::reset_locked(&mut inner);
        }
        inner.leave();
        inner.wake = true; // the round passed, or broke: everyone waiting must look
        self.unlock(inner);
        match (result, outcome) {
            (Ok(index), _) => Ok(index),
            (Err(()), Err(panic)) => resume_unwind(panic),
            (Err(()), Ok(())) => unreachable!("only a panicking action fails the release"),
        }
    }

    /// An async party dropped after arriving with `ticket`: it leaves. While the
    /// generation fills, it simply un-arrives and the barrier is not broken (asyncio's
    /// behaviour, CONFORMANCE A-23).
    fn abandon(&self, ticket: u64) {
        let mut inner = self.lock();
        if inner.phase == Phase::Filling {
            inner.count -= 1;
            if let Ok(at) = inner.present.binary_search(&ticket) {
                inner.present.remove(at);
            }
            if inner.count == 0 {
                inner.new_generation();
            }
        } else {
            inner.leave();
        }
        self.unlock(inner);
    }

    fn reset(&self) {
        let mut inner = self.lock();
        if inner.phase == Phase::Releasing {
            // The action is running: reset after it, as Python (whose action holds the
            // lock) would.
            inner.reset_pending = true;
            return;
        }
        Self::reset_locked(&mut inner);
        inner.wake = true;
        self.unlock(inner);
    }

    fn reset_locked(inner: &mut Inner) {
        if inner.count > 0 {
            if matches!(inner.phase, Phase::Filling | Phase::Broken) {
                inner.phase = Phase::Resetting;
            }
            // Draining: the passing generation is not touched (threading's rule,
            // CONFORMANCE BA-19; asyncio breaks it, A-25).
        } else {
            inner.new_generation();
        }
    }

    fn abort(&self) {
        let mut inner = self.lock();
        inner.break_barrier();
        self.unlock(inner);
    }

    fn n_waiting(&self) -> usize {
        let inner = self.lock();
        match inner.phase {
            Phase::Filling | Phase::Releasing => inner.count,
            _ => 0,
        }
    }

    fn broken(&self) -> bool {
        self.lock().phase == Phase::Broken
    }

    // ----- the blocking driver -----

    /// Run `step` under the mutex until it is done, parking between tries. The caller is
    /// inside [`blocking_region`], entered before the mutex was first taken.
    fn until_blocking<R>(
        &self,
        deadline: Deadline,
        mut step: impl FnMut(&mut Inner, bool) -> Step<R>,
    ) -> R {
        // Whether the last wait ended at its deadline (the core never ends one early).
        let mut expired = false;
        loop {
            let mut inner = self.lock();
            let wait_for = match step(&mut inner, expired) {
                Step::Done(r) => {
                    self.unlock(inner);
                    return r;
                }
                Step::Wait => deadline,
                Step::WaitUntimed => Deadline::Never,
            };
            // Queue first, then let go of the state: a notification after this finds us.
            let notified = park_after(&self.signal, wait_for, || self.unlock(inner));
            expired = !notified && wait_for != Deadline::Never;
        }
    }

    /// `timeout` counts from when the party enters the round, as in Python: time spent
    /// waiting for the previous round to drain does not count against it.
    fn wait_blocking(&self, timeout: Option<Duration>) -> Result<usize, BrokenBarrierError> {
        // Enter tokio's blocking region (if on a runtime) once, before taking the mutex:
        // nothing that can refuse or panic runs while this party is counted.
        blocking_region(|| {
            match self.until_blocking(Deadline::Never, |inner, _| self.try_enter(inner))? {
                Entered::Release(ticket) => self.release(ticket),
                Entered::Wait(ticket) => {
                    let deadline = timeout.map_or(Deadline::Never, Deadline::after);
                    self.until_blocking(deadline, |inner, expired| {
                        self.try_finish(inner, ticket, expired)
                    })
                }
            }
        })
    }

    // ----- the async driver -----

    async fn until_async<R>(
        &self,
        deadline: Option<tokio::time::Instant>,
        mut step: impl FnMut(&mut Inner, bool) -> Step<R> + Send,
    ) -> R {
        // Whether the last wait ended at its deadline (the core never ends one early).
        let mut expired = false;
        loop {
            let mut wait = pin!(WaitFuture::new(&self.signal, None));
            let mut timed = false;
            let mut first = true;
            let done = poll_fn(|cx| {
                if !std::mem::take(&mut first) {
                    return wait.as_mut().poll(cx).map(Err);
                }
                let mut inner = self.lock();
                match step(&mut inner, expired) {
                    Step::Done(r) => {
                        self.unlock(inner);
                        return Poll::Ready(Ok(r));
                    }
                    Step::Wait => {
                        timed = deadline.is_some();
                        wait.as_mut().set_deadline(deadline);
                    }
                    Step::WaitUntimed => {}
                }
                // Queue first (this poll links the waiter), then let go of the state.
                let polled = wait.as_mut().poll(cx);
                self.unlock(inner);
                polled.map(Err)
            })
            .await;
            match done {
                Ok(r) => return r,
                Err(notified) => expired = !notified && timed,
            }
        }
    }

    /// As [`wait_blocking`](Self::wait_blocking): `timeout` counts from entry.
    async fn wait_async(&self, timeout: Option<Duration>) -> Result<usize, BrokenBarrierError> {
        match self
            .until_async(None, |inner, _| self.try_enter(inner))
            .await?
        {
            Entered::Release(ticket) => self.release(ticket),
            Entered::Wait(ticket) => {
                let mut leave = Abandon {
                    shared: self,
                    ticket: Some(ticket),
                };
                let deadline = timeout.and_then(Deadline::after_async);
                let result = self
                    .until_async(deadline, |inner, expired| {
                        self.try_finish(inner, ticket, expired)
                    })
                    .await;
                leave.ticket = None;
                result
            }
        }
    }

    fn describe(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let inner = self.lock();
        let phase = match inner.phase {
            Phase::Filling | Phase::Releasing => "filling",
            Phase::Draining => "draining",
            Phase::Resetting => "resetting",
            Phase::Broken => "broken",
        };
        let waiting = match inner.phase {
            Phase::Filling | Phase::Releasing => inner.count,
            _ => 0,
        };
        write!(
            f,
            "<threading.Barrier {phase} waiters={waiting}/{}>",
            self.parties
        )
    }
}

/// Leaves the barrier if an async wait is dropped after arriving.
struct Abandon<'a> {
    shared: &'a Shared,
    ticket: Option<u64>,
}

impl Drop for Abandon<'_> {
    fn drop(&mut self) {
        if let Some(ticket) = self.ticket {
            self.shared.abandon(ticket);
        }
    }
}

/// A barrier for a fixed number of parties, with an async interface: Python's
/// `threading.Barrier` / `asyncio.Barrier`.
///
/// Each party calls `wait`; once `parties` have arrived, all are released together, each
/// with a distinct index in `0..parties` (in arrival order), and the barrier is ready for the
/// next round. An optional action runs in the last party to arrive, once per round, before
/// anyone is released. A wait that times out (the barrier's default timeout, or
/// `wait_timeout`), a panicking action or [`abort`](Barrier::abort) breaks the barrier:
/// every waiting party gets [`BrokenBarrierError`], and so does every later `wait` until
/// [`reset`](Barrier::reset).
///
/// Threads and tasks can be parties of one barrier at once: [`blocking()`](Barrier::blocking)
/// gives its blocking form.
///
/// A timeout counts from when the party enters the round, as in Python: time spent waiting
/// for the previous round to drain (or a reset to finish) does not count against it.
///
/// Differences from asyncio: a `reset()` while the barrier drains leaves the draining
/// parties alone (threading's rule, not asyncio's); a dropped `wait` future while the
/// barrier fills simply leaves (asyncio's rule), but a `wait_timeout` that expires breaks
/// the barrier (threading's).
///
/// # Examples
///
/// ```
/// use std::sync::Arc;
/// use threading::Barrier;
///
/// # #[tokio::main(flavor = "multi_thread", worker_threads = 2)]
/// # async fn main() {
/// let barrier = Arc::new(Barrier::new(2).unwrap());
/// // A plain thread and a task meet at the barrier.
/// let b = barrier.clone();
/// let thread = std::thread::spawn(move || b.blocking().wait().unwrap());
/// let mine = barrier.wait().await.unwrap();
/// let theirs = thread.join().unwrap();
/// assert_eq!(mine + theirs, 1); // indices 0 and 1
/// # }
/// ```
#[repr(transparent)]
pub struct Barrier {
    shared: Shared,
}

/// The blocking form of [`Barrier`](crate::Barrier): the same state, with methods that
/// block the calling thread. Needs no runtime.
///
/// # Examples
///
/// ```
/// use std::sync::Arc;
/// use threading::blocking::Barrier;
///
/// let barrier = Arc::new(Barrier::new(3).unwrap());
/// let handles: Vec<_> = (0..3)
///     .map(|_| {
///         let b = barrier.clone();
///         std::thread::spawn(move || b.wait().unwrap())
///     })
///     .collect();
/// let mut indices: Vec<usize> = handles.into_iter().map(|h| h.join().unwrap()).collect();
/// indices.sort();
/// assert_eq!(indices, [0, 1, 2]);
/// ```
#[repr(transparent)]
pub struct BlockingBarrier {
    shared: Shared,
}

two_forms!(
    Barrier,
    BlockingBarrier,
    Shared,
    "barrier",
    "Barrier::new(2).unwrap()"
);

/// Builds a [`Barrier`] (or its blocking form) with an action and a default timeout:
/// `Barrier::builder(parties).action(f).timeout(d).build()`.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use threading::Barrier;
///
/// let barrier = Barrier::builder(3)
///     .action(|| println!("all three arrived"))
///     .timeout(Duration::from_secs(5))
///     .build()
///     .unwrap();
/// assert_eq!(barrier.parties(), 3);
/// ```
#[must_use = "a builder does nothing until `build` is called"]
pub struct BarrierBuilder<B = Barrier> {
    parties: usize,
    action: Option<Action>,
    timeout: Option<Duration>,
    _form: PhantomData<fn() -> B>,
}

impl<B> BarrierBuilder<B> {
    fn new(parties: usize) -> Self {
        Self {
            parties,
            action: None,
            timeout: None,
            _form: PhantomData,
        }
    }

    /// Run `action` once per round, in the last party to arrive, before any party is
    /// released. If it panics, the barrier breaks: the other parties get
    /// [`BrokenBarrierError`] and the panic continues in the party that ran it.
    ///
    /// # Examples
    ///
    /// ```
    /// let b = threading::blocking::Barrier::builder(1).action(|| ()).build().unwrap();
    /// assert_eq!(b.wait(), Ok(0));
    /// ```
    pub fn action(mut self, action: impl Fn() + Send + Sync + 'static) -> Self {
        self.action = Some(Box::new(action));
        self
    }

    /// The timeout of every `wait` that does not give its own (Python's `timeout=`); a
    /// wait that reaches it breaks the barrier.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// let b = threading::blocking::Barrier::builder(2)
    ///     .timeout(Duration::from_millis(10))
    ///     .build()
    ///     .unwrap();
    /// assert!(b.wait().is_err()); // nobody else came
    /// assert!(b.broken());
    /// ```
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = Some(timeout);
        self
    }

    fn shared(self) -> Result<Shared, BarrierPartiesError> {
        Shared::new(self.parties, self.action, self.timeout)
    }
}

impl BarrierBuilder<Barrier> {
    /// Build the barrier.
    ///
    /// # Errors
    /// [`BarrierPartiesError`] if `parties` is 0.
    ///
    /// # Examples
    ///
    /// ```
    /// assert!(threading::Barrier::builder(0).build().is_err());
    /// ```
    pub fn build(self) -> Result<Barrier, BarrierPartiesError> {
        Ok(Barrier {
            shared: self.shared()?,
        })
    }
}

impl BarrierBuilder<BlockingBarrier> {
    /// Build the barrier.
    ///
    /// # Errors
    /// [`BarrierPartiesError`] if `parties` is 0.
    ///
    /// # Examples
    ///
    /// ```
    /// assert!(threading::blocking::Barrier::builder(2).build().is_ok());
    /// ```
    pub fn build(self) -> Result<BlockingBarrier, BarrierPartiesError> {
        Ok(BlockingBarrier {
            shared: self.shared()?,
        })
    }
}

impl<B> fmt::Debug for BarrierBuilder<B> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BarrierBuilder")
            .field("parties", &self.parties)
            .field("action", &self.action.is_some())
            .field("timeout", &self.timeout)
            .finish()
    }
}

macro_rules! barrier_common {
    ($ty:ident, $path:literal) => {
        impl $ty {
            /// A barrier for `parties` parties, with no action and no default timeout.
            ///
            /// # Errors
            /// [`BarrierPartiesError`] if `parties` is 0.
            ///
            /// # Examples
            ///
            /// ```
            #[doc = concat!("let b = ", $path, "::new(3).unwrap();")]
            /// assert_eq!(b.parties(), 3);
            #[doc = concat!("assert!(", $path, "::new(0).is_err());")]
            /// ```
            pub fn new(parties: usize) -> Result<Self, BarrierPartiesError> {
                BarrierBuilder::<Self>::new(parties).build()
            }

            /// A builder, to give the barrier an action and a default timeout.
            ///
            /// # Examples
            ///
            /// ```
            #[doc = concat!("let b = ", $path, "::builder(2).build().unwrap();")]
            /// assert_eq!(b.parties(), 2);
            /// ```
            pub fn builder(parties: usize) -> BarrierBuilder<Self> {
                BarrierBuilder::new(parties)
            }

            /// Put a broken or filling barrier back to its empty state. Parties waiting in
            /// it get [`BrokenBarrierError`]; parties of a round that already passed are not
            /// touched; newcomers wait until the waiting ones have left.
            ///
            /// # Examples
            ///
            /// ```
            #[doc = concat!("let b = ", $path, "::new(2).unwrap();")]
            /// b.abort();
            /// b.reset();
            /// assert!(!b.broken());
            /// ```
            pub fn reset(&self) {
                self.shared.reset();
            }

            /// Break the barrier: every waiting party, and every later `wait` until
            /// `reset()`, gets [`BrokenBarrierError`].
            ///
            /// # Examples
            ///
            /// ```
            #[doc = concat!("let b = ", $path, "::new(2).unwrap();")]
            /// b.abort();
            /// assert!(b.broken());
            /// ```
            pub fn abort(&self) {
                self.shared.abort();
            }

            /// The number of parties needed to pass.
            ///
            /// # Examples
            ///
            /// ```
            #[doc = concat!("assert_eq!(", $path, "::new(4).unwrap().parties(), 4);")]
            /// ```
            pub fn parties(&self) -> usize {
                self.shared.parties
            }

            /// The number of parties waiting in the round that is filling (0 while a round
            /// drains or the barrier resets).
            ///
            /// # Examples
            ///
            /// ```
            #[doc = concat!("assert_eq!(", $path, "::new(4).unwrap().n_waiting(), 0);")]
            /// ```
            pub fn n_waiting(&self) -> usize {
                self.shared.n_waiting()
            }

            /// Whether the barrier is broken.
            ///
            /// # Examples
            ///
            /// ```
            #[doc = concat!("assert!(!", $path, "::new(4).unwrap().broken());")]
            /// ```
            pub fn broken(&self) -> bool {
                self.shared.broken()
            }
        }

        impl fmt::Debug for $ty {
            /// Python's repr: `<threading.Barrier filling waiters=2/3>`, or `broken`,
            /// `draining`, `resetting`.
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.shared.describe(f)
            }
        }
    };
}

barrier_common!(Barrier, "threading::Barrier");
barrier_common!(BlockingBarrier, "threading::blocking::Barrier");

impl Barrier {
    /// Wait until all parties have arrived, with the barrier's default timeout (if any);
    /// returns this party's index, distinct within the round, `parties - 1` for the last
    /// to arrive.
    ///
    /// # Errors
    /// [`BrokenBarrierError`] if the barrier is or becomes broken, is reset while this
    /// party waits, or the default timeout passes (which breaks it).
    ///
    /// # Cancel safety
    /// A dropped `wait` future while the round fills leaves the barrier, which is not
    /// broken: the round waits for another party (asyncio's rule). Dropped after the round
    /// passed, it just leaves.
    ///
    /// # Panics
    /// If the action panics in this party (the barrier is broken first, and the panic
    /// continues here). If it has to wait for other parties with a timeout (here the
    /// barrier's default) outside a tokio runtime or on one built without the time driver
    /// (`enable_time`): the timeout runs on tokio's timer, which panics there. Without a
    /// timeout it needs no timer.
    ///
    /// # Examples
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// let barrier = threading::Barrier::new(1).unwrap();
    /// assert_eq!(barrier.wait().await, Ok(0));
    /// # }
    /// ```
    pub fn wait(&self) -> impl Future<Output = Result<usize, BrokenBarrierError>> + Send + '_ {
        self.shared.wait_async(self.shared.timeout)
    }

    /// [`wait`](Self::wait) with a timeout of its own, overriding the default: if it
    /// passes (never early) before all parties arrive, the barrier breaks.
    ///
    /// # Errors
    /// As [`wait`](Self::wait).
    ///
    /// # Cancel safety
    /// As [`wait`](Self::wait).
    ///
    /// # Panics
    /// As [`wait`](Self::wait), with this call's timeout.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// let barrier = threading::Barrier::new(2).unwrap();
    /// assert!(barrier.wait_timeout(Duration::from_millis(10)).await.is_err());
    /// assert!(barrier.broken());
    /// # }
    /// ```
    pub fn wait_timeout(
        &self,
        timeout: Duration,
    ) -> impl Future<Output = Result<usize, BrokenBarrierError>> + Send + '_ {
        self.shared.wait_async(Some(timeout))
    }
}

impl BlockingBarrier {
    /// Block until all parties have arrived, with the barrier's default timeout (if any);
    /// returns this party's index, distinct within the round.
    ///
    /// # Errors
    /// As [`Barrier::wait`](crate::Barrier::wait).
    ///
    /// # Runtime threads
    /// On a tokio multi-thread runtime the whole call (the action too, if this party runs
    /// it) runs inside `block_in_place`; on a current-thread runtime it parks the thread,
    /// and if other parties are tasks of that same runtime this deadlocks: use the async
    /// form there.
    ///
    /// # Panics
    /// If the action panics in this party (the barrier is broken first, and the panic
    /// continues here). Where tokio refuses `block_in_place` (inside a `LocalSet` driven by
    /// a multi-thread runtime), with tokio's message, even if it need not wait (the last
    /// party, or a broken barrier): it enters `block_in_place` before it looks at the
    /// barrier, so a refusal leaves the barrier untouched.
    ///
    /// # Examples
    ///
    /// ```
    /// let barrier = threading::blocking::Barrier::new(1).unwrap();
    /// assert_eq!(barrier.wait(), Ok(0));
    /// ```
    pub fn wait(&self) -> Result<usize, BrokenBarrierError> {
        self.shared.wait_blocking(self.shared.timeout)
    }

    /// [`wait`](Self::wait) with a timeout of its own, overriding the default: if it passes
    /// (never early) before all parties arrive, the barrier breaks.
    ///
    /// # Errors
    /// As [`Barrier::wait`](crate::Barrier::wait).
    ///
    /// # Runtime threads
    /// As [`wait`](Self::wait).
    ///
    /// # Panics
    /// As [`wait`](Self::wait).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// let barrier = threading::blocking::Barrier::new(2).unwrap();
    /// assert!(barrier.wait_timeout(Duration::from_millis(10)).is_err());
    /// assert!(barrier.broken());
    /// ```
    pub fn wait_timeout(&self, timeout: Duration) -> Result<usize, BrokenBarrierError> {
        self.shared.wait_blocking(Some(timeout))
    }
}
