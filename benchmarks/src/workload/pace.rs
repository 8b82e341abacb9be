//! Open-loop pacing: a connection with a rate sends its n-th record at
//! start + n / rate, whatever the responses do, so a slow target shows up
//! as latency rather than as a quietly lower offered load.

use std::time::{Duration, Instant};

use crate::cli::Rate;

#[derive(Debug, Clone)]
pub struct Pace {
    start: Instant,
    per_sec: Option<f64>,
    sent: u64,
}

impl Pace {
    /// `rate` is shared evenly by `connections`.
    pub fn new(rate: Rate, connections: usize, start: Instant) -> Pace {
        let per_sec = match rate {
            Rate::Max => None,
            Rate::PerSec(r) => Some(r / connections.max(1) as f64),
        };
        Pace {
            start,
            per_sec,
            sent: 0,
        }
    }

    /// When the next record is due; `None` when unlimited.
    pub fn due(&self) -> Option<Instant> {
        let per_sec = self.per_sec?;
        Some(self.start + Duration::from_secs_f64(self.sent as f64 / per_sec))
    }

    pub fn allows_now(&self, now: Instant) -> bool {
        match self.due() {
            None => true,
            Some(due) => due <= now,
        }
    }

    pub fn sent(&mut self, records: u64) {
        self.sent += records;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_are_spread_over_time_and_connections() {
        let start = Instant::now();
        let mut pace = Pace::new(Rate::PerSec(1000.0), 2, start);
        assert_eq!(pace.due(), Some(start));
        pace.sent(100);
        assert_eq!(pace.due(), Some(start + Duration::from_millis(200)));
        assert!(!pace.allows_now(start + Duration::from_millis(199)));
        assert!(pace.allows_now(start + Duration::from_millis(200)));
        assert_eq!(Pace::new(Rate::Max, 1, start).due(), None);
    }
}
