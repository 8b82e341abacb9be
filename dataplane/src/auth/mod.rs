//! Client authentication on a virtual cluster: which SASL mechanisms it
//! offers, who checks them (the broker, or the gateway against its own
//! principals), and who is on each connection once they have logged in.

mod gate;
mod terminate;

use std::cell::{Cell, RefCell};
use std::sync::Arc;
use std::time::{Duration, Instant};

use cp_sync::config::{Mediation, VirtualAuthentication};
use cp_sync::credentials::ClientLogins;

pub use gate::{ConnAuth, Gate, MAX_LOGIN_REQUEST};

/// Why a connection's login ends it.
#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    /// A request other than ApiVersions and SASL before the login.
    #[error("api key {api_key} before the client authenticated")]
    NotAuthenticated { api_key: i16 },
    /// SASL requests out of order, or in a form sluice does not take.
    #[error("{0}")]
    SaslState(String),
    /// A SASL request or answer that cannot be read or written.
    #[error("{0}")]
    Frame(sluice_wire::WireError),
    /// A request after the login's session ended (KIP-368).
    #[error("session expired")]
    SessionExpired,
}

/// A virtual cluster's authentication, compiled once per configuration.
#[derive(Debug)]
pub struct ClientAuth {
    /// Clients may skip SASL.
    pub anonymous: bool,
    /// A client certificate's principal logs its client in.
    pub client_certificate: bool,
    /// `None` when only anonymous clients are served.
    pub mediation: Option<Mediation>,
    /// The SASL mechanisms offered, in configured order.
    pub mechanisms: Vec<&'static str>,
    /// The principals a terminating scheme checks.
    pub logins: Arc<ClientLogins>,
    /// KIP-368 session lifetimes, by mechanism.
    lifetimes: Vec<(&'static str, Duration)>,
    /// Salts answers for users that do not exist, so that they look like
    /// the answers for users that do (see `terminate`).
    decoy_key: Vec<u8>,
}

impl ClientAuth {
    pub fn compile(schemes: &[VirtualAuthentication], logins: Option<Arc<ClientLogins>>) -> Self {
        let logins = logins.unwrap_or_default();
        let decoy_key = decoy_key(&logins);
        ClientAuth {
            anonymous: schemes.contains(&VirtualAuthentication::Anonymous),
            client_certificate: schemes.contains(&VirtualAuthentication::ClientCertificate),
            mediation: schemes.iter().find_map(VirtualAuthentication::mediation),
            mechanisms: schemes.iter().filter_map(|s| s.mechanism()).collect(),
            logins,
            lifetimes: (schemes.iter())
                .filter_map(|s| Some((s.mechanism()?, s.session_lifetime_ms()?)))
                .map(|(m, ms)| (m, Duration::from_millis(ms)))
                .collect(),
            decoy_key,
        }
    }

    /// Anonymous only: nothing on the connection is checked.
    pub fn is_open(&self) -> bool {
        self.mechanisms.is_empty() && !self.client_certificate
    }

    /// The gateway checks these clients' logins itself, so a client is
    /// served without an upstream connection until it has logged in.
    pub fn checks_at_gateway(&self) -> bool {
        self.mediation == Some(Mediation::Terminate) || self.client_certificate
    }

    /// Whether the gateway logs in to the backend for these clients: it
    /// does unless the clients' own logins are passed through.
    pub fn gateway_logs_in(&self) -> bool {
        self.mediation != Some(Mediation::Passthrough)
    }

    /// How long a login with `mechanism` lasts, if it does not last for ever.
    pub fn lifetime(&self, mechanism: &str) -> Option<Duration> {
        (self.lifetimes.iter())
            .find(|(m, _)| *m == mechanism)
            .map(|(_, d)| *d)
    }

    fn offers(&self, mechanism: &str) -> Option<&'static str> {
        self.mechanisms.iter().copied().find(|m| *m == mechanism)
    }
}

/// A key only the holder of the verifiers can compute, the same on every
/// shard, at every epoch and on every node with this configuration: an
/// unknown user's decoy salt is then as stable as a real one, and asking
/// twice (or another node) does not give the user away.
fn decoy_key(logins: &ClientLogins) -> Vec<u8> {
    let mut verifiers: Vec<_> = logins.scram.iter().collect();
    verifiers.sort_by_key(|((algorithm, user), _)| (algorithm.mechanism(), user.as_str()));
    let mut context = ring::digest::Context::new(&ring::digest::SHA256);
    context.update(b"sluice scram decoy");
    for ((_, user), verifier) in verifiers {
        context.update(user.as_bytes());
        context.update(&verifier.stored_key);
        context.update(&verifier.server_key);
    }
    context.finish().as_ref().to_vec()
}

/// Who a connection's client is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    pub name: String,
    /// The SASL mechanism, or `ANONYMOUS`.
    pub mechanism: &'static str,
    /// The gateway checked the credential itself; otherwise the broker
    /// did (passthrough), and `name` is what the client claimed.
    pub verified_by_gateway: bool,
    /// A token's scopes (its `claims_mapping.scope` claim), for policies.
    pub scope: Option<String>,
}

/// What a connection knows about its client's identity: written by the
/// request side as logins happen, read by the close log line and, later,
/// by policies.
#[derive(Debug, Default)]
pub struct Session {
    principal: RefCell<Option<Principal>>,
    /// When the login ends, if it has a lifetime (KIP-368).
    ends: Cell<Option<Instant>>,
}

impl Session {
    pub fn principal(&self) -> Option<Principal> {
        self.principal.borrow().clone()
    }

    pub(crate) fn set_principal(&self, principal: Principal) {
        *self.principal.borrow_mut() = Some(principal);
    }

    /// The client logged in (again) for a session that ends at `ends`.
    pub(crate) fn lasts_until(&self, ends: Option<Instant>) {
        self.ends.set(ends);
    }

    pub(crate) fn has_end(&self) -> bool {
        self.ends.get().is_some()
    }

    /// Whether the login has outlived its session at `now`. Like Kafka,
    /// sluice acts on it only when the client next sends a request other
    /// than a new login: a connection left idle is the idle timeout's.
    pub fn over(&self, now: Instant) -> bool {
        self.ends.get().is_some_and(|ends| now >= ends)
    }
}
