//! The admin listener's HTTP/1.1 server: hyper on a current-thread tokio
//! runtime, so any number of clients costs no thread, and a limit on each
//! thing a client can make it hold.

use std::collections::VecDeque;
use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::Request;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;
use tracing::{debug, info, warn};

use super::endpoints::answer;
use super::write_deadline::WriteDeadline;
use super::AdminState;
use crate::metrics::global;

/// Open admin connections at most. Probes and scrapers use one or two at a
/// time and are answered in well under a millisecond, so this is far above
/// honest use and small enough that the sockets and buffers of a full
/// house stay within a few megabytes. Past it, accepting a connection
/// closes the oldest one: by then that is one which has sat on its slot
/// (an honest client is long gone), and closing it instead of the newcomer
/// keeps a flood of stalled connections from locking probes out.
pub const MAX_CONNECTIONS: usize = 256;

/// A request head must arrive in full within this from the moment the
/// server waits for it: after accept, and after each response on a
/// keep-alive connection (so an idle keep-alive connection is closed after
/// it too). Generous for any client on a working network, short enough
/// that a stalled connection gives its slot back quickly.
pub const HEAD_TIMEOUT: Duration = Duration::from_secs(5);

/// A write (response bytes, flush, shutdown) that makes no progress for
/// this long ends its connection: the client stopped reading.
pub const WRITE_TIMEOUT: Duration = Duration::from_secs(5);

/// Largest request head read (hyper's read buffer; its minimum is 8 KiB).
/// The endpoints take no headers or bodies, so this only caps what a
/// client can make a connection buffer; a larger head gets 431.
pub const MAX_HEAD_BYTES: usize = 16 * 1024;

/// Pause after a failed accept (out of file descriptors and the like)
/// instead of spinning, while open connections are still served.
const ACCEPT_PAUSE: Duration = Duration::from_millis(100);

/// Serves `listener` on this thread until `stopped` fires (or its sender
/// is dropped); then closes every connection.
pub fn run(listener: std::net::TcpListener, state: AdminState, stopped: oneshot::Receiver<()>) {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_io()
        .enable_time()
        .build();
    let runtime = match runtime {
        Ok(runtime) => runtime,
        Err(e) => return warn!(error = %e, "admin listener cannot start"),
    };
    runtime.block_on(async move {
        let listener = match into_tokio(listener) {
            Ok(listener) => listener,
            Err(e) => return warn!(error = %e, "admin listener cannot start"),
        };
        if let Ok(addr) = listener.local_addr() {
            info!(%addr, "admin listener serving /metrics, /health/probes/liveness, /health/probes/readiness, /status");
        }
        tokio::select! {
            () = accept_loop(listener, Arc::new(state)) => {}
            _ = stopped => {}
        }
    });
    // Dropping the runtime drops every connection task, closing its socket.
    drop(runtime);
}

/// Needs the runtime's reactor, so it runs inside `block_on`.
fn into_tokio(listener: std::net::TcpListener) -> std::io::Result<TcpListener> {
    listener.set_nonblocking(true)?;
    TcpListener::from_std(listener)
}

async fn accept_loop(listener: TcpListener, state: Arc<AdminState>) {
    // Oldest first, for shedding.
    let mut open: VecDeque<JoinHandle<()>> = VecDeque::with_capacity(MAX_CONNECTIONS);
    loop {
        let (stream, peer) = match listener.accept().await {
            Ok(accepted) => accepted,
            Err(e) => {
                warn!(error = %e, "admin listener cannot accept a connection");
                tokio::time::sleep(ACCEPT_PAUSE).await;
                continue;
            }
        };
        make_room(&mut open, peer);
        open.push_back(tokio::spawn(serve_connection(stream, peer, state.clone())));
    }
}

/// Forgets finished connections; at the limit, closes the oldest open one.
fn make_room(open: &mut VecDeque<JoinHandle<()>>, peer: SocketAddr) {
    open.retain(|task| !task.is_finished());
    if open.len() < MAX_CONNECTIONS {
        return;
    }
    if let Some(oldest) = open.pop_front() {
        // Aborting drops the task's future, and with it the socket.
        oldest.abort();
        global().admin_connection_shed();
        debug!(
            new_peer = %peer,
            limit = MAX_CONNECTIONS,
            "admin listener at its connection limit: closed its oldest connection to accept a new one"
        );
    }
}

async fn serve_connection(stream: TcpStream, peer: SocketAddr, state: Arc<AdminState>) {
    let service = service_fn(move |request: Request<Incoming>| {
        let answer = answer(request.method(), request.uri().path(), &state);
        std::future::ready(Ok::<_, Infallible>(answer.into_response()))
    });
    let io = TokioIo::new(WriteDeadline::new(stream, WRITE_TIMEOUT));
    let served = http1::Builder::new()
        .timer(TokioTimer::new())
        .header_read_timeout(HEAD_TIMEOUT)
        .max_buf_size(MAX_HEAD_BYTES)
        .serve_connection(io, service)
        .await;
    if let Err(e) = served {
        debug!(%peer, error = %e, "admin connection ended with an error");
    }
}
