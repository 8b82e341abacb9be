//! One connection's authentication state: which requests may pass before
//! the client has logged in, and the gateway's answers to SaslHandshake and
//! SaslAuthenticate when it terminates SASL itself.

use std::time::Instant;

use bytes::Bytes;
use cp_sync::config::Mediation;
use cp_sync::oauth::{bearer_token, claimed_subject};
use sluice_wire::api_key::{API_VERSIONS, SASL_AUTHENTICATE, SASL_HANDSHAKE};
use sluice_wire::header::RequestHeader;
use sluice_wire::sasl::{self, authenticate_bytes, handshake_mechanism};
use sluice_wire::sasl_answer::{handshake_answer, UNSUPPORTED_SASL_MECHANISM};
use tracing::warn;

use super::terminate::{self, Checked};
use super::{AuthError, ClientAuth, Principal, Session};
use crate::metrics::Meter;

/// The largest request taken before a login, like Kafka's
/// `sasl.server.max.receive.size`: a client that has not logged in cannot
/// make the gateway hold more.
pub const MAX_LOGIN_REQUEST: usize = 512 * 1024;

/// What to do with one request.
pub enum Gate {
    /// On to the policies and the broker.
    Forward,
    /// The gateway answers it and the connection carries on.
    Answer(Bytes),
    /// The gateway answers it (a failed login), then closes the
    /// connection once the answer is delivered.
    Refuse(Bytes),
}

enum State {
    /// Nothing but ApiVersions so far.
    Start,
    /// SaslHandshake accepted this mechanism; SaslAuthenticate comes next.
    Handshaken(&'static str),
    /// SCRAM's first round done; the client's proof comes next.
    Scram(Box<terminate::ScramPending>),
    Authenticated,
}

pub struct ConnAuth<'a> {
    auth: &'a ClientAuth,
    session: &'a Session,
    meter: &'a Meter,
    state: State,
    /// While logging in again (KIP-368): who the client was.
    reauth_of: Option<Principal>,
}

impl<'a> ConnAuth<'a> {
    pub fn new(auth: &'a ClientAuth, session: &'a Session, meter: &'a Meter) -> Self {
        // A client that logged in before the pumps started carries on
        // logged in.
        let state = match session.principal() {
            Some(_) => State::Authenticated,
            None => State::Start,
        };
        ConnAuth {
            auth,
            session,
            meter,
            state,
            reauth_of: None,
        }
    }

    /// What to do with one request, arriving at `now` (the shard's time).
    pub fn check(
        &mut self,
        header: &RequestHeader,
        body: &[u8],
        now: Instant,
    ) -> Result<Gate, AuthError> {
        if self.auth.is_open() {
            return Ok(Gate::Forward);
        }
        if self.auth.mediation == Some(Mediation::Passthrough) {
            return self.passthrough(header, body);
        }
        let key = header.api_key;
        if !matches!(self.state, State::Authenticated) && body.len() > MAX_LOGIN_REQUEST {
            return Err(AuthError::SaslState(format!(
                "a request of {} bytes before the login (at most {MAX_LOGIN_REQUEST})",
                body.len()
            )));
        }
        match (&self.state, key) {
            (State::Authenticated, SASL_HANDSHAKE) if self.may_log_in_again() => {
                self.reauth_of = self.session.principal();
                self.handshake(header, body)
            }
            (State::Authenticated, SASL_HANDSHAKE | SASL_AUTHENTICATE) => Err(AuthError::SaslState(
                "a SASL request after the login (this virtual cluster sets no session_lifetime_ms)"
                    .into(),
            )),
            (State::Authenticated, _) if self.session.over(now) => {
                Err(AuthError::SessionExpired)
            }
            (State::Authenticated, _) | (_, API_VERSIONS) => Ok(Gate::Forward),
            (State::Start, SASL_HANDSHAKE) => self.handshake(header, body),
            (State::Start, _) if key != SASL_AUTHENTICATE && self.auth.anonymous => {
                self.session.set_principal(Principal {
                    name: "ANONYMOUS".into(),
                    mechanism: "ANONYMOUS",
                    verified_by_gateway: false,
                    scope: None,
                });
                self.state = State::Authenticated;
                Ok(Gate::Forward)
            }
            (State::Handshaken(_) | State::Scram(_), SASL_AUTHENTICATE) => {
                self.authenticate(header, body)
            }
            (State::Start, SASL_AUTHENTICATE) => Err(AuthError::SaslState(
                "SaslAuthenticate before SaslHandshake".into(),
            )),
            _ => Err(AuthError::NotAuthenticated { api_key: key }),
        }
    }

