//! OAUTHBEARER terminated by sluice: tokens signed by keys of a JWKS file,
//! checked for signature, expiry, issuer and audience; Kafka's Java client
//! and kafka-python log in with a token they read from a file; every bad
//! token is refused with its reason logged; a new key in the JWKS is used
//! after a reload.

use std::path::Path;
use std::time::Duration;

use bytes::Bytes;
use kafka_protocol::messages::{
    ApiKey, SaslAuthenticateRequest, SaslAuthenticateResponse, SaslHandshakeRequest,
    SaslHandshakeResponse,
};
use kafka_protocol::protocol::StrBytes;
use sluice_test_support::jwt::{claims, jwks, SigningKey};
use sluice_test_support::kafka::kafka_python_round_trip;

use super::support::raw::RawConn;
use super::{gateway, java_round_trip_with, Env};

const ISSUER: &str = "https://issuer.sluice.test";
const WAIT: Duration = Duration::from_secs(30);

fn schemes(jwks_path: &Path) -> String {
    format!(
        "      - type: oauth_bearer\n        mediation: terminate\n        \
         jwks: {{endpoint: \"{}\"}}\n        \
         validate: {{issuer: \"{ISSUER}\", audiences: [kafka]}}\n",
        jwks_path.display()
    )
}

/// One login with `token` on a raw connection: the answer's error code
/// and message.
fn raw_login(bootstrap: &str, token: &str) -> (i16, Option<String>) {
    let mut conn = RawConn::connect(bootstrap);
    let handshake =
        SaslHandshakeRequest::default().with_mechanism(StrBytes::from_static_str("OAUTHBEARER"));
    let answer: SaslHandshakeResponse = conn.call(ApiKey::SaslHandshake, 1, &handshake);
    assert_eq!(answer.error_code, 0);
    let message = Bytes::from(format!("n,,\u{1}auth=Bearer {token}\u{1}\u{1}"));
    let login = SaslAuthenticateRequest::default().with_auth_bytes(message);
    let answer: SaslAuthenticateResponse = conn.call(ApiKey::SaslAuthenticate, 1, &login);
    (
        answer.error_code,
        answer.error_message.map(|m| m.to_string()),
    )
}

/// Kafka's console producer then consumer, logging in with the token in
/// `token_file`.
fn java_round_trip(env: &Env, bootstrap: &str, token_file: &Path) {
    let url = format!("file://{}", token_file.display());
    let props = env.dir.path().join("oauth.properties");
    let text = format!(
        "security.protocol=SASL_PLAINTEXT\nsasl.mechanism=OAUTHBEARER\n\
         sasl.login.callback.handler.class=org.apache.kafka.common.security.oauthbearer.OAuthBearerLoginCallbackHandler\n\
         sasl.oauthbearer.token.endpoint.url={url}\n\
         sasl.jaas.config=org.apache.kafka.common.security.oauthbearer.OAuthBearerLoginModule required;\n"
    );
    std::fs::write(&props, text).expect("write client properties");
    let jvm = format!("-Dorg.apache.kafka.sasl.oauthbearer.allowed.urls={url}");
    java_round_trip_with(bootstrap, "oauth", &props.display().to_string(), &jvm);
}

pub fn tokens_are_checked_by_sluice(env: &Env) {
    let dir = env.dir.path();
    let key = SigningKey::es256("k1");
    let jwks_path = dir.join("jwks.json");
    std::fs::write(&jwks_path, jwks(&[&key])).expect("write JWKS");
    let gw = gateway(env, "sasl_plain", &schemes(&jwks_path), &[]);
    let bootstrap = gw.bootstrap();

    let token_file = dir.join("olivia.jwt");
    std::fs::write(
        &token_file,
        key.sign(&claims("olivia", ISSUER, "kafka", 3600)),
    )
    .unwrap();
    java_round_trip(env, &bootstrap, &token_file);
    gw.wait_log_line(&["connection closed", "principal=\"olivia\""], WAIT);
    let login = Some(("OAUTHBEARER", token_file.to_str().unwrap_or_default(), ""));
    let read = kafka_python_round_trip(&bootstrap, "oauth-py", 2, login);
    let log = gw.logs();
    let tail: Vec<&str> = log.lines().rev().take(12).collect();
    assert_eq!(
        read.as_deref(),
        Ok("kp-0\nkp-1\n"),
        "kafka-python: {tail:#?}"
    );

    let stranger = SigningKey::es256("k2");
    let impostor = SigningKey::es256("k1");
    let refused = [
        (key.sign(&claims("o", ISSUER, "kafka", -120)), "expired"),
        (
            key.sign(&claims("o", "https://elsewhere", "kafka", 60)),
            "wrong issuer",
        ),
        (
            key.sign(&claims("o", ISSUER, "billing", 60)),
            "wrong audience",
        ),
        (
            stranger.sign(&claims("o", ISSUER, "kafka", 60)),
            "in the JWKS",
        ),
        (
            impostor.sign(&claims("o", ISSUER, "kafka", 60)),
            "bad signature",
        ),
    ];
    for (token, reason) in &refused {
        let (code, message) = raw_login(&bootstrap, token);
        assert_eq!(code, 58, "{reason}");
        assert!(
            message.unwrap_or_default().contains("token was refused"),
            "{reason}"
        );
        gw.wait_log_line(&["client authentication failed", reason], WAIT);
    }

    // A new key: once the JWKS file names it and sluice reloads, its
    // tokens pass.
    std::fs::write(&jwks_path, jwks(&[&key, &stranger])).expect("rewrite JWKS");
    gw.signal("-HUP");
    gw.wait_log("configuration reloaded", WAIT);
    let token = stranger.sign(&claims("o", ISSUER, "kafka", 60));
    assert_eq!(raw_login(&bootstrap, &token).0, 0, "the new key's token");
    let log = gw.logs();
    for (token, _) in &refused {
        assert!(!log.contains(token.as_str()), "a token reached the log");
    }
}
