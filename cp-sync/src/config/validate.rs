//! Semantic checks: everything the types alone cannot rule out.

use std::collections::{HashMap, HashSet};

use super::auth::check_virtual_schemes;
use super::errors::{ConfigErrors, DocPath, ErrorList};
use super::listeners::check_listeners;
use super::origins::Origins;
use super::schema::{AclMode, Config};
use super::syntax::{check_dns_label, parse_host_port};
use super::tls_checks::check_backend_tls;

/// Checks a typed config (one built in code, or received by the control
/// plane); [`parse_config_str`](super::parse_config_str) runs the same checks.
pub fn validate(config: &Config) -> Result<(), ConfigErrors> {
    let mut errors = ErrorList::default();
    check(config, &Origins::identity(config), &mut errors);
    // With no source text, the serialized config gives schema order.
    let document = serde_yaml_ng::to_value(config).ok();
    errors.into_result(document.as_ref())
}

/// Every semantic check, with paths mapped through `origins`.
pub(crate) fn check(config: &Config, origins: &Origins, errors: &mut ErrorList) {
    check_backends(config, origins, errors);
    check_virtual_clusters(config, origins, errors);
    check_listeners(config, origins, errors);
}

/// Reports each repeat of a name at `path_of(i)`, naming the first use.
pub(crate) fn check_unique<'a>(
    what: &str,
    names: impl Iterator<Item = &'a str>,
    path_of: impl Fn(usize) -> DocPath,
    errors: &mut ErrorList,
) {
    let mut first_use: HashMap<&str, usize> = HashMap::new();
    for (i, name) in names.enumerate() {
        // An empty name is reported on its own; twice empty is not news.
        if name.is_empty() {
            continue;
        }
        match first_use.get(name) {
            Some(first) => errors.push(
                path_of(i),
                format!(
                    "{what} \"{name}\" is already used by {}; make it unique",
                    path_of(*first)
                ),
            ),
            None => {
                first_use.insert(name, i);
            }
        }
    }
}

/// Names must be present; the schema requires them and they appear in logs,
/// metrics and references.
pub(crate) fn check_name(name: &str, at: DocPath, errors: &mut ErrorList) {
    if name.trim().is_empty() {
        errors.push(at, "must not be empty");
    }
}

fn check_backends(config: &Config, origins: &Origins, errors: &mut ErrorList) {
    for (i, backend) in config.backend_clusters.iter().enumerate() {
        let at = origins.backend(i);
        check_name(&backend.name, at.key("name"), errors);
        if backend.bootstrap_servers.is_empty() {
            errors.push(
                at.key("bootstrap_servers"),
                "must list at least one host:port, e.g. [\"127.0.0.1:9092\"]",
            );
        }
        for (k, server) in backend.bootstrap_servers.iter().enumerate() {
            if let Err(message) = parse_host_port(server) {
                errors.push(at.key("bootstrap_servers").index(k), message);
            }
        }
        check_backend_tls(&backend.tls, &at.key("tls"), errors);
        if backend.metadata_update_interval_seconds < 1 {
            errors.push(at.key("metadata_update_interval_seconds"), "must be >= 1");
        }
    }
    let names = config.backend_clusters.iter().map(|b| b.name.as_str());
    check_unique("name", names, |i| origins.backend(i).key("name"), errors);
}

fn check_virtual_clusters(config: &Config, origins: &Origins, errors: &mut ErrorList) {
    let backends: HashSet<&str> = config
        .backend_clusters
        .iter()
        .map(|backend| backend.name.as_str())
        .collect();
    for (i, virtual_cluster) in config.virtual_clusters.iter().enumerate() {
        let at = origins.virtual_cluster(i);
        check_name(&virtual_cluster.name, at.key("name"), errors);
        if let Err(message) = check_dns_label(&virtual_cluster.dns_label) {
            errors.push(at.key("dns_label"), message);
        }
        let destination = virtual_cluster.destination.name.as_str();
        if !backends.contains(destination) && !origins.broken_backend_names.contains(destination) {
            errors.push(
                at.key("destination").key("name"),
                format!("no backend cluster named \"{destination}\""),
            );
        }
        if virtual_cluster.authentication.is_empty() {
            errors.push(
                at.key("authentication"),
                "must list at least one scheme, e.g. [{type: anonymous}]",
            );
        }
        let backend = (config.backend_clusters.iter()).find(|b| b.name == destination);
        let schemes = &virtual_cluster.authentication;
        check_virtual_schemes(schemes, backend, &at.key("authentication"), errors);
        if virtual_cluster.acl_mode == AclMode::EnforceOnGateway {
            errors.push(
                at.key("acl_mode"),
                "enforce_on_gateway is not supported yet; use passthrough",
            );
        }
    }
    let clusters = &config.virtual_clusters;
    let names = clusters.iter().map(|v| v.name.as_str());
    check_unique(
        "name",
        names,
        |i| origins.virtual_cluster(i).key("name"),
        errors,
    );
    let labels = clusters.iter().map(|v| v.dns_label.as_str());
    let label_path = |i| origins.virtual_cluster(i).key("dns_label");
    check_unique("dns_label", labels, label_path, errors);
}
