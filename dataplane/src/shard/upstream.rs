//! Opening the upstream connection for a client connection: its route says
//! bootstrap or broker N; the shard's topology says where that is; the
//! backend's TLS settings say whether to encrypt.

use std::time::{Duration, Instant};

use futures_rustls::TlsConnector;
use glommio::net::TcpStream;
use rustls::pki_types::ServerName;

use super::ShardContext;
use crate::metrics::Meter;
use crate::proxy::ConnError;
use crate::routing::{ConnRoute, Target};
use crate::topology::{BackendTopology, Endpoint};
use sluice_runtime::Stream;

/// How often a connection waiting for discovery looks at the shard's topology.
const TOPOLOGY_POLL: Duration = Duration::from_millis(20);

/// Counts each connection attempt (`dial`) and, here, the failures that
/// never got as far as an attempt.
pub(super) async fn connect(
    ctx: &ShardContext,
    route: &ConnRoute,
    meter: &Meter,
) -> Result<Stream, ConnError> {
    let result = connect_target(ctx, route, meter).await;
    if let Err(e @ (ConnError::UnknownBroker { .. } | ConnError::NoBootstrap(_))) = &result {
        count_failure(meter, e);
    }
    result
}

async fn connect_target(
    ctx: &ShardContext,
    route: &ConnRoute,
    meter: &Meter,
) -> Result<Stream, ConnError> {
    let backend = &route.cluster.backend;
    match route.target {
        Target::Bootstrap => connect_bootstrap(ctx, route, meter).await,
        Target::Broker(node) => {
            let found = wait_for(ctx, backend, |t| t.broker_endpoint(node)).await;
            let endpoint = found.ok_or_else(|| ConnError::UnknownBroker {
                node,
                backend: backend.clone(),
            })?;
            dial(ctx, route, &endpoint, meter).await
        }
    }
}

async fn connect_bootstrap(
    ctx: &ShardContext,
    route: &ConnRoute,
    meter: &Meter,
) -> Result<Stream, ConnError> {
    let backend = &route.cluster.backend;
    let servers = wait_for(ctx, backend, |t| {
        Some(t.bootstrap.clone()).filter(|b| !b.is_empty())
    })
    .await
    .ok_or_else(|| ConnError::NoBootstrap(backend.clone()))?;
    let mut last_error = None;
    for attempt in 0..servers.len() {
        let Some(endpoint) = ctx.pick_bootstrap(&servers, attempt) else {
            break;
        };
        match dial(ctx, route, endpoint, meter).await {
            Ok(stream) => return Ok(stream),
            Err(e) => last_error = Some(e),
        }
    }
    Err(last_error.unwrap_or_else(|| ConnError::NoBootstrap(backend.clone())))
}

async fn dial(
    ctx: &ShardContext,
    route: &ConnRoute,
    endpoint: &Endpoint,
    meter: &Meter,
) -> Result<Stream, ConnError> {
    let result = open(ctx, route, endpoint).await;
    match &result {
        Ok(_) => meter.backend_opened(),
        Err(e) => count_failure(meter, e),
    }
    result
}

fn count_failure(meter: &Meter, err: &ConnError) {
    if let Some(reason) = err.backend_error() {
        meter.backend_failed(reason);
    }
}

async fn open(
    ctx: &ShardContext,
    route: &ConnRoute,
    endpoint: &Endpoint,
) -> Result<Stream, ConnError> {
    let addr = endpoint.addr;
    let tcp = match TcpStream::connect_timeout(addr, ctx.settings.connect_timeout).await {
        Ok(tcp) => tcp,
        Err(e) => {
            // The broker may have moved or gone: have the topology checked.
            ctx.request_discovery(&route.cluster.backend);
            let source = std::io::Error::other(e.to_string());
            return Err(ConnError::Connect { addr, source });
        }
    };
    let _ = tcp.set_nodelay(true);
    let Some(tls) = &route.cluster.backend_tls else {
        return Ok(Stream::Plain(tcp));
    };
    let name = ServerName::try_from(endpoint.host.clone())
        .map_err(|_| ConnError::BackendServerName(endpoint.host.clone()))?;
    let stream = TlsConnector::from(ctx.client_tls(tls))
        .connect(name, tcp)
        .await
        .map_err(|source| ConnError::BackendTls { addr, source })?;
    Ok(Stream::TlsClient(Box::new(stream)))
}

/// Looks the answer up in the shard's topology, asking the discovery thread
/// once and waiting a bounded time if it is not there yet.
pub(super) async fn wait_for<T>(
    ctx: &ShardContext,
    backend: &str,
    lookup: impl Fn(&BackendTopology) -> Option<T>,
) -> Option<T> {
    let deadline = Instant::now() + ctx.settings.broker_wait;
    let mut asked = false;
    loop {
        if let Some(found) = ctx.topology(backend).and_then(|t| lookup(&t)) {
            return Some(found);
        }
        if Instant::now() >= deadline {
            return None;
        }
        if !asked {
            ctx.request_discovery(backend);
            asked = true;
        }
        glommio::timer::sleep(TOPOLOGY_POLL).await;
    }
}
