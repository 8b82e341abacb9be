//! Turning an accepted TCP connection into a routed client stream: TLS
//! termination when the listener has it, SNI routing when the listener maps
//! names, plaintext told apart from TLS by the first byte.

use std::sync::Arc;

use futures_lite::future;
use futures_rustls::LazyConfigAcceptor;
use glommio::net::TcpStream;
use rustls::server::Acceptor;
use tracing::debug;

use super::ShardContext;
use crate::proxy::ConnError;
use crate::routing::{ConnRoute, ListenerRoute, Mapping, TlsListener};
use sluice_runtime::Stream;

/// A TLS record starts with content type 22 (handshake).
const TLS_HANDSHAKE: u8 = 0x16;

/// A client ready to be served.
pub(super) struct Established {
    pub stream: Stream,
    pub route: ConnRoute,
    /// The principal the listener maps from the client's certificate.
    pub certificate: Option<String>,
}

impl Established {
    fn plain(tcp: TcpStream, route: ConnRoute) -> Self {
        Established {
            stream: Stream::Plain(tcp),
            route,
            certificate: None,
        }
    }
}

/// The client's stream and route, or why the connection is refused.
pub(super) async fn establish(
    ctx: &ShardContext,
    listener: &Arc<ListenerRoute>,
    tcp: TcpStream,
    port: u16,
) -> Result<Established, ConnError> {
    let Some(tls) = &listener.tls else {
        let route = port_route(listener, port)?;
        return Ok(Established::plain(tcp, route));
    };
    let accept = TlsAccept {
        ctx,
        listener,
        tls,
        port,
    };
    // A client that stalls before or during its handshake holds a
    // connection slot; it gets a bounded time to finish.
    let Some(limit) = ctx.settings.handshake_timeout else {
        return accept.tls_or_plaintext(tcp).await;
    };
    let expired = async {
        glommio::timer::sleep(limit).await;
        Err(ConnError::HandshakeTimeout(limit.as_millis()))
    };
    future::or(accept.tls_or_plaintext(tcp), expired).await
}

/// A client of a TLS listener, on `port`.
struct TlsAccept<'a> {
    ctx: &'a ShardContext,
    listener: &'a Arc<ListenerRoute>,
    tls: &'a TlsListener,
    port: u16,
}

impl TlsAccept<'_> {
    /// TLS terminated, or plaintext where the listener allows it.
    async fn tls_or_plaintext(&self, tcp: TcpStream) -> Result<Established, ConnError> {
        let mut first = [0u8; 1];
        let peeked = (tcp.peek(&mut first).await).map_err(|e| ConnError::ClientIo(e.into()))?;
        if peeked == 0 {
            return Err(ConnError::ClientGone);
        }
        if first[0] != TLS_HANDSHAKE {
            if !self.tls.allow_plaintext {
                return Err(ConnError::PlaintextOnTls);
            }
            if matches!(self.listener.mapping, Mapping::Sni { .. }) {
                return Err(ConnError::PlaintextOnSni);
            }
            let route = port_route(self.listener, self.port)?;
            return Ok(Established::plain(tcp, route));
        }
        self.terminate(tcp).await
    }

    async fn terminate(&self, tcp: TcpStream) -> Result<Established, ConnError> {
        let listener = self.listener;
        let start = LazyConfigAcceptor::new(Acceptor::default(), tcp)
            .await
            .map_err(ConnError::TlsHandshake)?;
        let server_name = start.client_hello().server_name().map(str::to_owned);
        let route = match &listener.mapping {
            Mapping::Port { .. } => port_route(listener, self.port)?,
            Mapping::Sni { .. } => {
                let name = server_name.clone().ok_or(ConnError::NoSni)?;
                listener
                    .sni_route(&name)
                    .ok_or(ConnError::UnknownSni(name))?
            }
        };
        let stream = start
            .into_stream(self.ctx.server_tls(&self.tls.config))
            .await
            .map_err(ConnError::TlsHandshake)?;
        let principal = (stream.get_ref().1.peer_certificates())
            .and_then(|chain| chain.first())
            .and_then(|cert| cp_sync::tls::client_principal(cert.as_ref(), self.tls.principal));
        debug!(listener = %listener.listener, sni = ?server_name, principal = ?principal, "TLS established");
        Ok(Established {
            stream: Stream::TlsServer(Box::new(stream)),
            route,
            certificate: principal,
        })
    }
}

fn port_route(listener: &Arc<ListenerRoute>, port: u16) -> Result<ConnRoute, ConnError> {
    listener
        .port_route(port)
        .ok_or_else(|| ConnError::UnmappedPort {
            listener: listener.listener.clone(),
            port,
        })
}
