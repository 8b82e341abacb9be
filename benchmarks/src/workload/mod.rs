//! The workloads sluice-bench drives, and how a measured run is carried
//! out: connections dealt to executors, each executor keeping its own
//! stats, the main thread watching, everything merged at the end.

pub mod connections;
pub mod consume;
pub mod e2e;
pub mod handshakes;
pub mod pace;
pub mod ping;
pub mod pipeline;
pub mod produce;

use std::cell::RefCell;
use std::future::Future;
use std::rc::Rc;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crossbeam_channel::Sender;
use glommio::timer::sleep;

use crate::error::BenchError;
use crate::kafka::blocking::{self, BlockingConn};
use crate::kafka::ProtocolError;
use crate::monitor::{self, CpuUsage, Progress, Watch};
use crate::placement;
use crate::stats::{Stats, Window};

/// Pause before reopening a connection that failed, so a target that
/// refuses everything is not hammered in a tight loop.
const RECONNECT_BACKOFF: Duration = Duration::from_millis(100);
const PROGRESS_EVERY: Duration = Duration::from_secs(1);

pub struct RunSetup {
    pub label: String,
    pub plan: Vec<Option<usize>>,
    pub quiet: bool,
    pub warmup: Duration,
    pub duration: Duration,
    /// Processes whose CPU time is read at the window's edges.
    pub pids: Vec<u32>,
}

pub struct Measured {
    pub stats: Stats,
    pub cpu: CpuUsage,
    pub executors: usize,
    pub connections: usize,
}

/// Runs one future per connection spec, dealt round-robin to executors,
/// for the warmup plus the measured duration.
pub fn run_measured<S, F, Fut>(
    setup: &RunSetup,
    specs: Vec<S>,
    work: F,
) -> Result<Measured, BenchError>
where
    S: Send + 'static,
    F: Fn(S, Rc<RefCell<Stats>>, Window) -> Fut + Send + Sync + Clone + 'static,
    Fut: Future<Output = ()> + 'static,
{
    let executors = setup.plan.len();
    let connections = specs.len();
    let shares: Vec<Option<Vec<S>>> = deal(specs, executors).into_iter().map(Some).collect();
    let shares = Arc::new(Mutex::new(shares));
    let window = Window::starting_now(setup.warmup, setup.duration);
    let (tx, rx) = crossbeam_channel::unbounded();
    let handles = placement::spawn_executors(&setup.plan, "sluice-bench", move |index| {
        let mine = shares
            .lock()
            .ok()
            .and_then(|mut s| s.get_mut(index).and_then(Option::take))
            .unwrap_or_default();
        run_executor(index, mine, work, window, tx)
    })?;
    let watch = Watch {
        label: &setup.label,
        quiet: setup.quiet,
        window,
        executors,
        pids: &setup.pids,
    };
    let cpu = monitor::watch(&watch, &rx);
    let mut stats = Stats::new(window);
    for part in placement::join_executors(handles)? {
        stats.merge(&part);
    }
    Ok(Measured {
        stats,
        cpu,
        executors,
        connections,
    })
}

async fn run_executor<S, F, Fut>(
    index: usize,
    specs: Vec<S>,
    work: F,
    window: Window,
    progress: Sender<Progress>,
) -> Stats
where
    F: Fn(S, Rc<RefCell<Stats>>, Window) -> Fut,
    Fut: Future<Output = ()> + 'static,
{
    let stats = Rc::new(RefCell::new(Stats::new(window)));
    let reporter = glommio::spawn_local(report_progress(index, stats.clone(), progress));
    let tasks: Vec<_> = specs
        .into_iter()
        .map(|spec| glommio::spawn_local(work(spec, stats.clone(), window)))
        .collect();
    sleep(window.until.saturating_duration_since(Instant::now())).await;
    // Dropping a glommio task cancels it: connections close here, with
    // whatever was still in flight, which the window does not count.
    drop(tasks);
    drop(reporter);
    stats.replace(Stats::new(window))
}

async fn report_progress(index: usize, stats: Rc<RefCell<Stats>>, progress: Sender<Progress>) {
    loop {
        sleep(PROGRESS_EVERY).await;
        let live = stats.borrow().live;
        if progress
            .send(Progress {
                executor: index,
                live,
            })
            .is_err()
        {
            return;
        }
    }
}

/// Round-robin: item i goes to executor i mod n.
pub fn deal<T>(items: Vec<T>, executors: usize) -> Vec<Vec<T>> {
    let mut shares: Vec<Vec<T>> = (0..executors.max(1)).map(|_| Vec::new()).collect();
    let n = shares.len();
    for (i, item) in items.into_iter().enumerate() {
        shares[i % n].push(item);
    }
    shares
}

/// Counts a failed connection by kind and pauses before the caller opens
/// the next one.
pub async fn backoff_after(stats: &Rc<RefCell<Stats>>, error: ProtocolError) {
    stats.borrow_mut().error(error.kind());
    sleep(RECONNECT_BACKOFF).await;
}

/// Sleeps until `at` (no-op if it has passed).
pub async fn sleep_until(at: Instant) {
    let wait = at.saturating_duration_since(Instant::now());
    if !wait.is_zero() {
        sleep(wait).await;
    }
}

/// The ApiVersions version to use with `bootstrap` (asked once, on a
/// connection of its own) and its resolved address: what the connection
/// workloads need before opening their many connections.
pub fn api_versions_probe(bootstrap: &str) -> Result<(i16, std::net::SocketAddr), BenchError> {
    let mut probe = BlockingConn::connect(bootstrap)?;
    let versions = probe
        .negotiate()
        .map_err(|e| BenchError::protocol(format!("ApiVersions at {bootstrap}"), e))?;
    drop(probe);
    let version = versions
        .pick(kafka_protocol::messages::ApiKey::ApiVersions)
        .map_err(|e| BenchError::protocol("ApiVersions", e))?;
    Ok((version, blocking::resolve(bootstrap)?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deal_spreads_round_robin() {
        assert_eq!(
            deal(vec![1, 2, 3, 4, 5], 2),
            vec![vec![1, 3, 5], vec![2, 4]]
        );
        assert_eq!(deal(vec![1], 3), vec![vec![1], vec![], vec![]]);
    }
}
