//! Model tests: random sequences of operations on each primitive, checked step by step
//! against a plain model of Python's semantics (proptest shrinks a failure to a minimal
//! sequence).
//!
//! - Single-threaded models of Semaphore, BoundedSemaphore, Lock, RLock and Event.
//! - A Condition model: waiters of both worlds (plain threads, tasks) and `notify(n)` /
//!   `notify_all` from either world: exactly min(n, waiting) are woken, first come first.
//! - A Barrier model: parties of both worlds arriving (untimed, timed, zero-timed, or an
//!   async wait dropped after one poll), `reset` and `abort`: the broken state, `n_waiting`,
//!   the indices and the action runs.
//! - Multi-actor models: one plain thread (blocking form) and two tasks (async form) take
//!   turns on one Lock, RLock, (Bounded)Semaphore or Event; each step is one actor's
//!   operation, and the sequential model is checked at the quiescent point after it (every
//!   answer read, every blocked actor seen queued). An operation that must wait leaves its
//!   actor blocked until a later step of another actor (or world) satisfies it.

mod common;
use common::{join_task, join_thread, poll_once, queued, queued_digits, wait_until, LATE};

use std::collections::{BTreeSet, VecDeque};
use std::fmt;
use std::future::Future;
use std::pin::pin;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering::SeqCst};
use std::sync::{mpsc, Arc, Mutex, OnceLock};
use std::task::Poll;
use std::time::{Duration, Instant};

use futures::future::BoxFuture;
use proptest::prelude::*;
use proptest::test_runner::Config as ProptestConfig;
use tokio::runtime::Runtime;
use tokio::sync::mpsc::{unbounded_channel, UnboundedReceiver, UnboundedSender};

use threading::blocking::{BoundedSemaphore, Event, Lock, RLock, Semaphore};
use threading::{RLockReleaseError, ReleaseUnlockedError, SemaphoreGuard, SemaphoreReleaseError};

#[derive(Clone, Debug)]
enum SemOp {
    TryAcquire,
    /// Give back the guard held at this index (modulo the number held), if any.
    DropGuard(usize),
    /// Forget the guard held at this index, if any.
    Forget(usize),
    Release(usize),
}

fn sem_ops() -> impl Strategy<Value = Vec<SemOp>> {
    prop::collection::vec(
        prop_oneof![
            Just(SemOp::TryAcquire),
            any::<usize>().prop_map(SemOp::DropGuard),
            any::<usize>().prop_map(SemOp::Forget),
            (0usize..4).prop_map(SemOp::Release),
        ],
        0..64,
    )
}

/// Run `ops` on a (bounded or not) semaphore and on the model: `value` counts free permits;
/// a bounded one refuses a release past `initial` and then changes nothing (BS-3, SB-14).
fn check_semaphore(initial: usize, bounded: bool, fair: bool, ops: Vec<SemOp>) {
    enum Sem {
        Plain(Semaphore),
        Bounded(BoundedSemaphore),
    }
    let sem = match (bounded, fair) {
        (false, false) => Sem::Plain(Semaphore::new(initial)),
        (false, true) => Sem::Plain(Semaphore::new_fair(initial)),
        (true, false) => Sem::Bounded(BoundedSemaphore::new(initial)),
        (true, true) => Sem::Bounded(BoundedSemaphore::new_fair(initial)),
    };
    let mut value = initial;
    let mut held = Vec::new();
    for op in ops {
        match op {
            SemOp::TryAcquire => {
                let got = match &sem {
                    Sem::Plain(s) => s.try_acquire(),
                    Sem::Bounded(s) => s.try_acquire(),
                };
                assert_eq!(got.is_some(), value > 0, "try_acquire at value {value}");
                if let Some(g) = got {
                    value -= 1;
                    held.push(g);
                }
            }
            SemOp::DropGuard(i) if !held.is_empty() => {
                drop(held.swap_remove(i % held.len()));
                // A guard's release that would pass the bound is dropped (documented).
                if !bounded || value < initial {
                    value += 1;
                }
            }
            SemOp::Forget(i) if !held.is_empty() => held.swap_remove(i % held.len()).forget(),
            SemOp::DropGuard(_) | SemOp::Forget(_) => {}
            SemOp::Release(n) => {
                let got = match &sem {
                    Sem::Plain(s) => s.release(n),
                    Sem::Bounded(s) => s.release(n),
                };
                let expected = if n == 0 {
                    Err(SemaphoreReleaseError::ZeroPermits)
                } else if bounded && value + n > initial {
                    Err(SemaphoreReleaseError::AboveInitial { value, initial, n })
                } else {
                    Ok(())
                };
                assert_eq!(got, expected, "release({n}) at value {value}");
                if got.is_ok() {
                    value += n;
                }
            }
        }
        let actual = match &sem {
            Sem::Plain(s) => s.value(),
            Sem::Bounded(s) => s.value(),
        };
        assert_eq!(actual, value);
    }
}

proptest! {
    // conformance: SB-4, SB-8, SB-14, S-1
    #[test]
    fn semaphore_matches_the_model(initial in 0usize..4, fair: bool, ops in sem_ops()) {
        check_semaphore(initial, false, fair, ops);
    }

    // conformance: BS-1, BS-3
    #[test]
    fn bounded_semaphore_matches_the_model(initial in 0usize..4, fair: bool, ops in sem_ops()) {
        check_semaphore(initial, true, fair, ops);
    }

    // conformance: L-3, L-5, LR-6
    #[test]
    fn lock_matches_the_model(fair: bool, ops in prop::collection::vec(0u8..3, 0..64)) {
        let lock = if fair { Lock::new_fair() } else { Lock::new() };
        let mut locked = false;
        let mut guard = None;
        for op in ops {
            match op {
                0 => {
                    let g = lock.try_acquire();
                    prop_assert_eq!(g.is_some(), !locked);
                    if g.is_some() {
                        locked = true;
                        guard = g;
                    }
                }
                1 => {
                    // A bare release: an error on an unlocked lock, and it changes nothing.
                    prop_assert_eq!(lock.release().is_ok(), locked);
                    if let Some(g) = guard.take() {
                        g.forget(); // its level was just released by hand
                    }
                    locked = false;
                }
                _ => {
                    if guard.take().is_some() {
                        locked = false;
                    }
                }
            }
            prop_assert_eq!(lock.locked(), locked);
        }
    }

    // conformance
    #[test]
    fn rlock_matches_the_model(ops in prop::collection::vec(0u8..3, 0..64)) {
        let lock = RLock::new();
        let mut guards = Vec::new();
        let mut forgotten = 0usize;
        for op in ops {
            let depth = guards.len() + forgotten;
            match op {
                0 => guards.push(lock.try_acquire().expect("the owner re-enters")),
                1 => {
                    // A bare release: one level, or an error on an unlocked lock.
                    let r = lock.release();
                    prop_assert_eq!(r.is_ok(), depth > 0);
                    if r.is_ok() {
                        if forgotten > 0 {
                            forgotten -= 1;
                        } else {
                            guards.pop().expect("a level").forget();
                        }
                    }
                }
                _ => {
                    if let Some(g) = guards.pop() {
                        g.forget();
                        forgotten += 1;
                    }
                }
            }
            let depth = guards.len() + forgotten;
            prop_assert_eq!(lock.recursion_count(), depth);
            prop_assert_eq!(lock.locked(), depth > 0);
        }
        drop(guards);
        for _ in 0..forgotten {
            lock.release().unwrap();
        }
        prop_assert!(!lock.locked());
    }

    // conformance: E-1, E-3, E-6
    #[test]
    fn event_matches_the_model(ops in prop::collection::vec(0u8..3, 0..64)) {
        let event = Event::new();
        let mut set = false;
        for op in ops {
            match op {
                0 => { event.set(); set = true; }
                1 => { event.clear(); set = false; }
                _ => prop_assert_eq!(event.wait_timeout(std::time::Duration::ZERO), set),
            }
            prop_assert_eq!(event.is_set(), set);
        }
    }
}

// =======================================================================================
// Shared by the models below: one runtime, proptest settings, and the actors.

/// One two-worker runtime for every task of this file.
fn rt() -> &'static Runtime {
    static RT: OnceLock<Runtime> = OnceLock::new();
    RT.get_or_init(common::mt_runtime)
}

