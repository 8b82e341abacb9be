//! KIP-368 on terminated logins: a login lasts `session_lifetime_ms`; a
//! client that logs in again in time keeps its connection, one that sends
//! a request after its session ended without logging in again is closed
//! (as Kafka does: an idle connection is left to the idle timeout).

use std::time::Duration;

use bytes::Bytes;
use kafka_protocol::messages::{
    ApiKey, MetadataRequest, SaslAuthenticateRequest, SaslAuthenticateResponse,
    SaslHandshakeRequest, SaslHandshakeResponse,
};
use kafka_protocol::protocol::StrBytes;
use sluice_test_support::kafka::tool;
use sluice_test_support::{ports, wait};

use super::support::http::scrape;
use super::support::raw::RawConn;
use super::{client_properties, gateway_with, Env, DAVE_PASSWORD};

const LIFETIME_MS: u64 = 3_000;

fn schemes() -> String {
    format!(
        "      - type: sasl_plain\n        mediation: terminate\n        \
         session_lifetime_ms: {LIFETIME_MS}\n        \
         principals: [{{username: dave, password: \"${{env:SLUICE_TEST_DAVE_PASSWORD}}\"}}]\n"
    )
}

/// Logs in as dave on a raw connection and never again.
fn raw_login(bootstrap: &str) -> RawConn {
    let mut conn = RawConn::connect(bootstrap);
    let handshake =
        SaslHandshakeRequest::default().with_mechanism(StrBytes::from_static_str("PLAIN"));
    let answer: SaslHandshakeResponse = conn.call(ApiKey::SaslHandshake, 1, &handshake);
    assert_eq!(answer.error_code, 0);
    let message = Bytes::from(format!("\0dave\0{DAVE_PASSWORD}"));
    let login = SaslAuthenticateRequest::default().with_auth_bytes(message);
    let answer: SaslAuthenticateResponse = conn.call(ApiKey::SaslAuthenticate, 1, &login);
    assert_eq!(answer.error_code, 0);
    assert_eq!(answer.session_lifetime_ms, LIFETIME_MS as i64);
    conn
}

pub fn sessions_end_unless_the_client_logs_in_again(env: &Env) {
    let vars = [("SLUICE_TEST_DAVE_PASSWORD", DAVE_PASSWORD)];
    let admin = format!("127.0.0.1:{}", ports::free_port());
    let args = ["--admin-listen", admin.as_str()];
    let gw = gateway_with(env, "sasl_plain", &schemes(), &vars, &args);
    let bootstrap = gw.bootstrap();

    let mut silent = raw_login(&bootstrap);
    let short = Some(Duration::from_millis(500));
    silent.stream.set_read_timeout(short).expect("read timeout");
    // Past the session's end (by the shard's clock, which moves once a
    // second), a request is refused by closing the connection.
    let ended = || {
        silent.send(ApiKey::Metadata, 1, &MetadataRequest::default());
        silent.closed_by_peer()
    };
    assert!(
        wait::eventually(Duration::from_secs(30), ended),
        "the session never ended"
    );
    gw.wait_log("reason_code=\"session_expired\"", Duration::from_secs(30));

    // Kafka's Java producer logs in again before each session ends and
    // keeps producing on its connection for several lifetimes.
    let props = client_properties(env.dir.path(), "PLAIN", "dave", DAVE_PASSWORD);
    let records = "300";
    let produced = tool(
        "kafka-producer-perf-test",
        &[
            "--topic",
            "reauthenticated",
            "--num-records",
            records,
            "--throughput",
            "30",
            "--record-size",
            "100",
            "--producer-props",
            &format!("bootstrap.servers={bootstrap}"),
            "acks=all",
            "--producer.config",
            &props,
        ],
        None,
    );
    let stdout = String::from_utf8_lossy(&produced.stdout);
    assert!(produced.status.success(), "{produced:?}");
    assert!(
        stdout.contains(&format!("{records} records sent")),
        "{stdout}"
    );
    let expired = gw.logs().matches("reason_code=\"session_expired\"").count();
    assert_eq!(
        expired,
        1,
        "only the silent client's session ended: {}",
        gw.logs()
    );
    // Two connections (bootstrap, broker) logged in once each; the broker
    // connection again at least every lifetime over the ten-second run.
    let ok = [("mechanism", "PLAIN"), ("result", "ok")];
    let logins = scrape(&admin).sum("sluice_authentications_total", &ok);
    assert!(
        logins >= 5.0,
        "{logins} logins: the producer did not log in again"
    );
}
