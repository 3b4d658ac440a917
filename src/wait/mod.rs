//! The waiting core: every waiter list, deadline and cancellation hand-off of the crate.
//!
//! All of the crate's atomics and all of its `unsafe` (but for the free casts between the
//! two forms of a primitive) live in this module. Primitives are built on two states:
//!
//! - [`Permits`]: free permits plus a FIFO queue, for `Lock`, `Semaphore` and
//!   `BoundedSemaphore`, fair (strict FIFO hand-off) or default (barging with eventual
//!   fairness);
//! - [`Flag`]: a flag plus a queue woken all at once, for `Event`;
//! - [`Reentrant`]: a one-permit [`Permits`] plus its owner (a thread or a task) and depth,
//!   for `RLock`;
//! - [`Signal`]: a queue of notifications, for `Condition` and `Barrier`.
//! - [`slots::Slots`]: one value per OS thread or task context, found without a lock, for
//!   `Local`; [`slots::TaskContext`] is the context of a crate `Thread` run as a task.
//!
//! # Implementation
//!
//! - [`waiter`]: the node, one per waiting call, on the waiting thread's stack or inside
//!   the waiting future. Its wake target is a parked thread or a task's waker, so threads
//!   and tasks wait side by side in one queue.
//! - [`queue`]: the intrusive list behind a mutex held only to link, unlink or move a grant;
//!   wakes happen after it is released.
//! - [`machine`]: the one state machine of a wait (try, enqueue, re-check, finish, cancel),
//!   driven by parking ([`block`]) or by polling ([`WaitFuture`]).
//! - [`deadline`]: fixed once; too large means forever.
//! - [`sync`]: std or loom.
//!
//! Invariants (see `shared/DESIGN.md`): a grant is moved to a node under the queue lock,
//! which unlinks it and sets its status last, so a waiter that sees `GRANTED` owns the grant
//! whatever else happened; a dropped wait unlinks itself, or gives back what it was granted
//! through the release path, or passes a wake-up on; deadlines are fixed at the call; wakes
//! happen outside the lock; a blocking wait on a tokio multi-thread runtime runs inside
//! `block_in_place`.

pub(crate) mod deadline;
pub(crate) mod flag;
pub(crate) mod machine;
pub(crate) mod owner;
pub(crate) mod permits;
pub(crate) mod queue;
pub(crate) mod signal;
pub(crate) mod slots;
pub(crate) mod sync;
pub(crate) mod waiter;

#[cfg(all(test, loom))]
mod loom_tests;

pub(crate) use deadline::Deadline;
pub(crate) use flag::Flag;
pub(crate) use machine::{
    block, block_after, block_timeout, blocking_region, park_after, wait_timeout, WaitFuture,
};
pub(crate) use owner::{Counter, NotOwned, OwnerId, Reentrant};
pub(crate) use permits::{Permits, ReleaseFault, UNBOUNDED};
pub(crate) use signal::Signal;
