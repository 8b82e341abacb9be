//! Validation errors of `tls_server`, `sni` and backend `tls`, each at its
//! exact path.

use super::super::{parse_config_str, ConfigFormat};
use super::tls_tests::{parse, TLS_YAML};
use super::{assert_error, assert_only_error, errors_of};

const SNI: &str = "listeners[0].policies[1].config";
const SERVER: &str = "listeners[0].policies[0].config";

fn tls_with(from: &str, to: &str) -> String {
    assert!(TLS_YAML.contains(from), "fixture has no {from:?}");
    TLS_YAML.replacen(from, to, 1)
}

#[test]
fn sni_mapping_errors() {
    let suffix = |value: &str| tls_with(".kafka.example.com", value);
    let path = format!("{SNI}.sni_suffix");
    assert_only_error(&suffix("\"\""), &path, "must not be empty");
    assert_only_error(&suffix("kafka.example.com"), &path, "must start with '.'");
    assert_only_error(&suffix(".Kafka.example.com"), &path, "contains 'K'");
    assert_only_error(&suffix(".kafka_1.example.com"), &path, "contains '_'");
    assert_only_error(&suffix("\".\""), &path, "has an empty DNS label");
    assert_only_error(&suffix(".kafka..com"), &path, "has an empty DNS label");
    assert_only_error(&suffix(".kafka.com."), &path, "has an empty DNS label");
    assert_only_error(&suffix(".-kafka.com"), &path, "starts or ends with '-'");
    let long = format!(".{}.com", "a".repeat(64));
    assert_only_error(&suffix(&long), &path, "at most 63");
    parse(&suffix(".a-1.example"));
    let port = |value: &str| {
        tls_with(
            "advertised_port: 9092",
            &format!("advertised_port: {value}"),
        )
    };
    let path = format!("{SNI}.advertised_port");
    assert_only_error(&port("0"), &path, "port 0 is out of range 1-65535");
    assert_only_error(&port("70000"), &path, "port 70000 is out of range 1-65535");
    assert_only_error(&port("-1"), &path, "port -1 is out of range 1-65535");
    assert_only_error(&port("x"), &path, "invalid type: string \"x\"");
    assert_only_error(
        &tls_with("          advertised_port: 9092\n", ""),
        &path,
        "is required",
    );
    let format = tls_with(
        "broker_host_format: shared_suffix",
        "broker_host_format: flat",
    );
    let path = format!("{SNI}.broker_host_format");
    assert_only_error(&format, &path, "unknown variant `flat`");
    let extra = tls_with(
        "type: sni",
        "type: sni\n          destination: { name: team-a }",
    );
    assert_only_error(&extra, &format!("{SNI}.destination"), "unknown field");
}

#[test]
fn sni_needs_tls_server_and_no_plaintext() {
    let start = TLS_YAML
        .find("      - type: tls_server")
        .expect("first tls_server");
    let end = TLS_YAML
        .find("      - type: forward_to_virtual_cluster")
        .expect("forward");
    let no_tls = format!("{}{}", &TLS_YAML[..start], &TLS_YAML[end..]);
    assert_only_error(
        &no_tls,
        "listeners[0].policies[0].config.type",
        "an sni host mapping routes by the TLS server name, so the listener needs a tls_server policy",
    );
    let plaintext = tls_with("allow_plaintext: false", "allow_plaintext: true");
    assert_only_error(
        &plaintext,
        &format!("{SERVER}.allow_plaintext"),
        "plaintext connections carry no server name",
    );
    // A tls_server that fails to decode might be the missing one: only its
    // own error is reported.
    let broken = tls_with("allow_plaintext: false", "allow_plaintext: maybe");
    assert_only_error(
        &broken,
        &format!("{SERVER}.allow_plaintext"),
        "invalid type",
    );
}