/// Bounded cases, no regression files, and a failure that shrinks in bounded time (a
/// failing step may wait up to `LATE` for an answer).
fn config(cases: u32) -> ProptestConfig {
    ProptestConfig {
        cases,
        max_shrink_time: 60_000,
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

/// The timeout of a timed operation that is meant to run out.
const TIMED: Duration = Duration::from_millis(5);

/// What an actor answers.
#[derive(Debug, PartialEq)]
enum Ans<E> {
    /// Whether an acquire (or a read of a flag) got it.
    Got(bool),
    /// A timed operation failed before its timeout.
    Early,
    /// A guard was dropped or forgotten; a flag was set or cleared.
    Done,
    /// An event wait returned.
    Woke,
    /// A bare `release`.
    Released(Result<(), E>),
    /// An async acquire or wait was polled once and is kept, pending.
    Parked,
}

/// An actor's way back to the test.
struct Reply<O> {
    id: usize,
    tx: mpsc::Sender<(usize, O)>,
}

impl<O> Reply<O> {
    fn send(&self, o: O) {
        let _ = self.tx.send((self.id, o));
    }
}

enum Inbox<C> {
    Thread(mpsc::Sender<C>),
    Task(UnboundedSender<C>),
}

/// Actor 0 is a plain thread, actors 1 and 2 are tasks; each runs commands one at a time
/// and answers each (a command that must wait answers once it is satisfied).
struct Actors<C, O> {
    inboxes: Vec<Inbox<C>>,
    replies: mpsc::Receiver<(usize, O)>,
    /// Answers read while looking for another actor's.
    stash: VecDeque<(usize, O)>,
    thread: Option<std::thread::JoinHandle<()>>,
    tasks: Vec<tokio::task::JoinHandle<()>>,
}

const ACTORS: usize = 3;

impl<C: Send + 'static, O: Send + fmt::Debug + 'static> Actors<C, O> {
    fn spawn<Fut>(
        thread_actor: impl FnOnce(mpsc::Receiver<C>, Reply<O>) + Send + 'static,
        task_actor: impl Fn(UnboundedReceiver<C>, Reply<O>) -> Fut,
    ) -> Self
    where
        Fut: Future<Output = ()> + Send + 'static,
    {
        let (tx, replies) = mpsc::channel();
        let (thread_tx, thread_rx) = mpsc::channel();
        let reply = Reply {
            id: 0,
            tx: tx.clone(),
        };
        let thread = std::thread::spawn(move || thread_actor(thread_rx, reply));
        let mut inboxes = vec![Inbox::Thread(thread_tx)];
        let mut tasks = Vec::new();
        for id in 1..ACTORS {
            let (task_tx, task_rx) = unbounded_channel();
            let reply = Reply { id, tx: tx.clone() };
            tasks.push(rt().spawn(task_actor(task_rx, reply)));
            inboxes.push(Inbox::Task(task_tx));
        }
        Self {
            inboxes,
            replies,
            stash: VecDeque::new(),
            thread: Some(thread),
            tasks,
        }
    }

    fn send(&self, actor: usize, cmd: C) {
        let sent = match &self.inboxes[actor] {
            Inbox::Thread(tx) => tx.send(cmd).is_ok(),
            Inbox::Task(tx) => tx.send(cmd).is_ok(),
        };
        assert!(sent, "actor {actor} has died");
    }

    fn recv(&self) -> (usize, O) {
        self.replies
            .recv_timeout(LATE)
            .unwrap_or_else(|_| panic!("no answer within {LATE:?}"))
    }

    /// The next answer of `actor`, keeping the others' for later.
    fn answer_of(&mut self, actor: usize) -> O {
        if let Some(i) = self.stash.iter().position(|(a, _)| *a == actor) {
            return self.stash.remove(i).unwrap().1;
        }
        loop {
            let (a, o) = self.recv();
            if a == actor {
                return o;
            }
            self.stash.push_back((a, o));
        }
    }

    /// Any actor's next answer.
    fn next_answer(&mut self) -> (usize, O) {
        self.stash.pop_front().unwrap_or_else(|| self.recv())
    }

    /// Send `cmd` to `actor` and wait for its answer.
    fn ask(&mut self, actor: usize, cmd: C) -> O {
        self.send(actor, cmd);
        self.answer_of(actor)
    }

    /// A quiescent point: no answer left unread.
    #[track_caller]
    fn assert_quiet(&mut self) {
        assert!(
            self.stash.is_empty(),
            "unexpected answers: {:?}",
            self.stash
        );
        if let Ok(extra) = self.replies.try_recv() {
            panic!("unexpected answer: {extra:?}");
        }
    }

    /// Close the inboxes; every actor drops what it holds and ends.
    fn finish(mut self) {
        self.inboxes.clear();
        join_thread(self.thread.take().unwrap());
        for t in std::mem::take(&mut self.tasks) {
            rt().block_on(join_task(t));
        }
    }
}

/// Keep a guard that was got; answer whether it was.
fn keep<G, E>(held: &mut Vec<G>, got: Option<G>) -> Ans<E> {
    let ok = got.is_some();
    held.extend(got);
    Ans::Got(ok)
}

/// As `keep`, for a timed acquire started at `start`: a failure before `TIMED` is `Early`.
fn keep_timed<G, E>(held: &mut Vec<G>, start: Instant, got: Option<G>) -> Ans<E> {
    if got.is_none() && start.elapsed() < TIMED {
        return Ans::Early;
    }
    keep(held, got)
}

/// Poll `fut` once and drop it: its output if it was ready (an async acquire cancelled
/// after one poll, e.g. by a `select!` whose other branch won).
fn poll_and_drop<F: Future>(fut: F) -> Option<F::Output> {
    match poll_once(pin!(fut)) {
        Poll::Ready(v) => Some(v),
        Poll::Pending => None,
    }
}

/// The step's operation, as drawn.
#[derive(Clone, Copy, Debug)]
enum Op {
    Acquire,
    Try,
    Timed,
    /// Drop a guard (if the actor holds one); a bare `release()` otherwise.
    Release,
    /// Poll an async acquire once, then drop it (a plain thread does a `Try`).
    Cancel,
    /// Poll an async acquire once and keep it, pending, in the queue; the actor's next
    /// steps poll it again (`Acquire`, `Try`, `Timed`) or drop it (`Release`, `Cancel`),
    /// passing on what it was handed meanwhile. Fair instances only, where who
    /// is handed what is determined; elsewhere a `Cancel`.
    Park,
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        3 => Just(Op::Acquire),
        1 => Just(Op::Try),
        1 => Just(Op::Timed),
        3 => Just(Op::Release),
        1 => Just(Op::Cancel),
        2 => Just(Op::Park),
    ]
}

/// Steps: which actor does what.
fn steps<T: fmt::Debug>(op: impl Strategy<Value = T>) -> impl Strategy<Value = Vec<(usize, T)>> {
    prop::collection::vec((0..ACTORS, op), 0..32)
}

/// A blocked acquirer was served: the next answer is one of `queue` getting it (the front
/// one on a fair instance; any on a default one, which promises no order, L-6); it leaves
/// the queue.
#[track_caller]
fn served<C, E>(actors: &mut Actors<C, Ans<E>>, queue: &mut VecDeque<usize>, fair: bool) -> usize
where
    C: Send + 'static,
    E: Send + fmt::Debug + PartialEq + 'static,
{
    let (b, ans) = actors.next_answer();
    assert_eq!(ans, Ans::Got(true), "actor {b}");
    if fair {
        assert_eq!(queue.front(), Some(&b), "not first come, first served");
    }
    let at = queue
        .iter()
        .position(|&q| q == b)
        .unwrap_or_else(|| panic!("actor {b} was not waiting"));
    queue.remove(at);
    b
}

// =======================================================================================
// Multi-actor Lock.

#[derive(Debug)]
enum LockCmd {
    Acquire,
    Try,
    Timed,
    Cancel,
    Park,
    /// Poll the parked acquire again.
    Poll,
    /// Drop the parked acquire.
    Unpark,
    /// Drop the guard.
    Drop,
    /// Forget the guard (someone else will release the lock, L-2).
    Forget,
    /// A bare `release()`.
    Release,
}

type LockAns = Ans<ReleaseUnlockedError>;

fn lock_thread_actor(
    lock: Arc<threading::Lock>,
) -> impl FnOnce(mpsc::Receiver<LockCmd>, Reply<LockAns>) + Send + 'static {
    move |inbox, reply| {
        let lock = lock.blocking();
        let mut held = Vec::new();
        for cmd in inbox.iter() {
            reply.send(match cmd {
                LockCmd::Acquire => keep(&mut held, Some(lock.acquire())),
                LockCmd::Try | LockCmd::Cancel => keep(&mut held, lock.try_acquire()),
                LockCmd::Timed => {
                    let start = Instant::now();
                    keep_timed(&mut held, start, lock.acquire_timeout(TIMED))
                }
                LockCmd::Drop => {
                    drop(held.pop().expect("a guard"));
                    Ans::Done
                }
                LockCmd::Forget => {
                    held.pop().expect("a guard").forget();
                    Ans::Done
                }
                LockCmd::Release => Ans::Released(lock.release()),
                cmd => unreachable!("{cmd:?} is for tasks"),
            });
        }
    }
}

