//! The counters one shard keeps. Only that shard's thread touches them:
//! `Cell`s and fixed-size arrays, no atomics, no locks. A connection
//! resolves its listener and route counter sets once, when it is accepted
//! and routed; every request after that is an array index and an add.
//! With metrics off the shard hands out empty handles and the data path
//! does no counting and reads no clock.

use std::cell::{Cell, RefCell};
use std::rc::Rc;
use std::sync::Arc;
use std::time::{Duration, Instant};

use sluice_runtime::ByteBudget;

use super::budget::BudgetCounts;
use super::histogram::CellHistogram;
use super::hub::ShardObserver;
use super::labels::{
    api_slot, auth_slot, rtt_class, BackendError, CloseLabels, CloseReason, PolicyLimit,
    SaslMechanism, AUTH_SLOTS,
};
use super::labels::{FrameReject, Side, TlsFailure, API_SLOTS, RTT_CLASSES};
use super::refusals::RefuseReason;
use super::snapshot::{ListenerCounts, RouteCounts, RouteKey, ShardSnapshot};

/// How often a shard publishes its snapshot (a tick thread asks for it).
pub const PUBLISH_EVERY: Duration = Duration::from_secs(1);

#[inline]
fn bump(cell: &Cell<u64>) {
    add(cell, 1);
}

#[inline]
fn add(cell: &Cell<u64>, n: u64) {
    cell.set(cell.get().wrapping_add(n));
}

fn cells<const N: usize>() -> [Cell<u64>; N] {
    std::array::from_fn(|_| Cell::new(0))
}

fn read<const N: usize>(cells: &[Cell<u64>; N]) -> [u64; N] {
    std::array::from_fn(|i| cells[i].get())
}

/// Connection-level counters of one listener on one shard.
pub struct ListenerMeter {
    name: Arc<str>,
    accepted: Cell<u64>,
    active: Cell<u64>,
    closed: [Cell<u64>; CloseReason::COUNT],
    refused: [Cell<u64>; RefuseReason::COUNT],
    tls_failures: [[Cell<u64>; TlsFailure::COUNT]; Side::COUNT],
    frames_rejected: [[Cell<u64>; FrameReject::COUNT]; Side::COUNT],
}

impl ListenerMeter {
    fn new(name: &str) -> Self {
        ListenerMeter {
            name: Arc::from(name),
            accepted: Cell::new(0),
            active: Cell::new(0),
            closed: cells(),
            refused: cells(),
            tls_failures: std::array::from_fn(|_| cells()),
            frames_rejected: std::array::from_fn(|_| cells()),
        }
    }

    fn closed(&self, outcome: CloseLabels) {
        self.active.set(self.active.get().saturating_sub(1));
        bump(&self.closed[outcome.reason.index()]);
        if let Some((side, failure)) = outcome.tls {
            bump(&self.tls_failures[side.index()][failure.index()]);
        }
        if let Some((side, reason)) = outcome.frame {
            bump(&self.frames_rejected[side.index()][reason.index()]);
        }
    }

    fn snapshot(&self) -> ListenerCounts {
        ListenerCounts {
            accepted: self.accepted.get(),
            active: self.active.get(),
            closed: read(&self.closed),
            refused: read(&self.refused),
            tls_failures: std::array::from_fn(|i| read(&self.tls_failures[i])),
            frames_rejected: std::array::from_fn(|i| read(&self.frames_rejected[i])),
        }
    }
}

/// The names a route's counters are labelled with.
#[derive(Debug, Clone, Copy)]
pub struct RouteNames<'a> {
    pub listener: &'a str,
    pub virtual_cluster: &'a str,
    pub backend: &'a str,
}

/// Request-level counters of one (listener, virtual cluster, backend).
pub struct RouteMeter {
    key: RouteKey,
    requests: [Cell<u64>; API_SLOTS],
    responses: [Cell<u64>; API_SLOTS],
    bytes_in: Cell<u64>,
    bytes_out: Cell<u64>,
    backend_opened: Cell<u64>,
    backend_errors: [Cell<u64>; BackendError::COUNT],
    policy_refusals: [Cell<u64>; PolicyLimit::COUNT],
    authentications: [Cell<u64>; AUTH_SLOTS],
    forward: CellHistogram,
    processing: CellHistogram,
    rtt: [CellHistogram; RTT_CLASSES],
}

