//! Clients' Metadata responses as a check on the shard's topology.
//!
//! After a leader moves, clients see NOT_LEADER errors and ask for
//! Metadata; sluice rewrites every such response anyway. When one names a
//! broker the shard's topology lacks, or gives it another address, the
//! broker joined or moved, and discovery is asked to refresh now rather
//! than at its next interval. A broker that stays unknown (its name does
//! not resolve, say) must not turn every Metadata response into a refresh:
//! while the topology stays the same, the asks back off.

use std::borrow::Cow;
use std::cell::RefCell;
use std::collections::HashMap;
use std::time::{Duration, Instant};

use sluice_wire::rewrite::BrokerAddressMap;
use tracing::info;

use super::ShardContext;
use crate::routing::ConnRoute;

/// The wait after the first ask while the topology stays the same.
const FIRST_GAP: Duration = Duration::from_millis(250);
/// The longest wait between asks about one unchanged topology.
const MAX_GAP: Duration = Duration::from_secs(10);

/// A connection's broker addresses, watching the backend's as they pass.
pub(super) struct WatchedBrokers<'a> {
    pub route: &'a ConnRoute,
    pub ctx: &'a ShardContext,
}

impl BrokerAddressMap for WatchedBrokers<'_> {
    fn broker_endpoint(&self, node_id: i32) -> Option<(Cow<'_, str>, i32)> {
        self.route.broker_endpoint(node_id)
    }

    fn note_backend_broker(&self, node_id: i32, host: &str, port: i32) {
        let backend = &self.route.cluster.backend;
        let (topology, known) = self.ctx.broker_known(backend, node_id, host, port);
        if known
            || !self
                .ctx
                .stale_asks
                .ask_now(backend, topology, Instant::now())
        {
            return;
        }
        info!(backend = %backend, node = node_id, host, port,
            "a Metadata response names a broker sluice has no such address for; refreshing the backend's metadata");
        self.ctx.request_discovery(backend);
    }
}

/// When each backend's topology was last found stale, and how long to
/// wait before asking again.
#[derive(Default)]
pub(super) struct StaleAsks {
    by_backend: RefCell<HashMap<String, Ask>>,
}

struct Ask {
    /// Identity of the topology the ask was about (its `Arc` address).
    topology: usize,
    next: Instant,
    gap: Duration,
}

impl StaleAsks {
    /// Whether a refresh of `backend`, whose current topology is
    /// `topology`, should be asked for at `now`. A new topology starts
    /// afresh; the same one doubles the gap each time, up to [`MAX_GAP`].
    pub fn ask_now(&self, backend: &str, topology: usize, now: Instant) -> bool {
        let mut asks = self.by_backend.borrow_mut();
        let Some(ask) = asks.get_mut(backend) else {
            asks.insert(backend.to_string(), Ask::first(topology, now));
            return true;
        };
        if ask.topology != topology {
            *ask = Ask::first(topology, now);
            return true;
        }
        if now < ask.next {
            return false;
        }
        ask.gap = (ask.gap * 2).min(MAX_GAP);
        ask.next = now + ask.gap;
        true
    }
}

impl Ask {
    fn first(topology: usize, now: Instant) -> Ask {
        Ask {
            topology,
            next: now + FIRST_GAP,
            gap: FIRST_GAP,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn asks_back_off_while_the_topology_stays_the_same() {
        let asks = StaleAsks::default();
        let t0 = Instant::now();
        let at = |ms: u64| t0 + Duration::from_millis(ms);
        assert!(asks.ask_now("b", 1, at(0)));
        assert!(!asks.ask_now("b", 1, at(100)));
        assert!(asks.ask_now("b", 1, at(250)));
        // The gap is now 500 ms.
        assert!(!asks.ask_now("b", 1, at(700)));
        assert!(asks.ask_now("b", 1, at(750)));
        // Another backend has its own gaps.
        assert!(asks.ask_now("other", 1, at(760)));
    }

    #[test]
    fn a_new_topology_is_checked_at_once() {
        let asks = StaleAsks::default();
        let t0 = Instant::now();
        assert!(asks.ask_now("b", 1, t0));
        assert!(!asks.ask_now("b", 1, t0));
        assert!(asks.ask_now("b", 2, t0));
    }

    #[test]
    fn the_gap_stops_growing_at_its_cap() {
        let asks = StaleAsks::default();
        let mut now = Instant::now();
        for _ in 0..20 {
            assert!(asks.ask_now("b", 1, now));
            now += MAX_GAP;
        }
        assert!(!asks.ask_now("b", 1, now - Duration::from_millis(1)));
    }
}