async fn lock_task_actor(
    lock: Arc<threading::Lock>,
    mut inbox: UnboundedReceiver<LockCmd>,
    reply: Reply<LockAns>,
) {
    let mut held = Vec::new();
    let mut parked: Option<BoxFuture<'_, threading::LockGuard<'_>>> = None;
    while let Some(cmd) = inbox.recv().await {
        reply.send(match cmd {
            LockCmd::Acquire => keep(&mut held, Some(lock.acquire().await)),
            LockCmd::Try => keep(&mut held, lock.try_acquire()),
            LockCmd::Cancel => keep(&mut held, poll_and_drop(lock.acquire())),
            LockCmd::Park => park(&mut held, &mut parked, Box::pin(lock.acquire())),
            LockCmd::Poll => poll_parked(&mut held, &mut parked),
            LockCmd::Unpark => {
                drop(parked.take().expect("a parked acquire"));
                Ans::Done
            }
            LockCmd::Timed => {
                let start = Instant::now();
                keep_timed(&mut held, start, lock.acquire_timeout(TIMED).await)
            }
            LockCmd::Drop => {
                drop(held.pop().expect("a guard"));
                Ans::Done
            }
            LockCmd::Forget => {
                held.pop().expect("a guard").forget();
                Ans::Done
            }
            LockCmd::Release => Ans::Released(lock.release()),
        });
    }
}

/// Poll `fut` once: keep its guard if ready, else keep it parked.
fn park<'a, G, E>(
    held: &mut Vec<G>,
    parked: &mut Option<BoxFuture<'a, G>>,
    mut fut: BoxFuture<'a, G>,
) -> Ans<E> {
    assert!(parked.is_none());
    match poll_once(fut.as_mut()) {
        Poll::Ready(g) => keep(held, Some(g)),
        Poll::Pending => {
            *parked = Some(fut);
            Ans::Parked
        }
    }
}

/// Poll the parked acquire again: its guard if it was handed one meanwhile.
fn poll_parked<G, E>(held: &mut Vec<G>, parked: &mut Option<BoxFuture<'_, G>>) -> Ans<E> {
    let fut = parked.as_mut().expect("a parked acquire");
    match poll_once(fut.as_mut()) {
        Poll::Ready(g) => {
            *parked = None;
            keep(held, Some(g))
        }
        Poll::Pending => Ans::Got(false),
    }
}

/// An actor queued for a lock or a permit: blocked in a waiting call, or holding a parked
/// future (which no waker will run: the actor polls it when told).
#[derive(Clone, Copy, Debug, PartialEq)]
struct Queued {
    actor: usize,
    parked: bool,
}

/// Who holds a lock: an actor's guard, or a parked future it was handed to.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Holder {
    Guard(usize),
    Parked(usize),
}

/// The lock was let go with `queue` waiting: the front goes next on a fair lock (a blocked
/// actor answers; a parked future is simply handed it); any blocked one on a default lock.
#[track_caller]
fn lock_next(
    actors: &mut Actors<LockCmd, LockAns>,
    queue: &mut VecDeque<Queued>,
    fair: bool,
) -> Option<Holder> {
    let front = *queue.front()?;
    if front.parked {
        assert!(fair);
        queue.pop_front();
        return Some(Holder::Parked(front.actor));
    }
    let (b, ans) = actors.next_answer();
    assert_eq!(ans, Ans::Got(true), "actor {b}");
    if fair {
        assert_eq!(front.actor, b, "not first come, first served");
    }
    let at = queue
        .iter()
        .position(|q| q.actor == b && !q.parked)
        .unwrap_or_else(|| panic!("actor {b} was not waiting"));
    queue.remove(at);
    Some(Holder::Guard(b))
}

/// Model: the holder, and the queue of blocked acquirers and parked futures in arrival
/// order.
fn check_lock_actors(fair: bool, steps: Vec<(usize, Op)>) {
    let lock = Arc::new(if fair {
        threading::Lock::new_fair()
    } else {
        threading::Lock::new()
    });
    let l = lock.clone();
    let mut actors = Actors::spawn(lock_thread_actor(lock.clone()), move |inbox, reply| {
        lock_task_actor(l.clone(), inbox, reply)
    });
    let mut holder: Option<Holder> = None;
    let mut queue: VecDeque<Queued> = VecDeque::new();
    let mut parked = [false; ACTORS];
    for (a, op) in steps {
        if queue.contains(&Queued {
            actor: a,
            parked: false,
        }) {
            continue; // blocked: it cannot take a turn
        }
        let free = holder.is_none();
        match op {
            _ if parked[a] => {
                if matches!(op, Op::Release | Op::Cancel) {
                    assert_eq!(actors.ask(a, LockCmd::Unpark), Ans::Done);
                    parked[a] = false;
                    if holder == Some(Holder::Parked(a)) {
                        // It was handed the lock: it passes it on.
                        holder = lock_next(&mut actors, &mut queue, fair);
                    } else {
                        queue.retain(|q| q.actor != a);
                    }
                } else {
                    let handed = holder == Some(Holder::Parked(a));
                    assert_eq!(actors.ask(a, LockCmd::Poll), Ans::Got(handed));
                    if handed {
                        parked[a] = false;
                        holder = Some(Holder::Guard(a));
                    }
                }
            }
            Op::Park if a > 0 && fair && !free => {
                assert_eq!(actors.ask(a, LockCmd::Park), Ans::Parked);
                parked[a] = true;
                queue.push_back(Queued {
                    actor: a,
                    parked: true,
                });
            }
            // Acquiring a held Lock waits, even for its holder (L-1); a holder that waited
            // for itself could only be freed by another actor's bare release, so the
            // holder tries instead.
            Op::Acquire if !free && holder != Some(Holder::Guard(a)) => {
                actors.send(a, LockCmd::Acquire);
                queue.push_back(Queued {
                    actor: a,
                    parked: false,
                });
                wait_until(|| queued(&*lock) == queue.len());
            }
            Op::Acquire | Op::Try | Op::Cancel | Op::Park | Op::Timed => {
                let cmd = match op {
                    Op::Acquire if free => LockCmd::Acquire,
                    Op::Timed => LockCmd::Timed,
                    Op::Cancel | Op::Park if a > 0 => LockCmd::Cancel,
                    _ => LockCmd::Try,
                };
                assert_eq!(actors.ask(a, cmd), Ans::Got(free), "{op:?} by {a}");
                if free {
                    holder = Some(Holder::Guard(a));
                }
            }
            Op::Release => match holder {
                None => {
                    // conformance: L-3
                    let ans = actors.ask(a, LockCmd::Release);
                    assert!(matches!(ans, Ans::Released(Err(_))), "{ans:?}");
                }
                Some(Holder::Guard(h)) => {
                    if h == a {
                        assert_eq!(actors.ask(a, LockCmd::Drop), Ans::Done);
                    } else {
                        // A Lock has no owner: another actor (of either world) releases
                        // it, the holder forgets its guard (L-2).
                        assert_eq!(actors.ask(h, LockCmd::Forget), Ans::Done);
                        assert_eq!(actors.ask(a, LockCmd::Release), Ans::Released(Ok(())));
                    }
                    holder = lock_next(&mut actors, &mut queue, fair);
                }
                // Held by a parked future: only it can let go.
                Some(Holder::Parked(_)) => {}
            },
        }
        actors.assert_quiet();
        assert_eq!(lock.locked(), holder.is_some(), "{lock:?}");
        assert_eq!(queued(&*lock), queue.len(), "{lock:?}");
    }
    // Drop the parked futures still queued, then let go until nobody waits.
    for q in queue.clone().iter().filter(|q| q.parked) {
        assert_eq!(actors.ask(q.actor, LockCmd::Unpark), Ans::Done);
        parked[q.actor] = false;
        queue.retain(|x| x != q);
    }
    while let Some(h) = holder {
        let cmd = match h {
            Holder::Guard(_) => LockCmd::Drop,
            Holder::Parked(_) => LockCmd::Unpark,
        };
        let (Holder::Guard(a) | Holder::Parked(a)) = h;
        assert_eq!(actors.ask(a, cmd), Ans::Done);
        holder = lock_next(&mut actors, &mut queue, fair);
    }
    actors.assert_quiet();
    actors.finish();
    assert!(!lock.locked());
    assert_eq!(queued(&*lock), 0);
}

// =======================================================================================
// Multi-actor RLock.

#[derive(Debug)]
enum RLockCmd {
    Acquire,
    Try,
    Timed,
    Cancel,
    /// Drop the innermost guard.
    Drop,
    /// A bare `release()`.
    Release,
}

type RLockAns = Ans<RLockReleaseError>;

