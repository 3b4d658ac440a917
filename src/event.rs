//! `Event`: Python's `threading.Event` and `asyncio.Event`, one state for both.

use std::fmt;
use std::future::Future;
use std::time::Duration;

use crate::forms::two_forms;
use crate::wait::{block, block_timeout, wait_timeout, Deadline, Flag, WaitFuture};

/// A flag that tasks and threads can wait for, with an async interface: Python's
/// `threading.Event` / `asyncio.Event`.
///
/// [`set`](Event::set) raises the flag and wakes every waiter; [`clear`](Event::clear)
/// lowers it; [`wait`](Event::wait) waits until it is raised. A waiter woken by `set`
/// returns even if the flag was cleared again before it ran. One instance serves both
/// worlds: [`blocking()`](Event::blocking) gives the same event with blocking methods.
///
/// # Fairness
/// An event wakes all its waiters at once; it has one policy.
///
/// # Examples
///
/// ```
/// use std::sync::Arc;
/// use threading::Event;
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// let ready = Arc::new(Event::new());
/// // A plain thread waits for a task to set the event.
/// let r = ready.clone();
/// let t = std::thread::spawn(move || r.blocking().wait());
/// ready.set();
/// t.join().unwrap();
/// assert!(ready.is_set());
/// ready.wait().await; // returns at once while set
/// # }
/// ```
#[repr(transparent)]
pub struct Event {
    flag: Flag,
}

/// The blocking form of [`Event`](crate::Event): the same state, with methods that block
/// the calling thread. Needs no runtime.
///
/// # Fairness
/// An event wakes all its waiters at once.
///
/// # Examples
///
/// ```
/// use std::sync::Arc;
/// use threading::blocking::Event;
///
/// let go = Arc::new(Event::new());
/// let g = go.clone();
/// let t = std::thread::spawn(move || g.wait());
/// go.set();
/// t.join().unwrap();
/// ```
#[repr(transparent)]
pub struct BlockingEvent {
    flag: Flag,
}

two_forms!(Event, BlockingEvent, Flag, "event", "Event::new()");

macro_rules! event_common {
    ($ty:ident, $path:literal) => {
        impl $ty {
            /// A new event, not set.
            ///
            /// # Examples
            ///
            /// ```
            #[doc = concat!("static READY: ", $path, " = ", $path, "::new();")]
            /// assert!(!READY.is_set());
            /// ```
            #[cfg(not(loom))]
            pub const fn new() -> Self {
                Self { flag: Flag::new() }
            }

            /// A new event, not set. Not `const` under loom.
            #[cfg(loom)]
            pub fn new() -> Self {
                Self { flag: Flag::new() }
            }

            /// Set the flag and wake every thread and task waiting for it. Setting a set
            /// event does nothing.
            ///
            /// # Examples
            ///
            /// ```
            #[doc = concat!("let e = ", $path, "::new();")]
            /// e.set();
            /// assert!(e.is_set());
            /// ```
            #[inline]
            pub fn set(&self) {
                self.flag.set();
            }

            /// Lower the flag: later waits wait until the next `set`.
            ///
            /// # Examples
            ///
            /// ```
            #[doc = concat!("let e = ", $path, "::new();")]
            /// e.set();
            /// e.clear();
            /// assert!(!e.is_set());
            /// ```
            #[inline]
            pub fn clear(&self) {
                self.flag.clear();
            }

            /// Whether the flag is set.
            ///
            /// # Examples
            ///
            /// ```
            #[doc = concat!("assert!(!", $path, "::new().is_set());")]
            /// ```
            #[inline]
            pub fn is_set(&self) -> bool {
                self.flag.is_set()
            }
        }

        impl Default for $ty {
            fn default() -> Self {
                Self::new()
            }
        }

        impl fmt::Debug for $ty {
            /// Python's repr: `<threading.Event waiters=0: set>` or `…: unset>`.
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(
                    f,
                    "<threading.Event waiters={}: {}>",
                    self.flag.waiters(),
                    if self.is_set() { "set" } else { "unset" }
                )
            }
        }
    };
}

