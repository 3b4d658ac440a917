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

/// Why `Thread::start()` failed.
///
/// # Examples
///
/// ```
/// use threading::{blocking::Thread, StartError};
///
/// let t = Thread::new(|| 1);
/// t.start().unwrap();
/// // Python's `RuntimeError: threads can only be started once`, even after it ended.
/// assert!(matches!(t.start(), Err(StartError::AlreadyStarted)));
/// # t.join().unwrap();
/// ```
#[derive(Debug)]
#[non_exhaustive]
pub enum StartError {
    /// `start()` was called before, or this is the main thread or a dummy thread, which
    /// are running already (Python's `RuntimeError: threads can only be started once`).
    AlreadyStarted,
    /// The thread runs on tokio (as a task, or as a `spawn_blocking` closure), and
    /// `start()` was called outside any tokio runtime on a thread that was also made
    /// outside one, so there is no runtime to run it on. Nothing ran: `start()` may be
    /// called again from inside a runtime.
    NoRuntime,
    /// The operating system refused to create the thread. The thread is not registered.
    Spawn(std::io::Error),
}

impl fmt::Display for StartError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::AlreadyStarted => f.write_str(
                "threads can only be started once: make a new Thread to run the target again",
            ),
            Self::NoRuntime => f.write_str(
                "this Thread runs as a tokio task but there is no tokio runtime: make or start \
                 it inside a runtime, or use threading::blocking::Thread for an OS thread",
            ),
            Self::Spawn(e) => write!(f, "the operating system refused to start a thread: {e}"),
        }
    }
}

impl std::error::Error for StartError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::Spawn(e) => Some(e),
            _ => None,
        }
    }
}

/// Why `Thread::join()` or `Thread::join_timeout()` did not return the thread's outcome.
///
/// # Examples
///
/// ```
/// use threading::{blocking::Thread, JoinError};
///
/// let t = Thread::new(|| -> u32 { panic!("boom") });
/// # threading::set_excepthook(|_| {});
/// assert!(matches!(t.join(), Err(JoinError::NotStarted)));
/// t.start().unwrap();
/// match t.join() {
///     Err(JoinError::Panicked(p)) => assert_eq!(p.message(), Some("boom")),
///     other => panic!("{other:?}"),
/// }
/// # threading::set_excepthook(threading::excepthook);
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum JoinError {
    /// The thread was never started (Python's `RuntimeError: cannot join thread before it
    /// is started`).
    NotStarted,
    /// A thread or task tried to join itself, which would wait forever (Python's
    /// `RuntimeError: cannot join current thread`).
    CurrentThread,
    /// A dummy thread (one this crate did not start) cannot be joined.
    Dummy,
    /// The timeout ran out while the thread was still alive; join again later.
    TimedOut,
    /// The target panicked. The panic went to the excepthook first.
    Panicked(PanicError),
    /// The thread's task was dropped before it finished, because its runtime shut down.
    Cancelled,
}

impl fmt::Display for JoinError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::NotStarted => f.write_str("cannot join a thread before it is started: call start() first"),
            Self::CurrentThread => f.write_str(
                "cannot join the current thread: it would wait for itself forever",
            ),
            Self::Dummy => f.write_str(
                "cannot join a dummy thread: this crate did not start it, so it cannot tell when it ends",
            ),
            Self::TimedOut => f.write_str(
                "join timed out: the thread is still alive; join again or check is_alive()",
            ),
            Self::Panicked(p) => p.fmt(f),
            Self::Cancelled => f.write_str(
                "the thread's task was dropped before it finished: its tokio runtime shut down",
            ),
        }
    }
}

impl std::error::Error for JoinError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::Panicked(p) => Some(p),
            _ => None,
        }
    }
}

/// A thread's target panicked: the thread's name and the panic message, handed to every
/// joiner (after the excepthook saw the panic).
///
/// # Examples
///
/// ```
/// use threading::{blocking::Thread, JoinError};
///
/// # threading::set_excepthook(|_| {});
/// let t = Thread::builder().name("worker").target(|| panic!("disk full"));
/// t.start().unwrap();
/// let Err(JoinError::Panicked(p)) = t.join() else { unreachable!() };
/// assert_eq!((p.thread_name(), p.message()), ("worker", Some("disk full")));
/// # threading::set_excepthook(threading::excepthook);
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PanicError {
    pub(crate) thread: String,
    pub(crate) message: Option<String>,
}

impl PanicError {
    /// The name the thread had when it panicked.
    ///
    /// # Examples
    ///
    /// ```
    /// use threading::{blocking::Thread, JoinError};
    ///
    /// # threading::set_excepthook(|_| {});
    /// let t = Thread::new(|| panic!("boom"));
    /// t.set_name("renamed");
    /// t.start().unwrap();
    /// let Err(JoinError::Panicked(p)) = t.join() else { unreachable!() };
    /// assert_eq!(p.thread_name(), "renamed");
    /// # threading::set_excepthook(threading::excepthook);
    /// ```
    pub fn thread_name(&self) -> &str {
        &self.thread
    }

    /// The panic message, if the panic carried a string (as `panic!` does).
    ///
    /// # Examples
    ///
    /// ```
    /// use threading::{blocking::Thread, JoinError};
    ///
    /// # threading::set_excepthook(|_| {});
    /// let t = Thread::new(|| std::panic::panic_any(42_i32));
    /// t.start().unwrap();
    /// let Err(JoinError::Panicked(p)) = t.join() else { unreachable!() };
    /// assert_eq!(p.message(), None); // not a string payload
    /// assert!(p.to_string().contains("non-string payload"));
    /// # threading::set_excepthook(threading::excepthook);
    /// ```
    pub fn message(&self) -> Option<&str> {
        self.message.as_deref()
    }
}

impl fmt::Display for PanicError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.message {
            Some(m) => write!(f, "thread {} panicked: {m}", self.thread),
            None => write!(
                f,
                "thread {} panicked with a non-string payload",
                self.thread
            ),
        }
    }
}

impl std::error::Error for PanicError {}

/// `set_daemon()` on a thread that has started (Python's `RuntimeError: cannot set daemon
/// status of active thread`). Nothing changed.
///
/// # Examples
///
/// ```
/// let t = threading::blocking::Thread::new(|| ());
/// t.start().unwrap();
/// assert!(t.set_daemon(true).is_err());
/// # t.join().unwrap();
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DaemonError(pub(crate) ());

impl fmt::Display for DaemonError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(
            "cannot set the daemon flag of a thread that has started: set it before start()",
        )
    }
}

impl std::error::Error for DaemonError {}

/// `set_stack_size(size)` with a size the platform cannot use: under 32 KiB (Python's
/// `ValueError: size not valid`). The setting did not change.
///
/// # Examples
///
/// ```
/// let err = threading::set_stack_size(4096).unwrap_err();
/// assert_eq!(err.size(), 4096);
/// assert_eq!(threading::stack_size(), 0);
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StackSizeError {
    pub(crate) size: usize,
}

impl StackSizeError {
    /// The size that was refused.
    ///
    /// # Examples
    ///
    /// ```
    /// let err = threading::set_stack_size(1024).unwrap_err();
    /// assert_eq!(err.size(), 1024);
    /// ```
    pub fn size(&self) -> usize {
        self.size
    }
}

impl fmt::Display for StackSizeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "stack size {} is not valid: use 0 for the platform default or at least 32768 bytes",
            self.size
        )
    }
}

impl std::error::Error for StackSizeError {}
