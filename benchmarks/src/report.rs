//! What a run reports: a table on stdout and the same figures as JSON.
//! Field names are part of the tool's interface (benchmarks/README.md
//! documents them); rename nothing without updating scripts that read them.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::error::BenchError;
use crate::stats::{format_count, Percentiles};
use crate::workload::connections::{bytes_per_connection, ConnectionsRun};
use crate::workload::{Measured, RunSetup};

pub const TOOL: &str = "sluice-bench";

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Summary {
    pub tool: String,
    pub version: String,
    pub workload: String,
    pub target: String,
    pub executors: usize,
    pub connections: usize,
    pub duration_s: f64,
    pub warmup_s: f64,
    pub requests: u64,
    pub records: u64,
    pub bytes: u64,
    pub errors: u64,
    pub warmup_errors: u64,
    pub error_kinds: BTreeMap<String, u64>,
    pub mb_per_sec: f64,
    pub records_per_sec: f64,
    pub requests_per_sec: f64,
    pub latency_ms: Option<Percentiles>,
    pub record_latency_ms: Option<Percentiles>,
    pub produced_records: Option<u64>,
    pub produced_records_per_sec: Option<f64>,
    pub tool_cpu_seconds: Option<f64>,
    pub notes: Vec<String>,
}

impl Summary {
    pub fn new(workload: &str, target: &str, setup: &RunSetup, m: &Measured) -> Summary {
        let secs = setup.duration.as_secs_f64();
        let c = m.stats.measured;
        let per_sec = |n: u64| n as f64 / secs;
        let e2e = workload == "e2e";
        Summary {
            tool: TOOL.to_string(),
            version: env!("CARGO_PKG_VERSION").to_string(),
            workload: workload.to_string(),
            target: target.to_string(),
            executors: m.executors,
            connections: m.connections,
            duration_s: secs,
            warmup_s: setup.warmup.as_secs_f64(),
            requests: c.requests,
            records: c.records,
            bytes: c.bytes,
            errors: c.errors,
            warmup_errors: m.stats.live.errors.saturating_sub(c.errors),
            error_kinds: m.stats.error_kinds.clone(),
            mb_per_sec: c.bytes as f64 / secs / 1e6,
            records_per_sec: per_sec(c.records),
            requests_per_sec: per_sec(c.requests),
            latency_ms: m.stats.request_latency.percentiles(),
            record_latency_ms: m.stats.record_latency.percentiles(),
            produced_records: e2e.then_some(c.produced_records),
            produced_records_per_sec: e2e.then(|| per_sec(c.produced_records)),
            tool_cpu_seconds: m.cpu.tool_seconds,
            notes: Vec::new(),
        }
    }

    pub fn print(&self) {
        println!(
            "{} {} -> {}  ({:.1} s measured after {:.1} s warmup, {} executor(s), {} connection(s))",
            self.tool, self.workload, self.target, self.duration_s, self.warmup_s, self.executors, self.connections
        );
        row("MB/s", &format!("{:.3}", self.mb_per_sec));
        row("records/s", &format_count(self.records_per_sec));
        if let Some(produced) = self.produced_records_per_sec {
            row("produced records/s", &format_count(produced));
        }
        row("requests/s", &format_count(self.requests_per_sec));
        let latency_label = if self.workload == "e2e" {
            "produce latency ms"
        } else {
            "latency ms"
        };
        row(latency_label, &format_percentiles(self.latency_ms.as_ref()));
        if self.workload == "e2e" {
            row(
                "record latency ms",
                &format_percentiles(self.record_latency_ms.as_ref()),
            );
        }
        row("errors", &self.errors.to_string());
        if self.warmup_errors > 0 {
            row("warmup errors", &self.warmup_errors.to_string());
        }
        for (kind, n) in &self.error_kinds {
            row("", &format!("{n} x {kind}"));
        }
        if let Some(cpu) = self.tool_cpu_seconds {
            row("tool CPU s", &format!("{cpu:.2}"));
        }
        for note in &self.notes {
            println!("note: {note}");
        }
    }
}

