//! Reading TLS versions: `"1.2"`, `"TLSv1.2"`, and the float an unquoted YAML
//! `1.2` turns into, so the obvious spellings all work.

use std::fmt;

use serde::de::{self, Visitor};
use serde::{Deserialize, Deserializer};

use super::schema::TlsVersion;

const EXPECTED: &str = "expected \"1.2\" or \"1.3\"";

fn parse_version(text: &str) -> Option<TlsVersion> {
    let trimmed = text.trim();
    let number = trimmed
        .strip_prefix("TLSv")
        .or_else(|| trimmed.strip_prefix("tlsv"))
        .unwrap_or(trimmed);
    match number {
        "1.2" => Some(TlsVersion::V1_2),
        "1.3" => Some(TlsVersion::V1_3),
        _ => None,
    }
}

struct TlsVersionVisitor;

impl Visitor<'_> for TlsVersionVisitor {
    type Value = TlsVersion;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a TLS version, \"1.2\" or \"1.3\"")
    }

    fn visit_str<E: de::Error>(self, value: &str) -> Result<TlsVersion, E> {
        parse_version(value)
            .ok_or_else(|| E::custom(format!("unknown TLS version \"{value}\"; {EXPECTED}")))
    }

    fn visit_f64<E: de::Error>(self, value: f64) -> Result<TlsVersion, E> {
        // The literal the YAML parser read is printed back the same way.
        self.visit_str(&value.to_string())
    }

    fn visit_u64<E: de::Error>(self, value: u64) -> Result<TlsVersion, E> {
        Err(E::custom(format!(
            "unknown TLS version {value}; {EXPECTED}"
        )))
    }

    fn visit_i64<E: de::Error>(self, value: i64) -> Result<TlsVersion, E> {
        Err(E::custom(format!(
            "unknown TLS version {value}; {EXPECTED}"
        )))
    }
}

impl<'de> Deserialize<'de> for TlsVersion {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(TlsVersionVisitor)
    }
}