#[test]
fn at_most_one_tls_server() {
    let second = "      - type: tls_server\n        config: { certificates: [{certificate: c.pem, key: k.pem}] }\n";
    let yaml = tls_with(
        "  - name: tls-ports",
        &format!("{second}  - name: tls-ports"),
    );
    assert_only_error(
        &yaml,
        "listeners[0].policies[2]",
        "a listener takes at most one tls_server policy; remove this one",
    );
}

#[test]
fn tls_server_errors() {
    let certificates = format!("{SERVER}.certificates");
    let empty = tls_with(
        "            - { certificate: /etc/sluice/a.pem, key: /etc/sluice/a.key }\n            - { certificate: /etc/sluice/b.pem, key: /etc/sluice/b.key }\n",
        "            []\n",
    );
    assert_only_error(
        &empty,
        &certificates,
        "must list at least one {certificate, key} pair",
    );
    let missing = tls_with("          certificates:\n", "          certificates_:\n");
    assert_error(&missing, &certificates, "is required");
    assert_error(
        &missing,
        &format!("{SERVER}.certificates_"),
        "did you mean `certificates`?",
    );
    // Each entry is decoded on its own: both broken entries are reported.
    let broken = tls_with("key: /etc/sluice/a.key }", "keys: /etc/sluice/a.key }").replacen(
        "certificate: /etc/sluice/b.pem",
        "certificate: 7",
        1,
    );
    let errors = errors_of(&broken);
    let expected = [
        (format!("{certificates}[0].keys"), "unknown field"),
        (format!("{certificates}[0].key"), "is required"),
        (
            format!("{certificates}[1].certificate"),
            "invalid type: integer `7`",
        ),
    ];
    assert_eq!(errors.len(), expected.len(), "{errors:#?}");
    for ((path, fragment), (got_path, got)) in expected.iter().zip(&errors) {
        assert_eq!(path, got_path, "{errors:#?}");
        assert!(got.contains(fragment), "{errors:#?}");
    }
    let empty_certificate = tls_with("certificate: /etc/sluice/b.pem", "certificate: \"\"");
    let path = format!("{certificates}[1].certificate");
    assert_only_error(&empty_certificate, &path, "must not be empty");
    let empty_key = tls_with("key: /etc/sluice/b.key", "key: \"  \"");
    let path = format!("{certificates}[1].key");
    assert_only_error(
        &empty_key,
        &path,
        "must not be empty; write a file path or inline PEM text",
    );
}

#[test]
fn tls_versions_errors() {
    let inverted = tls_with(
        "{ min: 1.3, max: TLSv1.3 }",
        "{ min: \"1.3\", max: \"1.2\" }",
    );
    let path = format!("{SERVER}.versions.min");
    assert_only_error(
        &inverted,
        &path,
        "min 1.3 is above max 1.2; lower min or raise max",
    );
    let old = tls_with("{ min: 1.3, max: TLSv1.3 }", "{ min: \"1.1\" }");
    assert_only_error(
        &old,
        &path,
        "unknown TLS version \"1.1\"; expected \"1.2\" or \"1.3\"",
    );
    let extra = tls_with("{ min: 1.3, max: TLSv1.3 }", "{ min: 1.2, maximum: 1.3 }");
    assert_only_error(
        &extra,
        &format!("{SERVER}.versions.maximum"),
        "unknown field",
    );
}

#[test]
fn client_authentication_errors() {
    let auth = format!("{SERVER}.client_authentication");
    for mode in ["required", "requested"] {
        let yaml = tls_with("mode: required", &format!("mode: {mode}")).replacen(
            "trust_bundles: [/etc/sluice/clients-ca.pem]",
            "trust_bundles: []",
            1,
        );
        let message = format!("mode {mode} needs at least one trust bundle");
        assert_only_error(&yaml, &format!("{auth}.trust_bundles"), &message);
    }
    let none = tls_with("mode: required", "mode: none").replacen(
        "trust_bundles: [/etc/sluice/clients-ca.pem]",
        "trust_bundles: [\"\"]",
        1,
    );
    parse(&none);
    let empty = tls_with(
        "[/etc/sluice/clients-ca.pem]",
        "[/etc/sluice/clients-ca.pem, \"\"]",
    );
    assert_only_error(
        &empty,
        &format!("{auth}.trust_bundles[1]"),
        "must not be empty",
    );
    let mode = tls_with("mode: required", "mode: always");
    assert_only_error(&mode, &format!("{auth}.mode"), "unknown variant `always`");
    let principal = tls_with("principal: san_uri", "principal: issuer");
    assert_only_error(
        &principal,
        &format!("{auth}.principal"),
        "unknown variant `issuer`",
    );
    let extra = tls_with(
        "principal: san_uri",
        "principal: san_uri\n            crl: x",
    );
    assert_only_error(&extra, &format!("{auth}.crl"), "unknown field");
}

