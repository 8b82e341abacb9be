//! Whole configurations: get, apply (with dry run), versions, rollback.

use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::http::{header, HeaderMap};
use axum::response::{IntoResponse, Response};
use axum::Json;
use cp_sync::config::{parse_config_str, ConfigError, ConfigFormat};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use tracing::info;

use super::{ApiError, AppState};
use crate::diff::ConfigDiff;
use crate::document::revalidate;
use crate::store::{Committed, Proposal, VersionRecord};

#[derive(Debug, Deserialize)]
pub struct VersionQuery {
    version: Option<u64>,
}

pub async fn get_config(
    State(state): State<AppState>,
    Query(query): Query<VersionQuery>,
) -> Result<Response, ApiError> {
    let record = state
        .blocking(move |state| match query.version {
            Some(version) => state
                .store()
                .version(version)?
                .ok_or_else(|| ApiError::NotFound(format!("no configuration version {version}"))),
            None => Ok(state.store().current()?),
        })
        .await?;
    let answer = ConfigAnswer {
        version: record.version,
        created_at: record.created_at.as_deref(),
        summary: Some(&record.summary),
        config: &record.config,
    };
    Ok(Json(answer).into_response())
}

/// A configuration with its version. A struct rather than `json!` so the
/// document keeps schema order (backend clusters, virtual clusters,
/// listeners) instead of alphabetical keys.
#[derive(Serialize)]
pub(super) struct ConfigAnswer<'a> {
    pub version: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub created_at: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub summary: Option<&'a str>,
    pub config: &'a cp_sync::config::Config,
}

#[derive(Debug, Deserialize)]
pub struct ApplyQuery {
    #[serde(default)]
    dry_run: bool,
}

/// `PUT /v1/config`: replaces the whole configuration.
pub async fn put_config(
    State(state): State<AppState>,
    Query(query): Query<ApplyQuery>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Json<Value>, ApiError> {
    let format = body_format(&headers)?;
    let text = std::str::from_utf8(&body)
        .map_err(|_| ApiError::bad_request("request body is not UTF-8 text"))?;
    check_syntax(text, format)?;
    let config = parse_config_str(text, format).map_err(ApiError::Invalid)?;
    if query.dry_run {
        let current = state.blocking(|state| Ok(state.store().current()?)).await?;
        let diff = ConfigDiff::between(&current.config, &config)?;
        return Ok(Json(json!({
            "version": current.version,
            "changed": current.config != config,
            "dry_run": true,
            "diff": diff,
        })));
    }
    let committed = commit(&state, move |previous| {
        let diff = ConfigDiff::between(&previous.config, &config)?;
        Ok(Proposal {
            summary: format!("apply: {}", diff.summary()),
            config,
            always: false,
        })
    })
    .await?;
    change_response(&committed)
}

/// The diff between what was current and what is now, as answered by every
/// change.
pub(super) fn change_response(committed: &Committed) -> Result<Json<Value>, ApiError> {
    let diff = ConfigDiff::between(&committed.previous.config, &committed.config)?;
    Ok(Json(json!({
        "version": committed.version,
        "changed": committed.created,
        "dry_run": false,
        "diff": diff,
    })))
}

/// Stores what `decide` proposes as a new version and wakes long polls.
pub(super) async fn commit(
    state: &AppState,
    decide: impl FnOnce(&VersionRecord) -> Result<Proposal, ApiError> + Send + 'static,
) -> Result<Committed, ApiError> {
    let decide = move |previous: &VersionRecord| {
        let proposal = decide(previous)?;
        refuse_literal_secrets(&proposal.config)?;
        Ok(proposal)
    };
    let committed = state
        .blocking(move |state| state.store().commit(decide))
        .await?;
    if committed.created {
        info!(version = committed.version, "configuration version stored");
        state.announce(committed.version);
    }
    Ok(committed)
}

/// A secret given as a literal would be stored and served back by a GET;
/// the control plane takes only references, resolved on each node.
fn refuse_literal_secrets(config: &cp_sync::config::Config) -> Result<(), ApiError> {
    let errors: Vec<ConfigError> = (cp_sync::credentials::literal_secret_paths(config).into_iter())
        .map(|path| {
            ConfigError::new(
                path,
                "the control plane keeps no secret values: use ${env:NAME} or ${file:/path}, read on each node",
            )
        })
        .collect();
    match errors.is_empty() {
        true => Ok(()),
        false => Err(ApiError::Invalid(cp_sync::config::ConfigErrors::new(
            errors,
        ))),
    }
}

fn body_format(headers: &HeaderMap) -> Result<ConfigFormat, ApiError> {
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .unwrap_or("")
        .to_ascii_lowercase();
    if content_type.contains("json") {
        Ok(ConfigFormat::Json)
    } else if content_type.contains("yaml") || content_type.contains("yml") {
        Ok(ConfigFormat::Yaml)
    } else {
        Err(ApiError::UnsupportedMediaType(format!(
            "unsupported Content-Type {content_type:?}: send application/json or application/yaml"
        )))
    }
}

/// Syntax errors are the client's malformed request (400); everything found
/// after that is an invalid configuration (422).
fn check_syntax(text: &str, format: ConfigFormat) -> Result<(), ApiError> {
    let error = match format {
        ConfigFormat::Json => serde_json::from_str::<serde::de::IgnoredAny>(text)
            .err()
            .map(|e| format!("invalid JSON: {e}")),
        ConfigFormat::Yaml => serde_yaml_ng::from_str::<serde_yaml_ng::Value>(text)
            .err()
            .map(|e| format!("invalid YAML: {e}")),
    };
    match error {
        Some(message) => Err(ApiError::BadRequest {
            errors: vec![ConfigError::new("", message.clone())],
            message,
        }),
        None => Ok(()),
    }
}

pub async fn versions(State(state): State<AppState>) -> Result<Json<Value>, ApiError> {
    let (current, versions) = state
        .blocking(|state| Ok((state.store().current()?.version, state.store().versions()?)))
        .await?;
    Ok(Json(json!({"current": current, "versions": versions})))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RollbackRequest {
    version: u64,
}

/// `POST /v1/rollback {"version": N}`: a new version with N's content.
pub async fn rollback(State(state): State<AppState>, body: Bytes) -> Result<Json<Value>, ApiError> {
    let request: RollbackRequest = serde_json::from_slice(&body)
        .map_err(|e| ApiError::bad_request(format!("expected {{\"version\": N}}: {e}")))?;
    let target = request.version;
    let config = state
        .blocking(move |state| {
            let record = state
                .store()
                .version(target)?
                .ok_or_else(|| ApiError::NotFound(format!("no configuration version {target}")))?;
            // Stored versions are immutable, so reading outside the commit
            // is safe; checking again catches rules that got stricter.
            revalidate(&record.config).map_err(ApiError::Invalid)
        })
        .await?;
    let committed = commit(&state, move |_| {
        Ok(Proposal {
            config,
            summary: format!("rollback to version {target}"),
            always: true,
        })
    })
    .await?;
    change_response(&committed)
}
