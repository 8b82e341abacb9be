//! Each kind of error, one at a time, at its exact path.

use super::{assert_error, assert_only_error, errors_of, minimal_with, MINIMAL_YAML};

const POLICY: &str = "listeners[0].policies[0]";
const MAPPING: &str = "listeners[0].policies[0].config";

#[test]
fn unknown_fields_everywhere() {
    let top = format!("{MINIMAL_YAML}extra: 1\n");
    assert_only_error(&top, "extra", "unknown field");
    let typo = minimal_with("bootstrap_servers:", "bootstrap_server:");
    assert_error(
        &typo,
        "backend_clusters[0].bootstrap_server",
        "did you mean `bootstrap_servers`?",
    );
    assert_error(
        &typo,
        "backend_clusters[0].bootstrap_servers",
        "is required",
    );
    let auth = minimal_with(
        "dns_label: team-a",
        "dns_label: team-a\n    authentication: [{type: anonymous, user: x}]",
    );
    assert_only_error(
        &auth,
        "virtual_clusters[0].authentication[0].user",
        "unknown field",
    );
    let tls = minimal_with(
        "name: local",
        "name: local\n    tls: {enabled: false, ca_bundel: x}",
    );
    assert_only_error(
        &tls,
        "backend_clusters[0].tls.ca_bundel",
        "did you mean `ca_bundle`?",
    );
    // A long key gets no suggestion (comparing it with every field name
    // would cost time for nothing), just the error.
    let long_key = format!("bootstrap_servers{}", "x".repeat(100));
    let long = minimal_with("bootstrap_servers:", &format!("{long_key}:"));
    let errors = errors_of(&long);
    let (_, message) = (errors.iter())
        .find(|(path, _)| path.ends_with(&long_key))
        .expect("an error at the long key");
    assert_eq!(message, "unknown field; remove it or fix its name");
    let destination = minimal_with("{ name: local }", "{ name: local, id: 3 }");
    assert_only_error(
        &destination,
        "virtual_clusters[0].destination.id",
        "unknown field",
    );
    let policy = minimal_with("config:", "colour: red\n        config:");
    assert_only_error(&policy, &format!("{POLICY}.colour"), "unknown field");
    let config = minimal_with(
        "type: port_mapping",
        "type: port_mapping\n          colour: red",
    );
    assert_only_error(&config, &format!("{MAPPING}.colour"), "unknown field");
}

#[test]
fn missing_required_fields_point_at_the_field() {
    let yaml = minimal_with("- name: plain\n    ports:", "- ports:");
    assert_only_error(&yaml, "listeners[0].name", "is required");
    let yaml = minimal_with("advertised_host: 127.0.0.1", "");
    assert_only_error(&yaml, &format!("{MAPPING}.advertised_host"), "is required");
    let yaml = minimal_with("type: port_mapping", "");
    assert_only_error(&yaml, &format!("{MAPPING}.type"), "is required");
}

#[test]
fn type_errors_have_paths() {
    let yaml = minimal_with(
        "advertised_host: 127.0.0.1",
        "advertised_host: 127.0.0.1\n          min_broker_id: x",
    );
    assert_only_error(
        &yaml,
        &format!("{MAPPING}.min_broker_id"),
        "invalid type: string \"x\"",
    );
    let yaml = minimal_with(
        "bootstrap_servers:",
        "metadata_update_interval_seconds: -5\n    bootstrap_servers:",
    );
    assert_only_error(
        &yaml,
        "backend_clusters[0].metadata_update_interval_seconds",
        "-5",
    );
    let yaml = minimal_with(
        "name: plain",
        "name: plain\n    addresses: [\"0.0.0.0\", \"not-an-ip\"]",
    );
    assert_only_error(&yaml, "listeners[0].addresses[1]", "invalid IP address");
    let yaml = minimal_with(
        "advertised_host: 127.0.0.1",
        "advertised_host: 127.0.0.1\n          bootstrap_port: first",
    );
    assert_only_error(
        &yaml,
        &format!("{MAPPING}.bootstrap_port"),
        "unknown variant `first`",
    );
    let yaml = minimal_with(
        "- name: local\n    bootstrap_servers: [\"127.0.0.1:9092\"]",
        "- \"local\"",
    );
    assert_error(
        &yaml,
        "backend_clusters[0]",
        "expected a backend cluster mapping",
    );
}

#[test]
fn duplicate_names_and_labels() {
    let yaml = format!(
        "{MINIMAL_YAML}  - name: plain\n    ports: [29092, 29093]\n    policies:\n      - type: forward_to_virtual_cluster\n        config: {{type: port_mapping, destination: {{name: team-a}}, advertised_host: h}}\n"
    );
    assert_only_error(
        &yaml,
        "listeners[1].name",
        "\"plain\" is already used by listeners[0].name",
    );
    let yaml = minimal_with(
        "virtual_clusters:",
        "  - name: local\n    bootstrap_servers: [\"h:1\"]\nvirtual_clusters:",
    );
    assert_only_error(
        &yaml,
        "backend_clusters[1].name",
        "already used by backend_clusters[0].name",
    );
    let yaml = minimal_with(
        "listeners:",
        "  - name: team-a\n    dns_label: team-a\n    destination: { name: local }\nlisteners:",
    );
    assert_error(
        &yaml,
        "virtual_clusters[1].name",
        "already used by virtual_clusters[0].name",
    );
    assert_error(
        &yaml,
        "virtual_clusters[1].dns_label",
        "dns_label \"team-a\" is already used",
    );
}

