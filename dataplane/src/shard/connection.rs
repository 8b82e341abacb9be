//! One client connection on its shard, for its whole life: routed (TLS,
//! SNI), connected upstream once the client has spoken, handed to the
//! pumps, and ended with one log line and its counters, whatever ended it.

use std::any::Any;
use std::net::SocketAddr;
use std::os::fd::{BorrowedFd, RawFd};
use std::panic::AssertUnwindSafe;
use std::rc::Rc;
use std::sync::Arc;
use std::time::Duration;

use cp_sync::config::ListenerLimits;

use futures_lite::{future, FutureExt};
use glommio::net::TcpStream;
use tracing::{debug, info, warn};

use super::client_login::{log_client_in, LoginIo, LoginPhase};
use super::topology_watch::WatchedBrokers;
use super::{accept, upstream, upstream_login, CloseOrder, ShardContext};
use crate::auth::Principal;
use crate::metrics::labels::CloseReason;
use crate::metrics::{CloseLabels, RouteNames};
use crate::policy::ClusterPolicies;
use crate::proxy::{
    frame_limits, request_header, run_pumps, Chain, ClientTimeouts, ConnClock, ConnEnv, ConnError,
    ConnStats, Expiry, PolicySource,
};
use crate::routing::ConnRoute;
use sluice_runtime::{FrameReader, ReadHooks};

/// Where a connection was accepted.
#[derive(Debug, Clone)]
pub struct Accepted {
    pub listener: Rc<str>,
    pub local: SocketAddr,
    pub peer: SocketAddr,
}

/// Runs a client connection to its end and logs one line about how it ended.
pub async fn serve(ctx: Rc<ShardContext>, accepted: Accepted, client: TcpStream) {
    let serial = ctx.connection_opened();
    let meter = ctx.meter.connection_opened(&accepted.listener);
    let started = ctx.conns.clock.tick();
    let stats = ConnStats::default();
    debug!(shard = ctx.id, listener = %accepted.listener, peer = %accepted.peer, port = accepted.local.port(), "connection accepted");
    let result = if ctx.active_connections() > ctx.settings.max_connections {
        Err(ConnError::TooManyConnections(ctx.settings.max_connections))
    } else {
        // Built in place: passing the connection's future to an async fn
        // would keep a second copy of its state (kilobytes per connection).
        let run = AssertUnwindSafe(connection(&ctx, serial, &accepted, client, &stats, started));
        contained(run.catch_unwind().await)
    };
    // Here rather than in `connection`, so that a connection ended by a
    // panic is forgotten too.
    ctx.unregister(serial);
    ctx.conns.inflight_abandoned(stats.outstanding.get());
    ctx.connection_closed();
    let labels = match &result {
        Ok(reason) => CloseLabels::from(*reason),
        Err(e) => e.labels(),
    };
    ctx.meter.connection_closed(&meter, labels);
    log_close(&ctx, &accepted, serial, started, &stats, result);
}

/// A panic in one connection's code must not take down the shard with
/// every other connection on it: it ends this connection only, which is then
/// counted and logged like any other close.
fn contained(
    caught: Result<Result<CloseReason, ConnError>, Box<dyn Any + Send>>,
) -> Result<CloseReason, ConnError> {
    caught.unwrap_or_else(|panic| {
        let message = (panic.downcast_ref::<&str>().map(|s| s.to_string()))
            .or_else(|| panic.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "panic with a non-text payload".to_owned());
        Err(ConnError::Internal(message))
    })
}

fn log_close(
    ctx: &ShardContext,
    accepted: &Accepted,
    serial: u64,
    started: std::time::Instant,
    stats: &ConnStats,
    result: Result<CloseReason, ConnError>,
) {
    let shard = ctx.id;
    let listener = &*accepted.listener;
    let peer = accepted.peer;
    let port = accepted.local.port();
    let bytes_in = stats.bytes_from_client.get();
    let bytes_out = stats.bytes_from_backend.get();
    let requests = stats.requests.get();
    let duration_ms = started.elapsed().as_millis() as u64;
    let principal = (stats.session.principal())
        .map(|p| p.name.escape_debug().to_string())
        .unwrap_or_default();
    // `reason` is for people, `reason_code` is the bounded value the
    // sluice_client_connections_closed_total metric counts it under.
    match result {
        Ok(end) => {
            let (reason, reason_code) = (end.text(), end.label());
            info!(shard, listener, %peer, port, serial, reason, reason_code, principal, bytes_in, bytes_out, requests, duration_ms, "connection closed")
        }
        Err(e) => {
            let reason_code = e.close_reason().label();
            let reason = Chain(&e);
            warn!(shard, listener, %peer, port, serial, side = e.side().as_str(), %reason, reason_code, principal, bytes_in, bytes_out, requests, duration_ms, "connection closed")
        }
    }
}

