//! Valid documents, defaults, formats, files and document-level errors.

use std::net::IpAddr;
use std::path::{Path, PathBuf};

use super::super::{
    load_config_file, parse_config_str, validate, AclMode, BackendAuthentication, BackendCluster,
    BackendTls, BootstrapPort, Config, ConfigError, ConfigErrors, ConfigFormat, Destination,
    HostMapping, Listener, ListenerPolicy, PortMapping, PortRange, VirtualAuthentication,
    VirtualCluster,
};
use super::{assert_only_error, errors_of, FULL_JSON, FULL_YAML, MINIMAL_YAML};

fn ip(text: &str) -> IpAddr {
    text.parse().expect("test address")
}

fn forward(destination: &str, host: &str, bootstrap: BootstrapPort, min: i32) -> ListenerPolicy {
    ListenerPolicy::ForwardToVirtualCluster(HostMapping::PortMapping(PortMapping {
        destination: Destination::new(destination),
        advertised_host: host.to_owned(),
        bootstrap_port: bootstrap,
        min_broker_id: min,
    }))
}

fn virtual_cluster(name: &str, label: &str, backend: &str) -> VirtualCluster {
    VirtualCluster {
        name: name.to_owned(),
        dns_label: label.to_owned(),
        destination: Destination::new(backend),
        authentication: vec![VirtualAuthentication::Anonymous],
        acl_mode: AclMode::Passthrough,
        produce_policies: Vec::new(),
    }
}

fn full_config() -> Config {
    let servers = ["127.0.0.1:9092", "kafka-1.internal:9092", "[::1]:9093"];
    Config {
        backend_clusters: vec![
            BackendCluster {
                name: "local".to_owned(),
                bootstrap_servers: servers.iter().map(|s| s.to_string()).collect(),
                authentication: BackendAuthentication::Anonymous,
                tls: BackendTls::default(),
                metadata_update_interval_seconds: 30,
                insecure_allow_anonymous_virtual_cluster_auth: false,
            },
            BackendCluster {
                name: "other".to_owned(),
                bootstrap_servers: vec!["kafka-2.internal:9092".to_owned()],
                authentication: BackendAuthentication::Anonymous,
                tls: BackendTls::default(),
                metadata_update_interval_seconds: 60,
                insecure_allow_anonymous_virtual_cluster_auth: false,
            },
        ],
        virtual_clusters: vec![
            virtual_cluster("team-a", "team-a", "local"),
            virtual_cluster("team-b", "b2", "other"),
        ],
        listeners: vec![
            Listener {
                name: "plain".to_owned(),
                addresses: vec![ip("0.0.0.0")],
                ports: vec![PortRange::single(19092), PortRange::new(19093, 19096)],
                policies: vec![forward("team-a", "127.0.0.1", BootstrapPort::AtStart, 0)],
                limits: Default::default(),
            },
            Listener {
                name: "loopback-v6".to_owned(),
                addresses: vec![ip("::1"), ip("127.0.0.1")],
                ports: vec![PortRange::new(29092, 29094)],
                policies: vec![forward("team-b", "localhost", BootstrapPort::None, 1)],
                limits: Default::default(),
            },
        ],
    }
}

#[test]
fn full_yaml_parses_to_the_expected_config() {
    let config = parse_config_str(FULL_YAML, ConfigFormat::Yaml).expect("valid");
    assert_eq!(config, full_config());
    assert_eq!(validate(&config), Ok(()));
}

#[test]
fn yaml_and_json_give_equal_configs() {
    let yaml = parse_config_str(FULL_YAML, ConfigFormat::Yaml).expect("valid yaml");
    let json = parse_config_str(FULL_JSON, ConfigFormat::Json).expect("valid json");
    assert_eq!(yaml, json);
}

#[test]
fn yaml_parser_accepts_json() {
    let config = parse_config_str(FULL_JSON, ConfigFormat::Yaml).expect("json through yaml");
    assert_eq!(config, full_config());
}

