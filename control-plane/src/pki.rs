//! The control plane's own certificate authority: it signs the server
//! certificate the control plane presents and the client certificates that
//! identify data-plane nodes (common name = node id).

use std::fmt;
use std::io;
use std::path::Path;

use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair,
    KeyUsagePurpose, SerialNumber, PKCS_ECDSA_P256_SHA256,
};
use time::{Duration, OffsetDateTime};

use crate::datadir::{write_private, write_public, DataDir};
use crate::secret::random_bytes;

const CA_COMMON_NAME: &str = "sluice control plane CA";
const CA_VALIDITY_DAYS: i64 = 3650;
/// Server certificates are re-issued at every start, so a year is plenty.
const SERVER_VALIDITY_DAYS: i64 = 365;
/// Node certificates live until re-issued; there is no revocation list, so
/// they should not live forever.
pub const DEFAULT_NODE_VALIDITY_DAYS: u32 = 365;
/// Ten years, and far from the dates a certificate can hold.
pub const MAX_NODE_VALIDITY_DAYS: u32 = 3650;

#[derive(Debug, thiserror::Error)]
pub enum PkiError {
    #[error("{path}: {source}")]
    Io { path: String, source: io::Error },
    #[error("{0}")]
    Invalid(String),
    #[error("certificate generation failed: {0}")]
    Generate(#[from] rcgen::Error),
    #[error("no random bytes available: {0}")]
    Random(#[from] rustls::Error),
}

fn io_error(path: &Path) -> impl FnOnce(io::Error) -> PkiError + '_ {
    move |source| PkiError::Io {
        path: path.display().to_string(),
        source,
    }
}

/// A certificate and its private key, PEM encoded. `Debug` omits the key.
#[derive(Clone)]
pub struct IssuedCert {
    pub cert_pem: String,
    pub key_pem: String,
}

impl fmt::Debug for IssuedCert {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("IssuedCert")
            .field("cert_pem", &self.cert_pem)
            .field("key_pem", &"<redacted>")
            .finish()
    }
}

/// The CA, loaded from (or created in) the data directory.
pub struct Ca {
    issuer: Issuer<'static, KeyPair>,
    cert_pem: String,
}

impl fmt::Debug for Ca {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Ca").finish_non_exhaustive()
    }
}

impl Ca {
    /// Loads the CA, creating it on first start. A directory holding only
    /// one of the two files is an error: silently replacing a CA would cut
    /// off every node.
    pub fn load_or_create(dir: &DataDir) -> Result<Ca, PkiError> {
        let (cert, key) = (dir.ca_cert(), dir.ca_key());
        match (cert.exists(), key.exists()) {
            (true, true) => Ca::load(dir),
            (false, false) => Ca::create(dir),
            _ => Err(PkiError::Invalid(format!(
                "{} and {} must both exist or both be absent; restore the missing one from a backup",
                cert.display(),
                key.display()
            ))),
        }
    }

    /// Loads an existing CA.
    pub fn load(dir: &DataDir) -> Result<Ca, PkiError> {
        let (cert, key) = (dir.ca_cert(), dir.ca_key());
        let cert_pem = std::fs::read_to_string(&cert).map_err(io_error(&cert))?;
        let key_pem = std::fs::read_to_string(&key).map_err(io_error(&key))?;
        let key_pair = KeyPair::from_pem(&key_pem)
            .map_err(|e| PkiError::Invalid(format!("{}: {e}", key.display())))?;
        let issuer = Issuer::from_ca_cert_pem(&cert_pem, key_pair)
            .map_err(|e| PkiError::Invalid(format!("{}: {e}", cert.display())))?;
        Ok(Ca { issuer, cert_pem })
    }

    fn create(dir: &DataDir) -> Result<Ca, PkiError> {
        let key_pair = KeyPair::generate_for(&PKCS_ECDSA_P256_SHA256)?;
        let mut params = CertificateParams::new(Vec::<String>::new())?;
        params
            .distinguished_name
            .push(DnType::CommonName, CA_COMMON_NAME);
        params.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
        params.key_usages = vec![
            KeyUsagePurpose::KeyCertSign,
            KeyUsagePurpose::CrlSign,
            KeyUsagePurpose::DigitalSignature,
        ];
        set_validity(&mut params, CA_VALIDITY_DAYS)?;
        let cert = params.self_signed(&key_pair)?;
        // Key first: a crash between the two leaves a state load_or_create
        // reports instead of a certificate whose key is lost.
        let key_path = dir.ca_key();
        write_private(&key_path, key_pair.serialize_pem().as_bytes())
            .map_err(io_error(&key_path))?;
        let cert_path = dir.ca_cert();
        write_public(&cert_path, cert.pem().as_bytes()).map_err(io_error(&cert_path))?;
        Ok(Ca {
            issuer: Issuer::new(params, key_pair),
            cert_pem: cert.pem(),
        })
    }

    pub fn cert_pem(&self) -> &str {
        &self.cert_pem
    }

    /// A TLS server certificate for `names` (DNS names or IP addresses).
    pub fn server_cert(&self, names: &[String]) -> Result<IssuedCert, PkiError> {
        if names.is_empty() {
            return Err(PkiError::Invalid(
                "the server certificate needs at least one host name or IP address".into(),
            ));
        }
        let mut params = CertificateParams::new(names.to_vec())
            .map_err(|e| PkiError::Invalid(format!("invalid --hostname: {e}")))?;
        params
            .distinguished_name
            .push(DnType::CommonName, names[0].as_str());
        params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
        params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
        set_validity(&mut params, SERVER_VALIDITY_DAYS)?;
        self.sign(params)
    }

