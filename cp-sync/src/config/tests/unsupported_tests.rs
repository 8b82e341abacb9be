//! Values the schema reserves for later, and `type` values it does not know.

use super::{assert_only_error, minimal_with};

fn backend_with(extra: &str) -> String {
    minimal_with("name: local", &format!("name: local\n    {extra}"))
}

fn virtual_cluster_with(extra: &str) -> String {
    minimal_with(
        "dns_label: team-a",
        &format!("dns_label: team-a\n    {extra}"),
    )
}

#[test]
fn backend_features_not_supported_yet() {
    let cases = [(
        "authentication: {type: sasl_scram}",
        "authentication.type",
        "sasl_scram is not supported yet",
    )];
    for (extra, field, fragment) in cases {
        let path = format!("backend_clusters[0].{field}");
        assert_only_error(&backend_with(extra), &path, fragment);
    }
}

#[test]
fn backend_sasl_plain_takes_a_user_and_a_secret() {
    let ok =
        backend_with("authentication: {type: sasl_plain, username: gw, password: \"${env:PW}\"}");
    let config = crate::config::parse_config_str(&ok, crate::config::ConfigFormat::Yaml).unwrap();
    let auth = format!("{:?}", config.backend_clusters[0].authentication);
    assert!(auth.contains("${env:PW}"), "{auth}");
    let literal =
        backend_with("authentication: {type: sasl_plain, username: gw, password: s3cret}");
    let config =
        crate::config::parse_config_str(&literal, crate::config::ConfigFormat::Yaml).unwrap();
    let shown = format!("{:?}", config.backend_clusters[0].authentication);
    assert!(!shown.contains("s3cret"), "{shown}");
    let bad =
        backend_with("authentication: {type: sasl_plain, username: gw, password: \"${env:}\"}");
    assert_only_error(
        &bad,
        "backend_clusters[0].authentication.password",
        "reference must be",
    );
    let empty_user =
        backend_with("authentication: {type: sasl_plain, username: \"\", password: x}");
    assert_only_error(
        &empty_user,
        "backend_clusters[0].authentication.username",
        "must not be empty",
    );
}

#[test]
fn virtual_cluster_features_not_supported_yet() {
    let cases = [
        (
            "authentication: [{type: sasl_scram}]",
            "authentication[0].type",
            "sasl_scram is not supported yet",
        ),
        (
            "acl_mode: enforce_on_gateway",
            "acl_mode",
            "enforce_on_gateway is not supported yet",
        ),
        (
            "namespace: {prefix: a}",
            "namespace",
            "namespaces are not supported yet",
        ),
        (
            "cluster_policies: [{type: x}]",
            "cluster_policies",
            "cluster_policies are not supported yet",
        ),
        (
            "consume_policies: [{type: x}]",
            "consume_policies",
            "consume_policies are not supported yet",
        ),
    ];
    for (extra, field, fragment) in cases {
        let path = format!("virtual_clusters[0].{field}");
        assert_only_error(&virtual_cluster_with(extra), &path, fragment);
    }
    let empty_chains = virtual_cluster_with("cluster_policies: []\n    namespace: null");
    assert!(super::parse_config_str(&empty_chains, super::ConfigFormat::Yaml).is_ok());
}

#[test]
fn unknown_types() {
    let yaml = backend_with("authentication: {type: kerberos}");
    let message = "unknown authentication type \"kerberos\"; expected anonymous";
    assert_only_error(&yaml, "backend_clusters[0].authentication.type", message);
    let yaml = minimal_with("type: forward_to_virtual_cluster", "type: forward");
    let message =
        "unknown policy type \"forward\"; expected forward_to_virtual_cluster or tls_server";
    assert_only_error(&yaml, "listeners[0].policies[0].type", message);
    let yaml = minimal_with("type: port_mapping", "type: ports");
    let message = "unknown host mapping type \"ports\"; expected port_mapping or sni";
    assert_only_error(&yaml, "listeners[0].policies[0].config.type", message);
    let yaml = backend_with("authentication: anonymous");
    let message = "must be a mapping with a `type` field";
    assert_only_error(&yaml, "backend_clusters[0].authentication", message);
    let yaml = minimal_with("type: port_mapping", "type: 3");
    assert_only_error(
        &yaml,
        "listeners[0].policies[0].config.type",
        "must be a string",
    );
}
