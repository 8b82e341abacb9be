//! Semantic checks on listeners: ports, addresses, policies.

use std::collections::HashSet;
use std::net::IpAddr;

use super::errors::{DocPath, ErrorList};
use super::limits::check_limits;
use super::origins::Origins;
use super::ports::{ListenerPorts, PortRange};
use super::schema::{
    BootstrapPort, Config, HostMapping, Listener, ListenerPolicy, PortMapping, SniMapping,
};
use super::syntax::{check_host, check_sni_suffix};
use super::tls_checks::check_tls_server;
use super::validate::{check_name, check_unique};

pub(crate) fn check_listeners(config: &Config, origins: &Origins, errors: &mut ErrorList) {
    let virtual_clusters: HashSet<&str> = config
        .virtual_clusters
        .iter()
        .map(|virtual_cluster| virtual_cluster.name.as_str())
        .collect();
    for (i, listener) in config.listeners.iter().enumerate() {
        check_name(&listener.name, origins.listener(i).key("name"), errors);
        check_addresses(listener, i, origins, errors);
        check_own_ports(listener, i, origins, errors);
        check_policies(listener, i, origins, &virtual_clusters, errors);
        check_limits(&listener.limits, &origins.listener(i).key("limits"), errors);
    }
    let names = config.listeners.iter().map(|l| l.name.as_str());
    check_unique("name", names, |i| origins.listener(i).key("name"), errors);
    check_shared_ports(config, origins, errors);
}

fn check_addresses(listener: &Listener, i: usize, origins: &Origins, errors: &mut ErrorList) {
    if !origins.addresses_known(i) {
        return;
    }
    let at = origins.listener(i).key("addresses");
    if listener.addresses.is_empty() {
        errors.push(
            at.clone(),
            "must list at least one IP address, e.g. [\"0.0.0.0\"]",
        );
    }
    for (k, address) in listener.addresses.iter().enumerate() {
        if listener.addresses[..k].contains(address) {
            errors.push(
                at.index(k),
                format!("{address} is listed twice; list it once"),
            );
        }
    }
}

fn check_own_ports(listener: &Listener, i: usize, origins: &Origins, errors: &mut ErrorList) {
    let complete = origins.ports_complete(i);
    if complete && listener.ports.is_empty() {
        errors.push(
            origins.listener(i).key("ports"),
            "must list at least one port, e.g. [19092, \"19093-19096\"]",
        );
    }
    for (k, range) in listener.ports.iter().enumerate() {
        let at = origins.port(i, k);
        if range.start == 0 || range.end == 0 {
            errors.push(at, "port 0 is out of range 1-65535");
        } else if range.start > range.end {
            errors.push(
                at,
                format!(
                    "range {}-{} is inverted; write the lower port first ({}-{})",
                    range.start, range.end, range.end, range.start
                ),
            );
        } else if let Some((m, shared)) = first_overlap(range, &listener.ports[..k]) {
            let earlier = origins.port(i, m);
            errors.push(
                at,
                format!(
                    "{} also in {earlier}; list each port once",
                    shared.describe()
                ),
            );
        }
    }
}

/// The first valid range in `others` sharing a port with `range`.
fn first_overlap(range: &PortRange, others: &[PortRange]) -> Option<(usize, PortRange)> {
    others
        .iter()
        .enumerate()
        .filter(|(_, other)| other.is_valid())
        .find_map(|(m, other)| range.intersection(other).map(|shared| (m, shared)))
}

/// What one listener's policies add up to, checked once all are seen.
#[derive(Default)]
struct PolicySummary {
    forwards: usize,
    tls_servers: usize,
    /// Index of the first `sni` forward policy.
    sni: Option<usize>,
    /// Index of the first `tls_server` policy with `allow_plaintext`.
    plaintext: Option<usize>,
}

fn check_policies(
    listener: &Listener,
    i: usize,
    origins: &Origins,
    virtual_clusters: &HashSet<&str>,
    errors: &mut ErrorList,
) {
    let mut summary = PolicySummary::default();
    for (j, policy) in listener.policies.iter().enumerate() {
        let at = origins.policy(i, j);
        match policy {
            ListenerPolicy::ForwardToVirtualCluster(mapping) => {
                summary.forwards += 1;
                if summary.forwards > 1 {
                    errors.push(
                        at.clone(),
                        "a listener takes exactly one forward_to_virtual_cluster policy; \
                         remove this one",
                    );
                }
                match mapping {
                    HostMapping::PortMapping(mapping) => {
                        let context = (listener, i, origins, virtual_clusters);
                        check_port_mapping(mapping, &at.key("config"), context, errors);
                    }
                    HostMapping::Sni(mapping) => {
                        summary.sni.get_or_insert(j);
                        check_sni_mapping(mapping, &at.key("config"), errors);
                    }
                }
            }
            ListenerPolicy::TlsServer(tls) => {
                summary.tls_servers += 1;
                if summary.tls_servers > 1 {
                    errors.push(
                        at.clone(),
                        "a listener takes at most one tls_server policy; remove this one",
                    );
                }
                if tls.allow_plaintext {
                    summary.plaintext.get_or_insert(j);
                }
                check_tls_server(tls, &at.key("config"), errors);
            }
        }
    }
    check_policy_combination(&summary, i, origins, errors);
}

