//! Deadlines: fixed once, at the call; a duration too large to be a deadline waits forever.

use std::time::Duration;

/// The largest timeout that counts as finite: `9_223_372_036` seconds (about 292 years,
/// Python's `threading.TIMEOUT_MAX` on Linux).
///
/// Every `*_timeout` method accepts any [`Duration`]. A timeout above `TIMEOUT_MAX`, or one
/// whose deadline the platform's [`Instant`](std::time::Instant) cannot hold, waits forever,
/// as if no timeout had been given; neither is an error and neither panics (Python raises
/// `OverflowError` there instead).
///
/// # Examples
///
/// ```
/// use threading::blocking::Lock;
/// use threading::TIMEOUT_MAX;
///
/// let lock = Lock::new();
/// // A free lock is taken at once, whatever the timeout.
/// assert!(lock.acquire_timeout(TIMEOUT_MAX).is_some());
/// ```
pub const TIMEOUT_MAX: Duration = Duration::from_secs(9_223_372_036);

/// When a blocking wait gives up. Computed once when the call starts, so wake-ups that do
/// not satisfy the waiter never extend the wait.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Deadline {
    /// No timeout, or one too large to be represented.
    Never,
    /// Give up once the monotonic clock reaches this instant.
    At(std::time::Instant),
}

impl Deadline {
    /// The deadline `timeout` from now, or [`Deadline::Never`] if that is past
    /// [`TIMEOUT_MAX`] or past what an `Instant` can hold.
    pub(crate) fn after(timeout: Duration) -> Self {
        if timeout > TIMEOUT_MAX {
            return Deadline::Never;
        }
        match std::time::Instant::now().checked_add(timeout) {
            Some(at) => Deadline::At(at),
            None => Deadline::Never,
        }
    }

    /// The same rule on tokio's clock (which a test can pause): `None` waits forever.
    pub(crate) fn after_async(timeout: Duration) -> Option<tokio::time::Instant> {
        if timeout > TIMEOUT_MAX {
            return None;
        }
        tokio::time::Instant::now().checked_add(timeout)
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;

    #[test]
    fn huge_timeouts_wait_forever() {
        assert_eq!(Deadline::after(Duration::MAX), Deadline::Never);
        assert_eq!(
            Deadline::after(TIMEOUT_MAX + Duration::from_nanos(1)),
            Deadline::Never
        );
        assert!(Deadline::after_async(Duration::MAX).is_none());
    }

    #[test]
    fn finite_timeouts_have_a_deadline() {
        let before = std::time::Instant::now();
        match Deadline::after(Duration::from_secs(1)) {
            Deadline::At(at) => assert!(at >= before + Duration::from_secs(1)),
            Deadline::Never => panic!("a one-second timeout must have a deadline"),
        }
    }
}
