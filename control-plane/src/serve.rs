//! `sluice-cp serve`: first-start setup of the data directory, then the
//! HTTPS server.

use std::io::Write;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use hyper::body::Incoming;
use hyper::Request;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::net::{TcpListener, TcpStream};
use tokio_rustls::TlsAcceptor;
use tower::ServiceExt;
use tracing::{debug, info, warn};

use crate::api::{router, AppState};
use crate::datadir::{write_private, write_public, DataDir};
use crate::pki::Ca;
use crate::secret::AdminToken;
use crate::store::Store;
use crate::tls::ServerTls;

/// A TLS handshake must finish within this, so idle sockets cannot pile up.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);
/// Request headers must arrive within this once a request has begun.
const HEADER_TIMEOUT: Duration = Duration::from_secs(30);

/// Options of `sluice-cp serve`. `Debug` shows no token.
#[derive(Debug, Clone)]
pub struct ServeOptions {
    pub data_dir: PathBuf,
    pub listen: SocketAddr,
    /// Names and addresses the server certificate covers.
    pub hostnames: Vec<String>,
    pub admin_token: Option<AdminToken>,
}

/// Sets up the data directory and serves until SIGINT or SIGTERM.
pub async fn serve(options: ServeOptions) -> anyhow::Result<()> {
    let dir = DataDir::create(&options.data_dir)
        .map_err(|e| anyhow::anyhow!("data directory {}: {e}", options.data_dir.display()))?;
    let token = admin_token(&dir, options.admin_token)?;
    let ca = Ca::load_or_create(&dir)?;
    // Re-issued at every start: the names given now are the ones covered,
    // and nodes trust the CA, not this certificate.
    let server = ca.server_cert(&options.hostnames)?;
    write_public(&dir.server_cert(), server.cert_pem.as_bytes())?;
    write_private(&dir.server_key(), server.key_pem.as_bytes())?;
    let tls = Arc::new(ServerTls::new(ca.cert_pem(), &server)?);
    let store = Store::open(&dir.database())?;
    let state = AppState::new(store, token, ca)?;
    let listener = TcpListener::bind(options.listen)
        .await
        .map_err(|e| anyhow::anyhow!("cannot listen on {}: {e}", options.listen))?;
    let address = listener.local_addr()?;
    info!(%address, data_dir = %dir.root().display(), "sluice-cp serving");
    // On stdout for scripts and tests that start the server on port 0.
    println!("sluice-cp listening on https://{address}");
    std::io::stdout().flush()?;
    tokio::select! {
        () = accept_loop(listener, tls, state) => {}
        () = shutdown_signal() => info!("stopping"),
    }
    Ok(())
}

/// The token from the command line or environment, else the stored one,
/// else a new one, stored and shown once.
fn admin_token(dir: &DataDir, given: Option<AdminToken>) -> anyhow::Result<AdminToken> {
    if let Some(token) = given {
        return Ok(token);
    }
    if let Some(token) = dir.load_token()? {
        return Ok(token);
    }
    let token = AdminToken::generate()?;
    let path = dir.admin_token();
    write_private(&path, format!("{}\n", token.expose()).as_bytes())?;
    println!(
        "sluice-cp admin token (also stored in {}; shown only this once): {}",
        path.display(),
        token.expose()
    );
    Ok(token)
}

async fn accept_loop(listener: TcpListener, tls: Arc<ServerTls>, state: AppState) {
    let acceptor = TlsAcceptor::from(tls.config.clone());
    let app = router(state);
    loop {
        let (stream, peer) = match listener.accept().await {
            Ok(accepted) => accepted,
            Err(e) => {
                // Out of file descriptors and the like: pause instead of
                // spinning, and keep serving the connections that are open.
                warn!(error = %e, "accept failed");
                tokio::time::sleep(Duration::from_millis(100)).await;
                continue;
            }
        };
        let connection = Connection {
            acceptor: acceptor.clone(),
            tls: tls.clone(),
            app: app.clone(),
        };
        tokio::spawn(connection.serve(stream, peer));
    }
}

struct Connection {
    acceptor: TlsAcceptor,
    tls: Arc<ServerTls>,
    app: axum::Router,
}

impl Connection {
    async fn serve(self, stream: TcpStream, peer: SocketAddr) {
        let handshake = tokio::time::timeout(HANDSHAKE_TIMEOUT, self.acceptor.accept(stream));
        let stream = match handshake.await {
            Ok(Ok(stream)) => stream,
            Ok(Err(e)) => return debug!(%peer, error = %e, "TLS handshake failed"),
            Err(_) => return debug!(%peer, "TLS handshake timed out"),
        };
        let identity = self.tls.identify(stream.get_ref().1.peer_certificates());
        let app = self.app;
        let service = hyper::service::service_fn(move |mut request: Request<Incoming>| {
            request.extensions_mut().insert(identity.clone());
            app.clone().oneshot(request)
        });
        let served = hyper::server::conn::http1::Builder::new()
            .timer(TokioTimer::new())
            // A client that trickles its headers must not hold a task forever.
            .header_read_timeout(HEADER_TIMEOUT)
            .serve_connection(TokioIo::new(stream), service)
            .await;
        if let Err(e) = served {
            debug!(%peer, error = %e, "connection ended with an error");
        }
    }
}

async fn shutdown_signal() {
    use tokio::signal::unix::{signal, SignalKind};
    let terminate = async {
        match signal(SignalKind::terminate()) {
            Ok(mut stream) => {
                stream.recv().await;
            }
            Err(e) => {
                warn!(error = %e, "cannot watch SIGTERM");
                std::future::pending::<()>().await;
            }
        }
    };
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        () = terminate => {}
    }
}
