//! Port mapping: which listener port serves which broker (DESIGN.md section 3).
//!
//! With `bootstrap_port: at_start` the first listener port is the bootstrap
//! and broker `n` is on `first_port + 1 + (n - min_broker_id)`; with `none`
//! it is on `first_port + (n - min_broker_id)`. Nothing else is configured,
//! so the mapping stays stable across restarts whatever brokers exist.

use super::ports::ListenerPorts;
use super::schema::{BootstrapPort, PortMapping};

/// What a connection to a listener port is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PortTarget {
    Bootstrap,
    /// The backend broker with this node id.
    Broker(i32),
}

fn broker_offset(mapping: &PortMapping) -> i64 {
    match mapping.bootstrap_port {
        BootstrapPort::AtStart => 1,
        BootstrapPort::None => 0,
    }
}

/// The listener port that serves broker `node_id`.
///
/// Fails when the formula lands outside the listener's ports, which means the
/// backend has more (or higher-numbered) brokers than the listener has ports.
pub fn broker_port(
    mapping: &PortMapping,
    listener_ports: &ListenerPorts,
    node_id: i32,
) -> Result<u16, String> {
    let Some(first) = listener_ports.first_port() else {
        return Err(format!(
            "broker node {node_id} has no port: the listener has no ports"
        ));
    };
    if node_id < mapping.min_broker_id {
        return Err(format!(
            "broker node {node_id} has no port on listener ports {listener_ports}: \
             node ids below min_broker_id {} are not mapped; lower min_broker_id",
            mapping.min_broker_id
        ));
    }
    let port = i64::from(first)
        + broker_offset(mapping)
        + (i64::from(node_id) - i64::from(mapping.min_broker_id));
    match u16::try_from(port) {
        Ok(port) if listener_ports.contains(port) => Ok(port),
        _ => Err(format!(
            "broker node {node_id} maps to port {port}, outside listener ports \
             {listener_ports}; widen the listener's port range"
        )),
    }
}

/// The inverse of [`broker_port`]: what a connection on `port` should reach.
/// `None` when the port is not one of the listener's.
pub fn port_target(
    mapping: &PortMapping,
    listener_ports: &ListenerPorts,
    port: u16,
) -> Option<PortTarget> {
    if !listener_ports.contains(port) {
        return None;
    }
    let first = listener_ports.first_port()?;
    let offset = i64::from(port) - i64::from(first) - broker_offset(mapping);
    if offset < 0 {
        return Some(PortTarget::Bootstrap);
    }
    let node_id = i64::from(mapping.min_broker_id) + offset;
    i32::try_from(node_id).ok().map(PortTarget::Broker)
}
