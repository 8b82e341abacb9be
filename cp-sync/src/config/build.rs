//! Second decoding stage: raw shapes to the public schema, element by element.
//!
//! An element that fails is left out (its errors are recorded) and the rest
//! carry on to semantic validation, so one document shows every problem.
//! Where a failed part has a harmless stand-in (an authentication scheme),
//! the stand-in is used so its entity still gets checked.

use std::net::IpAddr;

use serde_yaml_ng::Value;

use super::auth;
use super::document::{decode, split_tag, unknown_type_message};
use super::errors::{DocPath, ErrorList};
use super::limits::build_limits;
use super::origins::{ListenerOrigin, Origins};
use super::policies::build_produce_policies;
use super::ports::PortRange;
use super::raw::{
    RawBackendCluster, RawDocument, RawListener, RawPolicy, RawPortMapping, RawVirtualCluster,
};
use super::schema::{
    default_addresses, default_virtual_authentication, BackendAuthentication, BackendCluster,
    Config, Destination, HostMapping, Listener, ListenerPolicy, PortMapping, VirtualCluster,
    DEFAULT_METADATA_UPDATE_INTERVAL_SECONDS,
};
use super::tls_build::{backend_tls, build_sni_mapping, build_tls_server};

pub(crate) fn build_config(document: &Value, errors: &mut ErrorList) -> (Config, Origins) {
    let mut config = Config::default();
    let mut origins = Origins::default();
    let root = DocPath::root();
    if document.is_null() {
        // An empty file is more likely a truncated write than a wish to
        // serve nothing; `{}` says the latter explicitly.
        errors.push(
            root,
            "the document is empty; write {} for a config with no entities",
        );
        return (config, origins);
    }
    let Some(raw) = decode::<RawDocument>(document, &root, errors) else {
        return (config, origins);
    };
    let backends = list(
        raw.backend_clusters.as_ref(),
        &root.key("backend_clusters"),
        errors,
    );
    for (i, value) in backends.iter().enumerate() {
        let path = root.key("backend_clusters").index(i);
        match build_backend(value, &path, errors) {
            Some(backend) => {
                config.backend_clusters.push(backend);
                origins.backends.push(i);
            }
            None => origins.broken_backend_names.extend(name_of(value)),
        }
    }
    let virtuals = list(
        raw.virtual_clusters.as_ref(),
        &root.key("virtual_clusters"),
        errors,
    );
    for (i, value) in virtuals.iter().enumerate() {
        let path = root.key("virtual_clusters").index(i);
        match build_virtual_cluster(value, &path, errors) {
            Some(virtual_cluster) => {
                config.virtual_clusters.push(virtual_cluster);
                origins.virtual_clusters.push(i);
            }
            None => origins.broken_virtual_cluster_names.extend(name_of(value)),
        }
    }
    let listeners = list(raw.listeners.as_ref(), &root.key("listeners"), errors);
    for (i, value) in listeners.iter().enumerate() {
        let path = root.key("listeners").index(i);
        if let Some((listener, origin)) = build_listener(value, i, &path, errors) {
            config.listeners.push(listener);
            origins.listeners.push(origin);
        }
    }
    (config, origins)
}

/// A top-level list; absent or null means empty.
fn list(value: Option<&Value>, at: &DocPath, errors: &mut ErrorList) -> Vec<Value> {
    value
        .and_then(|value| decode::<Option<Vec<Value>>>(value, at, errors))
        .flatten()
        .unwrap_or_default()
}

fn name_of(value: &Value) -> Option<String> {
    value.get("name").and_then(Value::as_str).map(str::to_owned)
}

fn build_backend(value: &Value, at: &DocPath, errors: &mut ErrorList) -> Option<BackendCluster> {
    let raw: RawBackendCluster = decode(value, at, errors)?;
    let authentication = match &raw.authentication {
        Some(auth) => auth::backend_authentication(auth, &at.key("authentication"), errors),
        None => BackendAuthentication::default(),
    };
    Some(BackendCluster {
        name: raw.name,
        bootstrap_servers: raw.bootstrap_servers,
        authentication,
        tls: backend_tls(raw.tls),
        metadata_update_interval_seconds: raw
            .metadata_update_interval_seconds
            .unwrap_or(DEFAULT_METADATA_UPDATE_INTERVAL_SECONDS),
        insecure_allow_anonymous_virtual_cluster_auth: raw
            .insecure_allow_anonymous_virtual_cluster_auth
            .unwrap_or(false),
    })
}

