//! Starts and stops a gateway process: configuration, discovery, shards,
//! signals, drain.

use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

use anyhow::{anyhow, bail, Context};
use cp_sync::sync::ConfigSync;
use cp_sync::Snapshot;
use crossbeam_channel::{Receiver, RecvTimeoutError, Sender};
use glommio::{LocalExecutorBuilder, Placement};
use signal_hook::consts::{SIGHUP, SIGINT, SIGTERM};
use signal_hook::iterator::Signals;
use tracing::{error, info, warn};

use crate::config_source::ConfigOrigin;
use crate::conn_limits::{ConnLimits, NodeLimits};
use crate::cpus;
use crate::discovery::{Discovery, DiscoveryMsg};
use crate::exposure::{self, PlaintextListeners};
use crate::fd_limit;
use crate::memlock;
use crate::metrics::shard::PUBLISH_EVERY;
use crate::observability::{ObsHandle, Observability, ObservabilityOptions};
use crate::readiness::BackendReach;
use crate::routing::RouteTable;
use crate::shard::{
    self, mailbox, Inbox, Mailbox, ShardChannels, ShardMsg, ShardReport, ShardSettings, StartGuard,
};

/// glommio reserves this much memory for storage I/O per shard; the gateway
/// does no file I/O, so keep it at the minimum and within RLIMIT_MEMLOCK.
const SHARD_IO_MEMORY: usize = 64 * 1024;
/// Capacity of the shards' request queue to the discovery thread.
const DISCOVERY_QUEUE: usize = 1024;

pub struct RunOptions {
    pub origin: ConfigOrigin,
    pub shards: Option<usize>,
    pub cpus: Option<Vec<usize>>,
    pub no_pin: bool,
    pub drain_timeout: Duration,
    pub settings: ShardSettings,
    /// The node's connection limits (flags), shared by every shard.
    pub limits: NodeLimits,
    pub observability: ObservabilityOptions,
}

/// Fans a message out to every shard without ever blocking.
#[derive(Clone)]
struct ShardFanout(Arc<Vec<Mailbox>>);

impl ShardFanout {
    fn send(&self, make: impl Fn() -> ShardMsg) {
        for shard in self.0.iter() {
            shard.send(make());
        }
    }
}

pub fn run(opts: RunOptions) -> anyhow::Result<()> {
    raise_limits();
    let (sync, snapshot) = opts.origin.first_snapshot()?;
    warn_insecure_backends(&snapshot);
    let plaintext = PlaintextListeners::at_start(&snapshot);
    exposure::check_admin(opts.observability.admin_listen.as_deref());
    let available = cpus::available_cpus();
    let plan = cpus::plan_shards(opts.shards, opts.cpus.as_deref(), opts.no_pin, &available)?;
    let spare = cpus::spare_cpus(&plan, &available);
    info!(shards = plan.len(), cpus = ?plan, epoch = snapshot.epoch, config = %opts.origin.describe(), "starting sluice");
    let mut observability = Observability::start(&opts.observability, &snapshot, &plan, &spare)?;
    let obs = observability.handle.clone();

    let (mailboxes, inboxes): (Vec<_>, Vec<_>) = (0..plan.len())
        .map(|_| mailbox())
        .collect::<std::io::Result<Vec<_>>>()
        .context("cannot create the shards' mailboxes")?
        .into_iter()
        .unzip();
    let fanout = ShardFanout(Arc::new(mailboxes));
    let (discovery_tx, discovery_rx) = crossbeam_channel::bounded(DISCOVERY_QUEUE);
    let discovery_thread = start_discovery(&snapshot, &fanout, discovery_rx, &spare, &obs)?;

    let routes = Arc::new(RouteTable::compile(&snapshot));
    let (report_tx, report_rx) = crossbeam_channel::unbounded();
    let shard_inputs = ShardInputs {
        inboxes,
        observers: observability.take_observers(),
        reports: report_tx,
        discovery: discovery_tx.clone(),
        limits: ConnLimits::new(opts.limits.clone()),
    };
    let shards = spawn_shards(&plan, shard_inputs, &opts.settings, routes)?;
    let ticker = ShardTicker::start(&fanout, &spare)?;
    let startup = wait_bound(&report_rx, plan.len(), snapshot.epoch);
    // Only start-up waits for these; later reports would pile up unread in
    // the unbounded channel (shards log their bind errors themselves).
    drop(report_rx);
    let sync_start = SyncStart {
        discovery: discovery_tx.clone(),
        plaintext,
    };
    let (sync_handle, sync_thread) = start_sync(sync, &fanout, sync_start, &spare, &obs)?;
    if startup.is_ok() {
        info!(shards = plan.len(), "sluice is serving");
        obs.serving();
        wait_for_stop_signal(&sync_handle)?;
    }
    let failures = drain_shards(&fanout, shards, opts.drain_timeout, &obs);
    let startup = with_shard_failures(startup, &failures);
    ticker.stop();
    sync_handle.stop();
    let _ = discovery_tx.try_send(DiscoveryMsg::Stop);
    let _ = sync_thread.join();
    let _ = discovery_thread.join();
    observability.stop();
    info!("sluice stopped");
    startup
}

