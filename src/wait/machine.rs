//! One wait, written once: try, enqueue, re-check, finish or cancel. The blocking driver
//! ([`block`]) parks the thread between steps; the async driver ([`WaitFuture`]) returns
//! `Pending` between them. Both call the same [`Waiter`] methods.

use std::cell::Cell;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll, Waker};

use super::deadline::Deadline;
use super::queue::{List, Queue};
use super::sync::thread;
use super::waiter::{Node, Target, GRANTED, WAITING, WOKEN};

/// What a primitive tells the core about one kind of wait.
///
/// The protocol: a waiter calls [`Source::try_fast`] (no lock); if that fails it takes the
/// queue lock and calls [`Source::try_locked`], which either takes the grant or records,
/// in the primitive's state word, that the queue is not empty; then it links its node. A
/// releaser that sees that record takes the queue lock and moves grants to nodes with
/// [`List::pop_front`].
pub(crate) trait Source {
    /// The queue this wait links into.
    fn queue(&self) -> &Queue;
    /// Take the grant without the queue lock, if it is free to take.
    fn try_fast(&self) -> bool;
    /// Under the queue lock: take the grant, or mark the state word "queued" so that the
    /// next releaser comes to the queue. Returns whether the grant was taken.
    fn try_locked(&self, list: &List) -> bool;
    /// Under the queue lock, after a node left without a grant: clear the "queued" mark if
    /// the list is now empty.
    fn after_unlink(&self, list: &List);
    /// A node that was granted is being dropped unused: give the grant back through the
    /// normal release path (which may hand it to the next waiter).
    fn give_back(&self);
    /// The waiter of a granted node has taken its grant (seen `GRANTED`): a grant in flight
    /// (counted against a bound) is now held. Called with no lock held.
    fn took_grant(&self) {}
    /// A node that was woken without a grant gives up: wake another waiter in its place if
    /// the grant is still there to take.
    fn pass_on(&self);
    /// Whether a blocking waiter should spin briefly on [`try_fast`](Self::try_fast) before
    /// it queues and parks: worth it where the grant is usually back within microseconds
    /// (a lock or permit held for a short critical section), not for notifications.
    fn spins(&self) -> bool {
        false
    }
    /// Whether a newcomer may take the grant ahead of queued waiters (default-policy
    /// permits). Such waiters are stamped with the time they first queued (a clock read),
    /// for eventual fairness, and a task spins briefly before it queues. Fair instances
    /// hand off in FIFO order, so neither helps them.
    fn barging(&self) -> bool {
        false
    }
}

/// A task's short spin before it takes the queue lock: a few rounds of busy-waiting, no
/// yields (a task must not block its worker). Under contention between workers the holder
/// usually lets go within this window, which saves the queue lock and a wake-up.
#[cfg(not(loom))]
fn spin_short<S: Source>(src: &S) -> bool {
    for round in 0..3u32 {
        for _ in 0..(4 << round) {
            std::hint::spin_loop();
        }
        if src.try_fast() {
            return true;
        }
    }
    false
}

#[cfg(loom)]
fn spin_short<S: Source>(_src: &S) -> bool {
    false
}

/// Spin briefly, as parking_lot's `SpinWait`: a few rounds of exponential busy-waiting, then
/// a few yields. Returns whether `try_fast` succeeded. Parking costs a futex wait and a
/// wake-up (microseconds); a short critical section ends sooner than that.
#[cfg(not(loom))]
fn spin<S: Source>(src: &S) -> bool {
    for round in 0..10u32 {
        if round < 3 {
            for _ in 0..(4 << round) {
                std::hint::spin_loop();
            }
        } else {
            std::thread::yield_now();
        }
        if src.try_fast() {
            return true;
        }
    }
    false
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum State {
    /// Not linked; nothing taken yet.
    Idle,
    /// Linked, or unlinked by a waker that set the node's status.
    Linked,
    /// Woken without a grant, lost the race: retry, then queue again at the front.
    Requeue,
    /// The grant is ours (and now the caller's).
    Done,
}

/// One waiting call: its node and where it stands. Pinned while it may be linked; its
/// `Drop` is the cancellation path (unlink, or give back / pass on what it was handed).
pub(crate) struct Waiter<'a, S: Source> {
    src: &'a S,
    node: Node,
    state: Cell<State>,
}

