//! The listening sockets of one shard. Every shard binds every listener
//! address with SO_REUSEPORT, so the kernel spreads connections over shards
//! and a connection never has to move.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::os::fd::{FromRawFd, IntoRawFd};
use std::rc::Rc;
use std::time::Duration;

use glommio::net::TcpListener;
use glommio::{spawn_local, Task};
use socket2::{Domain, Protocol, Socket, Type};
use tracing::{debug, warn};

use super::connection::{self, Accepted};
use super::ShardContext;
use crate::routing::RouteTable;

const BACKLOG: i32 = 1024;
/// Pause after a failed accept (e.g. out of file descriptors) so the loop
/// does not spin while the condition lasts.
const ACCEPT_ERROR_PAUSE: Duration = Duration::from_millis(50);

struct Bound {
    listener: Rc<str>,
    // Dropping the task cancels the accept loop and closes the socket;
    // connections already accepted are separate tasks and live on.
    _accept: Task<()>,
}

#[derive(Default)]
pub struct BoundListeners {
    bound: HashMap<SocketAddr, Bound>,
}

impl BoundListeners {
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
                Ok(socket) => {
                    let listener: Rc<str> = Rc::from(name);
                    let task = spawn_local(accept_loop(ctx.clone(), listener.clone(), socket));
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

fn bind(addr: SocketAddr) -> std::io::Result<TcpListener> {
    let socket = Socket::new(Domain::for_address(addr), Type::STREAM, Some(Protocol::TCP))?;
    socket.set_reuse_address(true)?;
    socket.set_reuse_port(true)?;
    if addr.is_ipv6() {
        socket.set_only_v6(true)?;
    }
    socket.bind(&addr.into())?;
    socket.listen(BACKLOG)?;
    // SAFETY: the descriptor is a freshly bound, listening TCP socket whose
    // ownership moves into the glommio listener.
    Ok(unsafe { TcpListener::from_raw_fd(socket.into_raw_fd()) })
}

async fn accept_loop(ctx: Rc<ShardContext>, listener: Rc<str>, socket: TcpListener) {
    loop {
        let stream = match socket.accept().await {
            Ok(stream) => stream,
            Err(e) => {
                warn!(shard = ctx.id, listener = %listener, error = %e, "accept failed");
                glommio::timer::sleep(ACCEPT_ERROR_PAUSE).await;
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
        let accepted = Accepted {
            listener: listener.clone(),
            local,
            peer,
        };
        spawn_local(connection::serve(ctx.clone(), accepted, stream)).detach();
    }
}
