//! A blocking rustls client, to see what the gateway's TLS does, trusting
//! and presenting certificates made by the test.

use std::net::TcpStream;
use std::sync::Arc;
use std::time::Duration;

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName};
use rustls::{ClientConfig, ClientConnection, RootCertStore, StreamOwned};

use sluice_test_support::certs::Issued;

use super::raw::RawConn;

fn provider() -> Arc<rustls::crypto::CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

/// A client trusting `ca_pem`, optionally presenting `identity`.
pub fn client_config(ca_pem: &str, identity: Option<&Issued>) -> Arc<ClientConfig> {
    let mut roots = RootCertStore::empty();
    for cert in CertificateDer::pem_slice_iter(ca_pem.as_bytes()) {
        roots.add(cert.unwrap()).unwrap();
    }
    let builder = ClientConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots);
    let config = match identity {
        None => builder.with_no_client_auth(),
        Some(id) => {
            let chain = vec![CertificateDer::from_pem_slice(id.cert_pem.as_bytes()).unwrap()];
            let key = PrivateKeyDer::from_pem_slice(id.key_pem.as_bytes()).unwrap();
            builder.with_client_auth_cert(chain, key).unwrap()
        }
    };
    Arc::new(config)
}

pub type TlsConn = RawConn<StreamOwned<ClientConnection, TcpStream>>;

/// Connects to `addr` asking for `server_name` and completes the handshake.
pub fn connect(
    addr: &str,
    server_name: &str,
    config: Arc<ClientConfig>,
) -> std::io::Result<TlsConn> {
    let tcp = TcpStream::connect(addr)?;
    tcp.set_read_timeout(Some(Duration::from_secs(30)))?;
    let name = ServerName::try_from(server_name.to_string()).unwrap();
    let session = ClientConnection::new(config, name).unwrap();
    let mut stream = StreamOwned::new(session, tcp);
    while stream.conn.is_handshaking() {
        stream.conn.complete_io(&mut stream.sock)?;
    }
    Ok(RawConn::over(stream))
}

/// The DER of the certificate the gateway presented.
pub fn peer_leaf(conn: &TlsConn) -> Vec<u8> {
    let chain = conn
        .stream
        .conn
        .peer_certificates()
        .expect("server certificates");
    chain.first().expect("a leaf").as_ref().to_vec()
}