impl<'a, S: Source> Waiter<'a, S> {
    pub(crate) fn new(src: &'a S) -> Self {
        Self {
            src,
            node: Node::new(),
            state: Cell::new(State::Idle),
        }
    }

    fn node(self: Pin<&Self>) -> Pin<&Node> {
        // SAFETY: structural pinning: `node` is never moved out of a pinned `Waiter`.
        unsafe { self.map_unchecked(|w| &w.node) }
    }

    /// A linked task polled again: make sure a wake-up reaches `waker`. Returns false if
    /// the node was granted or woken meanwhile (the caller looks at its status again).
    ///
    /// The usual case, the same waker as before, takes the lock once and runs no executor
    /// code. A new waker is cloned with no lock held, swapped in under the lock, and the old
    /// one dropped after it: a waker's `clone` and `drop` may touch this very primitive.
    fn retarget(&self, waker: &Waker) -> bool {
        let list = self.src.queue().lock();
        if self.node.status() != WAITING {
            return false;
        }
        // SAFETY: status WAITING under the lock: linked in this queue.
        if unsafe { list.wakes(&self.node, waker) } {
            return true;
        }
        drop(list);
        let new = Target::Task(waker.clone());
        let mut list = self.src.queue().lock();
        if self.node.status() != WAITING {
            drop(list);
            drop(new);
            return false;
        }
        // SAFETY: as above, checked again under this lock.
        let old = unsafe { list.retarget(&self.node, new) };
        drop(list);
        drop(old);
        true
    }

    /// Advance the wait. `waker` is the task's waker, or `None` for a parked thread.
    /// Returns true once the grant is ours.
    pub(crate) fn step(self: Pin<&Self>, waker: Option<&Waker>) -> bool {
        loop {
            match self.state.get() {
                State::Done => return true,
                s @ (State::Idle | State::Requeue) => {
                    if self.src.try_fast()
                        || (waker.is_some() && self.src.barging() && spin_short(self.src))
                    {
                        self.state.set(State::Done);
                        return true;
                    }
                    // Cloning a waker runs the executor's code, which may touch this very
                    // primitive: never under the queue lock. If the grant is taken under the
                    // lock after all, the clone is dropped after it.
                    let target = match waker {
                        Some(w) => Target::Task(w.clone()),
                        None => Target::Thread(thread::current()),
                    };
                    let mut list = self.src.queue().lock();
                    if self.src.try_locked(&list) {
                        drop(list);
                        drop(target);
                        self.state.set(State::Done);
                        return true;
                    }
                    // SAFETY: the node is pinned inside this pinned waiter and not linked
                    // (state Idle/Requeue); `Drop` unlinks it before it goes away.
                    unsafe {
                        list.link(self.node(), target, s == State::Requeue, self.src.barging())
                    };
                    self.state.set(State::Linked);
                    return false;
                }
                State::Linked => match self.node.status() {
                    GRANTED => {
                        self.src.took_grant();
                        self.state.set(State::Done);
                        return true;
                    }
                    WOKEN => self.state.set(State::Requeue),
                    _ => {
                        let Some(waker) = waker else { return false };
                        if self.retarget(waker) {
                            return false;
                        }
                        // Granted or woken meanwhile: go round again.
                    }
                },
            }
        }
    }

    /// The deadline has passed: take the grant if it was handed over or is free to take,
    /// else leave the queue. Returns whether the grant is ours.
    pub(crate) fn expire(self: Pin<&Self>) -> bool {
        if self.state.get() == State::Linked {
            let mut list = self.src.queue().lock();
            match self.node.status() {
                GRANTED => {
                    drop(list);
                    self.src.took_grant();
                    self.state.set(State::Done);
                    return true;
                }
                WOKEN => self.state.set(State::Requeue),
                _ => {
                    // SAFETY: linked in this queue or in none (status says which).
                    let target = unsafe { list.unlink(&self.node) };
                    self.src.after_unlink(&list);
                    self.state.set(State::Idle);
                    // The waker is dropped after the lock (its drop is executor code).
                    drop(list);
                    drop(target);
                }
            }
        }
        match self.state.get() {
            State::Done => true,
            _ => {
                // One last try. If it fails, whoever holds the grant will release it and
                // wake the queue, so a woken waiter giving up here strands nothing.
                let ok = self.src.try_fast();
                self.state.set(if ok { State::Done } else { State::Idle });
                ok
            }
        }
    }
}

