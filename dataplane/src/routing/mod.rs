//! A configuration snapshot compiled into what a shard looks up when a
//! connection arrives: listener -> (TLS) -> virtual cluster -> backend, and
//! the host mapping that tells clients where every broker is.

use std::borrow::Cow;
use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

use cp_sync::config::{
    broker_port, port_target, BackendCluster, Config, HostMapping, Listener, ListenerLimits,
    ListenerPorts, PortMapping, PrincipalSource, SniMapping, VirtualAuthentication,
};
use cp_sync::Snapshot;
use sluice_wire::rewrite::BrokerAddressMap;

use crate::auth::ClientAuth;
use crate::policy::{compile_policies, ClusterPolicies};
use cp_sync::credentials::BackendLogin;

pub use cp_sync::config::PortTarget;

/// What a client connection is for, once its listener (and SNI name) said so.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target {
    Bootstrap,
    Broker(i32),
}

/// A virtual cluster as a listener reaches it.
#[derive(Debug)]
pub struct ClusterRoute {
    pub virtual_cluster: String,
    pub dns_label: String,
    pub backend: String,
    /// Set when the backend wants TLS.
    pub backend_tls: Option<Arc<rustls::ClientConfig>>,
    /// How clients log in.
    pub auth: Arc<ClientAuth>,
    /// The gateway's own login to the backend, made on every upstream
    /// connection before a client request is forwarded; `None` when the
    /// backend takes anonymous connections or clients log in themselves.
    pub backend_login: Option<Arc<BackendLogin>>,
    /// What an open connection depends on: a change here closes it.
    authentication: Vec<VirtualAuthentication>,
    backend_config: BackendCluster,
}

/// TLS termination on a listener.
#[derive(Debug)]
pub struct TlsListener {
    pub config: Arc<rustls::ServerConfig>,
    pub allow_plaintext: bool,
    pub principal: PrincipalSource,
}

#[derive(Debug)]
pub enum Mapping {
    Port {
        mapping: PortMapping,
        cluster: Arc<ClusterRoute>,
    },
    Sni {
        mapping: SniMapping,
        /// By dns_label: every virtual cluster is reachable by its names.
        clusters: HashMap<String, Arc<ClusterRoute>>,
    },
}

/// Everything a connection on one listener needs, resolved once per epoch.
#[derive(Debug)]
pub struct ListenerRoute {
    /// The listener as configured, without its `limits`: any change to it
    /// closes its connections.
    config: Listener,
    /// Kept apart from `config` so that changing them closes nothing: new
    /// limits apply to connections accepted from then on.
    pub limits: ListenerLimits,
    pub listener: String,
    pub addresses: Vec<IpAddr>,
    pub ports: ListenerPorts,
    pub tls: Option<TlsListener>,
    pub mapping: Mapping,
}

impl ListenerRoute {
    /// For port mapping: bootstrap or broker N by the port a connection
    /// arrived on, with the one virtual cluster of the listener.
    pub fn port_route(self: &Arc<Self>, port: u16) -> Option<ConnRoute> {
        let Mapping::Port { mapping, cluster } = &self.mapping else {
            return None;
        };
        let target = match port_target(mapping, &self.ports, port)? {
            PortTarget::Bootstrap => Target::Bootstrap,
            PortTarget::Broker(node) => Target::Broker(node),
        };
        Some(ConnRoute {
            listener: self.clone(),
            cluster: cluster.clone(),
            target,
        })
    }

    /// For SNI mapping: the virtual cluster and target a server name asks for.
    pub fn sni_route(self: &Arc<Self>, server_name: &str) -> Option<ConnRoute> {
        let Mapping::Sni { mapping, clusters } = &self.mapping else {
            return None;
        };
        let route = mapping.route(server_name)?;
        let target = match route.target {
            PortTarget::Bootstrap => Target::Bootstrap,
            PortTarget::Broker(node) => Target::Broker(node),
        };
        Some(ConnRoute {
            listener: self.clone(),
            cluster: clusters.get(&route.dns_label)?.clone(),
            target,
        })
    }

    /// The virtual clusters this listener reaches.
    pub fn clusters(&self) -> Vec<&Arc<ClusterRoute>> {
        match &self.mapping {
            Mapping::Port { cluster, .. } => vec![cluster],
            Mapping::Sni { clusters, .. } => clusters.values().collect(),
        }
    }

    /// Why broker `node_id` has no address on this listener, if it has none.
    pub fn broker_unmapped(&self, node_id: i32) -> Option<String> {
        match &self.mapping {
            Mapping::Port { mapping, .. } => broker_port(mapping, &self.ports, node_id).err(),
            Mapping::Sni { .. } => None,
        }
    }
}

/// One client connection's route: it lives as long as the connection.
#[derive(Debug, Clone)]
pub struct ConnRoute {
    pub listener: Arc<ListenerRoute>,
    pub cluster: Arc<ClusterRoute>,
    pub target: Target,
}

