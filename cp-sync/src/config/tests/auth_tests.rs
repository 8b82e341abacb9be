//! `authentication` of backend and virtual clusters.

use super::unsupported_tests::{backend_with, virtual_cluster_with};
use super::{assert_error, assert_only_error, minimal_with, parse_config_str, ConfigFormat};
use crate::config::{BackendAuthentication, Mediation, VirtualAuthentication};
use crate::scram::ScramAlgorithm;

const ALLOW: &str = "insecure_allow_anonymous_virtual_cluster_auth: true";

fn parses(yaml: &str) -> crate::config::Config {
    parse_config_str(yaml, ConfigFormat::Yaml).unwrap_or_else(|e| panic!("{e}"))
}

/// A config whose backend logs in and whose virtual cluster has `schemes`.
fn with_schemes(backend_auth: &str, schemes: &str) -> String {
    let backend = backend_with(&format!("authentication: {backend_auth}"));
    backend.replacen(
        "dns_label: team-a",
        &format!("dns_label: team-a\n    authentication: {schemes}"),
        1,
    )
}

#[test]
fn backend_credentials_take_a_user_and_a_secret() {
    let yaml = backend_with(&format!(
        "authentication: {{type: sasl_plain, username: gw, password: \"${{env:PW}}\"}}\n    {ALLOW}"
    ));
    let auth = format!("{:?}", parses(&yaml).backend_clusters[0].authentication);
    assert!(auth.contains("${env:PW}"), "{auth}");
    let yaml = backend_with(&format!(
        "authentication: {{type: sasl_scram, algorithm: sha512, username: gw, password: s3cret}}\n    {ALLOW}"
    ));
    let config = parses(&yaml);
    let auth = &config.backend_clusters[0].authentication;
    assert!(matches!(
        auth,
        BackendAuthentication::SaslScram {
            algorithm: ScramAlgorithm::Sha512,
            ..
        }
    ));
    assert!(!format!("{auth:?}").contains("s3cret"));
    let bad = backend_with(&format!(
        "authentication: {{type: sasl_plain, username: gw, password: \"${{env:}}\"}}\n    {ALLOW}"
    ));
    let at = "backend_clusters[0].authentication.password";
    assert_only_error(&bad, at, "reference must be");
    let empty_user = backend_with(&format!(
        "authentication: {{type: sasl_plain, username: \"\", password: x}}\n    {ALLOW}"
    ));
    let at = "backend_clusters[0].authentication.username";
    assert_only_error(&empty_user, at, "must not be empty");
}

#[test]
fn anonymous_clients_may_not_borrow_the_backend_credential_unless_allowed() {
    let yaml = backend_with("authentication: {type: sasl_plain, username: gw, password: x}");
    let at = "virtual_clusters[0].authentication";
    assert_only_error(&yaml, at, "insecure_allow_anonymous_virtual_cluster_auth");
    // Passing SASL through: the broker checks each client itself.
    let passthrough = with_schemes(
        "{type: sasl_plain, username: gw, password: x}",
        "[{type: anonymous}, {type: sasl_plain, mediation: passthrough}]",
    );
    parses(&passthrough);
}

#[test]
fn terminating_schemes_list_their_principals() {
    let yaml = with_schemes(
        "{type: anonymous}",
        "[{type: sasl_plain, mediation: terminate, principals: [{username: alice, password: \"${env:ALICE}\"}]},\n       {type: sasl_scram, algorithm: sha256, mediation: terminate, principals: [{username: bob, salt: c2FsdA==, iterations: 4096, stored_key: \"${file:/k1}\", server_key: \"${file:/k2}\"}]}]",
    );
    let config = parses(&yaml);
    let schemes = &config.virtual_clusters[0].authentication;
    assert_eq!(schemes.len(), 2);
    assert_eq!(schemes[0].mechanism(), Some("PLAIN"));
    assert_eq!(schemes[1].mechanism(), Some("SCRAM-SHA-256"));
    assert_eq!(schemes[1].mediation(), Some(Mediation::Terminate));
    assert!(
        matches!(&schemes[0], VirtualAuthentication::SaslPlain { principals, .. } if principals[0].username == "alice")
    );
}