impl<S: Source> Drop for Waiter<'_, S> {
    fn drop(&mut self) {
        match self.state.get() {
            State::Linked => {
                let mut list = self.src.queue().lock();
                match self.node.status() {
                    GRANTED => {
                        drop(list);
                        self.src.give_back();
                    }
                    WOKEN => {
                        drop(list);
                        self.src.pass_on();
                    }
                    _ => {
                        // SAFETY: linked in this queue or in none (status says which).
                        let target = unsafe { list.unlink(&self.node) };
                        self.src.after_unlink(&list);
                        drop(list);
                        drop(target);
                    }
                }
            }
            State::Requeue => self.src.pass_on(),
            State::Idle | State::Done => {}
        }
    }
}

/// Wait on a plain thread until the grant is ours (true) or `deadline` passes (false).
/// The caller has already tried the fast path.
///
/// On a tokio multi-thread runtime the wait runs inside `block_in_place`, so the worker's
/// other tasks (perhaps the one that will release) move to another worker. On a
/// current-thread runtime, where `block_in_place` panics and whose `spawn_blocking`
/// threads cannot be told from its own thread, it parks as std's locks do.
#[cold]
pub(crate) fn block<S: Source>(src: &S, deadline: Deadline) -> bool {
    block_after(src, deadline, || {})
}

/// Every blocking `*_timeout` method: take the grant if it is free; a zero timeout is only
/// that try; otherwise wait until the deadline, fixed here. Returns whether it was taken.
pub(crate) fn block_timeout<S: Source>(src: &S, timeout: std::time::Duration) -> bool {
    src.try_fast() || (!timeout.is_zero() && block(src, Deadline::after(timeout)))
}

/// Every async `*_timeout` method: as [`block_timeout`], as a future. The deadline is fixed
/// when this function is called (when the method is called, not when it is first polled).
pub(crate) fn wait_timeout<S: Source + Sync>(
    src: &S,
    timeout: std::time::Duration,
) -> impl Future<Output = bool> + Send + '_ {
    let deadline = Deadline::after_async(timeout);
    async move { src.try_fast() || (!timeout.is_zero() && WaitFuture::new(src, deadline).await) }
}

/// As [`block`], and run `linked` once, as soon as the wait has queued (or succeeded):
/// `Condition` lets go of its lock there, so that a notification sent after that point
/// finds the waiter in the queue.
pub(crate) fn block_after<S: Source>(src: &S, deadline: Deadline, linked: impl FnOnce()) -> bool {
    #[cfg(not(loom))]
    if src.spins() && spin(src) {
        linked();
        return true;
    }
    blocking_region(|| park_until(src, deadline, linked))
}

/// Run `f`, which may park this thread, where a tokio runtime allows it: inside
/// `block_in_place` on a multi-thread runtime (so the worker's other tasks move on), as is
/// elsewhere. A caller that parks several times (`Barrier`) enters the region once, before
/// it takes any lock of its own, and parks inside with [`park_after`].
pub(crate) fn blocking_region<R>(f: impl FnOnce() -> R) -> R {
    #[cfg(not(loom))]
    if let Ok(handle) = tokio::runtime::Handle::try_current() {
        if handle.runtime_flavor() != tokio::runtime::RuntimeFlavor::CurrentThread {
            return tokio::task::block_in_place(f);
        }
    }
    f()
}

/// As [`block_after`], for a caller already inside [`blocking_region`].
pub(crate) fn park_after<S: Source>(src: &S, deadline: Deadline, linked: impl FnOnce()) -> bool {
    park_until(src, deadline, linked)
}

