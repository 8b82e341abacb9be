//! Warnings about what sluice exposes without protection: listeners that
//! take plaintext Kafka connections on addresses other hosts can reach,
//! and an admin endpoint off loopback. Either may be intended (a private
//! network, a firewall in front); neither should go unnoticed, so each says
//! so once: at start, and for a listener again when a reload adds it or
//! makes it plaintext.

use std::collections::HashSet;
use std::net::{IpAddr, SocketAddr};

use cp_sync::config::Listener;
use cp_sync::Snapshot;
use tracing::warn;

/// The plaintext listeners already warned about, as they were then.
#[derive(Default)]
pub struct PlaintextListeners {
    warned: HashSet<Exposure>,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct Exposure {
    listener: String,
    addresses: Vec<IpAddr>,
    /// TLS with `allow_plaintext` rather than no TLS at all.
    also_tls: bool,
}

impl PlaintextListeners {
    /// Warns about the exposed plaintext listeners of the first configuration.
    pub fn at_start(snapshot: &Snapshot) -> PlaintextListeners {
        let mut listeners = PlaintextListeners::default();
        listeners.check(snapshot);
        listeners
    }

    /// Warns about every exposed plaintext listener of `snapshot` that was
    /// not exposed in the same way by the previous one.
    pub fn check(&mut self, snapshot: &Snapshot) {
        let now: HashSet<Exposure> = (snapshot.config.listeners.iter())
            .filter_map(exposure)
            .collect();
        for exposure in now.difference(&self.warned) {
            let addresses: Vec<String> = exposure.addresses.iter().map(|a| a.to_string()).collect();
            let addresses = addresses.join(", ");
            let listener = &exposure.listener;
            if exposure.also_tls {
                warn!(listener, addresses, "listener {listener} also accepts plaintext Kafka connections (tls_server allow_plaintext: true) on addresses other hosts can reach: their traffic can be read and changed on the network; set allow_plaintext: false unless that is intended");
            } else {
                warn!(listener, addresses, "listener {listener} accepts plaintext Kafka connections (no tls_server policy) on addresses other hosts can reach: their traffic can be read and changed on the network; add a tls_server policy or bind it to a loopback address unless that is intended");
            }
        }
        self.warned = now;
    }
}

/// The listener's non-loopback addresses, when it takes plaintext.
fn exposure(listener: &Listener) -> Option<Exposure> {
    let also_tls = match listener.tls_server() {
        None => false,
        Some(tls) if tls.allow_plaintext => true,
        Some(_) => return None,
    };
    let addresses: Vec<IpAddr> = (listener.addresses.iter())
        .filter(|address| !address.is_loopback())
        .copied()
        .collect();
    (!addresses.is_empty()).then(|| Exposure {
        listener: listener.name.clone(),
        addresses,
        also_tls,
    })
}

/// Warns when the admin endpoint (`--admin-listen`) is off loopback.
pub fn check_admin(admin_listen: Option<&str>) {
    let Some(addr) = admin_listen.and_then(|a| a.parse::<SocketAddr>().ok()) else {
        return;
    };
    if !addr.ip().is_loopback() {
        warn!(admin_listen = %addr, "the admin endpoint listens on an address other hosts can reach: /metrics, /status and the health probes answer anyone there, without authentication; bind it to 127.0.0.1 (--admin-listen) or keep it behind a firewall unless that is intended");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn listener(yaml: &str) -> Listener {
        let doc = format!(
            "backend_clusters: [{{name: k, bootstrap_servers: [\"127.0.0.1:9092\"]}}]\n\
             virtual_clusters: [{{name: vc, dns_label: vc, destination: {{name: k}}}}]\n\
             listeners:\n  - name: l\n    ports: [\"19092-19094\"]\n{yaml}\
             \x20   policies:\n      - type: forward_to_virtual_cluster\n\
             \x20       config: {{type: port_mapping, destination: {{name: vc}}, advertised_host: h}}\n"
        );
        let format = cp_sync::config::ConfigFormat::Yaml;
        let config = cp_sync::config::parse_config_str(&doc, format).expect("valid config");
        config.listeners[0].clone()
    }

    #[test]
    fn plaintext_off_loopback_is_exposed() {
        let wildcard = exposure(&listener("")).expect("0.0.0.0 is exposed");
        assert_eq!(wildcard.addresses, ["0.0.0.0".parse::<IpAddr>().unwrap()]);
        assert!(!wildcard.also_tls);
        let mixed = listener("    addresses: [\"127.0.0.1\", \"::1\", \"10.1.2.3\"]\n");
        let mixed = exposure(&mixed).expect("10.1.2.3 is exposed");
        assert_eq!(mixed.addresses, ["10.1.2.3".parse::<IpAddr>().unwrap()]);
        let loopback = listener("    addresses: [\"127.0.0.1\", \"::1\"]\n");
        assert_eq!(exposure(&loopback), None);
    }

    #[test]
    fn tls_is_exposed_only_when_it_allows_plaintext() {
        use cp_sync::config::{ListenerPolicy, TlsServer};
        let with_tls = |allow_plaintext| {
            let mut l = listener("");
            l.policies.push(ListenerPolicy::TlsServer(TlsServer {
                certificates: Vec::new(),
                versions: Default::default(),
                allow_plaintext,
                client_authentication: Default::default(),
            }));
            exposure(&l)
        };
        assert_eq!(with_tls(false), None);
        assert!(with_tls(true).is_some_and(|e| e.also_tls));
    }
}
