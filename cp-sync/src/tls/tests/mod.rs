//! TLS tests: certificates made with rcgen, written to temporary files or
//! used inline, and real rustls handshakes over in-memory buffers.

mod build_tests;
mod handshake_tests;
mod principal_tests;
mod rotation_tests;

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair,
    KeyUsagePurpose, SanType,
};
use rustls::client::danger::ServerCertVerifier;
use rustls::{ClientConfig, ClientConnection, ConnectionCommon, ServerConfig, ServerConnection};
use rustls_pki_types::{CertificateDer, ServerName};

use super::NoCertificateVerification;
use crate::config::{
    BackendCluster, BackendTls, BootstrapPort, CertificateSource, ClientAuthentication, Config,
    Destination, HostMapping, Listener, ListenerPolicy, PemSource, PortMapping, PortRange,
    TlsServer, TlsVersions, VirtualAuthentication, VirtualCluster,
};

/// A certificate authority that issues test certificates.
pub(super) struct Ca {
    params: CertificateParams,
    key: KeyPair,
    pub pem: String,
}

/// An issued certificate with its key, as PEM and DER.
#[derive(Clone)]
pub(super) struct Leaf {
    pub cert_pem: String,
    pub key_pem: String,
    pub der: CertificateDer<'static>,
}

fn must<T, E: std::fmt::Debug>(result: Result<T, E>) -> T {
    match result {
        Ok(value) => value,
        Err(e) => panic!("test fixture failed: {e:?}"),
    }
}

impl Ca {
    pub fn new(name: &str) -> Ca {
        let mut params = must(CertificateParams::new(Vec::<String>::new()));
        params.distinguished_name.push(DnType::CommonName, name);
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params.key_usages = vec![
            KeyUsagePurpose::KeyCertSign,
            KeyUsagePurpose::DigitalSignature,
        ];
        let key = must(KeyPair::generate());
        let pem = must(params.self_signed(&key)).pem();
        Ca { params, key, pem }
    }

    /// A server certificate for `names` (DNS SANs).
    pub fn server(&self, names: &[&str]) -> Leaf {
        let names: Vec<String> = names.iter().map(|n| n.to_string()).collect();
        let mut params = must(CertificateParams::new(names));
        params.distinguished_name.push(DnType::CommonName, "server");
        params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
        self.issue(params)
    }

    /// A client certificate with common name `cn` and the given SANs.
    pub fn client(&self, cn: &str, sans: Vec<SanType>) -> Leaf {
        let mut params = must(CertificateParams::new(Vec::<String>::new()));
        params.distinguished_name.push(DnType::CommonName, cn);
        params.subject_alt_names = sans;
        params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ClientAuth];
        self.issue(params)
    }

    pub fn issue(&self, params: CertificateParams) -> Leaf {
        let key = must(KeyPair::generate());
        let issuer = Issuer::from_params(&self.params, &self.key);
        let cert = must(params.signed_by(&key, &issuer));
        Leaf {
            cert_pem: cert.pem(),
            key_pem: key.serialize_pem(),
            der: cert.der().clone(),
        }
    }
}

/// A self-signed server certificate, trusted by nobody.
pub(super) fn self_signed(names: &[&str]) -> Leaf {
    let names: Vec<String> = names.iter().map(|n| n.to_string()).collect();
    let key = must(KeyPair::generate());
    let cert = must(must(CertificateParams::new(names)).self_signed(&key));
    Leaf {
        cert_pem: cert.pem(),
        key_pem: key.serialize_pem(),
        der: cert.der().clone(),
    }
}

/// A directory removed when dropped.
pub(super) struct TempDir(PathBuf);

impl TempDir {
    pub fn new(name: &str) -> TempDir {
        static COUNTER: AtomicUsize = AtomicUsize::new(0);
        let n = COUNTER.fetch_add(1, Ordering::Relaxed);
        let dir =
            std::env::temp_dir().join(format!("sluice-tls-{name}-{}-{n}", std::process::id()));
        must(std::fs::create_dir_all(&dir));
        TempDir(dir)
    }

    pub fn path(&self, file: &str) -> PathBuf {
        self.0.join(file)
    }

