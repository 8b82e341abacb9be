//! Secrets: random bytes, the admin token, and comparing without leaking
//! timing.

use std::fmt;

/// `n` bytes from the operating system's CSPRNG, through the same ring
/// provider the TLS stack uses (no second source of randomness to audit).
pub fn random_bytes(n: usize) -> Result<Vec<u8>, rustls::Error> {
    let mut bytes = vec![0u8; n];
    rustls::crypto::ring::default_provider()
        .secure_random
        .fill(&mut bytes)
        .map_err(|_| rustls::Error::FailedToGetRandomBytes)?;
    Ok(bytes)
}

/// The admin bearer token. `Debug` never shows it, so it cannot reach a log
/// line through a `{:?}`.
#[derive(Clone, PartialEq, Eq)]
pub struct AdminToken(String);

impl AdminToken {
    /// Rejects tokens that are empty, contain whitespace or are short enough
    /// to guess.
    pub fn new(token: impl Into<String>) -> Result<Self, String> {
        let token = token.into().trim().to_owned();
        if token.len() < 16 {
            return Err("admin token must be at least 16 characters".into());
        }
        if !token.chars().all(|c| c.is_ascii_graphic()) {
            return Err("admin token must be printable ASCII without spaces".into());
        }
        Ok(AdminToken(token))
    }

    /// 32 random bytes, hex encoded.
    pub fn generate() -> Result<Self, rustls::Error> {
        let bytes = random_bytes(32)?;
        Ok(AdminToken(
            bytes.iter().map(|b| format!("{b:02x}")).collect(),
        ))
    }

    /// The token itself, for the file it is stored in and the one line that
    /// shows it to the operator.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// Checks a presented token in time that depends only on the lengths.
    pub fn matches(&self, presented: &str) -> bool {
        constant_time_eq(self.0.as_bytes(), presented.as_bytes())
    }
}

impl fmt::Debug for AdminToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("AdminToken(<redacted>)")
    }
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    let mut difference = a.len() ^ b.len();
    for (i, x) in a.iter().enumerate() {
        let y = b.get(i % b.len().max(1)).copied().unwrap_or(0);
        difference |= usize::from(x ^ y);
    }
    difference == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_compare_by_content_and_hide_in_debug() {
        let token = AdminToken::new("0123456789abcdef-token").unwrap();
        assert!(token.matches("0123456789abcdef-token"));
        assert!(!token.matches("0123456789abcdef-tokeN"));
        assert!(!token.matches("0123456789abcdef-toke"));
        assert!(!token.matches(""));
        assert!(!format!("{token:?}").contains("0123"));
    }

    #[test]
    fn generated_tokens_are_long_and_distinct() {
        let a = AdminToken::generate().unwrap();
        let b = AdminToken::generate().unwrap();
        assert_eq!(a.expose().len(), 64);
        assert_ne!(a, b);
        assert!(AdminToken::new("short").is_err());
        assert!(AdminToken::new("has a space in the middle").is_err());
    }
}
