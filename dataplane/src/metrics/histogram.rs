//! Latency histograms with fixed buckets. The shard side is plain `Cell`s
//! (one core writes them, nothing else reads them); the snapshot side is
//! plain integers that the admin thread adds up across shards.

use std::cell::Cell;
use std::time::Duration;

/// Upper bounds in nanoseconds, 10 µs to 10 s: gateway processing lives in
/// the microseconds, backend round trips (long-polled fetches included) in
/// the milliseconds to seconds.
pub const BOUNDS_NS: [u64; 19] = [
    10_000,
    25_000,
    50_000,
    100_000,
    250_000,
    500_000,
    1_000_000,
    2_500_000,
    5_000_000,
    10_000_000,
    25_000_000,
    50_000_000,
    100_000_000,
    250_000_000,
    500_000_000,
    1_000_000_000,
    2_500_000_000,
    5_000_000_000,
    10_000_000_000,
];
/// One bucket per bound plus the +Inf bucket.
pub const BUCKETS: usize = BOUNDS_NS.len() + 1;

/// Bucket upper bounds in seconds, as Prometheus and OTLP want them.
pub fn bounds_seconds() -> impl Iterator<Item = f64> {
    BOUNDS_NS.iter().map(|&ns| ns as f64 / 1e9)
}

/// A shard's histogram: per-bucket (not cumulative) counts and the sum.
pub struct CellHistogram {
    buckets: [Cell<u64>; BUCKETS],
    sum_ns: Cell<u64>,
}

impl Default for CellHistogram {
    fn default() -> Self {
        CellHistogram {
            buckets: std::array::from_fn(|_| Cell::new(0)),
            sum_ns: Cell::new(0),
        }
    }
}

impl CellHistogram {
    #[inline]
    pub fn observe(&self, elapsed: Duration) {
        let ns = u64::try_from(elapsed.as_nanos()).unwrap_or(u64::MAX);
        // Prometheus buckets are "less than or equal": the first bound >= ns.
        let index = BOUNDS_NS.partition_point(|&bound| bound < ns);
        if let Some(bucket) = self.buckets.get(index) {
            bucket.set(bucket.get() + 1);
        }
        self.sum_ns.set(self.sum_ns.get().saturating_add(ns));
    }

    pub fn snapshot(&self) -> HistogramCounts {
        HistogramCounts {
            buckets: std::array::from_fn(|i| self.buckets[i].get()),
            sum_ns: self.sum_ns.get(),
        }
    }
}

/// Immutable counts of one histogram, summable across shards.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HistogramCounts {
    pub buckets: [u64; BUCKETS],
    pub sum_ns: u64,
}

impl Default for HistogramCounts {
    fn default() -> Self {
        HistogramCounts {
            buckets: [0; BUCKETS],
            sum_ns: 0,
        }
    }
}

impl HistogramCounts {
    pub fn add(&mut self, other: &HistogramCounts) {
        for (mine, theirs) in self.buckets.iter_mut().zip(other.buckets.iter()) {
            *mine += theirs;
        }
        self.sum_ns = self.sum_ns.saturating_add(other.sum_ns);
    }

    pub fn count(&self) -> u64 {
        self.buckets.iter().sum()
    }

    pub fn sum_seconds(&self) -> f64 {
        self.sum_ns as f64 / 1e9
    }

    /// Counts per bound, each including every smaller bucket (Prometheus
    /// `le` semantics); the +Inf bucket is `count()`.
    pub fn cumulative(&self) -> impl Iterator<Item = u64> + '_ {
        self.buckets[..BOUNDS_NS.len()]
            .iter()
            .scan(0u64, |total, n| {
                *total += n;
                Some(*total)
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn observations_land_in_le_buckets() {
        let h = CellHistogram::default();
        h.observe(Duration::from_micros(10)); // exactly on the first bound
        h.observe(Duration::from_micros(11));
        h.observe(Duration::from_secs(60)); // beyond the last bound: +Inf
        let counts = h.snapshot();
        assert_eq!(counts.buckets[0], 1);
        assert_eq!(counts.buckets[1], 1);
        assert_eq!(counts.buckets[BUCKETS - 1], 1);
        assert_eq!(counts.count(), 3);
        let cumulative: Vec<u64> = counts.cumulative().collect();
        assert_eq!(cumulative.len(), BOUNDS_NS.len());
        assert_eq!(cumulative[0], 1);
        assert_eq!(*cumulative.last().unwrap(), 2);
        assert_eq!(counts.sum_ns, 60_000_021_000);
    }
}
