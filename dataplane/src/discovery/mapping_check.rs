//! Tells the operator when a backend has brokers that a listener has no port
//! for: such brokers are left out of responses, which clients can only
//! survive, not fix.

use cp_sync::Snapshot;
use tracing::error;

use crate::routing::RouteTable;
use crate::topology::BackendTopology;

pub fn warn_unmapped(snapshot: &Snapshot, topology: &BackendTopology) {
    let routes = RouteTable::compile(snapshot);
    for route in routes.listeners() {
        if !route
            .clusters()
            .iter()
            .any(|c| c.backend == topology.backend)
        {
            continue;
        }
        for &node in topology.brokers.keys() {
            if let Some(reason) = route.broker_unmapped(node) {
                error!(listener = %route.listener, backend = %topology.backend, "{reason}");
            }
        }
    }
}