fn rlock_thread_actor(
    lock: Arc<threading::RLock>,
) -> impl FnOnce(mpsc::Receiver<RLockCmd>, Reply<RLockAns>) + Send + 'static {
    move |inbox, reply| {
        let lock = lock.blocking();
        let mut held = Vec::new();
        for cmd in inbox.iter() {
            reply.send(match cmd {
                RLockCmd::Acquire => keep(&mut held, Some(lock.acquire())),
                RLockCmd::Try | RLockCmd::Cancel => keep(&mut held, lock.try_acquire()),
                RLockCmd::Timed => {
                    let start = Instant::now();
                    keep_timed(&mut held, start, lock.acquire_timeout(TIMED))
                }
                RLockCmd::Drop => {
                    drop(held.pop().expect("a guard"));
                    Ans::Done
                }
                RLockCmd::Release => Ans::Released(lock.release()),
            });
        }
    }
}

async fn rlock_task_actor(
    lock: Arc<threading::RLock>,
    mut inbox: UnboundedReceiver<RLockCmd>,
    reply: Reply<RLockAns>,
) {
    let mut held = Vec::new();
    while let Some(cmd) = inbox.recv().await {
        reply.send(match cmd {
            RLockCmd::Acquire => keep(&mut held, Some(lock.acquire().await)),
            RLockCmd::Try => keep(&mut held, lock.try_acquire()),
            RLockCmd::Cancel => keep(&mut held, poll_and_drop(lock.acquire())),
            RLockCmd::Timed => {
                let start = Instant::now();
                keep_timed(&mut held, start, lock.acquire_timeout(TIMED).await)
            }
            RLockCmd::Drop => {
                drop(held.pop().expect("a guard"));
                Ans::Done
            }
            RLockCmd::Release => Ans::Released(lock.release()),
        });
    }
}

/// The owner's depth as `Debug` shows it to anyone.
fn debug_count(lock: &threading::RLock) -> usize {
    let s = format!("{lock:?}");
    let at = s.find("count=").expect("a count") + "count=".len();
    s[at..]
        .chars()
        .take_while(char::is_ascii_digit)
        .collect::<String>()
        .parse()
        .unwrap()
}

/// Model: the owner (an actor), its depth, and the actors blocked in `acquire`. Owners are
/// a plain thread (blocking form) and two tasks (async form): three different owners.
fn check_rlock_actors(fair: bool, steps: Vec<(usize, Op)>) {
    let lock = Arc::new(if fair {
        threading::RLock::new_fair()
    } else {
        threading::RLock::new()
    });
    let l = lock.clone();
    let mut actors = Actors::spawn(rlock_thread_actor(lock.clone()), move |inbox, reply| {
        rlock_task_actor(l.clone(), inbox, reply)
    });
    let mut owner: Option<usize> = None;
    let mut depth = 0usize;
    let mut queue = VecDeque::new();
    for (a, op) in steps {
        if queue.contains(&a) {
            continue;
        }
        // The owner re-enters; a free lock is taken; else an acquire waits.
        let may = owner.is_none() || owner == Some(a);
        match op {
            Op::Acquire if !may => {
                actors.send(a, RLockCmd::Acquire);
                queue.push_back(a);
                wait_until(|| queued(&*lock) == queue.len());
            }
            Op::Acquire | Op::Try | Op::Timed | Op::Cancel | Op::Park => {
                let cmd = match op {
                    Op::Acquire => RLockCmd::Acquire,
                    Op::Try => RLockCmd::Try,
                    Op::Timed => RLockCmd::Timed,
                    _ => RLockCmd::Cancel,
                };
                assert_eq!(actors.ask(a, cmd), Ans::Got(may), "{op:?} by {a}");
                if may {
                    owner = Some(a);
                    depth += 1;
                }
            }
            Op::Release if owner == Some(a) => {
                assert_eq!(actors.ask(a, RLockCmd::Drop), Ans::Done);
                depth -= 1;
                if depth == 0 {
                    owner = (!queue.is_empty()).then(|| served(&mut actors, &mut queue, fair));
                    depth = usize::from(owner.is_some());
                }
            }
            Op::Release => {
                // conformance
                let expected = if owner.is_some() {
                    RLockReleaseError::NotOwner
                } else {
                    RLockReleaseError::Unlocked
                };
                assert_eq!(
                    actors.ask(a, RLockCmd::Release),
                    Ans::Released(Err(expected))
                );
            }
        }
        actors.assert_quiet();
        assert_eq!(lock.locked(), owner.is_some(), "{lock:?}");
        assert_eq!(queued(&*lock), queue.len(), "{lock:?}");
        if owner.is_some() {
            assert_eq!(debug_count(&lock), depth, "{lock:?}");
        }
        assert_eq!(
            lock.blocking().recursion_count(),
            0,
            "the test thread owns nothing"
        );
    }
    while let Some(o) = owner {
        assert_eq!(actors.ask(o, RLockCmd::Drop), Ans::Done);
        depth -= 1;
        if depth == 0 {
            owner = (!queue.is_empty()).then(|| served(&mut actors, &mut queue, fair));
            depth = usize::from(owner.is_some());
        }
    }
    actors.assert_quiet();
    actors.finish();
    assert!(!lock.locked());
    assert_eq!(queued(&*lock), 0);
}

// =======================================================================================
// Multi-actor Semaphore and BoundedSemaphore.

/// The two semaphore kinds behind one interface (their guards are one type).
trait SemLike: fmt::Debug + Send + Sync + 'static {
    fn value(&self) -> usize;
    fn release(&self, n: usize) -> Result<(), SemaphoreReleaseError>;
    fn blocking_release(&self, n: usize) -> Result<(), SemaphoreReleaseError>;
    fn acquire_blocking(&self) -> SemaphoreGuard<'_>;
    fn try_blocking(&self) -> Option<SemaphoreGuard<'_>>;
    fn timed_blocking(&self, d: Duration) -> Option<SemaphoreGuard<'_>>;
    fn acquire_async(&self) -> BoxFuture<'_, SemaphoreGuard<'_>>;
    fn try_async(&self) -> Option<SemaphoreGuard<'_>>;
    fn timed_async(&self, d: Duration) -> BoxFuture<'_, Option<SemaphoreGuard<'_>>>;
}

macro_rules! sem_like {
    ($ty:ty) => {
        impl SemLike for $ty {
            fn value(&self) -> usize {
                <$ty>::value(self)
            }
            fn release(&self, n: usize) -> Result<(), SemaphoreReleaseError> {
                <$ty>::release(self, n)
            }
            fn blocking_release(&self, n: usize) -> Result<(), SemaphoreReleaseError> {
                self.blocking().release(n)
            }
            fn acquire_blocking(&self) -> SemaphoreGuard<'_> {
                self.blocking().acquire()
            }
            fn try_blocking(&self) -> Option<SemaphoreGuard<'_>> {
                self.blocking().try_acquire()
            }
            fn timed_blocking(&self, d: Duration) -> Option<SemaphoreGuard<'_>> {
                self.blocking().acquire_timeout(d)
            }
            fn acquire_async(&self) -> BoxFuture<'_, SemaphoreGuard<'_>> {
                Box::pin(self.acquire())
            }
            fn try_async(&self) -> Option<SemaphoreGuard<'_>> {
                self.try_acquire()
            }
            fn timed_async(&self, d: Duration) -> BoxFuture<'_, Option<SemaphoreGuard<'_>>> {
                Box::pin(self.acquire_timeout(d))
            }
        }
    };
}

sem_like!(threading::Semaphore);
sem_like!(threading::BoundedSemaphore);

#[derive(Debug)]
enum SemCmd {
    Acquire,
    Try,
    Timed,
    Cancel,
    Park,
    Poll,
    Unpark,
    Drop,
    Release(usize),
}

type SemAns = Ans<SemaphoreReleaseError>;

#[derive(Clone, Copy, Debug)]
enum SemOpA {
    Op(Op),
    /// A bare `release(n)` by the actor, whatever it holds.
    ReleaseN(usize),
}

fn sem_thread_actor<S: SemLike>(
    sem: Arc<S>,
) -> impl FnOnce(mpsc::Receiver<SemCmd>, Reply<SemAns>) + Send + 'static {
    move |inbox, reply| {
        let mut held = Vec::new();
        for cmd in inbox.iter() {
            reply.send(match cmd {
                SemCmd::Acquire => keep(&mut held, Some(sem.acquire_blocking())),
                SemCmd::Try | SemCmd::Cancel => keep(&mut held, sem.try_blocking()),
                SemCmd::Timed => {
                    let start = Instant::now();
                    keep_timed(&mut held, start, sem.timed_blocking(TIMED))
                }
                SemCmd::Drop => {
                    drop(held.pop().expect("a guard"));
                    Ans::Done
                }
                SemCmd::Release(n) => Ans::Released(sem.blocking_release(n)),
                cmd => unreachable!("{cmd:?} is for tasks"),
            });
        }
    }
}

