//! The blocking forms: the same primitives, with methods that block the calling OS thread.
//!
//! They need no runtime and work on any thread. Each is the same state as its async twin
//! at the crate root: `lock.blocking()` and `lock.as_async()` convert between them for free,
//! so one instance serves threads and tasks at once.
//!
//! # Examples
//!
//! ```
//! use threading::blocking::{Event, Lock};
//!
//! let lock = Lock::new();
//! let done = Event::new();
//! std::thread::scope(|s| {
//!     s.spawn(|| {
//!         let _g = lock.acquire();
//!         done.set();
//!     });
//! });
//! assert!(done.is_set() && !lock.locked());
//! ```

pub use crate::barrier::BlockingBarrier as Barrier;
pub use crate::condition::BlockingCondition as Condition;
pub use crate::event::BlockingEvent as Event;
pub use crate::local::BlockingLocal as Local;
pub use crate::lock::BlockingLock as Lock;
pub use crate::rlock::BlockingOwnedRLockGuard as OwnedRLockGuard;
pub use crate::rlock::BlockingRLock as RLock;
pub use crate::rlock::BlockingRLockGuard as RLockGuard;
pub use crate::semaphore::BlockingBoundedSemaphore as BoundedSemaphore;
pub use crate::semaphore::BlockingSemaphore as Semaphore;
pub use crate::thread::blocking_fns::{current_thread, enumerate, main_thread};
pub use crate::thread::blocking_shutdown as shutdown;
pub use crate::thread::BlockingThread as Thread;
pub use crate::thread::BlockingThreadBuilder as ThreadBuilder;
pub use crate::thread::{
    active_count, clear_start_hook, excepthook, get_ident, get_native_id, set_excepthook,
    set_stack_size, set_start_hook, stack_size, ExceptHookArgs,
};
pub use crate::timer::BlockingTimer as Timer;