#[test]
fn defaults_are_applied() {
    let config = parse_config_str(MINIMAL_YAML, ConfigFormat::Yaml).expect("valid");
    let backend = &config.backend_clusters[0];
    assert_eq!(backend.authentication, BackendAuthentication::Anonymous);
    assert_eq!(backend.tls, BackendTls::default());
    assert_eq!(backend.metadata_update_interval_seconds, 60);
    let virtual_cluster = &config.virtual_clusters[0];
    assert_eq!(
        virtual_cluster.authentication,
        vec![VirtualAuthentication::Anonymous]
    );
    assert_eq!(virtual_cluster.acl_mode, AclMode::Passthrough);
    let listener = &config.listeners[0];
    assert_eq!(listener.addresses, vec![ip("0.0.0.0")]);
    assert_eq!(
        listener.policies,
        vec![forward("team-a", "127.0.0.1", BootstrapPort::AtStart, 0)]
    );
}

#[test]
fn missing_lists_and_nulls_mean_empty() {
    let empty = Config::default();
    assert_eq!(
        parse_config_str("{}", ConfigFormat::Yaml),
        Ok(empty.clone())
    );
    let nulls = "backend_clusters:\nvirtual_clusters: null\nlisteners: []\n";
    assert_eq!(parse_config_str(nulls, ConfigFormat::Yaml), Ok(empty));
}

#[test]
fn serialized_config_parses_back_equal() {
    let config = full_config();
    let yaml = serde_yaml_ng::to_string(&config).expect("serialize yaml");
    assert_eq!(
        parse_config_str(&yaml, ConfigFormat::Yaml),
        Ok(config.clone())
    );
    let json = serde_json::to_string_pretty(&config).expect("serialize json");
    assert_eq!(
        parse_config_str(&json, ConfigFormat::Json),
        Ok(config.clone())
    );
    // The derived Deserialize agrees with the two-stage parser.
    let direct: Config = serde_json::from_str(&json).expect("serde derive");
    assert_eq!(direct, config);
}

#[test]
fn listener_port_helpers() {
    let listener = &full_config().listeners[0];
    assert_eq!(listener.first_port(), Some(19092));
    assert_eq!(
        listener.sorted_ports(),
        vec![19092, 19093, 19094, 19095, 19096]
    );
    let ports = listener.listener_ports();
    assert_eq!(ports.ranges(), &[PortRange::new(19092, 19096)]);
    assert_eq!(ports.to_string(), "19092-19096");
    assert_eq!(ports.len(), 5);
}

#[test]
fn port_range_strings() {
    let parse = |text: &str| serde_json::from_str::<PortRange>(text).map_err(|e| e.to_string());
    assert_eq!(parse("9092"), Ok(PortRange::single(9092)));
    assert_eq!(parse("\"9092\""), Ok(PortRange::single(9092)));
    assert_eq!(parse("\"9092 - 9095\""), Ok(PortRange::new(9092, 9095)));
    assert!(parse("\"9092-\"").is_err_and(|e| e.contains("invalid port range")));
    assert!(parse("70000").is_err_and(|e| e.contains("out of range")));
    assert_eq!(
        serde_json::to_string(&PortRange::new(1, 2)).ok(),
        Some("\"1-2\"".into())
    );
    assert_eq!(
        serde_json::to_string(&PortRange::single(7)).ok(),
        Some("7".into())
    );
}

fn workspace_file(relative: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .join(relative)
}

#[test]
fn example_port_mapping_file_parses() {
    let path = workspace_file("deploy/examples/port-mapping.yaml");
    let config = load_config_file(&path).expect("example is valid");
    assert_eq!(config.backend_clusters[0].name, "local");
    assert_eq!(
        config.backend_clusters[0].bootstrap_servers,
        vec!["127.0.0.1:9092"]
    );
    assert_eq!(config.virtual_clusters.len(), 1);
    let listener = &config.listeners[0];
    assert_eq!(listener.ports, vec![PortRange::new(19092, 19097)]);
    let Some(HostMapping::PortMapping(mapping)) = listener.host_mapping() else {
        panic!("example listener has no port mapping");
    };
    assert_eq!(mapping.advertised_host, "127.0.0.1");
}

