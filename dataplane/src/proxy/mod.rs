//! One client connection and its upstream connection, on one shard, for
//! their whole life.

mod accept;
mod batch;
mod cut_through;
mod error;
mod fifo;
mod frames;
mod memo;
mod pump;
mod read_buffer;
mod upstream;

use std::any::Any;
use std::cell::Cell;
use std::net::SocketAddr;
use std::panic::AssertUnwindSafe;
use std::rc::Rc;
use std::time::Instant;

use futures_lite::{future, FutureExt};
use glommio::net::TcpStream;
use tracing::{debug, info, warn};

pub use error::{ConnError, Side};
pub use frames::{FrameLimits, FrameReader, ReadError};
pub use memo::ResponseMemo;

use crate::metrics::labels::CloseReason;
use crate::metrics::Meter;
use crate::policy::PolicyView;
use crate::routing::ConnRoute;
use crate::shard::ShardContext;
use pump::{pump_requests, pump_responses, ConnStats, RequestsEnd};
use sluice_runtime::{ReadHalf, Stream, WriteHalf};

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
    let started = Instant::now();
    let stats = ConnStats::default();
    debug!(shard = ctx.id, listener = %accepted.listener, peer = %accepted.peer, port = accepted.local.port(), "connection accepted");
    let result = if ctx.active_connections() > ctx.settings.max_connections {
        Err(ConnError::TooManyConnections(ctx.settings.max_connections))
    } else {
        // Built in place: passing the connection's future to an async fn
        // would keep a second copy of its state (kilobytes per connection).
        let run = AssertUnwindSafe(proxy(&ctx, serial, &accepted, client, &stats));
        contained(run.catch_unwind().await)
    };
    // Here rather than in `proxy`, so that a connection ended by a panic
    // is forgotten too.
    ctx.unregister(serial);
    ctx.inflight_abandoned(stats.outstanding.get());
    ctx.connection_closed();
    ctx.meter
        .connection_closed(&meter, result.as_ref().copied());
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
    started: Instant,
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
    // `reason` is for people, `reason_code` is the bounded value the
    // sluice_client_connections_closed_total metric counts it under.
    match result {
        Ok(end) => {
            let (reason, reason_code) = (end.text(), end.label());
            info!(shard, listener, %peer, port, serial, reason, reason_code, bytes_in, bytes_out, requests, duration_ms, "connection closed")
        }
        Err(e) => {
            let reason_code = CloseReason::of(&e).label();
            warn!(shard, listener, %peer, port, serial, side = e.side().as_str(), reason = %e, reason_code, bytes_in, bytes_out, requests, duration_ms, "connection closed")
        }
    }
}

async fn proxy(
    ctx: &ShardContext,
    serial: u64,
    accepted: &Accepted,
    client: TcpStream,
    stats: &ConnStats,
) -> Result<CloseReason, ConnError> {
    let listener = (ctx.route(&accepted.listener))
        .ok_or_else(|| ConnError::ListenerGone(accepted.listener.to_string()))?;
    let (client, route) = accept::establish(ctx, &listener, client, accepted.local.port()).await?;
    let closed = ctx.register(serial, route.clone());
    let meter = ctx.meter.route(&route);
    let served = async {
        client.set_nodelay(true);
        let (client_rx, client_tx) = sluice_runtime::split(client);
        let mut requests_in = FrameReader::new(client_rx, frame_limits(ctx, 8), true);
        // The backend is connected for a client that has sent something:
        // one that stays silent, or only probes the port, costs the backend
        // nothing.
        let gone = requests_in.closed_or_readable().await;
        if gone.map_err(ConnError::from_client_read)? {
            return Ok(CloseReason::ClientClosed);
        }
        // Nor does one that speaks another protocol, or comes too late.
        (requests_in.check_start()).map_err(ConnError::from_client_read)?;
        if ctx.is_draining() {
            return Ok(CloseReason::Draining);
        }
        let backend = upstream::connect(ctx, &route, &meter).await?;
        let client = ClientSide {
            requests_in,
            client_tx,
        };
        run_pumps(ctx, &route, client, backend, stats, &meter).await
    };
    let config_changed = async {
        let reason = closed.recv().await.unwrap_or_default();
        Err(ConnError::ConfigChanged(reason))
    };
    future::or(served, config_changed).await
}

/// The client's side of a connection, split, with its first bytes read.
struct ClientSide {
    requests_in: FrameReader<ReadHalf>,
    client_tx: WriteHalf,
}

/// Frame limits of one direction: `min_body` is 8 for requests (api key,
/// version, correlation id), 4 for responses.
fn frame_limits(ctx: &ShardContext, min_body: usize) -> FrameLimits {
    FrameLimits {
        max_frame: ctx.settings.max_frame,
        min_body,
        read_chunk: ctx.settings.read_chunk,
    }
}

async fn run_pumps(
    ctx: &ShardContext,
    route: &ConnRoute,
    client: ClientSide,
    backend: Stream,
    stats: &ConnStats,
    meter: &Meter,
) -> Result<CloseReason, ConnError> {
    let ClientSide {
        mut requests_in,
        mut client_tx,
    } = client;
    let (backend_rx, mut backend_tx) = sluice_runtime::split(backend);
    let mut responses_in = FrameReader::new(backend_rx, frame_limits(ctx, 4), false);
    let (fifo_tx, fifo_rx) = fifo::fifo(ctx.settings.max_inflight);
    let mut policies = PolicyView::new(&route.cluster.virtual_cluster);

    let reason = Cell::new(CloseReason::ClientClosed);
    let client_hung_up = Cell::new(false);
    let requests = async {
        let end = pump_requests(
            ctx,
            &mut policies,
            &mut requests_in,
            &mut backend_tx,
            fifo_tx,
            stats,
            meter,
        );
        let end = end.await?;
        client_hung_up.set(matches!(end, RequestsEnd::ClientClosed));
        reason.set(match end {
            RequestsEnd::ClientClosed => CloseReason::ClientClosed,
            RequestsEnd::Draining => CloseReason::Draining,
            RequestsEnd::ResponsesEnded => CloseReason::ResponseSideEnded,
        });
        // The FIFO sender is gone now; the response side finishes what is
        // still owed and ends the connection.
        future::pending::<Result<(), ConnError>>().await
    };
    let responses = pump_responses(
        ctx,
        &mut responses_in,
        &mut client_tx,
        fifo_rx,
        route,
        stats,
        meter,
    );
    match future::or(requests, responses).await {
        // A client that hung up with requests in flight cannot take their
        // responses: that is how it chose to leave, not a failure.
        Err(ConnError::ClientIo(_)) if client_hung_up.get() => Ok(reason.get()),
        Err(e) => Err(e),
        Ok(()) => Ok(reason.get()),
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
            CloseReason::of(&ConnError::Internal(message)).label(),
            "internal_error"
        );
        let fine = contained(block_on(
            AssertUnwindSafe(async { Ok(CloseReason::ClientClosed) }).catch_unwind(),
        ));
        assert!(matches!(fine, Ok(CloseReason::ClientClosed)));
    }
}
