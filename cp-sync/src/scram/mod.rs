//! SCRAM (RFC 5802, RFC 7677): verifiers, what a server keeps instead of a
//! password. sluice terminates SCRAM logins against these, so its
//! configuration never holds a SCRAM user's password and a login costs no
//! PBKDF2 on the node: the salted hash was computed once, here.

mod client;
mod exchange;

pub use client::{ClientFinal, ClientFirst, SaltedCache};
use exchange::same_bytes;
pub use exchange::{server_final, server_first, ScramAuthError, ServerFirst};

use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine;
use ring::{digest, hmac, pbkdf2, rand};
use serde::{Deserialize, Serialize};
use std::num::NonZeroU32;

/// Kafka's minimum for SCRAM iterations.
pub const MIN_ITERATIONS: u32 = 4096;
/// RFC 5802 suggests a salt of at least 16 bytes; sluice makes 24.
const SALT_LEN: usize = 24;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ScramAlgorithm {
    Sha256,
    Sha512,
}

impl ScramAlgorithm {
    /// The SASL mechanism name.
    pub fn mechanism(self) -> &'static str {
        match self {
            ScramAlgorithm::Sha256 => "SCRAM-SHA-256",
            ScramAlgorithm::Sha512 => "SCRAM-SHA-512",
        }
    }

    fn pbkdf2(self) -> pbkdf2::Algorithm {
        match self {
            ScramAlgorithm::Sha256 => pbkdf2::PBKDF2_HMAC_SHA256,
            ScramAlgorithm::Sha512 => pbkdf2::PBKDF2_HMAC_SHA512,
        }
    }

    fn hmac(self) -> hmac::Algorithm {
        match self {
            ScramAlgorithm::Sha256 => hmac::HMAC_SHA256,
            ScramAlgorithm::Sha512 => hmac::HMAC_SHA512,
        }
    }

    fn digest(self) -> &'static digest::Algorithm {
        match self {
            ScramAlgorithm::Sha256 => &digest::SHA256,
            ScramAlgorithm::Sha512 => &digest::SHA512,
        }
    }

    fn output_len(self) -> usize {
        self.digest().output_len()
    }

    /// Bytes in a stored key or server key.
    pub fn key_len(self) -> usize {
        self.output_len()
    }
}

/// A fresh random nonce for one SCRAM exchange: base64, so printable and
/// free of commas. `None` if the system random source fails.
pub fn new_nonce() -> Option<String> {
    let mut bytes = [0u8; 18];
    rand::SecureRandom::fill(&rand::SystemRandom::new(), &mut bytes).ok()?;
    Some(BASE64.encode(bytes))
}

/// Standard base64, as verifier fields are written.
pub fn decode_base64(text: &str) -> Option<Vec<u8>> {
    BASE64.decode(text).ok()
}

/// PBKDF2 of `password`: `None` below Kafka's minimum iteration count.
fn salted_password(
    algorithm: ScramAlgorithm,
    password: &str,
    salt: &[u8],
    iterations: u32,
) -> Option<Vec<u8>> {
    let rounds = NonZeroU32::new(iterations).filter(|n| n.get() >= MIN_ITERATIONS)?;
    let mut salted = vec![0u8; algorithm.output_len()];
    pbkdf2::derive(
        algorithm.pbkdf2(),
        rounds,
        salt,
        password.as_bytes(),
        &mut salted,
    );
    Some(salted)
}

/// A user's SCRAM credential as a server stores it.
#[derive(Clone, PartialEq, Eq)]
pub struct ScramVerifier {
    pub algorithm: ScramAlgorithm,
    pub salt: Vec<u8>,
    pub iterations: u32,
    /// H(ClientKey): checks the client's proof.
    pub stored_key: Vec<u8>,
    /// Signs the server's final message, proving the server knew it.
    pub server_key: Vec<u8>,
}

/// The verifier fields hold what a password guess is checked against:
/// never printed by `Debug`.
impl std::fmt::Debug for ScramVerifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ScramVerifier")
            .field("algorithm", &self.algorithm)
            .field("iterations", &self.iterations)
            .finish_non_exhaustive()
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ScramError {
    #[error("the password is empty")]
    EmptyPassword,
    #[error("iterations must be at least {MIN_ITERATIONS}, got {0}")]
    TooFewIterations(u32),
    #[error("the system random source failed")]
    Random,
}