/// Logs how start-up (or the run) ended. Only once shards are joined is it
/// known why one stopped: its thread's error, which then says more about a
/// failed start than "a shard stopped".
fn with_shard_failures(
    startup: anyhow::Result<()>,
    failures: &[(usize, glommio::GlommioError<()>)],
) -> anyhow::Result<()> {
    let startup = startup.map_err(|e| match failures.is_empty() {
        true => e,
        false => anyhow!("{}", memlock::shard_failures(failures)),
    });
    match &startup {
        Err(e) => error!("{e:#}"),
        Ok(()) if !failures.is_empty() => error!("{}", memlock::shard_failures(failures)),
        Ok(()) => {}
    }
    startup
}

/// Raises the soft descriptor and locked-memory limits to their hard
/// limits; a node is better off with either than without.
fn raise_limits() {
    match fd_limit::raise_nofile_limit() {
        Ok(l) => info!(
            soft = l.soft,
            hard = l.hard,
            was = l.soft_before,
            "file descriptor limit"
        ),
        Err(e) => warn!(error = %e, "cannot read or raise the file descriptor limit"),
    }
    match memlock::raise_memlock_limit() {
        Ok(l) => info!(
            soft = l.soft,
            hard = l.hard,
            was = l.soft_before,
            "locked memory limit (RLIMIT_MEMLOCK, bytes)"
        ),
        Err(e) => warn!(error = %e, "cannot read or raise the locked memory limit"),
    }
}

/// Sends every shard a tick once per `PUBLISH_EVERY`, from a thread of its
/// own: on it a shard expires its connections' deadlines and publishes its
/// metrics. Shards keep no timer (see `shard::mailbox`).
struct ShardTicker {
    stop: Sender<()>,
    thread: JoinHandle<()>,
}

impl ShardTicker {
    fn start(fanout: &ShardFanout, spare: &[usize]) -> anyhow::Result<ShardTicker> {
        let (stop, stopped) = crossbeam_channel::bounded::<()>(0);
        let shards = fanout.clone();
        let spare = spare.to_vec();
        let thread = std::thread::Builder::new()
            .name("sluice-tick".into())
            .spawn(move || {
                cpus::pin_current_thread_to(&spare);
                while let Err(RecvTimeoutError::Timeout) = stopped.recv_timeout(PUBLISH_EVERY) {
                    shards.send(|| ShardMsg::Tick);
                }
            })
            .context("cannot start the tick thread")?;
        Ok(ShardTicker { stop, thread })
    }

    fn stop(self) {
        drop(self.stop);
        let _ = self.thread.join();
    }
}

/// What each shard is handed at start, one element per shard.
struct ShardInputs {
    inboxes: Vec<Inbox>,
    observers: Vec<crate::metrics::ShardObserver>,
    reports: Sender<ShardReport>,
    discovery: Sender<DiscoveryMsg>,
    limits: Arc<ConnLimits>,
}

fn spawn_shards(
    plan: &[Option<usize>],
    inputs: ShardInputs,
    settings: &ShardSettings,
    routes: Arc<RouteTable>,
) -> anyhow::Result<Vec<glommio::ExecutorJoinHandle<()>>> {
    let mut shards = Vec::new();
    let mut settings = settings.clone();
    // The node's frame budget is split evenly: no shard borrows another's.
    settings.frame_budget = (settings.frame_budget / plan.len().max(1)).max(1);
    let settings = &settings;
    let per_shard = plan.iter().zip(inputs.inboxes).zip(inputs.observers);
    for (id, ((cpu, inbox), observer)) in per_shard.enumerate() {
        let channels = ShardChannels {
            inbox,
            reports: inputs.reports.clone(),
            discovery: inputs.discovery.clone(),
            observer,
            limits: inputs.limits.clone(),
        };
        shards.push(spawn_shard(
            id,
            *cpu,
            settings.clone(),
            routes.clone(),
            channels,
        )?);
    }
    Ok(shards)
}

/// Stops accepting everywhere and waits for every shard's drain to end.
/// Returns the shards that failed (could not start, or panicked) and why.
fn drain_shards(
    fanout: &ShardFanout,
    shards: Vec<glommio::ExecutorJoinHandle<()>>,
    timeout: Duration,
    obs: &ObsHandle,
) -> Vec<(usize, glommio::GlommioError<()>)> {
    info!(timeout_ms = timeout.as_millis() as u64, "draining");
    obs.draining();
    fanout.send(|| ShardMsg::Drain { timeout });
    let joined = shards.into_iter().map(|handle| handle.join());
    (joined.enumerate())
        .filter_map(|(id, result)| Some((id, result.err()?)))
        .collect()
}

