//! The gateway checking a client's login itself: PLAIN against configured
//! passwords, SCRAM against stored verifiers. A failure says the same to
//! the client whatever went wrong, so it cannot tell a wrong password from
//! an unknown user; the log line says which.

use std::time::Duration;

use cp_sync::scram::{self, ScramAlgorithm, ServerFirst};
use ring::hmac;
use sluice_wire::sasl;
use sluice_wire::sasl_answer::{
    AuthenticateAnswer, AUTHENTICATION_FAILED_MESSAGE, SASL_AUTHENTICATION_FAILED,
};

use super::{ClientAuth, Principal};

/// A SCRAM login between the server's first message and the client's proof.
pub struct ScramPending {
    mechanism: &'static str,
    first: ServerFirst,
}

/// What one SaslAuthenticate round came to.
pub enum Checked {
    /// SCRAM's first round: send this, wait for the proof.
    Continue(Box<ScramPending>, Vec<u8>),
    /// Logged in; send this (empty for PLAIN, SCRAM's server-final). With
    /// a token, how long it stays valid: the session may last no longer.
    LoggedIn(Principal, Vec<u8>, Option<Duration>),
    Failed {
        mechanism: &'static str,
        user: String,
        why: String,
    },
}

/// The first SaslAuthenticate after a handshake for `mechanism`.
pub fn first(auth: &ClientAuth, mechanism: &'static str, bytes: &[u8]) -> Checked {
    match mechanism {
        "PLAIN" => plain(auth, bytes),
        "SCRAM-SHA-256" => scram_first(auth, ScramAlgorithm::Sha256, bytes),
        "SCRAM-SHA-512" => scram_first(auth, ScramAlgorithm::Sha512, bytes),
        "OAUTHBEARER" => oauth_bearer(auth, bytes),
        _ => failed(mechanism, String::new(), "no such mechanism"),
    }
}

fn failed(mechanism: &'static str, user: String, why: impl Into<String>) -> Checked {
    Checked::Failed {
        mechanism,
        user,
        why: why.into(),
    }
}

fn plain(auth: &ClientAuth, bytes: &[u8]) -> Checked {
    const MECHANISM: &str = "PLAIN";
    let Ok(message) = sasl::parse_plain(bytes) else {
        return failed(MECHANISM, String::new(), "malformed PLAIN message");
    };
    let user = message.username.to_owned();
    if !message.authzid.is_empty() && message.authzid != message.username {
        return failed(
            MECHANISM,
            user,
            "authorization identity differs from the user",
        );
    }
    let Some(expected) = auth.logins.plain.get(&user) else {
        return failed(MECHANISM, user, "unknown user");
    };
    if !same_bytes(expected.expose().as_bytes(), message.password) {
        return failed(MECHANISM, user, "wrong password");
    }
    let principal = Principal {
        name: user,
        mechanism: MECHANISM,
        verified_by_gateway: true,
        scope: None,
    };
    Checked::LoggedIn(principal, Vec::new(), None)
}

fn scram_first(auth: &ClientAuth, algorithm: ScramAlgorithm, bytes: &[u8]) -> Checked {
    let mechanism = algorithm.mechanism();
    let user = sasl::scram_username(bytes).unwrap_or_default();
    let Some(nonce) = scram::new_nonce() else {
        return failed(mechanism, user, "no random nonce");
    };
    let decoy = decoy_salt(auth, &user);
    let lookup = |name: &str| (auth.logins.scram.get(&(algorithm, name.to_owned()))).cloned();
    match scram::server_first(bytes, lookup, &nonce, &decoy) {
        Ok(first) => {
            let message = first.message().to_vec();
            Checked::Continue(Box::new(ScramPending { mechanism, first }), message)
        }
        Err(_) => failed(mechanism, user, "malformed SCRAM client-first message"),
    }
}

/// A bearer token, checked against the virtual cluster's JWKS.
fn oauth_bearer(auth: &ClientAuth, bytes: &[u8]) -> Checked {
    const MECHANISM: &str = "OAUTHBEARER";
    let Some(keys) = &auth.logins.oauth else {
        return failed(MECHANISM, String::new(), "no keys to check tokens with");
    };
    let Some(token) = cp_sync::oauth::bearer_token(bytes) else {
        return failed(MECHANISM, String::new(), "malformed OAUTHBEARER message");
    };
    match keys.check(token) {
        Ok(claims) => {
            let now = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_secs());
            let left = Duration::from_secs(claims.expires_at.saturating_sub(now));
            let principal = Principal {
                name: claims.principal,
                mechanism: MECHANISM,
                verified_by_gateway: true,
                scope: claims.scope,
            };
            Checked::LoggedIn(principal, Vec::new(), Some(left))
        }
        Err(e) => failed(MECHANISM, String::new(), format!("token refused: {e}")),
    }
}

/// The client's proof.
pub fn scram_final(pending: &ScramPending, bytes: &[u8]) -> Checked {
    let user = pending.first.username.clone();
    match scram::server_final(&pending.first, bytes) {
        Ok(message) => Checked::LoggedIn(
            Principal {
                name: user,
                mechanism: pending.mechanism,
                verified_by_gateway: true,
                scope: None,
            },
            message,
            None,
        ),
        Err(scram::ScramAuthError::InvalidProof) => {
            failed(pending.mechanism, user, "wrong password or unknown user")
        }
        Err(_) => failed(
            pending.mechanism,
            user,
            "malformed SCRAM client-final message",
        ),
    }
}

/// A salt for a user who does not exist, the same at every try, so that
/// asking twice does not reveal that it is made up.
fn decoy_salt(auth: &ClientAuth, user: &str) -> Vec<u8> {
    let key = hmac::Key::new(hmac::HMAC_SHA256, &auth.decoy_key);
    let tag = hmac::sign(&key, user.as_bytes());
    tag.as_ref().iter().take(24).copied().collect()
}

/// Compares without stopping at the first difference.
fn same_bytes(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// A successful round's answer carrying `message`; the last one says how
/// long the login lasts.
pub fn carry_on(message: &[u8], lifetime: Option<Duration>) -> AuthenticateAnswer<'_> {
    let ms = lifetime.map_or(0, |l| i64::try_from(l.as_millis()).unwrap_or(i64::MAX));
    AuthenticateAnswer {
        auth_bytes: message,
        session_lifetime_ms: ms,
        ..AuthenticateAnswer::default()
    }
}

/// What every failed login is told; a refused token is told it was the
/// token.
pub fn failed_answer(mechanism: &str) -> AuthenticateAnswer<'static> {
    let message = match mechanism {
        "OAUTHBEARER" => "Authentication failed: the token was refused",
        _ => AUTHENTICATION_FAILED_MESSAGE,
    };
    AuthenticateAnswer {
        error_code: SASL_AUTHENTICATION_FAILED,
        error_message: Some(message),
        ..AuthenticateAnswer::default()
    }
}
