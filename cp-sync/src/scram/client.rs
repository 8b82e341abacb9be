//! The client side of a SCRAM exchange (RFC 5802): how the gateway logs in
//! to a backend cluster with `sasl_scram` credentials. The broker's
//! messages are checked like any other input: its nonce must extend ours,
//! its iteration count is bounded, and its final signature must prove it
//! knew the password's verifier.

use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine;
use ring::hmac;

use super::{same_bytes, ScramAlgorithm, ScramAuthError, ScramVerifier, MIN_ITERATIONS};

/// More rounds than any real broker asks for; a higher count is refused
/// rather than computed.
const MAX_ITERATIONS: u32 = 1_000_000;

/// The PBKDF2 of a password for the salt and iteration count a server
/// last gave: a client that logs in often with the same password (a
/// gateway's upstream connections, a load tool) pays for it once. A new
/// password, salt or count derives afresh.
#[derive(Default, Clone)]
pub struct SaltedCache {
    entry: Option<CachedSalt>,
}

#[derive(Clone)]
struct CachedSalt {
    algorithm: ScramAlgorithm,
    /// SHA-256 of the password: the key, without keeping the password.
    password: Vec<u8>,
    salt: Vec<u8>,
    iterations: u32,
    salted: Vec<u8>,
}

impl SaltedCache {
    fn salted(
        &mut self,
        algorithm: ScramAlgorithm,
        password: &str,
        salt: &[u8],
        iterations: u32,
    ) -> Option<Vec<u8>> {
        let digest = ring::digest::digest(&ring::digest::SHA256, password.as_bytes());
        let key = digest.as_ref();
        if let Some(c) = &self.entry {
            let same = c.algorithm == algorithm && c.password == key && c.salt == salt;
            if same && c.iterations == iterations {
                return Some(c.salted.clone());
            }
        }
        let salted = super::salted_password(algorithm, password, salt, iterations)?;
        self.entry = Some(CachedSalt {
            algorithm,
            password: key.to_vec(),
            salt: salt.to_vec(),
            iterations,
            salted: salted.clone(),
        });
        Some(salted)
    }
}

/// The client between its first message and the broker's answer.
#[derive(Debug)]
pub struct ClientFirst {
    algorithm: ScramAlgorithm,
    bare: String,
    nonce: String,
}

/// The client after sending its proof: what the broker must sign.
#[derive(Debug)]
pub struct ClientFinal {
    expected_signature: Vec<u8>,
}

impl ClientFirst {
    /// Starts an exchange as `username`; `nonce` must be fresh and random.
    pub fn new(algorithm: ScramAlgorithm, username: &str, nonce: &str) -> ClientFirst {
        let name = username.replace('=', "=3D").replace(',', "=2C");
        ClientFirst {
            algorithm,
            bare: format!("n={name},r={nonce}"),
            nonce: nonce.to_owned(),
        }
    }

    /// The client-first message.
    pub fn message(&self) -> Vec<u8> {
        format!("n,,{}", self.bare).into_bytes()
    }

    /// Answers the broker's first message with the proof of `password`.
    pub fn answer(
        &self,
        server_first: &[u8],
        password: &str,
    ) -> Result<(Vec<u8>, ClientFinal), ScramAuthError> {
        self.answer_cached(server_first, password, &mut SaltedCache::default())
    }

    /// Like [`ClientFirst::answer`], deriving the salted password only when
    /// `cache` holds none for this salt and iteration count.
    pub fn answer_cached(
        &self,
        server_first: &[u8],
        password: &str,
        cache: &mut SaltedCache,
    ) -> Result<(Vec<u8>, ClientFinal), ScramAuthError> {
        let text = std::str::from_utf8(server_first)
            .map_err(|_| ScramAuthError::Malformed("not UTF-8"))?;
        let mut fields = text.split(',');
        let nonce = field(fields.next(), "r=")?;
        let salt = field(fields.next(), "s=")?;
        let iterations = field(fields.next(), "i=")?;
        if !nonce.starts_with(&self.nonce) || nonce.len() == self.nonce.len() {
            return Err(ScramAuthError::NonceMismatch);
        }
        let salt = BASE64
            .decode(salt)
            .map_err(|_| ScramAuthError::Malformed("salt is not base64"))?;
        let iterations: u32 = (iterations.parse().ok())
            .filter(|n| (MIN_ITERATIONS..=MAX_ITERATIONS).contains(n))
            .ok_or(ScramAuthError::Malformed("iteration count out of range"))?;
        let salted = (cache.salted(self.algorithm, password, &salt, iterations))
            .ok_or(ScramAuthError::Malformed("iteration count out of range"))?;
        let verifier = ScramVerifier::from_salted(self.algorithm, &salted, salt, iterations);
        let without_proof = format!("c=biws,r={nonce}");
        let auth_message = format!("{},{text},{without_proof}", self.bare);
        let hmac_alg = self.algorithm.hmac();
        let client_key = hmac::sign(&hmac::Key::new(hmac_alg, &salted), b"Client Key");
        let stored = hmac::Key::new(hmac_alg, &verifier.stored_key);
        let signature = hmac::sign(&stored, auth_message.as_bytes());
        let proof: Vec<u8> = (client_key.as_ref().iter().zip(signature.as_ref()))
            .map(|(k, s)| k ^ s)
            .collect();
        let server = hmac::Key::new(hmac_alg, &verifier.server_key);
        let expected = hmac::sign(&server, auth_message.as_bytes());
        let message = format!("{without_proof},p={}", BASE64.encode(proof));
        let last = ClientFinal {
            expected_signature: expected.as_ref().to_vec(),
        };
        Ok((message.into_bytes(), last))
    }
}

