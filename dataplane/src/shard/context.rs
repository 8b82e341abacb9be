//! Everything one shard owns. Shared only between the tasks of that shard
//! (`Rc`, `Cell`, `RefCell`): no lock, no atomic, nothing another core writes.

use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::rc::Rc;
use std::sync::Arc;
use std::time::{Duration, Instant};

use cp_sync::scram::SaltedCache;
use crossbeam_channel::Sender;
use glommio::channels::local_channel::{self, LocalReceiver, LocalSender};
use rustls::client::Resumption;
use rustls::server::ServerSessionMemoryCache;
use rustls::{ClientConfig, ServerConfig};

use super::topology_watch::StaleAsks;
use crate::discovery::DiscoveryMsg;
use crate::metrics::{ShardMeter, ShardObserver};
use crate::proxy::{ConnClock, Expiry, PumpLimits, ShardConns};
use crate::routing::{ConnRoute, ListenerRoute, RouteTable};
use crate::topology::{BackendTopology, Endpoint};

/// Limits and timeouts every connection of a shard runs with.
#[derive(Debug, Clone)]
pub struct ShardSettings {
    pub max_frame: usize,
    pub max_inflight: usize,
    pub max_connections: usize,
    pub read_chunk: usize,
    /// Responses of at least this many bytes are forwarded as they arrive.
    pub cut_through: usize,
    /// How long a TLS client may take from accept to a finished handshake
    /// (`None`: no limit).
    pub handshake_timeout: Option<Duration>,
    pub connect_timeout: Duration,
    /// How long a new connection waits for an unknown broker to be discovered.
    pub broker_wait: Duration,
    /// Count data-path metrics (`--metrics`); when off nothing is counted.
    pub metrics: bool,
    /// Bytes of client frames this shard may hold at once.
    pub frame_budget: usize,
    /// Added to the wait a client allowed the broker.
    pub request_margin: Duration,
    /// Before the answer to a failed client login.
    pub auth_failure_delay: Duration,
}

impl ShardSettings {
    pub fn pump_limits(&self) -> PumpLimits {
        PumpLimits {
            max_frame: self.max_frame,
            read_chunk: self.read_chunk,
            max_inflight: self.max_inflight,
            cut_through: self.cut_through,
            request_margin: self.request_margin,
            auth_failure_delay: self.auth_failure_delay,
        }
    }
}

pub struct ShardContext {
    pub id: usize,
    pub settings: ShardSettings,
    /// This shard's metrics: only this shard's thread writes them.
    pub meter: ShardMeter,
    /// What the connections' pumps share: draining, requests in flight.
    pub conns: ShardConns,
    routes: RefCell<Arc<RouteTable>>,
    topologies: RefCell<HashMap<String, Arc<BackendTopology>>>,
    discovery: Sender<DiscoveryMsg>,
    active: Cell<usize>,
    accepted: Cell<u64>,
    next_bootstrap: Cell<usize>,
    tls: RefCell<ShardTls>,
    open: RefCell<HashMap<u64, OpenConn>>,
    /// While draining: connections found resting, with their activity then.
    drain_seen: RefCell<HashMap<u64, u64>>,
    pub(super) stale_asks: StaleAsks,
    /// SCRAM salted passwords of the backends this shard logs in to.
    salted: RefCell<HashMap<String, SaltedCache>>,
}

/// An open connection as the shard sees it: what it depends on, its
/// clocks, and how to end it.
struct OpenConn {
    route: ConnRoute,
    clock: Rc<ConnClock>,
    close: LocalSender<CloseOrder>,
}

/// Why the shard ends a connection from outside its pumps.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CloseOrder {
    ConfigChanged(String),
    Expired(Expiry),
    /// The shard drains and the connection is resting.
    Drain,
    /// The drain timeout passed.
    DrainTimeout,
}

