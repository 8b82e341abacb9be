//! Text to document tree, and typed decoding that reports every unknown field.
//!
//! Both formats are read into a `serde_yaml_ng::Value`: its mappings keep
//! document order (errors are sorted by it) and reject duplicate keys.

use serde::de::DeserializeOwned;
use serde_yaml_ng::{Mapping, Value};

use super::errors::{ConfigErrors, DocPath, ErrorList, Segment};

/// The syntax of a configuration text. YAML also accepts JSON.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ConfigFormat {
    Yaml,
    Json,
}

/// Parses `text` into a tree whose mapping keys are all strings.
pub(crate) fn parse_document(text: &str, format: ConfigFormat) -> Result<Value, ConfigErrors> {
    let mut document = match format {
        ConfigFormat::Yaml => serde_yaml_ng::from_str::<Value>(text)
            .map_err(|e| ConfigErrors::single("", format!("invalid YAML: {e}")))?,
        ConfigFormat::Json => serde_json::from_str::<Value>(text)
            .map_err(|e| ConfigErrors::single("", format!("invalid JSON: {e}")))?,
    };
    if format == ConfigFormat::Yaml {
        // `<<: *anchor` lets one YAML file share settings between entries.
        document
            .apply_merge()
            .map_err(|e| ConfigErrors::single("", format!("invalid YAML merge key: {e}")))?;
    }
    let mut errors = ErrorList::default();
    check_plain(&document, &DocPath::root(), &mut errors);
    errors.into_result(Some(&document))?;
    Ok(document)
}

/// Rejects what JSON cannot express (non-string keys, YAML tags), so the
/// schema means the same in both formats and the control plane's JSON API.
fn check_plain(value: &Value, path: &DocPath, errors: &mut ErrorList) {
    match value {
        Value::Tagged(tagged) => errors.push(
            path.clone(),
            format!("YAML tag {} is not supported; remove it", tagged.tag),
        ),
        Value::Sequence(items) => {
            for (i, item) in items.iter().enumerate() {
                check_plain(item, &path.index(i), errors);
            }
        }
        Value::Mapping(map) => {
            for (key, item) in map {
                match key.as_str() {
                    Some(name) => check_plain(item, &path.key(name), errors),
                    None => errors.push(
                        path.clone(),
                        format!("mapping key {} must be a string", describe_key(key)),
                    ),
                }
            }
        }
        Value::Null | Value::Bool(_) | Value::Number(_) | Value::String(_) => {}
    }
}

fn describe_key(key: &Value) -> String {
    serde_yaml_ng::to_string(key)
        .map(|text| text.trim_end().to_owned())
        .unwrap_or_else(|_| "(unprintable)".to_owned())
}

/// Decodes `value` (found at `at`) into `T`, pushing every unknown field and
/// the first type error. `None` means `T` could not be built.
pub(crate) fn decode<T: DeserializeOwned>(
    value: &Value,
    at: &DocPath,
    errors: &mut ErrorList,
) -> Option<T> {
    let mut unknown: Vec<DocPath> = Vec::new();
    let mut track = serde_path_to_error::Track::new();
    let result = {
        let mut on_ignored =
            |ignored: serde_ignored::Path<'_>| unknown.push(ignored_path(at, &ignored));
        let inner = serde_path_to_error::Deserializer::new(value, &mut track);
        T::deserialize(serde_ignored::Deserializer::new(inner, &mut on_ignored))
    };
    for path in unknown {
        let message = unknown_field_message(&path);
        errors.push(path, message);
    }
    match result {
        Ok(decoded) => Some(decoded),
        Err(error) => {
            let mut path = at.clone();
            for segment in track.path().iter() {
                match segment {
                    serde_path_to_error::Segment::Seq { index } => {
                        path.push(Segment::Index(*index))
                    }
                    serde_path_to_error::Segment::Map { key } => {
                        path.push(Segment::Key(key.clone()))
                    }
                    serde_path_to_error::Segment::Enum { .. }
                    | serde_path_to_error::Segment::Unknown => {}
                }
            }
            push_serde_error(path, &error.to_string(), errors);
            None
        }
    }
}

/// serde reports a missing field at its parent; point at the field instead.
fn push_serde_error(path: DocPath, message: &str, errors: &mut ErrorList) {
    let missing = message
        .strip_prefix("missing field `")
        .and_then(|rest| rest.strip_suffix('`'));
    match missing {
        Some(field) => errors.push(path.key(field), "is required"),
        None => errors.push(path, message),
    }
}

