//! Python's `threading` module, and the asyncio twins of its primitives, for Rust.
//!
//! Every primitive comes in **two forms over one state**:
//!
//! - the **async form**, `threading::X`: its waits are futures, run on tokio, and time out
//!   on tokio's timer;
//! - the **blocking form**, [`threading::blocking::X`](blocking): its waits park the calling
//!   OS thread and time out on a deadline of their own. It needs no runtime at all.
//!
//! One instance serves both worlds at once: a [`Lock`] held by a plain thread is awaited by
//! a task, an [`Event`] set by a task wakes parked threads, a [`Semaphore`] acquired in async
//! code is released from a thread. `x.blocking()` and `x.as_async()` convert between the
//! forms of one instance for free (a pointer cast), so even a `static` lock serves both.
//!
//! An OS thread and a tokio task share one lock, each through its own form, and async code
//! joins both:
//!
//! ```
//! use std::sync::Arc;
//! use std::time::Duration;
//! use threading::{Event, Lock, Thread};
//!
//! # #[tokio::main(flavor = "multi_thread", worker_threads = 2)]
//! # async fn main() {
//! let lock = Arc::new(Lock::new());
//! let (held, done) = (Arc::new(Event::new()), Arc::new(Event::new()));
//!
//! // An OS thread takes the lock with the blocking form...
//! let (l, h, d) = (lock.clone(), held.clone(), done.clone());
//! let thread = threading::blocking::Thread::new(move || {
//!     let _guard = l.blocking().acquire();
//!     h.set();
//!     d.blocking().wait(); // holds it until the task has tried
//!     "thread done"
//! });
//! thread.start().unwrap();
//!
//! // ...a task waits for it with the async form, first with a timeout...
//! let (l, h, d) = (lock.clone(), held.clone(), done.clone());
//! let task = Thread::new(move || async move {
//!     h.wait().await;
//!     assert!(l.acquire_timeout(Duration::from_millis(10)).await.is_none());
//!     d.set(); // ...the thread lets go...
//!     let _guard = l.acquire().await; // ...and the task gets the lock.
//!     "task got the lock"
//! });
//! task.start().unwrap();
//!
//! assert_eq!(task.join().await, Ok(Some("task got the lock")));
//! assert_eq!(thread.as_async().join().await, Ok(Some("thread done"))); // an OS thread, awaited
//! assert!(!lock.locked());
//! # }
//! ```
//!
//! # Map of the crate
//!
//! - **The crate root** has the async forms: [`Lock`], [`RLock`], [`Semaphore`],
//!   [`BoundedSemaphore`], [`Event`], [`Condition`], [`Barrier`]; the threads, [`Thread`]
//!   (an `async` target run as a tokio task, or a closure on tokio's blocking pool) and
//!   [`Timer`]; thread-local data, [`Local`]; the module functions [`current_thread`],
//!   [`main_thread`], [`enumerate`], [`active_count`], [`get_ident`], [`get_native_id`],
//!   [`stack_size`], [`set_stack_size`], [`set_start_hook`], [`clear_start_hook`],
//!   [`excepthook`], [`set_excepthook`], [`shutdown`]; and [`TIMEOUT_MAX`].
//! - **[`blocking`]** has the blocking forms, under the same names: [`blocking::Lock`],
//!   [`blocking::RLock`], [`blocking::Semaphore`], [`blocking::BoundedSemaphore`],
//!   [`blocking::Event`], [`blocking::Condition`], [`blocking::Barrier`],
//!   [`blocking::Thread`] (an OS thread, no runtime needed), [`blocking::Timer`],
//!   [`blocking::Local`]; the module functions that return thread handles or wait,
//!   [`blocking::current_thread`], [`blocking::main_thread`], [`blocking::enumerate`],
//!   [`blocking::shutdown`]; and the other module functions, re-exported, so a port of
//!   thread code can take its names from one module.
//! - **Guards** release when dropped: [`LockGuard`], [`OwnedLockGuard`], [`RLockGuard`],
//!   [`OwnedRLockGuard`] (and the thread-bound [`blocking::RLockGuard`],
//!   [`blocking::OwnedRLockGuard`]), [`SemaphoreGuard`], [`OwnedSemaphoreGuard`].
//! - **Builders**: [`ThreadBuilder`], [`blocking::ThreadBuilder`] (adds the stack size),
//!   [`BarrierBuilder`] (an action and a default timeout).
//! - **The locks a condition can use**: [`ConditionLock`], [`BlockingConditionLock`]
//!   (sealed: `Lock` and `RLock`).
//! - **Errors**, one small type per failure: [`ReleaseUnlockedError`],
//!   [`RLockReleaseError`], [`SemaphoreReleaseError`], [`BrokenBarrierError`],
//!   [`BarrierPartiesError`], [`StartError`], [`JoinError`] (with [`PanicError`]),
//!   [`DaemonError`], [`StackSizeError`]; and [`ExceptHookArgs`], what an excepthook gets.
//! - **`MIGRATING.md`**, at the root of the package, is the porting guide: a row for every
//!   public name of Python's `threading` and of asyncio's primitives, what has no
//!   counterpart and why, and three worked ports. The package's `examples/` run the Python
//!   docs' examples in Rust (`cargo run --example timer`; `MIGRATING.md` lists them all).
//!
//! # Python → Rust
//!
//! | Python | Rust (async form; the blocking form has the same names) |
//! |---|---|
//! | `Lock()` | [`Lock::new()`], [`Lock::new_fair()`] (`const`) |
//! | `lock.acquire()` / `with lock:` | [`Lock::acquire`] → [`LockGuard`], released on drop |
//! | `lock.acquire(blocking=False)` | [`Lock::try_acquire`] → `Option<LockGuard>` |
//! | `lock.acquire(timeout=t)` | [`Lock::acquire_timeout`] → `Option<LockGuard>` |
//! | `lock.release()` | [`Lock::release`] → `Result` (error if unlocked) |
//! | `lock.locked()` | [`Lock::locked`] |
//! | `Semaphore(n)` / `BoundedSemaphore(n)` | [`Semaphore::new`], [`BoundedSemaphore::new`] |
//! | `sem.acquire(...)` | `acquire`, `try_acquire`, `acquire_timeout` → [`SemaphoreGuard`] |
//! | `sem.release(n)` | `release(n)` → `Result` |
//! | `Event()` | [`Event::new()`]: `set`, `clear`, `is_set`, `wait`, `wait_timeout` → `bool` |
//! | `RLock()` | [`RLock::new()`], [`RLock::new_fair()`]: the `Lock` methods, owned by a thread (blocking form) or a task (async form); `is_owned`, `recursion_count` |
//! | `Condition(lock)` | [`Condition::new()`] (over an `RLock`), [`Condition::with_lock`]: `wait(guard)`, `wait_timeout`, `wait_for`, `wait_for_timeout`, `notify(&guard, n)`, `notify_all(&guard)` |
//! | `Barrier(n, action, timeout)` | [`Barrier::new`], [`Barrier::builder`]: `wait`, `wait_timeout` → `Result<index, BrokenBarrierError>`, `reset`, `abort`, `parties`, `n_waiting`, `broken` |
//! | `threading.TIMEOUT_MAX` | [`TIMEOUT_MAX`] |
//! | `Thread(target, name, daemon)` | [`Thread::new`] (an `async` target, run as a task), [`Thread::new_blocking`] (`spawn_blocking`), [`blocking::Thread::new`] (an OS thread), builders for name, daemon, stack size: `start`, `join`, `join_timeout` → `Result<Option<T>, JoinError>`, `is_alive`, `name`, `ident`, `native_id`, `daemon` |
//! | `local()` | [`Local::new(init)`](Local::new) (`const`): `with`, `set`, `take`, `has_value`; one value per `Thread` task (async form) or per OS thread (blocking form) |
//! | `Timer(interval, f)` | [`Timer::new`], [`blocking::Timer::new`]: `cancel`, and the `Thread` methods |
//! | `current_thread()`, `main_thread()`, `enumerate()`, `active_count()`, `get_ident()`, `get_native_id()` | [`current_thread`], [`main_thread`], [`enumerate`], [`active_count`], [`get_ident`], [`get_native_id`] |
//! | `threading.excepthook = f`, `stack_size(n)`, `settrace(f)` | [`set_excepthook`] (default: [`excepthook`]), [`stack_size`] / [`set_stack_size`], [`set_start_hook`] |
//! | interpreter exit waits for non-daemon threads | [`shutdown`] / [`blocking::shutdown`] at the end of `main` |
//!
//! # Semantics, in both forms
//!
//! - **Timeouts never return early.** The deadline is fixed when the call starts; a zero
//!   timeout is a try; a timeout above [`TIMEOUT_MAX`] waits forever.
//! - **Async timeouts run on tokio's timer.** An async `*_timeout` call (or a `Barrier`
//!   with a default timeout) that has to wait panics outside a tokio runtime or on one
//!   built without the time driver (`enable_time`; `#[tokio::main]` enables it). The
//!   untimed async waits need no timer.
//! - **Cancel safety.** Dropping an async wait never loses a wake-up, a permit or the lock:
//!   what it was handed passes on to the next waiter.
//! - **Fairness.** `new` gives throughput first (a newcomer may take a just-released lock,
//!   but a waiter that has waited about a millisecond is handed it); `new_fair` gives strict
//!   FIFO hand-off, as asyncio.
//! - **Blocking calls on a tokio runtime** do not panic: on a multi-thread runtime they
//!   wait inside `block_in_place`; on a current-thread runtime they park the thread as std's
//!   locks do (waiting there for a task of that runtime deadlocks: use the async form). The
//!   one exception is a wait inside a `LocalSet` driven by a multi-thread runtime, where
//!   tokio refuses `block_in_place` and its public API cannot tell beforehand.
//! - **No poisoning**, as Python: a panic while holding a guard releases it.
//! - Blocking waits park with `std::thread::park`. A wake-up can arrive just after a waiter
//!   has already returned; as std allows, a later `std::thread::park()` of that thread may
//!   then return at once (spuriously). Code that parks threads itself must loop, as std asks.
#![deny(missing_docs)]
#![warn(rust_2018_idioms, unreachable_pub)]

mod barrier;
mod condition;
mod error;
mod event;
mod forms;
mod local;
mod lock;
mod rlock;
mod semaphore;
mod thread;
mod timer;
mod wait;

pub mod blocking;

pub use barrier::{Barrier, BarrierBuilder};
pub use condition::{BlockingConditionLock, Condition, ConditionLock};
pub use error::{
    BarrierPartiesError, BrokenBarrierError, DaemonError, JoinError, PanicError, RLockReleaseError,
    ReleaseUnlockedError, SemaphoreReleaseError, StackSizeError, StartError,
};
pub use event::Event;
pub use local::Local;
pub use lock::{Lock, LockGuard, OwnedLockGuard};
pub use rlock::{OwnedRLockGuard, RLock, RLockGuard};
pub use semaphore::{BoundedSemaphore, OwnedSemaphoreGuard, Semaphore, SemaphoreGuard};
pub use thread::{
    active_count, clear_start_hook, current_thread, enumerate, excepthook, get_ident,
    get_native_id, main_thread, set_excepthook, set_stack_size, set_start_hook, shutdown,
    stack_size, ExceptHookArgs, Thread, ThreadBuilder,
};
pub use timer::Timer;
pub use wait::deadline::TIMEOUT_MAX;