async fn sem_task_actor<S: SemLike>(
    sem: Arc<S>,
    mut inbox: UnboundedReceiver<SemCmd>,
    reply: Reply<SemAns>,
) {
    let mut held = Vec::new();
    let mut parked = None;
    while let Some(cmd) = inbox.recv().await {
        reply.send(match cmd {
            SemCmd::Acquire => keep(&mut held, Some(sem.acquire_async().await)),
            SemCmd::Try => keep(&mut held, sem.try_async()),
            SemCmd::Cancel => keep(&mut held, poll_and_drop(sem.acquire_async())),
            SemCmd::Park => park(&mut held, &mut parked, sem.acquire_async()),
            SemCmd::Poll => poll_parked(&mut held, &mut parked),
            SemCmd::Unpark => {
                drop(parked.take().expect("a parked acquire"));
                Ans::Done
            }
            SemCmd::Timed => {
                let start = Instant::now();
                keep_timed(&mut held, start, sem.timed_async(TIMED).await)
            }
            SemCmd::Drop => {
                drop(held.pop().expect("a guard"));
                Ans::Done
            }
            SemCmd::Release(n) => Ans::Released(sem.release(n)),
        });
    }
}

/// The semaphore model's state.
struct SemModel {
    initial: usize,
    bounded: bool,
    fair: bool,
    value: usize,
    /// Guards each actor holds.
    held: [usize; ACTORS],
    /// Blocked acquirers and parked futures, in arrival order.
    queue: VecDeque<Queued>,
    /// Actors with a parked acquire (queued, or handed a permit).
    parked: [bool; ACTORS],
    /// Parked acquires handed a permit, not yet polled.
    handed: [bool; ACTORS],
}

impl SemModel {
    fn blocked(&self, a: usize) -> bool {
        self.queue.contains(&Queued {
            actor: a,
            parked: false,
        })
    }

    /// `n` permits released: to the queue first (min(n, queued) of them: the front ones
    /// on a fair semaphore, any blocked ones on a default one, which promises no order),
    /// the rest to the value.
    #[track_caller]
    fn give(&mut self, n: usize, actors: &mut Actors<SemCmd, SemAns>) {
        let k = n.min(self.queue.len());
        if self.fair {
            let first: Vec<Queued> = self.queue.drain(..k).collect();
            let blocked: BTreeSet<usize> = first
                .iter()
                .filter(|q| !q.parked)
                .map(|q| q.actor)
                .collect();
            let mut got = BTreeSet::new();
            for _ in 0..blocked.len() {
                let (b, ans) = actors.next_answer();
                assert_eq!(ans, Ans::Got(true), "actor {b}");
                got.insert(b);
            }
            assert_eq!(got, blocked, "not first come, first served");
            for q in first {
                if q.parked {
                    self.handed[q.actor] = true;
                } else {
                    self.held[q.actor] += 1;
                }
            }
        } else {
            for _ in 0..k {
                let (b, ans) = actors.next_answer();
                assert_eq!(ans, Ans::Got(true), "actor {b}");
                assert!(self.blocked(b), "actor {b} was not waiting");
                self.queue.retain(|q| q.actor != b);
                self.held[b] += 1;
            }
        }
        self.value += n - k;
    }

    /// A guard (or a handed permit) given back by its drop: `release(1)`, which a bounded
    /// semaphore at its bound refuses, and the permit is gone (documented).
    #[track_caller]
    fn give_back(&mut self, actors: &mut Actors<SemCmd, SemAns>) {
        if !(self.queue.is_empty() && self.bounded && self.value >= self.initial) {
            self.give(1, actors);
        }
    }

    /// Drop the parked acquires that were handed nothing.
    fn drop_parked(&mut self, actors: &mut Actors<SemCmd, SemAns>) {
        for q in self.queue.clone().iter().filter(|q| q.parked) {
            assert_eq!(actors.ask(q.actor, SemCmd::Unpark), Ans::Done);
            self.parked[q.actor] = false;
            self.queue.retain(|x| x != q);
        }
    }
}

/// Model: the value, the guards each actor holds, and the queue of blocked acquirers and
/// parked futures. Releases hand permits to the queue first; a guard dropped at the bound
/// of a bounded semaphore gives nothing back (documented).
fn check_semaphore_actors<S: SemLike>(
    sem: Arc<S>,
    initial: usize,
    bounded: bool,
    fair: bool,
    steps: Vec<(usize, SemOpA)>,
) {
    let s = sem.clone();
    let mut actors = Actors::spawn(sem_thread_actor(sem.clone()), move |inbox, reply| {
        sem_task_actor(s.clone(), inbox, reply)
    });
    let mut m = SemModel {
        initial,
        bounded,
        fair,
        value: initial,
        held: [0; ACTORS],
        queue: VecDeque::new(),
        parked: [false; ACTORS],
        handed: [false; ACTORS],
    };
    for (a, op) in steps {
        if m.blocked(a) {
            continue;
        }
        let free = m.value > 0;
        match op {
            _ if m.parked[a] => {
                if matches!(op, SemOpA::Op(Op::Release | Op::Cancel)) {
                    assert_eq!(actors.ask(a, SemCmd::Unpark), Ans::Done);
                    m.parked[a] = false;
                    if std::mem::take(&mut m.handed[a]) {
                        m.give_back(&mut actors); // it passes its permit on
                    } else {
                        m.queue.retain(|q| q.actor != a);
                    }
                } else {
                    let handed = m.handed[a];
                    assert_eq!(actors.ask(a, SemCmd::Poll), Ans::Got(handed));
                    if handed {
                        m.parked[a] = false;
                        m.handed[a] = false;
                        m.held[a] += 1;
                    }
                }
            }
            SemOpA::Op(Op::Park) if a > 0 && fair && !free => {
                assert_eq!(actors.ask(a, SemCmd::Park), Ans::Parked);
                m.parked[a] = true;
                m.queue.push_back(Queued {
                    actor: a,
                    parked: true,
                });
            }
            SemOpA::Op(Op::Acquire) if !free => {
                // Keep one actor free to release, and never wait on a bounded semaphore
                // of 0, which nothing can release.
                let blocked = (0..ACTORS).filter(|&x| m.blocked(x)).count();
                if blocked + 1 < ACTORS && !(bounded && initial == 0) {
                    actors.send(a, SemCmd::Acquire);
                    m.queue.push_back(Queued {
                        actor: a,
                        parked: false,
                    });
                    wait_until(|| queued(&*sem) == m.queue.len());
                } else {
                    assert_eq!(actors.ask(a, SemCmd::Try), Ans::Got(false));
                }
            }
            SemOpA::Op(op @ (Op::Acquire | Op::Try | Op::Timed | Op::Cancel | Op::Park)) => {
                let cmd = match op {
                    Op::Acquire => SemCmd::Acquire,
                    Op::Timed => SemCmd::Timed,
                    Op::Cancel | Op::Park if a > 0 => SemCmd::Cancel,
                    _ => SemCmd::Try,
                };
                assert_eq!(actors.ask(a, cmd), Ans::Got(free), "{op:?} by {a}");
                if free {
                    m.value -= 1;
                    m.held[a] += 1;
                }
            }
            SemOpA::Op(Op::Release) => {
                if m.held[a] > 0 {
                    assert_eq!(actors.ask(a, SemCmd::Drop), Ans::Done);
                    m.held[a] -= 1;
                    m.give_back(&mut actors);
                }
            }
            SemOpA::ReleaseN(n) => {
                // conformance: SB-14, BS-1, BS-3, SB-7
                let value = m.value;
                let expected = if n == 0 {
                    Err(SemaphoreReleaseError::ZeroPermits)
                } else if bounded && value + n > initial {
                    Err(SemaphoreReleaseError::AboveInitial { value, initial, n })
                } else {
                    Ok(())
                };
                let ok = expected.is_ok();
                assert_eq!(actors.ask(a, SemCmd::Release(n)), Ans::Released(expected));
                if ok {
                    m.give(n, &mut actors);
                }
            }
        }
        actors.assert_quiet();
        assert_eq!(sem.value(), m.value, "{sem:?}");
        assert_eq!(queued(&*sem), m.queue.len(), "{sem:?}");
    }
    // Drop the parked acquires (passing on what they were handed) and free the blocked: a
    // free actor releases one permit at a time.
    loop {
        m.drop_parked(&mut actors);
        if let Some(p) = (0..ACTORS).find(|&x| m.handed[x]) {
            assert_eq!(actors.ask(p, SemCmd::Unpark), Ans::Done);
            m.parked[p] = false;
            m.handed[p] = false;
            m.give_back(&mut actors);
            continue;
        }
        if m.queue.is_empty() {
            break;
        }
        let f = (0..ACTORS).find(|&x| !m.blocked(x)).unwrap();
        assert_eq!(actors.ask(f, SemCmd::Release(1)), Ans::Released(Ok(())));
        m.give(1, &mut actors);
    }
    actors.assert_quiet();
    assert_eq!(sem.value(), m.value, "{sem:?}");
    actors.finish();
    // Every guard still held was dropped by its actor.
    for _ in 0..m.held.iter().sum::<usize>() {
        if !bounded || m.value < initial {
            m.value += 1;
        }
    }
    assert_eq!(sem.value(), m.value, "{sem:?}");
    assert_eq!(queued(&*sem), 0);
}

