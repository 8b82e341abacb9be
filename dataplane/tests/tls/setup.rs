//! The set-up every TLS trial shares: certificates, three one-broker Kafka
//! clusters (plaintext, TLS, mutual TLS) and one gateway in front of them.

use std::path::{Path, PathBuf};

use crate::support::gateway::Gateway;
use sluice_test_support::certs::{Ca, Issued};
use sluice_test_support::kafka::KafkaCluster;
use sluice_test_support::{ports, temp_dir, TempDir};

pub const PER_CLUSTER: &str = ".pc.sluice.test";
pub const SHARED: &str = ".sh.sluice.test";
pub const MUTUAL: &str = ".mt.sluice.test";
pub const LABELS: [&str; 4] = ["vc-a", "vc-b", "vc-c", "vc-d"];

pub struct Env {
    pub dir: TempDir,
    pub gateway_ca: Ca,
    pub rogue_ca: Ca,
    pub alice: Issued,
    pub kafka_ca_path: PathBuf,
    pub gateway_ca_path: PathBuf,
    pub hosts: PathBuf,
    /// Shared-suffix certificate files, rewritten by the rotation trial.
    pub shared_cert: (PathBuf, PathBuf),
    pub plain: KafkaCluster,
    pub tls: KafkaCluster,
    /// Only the gateway talks to it; held so it lives as long as the trials.
    #[allow(dead_code)]
    pub mtls: KafkaCluster,
    pub gateway: Gateway,
    /// Listener ports: per-cluster SNI, shared-suffix SNI, mutual-TLS SNI, port mapping to vc-c.
    pub per_cluster_port: u16,
    pub shared_port: u16,
    pub mutual_port: u16,
    pub mapped_port: u16,
}

/// Files for the Kafka side: brokers' certificate and the gateway's identity.
struct KafkaTls {
    ca: Ca,
    ca_path: PathBuf,
    broker: (PathBuf, PathBuf),
    gateway_identity: (PathBuf, PathBuf),
}

fn kafka_tls(dir: &Path) -> KafkaTls {
    let ca = Ca::new("kafka test CA");
    let ca_path = ca.write(dir, "kafka-ca");
    let broker = ca
        .issue("broker", &["127.0.0.1", "localhost"])
        .write(dir, "broker");
    let gateway_identity = ca
        .issue("sluice-gateway", &["sluice-gateway"])
        .write(dir, "gateway-client");
    KafkaTls {
        ca,
        ca_path,
        broker,
        gateway_identity,
    }
}

/// Plaintext, TLS and mutual-TLS one-broker clusters.
fn start_clusters(tls: &KafkaTls) -> (KafkaCluster, KafkaCluster, KafkaCluster) {
    let (cert, key) = (
        tls.broker.0.to_str().unwrap(),
        tls.broker.1.to_str().unwrap(),
    );
    let ca = tls.ca_path.to_str().unwrap();
    let with_tls = ["--tls-cert", cert, "--tls-key", key, "--tls-ca", ca];
    let plain = KafkaCluster::start(1);
    let tls_cluster = KafkaCluster::start_with(1, &with_tls);
    let mutual: Vec<&str> = with_tls
        .iter()
        .copied()
        .chain(["--tls-client-auth", "required"])
        .collect();
    let mtls = KafkaCluster::start_with(1, &mutual);
    (plain, tls_cluster, mtls)
}

impl Env {
    pub fn start() -> Env {
        let dir = temp_dir("tls");
        let d = dir.path();
        let kafka = kafka_tls(d);
        let (plain, tls, mtls) = start_clusters(&kafka);
        let gateway_ca = Ca::new("sluice test gateway CA");
        let gateway_ca_path = gateway_ca.write(d, "gateway-ca");
        let shared_cert = gateway_ca
            .issue("shared", &["*.sh.sluice.test"])
            .write(d, "shared");
        let client_ca = Ca::new("sluice test client CA");
        let alice = client_ca.issue("alice", &["alice.clients.sluice.test"]);
        let base = ports::free_port_block(7);
        let hosts = d.join("hosts");
        std::fs::write(&hosts, hosts_file()).unwrap();
        let config = gateway_config(&GatewayFiles {
            plain: &plain.bootstrap,
            tls: &tls.bootstrap,
            mtls: &mtls.bootstrap,
            kafka_ca: &kafka.ca_path,
            identity: &kafka.gateway_identity,
            cert_a: &gateway_ca
                .issue("vc-a", &["*.vc-a.pc.sluice.test"])
                .write(d, "vc-a"),
            cert_b: &gateway_ca
                .issue("vc-b", &["*.vc-b.pc.sluice.test"])
                .write(d, "vc-b"),
            shared: &shared_cert,
            mutual: &gateway_ca
                .issue(
                    "mutual",
                    &["*.vc-c.mt.sluice.test", "*.vc-d.mt.sluice.test"],
                )
                .write(d, "mutual"),
            client_ca: &client_ca.write(d, "client-ca"),
            ports: [base, base + 1, base + 2, base + 3],
        });
        let gateway = Gateway::start(
            &config,
            base,
            &[
                "--shards",
                "2",
                "--no-pin",
                "--handshake-timeout-ms",
                "4000",
            ],
        );
        drop(kafka.ca);
        Env {
            dir,
            gateway_ca,
            rogue_ca: Ca::new("untrusted CA"),
            alice,
            kafka_ca_path: kafka.ca_path,
            gateway_ca_path,
            hosts,
            shared_cert,
            plain,
            tls,
            mtls,
            gateway,
            per_cluster_port: base,
            shared_port: base + 1,
            mutual_port: base + 2,
            mapped_port: base + 3,
        }
    }

