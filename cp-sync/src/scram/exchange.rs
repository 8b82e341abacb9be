//! The server side of a SCRAM exchange (RFC 5802), against a stored
//! verifier: read the client-first message, answer with the salt,
//! iterations and a nonce, then check the client's proof and sign the
//! result. Every input is the client's: nothing here panics on it, and a
//! failure says what was wrong without repeating a proof or a key.

use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine;
use ring::{digest, hmac};

use sluice_wire::sasl::unescape_scram_name;

use super::ScramVerifier;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ScramAuthError {
    #[error("malformed SCRAM message: {0}")]
    Malformed(&'static str),
    #[error("SCRAM channel binding is not supported")]
    ChannelBinding,
    #[error("the client's nonce changed during the exchange")]
    NonceMismatch,
    #[error("authentication failed: invalid credentials")]
    InvalidProof,
}

/// What the server keeps between its first message and the client's last.
#[derive(Debug)]
pub struct ServerFirst {
    pub username: String,
    verifier: Option<ScramVerifier>,
    client_first_bare: String,
    server_first: String,
    nonce: String,
}

impl ServerFirst {
    /// The message to send the client.
    pub fn message(&self) -> &[u8] {
        self.server_first.as_bytes()
    }
}

/// Reads the client-first message and prepares the server-first one.
/// `lookup` finds the user's verifier; an unknown user gets a message
/// shaped like any other (salted with `decoy_salt`) and fails only at the
/// proof, so the exchange does not tell who exists.
pub fn server_first(
    client_first: &[u8],
    lookup: impl FnOnce(&str) -> Option<ScramVerifier>,
    server_nonce: &str,
    decoy_salt: &[u8],
) -> Result<ServerFirst, ScramAuthError> {
    let text =
        std::str::from_utf8(client_first).map_err(|_| ScramAuthError::Malformed("not UTF-8"))?;
    let bare = gs2_body(text)?;
    let mut fields = bare.split(',');
    let username = match fields.next().and_then(|f| f.strip_prefix("n=")) {
        Some(name) => {
            unescape_scram_name(name).map_err(|_| ScramAuthError::Malformed("bad user name"))?
        }
        None => return Err(ScramAuthError::Malformed("no user name")),
    };
    let client_nonce = fields
        .next()
        .and_then(|f| f.strip_prefix("r="))
        .filter(|n| !n.is_empty())
        .ok_or(ScramAuthError::Malformed("no client nonce"))?;
    let verifier = lookup(&username);
    let (salt, iterations) = match &verifier {
        Some(v) => (v.salt.as_slice(), v.iterations),
        None => (decoy_salt, super::MIN_ITERATIONS),
    };
    let nonce = format!("{client_nonce}{server_nonce}");
    let server_first = format!("r={nonce},s={},i={iterations}", BASE64.encode(salt));
    Ok(ServerFirst {
        username,
        verifier,
        client_first_bare: bare.to_owned(),
        server_first,
        nonce,
    })
}

/// Checks the client-final message; on success returns the server-final
/// message to send.
pub fn server_final(first: &ServerFirst, client_final: &[u8]) -> Result<Vec<u8>, ScramAuthError> {
    let text =
        std::str::from_utf8(client_final).map_err(|_| ScramAuthError::Malformed("not UTF-8"))?;
    let (without_proof, proof) = text
        .rsplit_once(",p=")
        .ok_or(ScramAuthError::Malformed("no proof"))?;
    let mut fields = without_proof.split(',');
    let binding = fields.next().and_then(|f| f.strip_prefix("c="));
    if !matches!(binding, Some("biws") | Some("eSws")) {
        return Err(ScramAuthError::ChannelBinding);
    }
    let nonce = fields.next().and_then(|f| f.strip_prefix("r="));
    if nonce != Some(first.nonce.as_str()) {
        return Err(ScramAuthError::NonceMismatch);
    }
    let proof = BASE64
        .decode(proof)
        .map_err(|_| ScramAuthError::Malformed("proof is not base64"))?;
    let verifier = first
        .verifier
        .as_ref()
        .ok_or(ScramAuthError::InvalidProof)?;
    let auth_message = format!(
        "{},{},{without_proof}",
        first.client_first_bare, first.server_first
    );
    let hmac_alg = verifier.algorithm.hmac();
    let stored = hmac::Key::new(hmac_alg, &verifier.stored_key);
    let client_signature = hmac::sign(&stored, auth_message.as_bytes());
    if proof.len() != client_signature.as_ref().len() {
        return Err(ScramAuthError::InvalidProof);
    }
    let client_key: Vec<u8> = (proof.iter().zip(client_signature.as_ref()))
        .map(|(p, s)| p ^ s)
        .collect();
    let hashed = digest::digest(verifier.algorithm.digest(), &client_key);
    if !same_bytes(hashed.as_ref(), &verifier.stored_key) {
        return Err(ScramAuthError::InvalidProof);
    }
    let server = hmac::Key::new(hmac_alg, &verifier.server_key);
    let signature = hmac::sign(&server, auth_message.as_bytes());
    Ok(format!("v={}", BASE64.encode(signature.as_ref())).into_bytes())
}

/// The client-first message after its GS2 header (`n,,` or `y,,`; an
/// authorization identity `a=...` is allowed, channel binding `p=` is not).
fn gs2_body(text: &str) -> Result<&str, ScramAuthError> {
    let (flag, rest) = text
        .split_once(',')
        .ok_or(ScramAuthError::Malformed("no GS2 header"))?;
    match flag {
        "n" | "y" => {}
        f if f.starts_with("p=") => return Err(ScramAuthError::ChannelBinding),
        _ => return Err(ScramAuthError::Malformed("bad GS2 flag")),
    }
    let (_authzid, bare) = rest
        .split_once(',')
        .ok_or(ScramAuthError::Malformed("no GS2 header"))?;
    Ok(bare)
}

/// Compares without stopping at the first difference.
pub(super) fn same_bytes(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scram::ScramAlgorithm;

    const CLIENT_FIRST: &str = "n,,n=user,r=rOprNGfwEbeRWgbNEkqO";
    const SERVER_NONCE: &str = "%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0";
    const CLIENT_FINAL: &str = "c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,\
        p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=";

    fn pencil() -> ScramVerifier {
        let salt = BASE64.decode("W22ZaJ0SNY7soEsUEjb6gQ==").unwrap();
        ScramVerifier::derive(ScramAlgorithm::Sha256, "pencil", salt, 4096).unwrap()
    }

    /// RFC 7677, section 3, from the server's side.
    #[test]
    fn the_rfc_7677_exchange_succeeds() {
        let first = server_first(
            CLIENT_FIRST.as_bytes(),
            |_| Some(pencil()),
            SERVER_NONCE,
            b"x",
        )
        .unwrap();
        assert_eq!(first.username, "user");
        assert_eq!(
            first.message(),
            b"r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096"
        );
        let last = server_final(&first, CLIENT_FINAL.as_bytes()).unwrap();
        assert_eq!(last, b"v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=");
    }

    #[test]
    fn a_wrong_password_an_unknown_user_and_a_changed_nonce_fail() {
        let wrong =
            ScramVerifier::derive(ScramAlgorithm::Sha256, "pen", pencil().salt, 4096).unwrap();
        let first =
            server_first(CLIENT_FIRST.as_bytes(), |_| Some(wrong), SERVER_NONCE, b"x").unwrap();
        assert_eq!(
            server_final(&first, CLIENT_FINAL.as_bytes()),
            Err(ScramAuthError::InvalidProof)
        );
        let unknown =
            server_first(CLIENT_FIRST.as_bytes(), |_| None, SERVER_NONCE, b"decoy").unwrap();
        assert!(String::from_utf8_lossy(unknown.message()).contains(",i=4096"));
        assert_eq!(
            server_final(&unknown, CLIENT_FINAL.as_bytes()),
            Err(ScramAuthError::InvalidProof)
        );
        let other =
            server_first(CLIENT_FIRST.as_bytes(), |_| Some(pencil()), "other", b"x").unwrap();
        assert_eq!(
            server_final(&other, CLIENT_FINAL.as_bytes()),
            Err(ScramAuthError::NonceMismatch)
        );
    }

    #[test]
    fn malformed_messages_are_refused_without_panicking() {
        let lookup = |_: &str| Some(pencil());
        for bad in [
            "",
            "n",
            "n,",
            "n,,",
            "n,,r=abc",
            "n,,n=,r=abc",
            "n,,n=a=2,r=x",
            "n,,n=user",
            "n,,n=user,r=",
            "x,,n=user,r=abc",
            "\u{ff}",
        ] {
            assert!(
                server_first(bad.as_bytes(), lookup, "s", b"x").is_err(),
                "{bad:?}"
            );
        }
        let binding = server_first(b"p=tls-unique,,n=user,r=abc", lookup, "s", b"x");
        assert_eq!(binding.unwrap_err(), ScramAuthError::ChannelBinding);
        let first = server_first(CLIENT_FIRST.as_bytes(), lookup, SERVER_NONCE, b"x").unwrap();
        for bad in [
            "",
            "c=biws",
            "c=biws,r=x,p=!!!",
            "c=cD10bHM,r=x,p=AA==",
            "c=biws,p=AA==",
        ] {
            assert!(server_final(&first, bad.as_bytes()).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn escaped_names_are_read() {
        let first = server_first(b"n,,n=a=2Cb=3Dc,r=x", |_| None, "s", b"x").unwrap();
        assert_eq!(first.username, "a,b=c");
    }
}