event_common!(Event, "threading::Event");
event_common!(BlockingEvent, "threading::blocking::Event");

impl Event {
    /// Wait until the flag is set; returns at once if it is.
    ///
    /// # Cancel safety
    /// Cancel safe: a dropped `wait` future leaves the queue and consumes nothing (every
    /// waiter is woken by `set`).
    ///
    /// # Examples
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// let e = std::sync::Arc::new(threading::Event::new());
    /// let e2 = e.clone();
    /// tokio::spawn(async move { e2.set() });
    /// e.wait().await;
    /// assert!(e.is_set());
    /// # }
    /// ```
    pub async fn wait(&self) {
        if !self.flag.is_set() {
            WaitFuture::new(&self.flag, None).await;
        }
    }

    /// Wait at most `timeout` for the flag; returns whether it was set (true) or the
    /// timeout ran out first (false, never before `timeout`). The deadline is fixed when
    /// this method is called; a zero timeout just reads the flag; a timeout above
    /// [`TIMEOUT_MAX`](crate::TIMEOUT_MAX) waits forever.
    ///
    /// # Cancel safety
    /// Cancel safe, as [`wait`](Self::wait).
    ///
    /// # Panics
    /// If it has to wait (the flag is not set and the timeout is not zero) outside a tokio
    /// runtime, or on one built without the time driver (`enable_time`): the timeout runs
    /// on tokio's timer, which panics there. [`wait`](Self::wait) needs no timer.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// let e = threading::Event::new();
    /// assert!(!e.wait_timeout(Duration::from_millis(10)).await);
    /// e.set();
    /// assert!(e.wait_timeout(Duration::from_millis(10)).await);
    /// # }
    /// ```
    pub fn wait_timeout(&self, timeout: Duration) -> impl Future<Output = bool> + Send + '_ {
        wait_timeout(&self.flag, timeout)
    }
}

impl BlockingEvent {
    /// Block until the flag is set; returns at once if it is.
    ///
    /// # Runtime threads
    /// A set event returns at once, on any thread. If it must wait on a thread of a tokio
    /// multi-thread runtime, it waits inside `block_in_place`; on a current-thread runtime
    /// it parks the thread, and if the setter is a task of that same runtime this
    /// deadlocks: use [`Event::wait`](crate::Event::wait) there.
    ///
    /// # Panics
    /// Only where tokio refuses `block_in_place`, which its public API cannot tell
    /// beforehand: a wait inside a `LocalSet` driven by a multi-thread runtime panics with
    /// tokio's message. Use the async form there.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::Arc;
    /// let e = Arc::new(threading::blocking::Event::new());
    /// let e2 = e.clone();
    /// let setter = std::thread::spawn(move || e2.set());
    /// e.wait();
    /// assert!(e.is_set());
    /// setter.join().unwrap();
    /// ```
    pub fn wait(&self) {
        if !self.flag.is_set() {
            block(&self.flag, Deadline::Never);
        }
    }

    /// Block at most `timeout` for the flag; returns whether it was set (true) or the
    /// timeout ran out first (false, never before `timeout`). A zero timeout just reads the
    /// flag; a timeout above [`TIMEOUT_MAX`](crate::TIMEOUT_MAX) waits forever.
    ///
    /// # Runtime threads
    /// As [`wait`](Self::wait). A set flag or a zero timeout never waits.
    ///
    /// # Panics
    /// As [`wait`](Self::wait): only where tokio refuses `block_in_place` (a wait inside a
    /// `LocalSet` driven by a multi-thread runtime), and only if it has to wait.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// let e = threading::blocking::Event::new();
    /// assert!(!e.wait_timeout(Duration::from_millis(10)));
    /// e.set();
    /// assert!(e.wait_timeout(Duration::ZERO));
    /// ```
    pub fn wait_timeout(&self, timeout: Duration) -> bool {
        block_timeout(&self.flag, timeout)
    }
}