pub fn row(label: &str, value: &str) {
    println!("  {label:<20} {value}");
}

pub fn format_percentiles(p: Option<&Percentiles>) -> String {
    match p {
        None => "-".to_string(),
        Some(p) => format!(
            "p50 {:.3}  p90 {:.3}  p99 {:.3}  p99.9 {:.3}  (min {:.3}, max {:.3}, n {})",
            p.p50, p.p90, p.p99, p.p999, p.min, p.max, p.count
        ),
    }
}

pub fn write_json<T: Serialize>(path: &Path, value: &T) -> Result<(), BenchError> {
    let io = |e: std::io::Error| BenchError::Io(format!("cannot write {}: {e}", path.display()));
    let text = serde_json::to_string_pretty(value).map_err(|e| BenchError::Io(e.to_string()))?;
    let mut file = std::fs::File::create(path).map_err(io)?;
    file.write_all(text.as_bytes()).map_err(io)?;
    file.write_all(b"\n").map_err(io)
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ConnectionsSummary {
    pub tool: String,
    pub version: String,
    pub workload: String,
    pub target: String,
    pub pid: Option<u32>,
    pub connections_requested: usize,
    pub connections_opened: usize,
    pub connection_failures: usize,
    pub first_failure: Option<String>,
    pub rss_before_bytes: Option<u64>,
    pub rss_after_bytes: Option<u64>,
    pub bytes_per_connection: Option<f64>,
    pub storm: Option<Summary>,
}

impl ConnectionsSummary {
    pub fn new(
        target: &str,
        pid: Option<u32>,
        requested: usize,
        run: &ConnectionsRun,
        storm: Option<Summary>,
    ) -> Self {
        let hold = &run.hold;
        ConnectionsSummary {
            tool: TOOL.to_string(),
            version: env!("CARGO_PKG_VERSION").to_string(),
            workload: "connections".to_string(),
            target: target.to_string(),
            pid,
            connections_requested: requested,
            connections_opened: hold.held.opened,
            connection_failures: hold.held.failed,
            first_failure: hold.held.first_error.clone(),
            rss_before_bytes: hold.rss_before,
            rss_after_bytes: hold.rss_after,
            bytes_per_connection: bytes_per_connection(
                hold.rss_before,
                hold.rss_after,
                hold.held.opened,
            ),
            storm,
        }
    }

    pub fn print(&self) {
        println!("{} connections -> {}", self.tool, self.target);
        row(
            "opened",
            &format!(
                "{} of {}",
                self.connections_opened, self.connections_requested
            ),
        );
        row("failed", &self.connection_failures.to_string());
        if let Some(first) = &self.first_failure {
            row("first failure", first);
        }
        let mib = |b: Option<u64>| {
            b.map_or("-".to_string(), |b| {
                format!("{:.1} MiB", b as f64 / 1048576.0)
            })
        };
        row("RSS before", &mib(self.rss_before_bytes));
        row("RSS after", &mib(self.rss_after_bytes));
        let per = self
            .bytes_per_connection
            .map_or("- (pass --pid)".to_string(), |b| format!("{b:.0}"));
        row("bytes/connection", &per);
        if let Some(storm) = &self.storm {
            row("storm connects/s", &format_count(storm.requests_per_sec));
            row(
                "storm connect ms",
                &format_percentiles(storm.latency_ms.as_ref()),
            );
            row("storm errors", &storm.errors.to_string());
            for (kind, n) in &storm.error_kinds {
                row("", &format!("{n} x {kind}"));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_get_thousands_separators() {
        assert_eq!(format_count(0.0), "0");
        assert_eq!(format_count(999.4), "999");
        assert_eq!(format_count(1234567.8), "1,234,568");
    }
}
