//! The listening sockets of one shard. Every shard binds every listener
//! address with SO_REUSEPORT, so the kernel spreads connections over shards
//! and a connection never has to move. Each accepted connection passes the
//! connection limits (`limits`) before it is served.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::os::fd::{AsRawFd, FromRawFd, IntoRawFd, RawFd};
use std::rc::Rc;
use std::sync::Arc;

use glommio::net::{TcpListener, TcpStream};
use glommio::{spawn_local, Task};
use socket2::{Domain, Protocol, Socket, Type};
use tracing::{debug, warn};

use super::connection::{self, Accepted};
use super::limits::{AcceptGate, FdReserve};
use super::ShardContext;
use crate::conn_limits::{ConnLimits, Permit};
use crate::routing::RouteTable;

const BACKLOG: i32 = 1024;

struct Bound {
    listener: Rc<str>,
    // Dropping the task cancels the accept loop and closes the socket;
    // connections already accepted are separate tasks and live on.
    _accept: Task<()>,
}

pub struct BoundListeners {
    bound: HashMap<SocketAddr, Bound>,
    limits: Arc<ConnLimits>,
    reserve: Rc<FdReserve>,
}

impl BoundListeners {
    pub fn new(limits: Arc<ConnLimits>) -> BoundListeners {
        let reserve = Rc::new(FdReserve::default());
        reserve.refill();
        BoundListeners {
            bound: HashMap::new(),
            limits,
            reserve,
        }
    }

    /// Binds what the routes want and unbinds what they no longer want.
    /// Returns one message per address that could not be bound.
    pub fn sync(&mut self, ctx: &Rc<ShardContext>, routes: &RouteTable) -> Vec<String> {
        let desired: HashMap<SocketAddr, &str> = routes.bind_addresses().collect();
        self.bound
            .retain(|addr, b| desired.get(addr).is_some_and(|name| *name == &*b.listener));
        let mut errors = Vec::new();
        for (addr, name) in desired {
            if self.bound.contains_key(&addr) {
                continue;
            }
            match bind(addr) {
                Ok((socket, fd)) => {
                    let listener: Rc<str> = Rc::from(name);
                    let gate = AcceptGate::new(listener.clone(), &self.limits, &self.reserve, fd);
                    let task = spawn_local(accept_loop(ctx.clone(), gate, socket));
                    self.bound.insert(
                        addr,
                        Bound {
                            listener,
                            _accept: task,
                        },
                    );
                    debug!(shard = ctx.id, listener = name, %addr, "listening");
                }
                Err(e) => errors.push(format!("listener {name}: cannot bind {addr}: {e}")),
            }
        }
        errors
    }

    pub fn clear(&mut self) {
        self.bound.clear();
    }
}

/// The listener, and its descriptor for the accept loop's own use.
fn bind(addr: SocketAddr) -> std::io::Result<(TcpListener, RawFd)> {
    let socket = Socket::new(Domain::for_address(addr), Type::STREAM, Some(Protocol::TCP))?;
    socket.set_reuse_address(true)?;
    socket.set_reuse_port(true)?;
    if addr.is_ipv6() {
        socket.set_only_v6(true)?;
    }
    socket.bind(&addr.into())?;
    socket.listen(BACKLOG)?;
    let fd = socket.as_raw_fd();
    // SAFETY: the descriptor is a freshly bound, listening TCP socket whose
    // ownership moves into the glommio listener.
    Ok((
        unsafe { TcpListener::from_raw_fd(socket.into_raw_fd()) },
        fd,
    ))
}

async fn accept_loop(ctx: Rc<ShardContext>, mut gate: AcceptGate, socket: TcpListener) {
    let listener = gate.listener.clone();
    loop {
        let stream = match socket.accept().await {
            Ok(stream) => stream,
            Err(e) => {
                // Paused so the loop does not spin while the cause lasts.
                let pause = gate.accept_failed(&ctx, &e);
                glommio::timer::sleep(pause).await;
                continue;
            }
        };
        let (local, peer) = match (stream.local_addr(), stream.peer_addr()) {
            (Ok(local), Ok(peer)) => (local, peer),
            (Err(e), _) | (_, Err(e)) => {
                // Reset between the handshake and accept: nothing to serve.
                warn!(shard = ctx.id, listener = %listener, reason = %e, "connection closed before it was served");
                continue;
            }
        };
        // Refused: dropping the stream closes it here and now.
        let Some(permit) = gate.admit(&ctx, peer) else {
            continue;
        };
        let accepted = Accepted {
            listener: listener.clone(),
            local,
            peer,
        };
        spawn_local(serve_counted(ctx.clone(), accepted, stream, permit)).detach();
    }
}

/// Serves a connection that holds its place in the connection counts until
/// it ends, however it ends (a panic included: `serve` contains it).
async fn serve_counted(
    ctx: Rc<ShardContext>,
    accepted: Accepted,
    stream: TcpStream,
    permit: Permit,
) {
    connection::serve(ctx, accepted, stream).await;
    drop(permit);
}