fn build_virtual_cluster(
    value: &Value,
    at: &DocPath,
    errors: &mut ErrorList,
) -> Option<VirtualCluster> {
    let raw: RawVirtualCluster = decode(value, at, errors)?;
    let authentication = match &raw.authentication {
        Some(schemes) => {
            let built: Vec<_> = (schemes.iter().enumerate())
                .filter_map(|(k, scheme)| {
                    auth::virtual_scheme(scheme, &at.key("authentication").index(k), errors)
                })
                .collect();
            // Schemes that failed were reported; the list is not empty.
            match built.is_empty() && !schemes.is_empty() {
                true => default_virtual_authentication(),
                false => built,
            }
        }
        None => default_virtual_authentication(),
    };
    if raw.namespace.is_some() {
        errors.push(
            at.key("namespace"),
            "namespaces are not supported yet; remove this field or set it to null",
        );
    }
    let chains = [
        ("cluster_policies", &raw.cluster_policies),
        ("consume_policies", &raw.consume_policies),
    ];
    for (field, chain) in chains {
        if chain.as_ref().is_some_and(|chain| !chain.is_empty()) {
            let message = format!("{field} are not supported yet; leave the list empty");
            errors.push(at.key(field), message);
        }
    }
    Some(VirtualCluster {
        name: raw.name,
        dns_label: raw.dns_label,
        destination: Destination::new(raw.destination.name),
        authentication,
        acl_mode: raw.acl_mode.unwrap_or_default(),
        produce_policies: (raw.produce_policies.as_deref())
            .map(|chain| build_produce_policies(chain, &at.key("produce_policies"), errors))
            .unwrap_or_default(),
    })
}

fn build_listener(
    value: &Value,
    index: usize,
    at: &DocPath,
    errors: &mut ErrorList,
) -> Option<(Listener, ListenerOrigin)> {
    let raw: RawListener = decode(value, at, errors)?;
    let mut origin = ListenerOrigin::identity(index, 0, 0);
    let addresses = match &raw.addresses {
        Some(addresses) => decode::<Vec<IpAddr>>(addresses, &at.key("addresses"), errors),
        None => Some(default_addresses()),
    };
    origin.addresses_known = addresses.is_some();
    let mut ports = Vec::with_capacity(raw.ports.len());
    for (k, port) in raw.ports.iter().enumerate() {
        match decode::<PortRange>(port, &at.key("ports").index(k), errors) {
            Some(range) => {
                ports.push(range);
                origin.ports.push(k);
            }
            None => origin.ports_complete = false,
        }
    }
    let mut policies = Vec::new();
    for (j, policy) in raw.policies.iter().flatten().enumerate() {
        match build_policy(policy, &at.key("policies").index(j), errors) {
            Some(policy) => {
                policies.push(policy);
                origin.policies.push(j);
            }
            None => origin.policies_complete = false,
        }
    }
    let limits = (raw.limits.as_ref())
        .map(|limits| build_limits(limits, &at.key("limits"), errors))
        .unwrap_or_default();
    let listener = Listener {
        name: raw.name,
        addresses: addresses.unwrap_or_default(),
        ports,
        policies,
        limits,
    };
    Some((listener, origin))
}

fn build_policy(value: &Value, at: &DocPath, errors: &mut ErrorList) -> Option<ListenerPolicy> {
    let (tag, rest) = split_tag(value, at, errors)?;
    match tag.as_str() {
        "forward_to_virtual_cluster" => {
            let raw: RawPolicy = decode(&rest, at, errors)?;
            let mapping = build_host_mapping(&raw.config, &at.key("config"), errors)?;
            Some(ListenerPolicy::ForwardToVirtualCluster(mapping))
        }
        "tls_server" => {
            let raw: RawPolicy = decode(&rest, at, errors)?;
            let tls = build_tls_server(&raw.config, &at.key("config"), errors)?;
            Some(ListenerPolicy::TlsServer(tls))
        }
        _ => {
            let supported = ["forward_to_virtual_cluster", "tls_server"];
            errors.push(
                at.key("type"),
                unknown_type_message("policy", &tag, &supported),
            );
            None
        }
    }
}

fn build_host_mapping(value: &Value, at: &DocPath, errors: &mut ErrorList) -> Option<HostMapping> {
    let (tag, rest) = split_tag(value, at, errors)?;
    match tag.as_str() {
        "port_mapping" => {
            let raw: RawPortMapping = decode(&rest, at, errors)?;
            Some(HostMapping::PortMapping(PortMapping {
                destination: Destination::new(raw.destination.name),
                advertised_host: raw.advertised_host,
                bootstrap_port: raw.bootstrap_port.unwrap_or_default(),
                min_broker_id: raw.min_broker_id.unwrap_or(0),
            }))
        }
        "sni" => build_sni_mapping(&rest, at, errors).map(HostMapping::Sni),
        _ => {
            let message = unknown_type_message("host mapping", &tag, &["port_mapping", "sni"]);
            errors.push(at.key("type"), message);
            None
        }
    }
}
