//! Configuration errors and the document paths they point at.

use std::fmt;

use serde::{Deserialize, Serialize};
use serde_yaml_ng::Value;

/// One problem in a configuration document.
///
/// `path` locates the offending value, e.g. `listeners[1].ports[0]`; it is
/// empty when the problem concerns the document as a whole (syntax errors).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConfigError {
    pub path: String,
    pub message: String,
}

impl ConfigError {
    pub fn new(path: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            path: path.into(),
            message: message.into(),
        }
    }
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.path.is_empty() {
            f.write_str(&self.message)
        } else {
            write!(f, "{}: {}", self.path, self.message)
        }
    }
}

/// Every problem found in a configuration document, in document order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
pub struct ConfigErrors {
    errors: Vec<ConfigError>,
}

impl ConfigErrors {
    pub fn new(errors: Vec<ConfigError>) -> Self {
        Self { errors }
    }

    /// A list holding one error, e.g. for a config source that failed before
    /// there was a document to parse.
    pub fn single(path: impl Into<String>, message: impl Into<String>) -> Self {
        Self::new(vec![ConfigError::new(path, message)])
    }

    pub fn errors(&self) -> &[ConfigError] {
        &self.errors
    }

    pub fn into_vec(self) -> Vec<ConfigError> {
        self.errors
    }

    pub fn len(&self) -> usize {
        self.errors.len()
    }

    pub fn is_empty(&self) -> bool {
        self.errors.is_empty()
    }

    pub fn iter(&self) -> std::slice::Iter<'_, ConfigError> {
        self.errors.iter()
    }
}

impl fmt::Display for ConfigErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, error) in self.errors.iter().enumerate() {
            if i > 0 {
                f.write_str("\n")?;
            }
            write!(f, "{error}")?;
        }
        Ok(())
    }
}

impl IntoIterator for ConfigErrors {
    type Item = ConfigError;
    type IntoIter = std::vec::IntoIter<ConfigError>;

    fn into_iter(self) -> Self::IntoIter {
        self.errors.into_iter()
    }
}

impl<'a> IntoIterator for &'a ConfigErrors {
    type Item = &'a ConfigError;
    type IntoIter = std::slice::Iter<'a, ConfigError>;

    fn into_iter(self) -> Self::IntoIter {
        self.errors.iter()
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Segment {
    Key(String),
    Index(usize),
}

/// A location in the document, kept structured until the end so errors can be
/// sorted by where they sit in the document.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct DocPath(Vec<Segment>);

impl DocPath {
    pub(crate) fn root() -> Self {
        Self::default()
    }

    pub(crate) fn key(&self, key: &str) -> Self {
        let mut path = self.clone();
        path.0.push(Segment::Key(key.to_owned()));
        path
    }

    pub(crate) fn index(&self, index: usize) -> Self {
        let mut path = self.clone();
        path.0.push(Segment::Index(index));
        path
    }

    pub(crate) fn push(&mut self, segment: Segment) {
        self.0.push(segment);
    }

    pub(crate) fn segments(&self) -> &[Segment] {
        &self.0
    }
}

impl fmt::Display for DocPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, segment) in self.0.iter().enumerate() {
            match segment {
                Segment::Key(key) if i == 0 => f.write_str(key)?,
                Segment::Key(key) => write!(f, ".{key}")?,
                Segment::Index(index) => write!(f, "[{index}]")?,
            }
        }
        Ok(())
    }
}

/// Collects errors while parsing and validating; nothing stops at the first.
#[derive(Debug, Default)]
pub(crate) struct ErrorList {
    entries: Vec<(DocPath, String)>,
}

impl ErrorList {
    pub(crate) fn push(&mut self, path: DocPath, message: impl Into<String>) {
        self.entries.push((path, message.into()));
    }

    /// Sorts by position in `document` (the parsed text, or the serialized
    /// config when there is no text) so the output reads top to bottom.
    pub(crate) fn into_result(self, document: Option<&Value>) -> Result<(), ConfigErrors> {
        if self.entries.is_empty() {
            return Ok(());
        }
        let mut keyed: Vec<(Vec<usize>, DocPath, String)> = self
            .entries
            .into_iter()
            .map(|(path, message)| {
                let key = document
                    .map(|doc| order_key(doc, &path))
                    .unwrap_or_default();
                (key, path, message)
            })
            .collect();
        // Stable, so errors at the same place keep the order they were found in.
        keyed.sort_by(|a, b| a.0.cmp(&b.0));
        let errors = keyed
            .into_iter()
            .map(|(_, path, message)| ConfigError::new(path.to_string(), message))
            .collect();
        Err(ConfigErrors::new(errors))
    }
}

/// Position of each path segment in the document; a key the document lacks
/// (a defaulted field) sorts after every key its mapping has.
fn order_key(document: &Value, path: &DocPath) -> Vec<usize> {
    let mut key = Vec::with_capacity(path.segments().len());
    let mut node = Some(document);
    for segment in path.segments() {
        let (position, child) = match (segment, node) {
            (Segment::Index(i), Some(Value::Sequence(items))) => (*i, items.get(*i)),
            (Segment::Index(i), _) => (*i, None),
            (Segment::Key(k), Some(Value::Mapping(map))) => map
                .iter()
                .position(|(name, _)| name.as_str() == Some(k))
                .map_or((usize::MAX, None), |pos| (pos, map.get(k.as_str()))),
            (Segment::Key(_), _) => (usize::MAX, None),
        };
        key.push(position);
        node = child;
    }
    key
}
