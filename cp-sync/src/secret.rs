//! Secrets in the configuration: passwords, keys and tokens. A field may
//! hold the value itself or a reference resolved on the node that uses it,
//! `${env:NAME}` or `${file:/absolute/path}`, so a configuration (or the
//! control plane that serves it) need not carry the value at all. A
//! resolved value prints as a placeholder in every `Debug` and `Display`,
//! and no error message repeats it.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// What a secret prints as, and what the control plane returns in its
/// place.
pub const REDACTED: &str = "<redacted>";

/// A secret as configured.
#[derive(Clone, PartialEq, Eq)]
pub enum SecretRef {
    Literal(String),
    Env(String),
    File(PathBuf),
}

/// A resolved secret value.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SecretError {
    #[error("a reference must be ${{env:NAME}} or ${{file:/absolute/path}}")]
    BadReference,
    #[error("environment variable {0} is not set")]
    EnvMissing(String),
    #[error("environment variable {0} is empty")]
    EnvEmpty(String),
    #[error("cannot read {path}: {reason}")]
    FileUnreadable { path: PathBuf, reason: String },
    #[error("{0} is empty")]
    FileEmpty(PathBuf),
    #[error("the value is empty")]
    Empty,
}

impl SecretRef {
    /// Reads a configured value: a `${...}` reference, or a literal.
    pub fn parse(text: &str) -> Result<SecretRef, SecretError> {
        let Some(inner) = text.strip_prefix("${").and_then(|t| t.strip_suffix('}')) else {
            return match text.is_empty() {
                true => Err(SecretError::Empty),
                false => Ok(SecretRef::Literal(text.to_owned())),
            };
        };
        match inner.split_once(':') {
            Some(("env", name)) if is_env_name(name) => Ok(SecretRef::Env(name.to_owned())),
            Some(("file", path)) if Path::new(path).is_absolute() => {
                Ok(SecretRef::File(PathBuf::from(path)))
            }
            _ => Err(SecretError::BadReference),
        }
    }

    /// The value, read now from the environment (`env`) or the file.
    pub fn resolve(&self, env: &dyn Fn(&str) -> Option<String>) -> Result<Secret, SecretError> {
        let value = match self {
            SecretRef::Literal(value) => value.clone(),
            SecretRef::Env(name) => {
                let value = env(name).ok_or_else(|| SecretError::EnvMissing(name.clone()))?;
                if value.is_empty() {
                    return Err(SecretError::EnvEmpty(name.clone()));
                }
                value
            }
            SecretRef::File(path) => read_secret_file(path)?,
        };
        Ok(Secret(value))
    }
}

fn is_env_name(name: &str) -> bool {
    !name.is_empty() && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// A secret file's content; the line ending editors add is not part of it.
fn read_secret_file(path: &Path) -> Result<String, SecretError> {
    let text = std::fs::read_to_string(path).map_err(|e| SecretError::FileUnreadable {
        path: path.to_owned(),
        reason: e.to_string(),
    })?;
    let value = text.trim_end_matches(['\n', '\r']);
    match value.is_empty() {
        true => Err(SecretError::FileEmpty(path.to_owned())),
        false => Ok(value.to_owned()),
    }
}

impl Secret {
    /// The value, for the one place that needs it (a login, a signature).
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(REDACTED)
    }
}

impl std::fmt::Display for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(REDACTED)
    }
}

/// References are shown as written; a literal only as the placeholder.
impl std::fmt::Debug for SecretRef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SecretRef::Literal(_) => f.write_str(REDACTED),
            SecretRef::Env(name) => write!(f, "${{env:{name}}}"),
            SecretRef::File(path) => write!(f, "${{file:{}}}", path.display()),
        }
    }
}

/// Serialized as it is shown: what a control-plane GET returns.
impl Serialize for SecretRef {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&format!("{self:?}"))
    }
}

impl<'de> Deserialize<'de> for SecretRef {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        SecretRef::parse(&text).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(name: &str) -> Option<String> {
        match name {
            "KAFKA_PASSWORD" => Some("hunter2".into()),
            "EMPTY" => Some(String::new()),
            _ => None,
        }
    }

    #[test]
    fn literals_and_references_resolve() {
        let literal = SecretRef::parse("s3cret").unwrap();
        assert_eq!(literal.resolve(&env).unwrap().expose(), "s3cret");
        let from_env = SecretRef::parse("${env:KAFKA_PASSWORD}").unwrap();
        assert_eq!(from_env.resolve(&env).unwrap().expose(), "hunter2");
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("password");
        std::fs::write(&path, "from-file\n").unwrap();
        let from_file = SecretRef::parse(&format!("${{file:{}}}", path.display())).unwrap();
        assert_eq!(from_file.resolve(&env).unwrap().expose(), "from-file");
    }

    #[test]
    fn bad_references_are_errors_that_do_not_repeat_the_value() {
        for bad in [
            "${env:}",
            "${env:A-B}",
            "${file:relative/path}",
            "${vault:x}",
            "${nope}",
        ] {
            assert_eq!(
                SecretRef::parse(bad),
                Err(SecretError::BadReference),
                "{bad}"
            );
        }
        assert_eq!(SecretRef::parse(""), Err(SecretError::Empty));
        let missing = SecretRef::parse("${env:NOT_SET}").unwrap().resolve(&env);
        assert_eq!(missing, Err(SecretError::EnvMissing("NOT_SET".into())));
        let empty = SecretRef::parse("${env:EMPTY}").unwrap().resolve(&env);
        assert_eq!(empty, Err(SecretError::EnvEmpty("EMPTY".into())));
        let dir = tempfile::tempdir().unwrap();
        let blank = dir.path().join("blank");
        std::fs::write(&blank, "\n").unwrap();
        let err = SecretRef::File(blank.clone()).resolve(&env).unwrap_err();
        assert_eq!(err, SecretError::FileEmpty(blank));
        let gone = SecretRef::File(dir.path().join("gone"))
            .resolve(&env)
            .unwrap_err();
        assert!(gone.to_string().starts_with("cannot read "), "{gone}");
    }

    #[test]
    fn values_never_print() {
        let literal = SecretRef::parse("s3cret").unwrap();
        let secret = literal.resolve(&env).unwrap();
        for shown in [
            format!("{literal:?}"),
            format!("{secret:?}"),
            format!("{secret}"),
            serde_json::to_string(&literal).unwrap(),
        ] {
            assert!(!shown.contains("s3cret"), "{shown}");
            assert!(shown.contains(REDACTED), "{shown}");
        }
        let reference = SecretRef::parse("${env:KAFKA_PASSWORD}").unwrap();
        assert_eq!(
            serde_json::to_string(&reference).unwrap(),
            "\"${env:KAFKA_PASSWORD}\""
        );
        let back: SecretRef = serde_json::from_str("\"${env:KAFKA_PASSWORD}\"").unwrap();
        assert_eq!(back, reference);
    }
}
