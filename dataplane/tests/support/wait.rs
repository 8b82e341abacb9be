//! Waiting for a condition, never for a fixed time.

use std::time::{Duration, Instant};

/// Polls `check` until it returns Some or `timeout` passes (then panics
/// with `what`, so a test fails saying what never happened).
pub fn until<T>(what: &str, timeout: Duration, mut check: impl FnMut() -> Option<T>) -> T {
    let deadline = Instant::now() + timeout;
    loop {
        if let Some(value) = check() {
            return value;
        }
        if Instant::now() > deadline {
            panic!("timed out after {timeout:?} waiting for: {what}");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Calls `attempt` until it returns true or `timeout` passes; false then.
/// For retrying an operation whose failures are expected for a while.
pub fn until_ok(timeout: Duration, mut attempt: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + timeout;
    loop {
        if attempt() {
            return true;
        }
        if Instant::now() > deadline {
            return false;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}
