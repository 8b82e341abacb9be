//! The admin listener: metrics, health probes and status over plain HTTP,
//! on its own thread (never a shard), so a slow scraper cannot delay a
//! Kafka request. tiny_http is a small synchronous server: no async
//! runtime next to glommio, and its few helper threads inherit this
//! thread's CPU pinning because the server is created on it.

pub mod status;

use std::net::{SocketAddr, TcpListener};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

use tiny_http::{Header, Method, Request, Response, Server};
use tracing::{debug, info, warn};

use crate::metrics::{render, MetricsHub};
use status::StatusBoard;

/// How often the admin thread looks at its stop flag while idle.
const STOP_POLL: Duration = Duration::from_millis(200);

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
    stop: Arc<AtomicBool>,
    thread: JoinHandle<()>,
}

impl AdminServer {
    /// Serves on `listener` from a new thread; `on_start` runs first on it
    /// (CPU pinning).
    pub fn start(
        listener: TcpListener,
        state: AdminState,
        on_start: impl FnOnce() + Send + 'static,
    ) -> std::io::Result<AdminServer> {
        let stop = Arc::new(AtomicBool::new(false));
        let flag = stop.clone();
        let addr = listener.local_addr()?;
        let thread = std::thread::Builder::new()
            .name("sluice-admin".into())
            .spawn(move || {
                on_start();
                match Server::from_listener(listener, None) {
                    Ok(server) => {
                        info!(%addr, "admin listener serving /metrics, /health/probes/liveness, /health/probes/readiness, /status");
                        serve(&server, &state, &flag);
                    }
                    Err(e) => warn!(%addr, error = %e, "admin listener cannot start"),
                }
            })?;
        Ok(AdminServer { stop, thread })
    }

    pub fn stop(self) {
        self.stop.store(true, Ordering::Release);
        let _ = self.thread.join();
    }
}

fn serve(server: &Server, state: &AdminState, stop: &AtomicBool) {
    while !stop.load(Ordering::Acquire) {
        match server.recv_timeout(STOP_POLL) {
            Ok(Some(request)) => handle(request, state),
            Ok(None) => {}
            Err(e) => {
                debug!(error = %e, "admin request could not be read");
            }
        }
    }
}

/// A response: status code, content type, body.
struct Answer(u16, String, String);

fn handle(request: Request, state: &AdminState) {
    let Answer(code, content_type, body) = answer(request.method(), request.url(), state);
    let mut response = Response::from_string(body).with_status_code(code);
    if let Ok(header) = Header::from_bytes("Content-Type", content_type) {
        response = response.with_header(header);
    }
    if let Err(e) = request.respond(response) {
        debug!(error = %e, "admin response could not be written");
    }
}

fn answer(method: &Method, url: &str, state: &AdminState) -> Answer {
    let text = |code, body: &str| {
        Answer(
            code,
            "text/plain; charset=utf-8".into(),
            format!("{body}\n"),
        )
    };
    if !matches!(method, Method::Get | Method::Head) {
        return text(405, "only GET");
    }
    let path = url.split('?').next().unwrap_or_default();
    match path {
        "/metrics" => Answer(200, render::text_content_type(), state.hub.render_text()),
        "/health/probes/liveness" => text(200, "alive"),
        "/health/probes/readiness" => match state.hub.readiness().is_ready() {
            true => text(200, "ready"),
            false if state.hub.readiness().is_draining() => text(503, "draining"),
            false => text(503, "not ready"),
        },
        "/status" => {
            let json = state.status.to_json(state.hub.readiness());
            let body = serde_json::to_string_pretty(&json).unwrap_or_default();
            Answer(200, "application/json".into(), body)
        }
        _ => text(
            404,
            "not found; try /metrics, /health/probes/liveness, /health/probes/readiness or /status",
        ),
    }
}
