//! What one executor measured. Each executor owns its `Stats` outright (no
//! atomics, nothing shared in the hot loop); the run merges them at the end.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use hdrhistogram::Histogram;
use serde::{Deserialize, Serialize};

/// When a run measures: everything before `measure_from` is warmup, and
/// nothing after `until` happens.
#[derive(Debug, Clone, Copy)]
pub struct Window {
    pub start: Instant,
    pub measure_from: Instant,
    pub until: Instant,
}

impl Window {
    pub fn starting_now(warmup: Duration, duration: Duration) -> Window {
        let start = Instant::now();
        Window {
            start,
            measure_from: start + warmup,
            until: start + warmup + duration,
        }
    }

    pub fn measures(&self, at: Instant) -> bool {
        at >= self.measure_from && at < self.until
    }

    pub fn measured_secs(&self) -> f64 {
        (self.until - self.measure_from).as_secs_f64()
    }
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Counters {
    pub requests: u64,
    /// Records produced (produce), fetched (consume) or received (e2e).
    pub records: u64,
    /// Record-batch bytes for produce, consume and e2e; request plus
    /// response frame bytes for ping.
    pub bytes: u64,
    pub errors: u64,
    /// e2e only: records the producing side had acknowledged.
    pub produced_records: u64,
}

impl Counters {
    pub fn add(&mut self, other: &Counters) {
        self.requests += other.requests;
        self.records += other.records;
        self.bytes += other.bytes;
        self.errors += other.errors;
        self.produced_records += other.produced_records;
    }

    pub fn since(&self, earlier: &Counters) -> Counters {
        Counters {
            requests: self.requests.saturating_sub(earlier.requests),
            records: self.records.saturating_sub(earlier.records),
            bytes: self.bytes.saturating_sub(earlier.bytes),
            errors: self.errors.saturating_sub(earlier.errors),
            produced_records: self
                .produced_records
                .saturating_sub(earlier.produced_records),
        }
    }
}

/// A latency histogram in nanoseconds, 3 significant digits.
#[derive(Debug, Clone)]
pub struct Latency(Histogram<u64>);

impl Default for Latency {
    fn default() -> Self {
        Latency(Histogram::new(3).expect("3 significant figures is a valid histogram precision"))
    }
}

/// Latency percentiles in milliseconds (with microsecond precision).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Percentiles {
    pub count: u64,
    pub min: f64,
    pub mean: f64,
    pub p50: f64,
    pub p90: f64,
    pub p99: f64,
    pub p999: f64,
    pub max: f64,
}

fn ms(nanos: f64) -> f64 {
    (nanos / 1_000.0).round() / 1_000.0
}

impl Latency {
    pub fn record(&mut self, latency: Duration) {
        let nanos = u64::try_from(latency.as_nanos()).unwrap_or(u64::MAX).max(1);
        // `record` grows the auto-resizing histogram; `saturating_record`
        // would clamp to its current (initially tiny) range instead.
        if self.0.record(nanos).is_err() {
            self.0.saturating_record(nanos);
        }
    }

    pub fn merge(&mut self, other: &Latency) {
        // Both sides auto-resize, so adding cannot run out of range.
        let _ = self.0.add(&other.0);
    }

    pub fn percentiles(&self) -> Option<Percentiles> {
        let h = &self.0;
        (!h.is_empty()).then(|| Percentiles {
            count: h.len(),
            min: ms(h.min() as f64),
            mean: ms(h.mean()),
            p50: ms(h.value_at_quantile(0.50) as f64),
            p90: ms(h.value_at_quantile(0.90) as f64),
            p99: ms(h.value_at_quantile(0.99) as f64),
            p999: ms(h.value_at_quantile(0.999) as f64),
            max: ms(h.max() as f64),
        })
    }
}

#[derive(Debug, Clone)]
pub struct Stats {
    pub window: Window,
    /// Everything since the start, warmup included: the progress line.
    pub live: Counters,
    /// Only what completed inside the measured window: the summary.
    pub measured: Counters,
    pub request_latency: Latency,
    pub record_latency: Latency,
    /// Every error of the run (warmup included), by kind.
    pub error_kinds: BTreeMap<String, u64>,
}

impl Stats {
    pub fn new(window: Window) -> Stats {
        Stats {
            window,
            live: Counters::default(),
            measured: Counters::default(),
            request_latency: Latency::default(),
            record_latency: Latency::default(),
            error_kinds: BTreeMap::new(),
        }
    }

    fn count(&mut self, at: Instant, add: Counters) {
        self.live.add(&add);
        if self.window.measures(at) {
            self.measured.add(&add);
        }
    }

    /// A request answered at `now` that was sent at `sent`.
    pub fn answered(&mut self, sent: Instant, now: Instant, records: u64, bytes: u64) {
        let add = Counters {
            requests: 1,
            records,
            bytes,
            ..Counters::default()
        };
        self.count(now, add);
        if self.window.measures(now) {
            self.request_latency.record(now - sent);
        }
    }

