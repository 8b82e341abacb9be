//! TLS termination, SNI routing (both host formats, two virtual clusters on
//! one port), TLS and mutual TLS to the backend, refusals and certificate
//! rotation: sluice between real clients (Kafka's Java tools, kcat, a rustls
//! client) and real Kafka brokers with TLS listeners. Certificates are made
//! by the test.

#[path = "tls/clients.rs"]
mod clients;
#[path = "tls/principals.rs"]
mod principals;
#[path = "tls/refusals.rs"]
mod refusals;
#[path = "tls/rotation.rs"]
mod rotation;
#[path = "tls/setup.rs"]
mod setup;
mod support;

use sluice_test_support::harness::{self, TestFn};

fn main() {
    let tests: &[(&str, TestFn<setup::Env>)] = &[
        (
            "sni_per_cluster_suffix_routes_two_virtual_clusters",
            clients::sni_per_cluster,
        ),
        (
            "sni_shared_suffix_routes_two_virtual_clusters",
            clients::sni_shared_suffix,
        ),
        (
            "backend_mutual_tls_through_port_mapping",
            clients::backend_mtls,
        ),
        (
            "client_certificates_are_required_and_checked",
            refusals::client_certificates,
        ),
        ("bad_tls_clients_are_refused_alone", refusals::bad_clients),
        (
            "client_certificates_log_clients_in",
            principals::client_certificates_log_clients_in,
        ),
        (
            "rotated_certificate_serves_new_connections",
            rotation::rotation,
        ),
    ];
    harness::run_with_kafka(tests, setup::Env::start);
}
