//! Authentication in the configuration: how the gateway logs in to a
//! backend cluster, and how clients log in to a virtual cluster.

use serde::{Deserialize, Serialize};

use crate::scram::ScramAlgorithm;
use crate::secret::SecretRef;

/// How the gateway authenticates to a backend cluster: discovery always,
/// and connections of virtual clusters that do not pass SASL through.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum BackendAuthentication {
    #[default]
    Anonymous,
    SaslPlain {
        username: String,
        password: SecretRef,
    },
    SaslScram {
        algorithm: ScramAlgorithm,
        username: String,
        password: SecretRef,
    },
}

impl BackendAuthentication {
    pub fn is_anonymous(&self) -> bool {
        matches!(self, BackendAuthentication::Anonymous)
    }
}

/// Who checks a client's SASL login.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Mediation {
    /// The broker: the client's SaslHandshake and SaslAuthenticate are
    /// relayed, and the gateway only reads the user name.
    Passthrough,
    /// The gateway, against its own principals; the broker sees the
    /// backend cluster's credential.
    Terminate,
}

/// One way clients may authenticate to a virtual cluster.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum VirtualAuthentication {
    Anonymous,
    /// The principal a TLS listener's client authentication maps from the
    /// client's certificate.
    ClientCertificate,
    SaslPlain {
        mediation: Mediation,
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        principals: Vec<PlainPrincipal>,
        /// KIP-368: how long a terminated login lasts before the client
        /// must log in again on the same connection; none: for ever.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        session_lifetime_ms: Option<u64>,
    },
    SaslScram {
        algorithm: ScramAlgorithm,
        mediation: Mediation,
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        principals: Vec<ScramPrincipal>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        session_lifetime_ms: Option<u64>,
    },
    /// SASL/OAUTHBEARER (RFC 7628): a JWT checked against a JWKS.
    OauthBearer(OauthBearer),
}

/// An `oauth_bearer` scheme.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OauthBearer {
    pub mediation: Mediation,
    /// Required with `terminate`; the broker has its own with `passthrough`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub jwks: Option<Jwks>,
    #[serde(default)]
    pub validate: TokenChecks,
    #[serde(default)]
    pub claims_mapping: ClaimsMapping,
    /// At most this, and never past the token's expiry.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub session_lifetime_ms: Option<u64>,
}

/// Where the signing keys are.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Jwks {
    /// An absolute path to a JWKS document (JSON).
    pub endpoint: String,
}

/// What a token must say besides a good signature and being in date.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TokenChecks {
    /// The `iss` claim must be this.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub issuer: Option<String>,
    /// The `aud` claim must name one of these.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub audiences: Vec<String>,
}

/// Which claims name the principal and its scopes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClaimsMapping {
    #[serde(default = "default_sub_claim")]
    pub sub: String,
    #[serde(default = "default_scope_claim")]
    pub scope: String,
}

impl Default for ClaimsMapping {
    fn default() -> Self {
        ClaimsMapping {
            sub: default_sub_claim(),
            scope: default_scope_claim(),
        }
    }
}

fn default_sub_claim() -> String {
    "sub".into()
}

fn default_scope_claim() -> String {
    "scope".into()
}

impl VirtualAuthentication {
    /// The SASL mechanism this scheme answers to; `None` for anonymous.
    pub fn mechanism(&self) -> Option<&'static str> {
        match self {
            VirtualAuthentication::Anonymous | VirtualAuthentication::ClientCertificate => None,
            VirtualAuthentication::SaslPlain { .. } => Some("PLAIN"),
            VirtualAuthentication::SaslScram { algorithm, .. } => Some(algorithm.mechanism()),
            VirtualAuthentication::OauthBearer(_) => Some("OAUTHBEARER"),
        }
    }

    /// KIP-368 session lifetime of a terminating scheme.
    pub fn session_lifetime_ms(&self) -> Option<u64> {
        match self {
            VirtualAuthentication::Anonymous | VirtualAuthentication::ClientCertificate => None,
            VirtualAuthentication::SaslPlain {
                session_lifetime_ms,
                ..
            }
            | VirtualAuthentication::SaslScram {
                session_lifetime_ms,
                ..
            } => *session_lifetime_ms,
            VirtualAuthentication::OauthBearer(o) => o.session_lifetime_ms,
        }
    }

    /// How the scheme is named in messages and duplicate checks.
    pub fn label(&self) -> &'static str {
        match self {
            VirtualAuthentication::Anonymous => "anonymous",
            VirtualAuthentication::ClientCertificate => "client_certificate",
            other => other.mechanism().unwrap_or("sasl"),
        }
    }

    pub fn mediation(&self) -> Option<Mediation> {
        match self {
            VirtualAuthentication::Anonymous | VirtualAuthentication::ClientCertificate => None,
            VirtualAuthentication::SaslPlain { mediation, .. }
            | VirtualAuthentication::SaslScram { mediation, .. } => Some(*mediation),
            VirtualAuthentication::OauthBearer(o) => Some(o.mediation),
        }
    }
}

/// A user a `sasl_plain` scheme with `mediation: terminate` accepts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PlainPrincipal {
    pub username: String,
    pub password: SecretRef,
}

/// A user a `sasl_scram` scheme with `mediation: terminate` accepts: the
/// salted verifier `sluice scram-verifier` prints, never the password.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScramPrincipal {
    pub username: String,
    /// Printed by `sluice scram-verifier`; must match the scheme's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub algorithm: Option<ScramAlgorithm>,
    /// Base64.
    pub salt: String,
    pub iterations: u32,
    /// Base64; whoever holds both keys can pose as the gateway.
    pub stored_key: SecretRef,
    pub server_key: SecretRef,
}