    pub fn jvm_opts(&self) -> String {
        format!("-Djdk.net.hosts.file={}", self.hosts.display())
    }
}

/// Every name the trials use, on loopback.
fn hosts_file() -> String {
    let mut lines = String::new();
    for label in LABELS {
        for name in [
            format!("bootstrap.{label}{PER_CLUSTER}"),
            format!("broker-1.{label}{PER_CLUSTER}"),
            format!("bootstrap-{label}{SHARED}"),
            format!("broker-1-{label}{SHARED}"),
            format!("bootstrap.{label}{MUTUAL}"),
            format!("broker-1.{label}{MUTUAL}"),
        ] {
            lines.push_str(&format!("127.0.0.1 {name}\n"));
        }
    }
    lines
}

struct GatewayFiles<'a> {
    plain: &'a str,
    tls: &'a str,
    mtls: &'a str,
    kafka_ca: &'a PathBuf,
    identity: &'a (PathBuf, PathBuf),
    cert_a: &'a (PathBuf, PathBuf),
    cert_b: &'a (PathBuf, PathBuf),
    shared: &'a (PathBuf, PathBuf),
    mutual: &'a (PathBuf, PathBuf),
    client_ca: &'a PathBuf,
    ports: [u16; 4],
}

fn cert_entry(pair: &(PathBuf, PathBuf)) -> String {
    format!(
        "{{ certificate: \"{}\", key: \"{}\" }}",
        pair.0.display(),
        pair.1.display()
    )
}

fn gateway_config(f: &GatewayFiles) -> String {
    let [per, shared, mutual, mapped] = f.ports;
    let ca = f.kafka_ca.display();
    format!(
        r#"backend_clusters:
  - name: plain
    bootstrap_servers: ["{plain}"]
  - name: tls
    bootstrap_servers: ["{tls}"]
    tls: {{ enabled: true, ca_bundle: "{ca}" }}
  - name: mtls
    bootstrap_servers: ["{mtls}"]
    tls: {{ enabled: true, ca_bundle: "{ca}", client_identity: {identity} }}
virtual_clusters:
  - {{ name: vc-a, dns_label: vc-a, destination: {{ name: plain }} }}
  - {{ name: vc-b, dns_label: vc-b, destination: {{ name: tls }} }}
  - {{ name: vc-c, dns_label: vc-c, destination: {{ name: mtls }} }}
  - {{ name: vc-d, dns_label: vc-d, destination: {{ name: plain }}, authentication: [{{ type: client_certificate }}] }}
listeners:
  - name: sni-per-cluster
    addresses: ["127.0.0.1"]
    ports: [{per}]
    policies:
      - type: tls_server
        config: {{ certificates: [{cert_a}, {cert_b}] }}
      - type: forward_to_virtual_cluster
        config: {{ type: sni, sni_suffix: "{PER_CLUSTER}", advertised_port: {per}, broker_host_format: per_cluster_suffix }}
  - name: sni-shared
    addresses: ["127.0.0.1"]
    ports: [{shared}]
    policies:
      - type: tls_server
        config: {{ certificates: [{shared_cert}] }}
      - type: forward_to_virtual_cluster
        config: {{ type: sni, sni_suffix: "{SHARED}", advertised_port: {shared}, broker_host_format: shared_suffix }}
  - name: sni-mutual
    addresses: ["127.0.0.1"]
    ports: [{mutual}]
    policies:
      - type: tls_server
        config:
          certificates: [{mutual_cert}]
          client_authentication: {{ mode: required, trust_bundles: ["{client_ca}"] }}
      - type: forward_to_virtual_cluster
        config: {{ type: sni, sni_suffix: "{MUTUAL}", advertised_port: {mutual} }}
  - name: mapped
    addresses: ["127.0.0.1"]
    ports: ["{mapped}-{mapped_last}"]
    policies:
      - type: forward_to_virtual_cluster
        config: {{ type: port_mapping, destination: {{ name: vc-c }}, advertised_host: 127.0.0.1, min_broker_id: 1 }}
"#,
        plain = f.plain,
        tls = f.tls,
        mtls = f.mtls,
        identity = cert_entry(f.identity),
        cert_a = cert_entry(f.cert_a),
        cert_b = cert_entry(f.cert_b),
        shared_cert = cert_entry(f.shared),
        mutual_cert = cert_entry(f.mutual),
        client_ca = f.client_ca.display(),
        mapped_last = mapped + 3,
    )
}