#[test]
fn dangling_destinations() {
    let yaml = minimal_with("{ name: local }", "{ name: x }");
    assert_only_error(
        &yaml,
        "virtual_clusters[0].destination.name",
        "no backend cluster named \"x\"",
    );
    let yaml = minimal_with("{ name: team-a }", "{ name: team-z }");
    assert_only_error(
        &yaml,
        &format!("{MAPPING}.destination.name"),
        "no virtual cluster named \"team-z\"",
    );
}

#[test]
fn references_to_broken_entities_are_not_dangling() {
    // The virtual cluster fails to decode; the listener naming it must not
    // add a misleading "no virtual cluster named" error.
    let yaml = minimal_with("dns_label: team-a", "dns_label: 5.5");
    assert_only_error(&yaml, "virtual_clusters[0].dns_label", "invalid type");
}

#[test]
fn invalid_dns_labels() {
    let cases = [
        ("Team-a", "must start with a lowercase letter"),
        ("1team", "must start with a lowercase letter"),
        ("team-", "must end with a letter or digit"),
        ("team_a", "contains '_'"),
        ("team.a", "contains '.'"),
        ("\"\"", "must not be empty"),
    ];
    for (label, fragment) in cases {
        let yaml = minimal_with("dns_label: team-a", &format!("dns_label: {label}"));
        assert_only_error(&yaml, "virtual_clusters[0].dns_label", fragment);
    }
    let long = "a".repeat(64);
    let yaml = minimal_with("dns_label: team-a", &format!("dns_label: {long}"));
    assert_only_error(&yaml, "virtual_clusters[0].dns_label", "at most 63");
    let ok = format!("a{}", "-9".repeat(31));
    let yaml = minimal_with("dns_label: team-a", &format!("dns_label: {ok}"));
    assert!(super::parse_config_str(&yaml, super::ConfigFormat::Yaml).is_ok());
}

#[test]
fn bad_ports() {
    let port = |spec: &str| minimal_with("[\"19092-19097\"]", spec);
    assert_only_error(
        &port("[\"19097-19092\"]"),
        "listeners[0].ports[0]",
        "range 19097-19092 is inverted",
    );
    assert_only_error(
        &port("[0, 19092-19097]"),
        "listeners[0].ports[0]",
        "port 0 is out of range",
    );
    assert_only_error(
        &port("[70000, 19092]"),
        "listeners[0].ports[0]",
        "port 70000 is out of range 1-65535",
    );
    assert_only_error(
        &port("[-1, 19092]"),
        "listeners[0].ports[0]",
        "port -1 is out of range",
    );
    assert_only_error(
        &port("[\"1-70000\"]"),
        "listeners[0].ports[0]",
        "port 70000 is out of range",
    );
    assert_only_error(
        &port("[\"abc\", 19092]"),
        "listeners[0].ports[0]",
        "invalid port range \"abc\"",
    );
    assert_only_error(
        &port("[]"),
        "listeners[0].ports",
        "must list at least one port",
    );
    let overlap = port("[19092, \"19090-19095\", 19099]");
    assert_only_error(
        &overlap,
        "listeners[0].ports[1]",
        "port 19092 also in listeners[0].ports[0]",
    );
}

#[test]
fn bad_port_does_not_hide_the_rest_of_its_listener() {
    let yaml = minimal_with("[\"19092-19097\"]", "[70000, 19092, 19092]");
    let errors = errors_of(&yaml);
    let paths: Vec<&str> = errors.iter().map(|(path, _)| path.as_str()).collect();
    assert_eq!(
        paths,
        ["listeners[0].ports[0]", "listeners[0].ports[2]"],
        "{errors:#?}"
    );
}

fn second_listener(addresses: &str, ports: &str) -> String {
    format!(
        "{MINIMAL_YAML}  - name: second\n    addresses: {addresses}\n    ports: {ports}\n    policies:\n      - type: forward_to_virtual_cluster\n        config: {{type: port_mapping, destination: {{name: team-a}}, advertised_host: h}}\n"
    )
}

#[test]
fn overlapping_ports_between_listeners() {
    let yaml = second_listener("[\"127.0.0.1\"]", "[19000, \"19096-19100\"]");
    assert_only_error(
        &yaml,
        "listeners[1].ports[1]",
        "listeners \"second\" and \"plain\" (listeners[0].ports[0]) both use ports 19096-19097",
    );
    let v6_wildcard = minimal_with("name: plain", "name: plain\n    addresses: [\"::\"]");
    let yaml = v6_wildcard.clone()
        + &second_listener("[\"10.0.0.1\"]", "[19092, 19093]")[MINIMAL_YAML.len()..];
    let errors = errors_of(&yaml);
    assert_eq!(errors.len(), 2, "{errors:#?}");
    let disjoint = minimal_with("name: plain", "name: plain\n    addresses: [\"127.0.0.1\"]");
    let yaml =
        disjoint + &second_listener("[\"127.0.0.2\"]", "[19092, 19093]")[MINIMAL_YAML.len()..];
    assert!(super::parse_config_str(&yaml, super::ConfigFormat::Yaml).is_ok());
}

