//! The main thread during a run: prints a progress line each second from
//! the counters executors send over a channel, and reads CPU time at the
//! edges of the measured window so CPU and bytes cover the same span.

use std::time::{Duration, Instant};

use crossbeam_channel::{Receiver, RecvTimeoutError};

use crate::procfs;
use crate::stats::{format_count, Counters, Window};

/// One executor's counters since the start of the run.
#[derive(Debug, Clone, Copy)]
pub struct Progress {
    pub executor: usize,
    pub live: Counters,
}

/// CPU seconds spent inside the measured window; `None` where /proc could
/// not be read (the process exited, or it is not ours to read).
#[derive(Debug, Clone, Default)]
pub struct CpuUsage {
    pub tool_seconds: Option<f64>,
    pub pid_seconds: Vec<Option<f64>>,
}

pub struct Watch<'a> {
    pub label: &'a str,
    pub quiet: bool,
    pub window: Window,
    pub executors: usize,
    pub pids: &'a [u32],
}

struct CpuSample {
    tool: Option<f64>,
    pids: Vec<Option<f64>>,
}

fn sample(pids: &[u32]) -> CpuSample {
    CpuSample {
        tool: procfs::own_cpu_seconds().ok(),
        pids: pids.iter().map(|&p| procfs::cpu_seconds(p).ok()).collect(),
    }
}

fn spent(before: Option<f64>, after: Option<f64>) -> Option<f64> {
    Some(after? - before?).filter(|s| *s >= 0.0)
}

const TICK: Duration = Duration::from_secs(1);

/// Runs until the window closes (or every executor has gone).
pub fn watch(spec: &Watch, progress: &Receiver<Progress>) -> CpuUsage {
    let window = spec.window;
    let mut latest = vec![Counters::default(); spec.executors];
    let mut shown = (window.start, Counters::default());
    let mut next_tick = window.start + TICK;
    let mut before: Option<CpuSample> = None;
    loop {
        let now = Instant::now();
        if before.is_none() && now >= window.measure_from {
            before = Some(sample(spec.pids));
        }
        if now >= window.until {
            break;
        }
        if now >= next_tick {
            if !spec.quiet {
                shown = print_progress(spec, &latest, shown, now);
            }
            next_tick += TICK;
        }
        let edge = if before.is_none() {
            window.measure_from
        } else {
            window.until
        };
        match progress.recv_deadline(next_tick.min(edge)) {
            Ok(p) => {
                if let Some(slot) = latest.get_mut(p.executor) {
                    *slot = p.live;
                }
            }
            Err(RecvTimeoutError::Timeout) => {}
            Err(RecvTimeoutError::Disconnected) => break,
        }
    }
    let after = sample(spec.pids);
    let before = before.unwrap_or_else(|| sample(spec.pids));
    CpuUsage {
        tool_seconds: spent(before.tool, after.tool),
        pid_seconds: before
            .pids
            .iter()
            .zip(&after.pids)
            .map(|(b, a)| spent(*b, *a))
            .collect(),
    }
}

fn print_progress(
    spec: &Watch,
    latest: &[Counters],
    shown: (Instant, Counters),
    now: Instant,
) -> (Instant, Counters) {
    let mut total = Counters::default();
    for c in latest {
        total.add(c);
    }
    let delta = total.since(&shown.1);
    let secs = now.duration_since(shown.0).as_secs_f64().max(1e-3);
    let phase = if now < spec.window.measure_from {
        "warmup"
    } else {
        "measure"
    };
    let elapsed = now.duration_since(spec.window.start).as_secs();
    let records = delta.records.max(delta.produced_records);
    eprintln!(
        "sluice-bench {} {phase} {elapsed:>4}s  {} records/s  {:.1} MB/s  {} requests/s  {} errors",
        spec.label,
        format_count(records as f64 / secs),
        delta.bytes as f64 / secs / 1e6,
        format_count(delta.requests as f64 / secs),
        total.errors,
    );
    (now, total)
}