/// Per-shard copies of the TLS configurations. rustls keeps its session
/// caches behind a lock inside each config; a copy per shard keeps every
/// handshake's cache traffic on its own core. Keyed by the address of the
/// shared config, which the map also holds so the address stays unique.
#[derive(Default)]
struct ShardTls {
    servers: HashMap<usize, (Arc<ServerConfig>, Arc<ServerConfig>)>,
    clients: HashMap<usize, (Arc<ClientConfig>, Arc<ClientConfig>)>,
}

/// Session-cache entries per shard and config.
const TLS_SESSION_CACHE: usize = 256;

impl ShardContext {
    pub fn new(
        id: usize,
        settings: ShardSettings,
        routes: Arc<RouteTable>,
        discovery: Sender<DiscoveryMsg>,
        observer: ShardObserver,
    ) -> Self {
        let conns = ShardConns::new(settings.frame_budget);
        ShardContext {
            id,
            meter: ShardMeter::new(observer, settings.metrics, conns.budget.clone()),
            conns,
            settings,
            routes: RefCell::new(routes),
            topologies: RefCell::new(HashMap::new()),
            discovery,
            active: Cell::new(0),
            accepted: Cell::new(0),
            next_bootstrap: Cell::new(0),
            tls: RefCell::new(ShardTls::default()),
            open: RefCell::new(HashMap::new()),
            drain_seen: RefCell::new(HashMap::new()),
            stale_asks: StaleAsks::default(),
            salted: RefCell::new(HashMap::new()),
        }
    }

