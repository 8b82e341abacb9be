//! A virtual cluster whose clients log in with their certificates
//! (`client_certificate`): the principal the mutual-TLS listener maps is
//! the connection's; a client without a certificate gets no further than
//! the login requests.

use std::time::Duration;

use kafka_protocol::messages::{ApiKey, MetadataRequest, MetadataResponse};

use crate::refusals::api_versions;
use crate::setup::{Env, MUTUAL, SHARED};
use crate::support::tls::{client_config, connect};

const LOG_WAIT: Duration = Duration::from_secs(30);

pub fn client_certificates_log_clients_in(env: &Env) {
    let ca = &env.gateway_ca.cert_pem;
    let addr = format!("127.0.0.1:{}", env.mutual_port);
    let name = format!("bootstrap.vc-d{MUTUAL}");
    let mut alice = connect(&addr, &name, client_config(ca, Some(&env.alice))).expect("TLS");
    api_versions(&mut alice);
    let metadata: MetadataResponse = alice.call(ApiKey::Metadata, 1, &MetadataRequest::default());
    assert!(!metadata.brokers.is_empty(), "the backend's brokers");
    drop(alice);
    let closed = [
        "connection closed",
        "listener=\"sni-mutual\"",
        "principal=\"alice\"",
    ];
    env.gateway.wait_log_line(&closed, LOG_WAIT);

    // The shared listener asks for no certificate: its clients of vc-d
    // have no principal, and a request past the login requests ends them.
    let addr = format!("127.0.0.1:{}", env.shared_port);
    let name = format!("bootstrap-vc-d{SHARED}");
    let mut nobody = connect(&addr, &name, client_config(ca, None)).expect("TLS");
    api_versions(&mut nobody);
    nobody.send(ApiKey::Metadata, 1, &MetadataRequest::default());
    assert!(
        nobody.closed_by_peer(),
        "a client without a certificate was served"
    );
    let refused = [
        "connection closed",
        "listener=\"sni-shared\"",
        "not_authenticated",
    ];
    env.gateway.wait_log_line(&refused, LOG_WAIT);
}
