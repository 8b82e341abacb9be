//! What the pumps of one connection see of the world around them: a few
//! shard-wide cells, the virtual cluster's policies, the limits and the
//! connection's own counters. Narrow on purpose: the pumps run the same
//! over glommio sockets and over in-memory pipes in tests, and a new policy
//! stage reads the connection context here instead of reaching into the
//! shard.

use std::cell::{Cell, Ref, RefCell, RefMut};
use std::rc::Rc;
use std::sync::Arc;
use std::time::Duration;

use sluice_runtime::{ByteBudget, CoarseClock};

use sluice_wire::rewrite::BrokerAddressMap;

use crate::auth::{ClientAuth, Session};

use super::clock::ConnClock;
use super::memo::ResponseMemo;
use crate::metrics::Meter;
use crate::policy::ClusterPolicies;

/// The shard-wide state connections share on one shard: plain cells, as
/// only that shard's thread touches them.
pub struct ShardConns {
    inflight: Cell<usize>,
    memo: RefCell<ResponseMemo>,
    /// The shard's coarse time, read at each accept and each tick.
    pub clock: Rc<CoarseClock>,
    /// Bytes of client frames the shard may hold at once.
    pub budget: Rc<ByteBudget>,
}

impl Default for ShardConns {
    fn default() -> Self {
        ShardConns::new(usize::MAX)
    }
}

impl ShardConns {
    pub fn new(frame_budget: usize) -> Self {
        ShardConns {
            inflight: Cell::new(0),
            memo: RefCell::default(),
            clock: Rc::default(),
            budget: Rc::new(ByteBudget::new(frame_budget)),
        }
    }

    /// Requests forwarded on this shard whose responses are still owed.
    pub fn inflight(&self) -> usize {
        self.inflight.get()
    }

    pub(crate) fn inflight_started(&self) {
        self.inflight.set(self.inflight.get() + 1);
    }

    pub(crate) fn inflight_finished(&self) {
        self.inflight.set(self.inflight.get().saturating_sub(1));
    }

    /// A connection ended owing `n` responses: they will never come.
    pub fn inflight_abandoned(&self, n: usize) {
        self.inflight.set(self.inflight.get().saturating_sub(n));
    }

    pub(crate) fn memo(&self) -> Ref<'_, ResponseMemo> {
        self.memo.borrow()
    }

    pub(crate) fn memo_mut(&self) -> RefMut<'_, ResponseMemo> {
        self.memo.borrow_mut()
    }
}

/// Where a connection finds its virtual cluster's current policies.
pub trait PolicySource {
    /// Changes whenever the policies may have changed.
    fn epoch(&self) -> u64;
    /// `None`: the virtual cluster is gone from the configuration.
    fn policies(&self, virtual_cluster: &str) -> Option<Arc<ClusterPolicies>>;
}

/// One connection's view of its virtual cluster's current policies: looked
/// up again only when the source's epoch moved, so an edit applies from the
/// next request without closing the connection.
pub(crate) struct PolicyView {
    virtual_cluster: String,
    epoch: Option<u64>,
    current: Arc<ClusterPolicies>,
}

impl PolicyView {
    pub(crate) fn new(virtual_cluster: &str) -> Self {
        PolicyView {
            virtual_cluster: virtual_cluster.to_owned(),
            epoch: None,
            current: Arc::default(),
        }
    }

    pub(crate) fn current(&mut self, source: &dyn PolicySource) -> &ClusterPolicies {
        let epoch = source.epoch();
        if self.epoch != Some(epoch) {
            self.epoch = Some(epoch);
            // A virtual cluster gone from the config takes its connections
            // with it (they are closed as stale); until then, no policies.
            self.current = source.policies(&self.virtual_cluster).unwrap_or_default();
        }
        &self.current
    }
}

/// Limits one connection's pumps run with.
#[derive(Debug, Clone, Copy)]
pub struct PumpLimits {
    pub max_frame: usize,
    pub read_chunk: usize,
    pub max_inflight: usize,
    /// Responses of at least this many bytes are forwarded as they arrive.
    pub cut_through: usize,
    /// How long past the wait a client allowed it the broker may take to
    /// answer before the request counts as lost.
    pub request_margin: Duration,
    /// How long a failed login waits before its answer, so that guessing
    /// passwords is slow.
    pub auth_failure_delay: Duration,
}

/// Adds `n` bytes to one of a connection's counters.
pub fn add(counter: &Cell<u64>, n: usize) {
    counter.set(counter.get() + n as u64);
}

/// Byte and request counts of one connection, and the requests it still
/// owes a response for (given back to the shard if the connection dies).
#[derive(Default)]
pub struct ConnStats {
    pub bytes_from_client: Cell<u64>,
    pub bytes_from_backend: Cell<u64>,
    pub requests: Cell<u64>,
    pub outstanding: Cell<usize>,
    /// Who the client is, once it has logged in.
    pub session: Session,
}

/// Everything one connection's pumps read besides their four stream ends.
pub struct ConnEnv<'a> {
    pub shard: &'a ShardConns,
    pub policies: &'a dyn PolicySource,
    pub virtual_cluster: &'a str,
    /// Broker addresses as this connection's clients must see them.
    pub brokers: &'a dyn BrokerAddressMap,
    /// How the virtual cluster's clients log in, and who this one is.
    pub auth: &'a ClientAuth,
    pub session: &'a Session,
    pub limits: PumpLimits,
    pub stats: &'a ConnStats,
    pub clock: &'a ConnClock,
    pub meter: &'a Meter,
}