async fn connection(
    ctx: &ShardContext,
    serial: u64,
    accepted: &Accepted,
    client: TcpStream,
    stats: &ConnStats,
    accepted_at: std::time::Instant,
) -> Result<CloseReason, ConnError> {
    let listener = (ctx.route(&accepted.listener))
        .ok_or_else(|| ConnError::ListenerGone(accepted.listener.to_string()))?;
    let established = accept::establish(ctx, &listener, client, accepted.local.port()).await?;
    let (client, route) = (established.stream, established.route);
    if let Some(name) = established.certificate {
        if route.cluster.auth.client_certificate {
            stats.session.set_principal(Principal {
                name,
                mechanism: "MTLS",
                verified_by_gateway: true,
                scope: None,
            });
        }
    }
    let fd = client.raw_fd();
    let timeouts = client_timeouts(&route.listener.limits);
    let clock = Rc::new(ConnClock::new(accepted_at, timeouts));
    let closed = ctx.register(serial, route.clone(), clock.clone());
    let served = serve_routed(ctx, client, &route, stats, &clock);
    let ordered = async {
        loop {
            let order = closed.recv().await;
            if let Some(end) = obey(ctx, order, &clock, stats, fd) {
                return end;
            }
        }
    };
    future::or(served, ordered).await
}

/// What a close order from the shard ends the connection with, checked
/// again here: the connection may have moved on since the order was sent.
fn obey(
    ctx: &ShardContext,
    order: Option<CloseOrder>,
    clock: &ConnClock,
    stats: &ConnStats,
    fd: RawFd,
) -> Option<Result<CloseReason, ConnError>> {
    Some(match order {
        Some(CloseOrder::ConfigChanged(reason)) => Err(ConnError::ConfigChanged(reason)),
        None => Err(ConnError::ConfigChanged(String::new())),
        Some(CloseOrder::Expired(_)) => match clock.expired(ctx.conns.clock.now())? {
            Expiry::Idle(_) => Ok(CloseReason::IdleTimeout),
            expiry => Err(ConnError::Expired(expiry)),
        },
        Some(CloseOrder::Drain) if clock.is_resting() && !bytes_waiting(fd) => {
            Ok(CloseReason::Draining)
        }
        Some(CloseOrder::Drain) => return None,
        Some(CloseOrder::DrainTimeout) => Err(ConnError::DrainTimeout(stats.outstanding.get())),
    })
}

