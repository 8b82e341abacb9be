//! The HTTPS listener's TLS: the server certificate from the control
//! plane's CA, and client certificates that are asked for but not required.
//!
//! Admin calls come without a client certificate; data-plane nodes present
//! one. The handshake only proves the client holds the key of the
//! certificate it sent; whether the control plane's CA signed it is decided
//! after the handshake, per connection, so a node with a wrong certificate
//! gets an HTTP answer that says so instead of an opaque TLS alert.

use std::sync::Arc;

use cp_sync::config::PrincipalSource;
use cp_sync::tls::client_principal;
use rustls::client::danger::HandshakeSignatureValid;
use rustls::server::danger::{ClientCertVerified, ClientCertVerifier};
use rustls::server::WebPkiClientVerifier;
use rustls::{
    DigitallySignedStruct, DistinguishedName, RootCertStore, ServerConfig, SignatureScheme,
};
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer, UnixTime};

use crate::pki::{check_node_id, IssuedCert};

#[derive(Debug, thiserror::Error)]
#[error("TLS setup failed: {0}")]
pub struct TlsSetupError(String);

/// Who is on the other end of a connection, decided once after the
/// handshake and attached to every request on it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PeerIdentity {
    /// No client certificate (admin clients, browsers).
    Anonymous,
    /// A certificate from this control plane's CA; the node id is its CN.
    Node(String),
    /// A certificate that is not acceptable, and why.
    Rejected(String),
}

/// The listener's rustls configuration and the verifier that decides
/// [`PeerIdentity`].
pub struct ServerTls {
    pub config: Arc<ServerConfig>,
    nodes: Arc<dyn ClientCertVerifier>,
}

impl ServerTls {
    pub fn new(ca_pem: &str, server: &IssuedCert) -> Result<ServerTls, TlsSetupError> {
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let ca = CertificateDer::from_pem_slice(ca_pem.as_bytes())
            .map_err(|e| TlsSetupError(format!("CA certificate: {e}")))?;
        let mut roots = RootCertStore::empty();
        roots
            .add(ca)
            .map_err(|e| TlsSetupError(format!("CA certificate: {e}")))?;
        let nodes = WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider.clone())
            .build()
            .map_err(|e| TlsSetupError(format!("client verifier: {e}")))?;
        let chain = CertificateDer::pem_slice_iter(server.cert_pem.as_bytes())
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| TlsSetupError(format!("server certificate: {e}")))?;
        let key = PrivateKeyDer::from_pem_slice(server.key_pem.as_bytes())
            .map_err(|e| TlsSetupError(format!("server key: {e}")))?;
        let deferred = Arc::new(DeferredClientAuth {
            inner: nodes.clone(),
        });
        let config = ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(|e| TlsSetupError(e.to_string()))?
            .with_client_cert_verifier(deferred)
            .with_single_cert(chain, key)
            .map_err(|e| TlsSetupError(format!("server certificate: {e}")))?;
        Ok(ServerTls {
            config: Arc::new(config),
            nodes,
        })
    }

    /// Checks the certificate chain a client presented (if any) against the
    /// CA and names the node.
    pub fn identify(&self, presented: Option<&[CertificateDer<'_>]>) -> PeerIdentity {
        let Some((end_entity, intermediates)) = presented.and_then(|chain| chain.split_first())
        else {
            return PeerIdentity::Anonymous;
        };
        if let Err(e) = self
            .nodes
            .verify_client_cert(end_entity, intermediates, UnixTime::now())
        {
            return PeerIdentity::Rejected(format!(
                "client certificate not accepted: {e}; use a node certificate issued by this control plane (sluice-cp issue-cert or POST /v1/certificates)"
            ));
        }
        match client_principal(end_entity, PrincipalSource::SubjectCn) {
            Some(node_id) => match check_node_id(&node_id) {
                Ok(()) => PeerIdentity::Node(node_id),
                Err(message) => PeerIdentity::Rejected(format!("client certificate: {message}")),
            },
            None => {
                PeerIdentity::Rejected("client certificate has no common name (node id)".into())
            }
        }
    }
}

/// Asks for a client certificate, checks the handshake signatures made with
/// it, and leaves the chain to [`ServerTls::identify`].
#[derive(Debug)]
struct DeferredClientAuth {
    inner: Arc<dyn ClientCertVerifier>,
}

impl ClientCertVerifier for DeferredClientAuth {
    fn offer_client_auth(&self) -> bool {
        true
    }

    fn client_auth_mandatory(&self) -> bool {
        false
    }

    fn root_hint_subjects(&self) -> &[DistinguishedName] {
        self.inner.root_hint_subjects()
    }

    fn verify_client_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _now: UnixTime,
    ) -> Result<ClientCertVerified, rustls::Error> {
        Ok(ClientCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.inner.verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.inner.verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.inner.supported_verify_schemes()
    }
}