impl RouteMeter {
    fn new(key: RouteKey) -> Self {
        RouteMeter {
            key,
            requests: cells(),
            responses: cells(),
            bytes_in: Cell::new(0),
            bytes_out: Cell::new(0),
            backend_opened: Cell::new(0),
            backend_errors: cells(),
            policy_refusals: cells(),
            authentications: cells(),
            forward: CellHistogram::default(),
            processing: CellHistogram::default(),
            rtt: std::array::from_fn(|_| CellHistogram::default()),
        }
    }

    fn is(&self, names: RouteNames<'_>) -> bool {
        &*self.key.listener == names.listener
            && &*self.key.virtual_cluster == names.virtual_cluster
            && &*self.key.backend == names.backend
    }

    fn snapshot(&self) -> RouteCounts {
        RouteCounts {
            requests: read(&self.requests),
            responses: read(&self.responses),
            bytes_in: self.bytes_in.get(),
            bytes_out: self.bytes_out.get(),
            backend_opened: self.backend_opened.get(),
            backend_errors: read(&self.backend_errors),
            policy_refusals: read(&self.policy_refusals),
            authentications: read(&self.authentications),
            forward: self.forward.snapshot(),
            processing: self.processing.snapshot(),
            rtt: std::array::from_fn(|i| self.rtt[i].snapshot()),
        }
    }
}

/// A routed connection's handle on its counters; empty when metrics are
/// off, and then every method returns at its first branch.
#[derive(Clone, Default)]
pub struct Meter(Option<Rc<RouteMeter>>);

impl Meter {
    /// The current time, only when it will be used for a histogram.
    #[inline]
    pub fn now(&self) -> Option<Instant> {
        self.0.as_ref().map(|_| Instant::now())
    }

    /// A request frame was read and its header peeked.
    #[inline]
    pub fn request(&self, api_key: i16, bytes: usize) {
        if let Some(m) = &self.0 {
            bump(&m.requests[api_slot(api_key)]);
            add(&m.bytes_in, bytes as u64);
        }
    }

    /// The request read at `read_at` has been written to the backend.
    #[inline]
    pub fn forwarded(&self, read_at: Option<Instant>) {
        if let (Some(m), Some(start)) = (&self.0, read_at) {
            m.forward.observe(start.elapsed());
        }
    }

    /// A response was written to the client: `sent` is when its request
    /// went to the backend, `read_at` when the response was fully read.
    #[inline]
    pub fn response(
        &self,
        api_key: i16,
        bytes: usize,
        sent: Option<Instant>,
        read_at: Option<Instant>,
    ) {
        let Some(m) = &self.0 else {
            return;
        };
        bump(&m.responses[api_slot(api_key)]);
        add(&m.bytes_out, bytes as u64);
        if let (Some(sent), Some(read_at)) = (sent, read_at) {
            m.rtt[rtt_class(api_key)].observe(read_at.saturating_duration_since(sent));
            m.processing.observe(read_at.elapsed());
        }
    }

    pub fn backend_opened(&self) {
        if let Some(m) = &self.0 {
            bump(&m.backend_opened);
        }
    }

    /// A request was refused by a policy (answered or, for acks=0, by
    /// closing the connection).
    pub fn policy_refused(&self, limit: PolicyLimit) {
        if let Some(m) = &self.0 {
            bump(&m.policy_refusals[limit.index()]);
        }
    }

    /// A login the gateway checked (`None`: a mechanism not offered).
    pub fn authentication(&self, mechanism: Option<&str>, ok: bool) {
        if let Some(m) = &self.0 {
            bump(&m.authentications[auth_slot(SaslMechanism::of(mechanism), ok)]);
        }
    }

    pub fn backend_failed(&self, reason: BackendError) {
        if let Some(m) = &self.0 {
            bump(&m.backend_errors[reason.index()]);
        }
    }
}

/// A connection's handle on its listener's counters.
#[derive(Default)]
pub struct ConnMeter(Option<Rc<ListenerMeter>>);