// =======================================================================================
// Multi-actor Event.

#[derive(Clone, Copy, Debug)]
enum EventOp {
    Set,
    Clear,
    /// `set()` then at once `clear()`: every waiter still wakes (E-7).
    SetClear,
    Wait,
    Timed,
    IsSet,
    Cancel,
    /// Poll an async wait once and keep it; the actor's next steps poll it again, or drop
    /// it (`Cancel`). A plain thread does a zero-timeout wait.
    Park,
}

fn event_op() -> impl Strategy<Value = EventOp> {
    prop_oneof![
        Just(EventOp::Set),
        Just(EventOp::Clear),
        Just(EventOp::SetClear),
        Just(EventOp::Wait),
        Just(EventOp::Timed),
        Just(EventOp::IsSet),
        Just(EventOp::Cancel),
        Just(EventOp::Park),
    ]
}

type EventAns = Ans<()>;

fn event_answer(event: &threading::blocking::Event, op: EventOp) -> Option<EventAns> {
    Some(match op {
        EventOp::Set => {
            event.set();
            Ans::Done
        }
        EventOp::Clear => {
            event.clear();
            Ans::Done
        }
        EventOp::SetClear => {
            event.set();
            event.clear();
            Ans::Done
        }
        EventOp::IsSet => Ans::Got(event.is_set()),
        _ => return None,
    })
}

fn event_thread_actor(
    event: Arc<threading::Event>,
) -> impl FnOnce(mpsc::Receiver<EventOp>, Reply<EventAns>) + Send + 'static {
    move |inbox, reply| {
        let event = event.blocking();
        for op in inbox.iter() {
            reply.send(event_answer(event, op).unwrap_or_else(|| match op {
                EventOp::Wait => {
                    event.wait();
                    Ans::Woke
                }
                EventOp::Cancel | EventOp::Park => Ans::Got(event.wait_timeout(Duration::ZERO)),
                _ => {
                    let start = Instant::now();
                    let set = event.wait_timeout(TIMED);
                    if !set && start.elapsed() < TIMED {
                        Ans::Early
                    } else {
                        Ans::Got(set)
                    }
                }
            }));
        }
    }
}

async fn event_task_actor(
    event: Arc<threading::Event>,
    mut inbox: UnboundedReceiver<EventOp>,
    reply: Reply<EventAns>,
) {
    let mut parked: Option<BoxFuture<'_, ()>> = None;
    while let Some(op) = inbox.recv().await {
        if let Some(fut) = parked.as_mut() {
            // A parked wait: dropped on `Cancel`, polled again otherwise.
            let ans = if matches!(op, EventOp::Cancel) {
                parked = None;
                Ans::Done
            } else if poll_once(fut.as_mut()).is_ready() {
                parked = None;
                Ans::Woke
            } else {
                Ans::Got(false)
            };
            reply.send(ans);
            continue;
        }
        let ans = match event_answer(event.blocking(), op) {
            Some(ans) => ans,
            None => match op {
                EventOp::Wait => {
                    event.wait().await;
                    Ans::Woke
                }
                EventOp::Cancel => Ans::Got(poll_and_drop(event.wait()).is_some()),
                EventOp::Park => {
                    let mut fut: BoxFuture<'_, ()> = Box::pin(event.wait());
                    if poll_once(fut.as_mut()).is_ready() {
                        Ans::Woke
                    } else {
                        parked = Some(fut);
                        Ans::Parked
                    }
                }
                _ => {
                    let start = Instant::now();
                    let set = event.wait_timeout(TIMED).await;
                    if !set && start.elapsed() < TIMED {
                        Ans::Early
                    } else {
                        Ans::Got(set)
                    }
                }
            },
        };
        reply.send(ans);
    }
}

/// Model: the flag, the actors blocked in `wait`, and the parked waits (and whether a set
/// woke them); a set (even one cleared at once) wakes them all.
fn check_event_actors(steps: Vec<(usize, EventOp)>) {
    let event = Arc::new(threading::Event::new());
    let e = event.clone();
    let mut actors = Actors::spawn(event_thread_actor(event.clone()), move |inbox, reply| {
        event_task_actor(e.clone(), inbox, reply)
    });
    let mut flag = false;
    let mut waiting: Vec<usize> = Vec::new();
    // Per actor: a parked wait, and whether a set has woken it.
    let mut parked: [Option<bool>; ACTORS] = [None; ACTORS];
    let wake_all = |waiting: &mut Vec<usize>,
                    parked: &mut [Option<bool>; ACTORS],
                    actors: &mut Actors<EventOp, EventAns>| {
        let mut woke: Vec<usize> = waiting
            .iter()
            .map(|_| {
                let (b, ans) = actors.next_answer();
                assert_eq!(ans, Ans::Woke, "actor {b}");
                b
            })
            .collect();
        woke.sort_unstable();
        waiting.sort_unstable();
        assert_eq!(&woke, waiting, "a set must wake every waiter");
        waiting.clear();
        for p in parked.iter_mut().flatten() {
            *p = true;
        }
    };
    for (a, op) in steps {
        if waiting.contains(&a) {
            continue;
        }
        if let Some(woken) = parked[a] {
            if matches!(op, EventOp::Cancel) {
                assert_eq!(actors.ask(a, op), Ans::Done);
                parked[a] = None;
            } else {
                let ans = actors.ask(a, op);
                assert_eq!(ans, if woken { Ans::Woke } else { Ans::Got(false) });
                if woken {
                    parked[a] = None;
                }
            }
        } else {
            match op {
                EventOp::Set | EventOp::SetClear => {
                    assert_eq!(actors.ask(a, op), Ans::Done);
                    flag = matches!(op, EventOp::Set);
                    wake_all(&mut waiting, &mut parked, &mut actors);
                }
                EventOp::Clear => {
                    assert_eq!(actors.ask(a, op), Ans::Done);
                    flag = false;
                }
                EventOp::Wait if flag => assert_eq!(actors.ask(a, op), Ans::Woke),
                EventOp::Wait if waiting.len() + 1 < ACTORS => {
                    actors.send(a, op);
                    waiting.push(a);
                }
                EventOp::Wait | EventOp::IsSet => {
                    assert_eq!(actors.ask(a, EventOp::IsSet), Ans::Got(flag))
                }
                EventOp::Park if a > 0 => {
                    let ans = actors.ask(a, op);
                    if flag {
                        assert_eq!(ans, Ans::Woke);
                    } else {
                        assert_eq!(ans, Ans::Parked);
                        parked[a] = Some(false);
                    }
                }
                EventOp::Timed | EventOp::Cancel | EventOp::Park => {
                    assert_eq!(actors.ask(a, op), Ans::Got(flag))
                }
            }
        }
        let linked = waiting.len() + parked.iter().filter(|p| **p == Some(false)).count();
        wait_until(|| queued_digits(&*event) == linked);
        actors.assert_quiet();
        assert_eq!(event.is_set(), flag);
    }
    for (a, p) in parked.iter_mut().enumerate() {
        if p.take().is_some() {
            assert_eq!(actors.ask(a, EventOp::Cancel), Ans::Done);
        }
    }
    if !waiting.is_empty() {
        let f = (0..ACTORS).find(|x| !waiting.contains(x)).unwrap();
        assert_eq!(actors.ask(f, EventOp::Set), Ans::Done);
        wake_all(&mut waiting, &mut parked, &mut actors);
    }
    actors.assert_quiet();
    actors.finish();
    assert_eq!(queued_digits(&*event), 0);
}

// =======================================================================================
// Condition: notify(n) and notify_all with waiters of both worlds.

#[derive(Clone, Copy, Debug)]
enum CondOp {
    Notify {
        n: usize,
        from_task: bool,
    },
    NotifyAll {
        from_task: bool,
    },
    AddWaiter,
    /// The test thread polls an async `wait` once and keeps it: a waiter that no waker
    /// runs (one at a time).
    Park,
    /// Poll the parked wait again (it returns once notified), or drop it: a notification
    /// it was picked for passes on to the next waiter.
    Unpark {
        poll: bool,
    },
}