/// Rules across policies. A policy that failed to decode might have been
/// the missing one, so "missing" is only reported for complete lists.
fn check_policy_combination(
    summary: &PolicySummary,
    i: usize,
    origins: &Origins,
    errors: &mut ErrorList,
) {
    let complete = origins.policies_complete(i);
    if complete && summary.forwards == 0 {
        errors.push(
            origins.listener(i).key("policies"),
            "needs exactly one forward_to_virtual_cluster policy naming a virtual cluster",
        );
    }
    let Some(sni) = summary.sni else {
        return;
    };
    if complete && summary.tls_servers == 0 {
        errors.push(
            origins.policy(i, sni).key("config").key("type"),
            "an sni host mapping routes by the TLS server name, so the listener needs a \
             tls_server policy; add one or use port_mapping",
        );
    }
    if let Some(j) = summary.plaintext {
        errors.push(
            origins.policy(i, j).key("config").key("allow_plaintext"),
            "plaintext connections carry no server name for the sni host mapping to route \
             by; set allow_plaintext: false or use port_mapping",
        );
    }
}

fn check_port_mapping(
    mapping: &PortMapping,
    at: &DocPath,
    (listener, i, origins, virtual_clusters): (&Listener, usize, &Origins, &HashSet<&str>),
    errors: &mut ErrorList,
) {
    let destination = mapping.destination.name.as_str();
    if !virtual_clusters.contains(destination)
        && !origins.broken_virtual_cluster_names.contains(destination)
    {
        errors.push(
            at.key("destination").key("name"),
            format!("no virtual cluster named \"{destination}\""),
        );
    }
    if let Err(message) = check_host(&mapping.advertised_host) {
        let message = format!("{message}; set the host clients should connect to");
        errors.push(at.key("advertised_host"), message);
    }
    if mapping.min_broker_id < 0 {
        errors.push(at.key("min_broker_id"), "must be >= 0");
    }
    check_broker_room(listener, mapping, i, origins, errors);
}

fn check_sni_mapping(mapping: &SniMapping, at: &DocPath, errors: &mut ErrorList) {
    if let Err(message) = check_sni_suffix(&mapping.sni_suffix) {
        errors.push(at.key("sni_suffix"), message);
    }
    if mapping.advertised_port == 0 {
        errors.push(
            at.key("advertised_port"),
            "port 0 is out of range 1-65535; write the port clients connect to",
        );
    }
}

/// With a bootstrap port at the start, a one-port listener has no port left
/// for any broker: clients could bootstrap but never produce or fetch.
fn check_broker_room(
    listener: &Listener,
    mapping: &PortMapping,
    i: usize,
    origins: &Origins,
    errors: &mut ErrorList,
) {
    let complete = origins.ports_complete(i);
    if !complete || !listener.ports.iter().all(PortRange::is_valid) {
        return;
    }
    let ports = ListenerPorts::new(&listener.ports);
    if mapping.bootstrap_port == BootstrapPort::AtStart && ports.len() == 1 {
        errors.push(
            origins.listener(i).key("ports"),
            "bootstrap_port: at_start uses the only port for bootstrap, leaving none for \
             brokers; add ports (one per broker) or set bootstrap_port: none",
        );
    }
}

/// Binding any-address overlaps every other address.
fn addresses_overlap(a: &[IpAddr], b: &[IpAddr]) -> bool {
    let wildcard = |addresses: &[IpAddr]| addresses.iter().any(IpAddr::is_unspecified);
    wildcard(a) || wildcard(b) || a.iter().any(|address| b.contains(address))
}

/// Two listeners cannot bind the same port on overlapping addresses; the
/// later listener's port entry is reported, naming the earlier listener.
fn check_shared_ports(config: &Config, origins: &Origins, errors: &mut ErrorList) {
    let listeners = &config.listeners;
    for (j, later) in listeners.iter().enumerate() {
        for (i, earlier) in listeners[..j].iter().enumerate() {
            if !origins.addresses_known(i)
                || !origins.addresses_known(j)
                || !addresses_overlap(&earlier.addresses, &later.addresses)
            {
                continue;
            }
            for (k, range) in later.ports.iter().enumerate() {
                if !range.is_valid() {
                    continue;
                }
                let Some((m, shared)) = first_overlap(range, &earlier.ports) else {
                    continue;
                };
                errors.push(
                    origins.port(j, k),
                    format!(
                        "listeners \"{}\" and \"{}\" ({}) both use {} on an overlapping \
                         address; give each listener its own ports",
                        later.name,
                        earlier.name,
                        origins.port(i, m),
                        shared.describe()
                    ),
                );
            }
        }
    }
}