#[test]
fn client_certificates_and_anonymous_may_go_together() {
    let yaml =
        virtual_cluster_with("authentication: [{type: client_certificate}, {type: anonymous}]");
    let config = parses(&yaml);
    let schemes = &config.virtual_clusters[0].authentication;
    assert_eq!(schemes[0], VirtualAuthentication::ClientCertificate);
    assert_eq!(schemes[0].label(), "client_certificate");
}

#[test]
fn oauth_bearer_takes_a_jwks_file_and_checks() {
    let yaml = virtual_cluster_with(
        "authentication: [{type: oauth_bearer, mediation: terminate, jwks: {endpoint: /etc/sluice/jwks.json}, validate: {issuer: https://idp, audiences: [kafka]}, session_lifetime_ms: 60000}]",
    );
    let config = parses(&yaml);
    let scheme = &config.virtual_clusters[0].authentication[0];
    assert_eq!(scheme.mechanism(), Some("OAUTHBEARER"));
    assert_eq!(scheme.session_lifetime_ms(), Some(60_000));
    let VirtualAuthentication::OauthBearer(oauth) = scheme else {
        panic!("{scheme:?}");
    };
    assert_eq!(oauth.claims_mapping.sub, "sub");
    assert_eq!(oauth.validate.audiences, ["kafka"]);
    let relative = virtual_cluster_with(
        "authentication: [{type: oauth_bearer, mediation: terminate, jwks: {endpoint: jwks.json}}]",
    );
    let at = "virtual_clusters[0].authentication[0].jwks.endpoint";
    assert_only_error(&relative, at, "absolute path");
}

#[test]
fn scheme_errors_name_their_field() {
    let at = "virtual_clusters[0].authentication";
    let cases = [
        ("[{type: sasl_plain, mediation: terminate}]", format!("{at}[0].principals"), "at least one principal"),
        ("[{type: sasl_plain, mediation: passthrough, principals: [{username: a, password: b}]}]", format!("{at}[0].principals"), "mediation: terminate"),
        ("[{type: sasl_plain, mediation: terminate, principals: [{username: a, password: b}, {username: a, password: c}]}]", format!("{at}[0].principals[1].username"), "listed twice"),
        ("[{type: sasl_scram, algorithm: sha256, mediation: terminate, principals: [{username: a, salt: c2FsdA==, iterations: 10, stored_key: x, server_key: y}]}]", format!("{at}[0].principals[0].iterations"), "at least 4096"),
        ("[{type: sasl_scram, algorithm: sha256, mediation: terminate, principals: [{username: a, algorithm: sha512, salt: c2FsdA==, iterations: 4096, stored_key: x, server_key: y}]}]", format!("{at}[0].principals[0].algorithm"), "another algorithm"),
        ("[{type: sasl_plain, mediation: sometimes}]", format!("{at}[0].mediation"), "unknown variant"),
        ("[{type: anonymous}, {type: anonymous}]", format!("{at}[1]"), "offered twice"),
        ("[{type: client_certificate}, {type: sasl_plain, mediation: passthrough}]", at.to_owned(), "cannot be combined with mediation: passthrough"),
        ("[{type: sasl_plain, mediation: passthrough, session_lifetime_ms: 5000}]", format!("{at}[0].session_lifetime_ms"), "the broker sets"),
        ("[{type: sasl_plain, mediation: terminate, session_lifetime_ms: 10, principals: [{username: a, password: b}]}]", format!("{at}[0].session_lifetime_ms"), "between 1000"),
        ("[{type: oauth_bearer, mediation: terminate}]", format!("{at}[0].jwks"), "terminate needs the keys"),
        ("[{type: oauth_bearer, mediation: passthrough, jwks: {endpoint: /k.json}}]", format!("{at}[0].jwks"), "the broker checks"),
        ("[{type: kerberos}]", format!("{at}[0].type"), "oauth_bearer"),
        ("[{type: sasl_plain, mediation: passthrough}, {type: sasl_scram, algorithm: sha256, mediation: terminate, principals: [{username: a, salt: c2FsdA==, iterations: 4096, stored_key: x, server_key: y}]}]", at.to_owned(), "not both"),
    ];
    for (schemes, path, fragment) in cases {
        let yaml = virtual_cluster_with(&format!("authentication: {schemes}"));
        assert_error(&yaml, &path, fragment);
    }
    let _ = minimal_with;
}
