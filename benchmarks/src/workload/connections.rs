//! `connections`: what an idle client connection costs a gateway in
//! resident memory, and how fast it accepts new ones.
//!
//! N connections are opened (each does one ApiVersions round trip so a
//! gateway has its upstream connection open too) and held; the gateway's
//! VmRSS is read before opening and after they settle. Then a connect
//! storm: connect, ApiVersions, close, as fast as possible.

use std::net::SocketAddr;
use std::rc::Rc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use crossbeam_channel::Sender;
use glommio::sync::Semaphore;
use glommio::timer::sleep;

use super::{backoff_after, deal, run_measured, Measured, RunSetup};
use crate::cli::ConnectionsArgs;
use crate::error::BenchError;
use crate::kafka::conn::{self, Stream};
use crate::kafka::ProtocolError;
use crate::placement;
use crate::procfs;

/// Connections each executor opens at once while filling up, so a burst
/// does not overflow the target's accept backlog.
const OPEN_CONCURRENCY: u64 = 64;
const RELEASE_POLL: Duration = Duration::from_millis(20);

#[derive(Debug, Default)]
pub struct Held {
    pub opened: usize,
    pub failed: usize,
    pub first_error: Option<String>,
}

pub struct HoldResult {
    pub held: Held,
    pub rss_before: Option<u64>,
    pub rss_after: Option<u64>,
}

pub struct ConnectionsRun {
    pub hold: HoldResult,
    pub storm: Option<Measured>,
}

pub fn run(
    bootstrap: &str,
    args: &ConnectionsArgs,
    plan: &[Option<usize>],
    quiet: bool,
) -> Result<ConnectionsRun, BenchError> {
    let (version, addr) = super::api_versions_probe(bootstrap)?;
    if let Some(pid) = args.pid {
        procfs::rss_bytes(pid).map_err(|e| BenchError::Usage(format!("--pid {pid}: {e}")))?;
    }
    let hold = hold_idle(addr, version, args, plan)?;
    if !quiet {
        eprintln!(
            "sluice-bench connections: {} open, {} failed",
            hold.held.opened, hold.held.failed
        );
    }
    let storm = if args.no_storm {
        None
    } else {
        let setup = RunSetup {
            label: "connections storm".to_string(),
            plan: plan.to_vec(),
            quiet,
            warmup: Duration::ZERO,
            duration: args.duration,
            pids: args.pid.into_iter().collect(),
        };
        Some(storm(addr, version, args.storm_concurrency, &setup)?)
    };
    Ok(ConnectionsRun { hold, storm })
}

fn hold_idle(
    addr: SocketAddr,
    version: i16,
    args: &ConnectionsArgs,
    plan: &[Option<usize>],
) -> Result<HoldResult, BenchError> {
    let rss = |pid: Option<u32>| pid.and_then(|p| procfs::rss_bytes(p).ok());
    let rss_before = rss(args.pid);
    let counts: Vec<usize> = deal(vec![1usize; args.connections], plan.len())
        .iter()
        .map(Vec::len)
        .collect();
    let counts = Arc::new(counts);
    let release = Arc::new(AtomicBool::new(false));
    let (tx, rx) = crossbeam_channel::unbounded();
    let gate = release.clone();
    let handles = placement::spawn_executors(plan, "sluice-bench-hold", move |index| {
        let count = counts.get(index).copied().unwrap_or(0);
        hold_share(count, addr, version, tx, gate)
    })?;
    let mut held = Held::default();
    for report in rx.iter().take(plan.len()) {
        held.opened += report.opened;
        held.failed += report.failed;
        held.first_error = held.first_error.or(report.first_error);
    }
    std::thread::sleep(args.settle);
    let rss_after = rss(args.pid);
    release.store(true, Ordering::Release);
    placement::join_executors(handles)?;
    Ok(HoldResult {
        held,
        rss_before,
        rss_after,
    })
}

async fn hold_share(
    count: usize,
    addr: SocketAddr,
    version: i16,
    report: Sender<Held>,
    release: Arc<AtomicBool>,
) {
    let gate = Rc::new(Semaphore::new(OPEN_CONCURRENCY));
    let tasks: Vec<_> = (0..count)
        .map(|_| {
            let gate = gate.clone();
            glommio::spawn_local(async move {
                let _permit = gate.acquire_permit(1).await;
                open_one(addr, version).await
            })
        })
        .collect();
    let mut streams: Vec<Stream> = Vec::with_capacity(count);
    let mut held = Held::default();
    for task in tasks {
        match task.await {
            Ok(stream) => streams.push(stream),
            Err(e) => {
                held.failed += 1;
                held.first_error.get_or_insert_with(|| e.to_string());
            }
        }
    }
    held.opened = streams.len();
    let _ = report.send(held);
    while !release.load(Ordering::Acquire) {
        sleep(RELEASE_POLL).await;
    }
    drop(streams);
}

async fn open_one(addr: SocketAddr, version: i16) -> Result<Stream, ProtocolError> {
    let mut stream = conn::connect(addr).await?;
    conn::api_versions(&mut stream, version).await?;
    Ok(stream)
}

fn storm(
    addr: SocketAddr,
    version: i16,
    concurrency: usize,
    setup: &RunSetup,
) -> Result<Measured, BenchError> {
    let loops = vec![(); concurrency];
    run_measured(setup, loops, move |(), stats, window| async move {
        while Instant::now() < window.until {
            let started = Instant::now();
            match open_one(addr, version).await {
                Ok(stream) => {
                    drop(stream);
                    stats.borrow_mut().answered(started, Instant::now(), 0, 0);
                }
                Err(e) => backoff_after(&stats, e).await,
            }
        }
    })
}

/// Resident bytes the held connections added, per connection.
pub fn bytes_per_connection(before: Option<u64>, after: Option<u64>, opened: usize) -> Option<f64> {
    let (before, after) = (before?, after?);
    (opened > 0).then(|| (after as f64 - before as f64) / opened as f64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn memory_per_connection() {
        assert_eq!(
            bytes_per_connection(Some(1_000_000), Some(3_000_000), 1000),
            Some(2000.0)
        );
        assert_eq!(bytes_per_connection(Some(5), Some(5), 0), None);
        assert_eq!(bytes_per_connection(None, Some(5), 10), None);
    }
}