    /// The current table, borrowed: no reference count is touched, which
    /// matters on the per-request path.
    pub fn routes_ref(&self) -> std::cell::Ref<'_, Arc<RouteTable>> {
        self.routes.borrow()
    }

    pub fn set_routes(&self, routes: Arc<RouteTable>) {
        self.close_stale(&routes);
        *self.routes.borrow_mut() = routes;
        // Configs of the old epoch go; connections using them hold their own Arc.
        *self.tls.borrow_mut() = ShardTls::default();
    }

    /// Tracks a routed connection; the receiver yields an order when the
    /// shard ends it: a new configuration invalidates what it depends on,
    /// one of its clocks ran out, or the shard drains.
    pub fn register(
        &self,
        serial: u64,
        route: ConnRoute,
        clock: Rc<ConnClock>,
    ) -> LocalReceiver<CloseOrder> {
        let (close, closed) = local_channel::new_bounded(1);
        self.open.borrow_mut().insert(
            serial,
            OpenConn {
                route,
                clock,
                close,
            },
        );
        closed
    }

    pub fn open_connections(&self) -> usize {
        self.open.borrow().len()
    }

    /// Orders every connection whose clock ran out at `now` to close.
    pub fn expire(&self, now: Instant) {
        for conn in self.open.borrow().values() {
            if let Some(expiry) = conn.clock.expired(now) {
                let _ = conn.close.try_send(CloseOrder::Expired(expiry));
            }
        }
    }

    /// While draining: orders every connection that rested, with nothing
    /// passing, since the previous look to close; or all of them once the
    /// drain timeout passed. Resting at one instant is not enough: a request
    /// may be on its way, and a client that just sent one would see it fail.
    pub fn close_for_drain(&self, timed_out: bool) {
        let mut seen = self.drain_seen.borrow_mut();
        for (serial, conn) in self.open.borrow().iter() {
            if timed_out {
                let _ = conn.close.try_send(CloseOrder::DrainTimeout);
                continue;
            }
            let activity = conn.clock.activity();
            if !conn.clock.is_resting() {
                seen.remove(serial);
            } else if seen.insert(*serial, activity) == Some(activity) {
                let _ = conn.close.try_send(CloseOrder::Drain);
            }
        }
    }

    pub fn unregister(&self, serial: u64) {
        self.open.borrow_mut().remove(&serial);
    }

    fn close_stale(&self, routes: &RouteTable) {
        for conn in self.open.borrow().values() {
            if let Err(reason) = routes.still_valid(&conn.route) {
                let _ = conn.close.try_send(CloseOrder::ConfigChanged(reason));
            }
        }
    }

    /// This shard's copy of a listener's TLS server config.
    pub fn server_tls(&self, shared: &Arc<ServerConfig>) -> Arc<ServerConfig> {
        let key = Arc::as_ptr(shared) as usize;
        let mut tls = self.tls.borrow_mut();
        let entry = tls.servers.entry(key).or_insert_with(|| {
            let mut local = ServerConfig::clone(shared);
            local.session_storage = ServerSessionMemoryCache::new(TLS_SESSION_CACHE);
            (shared.clone(), Arc::new(local))
        });
        entry.1.clone()
    }

    /// This shard's copy of a backend's TLS client config.
    pub fn client_tls(&self, shared: &Arc<ClientConfig>) -> Arc<ClientConfig> {
        let key = Arc::as_ptr(shared) as usize;
        let mut tls = self.tls.borrow_mut();
        let entry = tls.clients.entry(key).or_insert_with(|| {
            let mut local = ClientConfig::clone(shared);
            local.resumption = Resumption::in_memory_sessions(TLS_SESSION_CACHE);
            (shared.clone(), Arc::new(local))
        });
        entry.1.clone()
    }

    pub fn route(&self, listener: &str) -> Option<Arc<ListenerRoute>> {
        self.routes.borrow().listener(listener)
    }

    pub fn set_topology(&self, topology: Arc<BackendTopology>) {
        let name = topology.backend.clone();
        self.topologies.borrow_mut().insert(name, topology);
    }

    pub fn topology(&self, backend: &str) -> Option<Arc<BackendTopology>> {
        self.topologies.borrow().get(backend).cloned()
    }

    /// Whether the shard's topology of `backend` has broker `node_id` at
    /// `host:port`, and which topology was looked at (its `Arc` address;
    /// 0 when there is none yet).
    pub fn broker_known(
        &self,
        backend: &str,
        node_id: i32,
        host: &str,
        port: i32,
    ) -> (usize, bool) {
        let topologies = self.topologies.borrow();
        let Some(topology) = topologies.get(backend) else {
            return (0, false);
        };
        let known = (topology.brokers.get(&node_id))
            .is_some_and(|e| e.host == host && i32::from(e.port) == port);
        (Arc::as_ptr(topology) as usize, known)
    }

    /// The backend's SCRAM cache, taken out for one login (no borrow is
    /// held across its awaits; two logins at once each get one).
    pub fn take_salted(&self, backend: &str) -> SaltedCache {
        self.salted.borrow_mut().remove(backend).unwrap_or_default()
    }

    pub fn keep_salted(&self, backend: &str, cache: SaltedCache) {
        self.salted.borrow_mut().insert(backend.to_string(), cache);
    }

    /// Asks the discovery thread for fresh metadata. Never blocks: if the
    /// thread is busy the request is dropped and the periodic refresh covers it.
    pub fn request_discovery(&self, backend: &str) {
        let msg = DiscoveryMsg::Refresh {
            backend: backend.to_string(),
        };
        let _ = self.discovery.try_send(msg);
    }

    /// Spreads bootstrap connections over the bootstrap servers.
    pub fn pick_bootstrap<'a>(
        &self,
        servers: &'a [Endpoint],
        attempt: usize,
    ) -> Option<&'a Endpoint> {
        if servers.is_empty() {
            return None;
        }
        if attempt == 0 {
            self.next_bootstrap
                .set(self.next_bootstrap.get().wrapping_add(1));
        }
        let index = self.next_bootstrap.get().wrapping_add(attempt) % servers.len();
        servers.get(index)
    }

    pub fn active_connections(&self) -> usize {
        self.active.get()
    }

    pub fn connection_opened(&self) -> u64 {
        self.active.set(self.active.get() + 1);
        self.accepted.set(self.accepted.get() + 1);
        self.accepted.get()
    }

    pub fn connection_closed(&self) {
        self.active.set(self.active.get().saturating_sub(1));
    }
}