    /// A client certificate naming a data-plane node.
    pub fn node_cert(&self, node_id: &str, days: u32) -> Result<IssuedCert, PkiError> {
        check_node_id(node_id).map_err(PkiError::Invalid)?;
        if !(1..=MAX_NODE_VALIDITY_DAYS).contains(&days) {
            return Err(PkiError::Invalid(format!(
                "validity must be 1 to {MAX_NODE_VALIDITY_DAYS} days, not {days}"
            )));
        }
        let mut params = CertificateParams::new(Vec::<String>::new())?;
        params.distinguished_name.push(DnType::CommonName, node_id);
        params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ClientAuth];
        params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
        set_validity(&mut params, i64::from(days))?;
        self.sign(params)
    }

    fn sign(&self, params: CertificateParams) -> Result<IssuedCert, PkiError> {
        let key_pair = KeyPair::generate_for(&PKCS_ECDSA_P256_SHA256)?;
        let cert = params.signed_by(&key_pair, &self.issuer)?;
        Ok(IssuedCert {
            cert_pem: cert.pem(),
            key_pem: key_pair.serialize_pem(),
        })
    }
}

/// Validity from an hour ago (clock skew between hosts) for `days` days,
/// with a random serial number.
fn set_validity(params: &mut CertificateParams, days: i64) -> Result<(), PkiError> {
    let now = OffsetDateTime::now_utc();
    params.not_before = now - Duration::hours(1);
    params.not_after = now + Duration::days(days);
    let mut serial = random_bytes(16)?;
    // Positive and without a leading zero byte, as RFC 5280 asks.
    serial[0] = (serial[0] & 0x7f) | 0x40;
    params.serial_number = Some(SerialNumber::from_slice(&serial));
    Ok(())
}

/// Node ids become certificate common names, database keys and log fields:
/// keep them short and plain.
pub fn check_node_id(node_id: &str) -> Result<(), String> {
    let plain = |c: char| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-');
    if node_id.is_empty() || node_id.len() > 64 {
        return Err(format!(
            "node id {node_id:?} must be 1 to 64 characters long"
        ));
    }
    if !node_id.chars().all(plain) || !node_id.starts_with(|c: char| c.is_ascii_alphanumeric()) {
        return Err(format!(
            "node id {node_id:?} may contain only letters, digits, '.', '_' and '-', and must start with a letter or digit"
        ));
    }
    Ok(())
}

/// Writes `node.pem`, `node.key` (0600) and `ca.pem` into `out_dir`.
pub fn write_node_files(out_dir: &Path, node: &IssuedCert, ca_pem: &str) -> Result<(), PkiError> {
    std::fs::create_dir_all(out_dir).map_err(io_error(out_dir))?;
    let key = out_dir.join("node.key");
    write_private(&key, node.key_pem.as_bytes()).map_err(io_error(&key))?;
    let cert = out_dir.join("node.pem");
    write_public(&cert, node.cert_pem.as_bytes()).map_err(io_error(&cert))?;
    let ca = out_dir.join("ca.pem");
    write_public(&ca, ca_pem.as_bytes()).map_err(io_error(&ca))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ca_is_created_once_and_reloaded() {
        let temp = tempfile::tempdir().unwrap();
        let dir = DataDir::create(temp.path()).unwrap();
        let first = Ca::load_or_create(&dir).unwrap();
        let again = Ca::load_or_create(&dir).unwrap();
        assert_eq!(first.cert_pem(), again.cert_pem());
        let node = again.node_cert("node-1", 30).unwrap();
        let (_, pem) = x509_parser::pem::parse_x509_pem(node.cert_pem.as_bytes()).unwrap();
        let cert = pem.parse_x509().unwrap();
        let cn = cert.subject().iter_common_name().next().unwrap();
        assert_eq!(cn.as_str().unwrap(), "node-1");
        assert_eq!(cert.issuer().to_string(), format!("CN={CA_COMMON_NAME}"));
        assert!(!format!("{node:?}").contains("PRIVATE KEY"));
    }

    #[test]
    fn half_a_ca_is_refused() {
        let temp = tempfile::tempdir().unwrap();
        let dir = DataDir::create(temp.path()).unwrap();
        Ca::load_or_create(&dir).unwrap();
        std::fs::remove_file(dir.ca_key()).unwrap();
        let error = Ca::load_or_create(&dir).unwrap_err().to_string();
        assert!(error.contains("must both exist"), "{error}");
    }

    #[test]
    fn node_validity_is_bounded() {
        let temp = tempfile::tempdir().unwrap();
        let ca = Ca::load_or_create(&DataDir::create(temp.path()).unwrap()).unwrap();
        assert!(ca.node_cert("node-1", MAX_NODE_VALIDITY_DAYS).is_ok());
        for days in [0, MAX_NODE_VALIDITY_DAYS + 1, 4_000_000, u32::MAX] {
            let error = ca.node_cert("node-1", days).unwrap_err().to_string();
            assert!(error.contains("validity must be 1 to 3650 days"), "{error}");
        }
    }

    #[test]
    fn node_ids_are_checked() {
        assert!(check_node_id("edge-1.eu_west").is_ok());
        assert!(check_node_id("").is_err());
        assert!(check_node_id("-x").is_err());
        assert!(check_node_id("a/b").is_err());
        assert!(check_node_id(&"x".repeat(65)).is_err());
    }
}
