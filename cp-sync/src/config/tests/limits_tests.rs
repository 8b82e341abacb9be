//! A listener's `limits`: values, defaults, and every bad value at its path.

use std::net::IpAddr;
use std::time::Duration;

use super::{assert_only_error, errors_of, pairs, MINIMAL_YAML};
use crate::config::{parse_config_str, validate, ConfigFormat, ListenerLimits};

const AT: &str = "listeners[0].limits";

/// [`MINIMAL_YAML`] with `limits: <block>` on its listener.
fn with_limits(block: &str) -> String {
    format!("{MINIMAL_YAML}    limits: {block}\n")
}

fn limits_of(block: &str) -> ListenerLimits {
    let config = parse_config_str(&with_limits(block), ConfigFormat::Yaml).unwrap();
    config.listeners[0].limits.clone()
}

fn ip(text: &str) -> IpAddr {
    text.parse().unwrap()
}

#[test]
fn limits_default_to_no_connection_limit_and_the_documented_timeouts() {
    let config = parse_config_str(MINIMAL_YAML, ConfigFormat::Yaml).unwrap();
    let limits = &config.listeners[0].limits;
    assert_eq!(*limits, ListenerLimits::default());
    assert_eq!(limits.max_connections, None);
    assert_eq!(limits.per_ip_limit(ip("10.0.0.1")), None);
    assert_eq!(limits.first_frame_timeout(), Some(Duration::from_secs(10)));
    assert_eq!(limits.frame_timeout(), Some(Duration::from_secs(30)));
    assert_eq!(limits.idle_timeout(), Some(Duration::from_secs(600)));
    assert_eq!(limits_of("{}"), ListenerLimits::default());
    assert_eq!(limits_of("null"), ListenerLimits::default());
}

#[test]
fn every_limit_is_read() {
    let limits = limits_of(
        r#"
      max_connections: 500
      max_connections_per_ip: 20
      max_connections_per_ip_overrides: {"127.0.0.1": 200, "::1": 0, "10.0.0.7": 50}
      first_frame_timeout_ms: 0
      frame_timeout_ms: 1
      idle_timeout_ms: 2147483647"#,
    );
    assert_eq!(limits.max_connections, Some(500));
    assert_eq!(limits.max_connections_per_ip, Some(20));
    assert_eq!(limits.per_ip_limit(ip("127.0.0.1")), Some(200));
    assert_eq!(limits.per_ip_limit(ip("0::1")), Some(0));
    assert_eq!(limits.per_ip_limit(ip("10.0.0.8")), Some(20));
    assert_eq!(limits.first_frame_timeout(), None, "0 turns it off");
    assert_eq!(limits.frame_timeout(), Some(Duration::from_millis(1)));
    assert_eq!(limits.idle_timeout_ms, 2_147_483_647);
}

#[test]
fn zero_per_ip_admits_only_the_overrides() {
    let limits = limits_of(
        r#"{max_connections_per_ip: 0, max_connections_per_ip_overrides: {"10.1.1.1": 3}}"#,
    );
    assert_eq!(limits.per_ip_limit(ip("10.1.1.1")), Some(3));
    assert_eq!(limits.per_ip_limit(ip("10.1.1.2")), Some(0));
}