#[test]
fn addresses_must_be_present_and_distinct() {
    let yaml = minimal_with("name: plain", "name: plain\n    addresses: []");
    assert_only_error(&yaml, "listeners[0].addresses", "at least one IP address");
    let yaml = minimal_with(
        "name: plain",
        "name: plain\n    addresses: [\"::1\", \"::1\"]",
    );
    assert_only_error(&yaml, "listeners[0].addresses[1]", "::1 is listed twice");
}

#[test]
fn exactly_one_forward_policy() {
    let empty = format!(
        "{}    policies: []\n",
        MINIMAL_YAML
            .split("    policies:")
            .next()
            .unwrap_or_default()
    );
    assert_only_error(
        &empty,
        "listeners[0].policies",
        "needs exactly one forward_to_virtual_cluster",
    );
    let missing = MINIMAL_YAML
        .split("    policies:")
        .next()
        .unwrap_or_default()
        .to_owned();
    assert_only_error(&missing, "listeners[0].policies", "needs exactly one");
    let policy = "      - type: forward_to_virtual_cluster\n        config: {type: port_mapping, destination: {name: team-a}, advertised_host: h}\n";
    let two = format!("{MINIMAL_YAML}{policy}");
    assert_only_error(
        &two,
        "listeners[0].policies[1]",
        "exactly one forward_to_virtual_cluster",
    );
}

#[test]
fn bootstrap_servers() {
    let servers = |list: &str| minimal_with("[\"127.0.0.1:9092\"]", list);
    assert_only_error(
        &servers("[]"),
        "backend_clusters[0].bootstrap_servers",
        "at least one host:port",
    );
    let cases = [
        ("kafka", "has no port"),
        ("kafka:0", "a port is a number from 1 to 65535"),
        ("kafka:65536", "a port is a number from 1 to 65535"),
        ("kafka:abc", "has port \"abc\""),
        ("::1:9092", "put IPv6 addresses in brackets"),
        ("[zz]:9092", "not an IPv6 address"),
        ("[::1]", "has no port"),
        (":9092", "host must not be empty"),
        ("bad host:9092", "not a valid host name"),
    ];
    for (server, fragment) in cases {
        let yaml = servers(&format!("[\"h:1\", \"{server}\"]"));
        assert_only_error(&yaml, "backend_clusters[0].bootstrap_servers[1]", fragment);
    }
    let ok = servers("[\"[::1]:9092\", \"kafka_1.example.com:1\", \"10.0.0.1:65535\"]");
    assert!(super::parse_config_str(&ok, super::ConfigFormat::Yaml).is_ok());
}

#[test]
fn port_mapping_fields() {
    let host = |value: &str| {
        minimal_with(
            "advertised_host: 127.0.0.1",
            &format!("advertised_host: {value}"),
        )
    };
    assert_only_error(
        &host("\"\""),
        &format!("{MAPPING}.advertised_host"),
        "must not be empty",
    );
    assert_only_error(
        &host("127.0.0.1:9092"),
        &format!("{MAPPING}.advertised_host"),
        "without a port",
    );
    let negative = minimal_with(
        "advertised_host: 127.0.0.1",
        "advertised_host: \"::1\"\n          min_broker_id: -1",
    );
    let errors = errors_of(&negative);
    assert_eq!(
        errors,
        [(
            format!("{MAPPING}.min_broker_id"),
            "must be >= 0".to_owned()
        )]
    );
    let one_port = minimal_with("[\"19092-19097\"]", "[19092]");
    assert_only_error(&one_port, "listeners[0].ports", "leaving none for brokers");
    let none = one_port.replacen(
        "advertised_host: 127.0.0.1",
        "advertised_host: h\n          bootstrap_port: none",
        1,
    );
    assert!(super::parse_config_str(&none, super::ConfigFormat::Yaml).is_ok());
}

#[test]
fn backend_intervals_and_names() {
    let yaml = minimal_with(
        "name: local",
        "name: local\n    metadata_update_interval_seconds: 0",
    );
    assert_only_error(
        &yaml,
        "backend_clusters[0].metadata_update_interval_seconds",
        "must be >= 1",
    );
    let yaml = minimal_with("- name: plain", "- name: \" \"");
    assert_only_error(&yaml, "listeners[0].name", "must not be empty");
}

#[test]
fn virtual_cluster_needs_an_authentication_scheme() {
    let yaml = minimal_with(
        "dns_label: team-a",
        "dns_label: team-a\n    authentication: []",
    );
    assert_only_error(
        &yaml,
        "virtual_clusters[0].authentication",
        "at least one scheme",
    );
}