fn start_discovery(
    snapshot: &Arc<Snapshot>,
    fanout: &ShardFanout,
    inbox: Receiver<DiscoveryMsg>,
    spare: &[usize],
    obs: &ObsHandle,
) -> anyhow::Result<JoinHandle<()>> {
    let shards = fanout.clone();
    let health_obs = obs.clone();
    let obs = obs.clone();
    let publish = Box::new(move |topology: Arc<crate::topology::BackendTopology>| {
        obs.topology(&topology);
        shards.send(|| ShardMsg::Topology(topology.clone()))
    });
    let health = health_obs;
    let report = Box::new(move |backend: &str, outcome: Result<usize, String>| {
        let reach = match outcome {
            Ok(brokers) => BackendReach::Brokers(brokers),
            Err(error) => BackendReach::Unreachable(error),
        };
        health.backend_refreshed(backend, reach);
    });
    let mut discovery = Discovery::new(snapshot.clone(), publish, report);
    // Brokers known before the first client arrives; shards pick the result
    // up from their inboxes when they start.
    discovery.refresh_all();
    let spare = spare.to_vec();
    discovery
        .spawn(inbox, move || cpus::pin_current_thread_to(&spare))
        .context("cannot start the discovery thread")
}

/// What the sync thread takes over from start-up.
struct SyncStart {
    discovery: Sender<DiscoveryMsg>,
    /// Plaintext listeners warned about at start, so a reload warns only
    /// about ones it adds.
    plaintext: PlaintextListeners,
}

fn start_sync(
    sync: ConfigSync,
    fanout: &ShardFanout,
    start: SyncStart,
    spare: &[usize],
    obs: &ObsHandle,
) -> anyhow::Result<(cp_sync::sync::SyncHandle, JoinHandle<()>)> {
    let shards = fanout.clone();
    let obs = obs.clone();
    let spare = spare.to_vec();
    let mut pinned = false;
    let SyncStart {
        discovery,
        mut plaintext,
    } = start;
    let publish = Box::new(move |snapshot: Arc<Snapshot>| {
        if !pinned {
            cpus::pin_current_thread_to(&spare);
            pinned = true;
        }
        warn_insecure_backends(&snapshot);
        plaintext.check(&snapshot);
        let routes = Arc::new(RouteTable::compile(&snapshot));
        shards.send(|| ShardMsg::Routes(routes.clone()));
        obs.config_applied(&snapshot);
        let _ = discovery.send(DiscoveryMsg::Config(snapshot));
    });
    sync.spawn(publish)
        .context("cannot start the configuration sync thread")
}

/// Unverified backend TLS must never go unnoticed: say so at every load.
fn warn_insecure_backends(snapshot: &Snapshot) {
    let backends = snapshot.config.backend_clusters.iter();
    for backend in backends.filter(|b| b.tls.enabled && b.tls.insecure_skip_verify) {
        warn!(
            backend = %backend.name,
            "INSECURE: tls.insecure_skip_verify is on: backend certificates are NOT verified; anyone on the path can impersonate the brokers"
        );
    }
}

fn spawn_shard(
    id: usize,
    cpu: Option<usize>,
    settings: ShardSettings,
    routes: Arc<RouteTable>,
    channels: ShardChannels,
) -> anyhow::Result<glommio::ExecutorJoinHandle<()>> {
    let placement = cpu.map(Placement::Fixed).unwrap_or(Placement::Unbound);
    let guard = StartGuard::new(id, channels.reports.clone());
    LocalExecutorBuilder::new(placement)
        .name(&format!("sluice-shard-{id}"))
        .io_memory(SHARD_IO_MEMORY)
        .spawn(move || {
            guard.started();
            shard::run(id, settings, routes, channels)
        })
        .map_err(|e| anyhow!("cannot start shard {id} (cpu {cpu:?}): {e}"))
}

/// Waits until every shard has bound the listeners of the first epoch.
fn wait_bound(reports: &Receiver<ShardReport>, shards: usize, epoch: u64) -> anyhow::Result<()> {
    let mut errors = Vec::new();
    for _ in 0..shards {
        let report = reports
            .recv()
            .map_err(|_| anyhow!("a shard stopped before binding its listeners"))?;
        match report {
            ShardReport::Bound {
                epoch: bound,
                errors: shard_errors,
            } if bound == epoch => errors.extend(shard_errors),
            ShardReport::Bound { .. } => {}
            ShardReport::NotStarted { shard } => bail!("shard {shard} could not start"),
        }
    }
    errors.sort();
    errors.dedup();
    if !errors.is_empty() {
        bail!(
            "cannot bind the configured listeners:\n{}",
            errors.join("\n")
        );
    }
    Ok(())
}

/// SIGHUP reloads the configuration; SIGTERM or SIGINT returns to drain.
fn wait_for_stop_signal(sync: &cp_sync::sync::SyncHandle) -> anyhow::Result<()> {
    let mut signals =
        Signals::new([SIGHUP, SIGINT, SIGTERM]).context("cannot install signal handlers")?;
    for signal in signals.forever() {
        match signal {
            SIGHUP => {
                info!("SIGHUP: reloading the configuration");
                sync.reload();
            }
            _ => {
                info!(signal, "stop requested");
                return Ok(());
            }
        }
    }
    Ok(())
}
