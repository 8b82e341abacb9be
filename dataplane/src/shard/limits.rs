//! What a shard's accept loop does before a connection is served: count it
//! against the node's and the listener's limits (`conn_limits`), refuse it
//! at once when one is reached, and keep accepting cleanly when the process
//! runs out of file descriptors.
//!
//! A refused client is closed right after accept, never left in the
//! backlog: it sees the connection end at once, and a client that retries
//! can tell that from a gateway that hangs. Refusals are counted
//! (`sluice_connections_refused_total`) and logged at debug per connection;
//! a warning says what is going on at most once a second per listener and
//! shard, so a flood of refusals cannot flood the log.

use std::cell::RefCell;
use std::fmt;
use std::fs::File;
use std::io;
use std::net::SocketAddr;
use std::os::fd::{BorrowedFd, RawFd};
use std::rc::Rc;
use std::sync::Arc;
use std::time::{Duration, Instant};

use glommio::GlommioError;
use socket2::SockRef;
use tracing::{debug, warn};

use super::ShardContext;
use crate::conn_limits::{ConnLimits, ListenerCount, Permit, Refusal};
use crate::metrics::RefuseReason;

/// First pause after a failed accept; it doubles while accepts keep failing.
const FIRST_PAUSE: Duration = Duration::from_millis(10);
/// Longest pause: how long a new client may wait in the backlog while the
/// process is out of descriptors before the shard closes it.
const LONGEST_PAUSE: Duration = Duration::from_millis(250);
/// At most this many waiting clients are closed per pause, so a long
/// backlog does not keep the shard from its other work.
const SHED_PER_PAUSE: usize = 64;
/// Warnings about refusals or failed accepts, per listener and shard.
const WARN_EVERY: Duration = Duration::from_secs(1);

/// A descriptor each shard keeps open (`/dev/null`) for one purpose: when
/// accept fails for lack of descriptors, closing it makes room to accept
/// the waiting clients one at a time and close them, instead of leaving
/// them hanging in the backlog.
#[derive(Default)]
pub struct FdReserve(RefCell<Option<File>>);

impl FdReserve {
    /// Opens the reserve if it is not held. Opening `/dev/null` does not
    /// block, so a shard may do it.
    pub fn refill(&self) {
        let mut reserve = self.0.borrow_mut();
        if reserve.is_none() {
            *reserve = File::open("/dev/null").ok();
        }
    }

    /// Frees the reserve, accepts up to `SHED_PER_PAUSE` waiting clients on
    /// `listen_fd` and closes each at once, then takes the reserve back.
    /// Returns their addresses.
    fn shed(&self, listen_fd: RawFd) -> io::Result<Vec<SocketAddr>> {
        drop(self.0.borrow_mut().take());
        let shed = accept_and_close(listen_fd);
        self.refill();
        shed
    }
}

fn accept_and_close(listen_fd: RawFd) -> io::Result<Vec<SocketAddr>> {
    // SAFETY: `listen_fd` belongs to the glommio listener of the accept
    // loop calling this, which outlives the call, and no accept of its
    // own is pending on it while the loop is here.
    let listener = unsafe { BorrowedFd::borrow_raw(listen_fd) };
    let socket = SockRef::from(&listener);
    // Non-blocking only for this call, as glommio's own first accept
    // attempt does: a shard must not wait in accept(2).
    socket.set_nonblocking(true)?;
    let mut shed = Vec::new();
    let mut outcome = Ok(());
    while shed.len() < SHED_PER_PAUSE {
        match socket.accept() {
            Ok((client, addr)) => {
                drop(client);
                shed.extend(addr.as_socket());
            }
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
            Err(e) => {
                outcome = Err(e);
                break;
            }
        }
    }
    socket.set_nonblocking(false)?;
    outcome.map(|()| shed)
}

/// Says whether a line is due: at most one per `WARN_EVERY`, counting the
/// events it stood for.
#[derive(Default)]
struct Every {
    last: Option<Instant>,
    since: u64,
}

