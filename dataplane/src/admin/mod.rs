//! The admin listener: metrics, health probes and status over plain HTTP,
//! on its own thread (never a shard), so a slow scraper cannot delay a
//! Kafka request.
//!
//! Everything it holds is bounded, because probes must keep answering on
//! this port whatever other clients do to it: one thread running a
//! current-thread tokio runtime with hyper (no thread per connection), at
//! most [`server::MAX_CONNECTIONS`] open connections (a new one past that
//! closes the oldest), a request head within [`server::HEAD_TIMEOUT`] and
//! no write stalled past [`server::WRITE_TIMEOUT`]. See `server` for why
//! each limit is what it is.

mod endpoints;
mod server;
pub mod status;
mod write_deadline;

use std::net::{SocketAddr, TcpListener};
use std::sync::Arc;
use std::thread::JoinHandle;

use tokio::sync::oneshot;

use crate::metrics::MetricsHub;
use status::StatusBoard;

/// Binds the admin address before anything else starts, so a taken port
/// is a start-up error that names the flag.
pub fn bind(addr: &str) -> anyhow::Result<TcpListener> {
    let parsed: SocketAddr = addr.parse().map_err(|e| {
        anyhow::anyhow!(
            "--admin-listen {addr:?} is not an address and port (e.g. 127.0.0.1:8080, or off): {e}"
        )
    })?;
    TcpListener::bind(parsed).map_err(|e| {
        anyhow::anyhow!("cannot bind the admin listener (--admin-listen) on {parsed}: {e}")
    })
}

/// What the endpoints read.
#[derive(Clone)]
pub struct AdminState {
    pub hub: Arc<MetricsHub>,
    pub status: Arc<StatusBoard>,
}

pub struct AdminServer {
    stop: oneshot::Sender<()>,
    thread: JoinHandle<()>,
}

impl AdminServer {
    /// Serves on `listener` from a new thread; `on_start` runs first on it
    /// (CPU pinning), and the runtime never starts another thread, so
    /// everything the listener does stays on that CPU.
    pub fn start(
        listener: TcpListener,
        state: AdminState,
        on_start: impl FnOnce() + Send + 'static,
    ) -> std::io::Result<AdminServer> {
        let (stop, stopped) = oneshot::channel();
        let thread = std::thread::Builder::new()
            .name("sluice-admin".into())
            .spawn(move || {
                on_start();
                server::run(listener, state, stopped);
            })?;
        Ok(AdminServer { stop, thread })
    }

    /// Closes the listener and every open admin connection, and waits for
    /// the thread to end.
    pub fn stop(self) {
        // An error means the thread already ended (it logged why).
        let _ = self.stop.send(());
        let _ = self.thread.join();
    }
}
