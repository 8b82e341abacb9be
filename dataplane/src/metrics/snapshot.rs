//! What a shard publishes about itself once a second, and the sum of every
//! shard's latest publication that a scrape renders. Plain integers only:
//! a snapshot is immutable once sent, so the admin side reads it without
//! touching anything a shard writes.

use std::collections::BTreeMap;
use std::sync::Arc;

use super::budget::BudgetCounts;

use super::histogram::HistogramCounts;
use super::labels::RTT_CLASSES;
use super::labels::{
    BackendError, CloseReason, FrameReject, PolicyLimit, Side, TlsFailure, API_SLOTS, AUTH_SLOTS,
};
use super::refusals::RefuseReason;

/// The labels of a route counter set: which listener, virtual cluster and
/// backend a connection was routed through. Resolved once per connection.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct RouteKey {
    pub listener: Arc<str>,
    pub virtual_cluster: Arc<str>,
    pub backend: Arc<str>,
}

/// Connection-level counts of one listener.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListenerCounts {
    pub accepted: u64,
    pub active: u64,
    pub closed: [u64; CloseReason::COUNT],
    /// Refused right after accept, by `RefuseReason`.
    pub refused: [u64; RefuseReason::COUNT],
    pub tls_failures: [[u64; TlsFailure::COUNT]; Side::COUNT],
    pub frames_rejected: [[u64; FrameReject::COUNT]; Side::COUNT],
}

impl Default for ListenerCounts {
    fn default() -> Self {
        ListenerCounts {
            accepted: 0,
            active: 0,
            closed: [0; CloseReason::COUNT],
            refused: [0; RefuseReason::COUNT],
            tls_failures: [[0; TlsFailure::COUNT]; Side::COUNT],
            frames_rejected: [[0; FrameReject::COUNT]; Side::COUNT],
        }
    }
}

impl ListenerCounts {
    pub fn add(&mut self, other: &ListenerCounts) {
        self.accepted += other.accepted;
        self.active += other.active;
        add_all(&mut self.closed, &other.closed);
        add_all(&mut self.refused, &other.refused);
        for side in 0..Side::COUNT {
            add_all(&mut self.tls_failures[side], &other.tls_failures[side]);
            add_all(
                &mut self.frames_rejected[side],
                &other.frames_rejected[side],
            );
        }
    }
}

/// Request-level counts of one route.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RouteCounts {
    pub requests: [u64; API_SLOTS],
    pub responses: [u64; API_SLOTS],
    pub bytes_in: u64,
    pub bytes_out: u64,
    pub backend_opened: u64,
    pub backend_errors: [u64; BackendError::COUNT],
    pub policy_refusals: [u64; PolicyLimit::COUNT],
    /// By `labels::auth_slot`.
    pub authentications: [u64; AUTH_SLOTS],
    /// Request fully read -> written to the backend.
    pub forward: HistogramCounts,
    /// Response fully read -> written to the client.
    pub processing: HistogramCounts,
    /// Request forwarded -> its response read, by `labels::rtt_class`.
    pub rtt: [HistogramCounts; RTT_CLASSES],
}

impl Default for RouteCounts {
    fn default() -> Self {
        RouteCounts {
            requests: [0; API_SLOTS],
            responses: [0; API_SLOTS],
            bytes_in: 0,
            bytes_out: 0,
            backend_opened: 0,
            backend_errors: [0; BackendError::COUNT],
            policy_refusals: [0; PolicyLimit::COUNT],
            authentications: [0; AUTH_SLOTS],
            forward: HistogramCounts::default(),
            processing: HistogramCounts::default(),
            rtt: [HistogramCounts::default(); RTT_CLASSES],
        }
    }
}

impl RouteCounts {
    pub fn add(&mut self, other: &RouteCounts) {
        add_all(&mut self.requests, &other.requests);
        add_all(&mut self.responses, &other.responses);
        self.bytes_in += other.bytes_in;
        self.bytes_out += other.bytes_out;
        self.backend_opened += other.backend_opened;
        add_all(&mut self.backend_errors, &other.backend_errors);
        add_all(&mut self.policy_refusals, &other.policy_refusals);
        add_all(&mut self.authentications, &other.authentications);
        self.forward.add(&other.forward);
        self.processing.add(&other.processing);
        for (mine, theirs) in self.rtt.iter_mut().zip(other.rtt.iter()) {
            mine.add(theirs);
        }
    }
}

fn add_all(mine: &mut [u64], theirs: &[u64]) {
    for (m, t) in mine.iter_mut().zip(theirs) {
        *m += t;
    }
}

/// One shard's counters at one moment.
#[derive(Debug, Clone, Default)]
pub struct ShardSnapshot {
    pub shard: usize,
    pub active: u64,
    pub budget: BudgetCounts,
    pub listeners: Vec<(Arc<str>, ListenerCounts)>,
    pub routes: Vec<(RouteKey, RouteCounts)>,
}

/// Every shard's latest snapshot added up; what one scrape renders.
#[derive(Debug, Default)]
pub struct Totals {
    /// Active client connections per shard (the one per-shard series, to
    /// see how evenly the kernel spreads connections).
    pub shards: Vec<(usize, u64)>,
    pub budget: BudgetCounts,
    pub listeners: BTreeMap<Arc<str>, ListenerCounts>,
    pub routes: BTreeMap<RouteKey, RouteCounts>,
}

impl Totals {
    pub fn add(&mut self, snapshot: &ShardSnapshot) {
        self.shards.push((snapshot.shard, snapshot.active));
        self.budget.add(&snapshot.budget);
        for (name, counts) in &snapshot.listeners {
            self.listeners.entry(name.clone()).or_default().add(counts);
        }
        for (key, counts) in &snapshot.routes {
            self.routes.entry(key.clone()).or_default().add(counts);
        }
    }

    pub fn of<'a>(snapshots: impl IntoIterator<Item = &'a ShardSnapshot>) -> Totals {
        let mut totals = Totals::default();
        for snapshot in snapshots {
            totals.add(snapshot);
        }
        totals.shards.sort_unstable();
        totals
    }
}
