//! Clients the gateway must refuse, each with a log line, while other
//! connections carry on.

use std::process::{Command, Stdio};
use std::time::Duration;

use kafka_protocol::messages::{ApiKey, ApiVersionsRequest, ApiVersionsResponse};
use kafka_protocol::protocol::StrBytes;

use crate::setup::{Env, MUTUAL, PER_CLUSTER};
use crate::support::raw::RawConn;
use crate::support::tls::{client_config, connect, TlsConn};

const LOG_WAIT: Duration = Duration::from_secs(30);

pub fn api_versions<S: std::io::Read + std::io::Write>(conn: &mut RawConn<S>) {
    let request = ApiVersionsRequest::default()
        .with_client_software_name(StrBytes::from_static_str("sluice-test"))
        .with_client_software_version(StrBytes::from_static_str("1"));
    let response: ApiVersionsResponse = conn.call(ApiKey::ApiVersions, 3, &request);
    assert_eq!(response.error_code, 0);
}

fn per_cluster(env: &Env, label: &str) -> (String, String) {
    (
        format!("127.0.0.1:{}", env.per_cluster_port),
        format!("bootstrap.{label}{PER_CLUSTER}"),
    )
}

/// A TLS connection that works, kept open across the refusals.
fn survivor(env: &Env) -> TlsConn {
    let (addr, name) = per_cluster(env, "vc-a");
    let mut conn = connect(&addr, &name, client_config(&env.gateway_ca.cert_pem, None))
        .expect("TLS to the gateway");
    api_versions(&mut conn);
    conn
}

pub fn client_certificates(env: &Env) {
    let mut kept = survivor(env);
    let addr = format!("127.0.0.1:{}", env.mutual_port);
    let name = format!("bootstrap.vc-c{MUTUAL}");
    let ca = &env.gateway_ca.cert_pem;

    let mut trusted =
        connect(&addr, &name, client_config(ca, Some(&env.alice))).expect("trusted client");
    api_versions(&mut trusted);
    env.gateway
        .wait_log_line(&["TLS established", "alice"], LOG_WAIT);

    // With TLS 1.3 the client finishes its handshake before the server has
    // checked it: the refusal shows on the first read.
    let refused = connect(&addr, &name, client_config(ca, None)).map(|mut c| {
        let _ = std::io::Write::write_all(&mut c.stream, &[0, 0, 0, 8, 0, 18, 0, 0, 0, 0, 0, 1]);
        c.closed_by_peer()
    });
    assert!(
        !matches!(refused, Ok(false)),
        "a client without a certificate was served"
    );
    env.gateway.wait_log_line(
        &[
            "connection closed",
            "TLS handshake failed",
            "listener=\"sni-mutual\"",
        ],
        LOG_WAIT,
    );

    let rogue = env
        .rogue_ca
        .issue("mallory", &["mallory.clients.sluice.test"]);
    let refused = connect(&addr, &name, client_config(ca, Some(&rogue)));
    let refused = refused.map(|mut c| c.closed_by_peer());
    assert!(
        !matches!(refused, Ok(false)),
        "a client with an untrusted certificate was served"
    );
    let logs = env.gateway.logs();
    let failures = logs
        .lines()
        .filter(|l| l.contains("sni-mutual") && l.contains("TLS handshake failed"))
        .count();
    assert!(failures >= 1, "{logs}");

    api_versions(&mut kept);
    api_versions(&mut trusted);
}

pub fn bad_clients(env: &Env) {
    let mut kept = survivor(env);
    let ca = &env.gateway_ca.cert_pem;

    // A name this listener does not hand out.
    let (addr, _) = per_cluster(env, "vc-a");
    let unknown = format!("bootstrap.nope{PER_CLUSTER}");
    assert!(
        connect(&addr, &unknown, client_config(ca, None)).is_err(),
        "unknown SNI name served"
    );
    env.gateway.wait_log_line(
        &["connection closed", "unknown SNI server name", "nope"],
        LOG_WAIT,
    );

    refuse_tls_1_1(env, &addr);

    // Plaintext Kafka on a TLS-only port.
    let mut plain = RawConn::connect(&addr);
    plain.send_bytes(&[0, 0, 0, 8, 0, 18, 0, 0, 0, 0, 0, 1]);
    assert!(
        plain.closed_by_peer(),
        "plaintext served on a TLS-only listener"
    );
    env.gateway.wait_log_line(
        &["connection closed", "plaintext to a TLS-only listener"],
        LOG_WAIT,
    );

    // A client that starts a TLS record and stalls: closed once the
    // handshake timeout (4 s here) runs out.
    let mut stalled = RawConn::connect(&addr);
    stalled.send_bytes(&[0x16, 0x03]);
    assert!(
        stalled.closed_by_peer(),
        "a stalled handshake was kept open"
    );
    env.gateway.wait_log_line(
        &[
            "connection closed",
            "did not finish its TLS handshake within 4000 ms",
            "reason_code=\"handshake_timeout\"",
        ],
        LOG_WAIT,
    );

    // TLS on a plaintext port.
    let mapped = format!("127.0.0.1:{}", env.mapped_port);
    assert!(connect(&mapped, "bootstrap.vc-c.example", client_config(ca, None)).is_err());
    env.gateway.wait_log_line(
        &[
            "connection closed",
            "TLS ClientHello to a plaintext Kafka port",
        ],
        LOG_WAIT,
    );

    api_versions(&mut kept);
    api_versions(&mut survivor(env));
    env.gateway.assert_running();
}

/// TLS 1.1 only: openssl is the one client here that still speaks it.
fn refuse_tls_1_1(env: &Env, addr: &str) {
    let tls11 = Command::new("openssl")
        .args([
            "s_client",
            "-connect",
            addr,
            "-servername",
            &format!("bootstrap.vc-a{PER_CLUSTER}"),
        ])
        .args(["-tls1_1", "-cipher", "DEFAULT@SECLEVEL=0"])
        .stdin(Stdio::null())
        .output()
        .expect("run openssl s_client");
    let tls11_out = String::from_utf8_lossy(&tls11.stdout);
    assert!(
        !tls11.status.success() || !tls11_out.contains("Verify return code: 0"),
        "TLS 1.1 accepted:\n{tls11_out}"
    );
    env.gateway.wait_log_line(
        &["connection closed", "TLS handshake failed", "ncompatible"],
        LOG_WAIT,
    );
}