#[test]
fn bad_limits_are_named_with_their_path() {
    let cases = [
        (
            "{max_connections: 0}",
            "max_connections",
            "0 would refuse every client",
        ),
        (
            "{max_connections: -1}",
            "max_connections",
            "must be an integer from 0 to 4294967295",
        ),
        (
            "{max_connections: many}",
            "max_connections",
            "must be an integer",
        ),
        (
            "{max_connections: 4294967296}",
            "max_connections",
            "from 0 to 4294967295",
        ),
        (
            "{max_connections: 1.5}",
            "max_connections",
            "must be an integer",
        ),
        (
            "{max_connections_per_ip: 0}",
            "max_connections_per_ip",
            "there are none",
        ),
        (
            "{max_connections_per_ip: -3}",
            "max_connections_per_ip",
            "must be an integer",
        ),
        (
            "{first_frame_timeout_ms: -1}",
            "first_frame_timeout_ms",
            "from 0 to 2147483647",
        ),
        (
            "{frame_timeout_ms: 2147483648}",
            "frame_timeout_ms",
            "from 0 to 2147483647",
        ),
        (
            "{idle_timeout_ms: soon}",
            "idle_timeout_ms",
            "must be an integer",
        ),
        (
            "{max_conections: 5}",
            "max_conections",
            "did you mean `max_connections`?",
        ),
        ("[1]", "", "a limits mapping"),
        (
            "{max_connections_per_ip_overrides: [1]}",
            "max_connections_per_ip_overrides",
            "must be a mapping of IP address",
        ),
        (
            r#"{max_connections_per_ip_overrides: {"10.0.0.300": 1}}"#,
            "max_connections_per_ip_overrides.10.0.0.300",
            "is not an IP address",
        ),
        (
            r#"{max_connections_per_ip_overrides: {"10.0.0.0/8": 1}}"#,
            "max_connections_per_ip_overrides.10.0.0.0/8",
            "no prefix length",
        ),
        (
            r#"{max_connections_per_ip_overrides: {"10.0.0.1": -1}}"#,
            "max_connections_per_ip_overrides.10.0.0.1",
            "must be an integer from 0",
        ),
        (
            r#"{max_connections_per_ip_overrides: {"::1": 1, "0::1": 2}}"#,
            "max_connections_per_ip_overrides.0::1",
            "::1 is listed twice",
        ),
    ];
    for (block, field, fragment) in cases {
        let path = match field {
            "" => AT.to_owned(),
            field => format!("{AT}.{field}"),
        };
        assert_only_error(&with_limits(block), &path, fragment);
    }
}

#[test]
fn every_bad_limit_is_reported_at_once() {
    let yaml = with_limits(
        r#"{max_connections: 0, max_connections_per_ip: x, idle_timeout_ms: -5, max_connections_per_ip_overrides: {"nope": 1}}"#,
    );
    let paths: Vec<String> = errors_of(&yaml).into_iter().map(|(path, _)| path).collect();
    for field in [
        "max_connections",
        "max_connections_per_ip",
        "max_connections_per_ip_overrides.nope",
        "idle_timeout_ms",
    ] {
        assert!(
            paths.contains(&format!("{AT}.{field}")),
            "{field} missing in {paths:?}"
        );
    }
}

#[test]
fn typed_configs_are_checked_too() {
    let mut config = parse_config_str(MINIMAL_YAML, ConfigFormat::Yaml).unwrap();
    config.listeners[0].limits.max_connections = Some(0);
    config.listeners[0].limits.idle_timeout_ms = u64::MAX;
    let errors = pairs(&validate(&config).unwrap_err());
    let paths: Vec<&str> = errors.iter().map(|(path, _)| path.as_str()).collect();
    assert_eq!(
        paths,
        [
            "listeners[0].limits.max_connections",
            "listeners[0].limits.idle_timeout_ms"
        ],
        "{errors:#?}"
    );
}

#[test]
fn limits_survive_json_and_stay_out_when_default() {
    let plain = parse_config_str(MINIMAL_YAML, ConfigFormat::Yaml).unwrap();
    let json = serde_json::to_string(&plain).unwrap();
    assert!(!json.contains("limits"), "{json}");
    let yaml = with_limits(
        r#"{max_connections: 9, max_connections_per_ip_overrides: {"::1": 2}, idle_timeout_ms: 0}"#,
    );
    let config = parse_config_str(&yaml, ConfigFormat::Yaml).unwrap();
    let json = serde_json::to_string(&config).unwrap();
    let again = parse_config_str(&json, ConfigFormat::Json).unwrap();
    assert_eq!(again, config);
    let typed: crate::config::Config = serde_json::from_str(&json).unwrap();
    assert_eq!(typed, config);
}