impl Every {
    /// `Some(events since the last line, this one included)` when a line is due.
    fn due(&mut self, now: Instant) -> Option<u64> {
        self.since += 1;
        if self
            .last
            .is_some_and(|last| now.duration_since(last) < WARN_EVERY)
        {
            return None;
        }
        self.last = Some(now);
        Some(std::mem::take(&mut self.since))
    }
}

/// One listener's accept loop on one shard: its counts, its limits, and
/// what it remembers between accepts.
pub struct AcceptGate {
    pub listener: Rc<str>,
    count: Arc<ListenerCount>,
    limits: Arc<ConnLimits>,
    reserve: Rc<FdReserve>,
    listen_fd: RawFd,
    pause: Duration,
    refusal_log: Every,
    failure_log: Every,
    /// Clients closed for lack of descriptors since the last warning.
    shed_since_warning: usize,
}

impl AcceptGate {
    pub fn new(
        listener: Rc<str>,
        limits: &Arc<ConnLimits>,
        reserve: &Rc<FdReserve>,
        listen_fd: RawFd,
    ) -> AcceptGate {
        AcceptGate {
            count: limits.listener(&listener),
            listener,
            limits: limits.clone(),
            reserve: reserve.clone(),
            listen_fd,
            pause: FIRST_PAUSE,
            refusal_log: Every::default(),
            failure_log: Every::default(),
            shed_since_warning: 0,
        }
    }

    /// Counts a connection from `peer` against every limit, with the
    /// listener's limits as the shard's current table has them.
    pub fn admit(&mut self, ctx: &ShardContext, peer: SocketAddr) -> Option<Permit> {
        self.pause = FIRST_PAUSE;
        self.reserve.refill();
        let route = ctx.route(&self.listener);
        let limits = route.as_ref().map(|route| &route.limits);
        let now = Instant::now();
        let admitted = self.limits.admit(&self.count, limits, peer.ip(), now);
        admitted
            .map_err(|refusal| self.refused(ctx, peer, refusal, now))
            .ok()
    }

    fn refused(&mut self, ctx: &ShardContext, peer: SocketAddr, refusal: Refusal, now: Instant) {
        let (reason, limit) = describe(refusal);
        let what = Why(refusal);
        ctx.meter.connection_refused(&self.listener, reason);
        let (shard, listener, reason_code) = (ctx.id, &*self.listener, reason.label());
        debug!(shard, listener, %peer, reason_code, limit, "connection refused: {what}");
        if let Some(refused_since_last_warning) = self.refusal_log.due(now) {
            warn!(
                shard,
                listener,
                reason_code,
                limit,
                refused_since_last_warning,
                "connections refused: {what}"
            );
        }
    }

    /// After a failed accept: closes waiting clients if descriptors ran
    /// out, logs (at most once a second), and says how long to pause.
    pub fn accept_failed(&mut self, ctx: &ShardContext, error: &GlommioError<()>) -> Duration {
        let now = Instant::now();
        let (shard, listener) = (ctx.id, &*self.listener);
        if out_of_descriptors(error) {
            let shed = self.reserve.shed(self.listen_fd);
            self.shed_since_warning += shed.as_ref().map_or(0, Vec::len);
            for peer in shed.iter().flatten() {
                ctx.meter
                    .connection_refused(listener, RefuseReason::FdExhausted);
                debug!(shard, listener, %peer, reason_code = "fd_exhausted", "connection refused: out of file descriptors");
            }
            if let Some(failed_accepts) = self.failure_log.due(now) {
                let soft_limit = crate::fd_limit::nofile_limit().map_or(0, |l| l.soft);
                let closed_clients = std::mem::take(&mut self.shed_since_warning);
                let shed_error = shed.err().map(|e| e.to_string());
                warn!(shard, listener, %error, failed_accepts, closed_clients, soft_limit, shed_error, "out of file descriptors: new clients are closed at once until some are free; raise the limit (LimitNOFILE= in the systemd unit, ulimit -n) or lower the connection limits");
            }
        } else if let Some(failed_accepts) = self.failure_log.due(now) {
            warn!(shard, listener, %error, failed_accepts, "accept failed");
        }
        let pause = self.pause;
        self.pause = (self.pause * 2).min(LONGEST_PAUSE);
        pause
    }
}

