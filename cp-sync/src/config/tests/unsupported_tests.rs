//! Values the schema reserves for later, and `type` values it does not know.

use super::{assert_only_error, minimal_with};

pub(super) fn backend_with(extra: &str) -> String {
    minimal_with("name: local", &format!("name: local\n    {extra}"))
}

pub(super) fn virtual_cluster_with(extra: &str) -> String {
    minimal_with(
        "dns_label: team-a",
        &format!("dns_label: team-a\n    {extra}"),
    )
}

#[test]
fn virtual_cluster_features_not_supported_yet() {
    let cases = [
        (
            "authentication: [{type: oauth_bearer, mediation: terminate, jwks: {endpoint: \"https://idp.example/jwks\"}}]",
            "authentication[0].jwks.endpoint",
            "over HTTP(S) is not supported yet",
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
    let message = "unknown authentication type \"kerberos\"; expected anonymous or sasl_plain";
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