impl BrokerAddressMap for ConnRoute {
    fn broker_endpoint(&self, node_id: i32) -> Option<(Cow<'_, str>, i32)> {
        match &self.listener.mapping {
            Mapping::Port { mapping, .. } => {
                let port = broker_port(mapping, &self.listener.ports, node_id).ok()?;
                Some((
                    Cow::Borrowed(mapping.advertised_host.as_str()),
                    i32::from(port),
                ))
            }
            Mapping::Sni { mapping, .. } => {
                let host = mapping.broker_host(&self.cluster.dns_label, node_id);
                Some((Cow::Owned(host), i32::from(mapping.advertised_port)))
            }
        }
    }
}

#[derive(Debug, Default)]
pub struct RouteTable {
    pub epoch: u64,
    listeners: Vec<Arc<ListenerRoute>>,
    /// By virtual cluster name; connections pick changes up per request.
    policies: HashMap<String, Arc<ClusterPolicies>>,
}

impl RouteTable {
    /// Assumes a validated snapshot: a listener whose references do not
    /// resolve is left out rather than guessed at.
    pub fn compile(snapshot: &Snapshot) -> RouteTable {
        let listeners = (snapshot.config.listeners.iter())
            .filter_map(|listener| compile_listener(snapshot, listener))
            .map(Arc::new)
            .collect();
        RouteTable {
            epoch: snapshot.epoch,
            listeners,
            policies: compile_policies(&snapshot.config),
        }
    }

    pub fn policies(&self, virtual_cluster: &str) -> Option<Arc<ClusterPolicies>> {
        self.policies.get(virtual_cluster).cloned()
    }

    /// Whether an open connection may carry on under this table. A change to
    /// its listener, to its virtual cluster's destination, name or
    /// authentication, or to its backend cluster ends it; anything else (a
    /// certificate rotation, policies, other entities) does not.
    pub fn still_valid(&self, route: &ConnRoute) -> Result<(), String> {
        let name = &route.listener.listener;
        let listener = self
            .listener(name)
            .ok_or_else(|| format!("listener {name} was removed"))?;
        if listener.config != route.listener.config {
            return Err(format!("listener {name} changed"));
        }
        let old = &route.cluster;
        let vc = &old.virtual_cluster;
        let cluster = (listener.clusters().into_iter())
            .find(|c| &c.virtual_cluster == vc)
            .ok_or_else(|| {
                format!("virtual cluster {vc} is no longer served on listener {name}")
            })?;
        if cluster.dns_label != old.dns_label || cluster.authentication != old.authentication {
            return Err(format!(
                "virtual cluster {vc} changed its dns_label or authentication"
            ));
        }
        if cluster.backend != old.backend
            || !cluster.backend_config.connects_like(&old.backend_config)
        {
            return Err(format!(
                "backend cluster {} of virtual cluster {vc} changed",
                old.backend
            ));
        }
        Ok(())
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

fn compile_listener(snapshot: &Snapshot, listener: &Listener) -> Option<ListenerRoute> {
    let config = &snapshot.config;
    let mapping = match listener.host_mapping()? {
        HostMapping::PortMapping(mapping) => Mapping::Port {
            mapping: mapping.clone(),
            cluster: Arc::new(cluster_route(snapshot, &mapping.destination.name)?),
        },
        HostMapping::Sni(mapping) => Mapping::Sni {
            mapping: mapping.clone(),
            clusters: (config.virtual_clusters.iter())
                .filter_map(|vc| cluster_route(snapshot, &vc.name))
                .map(|route| (route.dns_label.clone(), Arc::new(route)))
                .collect(),
        },
    };
    let tls = match listener.tls_server() {
        Some(server) => Some(TlsListener {
            config: snapshot.tls.servers.get(&listener.name)?.clone(),
            allow_plaintext: server.allow_plaintext,
            principal: server.client_authentication.principal,
        }),
        None => None,
    };
    let mut config = listener.clone();
    let limits = std::mem::take(&mut config.limits);
    Some(ListenerRoute {
        config,
        limits,
        listener: listener.name.clone(),
        addresses: listener.addresses.clone(),
        ports: listener.listener_ports(),
        tls,
        mapping,
    })
}

fn cluster_route(snapshot: &Snapshot, virtual_cluster: &str) -> Option<ClusterRoute> {
    let config: &Config = &snapshot.config;
    let vc = config
        .virtual_clusters
        .iter()
        .find(|vc| vc.name == virtual_cluster)?;
    let backend = &vc.destination.name;
    let logins = snapshot.credentials.clusters.get(&vc.name).cloned();
    let auth = ClientAuth::compile(&vc.authentication, logins);
    let backend_config = config
        .backend_clusters
        .iter()
        .find(|b| &b.name == backend)?;
    Some(ClusterRoute {
        virtual_cluster: vc.name.clone(),
        dns_label: vc.dns_label.clone(),
        backend: backend.clone(),
        backend_tls: snapshot.tls.backends.get(backend).cloned(),
        backend_login: (auth.gateway_logs_in())
            .then(|| snapshot.credentials.backends.get(backend).cloned())
            .flatten()
            .map(Arc::new),
        auth: Arc::new(auth),
        authentication: vc.authentication.clone(),
        backend_config: backend_config.clone(),
    })
}

#[cfg(test)]
mod tests;