fn park_until<S: Source>(src: &S, deadline: Deadline, linked: impl FnOnce()) -> bool {
    let waiter = std::pin::pin!(Waiter::new(src));
    let waiter = waiter.into_ref();
    let mut linked = Some(linked);
    loop {
        let done = waiter.step(None);
        if let Some(f) = linked.take() {
            f();
        }
        if done {
            return true;
        }
        match deadline {
            Deadline::Never => thread::park(),
            #[cfg(not(loom))]
            Deadline::At(at) => {
                let now = std::time::Instant::now();
                if now >= at {
                    return waiter.expire();
                }
                // Spurious and early unparks are normal: the loop re-checks.
                thread::park_timeout(at - now);
            }
            // Loom has no clock: a timed wait expires as soon as it has queued, and loom
            // explores every order of that expiry against the releasers.
            #[cfg(loom)]
            Deadline::At(_) => return waiter.expire(),
        }
    }
}

pin_project_lite::pin_project! {
    /// The async driver: a [`Waiter`] polled with the task's waker, plus an optional
    /// deadline on tokio's timer. Resolves to whether the grant is ours. Allocates nothing.
    pub(crate) struct WaitFuture<'a, S: Source> {
        #[pin]
        waiter: Waiter<'a, S>,
        #[pin]
        timer: Timer,
        deadline: Option<tokio::time::Instant>,
    }
}

impl<'a, S: Source> WaitFuture<'a, S> {
    /// A wait with no deadline (`None`) or one fixed by the caller.
    pub(crate) fn new(src: &'a S, deadline: Option<tokio::time::Instant>) -> Self {
        Self {
            waiter: Waiter::new(src),
            timer: Timer::new(),
            deadline,
        }
    }
}

impl<S: Source> WaitFuture<'_, S> {
    /// Change the deadline before the wait is first polled (a waiter that decides what to
    /// wait for under its own lock, as `Barrier` does).
    pub(crate) fn set_deadline(self: Pin<&mut Self>, deadline: Option<tokio::time::Instant>) {
        *self.project().deadline = deadline;
    }
}

impl<S: Source> Future for WaitFuture<'_, S> {
    type Output = bool;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<bool> {
        let this = self.project();
        let waiter = this.waiter.into_ref();
        if waiter.step(Some(cx.waker())) {
            return Poll::Ready(true);
        }
        match *this.deadline {
            None => Poll::Pending,
            Some(at) => match this.timer.poll_until(at, cx) {
                Poll::Ready(()) => Poll::Ready(waiter.expire()),
                Poll::Pending => Poll::Pending,
            },
        }
    }
}

#[cfg(not(loom))]
pin_project_lite::pin_project! {
    /// tokio's timer, armed only once a wait has queued (a wait that succeeds at once never
    /// touches the timer). Re-armed in steps of at most a year, since tokio's wheel caps
    /// a single sleep; a step that fires early never ends the wait early.
    #[project = TimerProj]
    enum Timer {
        Idle,
        Armed { #[pin] sleep: tokio::time::Sleep },
    }
}

#[cfg(not(loom))]
impl Timer {
    const MAX_STEP: std::time::Duration = std::time::Duration::from_secs(365 * 24 * 3600);

    fn new() -> Self {
        Timer::Idle
    }

    fn poll_until(
        mut self: Pin<&mut Self>,
        at: tokio::time::Instant,
        cx: &mut Context<'_>,
    ) -> Poll<()> {
        loop {
            let now = tokio::time::Instant::now();
            if now >= at {
                return Poll::Ready(());
            }
            let step = now.checked_add(Self::MAX_STEP).map_or(at, |s| s.min(at));
            match self.as_mut().project() {
                TimerProj::Idle => self.set(Timer::Armed {
                    sleep: tokio::time::sleep_until(step),
                }),
                TimerProj::Armed { mut sleep } => {
                    if sleep.as_mut().poll(cx).is_pending() {
                        return Poll::Pending;
                    }
                    sleep.reset(step);
                }
            }
        }
    }
}

/// Under loom there is no timer: a timed async wait expires as soon as it has queued.
#[cfg(loom)]
struct Timer;

#[cfg(loom)]
impl Timer {
    fn new() -> Self {
        Timer
    }

    fn poll_until(
        self: Pin<&mut Self>,
        _at: tokio::time::Instant,
        _: &mut Context<'_>,
    ) -> Poll<()> {
        Poll::Ready(())
    }
}