    /// A request that gets no answer (acks=0), counted when written.
    pub fn sent_unanswered(&mut self, now: Instant, records: u64, bytes: u64) {
        let add = Counters {
            requests: 1,
            records,
            bytes,
            ..Counters::default()
        };
        self.count(now, add);
    }

    /// e2e: records the producing side got acknowledged.
    pub fn produced(&mut self, now: Instant, records: u64) {
        let add = Counters {
            produced_records: records,
            ..Counters::default()
        };
        self.count(now, add);
    }

    /// e2e: records that arrived at the consuming side.
    pub fn received(&mut self, now: Instant, records: u64, bytes: u64, ages: &[Duration]) {
        let add = Counters {
            records,
            bytes,
            ..Counters::default()
        };
        self.count(now, add);
        if self.window.measures(now) {
            for age in ages {
                self.record_latency.record(*age);
            }
        }
    }

    /// An error now; warmup errors (a new topic's leaders settling, say)
    /// are kept apart from the measured ones but still listed by kind.
    pub fn error(&mut self, kind: impl Into<String>) {
        self.error_at(Instant::now(), kind);
    }

    pub fn error_at(&mut self, at: Instant, kind: impl Into<String>) {
        let add = Counters {
            errors: 1,
            ..Counters::default()
        };
        self.count(at, add);
        *self.error_kinds.entry(kind.into()).or_insert(0) += 1;
    }

    pub fn merge(&mut self, other: &Stats) {
        self.live.add(&other.live);
        self.measured.add(&other.measured);
        self.request_latency.merge(&other.request_latency);
        self.record_latency.merge(&other.record_latency);
        for (kind, n) in &other.error_kinds {
            *self.error_kinds.entry(kind.clone()).or_insert(0) += n;
        }
    }
}

/// 1234567.8 -> "1,234,568".
pub fn format_count(n: f64) -> String {
    let digits = format!("{:.0}", n.max(0.0));
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(actual: f64, expected: f64) -> bool {
        // hdrhistogram with 3 significant digits is exact to within 0.1%.
        (actual - expected).abs() <= expected * 0.001 + 0.001
    }

    #[test]
    fn percentiles_of_one_to_a_hundred_milliseconds() {
        let mut latency = Latency::default();
        for ms in 1..=100 {
            latency.record(Duration::from_millis(ms));
        }
        let p = latency.percentiles().unwrap();
        assert_eq!(p.count, 100);
        assert!(close(p.p50, 50.0), "p50 {}", p.p50);
        assert!(close(p.p90, 90.0), "p90 {}", p.p90);
        assert!(close(p.p99, 99.0), "p99 {}", p.p99);
        assert!(close(p.p999, 100.0), "p99.9 {}", p.p999);
        assert!(close(p.min, 1.0) && close(p.max, 100.0));
        assert!(close(p.mean, 50.5), "mean {}", p.mean);
    }

    #[test]
    fn microsecond_latencies_keep_microsecond_precision() {
        let mut latency = Latency::default();
        for _ in 0..99 {
            latency.record(Duration::from_micros(250));
        }
        latency.record(Duration::from_micros(7_500));
        let p = latency.percentiles().unwrap();
        assert_eq!(p.p50, 0.25);
        assert!(close(p.p999, 7.5), "p99.9 {}", p.p999);
    }

    #[test]
    fn merged_histograms_give_the_percentiles_of_the_union() {
        let mut a = Latency::default();
        let mut b = Latency::default();
        for ms in 1..=50 {
            a.record(Duration::from_millis(ms));
        }
        for ms in 51..=100 {
            b.record(Duration::from_millis(ms));
        }
        a.merge(&b);
        let p = a.percentiles().unwrap();
        assert_eq!(p.count, 100);
        assert!(close(p.p50, 50.0) && close(p.p99, 99.0));
        assert!(Latency::default().percentiles().is_none());
    }

    #[test]
    fn only_the_window_is_measured_and_errors_are_listed_by_kind() {
        let window = Window::starting_now(Duration::from_secs(1), Duration::from_secs(1));
        let mut stats = Stats::new(window);
        let warmup = window.start;
        let inside = window.measure_from + Duration::from_millis(10);
        stats.answered(warmup, warmup, 10, 100);
        stats.answered(inside, inside, 5, 50);
        stats.error_at(warmup, "boom");
        stats.error_at(inside, "boom");
        assert_eq!(stats.live.records, 15);
        assert_eq!(stats.measured.records, 5);
        assert_eq!((stats.live.errors, stats.measured.errors), (2, 1));
        assert_eq!(stats.request_latency.percentiles().unwrap().count, 1);
        let mut total = Stats::new(window);
        total.merge(&stats);
        total.merge(&stats);
        assert_eq!(total.measured.bytes, 100);
        assert_eq!(total.error_kinds["boom"], 4);
    }
}