#[test]
fn files_pick_their_format_by_extension() {
    let dir = std::env::temp_dir().join(format!("sluice-config-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let json = dir.join("config.JSON");
    std::fs::write(&json, FULL_JSON).expect("write json");
    let yaml = dir.join("config.yml");
    std::fs::write(&yaml, FULL_YAML).expect("write yaml");
    // Strict JSON rejects YAML, so this proves the extension chose the parser.
    let yaml_as_json = dir.join("yaml.json");
    std::fs::write(&yaml_as_json, FULL_YAML).expect("write");
    let results = (
        load_config_file(&json),
        load_config_file(&yaml),
        load_config_file(&yaml_as_json),
    );
    std::fs::remove_dir_all(&dir).expect("clean up");
    assert_eq!(results.0, Ok(full_config()));
    assert_eq!(results.1, Ok(full_config()));
    let errors = results.2.expect_err("yaml is not json");
    assert!(
        errors.errors()[0].message.starts_with("invalid JSON"),
        "{errors}"
    );
}

#[test]
fn unreadable_file_is_an_error_at_its_path() {
    let path = workspace_file("no/such/config.yaml");
    let errors = load_config_file(&path).expect_err("missing file");
    assert_eq!(errors.len(), 1);
    assert_eq!(errors.errors()[0].path, path.display().to_string());
    assert!(errors.errors()[0]
        .message
        .starts_with("cannot read config file"));
}

#[test]
fn syntax_errors_have_the_document_as_path() {
    let yaml = errors_of("listeners: [\n");
    assert_eq!(yaml.len(), 1);
    assert_eq!(yaml[0].0, "");
    assert!(yaml[0].1.starts_with("invalid YAML"), "{yaml:?}");
    let json = parse_config_str("{\"listeners\": [}", ConfigFormat::Json).expect_err("bad");
    assert!(
        json.errors()[0].message.starts_with("invalid JSON"),
        "{json}"
    );
    assert_eq!(json.to_string(), json.errors()[0].message);
}

#[test]
fn duplicate_keys_are_errors_in_both_formats() {
    let yaml = errors_of("listeners: []\nlisteners: []\n");
    assert!(yaml[0].1.contains("duplicate entry"), "{yaml:?}");
    let json = parse_config_str("{\"listeners\": [], \"listeners\": []}", ConfigFormat::Json);
    let json = json.expect_err("duplicate key");
    assert!(
        json.errors()[0].message.contains("duplicate entry"),
        "{json}"
    );
}

#[test]
fn document_must_be_a_mapping() {
    assert_only_error("", "", "the document is empty");
    assert_only_error("# nothing\n", "", "the document is empty");
    assert_only_error("- a\n- b\n", "", "expected a mapping with backend_clusters");
    assert_only_error("listeners: 5\n", "listeners", "invalid type: integer `5`");
}

#[test]
fn yaml_only_constructs_are_rejected() {
    assert_only_error("listeners: !custom []\n", "listeners", "YAML tag !custom");
    assert_only_error("1: x\n", "", "mapping key 1 must be a string");
}

#[test]
fn yaml_merge_keys_are_applied() {
    let yaml = r#"
backend_clusters:
  - &common
    name: local
    bootstrap_servers: ["127.0.0.1:9092"]
  - <<: *common
    name: second
"#;
    let config = parse_config_str(yaml, ConfigFormat::Yaml).expect("merge keys");
    assert_eq!(config.backend_clusters[1].name, "second");
    assert_eq!(
        config.backend_clusters[1].bootstrap_servers,
        vec!["127.0.0.1:9092"]
    );
}

#[test]
fn errors_display_one_line_each() {
    let errors = ConfigErrors::new(vec![
        ConfigError::new("listeners[0].name", "must not be empty"),
        ConfigError::new("", "invalid YAML"),
    ]);
    assert_eq!(
        errors.to_string(),
        "listeners[0].name: must not be empty\ninvalid YAML"
    );
    let as_error: &dyn std::error::Error = &errors;
    assert!(as_error.source().is_none());
}

/// The text between the first "```{language}" line after the "Full
/// example" heading and its closing fence.
fn code_block<'a>(markdown: &'a str, language: &str) -> &'a str {
    let opening = format!("```{language}\n");
    let section = markdown
        .find("### Full example")
        .expect("Full example heading");
    let start =
        section + markdown[section..].find(&opening).expect("block present") + opening.len();
    let length = markdown[start..].find("```").expect("block closed");
    &markdown[start..start + length]
}

#[test]
fn reference_doc_examples_parse_and_agree() {
    let path = workspace_file("README.md");
    let markdown = std::fs::read_to_string(path).expect("README with the configuration reference");
    let yaml = parse_config_str(code_block(&markdown, "yaml"), ConfigFormat::Yaml);
    let json = parse_config_str(code_block(&markdown, "json"), ConfigFormat::Json);
    assert!(yaml.is_ok(), "{yaml:?}");
    assert_eq!(yaml, json);
}
