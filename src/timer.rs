//! `Timer`: Python's `threading.Timer`, a thread that runs a function once after an
//! interval unless cancelled first.
//!
//! # Implementation
//!
//! A timer is a [`Thread`] (a task in the async form, an OS thread in the blocking form)
//! whose body waits on the timer's own [`Event`] with the interval as timeout: the waiting
//! core's timer, never early. [`cancel`](Timer::cancel) sets the event, so a waiting timer
//! thread ends at once. Whether the function runs is decided once, under a small mutex:
//! the first of "interval over" and "cancelled" wins, so a cancel that returns `true`
//! guarantees the function never runs, and one that returns `false` came too late.

use std::future::Future;
use std::ops::Deref;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use crate::event::Event;
use crate::thread::{timer_os, timer_task, BlockingThread, Thread};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Phase {
    Waiting,
    Fired,
    Cancelled,
}

/// The decision a timer makes once: fire or be cancelled. Not `Debug`: a derived `Debug`
/// would write to the caller's writer with `phase` locked.
struct Cancel {
    phase: Mutex<Phase>,
    /// Set by `cancel`: wakes the waiting timer thread.
    event: Event,
}

impl Cancel {
    /// Move from `Waiting` to `to`; whether this call made the move.
    fn decide(&self, to: Phase) -> bool {
        let mut p = self.phase.lock().unwrap_or_else(PoisonError::into_inner);
        if *p == Phase::Waiting {
            *p = to;
            true
        } else {
            false
        }
    }
}

/// The state both forms of a timer wrap.
#[derive(Clone)]
pub(crate) struct TimerState {
    thread: Thread,
    cancel: Arc<Cancel>,
    interval: Duration,
}

/// A function that runs once, in its own task, after an interval, unless cancelled first:
/// Python's `threading.Timer` for async code. The function is an `async` closure run as a
/// tokio task. The blocking form, [`threading::blocking::Timer`](crate::blocking::Timer),
/// runs a plain closure on an OS thread with no runtime needed.
///
/// A timer is a thread: it derefs to [`Thread`], so [`start`](Thread::start),
/// [`join`](Thread::join), [`is_alive`](Thread::is_alive), [`name`](Thread::name) (an
/// automatic `Thread-N`) and the rest work on it.
///
/// # Examples
///
/// ```
/// use std::sync::atomic::{AtomicBool, Ordering};
/// use std::sync::Arc;
/// use std::time::{Duration, Instant};
/// use threading::Timer;
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// let fired = Arc::new(AtomicBool::new(false));
/// let f = fired.clone();
/// let t0 = Instant::now();
/// let timer = Timer::new(Duration::from_millis(20), move || async move {
///     f.store(true, Ordering::SeqCst);
/// });
/// timer.start().unwrap();
/// timer.join().await.unwrap();
/// assert!(fired.load(Ordering::SeqCst));
/// assert!(t0.elapsed() >= Duration::from_millis(20)); // never early
///
/// // Cancelled before it fires: the function never runs.
/// let timer = Timer::new(Duration::from_secs(3600), || async { unreachable!() });
/// timer.start().unwrap();
/// assert!(timer.cancel());
/// timer.join().await.unwrap(); // ends at once
/// # }
/// ```
#[repr(transparent)]
pub struct Timer {
    state: TimerState,
}

/// The blocking form of [`Timer`](crate::Timer): a plain closure run once on an OS thread
/// after an interval, unless cancelled first. Needs no runtime.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use threading::blocking::Timer;
///
/// let timer = Timer::new(Duration::from_millis(10), || println!("ding"));
/// timer.start().unwrap();
/// timer.join().unwrap();
///
/// let never = Timer::new(Duration::from_secs(3600), || unreachable!());
/// never.start().unwrap();
/// assert!(never.cancel());
/// never.join().unwrap();
/// assert!(!never.is_alive());
/// ```
#[repr(transparent)]
pub struct BlockingTimer {
    state: TimerState,
}

// SAFETY: both forms are `#[repr(transparent)]` over `TimerState` alone, with no `Drop`.
unsafe impl crate::forms::Form for Timer {
    type State = TimerState;
}
// SAFETY: as above.
unsafe impl crate::forms::Form for BlockingTimer {
    type State = TimerState;
}

fn new_cancel() -> Arc<Cancel> {
    Arc::new(Cancel {
        phase: Mutex::new(Phase::Waiting),
        event: Event::new(),
    })
}

impl Timer {
    /// A timer that will run `function().await` in its own task once `interval` has
    /// passed after [`start`](Thread::start) (never earlier; a zero interval runs it at
    /// once), unless [`cancel`](Self::cancel)led first. Its name is an automatic
    /// `Thread-N`.
    ///
    /// The interval runs on tokio's timer, in the timer's task: on a runtime built
    /// without the time driver (`enable_time`), a timer with a nonzero interval panics in
    /// that task without running `function`; the panic goes to the
    /// [excepthook](crate::set_excepthook), and joins get
    /// [`JoinError::Panicked`](crate::JoinError::Panicked).
    ///
    /// # Examples
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// let t = threading::Timer::new(std::time::Duration::ZERO, || async {});
    /// t.start().unwrap();
    /// t.join().await.unwrap();
    /// # }
    /// ```
    pub fn new<F, Fut>(interval: Duration, function: F) -> Self
    where
        F: FnOnce() -> Fut + Send + 'static,
        Fut: Future<Output = ()> + Send + 'static,
    {
        let cancel = new_cancel();
        let c = cancel.clone();
        let record = timer_task(move || async move {
            let cancelled = c.event.wait_timeout(interval).await;
            if !cancelled && c.decide(Phase::Fired) {
                function().await;
            }
        });
        Self {
            state: TimerState {
                thread: Thread::from_record(record),
                cancel,
                interval,
            },
        }
    }
}