impl ScramVerifier {
    /// A verifier for `password` with a fresh random salt.
    pub fn generate(
        algorithm: ScramAlgorithm,
        password: &str,
        iterations: u32,
    ) -> Result<ScramVerifier, ScramError> {
        let mut salt = vec![0u8; SALT_LEN];
        rand::SecureRandom::fill(&rand::SystemRandom::new(), &mut salt)
            .map_err(|_| ScramError::Random)?;
        ScramVerifier::derive(algorithm, password, salt, iterations)
    }

    /// The verifier for `password` with this `salt`.
    pub fn derive(
        algorithm: ScramAlgorithm,
        password: &str,
        salt: Vec<u8>,
        iterations: u32,
    ) -> Result<ScramVerifier, ScramError> {
        if password.is_empty() {
            return Err(ScramError::EmptyPassword);
        }
        let salted = salted_password(algorithm, password, &salt, iterations)
            .ok_or(ScramError::TooFewIterations(iterations))?;
        Ok(ScramVerifier::from_salted(
            algorithm, &salted, salt, iterations,
        ))
    }

    /// The verifier of a salted password (PBKDF2 already done).
    fn from_salted(
        algorithm: ScramAlgorithm,
        salted: &[u8],
        salt: Vec<u8>,
        iterations: u32,
    ) -> ScramVerifier {
        let key = hmac::Key::new(algorithm.hmac(), salted);
        let client_key = hmac::sign(&key, b"Client Key");
        let server_key = hmac::sign(&key, b"Server Key");
        let stored_key = digest::digest(algorithm.digest(), client_key.as_ref());
        ScramVerifier {
            algorithm,
            salt,
            iterations,
            stored_key: stored_key.as_ref().to_vec(),
            server_key: server_key.as_ref().to_vec(),
        }
    }

    /// The fields as they go in a configuration file (base64).
    pub fn to_yaml(&self) -> String {
        format!(
            "algorithm: {}\nsalt: {}\niterations: {}\nstored_key: {}\nserver_key: {}\n",
            match self.algorithm {
                ScramAlgorithm::Sha256 => "sha256",
                ScramAlgorithm::Sha512 => "sha512",
            },
            BASE64.encode(&self.salt),
            self.iterations,
            BASE64.encode(&self.stored_key),
            BASE64.encode(&self.server_key),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 7677, section 3: user "user", password "pencil".
    #[test]
    fn the_rfc_7677_exchange_checks_out_against_the_verifier() {
        let salt = BASE64.decode("W22ZaJ0SNY7soEsUEjb6gQ==").unwrap();
        let v = ScramVerifier::derive(ScramAlgorithm::Sha256, "pencil", salt, 4096).unwrap();
        let auth_message = "n=user,r=rOprNGfwEbeRWgbNEkqO,\
            r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096,\
            c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0";
        let server_key = hmac::Key::new(hmac::HMAC_SHA256, &v.server_key);
        let signature = hmac::sign(&server_key, auth_message.as_bytes());
        assert_eq!(
            BASE64.encode(signature.as_ref()),
            "6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4="
        );
        // The client's proof, XORed with HMAC(StoredKey, AuthMessage),
        // gives a ClientKey whose hash is the stored key.
        let proof = BASE64
            .decode("dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=")
            .unwrap();
        let stored = hmac::Key::new(hmac::HMAC_SHA256, &v.stored_key);
        let client_signature = hmac::sign(&stored, auth_message.as_bytes());
        let client_key: Vec<u8> = (proof.iter().zip(client_signature.as_ref()))
            .map(|(a, b)| a ^ b)
            .collect();
        assert_eq!(
            digest::digest(&digest::SHA256, &client_key).as_ref(),
            &v.stored_key[..]
        );
    }

    #[test]
    fn generated_verifiers_differ_and_print_as_configuration() {
        let a = ScramVerifier::generate(ScramAlgorithm::Sha512, "secret", 4096).unwrap();
        let b = ScramVerifier::generate(ScramAlgorithm::Sha512, "secret", 4096).unwrap();
        assert_ne!(a.salt, b.salt, "a fresh salt each time");
        assert_eq!(a.stored_key.len(), 64);
        let yaml = a.to_yaml();
        assert!(yaml.starts_with("algorithm: sha512\nsalt: "), "{yaml}");
        assert!(yaml.contains("iterations: 4096\n"), "{yaml}");
        assert!(!format!("{a:?}").contains("stored_key"));
    }

    #[test]
    fn weak_inputs_are_refused() {
        let weak = ScramVerifier::generate(ScramAlgorithm::Sha256, "pw", 1000);
        assert_eq!(weak, Err(ScramError::TooFewIterations(1000)));
        let empty = ScramVerifier::generate(ScramAlgorithm::Sha256, "", 4096);
        assert_eq!(empty, Err(ScramError::EmptyPassword));
    }
}