fn ignored_path(at: &DocPath, ignored: &serde_ignored::Path<'_>) -> DocPath {
    let mut segments = Vec::new();
    let mut node = ignored;
    loop {
        match node {
            serde_ignored::Path::Root => break,
            serde_ignored::Path::Seq { parent, index } => {
                segments.push(Segment::Index(*index));
                node = parent;
            }
            serde_ignored::Path::Map { parent, key } => {
                segments.push(Segment::Key(key.clone()));
                node = parent;
            }
            serde_ignored::Path::Some { parent }
            | serde_ignored::Path::NewtypeStruct { parent }
            | serde_ignored::Path::NewtypeVariant { parent } => node = parent,
        }
    }
    let mut path = at.clone();
    for segment in segments.into_iter().rev() {
        path.push(segment);
    }
    path
}

/// Every field name in the schema, for "did you mean" hints.
const FIELD_NAMES: &[&str] = &[
    "backend_clusters",
    "virtual_clusters",
    "listeners",
    "name",
    "bootstrap_servers",
    "authentication",
    "username",
    "password",
    "tls",
    "enabled",
    "metadata_update_interval_seconds",
    "dns_label",
    "destination",
    "acl_mode",
    "namespace",
    "cluster_policies",
    "produce_policies",
    "consume_policies",
    "min_acks",
    "max_batch_bytes",
    "addresses",
    "ports",
    "policies",
    "type",
    "config",
    "advertised_host",
    "bootstrap_port",
    "min_broker_id",
    "sni_suffix",
    "advertised_port",
    "broker_host_format",
    "certificates",
    "certificate",
    "key",
    "versions",
    "min",
    "max",
    "allow_plaintext",
    "client_authentication",
    "mode",
    "trust_bundles",
    "principal",
    "ca_bundle",
    "insecure_skip_verify",
    "tls_versions",
    "client_identity",
    "limits",
    "max_connections",
    "max_connections_per_ip",
    "max_connections_per_ip_overrides",
    "first_frame_timeout_ms",
    "frame_timeout_ms",
    "idle_timeout_ms",
];

/// Longer unknown keys get no "did you mean" suggestion.
const MAX_SUGGESTED_KEY: usize = 64;

fn unknown_field_message(path: &DocPath) -> String {
    let Some(Segment::Key(key)) = path.segments().last() else {
        return "unknown field; remove it".to_owned();
    };
    // Every field name is short; comparing a long key with each costs
    // time for nothing.
    if key.len() > MAX_SUGGESTED_KEY {
        return "unknown field; remove it or fix its name".to_owned();
    }
    let suggestion = FIELD_NAMES
        .iter()
        .map(|name| (edit_distance(key, name), *name))
        .filter(|(distance, name)| *distance <= 2 && *distance < name.len() / 2)
        .min();
    match suggestion {
        Some((_, name)) => format!("unknown field; did you mean `{name}`?"),
        None => "unknown field; remove it or fix its name".to_owned(),
    }
}

fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut previous: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut current = vec![i + 1; b.len() + 1];
        for (j, cb) in b.iter().enumerate() {
            let substitute = previous[j] + usize::from(ca != *cb);
            current[j + 1] = substitute.min(previous[j + 1] + 1).min(current[j] + 1);
        }
        previous = current;
    }
    previous[b.len()]
}

/// Splits a `{type: ..., ...}` mapping into its type name and the other
/// fields. Decoding the variant from the rest (instead of a serde internally
/// tagged enum, which buffers its input) keeps unknown fields visible.
pub(crate) fn split_tag(
    value: &Value,
    at: &DocPath,
    errors: &mut ErrorList,
) -> Option<(String, Value)> {
    let Value::Mapping(map) = value else {
        errors.push(at.clone(), "must be a mapping with a `type` field");
        return None;
    };
    let tag = match map.get("type") {
        Some(Value::String(tag)) => tag.clone(),
        Some(_) => {
            errors.push(at.key("type"), "must be a string");
            return None;
        }
        None => {
            errors.push(at.key("type"), "is required");
            return None;
        }
    };
    let rest: Mapping = map
        .iter()
        .filter(|(key, _)| key.as_str() != Some("type"))
        .map(|(key, item)| (key.clone(), item.clone()))
        .collect();
    Some((tag, Value::Mapping(rest)))
}

/// The message for a `type` value that is not one of `supported`.
pub(crate) fn unknown_type_message(what: &str, tag: &str, supported: &[&str]) -> String {
    format!(
        "unknown {what} type \"{tag}\"; expected {}",
        supported.join(" or ")
    )
}
