//! Entry points: text or file to a validated [`Config`].

use std::path::Path;

use super::build::build_config;
use super::document::{parse_document, ConfigFormat};
use super::errors::{ConfigErrors, ErrorList};
use super::schema::Config;
use super::validate::check;

/// Parses and validates one configuration document.
///
/// Reports every problem at once (syntax, unknown fields, types, semantics),
/// each with its path, in document order. Knows nothing about files, so the
/// control plane can run it on request bodies.
pub fn parse_config_str(text: &str, format: ConfigFormat) -> Result<Config, ConfigErrors> {
    let document = parse_document(text, format)?;
    let mut errors = ErrorList::default();
    let (config, origins) = build_config(&document, &mut errors);
    check(&config, &origins, &mut errors);
    errors.into_result(Some(&document))?;
    Ok(config)
}

/// Reads and parses a config file: JSON if the name ends in `.json`, YAML
/// otherwise. A file that cannot be read is one error whose path is the
/// file's path.
pub fn load_config_file(path: &Path) -> Result<Config, ConfigErrors> {
    let text = std::fs::read_to_string(path).map_err(|e| {
        ConfigErrors::single(
            path.display().to_string(),
            format!("cannot read config file: {e}"),
        )
    })?;
    parse_config_str(&text, format_for(path))
}

fn format_for(path: &Path) -> ConfigFormat {
    let is_json = path
        .extension()
        .and_then(|extension| extension.to_str())
        .is_some_and(|extension| extension.eq_ignore_ascii_case("json"));
    if is_json {
        ConfigFormat::Json
    } else {
        ConfigFormat::Yaml
    }
}