#[test]
fn backend_tls_errors_and_ignored_fields() {
    let at = "backend_clusters[0].tls";
    let inverted = tls_with(
        "{ min: \"1.2\", max: \"1.3\" }",
        "{ min: \"1.3\", max: \"1.2\" }",
    );
    assert_only_error(
        &inverted,
        &format!("{at}.tls_versions.min"),
        "min 1.3 is above max 1.2",
    );
    let no_key = tls_with(", key: /etc/sluice/gateway.key }", " }");
    assert_only_error(&no_key, &format!("{at}.client_identity.key"), "is required");
    let empty = tls_with("ca_bundle: /etc/sluice/backend-ca.pem", "ca_bundle: \"\"");
    assert_only_error(&empty, &format!("{at}.ca_bundle"), "must not be empty");
    // With TLS off the other fields are ignored, even broken ones.
    let off = empty
        .replacen("enabled: true", "enabled: false", 1)
        .replacen(
            "{ min: \"1.2\", max: \"1.3\" }",
            "{ min: \"1.3\", max: \"1.2\" }",
            1,
        );
    parse(&off);
    // Pointless but harmless: nothing is verified, so the bundle is unused.
    let both = tls_with("insecure_skip_verify: false", "insecure_skip_verify: true");
    assert!(parse(&both).backend_clusters[0].tls.insecure_skip_verify);
    let typo = tls_with("insecure_skip_verify: false", "insecure_skip_verfy: false");
    let path = format!("{at}.insecure_skip_verfy");
    assert_only_error(&typo, &path, "did you mean `insecure_skip_verify`?");
}

#[test]
fn many_tls_errors_at_once_in_document_order() {
    let yaml = tls_with("ca_bundle: /etc/sluice/backend-ca.pem", "ca_bundle: \"\"")
        .replacen(
            "{ min: 1.3, max: TLSv1.3 }",
            "{ min: \"1.3\", max: \"1.2\" }",
            1,
        )
        .replacen(
            "trust_bundles: [/etc/sluice/clients-ca.pem]",
            "trust_bundles: []",
            1,
        )
        .replacen("sni_suffix: .kafka.example.com", "sni_suffix: kafka", 1)
        .replacen("advertised_port: 9092", "advertised_port: 0", 1);
    let errors = parse_config_str(&yaml, ConfigFormat::Yaml).expect_err("broken");
    let paths: Vec<&str> = errors.iter().map(|e| e.path.as_str()).collect();
    assert_eq!(
        paths,
        [
            "backend_clusters[0].tls.ca_bundle",
            "listeners[0].policies[0].config.versions.min",
            "listeners[0].policies[0].config.client_authentication.trust_bundles",
            "listeners[0].policies[1].config.sni_suffix",
            "listeners[0].policies[1].config.advertised_port",
        ],
        "{errors}"
    );
}

#[test]
fn tls_server_needs_a_config() {
    let yaml = tls_with(
        "      - type: tls_server\n        config:\n",
        "      - type: tls_server\n        settings:\n",
    );
    let errors = errors_of(&yaml);
    let paths: Vec<&str> = errors.iter().map(|(path, _)| path.as_str()).collect();
    assert_eq!(
        paths,
        [
            "listeners[0].policies[0].settings",
            "listeners[0].policies[0].config"
        ],
        "{errors:#?}"
    );
}
