//! Tells the operator when a backend has brokers that a listener has no port
//! for: such brokers are left out of responses, which clients can only
//! survive, not fix.

use cp_sync::Snapshot;
use tracing::error;

use crate::routing::RouteTable;
use crate::topology::BackendTopology;

pub fn warn_unmapped(snapshot: &Snapshot, topology: &BackendTopology) {
    let routes = RouteTable::compile(snapshot);
    for route in routes.listeners().filter(|r| r.backend == topology.backend) {
        for &node in topology.brokers.keys() {
            if let Err(reason) = route.broker_port(node) {
                error!(listener = %route.listener, backend = %topology.backend, "{reason}");
            }
        }
    }
}