    /// Writes `text` to `file` and returns the path as a PEM source.
    pub fn write(&self, file: &str, text: &str) -> PemSource {
        let path = self.path(file);
        write_atomically(&path, text);
        PemSource::new(path.display().to_string())
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Write-then-rename, as certificate tools do, so a reader never sees half
/// a file.
pub(super) fn write_atomically(path: &Path, text: &str) {
    let partial = path.with_extension("partial");
    must(std::fs::write(&partial, text));
    must(std::fs::rename(&partial, path));
}

pub(super) fn pair(certificate: PemSource, key: PemSource) -> CertificateSource {
    CertificateSource { certificate, key }
}

pub(super) fn inline(leaf: &Leaf) -> CertificateSource {
    pair(
        PemSource::new(&leaf.cert_pem),
        PemSource::new(&leaf.key_pem),
    )
}

pub(super) fn tls_server(certificates: Vec<CertificateSource>) -> TlsServer {
    TlsServer {
        certificates,
        versions: TlsVersions::default(),
        allow_plaintext: false,
        client_authentication: ClientAuthentication::default(),
    }
}

/// One plaintext backend, one virtual cluster, and a port-mapped listener
/// per entry of `servers`, named `l0`, `l1`, ...
pub(super) fn config_with(servers: Vec<TlsServer>, backends: Vec<BackendTls>) -> Config {
    let mut backend_clusters: Vec<BackendCluster> = backends
        .into_iter()
        .enumerate()
        .map(|(i, tls)| backend(&format!("b{i}"), tls))
        .collect();
    backend_clusters.insert(0, backend("plain", BackendTls::default()));
    let listeners = servers
        .into_iter()
        .enumerate()
        .map(|(i, tls)| listener(i, tls))
        .collect();
    Config {
        backend_clusters,
        virtual_clusters: vec![VirtualCluster {
            name: "vc".to_owned(),
            dns_label: "vc".to_owned(),
            destination: Destination::new("plain"),
            authentication: vec![VirtualAuthentication::Anonymous],
            acl_mode: Default::default(),
            produce_policies: Vec::new(),
        }],
        listeners,
    }
}

fn backend(name: &str, tls: BackendTls) -> BackendCluster {
    BackendCluster {
        name: name.to_owned(),
        bootstrap_servers: vec!["127.0.0.1:9092".to_owned()],
        authentication: Default::default(),
        tls,
        metadata_update_interval_seconds: 60,
        insecure_allow_anonymous_virtual_cluster_auth: false,
    }
}

fn listener(i: usize, tls: TlsServer) -> Listener {
    let first = 20000 + 10 * u16::try_from(i).unwrap_or(0);
    Listener {
        name: format!("l{i}"),
        addresses: vec![std::net::IpAddr::V4(std::net::Ipv4Addr::LOCALHOST)],
        ports: vec![PortRange::new(first, first + 5)],
        policies: vec![
            ListenerPolicy::TlsServer(tls),
            ListenerPolicy::ForwardToVirtualCluster(HostMapping::PortMapping(PortMapping {
                destination: Destination::new("vc"),
                advertised_host: "127.0.0.1".to_owned(),
                bootstrap_port: BootstrapPort::AtStart,
                min_broker_id: 0,
            })),
        ],
        limits: Default::default(),
    }
}

pub(super) fn provider() -> Arc<rustls::crypto::CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

/// A client that trusts `ca_pem` and presents `identity` if given.
pub(super) fn client_trusting(ca_pem: &str, identity: Option<&Leaf>) -> Arc<ClientConfig> {
    use rustls_pki_types::pem::PemObject;
    let mut roots = rustls::RootCertStore::empty();
    for cert in CertificateDer::pem_slice_iter(ca_pem.as_bytes()) {
        must(roots.add(must(cert)));
    }
    let builder =
        must(ClientConfig::builder_with_provider(provider()).with_safe_default_protocol_versions())
            .with_root_certificates(roots);
    Arc::new(with_identity(builder, identity))
}

/// A client that accepts any server certificate, to look at which one the
/// server chose.
pub(super) fn client_accepting_any(
    versions: &[&'static rustls::SupportedProtocolVersion],
) -> ClientConfig {
    let verifier: Arc<dyn ServerCertVerifier> =
        Arc::new(NoCertificateVerification::new(provider()));
    must(ClientConfig::builder_with_provider(provider()).with_protocol_versions(versions))
        .dangerous()
        .with_custom_certificate_verifier(verifier)
        .with_no_client_auth()
}

fn with_identity(
    builder: rustls::ConfigBuilder<ClientConfig, rustls::client::WantsClientCert>,
    identity: Option<&Leaf>,
) -> ClientConfig {
    use rustls_pki_types::pem::PemObject;
    match identity {
        Some(leaf) => {
            let key = must(rustls_pki_types::PrivateKeyDer::from_pem_slice(
                leaf.key_pem.as_bytes(),
            ));
            must(builder.with_client_auth_cert(vec![leaf.der.clone()], key))
        }
        None => builder.with_no_client_auth(),
    }
}

/// Runs a full handshake over in-memory buffers. The error says which side
/// failed first.
pub(super) fn handshake(
    client: Arc<ClientConfig>,
    server: Arc<ServerConfig>,
    server_name: &str,
) -> Result<(ClientConnection, ServerConnection), String> {
    let name = must(ServerName::try_from(server_name.to_owned()));
    let mut client = must(ClientConnection::new(client, name));
    let mut server = must(ServerConnection::new(server));
    // A TLS handshake takes a few flights; more rounds than that means a
    // stall, which must fail the test rather than hang it.
    for _ in 0..16 {
        let sent = transfer(&mut client, &mut server).map_err(|e| format!("server: {e}"))?;
        let answered = transfer(&mut server, &mut client).map_err(|e| format!("client: {e}"))?;
        if !sent && !answered && !client.is_handshaking() && !server.is_handshaking() {
            return Ok((client, server));
        }
    }
    Err("handshake did not finish".to_owned())
}

/// Moves everything `from` wants to send into `to` and lets `to` process
/// it; true when anything moved.
fn transfer<A, B>(
    from: &mut ConnectionCommon<A>,
    to: &mut ConnectionCommon<B>,
) -> Result<bool, rustls::Error> {
    let mut buffer = Vec::new();
    while from.wants_write() {
        must(from.write_tls(&mut buffer));
    }
    if buffer.is_empty() {
        return Ok(false);
    }
    let mut reader = &buffer[..];
    while !reader.is_empty() {
        must(to.read_tls(&mut reader));
        to.process_new_packets()?;
    }
    Ok(true)
}
