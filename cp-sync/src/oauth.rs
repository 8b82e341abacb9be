//! OAUTHBEARER tokens: a JWT signed by a key of the configured JWKS (RS256,
//! ES256 or EdDSA), in date, from the configured issuer for one of the
//! configured audiences. What a token says is the client's; every check
//! here fails closed, and a failure says which check without repeating the
//! token.

use jsonwebtoken::jwk::JwkSet;
use jsonwebtoken::{decode, decode_header, Algorithm, DecodingKey, Validation};
use serde_json::{Map, Value};

use crate::config::{ClaimsMapping, TokenChecks};

/// Clock skew allowed on `exp` and `nbf`, as Kafka's own validator allows.
const LEEWAY_SECONDS: u64 = 30;

/// What a virtual cluster checks tokens against.
#[derive(Debug, Clone)]
pub struct OauthKeys {
    pub keys: JwkSet,
    pub checks: TokenChecks,
    pub claims: ClaimsMapping,
}

/// A token that passed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenClaims {
    pub principal: String,
    /// Seconds since the Unix epoch.
    pub expires_at: u64,
    pub scope: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TokenError {
    #[error("not a JWT")]
    Malformed,
    #[error("signed with {0}, not RS256, ES256 or EdDSA")]
    Algorithm(String),
    #[error("no key {0:?} in the JWKS")]
    UnknownKey(String),
    #[error("bad signature")]
    Signature,
    #[error("expired")]
    Expired,
    #[error("not valid yet")]
    NotYetValid,
    #[error("wrong issuer")]
    Issuer,
    #[error("wrong audience")]
    Audience,
    #[error("no {0:?} claim naming the principal")]
    NoPrincipal(String),
    #[error("invalid token: {0}")]
    Invalid(String),
}

impl OauthKeys {
    /// Checks `token` now.
    pub fn check(&self, token: &str) -> Result<TokenClaims, TokenError> {
        let header = decode_header(token).map_err(|_| TokenError::Malformed)?;
        if !matches!(
            header.alg,
            Algorithm::RS256 | Algorithm::ES256 | Algorithm::EdDSA
        ) {
            return Err(TokenError::Algorithm(format!("{:?}", header.alg)));
        }
        let jwk = match &header.kid {
            Some(kid) => self.keys.find(kid),
            None if self.keys.keys.len() == 1 => self.keys.keys.first(),
            None => None,
        };
        let kid = header.kid.clone().unwrap_or_default();
        let jwk = jwk.ok_or_else(|| TokenError::UnknownKey(kid.clone()))?;
        if jwk
            .common
            .key_algorithm
            .is_some_and(|a| format!("{a:?}") != format!("{:?}", header.alg))
        {
            return Err(TokenError::Algorithm(format!(
                "{:?} with a key for another",
                header.alg
            )));
        }
        let key = DecodingKey::from_jwk(jwk).map_err(|e| TokenError::Invalid(e.to_string()))?;
        let claims = decode::<Map<String, Value>>(token, &key, &self.validation(header.alg))
            .map_err(|e| refusal(e.kind()))?
            .claims;
        let principal = (claims.get(&self.claims.sub).and_then(Value::as_str))
            .filter(|p| !p.is_empty())
            .ok_or_else(|| TokenError::NoPrincipal(self.claims.sub.clone()))?;
        Ok(TokenClaims {
            principal: principal.to_owned(),
            expires_at: claims.get("exp").and_then(Value::as_u64).unwrap_or(0),
            scope: claims
                .get(&self.claims.scope)
                .and_then(Value::as_str)
                .map(str::to_owned),
        })
    }

    fn validation(&self, alg: Algorithm) -> Validation {
        let mut validation = Validation::new(alg);
        validation.leeway = LEEWAY_SECONDS;
        validation.validate_nbf = true;
        validation.set_required_spec_claims(&["exp"]);
        if let Some(issuer) = &self.checks.issuer {
            validation.set_issuer(&[issuer]);
        }
        if self.checks.audiences.is_empty() {
            validation.validate_aud = false;
        } else {
            validation.set_audience(&self.checks.audiences);
        }
        validation
    }
}

fn refusal(kind: &jsonwebtoken::errors::ErrorKind) -> TokenError {
    use jsonwebtoken::errors::ErrorKind as K;
    match kind {
        K::ExpiredSignature => TokenError::Expired,
        K::ImmatureSignature => TokenError::NotYetValid,
        K::InvalidIssuer => TokenError::Issuer,
        K::InvalidAudience => TokenError::Audience,
        K::InvalidSignature => TokenError::Signature,
        K::MissingRequiredClaim(claim) => TokenError::Invalid(format!("no {claim} claim")),
        other => TokenError::Invalid(format!("{other:?}")),
    }
}