impl ClientFinal {
    /// Checks the broker's final message: `v=` with the signature only a
    /// holder of the verifier can make.
    pub fn check(&self, server_final: &[u8]) -> Result<(), ScramAuthError> {
        let text = std::str::from_utf8(server_final)
            .map_err(|_| ScramAuthError::Malformed("not UTF-8"))?;
        if text.starts_with("e=") {
            return Err(ScramAuthError::InvalidProof);
        }
        let signature = field(text.split(',').next(), "v=")?;
        let signature = BASE64
            .decode(signature)
            .map_err(|_| ScramAuthError::Malformed("signature is not base64"))?;
        match same_bytes(&signature, &self.expected_signature) {
            true => Ok(()),
            false => Err(ScramAuthError::Malformed("the server's signature is wrong")),
        }
    }
}

fn field<'a>(part: Option<&'a str>, prefix: &'static str) -> Result<&'a str, ScramAuthError> {
    part.and_then(|p| p.strip_prefix(prefix))
        .filter(|v| !v.is_empty())
        .ok_or(ScramAuthError::Malformed(prefix))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scram::{server_final, server_first};

    /// RFC 7677, section 3, from the client's side.
    #[test]
    fn the_rfc_7677_exchange_succeeds() {
        let client = ClientFirst::new(ScramAlgorithm::Sha256, "user", "rOprNGfwEbeRWgbNEkqO");
        assert_eq!(client.message(), b"n,,n=user,r=rOprNGfwEbeRWgbNEkqO");
        let server = b"r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,\
            s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096";
        let (message, last) = client.answer(server, "pencil").unwrap();
        assert_eq!(
            String::from_utf8(message).unwrap(),
            "c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,\
             p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ="
        );
        assert!(last
            .check(b"v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=")
            .is_ok());
        assert!(last.check(b"v=AAAA").is_err());
        assert!(last.check(b"e=invalid-proof").is_err());
    }

    #[test]
    fn the_client_and_the_server_agree_with_sha512_and_an_escaped_name() {
        let verifier = ScramVerifier::generate(ScramAlgorithm::Sha512, "s3cret", 4096).unwrap();
        let client = ClientFirst::new(ScramAlgorithm::Sha512, "a=b,c", "clientnonce");
        let first =
            server_first(&client.message(), |_| Some(verifier), "servernonce", b"x").unwrap();
        assert_eq!(first.username, "a=b,c");
        let (proof, last) = client.answer(first.message(), "s3cret").unwrap();
        let signed = server_final(&first, &proof).unwrap();
        assert!(last.check(&signed).is_ok());
    }

    #[test]
    fn a_cached_salt_serves_the_same_password_only() {
        let verifier = ScramVerifier::generate(ScramAlgorithm::Sha256, "right", 4096).unwrap();
        let mut cache = SaltedCache::default();
        for (password, accepted) in [("right", true), ("right", true), ("wrong", false)] {
            let client = ClientFirst::new(ScramAlgorithm::Sha256, "u", "n1");
            let v = verifier.clone();
            let first = server_first(&client.message(), |_| Some(v), "s1", b"x").unwrap();
            let (proof, _) = client
                .answer_cached(first.message(), password, &mut cache)
                .unwrap();
            assert_eq!(server_final(&first, &proof).is_ok(), accepted, "{password}");
        }
    }

    #[test]
    fn a_broker_that_drops_our_nonce_or_asks_too_much_is_refused() {
        let client = ClientFirst::new(ScramAlgorithm::Sha256, "user", "mine");
        let refused = [
            &b"r=theirs,s=c2FsdA==,i=4096"[..],
            b"r=mine,s=c2FsdA==,i=4096",
            b"r=mineXY,s=c2FsdA==,i=99999999",
            b"r=mineXY,s=c2FsdA==,i=10",
            b"r=mineXY,s=!!,i=4096",
            b"r=mineXY",
            b"\xff",
        ];
        for server in refused {
            assert!(client.answer(server, "pw").is_err(), "{server:?}");
        }
    }
}