/// A routed client: connected upstream once it has spoken, then pumped.
async fn serve_routed(
    ctx: &ShardContext,
    client: sluice_runtime::Stream,
    route: &ConnRoute,
    stats: &ConnStats,
    clock: &ConnClock,
) -> Result<CloseReason, ConnError> {
    let names = RouteNames {
        listener: &route.listener.listener,
        virtual_cluster: &route.cluster.virtual_cluster,
        backend: &route.cluster.backend,
    };
    let meter = ctx.meter.route(names);
    client.set_nodelay(true);
    let limits = ctx.settings.pump_limits();
    let (client_rx, mut client_tx) = sluice_runtime::split(client);
    let hooks = ReadHooks {
        budget: ctx.conns.budget.clone(),
        clock: ctx.conns.clock.clone(),
        started: clock.frame_started.clone(),
    };
    let mut requests_in =
        FrameReader::new(client_rx, frame_limits(&limits, 8), true).with_hooks(hooks);
    // The backend is connected for a client that has sent a whole, valid
    // request: one that stays silent, trickles bytes, probes the port or
    // speaks another protocol costs the backend nothing.
    clock.reading(true);
    let gone = requests_in.wait_for_frame().await;
    clock.reading(false);
    if gone.map_err(ConnError::from_client_read)? {
        return Ok(CloseReason::ClientClosed);
    }
    clock.first_frame_arrived(ctx.conns.clock.now());
    // Refused before anything is opened for it.
    request_header(requests_in.data().get(4..).unwrap_or_default())?;
    if route.cluster.auth.checks_at_gateway() && stats.session.principal().is_none() {
        let io = LoginIo {
            requests_in: &mut requests_in,
            client_tx: &mut client_tx,
            stats,
            clock,
            meter: &meter,
        };
        if let LoginPhase::Closed(reason) = log_client_in(ctx, route, io).await? {
            return Ok(reason);
        }
    }
    let mut backend = upstream::connect(ctx, route, &meter).await?;
    if let Some(login) = &route.cluster.backend_login {
        // SCRAM's salted password is derived once per shard and backend,
        // not on every upstream connection.
        let backend_name = &route.cluster.backend;
        let mut salted = ctx.take_salted(backend_name);
        let timeout = ctx.settings.connect_timeout;
        let logged_in = upstream_login::log_in(&mut backend, login, timeout, &mut salted).await;
        ctx.keep_salted(backend_name, salted);
        logged_in?;
    }
    let (backend_rx, backend_tx) = sluice_runtime::split(backend);
    let brokers = WatchedBrokers { route, ctx };
    let env = ConnEnv {
        shard: &ctx.conns,
        policies: ctx,
        virtual_cluster: &route.cluster.virtual_cluster,
        brokers: &brokers,
        auth: &route.cluster.auth,
        session: &stats.session,
        limits,
        stats,
        clock,
        meter: &meter,
    };
    run_pumps(&env, requests_in, client_tx, backend_rx, backend_tx).await
}

/// Whether the client has sent bytes the pumps have not seen yet: a
/// request on its way in, which closing now would fail.
fn bytes_waiting(fd: RawFd) -> bool {
    // SAFETY: `fd` is the client socket of the connection being served;
    // the stream that owns it outlives this call (same task).
    let borrowed = unsafe { BorrowedFd::borrow_raw(fd) };
    let socket = socket2::SockRef::from(&borrowed);
    let mut byte = [std::mem::MaybeUninit::<u8>::uninit()];
    let peeked = socket.recv_with_flags(&mut byte, libc::MSG_PEEK | libc::MSG_DONTWAIT);
    // An error other than "nothing to read" says nothing is waiting either.
    matches!(peeked, Ok(n) if n > 0)
}

/// A listener's client timeouts; 0 turns one off.
fn client_timeouts(limits: &ListenerLimits) -> ClientTimeouts {
    let limit = |ms: u64| (ms > 0).then(|| Duration::from_millis(ms));
    ClientTimeouts {
        first_frame: limit(limits.first_frame_timeout_ms),
        frame: limit(limits.frame_timeout_ms),
        idle: limit(limits.idle_timeout_ms),
    }
}

impl PolicySource for ShardContext {
    fn epoch(&self) -> u64 {
        self.routes_ref().epoch
    }

    fn policies(&self, virtual_cluster: &str) -> Option<Arc<ClusterPolicies>> {
        self.routes_ref().policies(virtual_cluster)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use futures_lite::future::block_on;

    #[test]
    fn a_panicking_connection_ends_with_an_internal_error() {
        let panicked = contained(block_on(
            AssertUnwindSafe(async {
                let frames: &[u8] = &[];
                // An out-of-bounds index, as an unchecked slice would make.
                let byte = frames[usize::from(frames.is_empty())];
                Ok::<_, ConnError>(if byte == 0 {
                    CloseReason::ClientClosed
                } else {
                    CloseReason::Draining
                })
            })
            .catch_unwind(),
        ));
        let Err(ConnError::Internal(message)) = panicked else {
            panic!("expected an internal error, got {panicked:?}");
        };
        assert!(message.contains("index out of bounds"), "{message}");
        assert_eq!(
            ConnError::Internal(message).close_reason().label(),
            "internal_error"
        );
        let fine = contained(block_on(
            AssertUnwindSafe(async { Ok(CloseReason::ClientClosed) }).catch_unwind(),
        ));
        assert!(matches!(fine, Ok(CloseReason::ClientClosed)));
    }
}
