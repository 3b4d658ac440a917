//! Auto traits of every public type, and the error types' bounds.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

fn send<T: Send>(_: &T) {}
fn send_sync<T: Send + Sync>() {}
fn error<T: std::error::Error + Send + Sync + 'static>() {}
fn send_future<F: Future + Send>(_: F) {}

#[test]
fn primitives_are_send_and_sync() {
    send_sync::<threading::Lock>();
    send_sync::<threading::blocking::Lock>();
    send_sync::<threading::Semaphore>();
    send_sync::<threading::blocking::Semaphore>();
    send_sync::<threading::BoundedSemaphore>();
    send_sync::<threading::blocking::BoundedSemaphore>();
    send_sync::<threading::Event>();
    send_sync::<threading::blocking::Event>();
}

/// A `Lock` has no owner (Python's rule): its guards may move to, and be dropped on, any
/// thread or task.
#[test]
fn guards_are_send_and_sync() {
    send_sync::<threading::LockGuard<'static>>();
    send_sync::<threading::OwnedLockGuard>();
    send_sync::<threading::SemaphoreGuard<'static>>();
    send_sync::<threading::OwnedSemaphoreGuard>();
}

#[test]
fn futures_are_send() {
    let lock = Arc::new(threading::Lock::new());
    let sem = threading::Semaphore::new(1);
    let event = threading::Event::new();
    let d = Duration::from_millis(1);
    send_future(lock.acquire());
    send_future(lock.acquire_timeout(d));
    send_future(lock.acquire_owned());
    send_future(sem.acquire());
    send_future(sem.acquire_timeout(d));
    send_future(event.wait());
    send_future(event.wait_timeout(d));
    let fut = lock.acquire();
    send(&fut);
}

#[test]
fn errors_are_error_send_sync() {
    error::<threading::ReleaseUnlockedError>();
    error::<threading::SemaphoreReleaseError>();
}
