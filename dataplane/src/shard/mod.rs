//! A shard: one glommio executor pinned to one CPU, owning its listening
//! sockets, its connections and its copy of the configuration.

mod accept;
mod client_login;
mod connection;
mod context;
mod limits;
mod listeners;
mod mailbox;
mod topology_watch;
mod upstream;
mod upstream_login;

use std::rc::Rc;
use std::sync::Arc;
use std::time::{Duration, Instant};

use crossbeam_channel::{Receiver, Sender, TryRecvError};
use tracing::{info, warn};

pub use context::{CloseOrder, ShardContext, ShardSettings};
use listeners::BoundListeners;
pub use mailbox::{mailbox, Inbox, Mailbox};

use crate::conn_limits::ConnLimits;
use crate::discovery::DiscoveryMsg;
use crate::metrics::{RouteNames, ShardObserver};
use crate::routing::RouteTable;
use crate::topology::BackendTopology;

/// How often a draining shard looks for connections resting between
/// requests, which it can close without failing one.
const DRAIN_POLL: Duration = Duration::from_millis(10);
/// After the drain timeout, how long connections get to log their close.
const DRAIN_GRACE: Duration = Duration::from_secs(1);

pub enum ShardMsg {
    Routes(Arc<RouteTable>),
    Topology(Arc<BackendTopology>),
    /// Stop accepting, finish in-flight requests within the timeout, exit.
    Drain {
        timeout: Duration,
    },
    /// About once a second: close the connections whose clocks ran out,
    /// and publish the metrics counted so far.
    Tick,
}

#[derive(Debug)]
pub enum ShardReport {
    /// Listeners for a configuration epoch were bound (or failed to bind).
    Bound { epoch: u64, errors: Vec<String> },
    /// The shard's executor could not be created (its thread says why
    /// when joined), so it will never report `Bound`.
    NotStarted { shard: usize },
}

/// Moved into a shard's start closure: if the closure is dropped without
/// being called, the executor never started, and the guard reports it so
/// start-up does not wait for that shard.
pub struct StartGuard {
    shard: usize,
    reports: Option<Sender<ShardReport>>,
}

impl StartGuard {
    pub fn new(shard: usize, reports: Sender<ShardReport>) -> StartGuard {
        StartGuard {
            shard,
            reports: Some(reports),
        }
    }

    /// The executor runs: nothing to report.
    pub fn started(mut self) {
        self.reports = None;
    }
}

impl Drop for StartGuard {
    fn drop(&mut self) {
        if let Some(reports) = self.reports.take() {
            let _ = reports.send(ShardReport::NotStarted { shard: self.shard });
        }
    }
}

pub struct ShardChannels {
    pub inbox: Inbox,
    pub reports: Sender<ShardReport>,
    pub discovery: Sender<DiscoveryMsg>,
    pub observer: ShardObserver,
    /// Connection counts every shard shares (touched per accept and close).
    pub limits: Arc<ConnLimits>,
}

pub async fn run(
    id: usize,
    settings: ShardSettings,
    routes: Arc<RouteTable>,
    channels: ShardChannels,
) {
    let ctx = Rc::new(ShardContext::new(
        id,
        settings,
        routes.clone(),
        channels.discovery,
        channels.observer,
    ));
    let mut listeners = BoundListeners::new(channels.limits.clone());
    apply_routes(&ctx, &mut listeners, routes, &channels.reports);
    let (inbox, mut waiter) = channels.inbox.open();
    let timeout = loop {
        if let Some(timeout) = process_inbox(&ctx, &mut listeners, &inbox, &channels.reports) {
            break timeout;
        }
        if !waiter.wait().await {
            // The gateway is gone: nothing will ever ask to drain.
            break Duration::ZERO;
        }
    };
    drain(&ctx, listeners, timeout).await;
}

/// Applies everything waiting in the inbox; `Some(timeout)` once asked to drain.
fn process_inbox(
    ctx: &Rc<ShardContext>,
    listeners: &mut BoundListeners,
    inbox: &Receiver<ShardMsg>,
    reports: &Sender<ShardReport>,
) -> Option<Duration> {
    loop {
        match inbox.try_recv() {
            Ok(ShardMsg::Routes(routes)) => apply_routes(ctx, listeners, routes, reports),
            Ok(ShardMsg::Topology(topology)) => ctx.set_topology(topology),
            Ok(ShardMsg::Drain { timeout }) => return Some(timeout),
            Ok(ShardMsg::Tick) => {
                ctx.expire(ctx.conns.clock.tick());
                ctx.meter.publish();
            }
            Err(TryRecvError::Empty) => return None,
            // The gateway is gone: nothing will ever ask to drain.
            Err(TryRecvError::Disconnected) => return Some(Duration::ZERO),
        }
    }
}

fn apply_routes(
    ctx: &Rc<ShardContext>,
    listeners: &mut BoundListeners,
    routes: Arc<RouteTable>,
    reports: &Sender<ShardReport>,
) {
    ctx.set_routes(routes.clone());
    let errors = listeners.sync(ctx, &routes);
    for error in &errors {
        warn!(shard = ctx.id, epoch = routes.epoch, "{error}");
    }
    report_routes(ctx, &routes, errors.is_empty());
    // Operators (and the propagation benchmark) read when each shard took a version.
    info!(
        shard = ctx.id,
        epoch = routes.epoch,
        "configuration applied"
    );
    let report = ShardReport::Bound {
        epoch: routes.epoch,
        errors,
    };
    let _ = reports.send(report);
}

/// Tells the metrics which routes exist, so their counters are scraped
/// as zeros before the first connection.
fn report_routes(ctx: &ShardContext, routes: &RouteTable, bound: bool) {
    let listeners = routes.listeners().map(|l| l.listener.as_str());
    let names = (routes.listeners()).flat_map(|listener| {
        (listener.clusters().into_iter()).map(move |cluster| RouteNames {
            listener: &listener.listener,
            virtual_cluster: &cluster.virtual_cluster,
            backend: &cluster.backend,
        })
    });
    ctx.meter
        .routes_applied(routes.epoch, bound, listeners, names);
}

/// Stops accepting, then closes each connection once it rests between
/// requests (every response delivered, no request started), so that the
/// drain fails none; what is still busy at the timeout is closed then.
async fn drain(ctx: &ShardContext, mut listeners: BoundListeners, timeout: Duration) {
    listeners.clear();
    let deadline = Instant::now() + timeout;
    while ctx.open_connections() > 0 && Instant::now() < deadline {
        ctx.close_for_drain(false);
        ctx.meter.tick();
        glommio::timer::sleep(DRAIN_POLL).await;
    }
    let busy = ctx.open_connections();
    if busy > 0 {
        warn!(
            shard = ctx.id,
            connections = busy,
            requests_in_flight = ctx.conns.inflight(),
            "drain timeout: closing connections that are still busy"
        );
        ctx.close_for_drain(true);
        let grace = Instant::now() + DRAIN_GRACE;
        while ctx.open_connections() > 0 && Instant::now() < grace {
            glommio::timer::sleep(DRAIN_POLL).await;
        }
    }
    ctx.meter.publish();
    info!(
        shard = ctx.id,
        connections = ctx.active_connections(),
        "shard stopped"
    );
}