/// Everything one shard counts, and when it last told the admin side.
pub struct ShardMeter {
    enabled: bool,
    active: Cell<u64>,
    listeners: RefCell<Vec<Rc<ListenerMeter>>>,
    routes: RefCell<Vec<Rc<RouteMeter>>>,
    observer: ShardObserver,
    last_publish: Cell<Instant>,
    budget: Rc<ByteBudget>,
}

impl ShardMeter {
    pub fn new(observer: ShardObserver, enabled: bool, budget: Rc<ByteBudget>) -> Self {
        ShardMeter {
            enabled,
            active: Cell::new(0),
            listeners: RefCell::new(Vec::new()),
            routes: RefCell::new(Vec::new()),
            observer,
            last_publish: Cell::new(Instant::now()),
            budget,
        }
    }

    /// A configuration was applied (`bound`: every listener address bound).
    /// Creates the counter sets of every configured route up front, so they
    /// are scraped as zeros before the first connection.
    pub fn routes_applied<'a>(
        &self,
        epoch: u64,
        bound: bool,
        listeners: impl Iterator<Item = &'a str>,
        routes: impl Iterator<Item = RouteNames<'a>>,
    ) {
        self.observer.bound(epoch, bound);
        if !self.enabled {
            return;
        }
        for listener in listeners {
            self.listener(listener);
        }
        for names in routes {
            self.route_meter(names);
        }
        self.publish();
    }

    pub fn connection_opened(&self, listener: &str) -> ConnMeter {
        if !self.enabled {
            return ConnMeter(None);
        }
        let meter = self.listener(listener);
        bump(&meter.accepted);
        bump(&meter.active);
        bump(&self.active);
        ConnMeter(Some(meter))
    }

    /// A connection was closed right after accept, never served; it is
    /// not counted as accepted.
    pub fn connection_refused(&self, listener: &str, reason: RefuseReason) {
        if self.enabled {
            bump(&self.listener(listener).refused[reason.index()]);
        }
    }

    pub fn connection_closed(&self, conn: &ConnMeter, outcome: CloseLabels) {
        if let Some(meter) = &conn.0 {
            self.active.set(self.active.get().saturating_sub(1));
            meter.closed(outcome);
        }
    }

    /// The counters of a routed connection, looked up once per connection.
    pub fn route(&self, names: RouteNames<'_>) -> Meter {
        if !self.enabled {
            return Meter(None);
        }
        Meter(Some(self.route_meter(names)))
    }

    fn listener(&self, name: &str) -> Rc<ListenerMeter> {
        let mut listeners = self.listeners.borrow_mut();
        if let Some(found) = listeners.iter().find(|l| &*l.name == name) {
            return found.clone();
        }
        let meter = Rc::new(ListenerMeter::new(name));
        listeners.push(meter.clone());
        meter
    }

    /// Counter sets are never removed: counters must not go backwards, and
    /// their number is bounded by the routes configurations have named.
    fn route_meter(&self, names: RouteNames<'_>) -> Rc<RouteMeter> {
        let mut routes = self.routes.borrow_mut();
        if let Some(found) = routes.iter().find(|r| r.is(names)) {
            return found.clone();
        }
        let key = RouteKey {
            listener: Arc::from(names.listener),
            virtual_cluster: Arc::from(names.virtual_cluster),
            backend: Arc::from(names.backend),
        };
        let meter = Rc::new(RouteMeter::new(key));
        routes.push(meter.clone());
        meter
    }

    /// Called while a shard drains (its polling loop); publishes once a second.
    pub fn tick(&self) {
        if self.enabled && self.last_publish.get().elapsed() >= PUBLISH_EVERY {
            self.publish();
        }
    }

    pub fn publish(&self) {
        if !self.enabled {
            return;
        }
        self.last_publish.set(Instant::now());
        self.observer.publish(self.snapshot());
    }

    pub fn snapshot(&self) -> ShardSnapshot {
        let listeners = self.listeners.borrow();
        let routes = self.routes.borrow();
        ShardSnapshot {
            shard: self.observer.shard,
            active: self.active.get(),
            budget: BudgetCounts::of(&self.budget),
            listeners: listeners
                .iter()
                .map(|l| (l.name.clone(), l.snapshot()))
                .collect(),
            routes: routes
                .iter()
                .map(|r| (r.key.clone(), r.snapshot()))
                .collect(),
        }
    }
}
