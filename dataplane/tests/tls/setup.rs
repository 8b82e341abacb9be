//! The set-up every TLS trial shares: certificates, three one-broker Kafka
//! clusters (plaintext, TLS, mutual TLS) and one gateway in front of them.

use std::path::PathBuf;

use crate::support::gateway::Gateway;
use crate::support::kafka::KafkaCluster;
use crate::support::tls::{Ca, Issued};
use crate::support::{ports, TempDir};

pub const PER_CLUSTER: &str = ".pc.sluice.test";
pub const SHARED: &str = ".sh.sluice.test";
pub const MUTUAL: &str = ".mt.sluice.test";
pub const LABELS: [&str; 3] = ["vc-a", "vc-b", "vc-c"];

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

impl Env {
    pub fn start() -> Env {
        let dir = TempDir::new("tls");
        let d = dir.path();
        let kafka_ca = Ca::new("kafka test CA");
        let kafka_ca_path = kafka_ca.write(d, "kafka-ca");
        let (broker_cert, broker_key) = kafka_ca
            .issue("broker", &["127.0.0.1", "localhost"])
            .write(d, "broker");
        let gateway_identity = kafka_ca
            .issue("sluice-gateway", &["sluice-gateway"])
            .write(d, "gateway-client");
        let (bc, bk) = (broker_cert.to_str().unwrap(), broker_key.to_str().unwrap());
        let ca = kafka_ca_path.to_str().unwrap();
        let plain = KafkaCluster::start(1);
        let tls = KafkaCluster::start_with(1, &["--tls-cert", bc, "--tls-key", bk, "--tls-ca", ca]);
        let mtls = KafkaCluster::start_with(
            1,
            &[
                "--tls-cert",
                bc,
                "--tls-key",
                bk,
                "--tls-ca",
                ca,
                "--tls-client-auth",
                "required",
            ],
        );

        let gateway_ca = Ca::new("sluice test gateway CA");
        let gateway_ca_path = gateway_ca.write(d, "gateway-ca");
        let cert_a = gateway_ca
            .issue("vc-a", &["*.vc-a.pc.sluice.test"])
            .write(d, "vc-a");
        let cert_b = gateway_ca
            .issue("vc-b", &["*.vc-b.pc.sluice.test"])
            .write(d, "vc-b");
        let shared_cert = gateway_ca
            .issue("shared", &["*.sh.sluice.test"])
            .write(d, "shared");
        let mutual = gateway_ca
            .issue("mutual", &["*.vc-c.mt.sluice.test"])
            .write(d, "mutual");
        let client_ca = Ca::new("sluice test client CA");
        let client_ca_path = client_ca.write(d, "client-ca");
        let alice = client_ca.issue("alice", &["alice.clients.sluice.test"]);
        let rogue_ca = Ca::new("untrusted CA");

        let base = ports::free_port_block(7);
        let (per_cluster_port, shared_port, mutual_port, mapped_port) =
            (base, base + 1, base + 2, base + 3);
        let hosts = d.join("hosts");
        std::fs::write(&hosts, hosts_file()).unwrap();
        let config = gateway_config(&GatewayFiles {
            plain: &plain.bootstrap,
            tls: &tls.bootstrap,
            mtls: &mtls.bootstrap,
            kafka_ca: &kafka_ca_path,
            identity: &gateway_identity,
            cert_a: &cert_a,
            cert_b: &cert_b,
            shared: &shared_cert,
            mutual: &mutual,
            client_ca: &client_ca_path,
            ports: [per_cluster_port, shared_port, mutual_port, mapped_port],
        });
        let gateway = Gateway::start(&config, per_cluster_port, &["--shards", "2", "--no-pin"]);
        Env {
            dir,
            gateway_ca,
            rogue_ca,
            alice,
            kafka_ca_path,
            gateway_ca_path,
            hosts,
            shared_cert,
            plain,
            tls,
            mtls,
            gateway,
            per_cluster_port,
            shared_port,
            mutual_port,
            mapped_port,
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