fn cond_ops() -> impl Strategy<Value = Vec<CondOp>> {
    prop::collection::vec(
        prop_oneof![
            3 => (0usize..4, any::<bool>())
                .prop_map(|(n, from_task)| CondOp::Notify { n, from_task }),
            1 => any::<bool>().prop_map(|from_task| CondOp::NotifyAll { from_task }),
            2 => Just(CondOp::AddWaiter),
            2 => Just(CondOp::Park),
            2 => any::<bool>().prop_map(|poll| CondOp::Unpark { poll }),
        ],
        0..20,
    )
}

/// The most waiters a case starts.
const MAX_WAITERS: usize = 6;

/// Waiters that loop: wait, and once woken (holding the lock again) log their id and
/// wait again, so that each one's place in the queue after a wake-up is its place in the
/// log. They stop when `stop` is set.
struct CondWaiters<L: threading::ConditionLock> {
    cond: Arc<threading::Condition<L>>,
    stop: Arc<AtomicBool>,
    log: Arc<Mutex<Vec<usize>>>,
    threads: Vec<std::thread::JoinHandle<()>>,
    tasks: Vec<tokio::task::JoinHandle<()>>,
    /// The model: waiting ids, in queue order ([`PARKED`] for the parked wait).
    queue: VecDeque<usize>,
    next: usize,
    /// The parked wait has been picked by a notification.
    parked_notified: bool,
    /// Log entries already checked.
    seen: usize,
}

/// The parked wait's place in the model's queue.
const PARKED: usize = usize::MAX;

impl<L: threading::ConditionLock> CondWaiters<L> {
    fn new(cond: threading::Condition<L>) -> Self {
        Self {
            cond: Arc::new(cond),
            stop: Arc::new(AtomicBool::new(false)),
            log: Arc::new(Mutex::new(Vec::new())),
            threads: Vec::new(),
            tasks: Vec::new(),
            queue: VecDeque::new(),
            next: 0,
            parked_notified: false,
            seen: 0,
        }
    }

    fn logged(&self) -> Vec<usize> {
        self.log.lock().unwrap().clone()
    }

    /// A new waiter, a plain thread or a task by turns; it is queued last.
    fn add(&mut self) {
        let id = self.next;
        self.next += 1;
        let (cond, stop, log) = (self.cond.clone(), self.stop.clone(), self.log.clone());
        if id % 2 == 0 {
            self.threads.push(std::thread::spawn(move || {
                let c = cond.blocking();
                let mut g = c.acquire();
                loop {
                    g = c.wait(g);
                    if stop.load(SeqCst) {
                        break;
                    }
                    log.lock().unwrap().push(id);
                }
            }));
        } else {
            self.tasks.push(rt().spawn(async move {
                let mut g = cond.acquire().await;
                loop {
                    g = cond.wait(g).await;
                    if stop.load(SeqCst) {
                        break;
                    }
                    log.lock().unwrap().push(id);
                }
            }));
        }
        self.queue.push_back(id);
        wait_until(|| queued(&*self.cond) == self.queue.len());
    }

    /// Notify `n` (or all) from a plain thread or a task; returns how many still waited
    /// right after the call, read while the notifier still held the lock.
    fn notify(&self, n: Option<usize>, from_task: bool) -> usize {
        let cond = self.cond.clone();
        if from_task {
            rt().block_on(rt().spawn(async move {
                let g = cond.acquire().await;
                match n {
                    Some(n) => cond.notify(&g, n),
                    None => cond.notify_all(&g),
                }
                queued(&*cond)
            }))
            .unwrap()
        } else {
            let c = cond.blocking();
            let g = c.acquire();
            match n {
                Some(n) => c.notify(&g, n),
                None => c.notify_all(&g),
            }
            queued(c)
        }
    }

    /// Run one notification against the model: exactly min(n, waiting) are taken off the
    /// queue at once, and they are the longest-waiting ones (C-6, C-9, C-10, C-21, A-16).
    fn step(&mut self, n: Option<usize>, from_task: bool) {
        let waiting = self.queue.len();
        let k = n.map_or(waiting, |n| n.min(waiting));
        let left = self.notify(n, from_task);
        assert_eq!(left, waiting - k, "notify({n:?}) with {waiting} waiting");
        let mut first: BTreeSet<usize> = self.queue.drain(..k).collect();
        if first.remove(&PARKED) {
            // Picked, but nothing runs it: it is out of the queue until polled or dropped.
            self.parked_notified = true;
        }
        self.rewait(first);
    }

    /// `woken` (threads and tasks) were notified: each logs once it has the lock again,
    /// and waits again at the back of the queue, in the order they logged.
    #[track_caller]
    fn rewait(&mut self, woken: BTreeSet<usize>) {
        let k = woken.len();
        wait_until(|| {
            self.logged().len() == self.seen + k && queued(&*self.cond) == self.queue.len() + k
        });
        let logged = self.logged()[self.seen..].to_vec();
        assert_eq!(
            logged.iter().copied().collect::<BTreeSet<_>>(),
            woken,
            "not the longest-waiting"
        );
        self.seen += k;
        self.queue.extend(logged);
    }

    fn finish(self) {
        {
            let c = self.cond.blocking();
            let g = c.acquire();
            self.stop.store(true, SeqCst);
            c.notify_all(&g);
        }
        self.threads.into_iter().for_each(join_thread);
        for t in self.tasks {
            rt().block_on(join_task(t));
        }
        assert!(!self.cond.locked());
        assert_eq!(queued(&*self.cond), 0);
    }
}

fn check_condition<L: threading::ConditionLock>(
    cond: threading::Condition<L>,
    initial: usize,
    ops: Vec<CondOp>,
) {
    let mut w = CondWaiters::new(cond);
    let cond = w.cond.clone();
    // The parked wait, polled by this thread (outside any task: this thread is the owner
    // of an RLock it takes through the async form).
    let mut parked: Option<std::pin::Pin<Box<dyn Future<Output = L::Guard<'_>> + '_>>> = None;
    for _ in 0..initial {
        w.add();
    }
    for op in ops {
        match op {
            CondOp::AddWaiter if w.next < MAX_WAITERS => w.add(),
            CondOp::AddWaiter => {}
            CondOp::Notify { n, from_task } => w.step(Some(n), from_task),
            CondOp::NotifyAll { from_task } => w.step(None, from_task),
            CondOp::Park if parked.is_none() => {
                let Poll::Ready(g) = poll_once(pin!(cond.acquire())) else {
                    panic!("the lock is free at a quiescent point");
                };
                let mut wait = Box::pin(cond.wait(g));
                assert!(poll_once(wait.as_mut()).is_pending());
                assert!(!cond.locked(), "a wait releases the lock");
                parked = Some(wait);
                w.queue.push_back(PARKED);
                w.parked_notified = false;
            }
            CondOp::Park => {}
            CondOp::Unpark { poll } => {
                let Some(wait) = parked.as_mut() else {
                    continue;
                };
                if poll {
                    match poll_once(wait.as_mut()) {
                        Poll::Ready(g) => {
                            assert!(w.parked_notified, "a wait returned without a notify");
                            drop(g);
                            parked = None;
                        }
                        Poll::Pending => assert!(!w.parked_notified, "a notified wait is stuck"),
                    }
                } else {
                    parked = None;
                    if std::mem::take(&mut w.parked_notified) {
                        // Its notification passes on to the longest-waiting.
                        let next: BTreeSet<usize> = w.queue.pop_front().into_iter().collect();
                        w.rewait(next);
                    } else {
                        w.queue.retain(|&q| q != PARKED);
                    }
                }
            }
        }
        // A woken waiter reports before it drops its guard: the lock is free once it has
        // (a lock left held fails here after `LATE`).
        wait_until(|| !cond.locked());
        assert_eq!(queued(&*cond), w.queue.len(), "{cond:?}");
    }
    drop(parked);
    w.queue.retain(|&q| q != PARKED);
    w.finish();
}

// =======================================================================================
// Barrier: arrivals, timeouts, cancelled async waits, reset and abort.

#[derive(Clone, Copy, Debug)]
enum BarrierOp {
    Arrive {
        task: bool,
    },
    /// A wait with a short timeout, or a zero one.
    Timed {
        task: bool,
        zero: bool,
    },
    /// An async wait polled once by the test thread, then dropped.
    Cancel,
    Reset,
    Abort,
}

fn barrier_ops() -> impl Strategy<Value = Vec<BarrierOp>> {
    prop::collection::vec(
        prop_oneof![
            4 => any::<bool>().prop_map(|task| BarrierOp::Arrive { task }),
            1 => (any::<bool>(), any::<bool>())
                .prop_map(|(task, zero)| BarrierOp::Timed { task, zero }),
            1 => Just(BarrierOp::Cancel),
            1 => Just(BarrierOp::Reset),
            1 => Just(BarrierOp::Abort),
        ],
        0..20,
    )
}

