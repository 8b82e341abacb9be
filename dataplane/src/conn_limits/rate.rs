//! The node's connection creation rate, as a generic cell rate algorithm:
//! one atomic holding when the next connection is due. A burst of up to
//! one second's worth is admitted after a quiet second.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

const SECOND_NS: u64 = 1_000_000_000;

pub struct CreationRate {
    per_second: u32,
    /// Nanoseconds between two connections at the steady rate.
    interval: u64,
    start: Instant,
    /// Theoretical arrival time of the next connection, ns after `start`.
    due: AtomicU64,
}

impl CreationRate {
    pub fn new(per_second: u32) -> CreationRate {
        let per_second = per_second.max(1);
        CreationRate {
            per_second,
            interval: SECOND_NS / u64::from(per_second),
            start: Instant::now(),
            due: AtomicU64::new(0),
        }
    }

    pub fn per_second(&self) -> u32 {
        self.per_second
    }

    /// Takes one connection's share, or `Err` when the rate is used up.
    pub fn try_take(&self, now: Instant) -> Result<(), ()> {
        let now =
            u64::try_from(now.saturating_duration_since(self.start).as_nanos()).unwrap_or(u64::MAX);
        let taken = self
            .due
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |due| {
                let next = due.max(now).saturating_add(self.interval);
                (next - now <= SECOND_NS).then_some(next)
            });
        taken.map(drop).map_err(drop)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn a_second_worth_at_once_then_the_steady_rate() {
        let rate = CreationRate::new(10);
        let t0 = rate.start + Duration::from_secs(5);
        let burst = (0..20).filter(|_| rate.try_take(t0).is_ok()).count();
        assert_eq!(burst, 10);
        assert!(rate.try_take(t0 + Duration::from_millis(50)).is_err());
        assert!(rate.try_take(t0 + Duration::from_millis(100)).is_ok());
        assert!(rate.try_take(t0 + Duration::from_millis(150)).is_err());
        let later = t0 + Duration::from_secs(10);
        let burst = (0..20).filter(|_| rate.try_take(later).is_ok()).count();
        assert_eq!(burst, 10);
    }

    #[test]
    fn a_rate_finer_than_the_clock_admits_everything() {
        let rate = CreationRate::new(u32::MAX);
        assert!(rate.try_take(Instant::now()).is_ok());
        assert_eq!(CreationRate::new(0).per_second(), 1);
    }
}