fn out_of_descriptors(error: &GlommioError<()>) -> bool {
    let io = match error {
        GlommioError::IoError(io) => io,
        GlommioError::EnhancedIoError { source, .. } => source,
        _ => return false,
    };
    matches!(io.raw_os_error(), Some(libc::EMFILE | libc::ENFILE))
}

/// The metric label and the limit met.
fn describe(refusal: Refusal) -> (RefuseReason, u64) {
    let wide = |n: usize| u64::try_from(n).unwrap_or(u64::MAX);
    match refusal {
        Refusal::NodeMaxConnections(n) => (RefuseReason::NodeMaxConnections, wide(n)),
        Refusal::ListenerMaxConnections(n) => (RefuseReason::ListenerMaxConnections, wide(n)),
        Refusal::NodeMaxConnectionsPerIp(n) => (RefuseReason::NodeMaxConnectionsPerIp, wide(n)),
        Refusal::ListenerMaxConnectionsPerIp(n) => {
            (RefuseReason::ListenerMaxConnectionsPerIp, wide(n))
        }
        Refusal::CreationRate(n) => (RefuseReason::CreationRate, u64::from(n)),
    }
}

/// A refusal in words, for the log; formatted only if a line is written.
struct Why(Refusal);

impl fmt::Display for Why {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            Refusal::NodeMaxConnections(n) => {
                write!(f, "the node has {n} client connections (--max-connections)")
            }
            Refusal::ListenerMaxConnections(n) => write!(
                f,
                "the listener has {n} client connections (limits.max_connections)"
            ),
            Refusal::NodeMaxConnectionsPerIp(n) => write!(
                f,
                "the client's address has {n} connections to the node \
                 (--max-connections-per-ip or its override)"
            ),
            Refusal::ListenerMaxConnectionsPerIp(n) => write!(
                f,
                "the client's address has {n} connections to the listener \
                 (limits.max_connections_per_ip or its override)"
            ),
            Refusal::CreationRate(n) => write!(
                f,
                "more than {n} new connections per second (--max-connection-creation-rate)"
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_line_a_second_counting_what_it_stands_for() {
        let mut every = Every::default();
        let t0 = Instant::now();
        assert_eq!(every.due(t0), Some(1));
        assert_eq!(every.due(t0 + Duration::from_millis(10)), None);
        assert_eq!(every.due(t0 + Duration::from_millis(999)), None);
        assert_eq!(every.due(t0 + Duration::from_millis(1000)), Some(3));
        assert_eq!(every.due(t0 + Duration::from_millis(1500)), None);
    }

    #[test]
    fn out_of_descriptors_is_emfile_or_enfile() {
        let os = |code| GlommioError::<()>::IoError(io::Error::from_raw_os_error(code));
        assert!(out_of_descriptors(&os(libc::EMFILE)));
        assert!(out_of_descriptors(&os(libc::ENFILE)));
        assert!(!out_of_descriptors(&os(libc::ECONNABORTED)));
    }

    #[test]
    fn shedding_closes_waiting_clients_and_keeps_the_reserve() {
        use std::os::fd::AsRawFd;
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let clients: Vec<_> = (0..3)
            .map(|_| std::net::TcpStream::connect(addr).unwrap())
            .collect();
        let reserve = FdReserve::default();
        reserve.refill();
        let shed = reserve.shed(listener.as_raw_fd()).unwrap();
        assert_eq!(shed.len(), clients.len());
        assert!(reserve.0.borrow().is_some());
        // Nothing left waiting: a second round returns at once, empty.
        assert_eq!(reserve.shed(listener.as_raw_fd()).unwrap(), []);
        for mut client in clients {
            use std::io::Read;
            let wait = Some(Duration::from_secs(30));
            client.set_read_timeout(wait).unwrap();
            let mut byte = [0u8; 1];
            let read = client.read(&mut byte);
            let closed = matches!(&read, Ok(0))
                || read
                    .as_ref()
                    .is_err_and(|e| e.kind() == io::ErrorKind::ConnectionReset);
            assert!(closed, "{read:?}");
        }
    }
}
