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
