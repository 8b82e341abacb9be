//! TLS handshake failures are counted by listener, side and reason.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use crate::support::gateway::Gateway;
use crate::support::http::scrape;
use crate::support::tls::{client_config, connect};
use crate::SilentBackend;
use sluice_test_support::certs::Ca;
use sluice_test_support::{ports, temp_dir, wait};

const WAIT: Duration = Duration::from_secs(30);

fn tls_config(backend: &str, first: u16, cert: &str, key: &str) -> String {
    format!(
        r#"backend_clusters:
  - {{ name: kafka, bootstrap_servers: ["{backend}"] }}
virtual_clusters:
  - {{ name: vc, dns_label: vc, destination: {{ name: kafka }} }}
listeners:
  - name: secure
    addresses: ["127.0.0.1"]
    ports: ["{first}-{last}"]
    policies:
      - type: tls_server
        config:
          certificates: [ {{ certificate: "{cert}", key: "{key}" }} ]
      - type: forward_to_virtual_cluster
        config: {{ type: port_mapping, destination: {{ name: vc }}, advertised_host: 127.0.0.1 }}
"#,
        last = first + 3
    )
}

#[test]
fn tls_handshake_failures_are_counted_by_reason() {
    let dir = temp_dir("obs-tls");
    let ca = Ca::new("obs test CA");
    let (cert, key) = ca
        .issue("localhost", &["localhost"])
        .write(dir.path(), "server");
    let backend = SilentBackend::new();
    let first = ports::free_port_block(4);
    let config = tls_config(
        &backend.addr(),
        first,
        &cert.display().to_string(),
        &key.display().to_string(),
    );
    let admin = ports::free_addr();
    let args = [
        "--shards",
        "1",
        "--no-pin",
        "--admin-listen",
        admin.as_str(),
    ];
    let gw = Gateway::spawn(&config, first, &args);
    gw.wait_log("sluice is serving", WAIT);

    // Plaintext Kafka bytes to a TLS-only listener.
    let mut plain = TcpStream::connect(gw.bootstrap()).expect("connect");
    plain.set_read_timeout(Some(WAIT)).expect("read timeout");
    plain.write_all(&[0, 0, 0, 8, 0, 18, 0, 3]).expect("write");
    let _ = plain.read(&mut [0u8; 8]);
    // A client that does not trust the gateway's certificate aborts the handshake.
    let rogue = Ca::new("someone else's CA");
    let refused = connect(
        &gw.bootstrap(),
        "localhost",
        client_config(&rogue.cert_pem, None),
    );
    assert!(refused.is_err(), "an untrusted certificate was accepted");

    let failures = |reason: &str| {
        let labels = [
            ("listener", "secure"),
            ("side", "client"),
            ("reason", reason),
        ];
        scrape(gw.admin()).sum("sluice_tls_handshake_failures_total", &labels)
    };
    wait::until("both failures to be counted", WAIT, || {
        (failures("plaintext") >= 1.0 && failures("alert_received") >= 1.0).then_some(())
    });
    let closed = [("listener", "secure"), ("reason", "plaintext_on_tls")];
    assert!(scrape(gw.admin()).sum("sluice_client_connections_closed_total", &closed) >= 1.0);
}