impl BlockingTimer {
    /// A timer that will run `function()` on its own OS thread once `interval` has passed
    /// after [`start`](BlockingThread::start) (never earlier; a zero interval runs it at
    /// once), unless [`cancel`](Self::cancel)led first. Its name is an automatic
    /// `Thread-N`.
    ///
    /// # Examples
    ///
    /// ```
    /// let t = threading::blocking::Timer::new(std::time::Duration::ZERO, || ());
    /// t.start().unwrap();
    /// t.join().unwrap();
    /// ```
    pub fn new<F>(interval: Duration, function: F) -> Self
    where
        F: FnOnce() + Send + 'static,
    {
        let cancel = new_cancel();
        let c = cancel.clone();
        let record = timer_os(move || {
            let cancelled = c.event.blocking().wait_timeout(interval);
            if !cancelled && c.decide(Phase::Fired) {
                function();
            }
        });
        Self {
            state: TimerState {
                thread: Thread::from_record(record),
                cancel,
                interval,
            },
        }
    }
}

macro_rules! timer_common {
    ($ty:ident, $path:literal, $target:ty, $deref:path) => {
        impl $ty {
            /// Stop the timer if it is still waiting: its function will never run, and a
            /// started timer thread ends at once. Returns whether this call stopped it;
            /// `false` if the function has started (it is not interrupted) or the timer
            /// was already cancelled. Works before [`start`](Thread::start) too: a later
            /// start then ends at once.
            ///
            /// # Examples
            ///
            /// ```
            #[doc = concat!("let t = ", $path, ";")]
            /// assert!(t.cancel());
            /// assert!(!t.cancel()); // harmless
            /// ```
            pub fn cancel(&self) -> bool {
                let c = &self.state.cancel;
                let stopped = c.decide(Phase::Cancelled);
                c.event.set();
                stopped
            }

            /// The interval the timer waits before running its function.
            ///
            /// # Examples
            ///
            /// ```
            #[doc = concat!("let t = ", $path, ";")]
            /// assert_eq!(t.interval(), std::time::Duration::from_secs(1));
            /// ```
            pub fn interval(&self) -> Duration {
                self.state.interval
            }
        }

        impl Deref for $ty {
            type Target = $target;

            fn deref(&self) -> &$target {
                $deref(&self.state.thread)
            }
        }

        impl Clone for $ty {
            /// Another handle to the same timer.
            fn clone(&self) -> Self {
                Self {
                    state: self.state.clone(),
                }
            }
        }

        impl std::fmt::Debug for $ty {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                std::fmt::Debug::fmt(&**self, f)
            }
        }
    };
}

timer_common!(
    Timer,
    "threading::Timer::new(std::time::Duration::from_secs(1), || async {})",
    Thread,
    same_form
);
timer_common!(
    BlockingTimer,
    "threading::blocking::Timer::new(std::time::Duration::from_secs(1), || ())",
    BlockingThread,
    Thread::blocking
);

fn same_form(t: &Thread) -> &Thread {
    t
}

impl Timer {
    /// This timer's blocking form: the same timer, with blocking joins. Free.
    ///
    /// # Examples
    ///
    /// ```
    /// let t = threading::Timer::new(std::time::Duration::from_secs(1), || async {});
    /// assert!(t.blocking().cancel());
    /// ```
    pub fn blocking(&self) -> &BlockingTimer {
        crate::forms::cast_ref(self)
    }

    /// Turn this handle into its blocking form (the same timer).
    ///
    /// # Examples
    ///
    /// ```
    /// let t = threading::Timer::new(std::time::Duration::from_secs(1), || async {});
    /// let b = t.clone().into_blocking();
    /// assert!(b.cancel() && !t.cancel());
    /// ```
    pub fn into_blocking(self) -> BlockingTimer {
        BlockingTimer { state: self.state }
    }
}

impl BlockingTimer {
    /// This timer's async form: the same timer, with async joins. Free.
    ///
    /// # Examples
    ///
    /// ```
    /// let t = threading::blocking::Timer::new(std::time::Duration::from_secs(1), || ());
    /// assert!(t.as_async().cancel());
    /// ```
    pub fn as_async(&self) -> &Timer {
        crate::forms::cast_ref(self)
    }

    /// Turn this handle into its async form (the same timer).
    ///
    /// # Examples
    ///
    /// ```
    /// let t = threading::blocking::Timer::new(std::time::Duration::from_secs(1), || ());
    /// let a = t.clone().into_async();
    /// assert!(a.cancel() && !t.cancel());
    /// ```
    pub fn into_async(self) -> Timer {
        Timer { state: self.state }
    }
}
