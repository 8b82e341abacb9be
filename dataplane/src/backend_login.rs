//! The gateway's own SASL login to a backend broker, as a sequence of
//! frames to send and responses to check, so that discovery (blocking
//! sockets) and terminated client connections (the shard's async sockets)
//! run the same conversation: SaslHandshake v1, then one SaslAuthenticate
//! round trip for PLAIN, two for SCRAM.

use bytes::Bytes;
use cp_sync::credentials::BackendLogin;
use cp_sync::scram::{ClientFinal, ClientFirst, SaltedCache};
use sluice_wire::sasl;

#[derive(Debug, thiserror::Error)]
pub enum LoginError {
    #[error("the broker does not offer {mechanism} (error code {code})")]
    Mechanism { mechanism: &'static str, code: i16 },
    #[error("{mechanism} login refused (error code {code}): {message}")]
    Refused {
        mechanism: &'static str,
        code: i16,
        message: String,
    },
    #[error("{mechanism} login: {reason}")]
    Broken {
        mechanism: &'static str,
        reason: String,
    },
    #[error("{0}")]
    Wire(#[from] sluice_wire::WireError),
}

/// Where a login stands.
enum Step {
    Handshake,
    /// PLAIN sent, or SCRAM's proof sent: one answer left.
    Last(Option<ClientFinal>),
    /// SCRAM's first message sent.
    ScramFirst(ClientFirst),
    Done,
}

/// One login in progress.
pub struct LoginExchange<'a> {
    login: &'a BackendLogin,
    step: Step,
    correlation_id: i32,
    /// SCRAM's salted password, kept between logins by the caller.
    salted: &'a mut SaltedCache,
}

impl<'a> LoginExchange<'a> {
    pub fn new(login: &'a BackendLogin, salted: &'a mut SaltedCache) -> Self {
        LoginExchange {
            login,
            step: Step::Handshake,
            correlation_id: 0,
            salted,
        }
    }

    fn mechanism(&self) -> &'static str {
        match self.login {
            BackendLogin::Plain { .. } => "PLAIN",
            BackendLogin::Scram { algorithm, .. } => algorithm.mechanism(),
        }
    }

    fn next_id(&mut self) -> i32 {
        self.correlation_id += 1;
        self.correlation_id
    }

    /// The first frame to send.
    pub fn start(&mut self) -> Bytes {
        let id = self.next_id();
        sasl::encode_handshake_request(id, self.mechanism())
    }

    /// Takes the broker's response to the last frame sent (body, header
    /// included); returns the next frame, or `None` once logged in.
    pub fn answer(&mut self, body: &[u8]) -> Result<Option<Bytes>, LoginError> {
        let mechanism = self.mechanism();
        match std::mem::replace(&mut self.step, Step::Done) {
            Step::Handshake => {
                let code = sasl::handshake_response_error(body)?;
                if code != 0 {
                    return Err(LoginError::Mechanism { mechanism, code });
                }
                self.first_authenticate().map(Some)
            }
            Step::ScramFirst(first) => {
                let response = self.checked(body)?;
                let BackendLogin::Scram { password, .. } = self.login else {
                    return Err(broken(mechanism, "SCRAM state without a SCRAM login"));
                };
                let answer =
                    first.answer_cached(response.auth_bytes, password.expose(), self.salted);
                let (message, last) = answer.map_err(|e| broken(mechanism, &e.to_string()))?;
                self.step = Step::Last(Some(last));
                let id = self.next_id();
                Ok(Some(sasl::encode_authenticate_request(id, &message)))
            }
            Step::Last(last) => {
                let response = self.checked(body)?;
                if let Some(last) = last {
                    (last.check(response.auth_bytes))
                        .map_err(|e| broken(mechanism, &format!("broker's proof: {e}")))?;
                }
                Ok(None)
            }
            Step::Done => Err(broken(mechanism, "a response after the login finished")),
        }
    }

    fn first_authenticate(&mut self) -> Result<Bytes, LoginError> {
        let message = match self.login {
            BackendLogin::Plain { username, password } => {
                self.step = Step::Last(None);
                plain_message(username, password.expose())
            }
            BackendLogin::Scram {
                algorithm,
                username,
                ..
            } => {
                let nonce = cp_sync::scram::new_nonce()
                    .ok_or_else(|| broken(algorithm.mechanism(), "no random nonce"))?;
                let first = ClientFirst::new(*algorithm, username, &nonce);
                let message = first.message();
                self.step = Step::ScramFirst(first);
                message
            }
        };
        let id = self.next_id();
        Ok(sasl::encode_authenticate_request(id, &message))
    }

    fn checked<'b>(&self, body: &'b [u8]) -> Result<sasl::AuthenticateResponse<'b>, LoginError> {
        let response = sasl::authenticate_response(body)?;
        if response.error_code != 0 {
            return Err(LoginError::Refused {
                mechanism: self.mechanism(),
                code: response.error_code,
                message: (response.error_message.clone()).unwrap_or_else(|| "no message".into()),
            });
        }
        Ok(response)
    }
}

fn broken(mechanism: &'static str, reason: &str) -> LoginError {
    LoginError::Broken {
        mechanism,
        reason: reason.to_owned(),
    }
}

/// RFC 4616: no authorization identity, user, password.
fn plain_message(username: &str, password: &str) -> Vec<u8> {
    let mut message = Vec::with_capacity(2 + username.len() + password.len());
    message.push(0);
    message.extend_from_slice(username.as_bytes());
    message.push(0);
    message.extend_from_slice(password.as_bytes());
    message
}