/// A party's outcome: its id, its result, the action runs it saw on return, and how long
/// its wait took.
type Party = (
    usize,
    Result<usize, threading::BrokenBarrierError>,
    usize,
    Duration,
);

/// Model: `broken`, and the parties waiting in the generation that fills, in arrival
/// order (their index is their place: BA-6). A generation completes when `parties` have
/// arrived: each gets its index, after the action ran once (BA-7). A timed wait that runs
/// out breaks the barrier for everyone waiting (BA-12); so does `abort` (BA-9), and a
/// broken barrier fails arrivals at once until `reset` (BA-11, BA-20). `reset` fails the
/// waiting parties and leaves the barrier filling (BA-10). A dropped async wait leaves
/// without breaking it.
fn check_barrier(parties: usize, ops: Vec<BarrierOp>) {
    let runs = Arc::new(AtomicUsize::new(0));
    let r = runs.clone();
    let barrier = Arc::new(
        threading::Barrier::builder(parties)
            .action(move || {
                r.fetch_add(1, SeqCst);
            })
            .build()
            .unwrap(),
    );
    let (tx, rx) = mpsc::channel::<Party>();
    let mut broken = false;
    let mut arrived: Vec<usize> = Vec::new();
    let mut generations = 0usize;
    let mut next = 0usize;
    let timed = Duration::from_millis(20);

    // Read the outcomes of `ids`: all `Ok(their index)` (after the action) or all broken;
    // `timed_out`: the party whose timeout broke the barrier, never before its timeout.
    let collect =
        |ids: &[usize], ok: bool, generations: usize, timed_out: Option<(usize, Duration)>| {
            let mut got: Vec<Party> = ids
                .iter()
                .map(|_| rx.recv_timeout(LATE).expect("a party never returned"))
                .collect();
            got.sort_by_key(|p| p.0);
            let mut want: Vec<usize> = ids.to_vec();
            want.sort_unstable();
            assert_eq!(got.iter().map(|p| p.0).collect::<Vec<_>>(), want);
            for (id, result, seen, waited) in got {
                if let Some((t, timeout)) = timed_out {
                    assert!(id != t || waited >= timeout, "party {id} timed out early");
                }
                if ok {
                    let index = ids.iter().position(|&x| x == id).unwrap();
                    assert_eq!(result, Ok(index), "party {id}");
                    assert_eq!(
                        seen, generations,
                        "party {id} returned before the action ran"
                    );
                } else {
                    assert!(result.is_err(), "party {id}: {result:?}");
                }
            }
        };

    for op in ops {
        match op {
            BarrierOp::Arrive { task } | BarrierOp::Timed { task, .. } => {
                let timeout = match op {
                    BarrierOp::Timed { zero: true, .. } => Some(Duration::ZERO),
                    BarrierOp::Timed { .. } => Some(timed),
                    _ => None,
                };
                let id = next;
                next += 1;
                let (b, tx, r) = (barrier.clone(), tx.clone(), runs.clone());
                if task {
                    rt().spawn(async move {
                        let start = Instant::now();
                        let result = match timeout {
                            Some(d) => b.wait_timeout(d).await,
                            None => b.wait().await,
                        };
                        let _ = tx.send((id, result, r.load(SeqCst), start.elapsed()));
                    });
                } else {
                    std::thread::spawn(move || {
                        let b = b.blocking();
                        let start = Instant::now();
                        let result = match timeout {
                            Some(d) => b.wait_timeout(d),
                            None => b.wait(),
                        };
                        let _ = tx.send((id, result, r.load(SeqCst), start.elapsed()));
                    });
                }
                if broken {
                    collect(&[id], false, generations, None);
                } else {
                    arrived.push(id);
                    if arrived.len() == parties {
                        generations += 1;
                        collect(&arrived, true, generations, None);
                        arrived.clear();
                    } else if let Some(d) = timeout {
                        // It runs out and breaks the barrier for everyone waiting.
                        broken = true;
                        collect(&arrived, false, generations, Some((id, d)));
                        arrived.clear();
                    } else {
                        wait_until(|| barrier.n_waiting() == arrived.len());
                    }
                }
            }
            BarrierOp::Cancel => {
                let mut fut = pin!(barrier.wait());
                match poll_once(fut.as_mut()) {
                    Poll::Ready(r) => {
                        if broken {
                            assert!(r.is_err());
                        } else {
                            assert_eq!(arrived.len() + 1, parties, "{r:?}");
                            assert_eq!(r, Ok(parties - 1));
                            generations += 1;
                            collect(&arrived, true, generations, None);
                            arrived.clear();
                        }
                    }
                    Poll::Pending => {
                        assert!(!broken && arrived.len() + 1 < parties);
                        assert_eq!(barrier.n_waiting(), arrived.len() + 1);
                    }
                }
                // Dropped (here, at the end of the scope): it leaves.
            }
            BarrierOp::Reset => {
                barrier.reset();
                collect(&arrived, false, generations, None);
                arrived.clear();
                broken = false;
            }
            BarrierOp::Abort => {
                barrier.blocking().abort();
                collect(&arrived, false, generations, None);
                arrived.clear();
                broken = true;
            }
        }
        assert!(rx.try_recv().is_err(), "a party returned out of turn");
        assert_eq!(barrier.broken(), broken, "{barrier:?}");
        assert_eq!(barrier.n_waiting(), arrived.len(), "{barrier:?}");
        assert_eq!(runs.load(SeqCst), generations);
    }
    // Release whoever still waits.
    barrier.abort();
    collect(&arrived, false, generations, None);
    assert_eq!(barrier.n_waiting(), 0);
    assert_eq!(runs.load(SeqCst), generations);
}

// =======================================================================================
// The properties.

fn sem_step() -> impl Strategy<Value = SemOpA> {
    prop_oneof![
        4 => op().prop_map(SemOpA::Op),
        1 => (0usize..3).prop_map(SemOpA::ReleaseN),
    ]
}

proptest! {
    #![proptest_config(config(64))]

    // conformance: C-6, C-9, C-10, C-11, C-20, C-21, C-24, A-16
    #[test]
    fn condition_notify_wakes_min_n_waiting_first_come_first(
        over_plain_lock: bool,
        initial in 0usize..4,
        ops in cond_ops(),
    ) {
        if over_plain_lock {
            check_condition(
                threading::Condition::with_lock(Arc::new(threading::Lock::new())),
                initial,
                ops,
            );
        } else {
            check_condition(threading::Condition::new(), initial, ops);
        }
    }

    // conformance: BA-2, BA-4, BA-5, BA-6, BA-7, BA-9, BA-10, BA-11, BA-12, BA-14, BA-20, A-23
    #[test]
    fn barrier_matches_the_model(parties in 1usize..5, ops in barrier_ops()) {
        check_barrier(parties, ops);
    }
}

proptest! {
    #![proptest_config(config(64))]

    // conformance: L-1, L-2, L-3, L-5, LR-6, LR-7, L-4, A-3, A-5
    #[test]
    fn lock_matches_the_model_with_threads_and_tasks(fair: bool, steps in steps(op())) {
        check_lock_actors(fair, steps);
    }

    // conformance
    #[test]
    fn rlock_matches_the_model_with_threads_and_tasks(fair: bool, steps in steps(op())) {
        check_rlock_actors(fair, steps);
    }

    // conformance: SB-4, SB-7, SB-8, SB-11, SB-14, SB-15, S-1, A-19, A-20
    #[test]
    fn semaphore_matches_the_model_with_threads_and_tasks(
        initial in 0usize..3,
        fair: bool,
        steps in steps(sem_step()),
    ) {
        let sem = Arc::new(if fair {
            threading::Semaphore::new_fair(initial)
        } else {
            threading::Semaphore::new(initial)
        });
        check_semaphore_actors(sem, initial, false, fair, steps);
    }

    // conformance: BS-1, BS-2, BS-3, SB-14
    #[test]
    fn bounded_semaphore_matches_the_model_with_threads_and_tasks(
        initial in 0usize..3,
        fair: bool,
        steps in steps(sem_step()),
    ) {
        let sem = Arc::new(if fair {
            threading::BoundedSemaphore::new_fair(initial)
        } else {
            threading::BoundedSemaphore::new(initial)
        });
        check_semaphore_actors(sem, initial, true, fair, steps);
    }

    // conformance: E-1, E-2, E-3, E-4, E-7, E-9, A-9, A-10
    #[test]
    fn event_matches_the_model_with_threads_and_tasks(steps in steps(event_op())) {
        check_event_actors(steps);
    }
}
