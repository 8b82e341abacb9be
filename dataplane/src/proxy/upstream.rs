//! Opening the upstream connection for a client connection: the listener
//! port says bootstrap or broker N; the shard's topology says where that is.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use glommio::net::TcpStream;

use super::error::ConnError;
use crate::routing::{ListenerRoute, PortTarget};
use crate::shard::ShardContext;
use crate::topology::BackendTopology;

/// How often a connection waiting for discovery looks at the shard's topology.
const TOPOLOGY_POLL: Duration = Duration::from_millis(20);

pub async fn connect(
    ctx: &ShardContext,
    route: &ListenerRoute,
    port: u16,
) -> Result<TcpStream, ConnError> {
    match route.target(port) {
        None => Err(ConnError::UnmappedPort {
            listener: route.listener.clone(),
            port,
        }),
        Some(PortTarget::Bootstrap) => connect_bootstrap(ctx, route).await,
        Some(PortTarget::Broker(node)) => {
            let found = wait_for(ctx, &route.backend, |t| t.broker_addr(node)).await;
            let addr = found.ok_or_else(|| ConnError::UnknownBroker {
                node,
                port,
                backend: route.backend.clone(),
            })?;
            dial(ctx, route, addr).await
        }
    }
}

async fn connect_bootstrap(
    ctx: &ShardContext,
    route: &ListenerRoute,
) -> Result<TcpStream, ConnError> {
    let servers = wait_for(ctx, &route.backend, |t| {
        Some(t.bootstrap.clone()).filter(|b| !b.is_empty())
    })
    .await
    .ok_or_else(|| ConnError::NoBootstrap(route.backend.clone()))?;
    let mut last_error = None;
    for attempt in 0..servers.len() {
        let Some(addr) = ctx.pick_bootstrap(&servers, attempt) else {
            break;
        };
        match dial(ctx, route, addr).await {
            Ok(stream) => return Ok(stream),
            Err(e) => last_error = Some(e),
        }
    }
    Err(last_error.unwrap_or_else(|| ConnError::NoBootstrap(route.backend.clone())))
}

async fn dial(
    ctx: &ShardContext,
    route: &ListenerRoute,
    addr: SocketAddr,
) -> Result<TcpStream, ConnError> {
    match TcpStream::connect_timeout(addr, ctx.settings.connect_timeout).await {
        Ok(stream) => Ok(stream),
        Err(e) => {
            // The broker may have moved or gone: have the topology checked.
            ctx.request_discovery(&route.backend);
            let source = std::io::Error::other(e.to_string());
            Err(ConnError::Connect { addr, source })
        }
    }
}

/// Looks the answer up in the shard's topology, asking the discovery thread
/// once and waiting a bounded time if it is not there yet.
async fn wait_for<T>(
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