/// The `sub` a token claims, unchecked: for a login passed through to the
/// broker, which checks it, so that logs and policies can name who claims
/// to be logging in.
pub fn claimed_subject(token: &str) -> Option<String> {
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    use base64::Engine;
    let payload = token.split('.').nth(1)?;
    let json = URL_SAFE_NO_PAD.decode(payload.trim_end_matches('=')).ok()?;
    let claims: Map<String, Value> = serde_json::from_slice(&json).ok()?;
    claims.get("sub")?.as_str().map(str::to_owned)
}

/// The bearer token of an OAUTHBEARER client-first message (RFC 7628):
/// a GS2 header, then `key=value` pairs separated by 0x01, one of them
/// `auth=Bearer <token>`.
pub fn bearer_token(message: &[u8]) -> Option<&str> {
    let text = std::str::from_utf8(message).ok()?;
    let (_gs2, pairs) = text.split_once('\u{1}')?;
    let auth = pairs
        .split('\u{1}')
        .find_map(|kv| kv.strip_prefix("auth="))?;
    let (scheme, token) = auth.split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then(|| token.trim())
        .filter(|t| !t.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;
    use sluice_test_support::jwt::{claims, jwks, SigningKey};

    const ISSUER: &str = "https://issuer.test";

    fn keys(of: &[&SigningKey]) -> OauthKeys {
        OauthKeys {
            keys: serde_json::from_str(&jwks(of)).unwrap(),
            checks: TokenChecks {
                issuer: Some(ISSUER.into()),
                audiences: vec!["kafka".into()],
            },
            claims: ClaimsMapping::default(),
        }
    }

    #[test]
    fn good_tokens_of_every_kind_pass() {
        let (es, ed) = (SigningKey::es256("es"), SigningKey::eddsa("ed"));
        let keys = keys(&[&es, &ed]);
        for key in [&es, &ed] {
            let token = key.sign(&claims("alice", ISSUER, "kafka", 60));
            let got = keys.check(&token).unwrap();
            assert_eq!(got.principal, "alice");
            assert_eq!(got.scope.as_deref(), Some("kafka"));
            assert!(got.expires_at > 0);
        }
    }

    #[test]
    fn each_bad_token_is_refused_for_its_reason() {
        let key = SigningKey::es256("k1");
        let stranger = SigningKey::es256("k2");
        let impostor = SigningKey::es256("k1");
        let keys = keys(&[&key]);
        let cases = [
            (
                key.sign(&claims("a", ISSUER, "kafka", -120)),
                TokenError::Expired,
            ),
            (
                key.sign(&claims("a", "https://other", "kafka", 60)),
                TokenError::Issuer,
            ),
            (
                key.sign(&claims("a", ISSUER, "other", 60)),
                TokenError::Audience,
            ),
            (
                stranger.sign(&claims("a", ISSUER, "kafka", 60)),
                TokenError::UnknownKey("k2".into()),
            ),
            (
                impostor.sign(&claims("a", ISSUER, "kafka", 60)),
                TokenError::Signature,
            ),
            ("not.a.jwt".to_owned(), TokenError::Malformed),
        ];
        for (token, expected) in cases {
            assert_eq!(keys.check(&token), Err(expected));
        }
        let mut nameless = claims("a", ISSUER, "kafka", 60);
        nameless.as_object_mut().unwrap().remove("sub");
        assert_eq!(
            keys.check(&key.sign(&nameless)),
            Err(TokenError::NoPrincipal("sub".into()))
        );
    }

    #[test]
    fn unsigned_tokens_are_refused() {
        let keys = keys(&[&SigningKey::es256("k1")]);
        // {"alg":"none"}.{"sub":"a"}.
        let token = "eyJhbGciOiJub25lIn0.eyJzdWIiOiJhIn0.";
        assert!(keys.check(token).is_err());
    }

    #[test]
    fn a_claimed_subject_is_read_without_checking() {
        let token = SigningKey::es256("k").sign(&claims("carol", ISSUER, "kafka", 60));
        assert_eq!(claimed_subject(&token).as_deref(), Some("carol"));
        assert_eq!(claimed_subject("x.%%%.y"), None);
        assert_eq!(claimed_subject("nodots"), None);
    }

    #[test]
    fn the_bearer_token_is_found_in_the_client_message() {
        let message = b"n,,\x01host=x\x01auth=Bearer abc.def.ghi\x01\x01";
        assert_eq!(bearer_token(message), Some("abc.def.ghi"));
        assert_eq!(bearer_token(b"n,,\x01auth=Basic xyz\x01\x01"), None);
        assert_eq!(bearer_token(b"n,,"), None);
        assert_eq!(bearer_token(b"\xff\x01auth=Bearer t"), None);
    }
}
