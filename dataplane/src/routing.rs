//! A configuration snapshot compiled into what a shard looks up when a
//! connection arrives: listener -> virtual cluster -> backend, and the port
//! mapping that places every broker on the listener.

use std::borrow::Cow;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

use cp_sync::config::{broker_port, port_target};
use cp_sync::config::{HostMapping, ListenerPorts, PortMapping};
use cp_sync::Snapshot;
use sluice_wire::rewrite::BrokerAddressMap;

pub use cp_sync::config::PortTarget;

/// Everything a connection on one listener needs, resolved once per epoch.
#[derive(Debug)]
pub struct ListenerRoute {
    pub listener: String,
    pub addresses: Vec<IpAddr>,
    pub ports: ListenerPorts,
    pub mapping: PortMapping,
    pub virtual_cluster: String,
    pub backend: String,
}

impl ListenerRoute {
    /// Bootstrap or broker N for a connection that arrived on `port`.
    pub fn target(&self, port: u16) -> Option<PortTarget> {
        port_target(&self.mapping, &self.ports, port)
    }

    pub fn broker_port(&self, node_id: i32) -> Result<u16, String> {
        broker_port(&self.mapping, &self.ports, node_id)
    }
}

impl BrokerAddressMap for ListenerRoute {
    fn broker_endpoint(&self, node_id: i32) -> Option<(Cow<'_, str>, i32)> {
        let port = self.broker_port(node_id).ok()?;
        Some((
            Cow::Borrowed(self.mapping.advertised_host.as_str()),
            i32::from(port),
        ))
    }
}

#[derive(Debug, Default)]
pub struct RouteTable {
    pub epoch: u64,
    listeners: Vec<Arc<ListenerRoute>>,
}

impl RouteTable {
    /// Assumes a validated snapshot: a listener whose references do not
    /// resolve is left out rather than guessed at.
    pub fn compile(snapshot: &Snapshot) -> RouteTable {
        let config = &snapshot.config;
        let listeners = (config.listeners.iter())
            .filter_map(|listener| {
                let HostMapping::PortMapping(mapping) = listener.host_mapping()?;
                let vc = (config.virtual_clusters.iter())
                    .find(|vc| vc.name == mapping.destination.name)?;
                Some(Arc::new(ListenerRoute {
                    listener: listener.name.clone(),
                    addresses: listener.addresses.clone(),
                    ports: listener.listener_ports(),
                    mapping: mapping.clone(),
                    virtual_cluster: vc.name.clone(),
                    backend: vc.destination.name.clone(),
                }))
            })
            .collect();
        RouteTable {
            epoch: snapshot.epoch,
            listeners,
        }
    }

    pub fn listener(&self, name: &str) -> Option<Arc<ListenerRoute>> {
        self.listeners.iter().find(|l| l.listener == name).cloned()
    }

    pub fn listeners(&self) -> impl Iterator<Item = &Arc<ListenerRoute>> {
        self.listeners.iter()
    }

    /// Every socket address to listen on, with the listener it belongs to.
    pub fn bind_addresses(&self) -> impl Iterator<Item = (SocketAddr, &str)> {
        self.listeners.iter().flat_map(|route| {
            route.addresses.iter().flat_map(move |ip| {
                (route.ports.ports())
                    .map(move |port| (SocketAddr::new(*ip, port), route.listener.as_str()))
            })
        })
    }
}