    fn handshake(&mut self, header: &RequestHeader, body: &[u8]) -> Result<Gate, AuthError> {
        if header.api_version == 0 {
            return Err(AuthError::SaslState(
                "SaslHandshake v0 (SASL bytes without SaslAuthenticate) is not supported".into(),
            ));
        }
        let asked = handshake_mechanism(body, header.api_version).map_err(AuthError::Frame)?;
        let (version, id) = (header.api_version, header.correlation_id);
        let offered = &self.auth.mechanisms;
        let encode = |code| handshake_answer(version, id, code, offered);
        // KIP-368: a client logs in again with the mechanism it used.
        let same = |m: &&'static str| (self.reauth_of.as_ref()).is_none_or(|p| p.mechanism == *m);
        match self.auth.offers(asked).filter(same) {
            Some(mechanism) => {
                self.state = State::Handshaken(mechanism);
                Ok(Gate::Answer(encode(0).map_err(AuthError::Frame)?))
            }
            None => {
                warn!(mechanism = %asked.escape_debug(), offered = ?offered,
                    "client asked for a SASL mechanism this virtual cluster does not offer");
                self.meter.authentication(None, false);
                let answer = encode(UNSUPPORTED_SASL_MECHANISM).map_err(AuthError::Frame)?;
                Ok(Gate::Refuse(answer))
            }
        }
    }

    /// KIP-368: a terminated login whose session ends may be renewed.
    fn may_log_in_again(&self) -> bool {
        self.session.has_end()
    }

    fn authenticate(&mut self, header: &RequestHeader, body: &[u8]) -> Result<Gate, AuthError> {
        let bytes = authenticate_bytes(body, header.api_version).map_err(AuthError::Frame)?;
        let state = std::mem::replace(&mut self.state, State::Start);
        let checked = match state {
            State::Handshaken(mechanism) => terminate::first(self.auth, mechanism, bytes),
            State::Scram(pending) => terminate::scram_final(&pending, bytes),
            _ => return Err(AuthError::SaslState("SaslAuthenticate out of turn".into())),
        };
        let answer = |a: &sluice_wire::sasl_answer::AuthenticateAnswer<'_>| {
            sluice_wire::sasl_answer::authenticate_answer(
                header.api_version,
                header.correlation_id,
                a,
            )
            .map_err(AuthError::Frame)
        };
        match checked {
            Checked::Continue(pending, message) => {
                let frame = answer(&terminate::carry_on(&message, None))?;
                self.state = State::Scram(pending);
                Ok(Gate::Answer(frame))
            }
            Checked::LoggedIn(principal, message, token_left) => {
                if let Some(before) = self.reauth_of.take().filter(|b| b.name != principal.name) {
                    warn!(before = %before.name.escape_debug(), after = %principal.name.escape_debug(),
                        "client logged in again as another principal");
                    self.meter.authentication(Some(principal.mechanism), false);
                    let refusal = terminate::failed_answer(principal.mechanism);
                    return Ok(Gate::Refuse(answer(&refusal)?));
                }
                // A token's login lasts no longer than the token.
                let configured = self.auth.lifetime(principal.mechanism);
                let lifetime = match (configured, token_left) {
                    (Some(a), Some(b)) => Some(a.min(b)),
                    (a, b) => a.or(b),
                };
                // The exact time, not the shard's coarse one: the client
                // counts its lifetime from this answer, and a session that
                // ended up to a second early would cut a client that logs
                // in again on time. Logins are rare enough to pay for it.
                let started = Instant::now();
                self.session.lasts_until(lifetime.map(|l| started + l));
                self.meter.authentication(Some(principal.mechanism), true);
                self.session.set_principal(principal);
                self.state = State::Authenticated;
                let reply = terminate::carry_on(&message, lifetime);
                Ok(Gate::Answer(answer(&reply)?))
            }
            Checked::Failed {
                mechanism,
                user,
                why,
            } => {
                warn!(mechanism, user = %user.escape_debug(), reason = why, "client authentication failed");
                self.meter.authentication(Some(mechanism), false);
                Ok(Gate::Refuse(answer(&terminate::failed_answer(mechanism))?))
            }
        }
    }

    /// The broker checks the login; the gateway refuses mechanisms the
    /// virtual cluster does not offer, and learns who claims to be logging
    /// in, for policies and logs.
    fn passthrough(&mut self, header: &RequestHeader, body: &[u8]) -> Result<Gate, AuthError> {
        match header.api_key {
            SASL_HANDSHAKE if header.api_version > 0 => {
                self.handshake(header, body).map(|gate| match gate {
                    Gate::Answer(_) => Gate::Forward,
                    refused => refused,
                })
            }
            SASL_AUTHENTICATE => {
                if let State::Handshaken(mechanism) = self.state {
                    self.note_claimed(mechanism, header, body);
                }
                Ok(Gate::Forward)
            }
            _ => Ok(Gate::Forward),
        }
    }

    fn note_claimed(&mut self, mechanism: &'static str, header: &RequestHeader, body: &[u8]) {
        self.state = State::Authenticated;
        let Ok(bytes) = authenticate_bytes(body, header.api_version) else {
            return;
        };
        let name = match mechanism {
            "PLAIN" => sasl::parse_plain(bytes).ok().map(|m| m.username.to_owned()),
            "OAUTHBEARER" => bearer_token(bytes).and_then(claimed_subject),
            _ => sasl::scram_username(bytes).ok(),
        };
        if let Some(name) = name {
            self.session.set_principal(Principal {
                name,
                mechanism,
                verified_by_gateway: false,
                scope: None,
            });
        }
    }
}
