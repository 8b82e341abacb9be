//! Data-plane nodes: the configuration long poll, status reports, the node
//! list, and issuing node certificates.

use std::time::Duration;

use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use cp_sync::config::ConfigError;
use serde::Deserialize;
use serde_json::{json, Value};
use tracing::info;

use super::auth::Node;
use super::config::ConfigAnswer;
use super::{ApiError, AppState};
use crate::pki::DEFAULT_NODE_VALIDITY_DAYS;
use crate::store::NodeSeen;

/// Default and ceiling of `wait_ms`: long enough to keep idle traffic low,
/// short enough for proxies between node and control plane to keep the
/// connection open.
const DEFAULT_WAIT_MS: u64 = 30_000;
const MAX_WAIT_MS: u64 = 300_000;

pub const HOSTNAME_HEADER: &str = "x-sluice-hostname";
pub const VERSION_HEADER: &str = "x-sluice-version";
pub const APPLIED_HEADER: &str = "x-sluice-applied-version";

#[derive(Debug, Deserialize)]
pub struct PollQuery {
    /// The newest version the node has; the answer waits while it is
    /// current. Absent: answer at once.
    version: Option<u64>,
    wait_ms: Option<u64>,
    applied_version: Option<u64>,
    hostname: Option<String>,
    sluice_version: Option<String>,
}

/// `GET /v1/dataplane/config`: answers at once when the current version
/// differs from `version`, otherwise when it changes or after `wait_ms`
/// (204).
pub async fn poll_config(
    State(state): State<AppState>,
    Node(node): Node,
    headers: HeaderMap,
    Query(query): Query<PollQuery>,
) -> Result<Response, ApiError> {
    let header = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    };
    let applied = match query.applied_version {
        Some(version) => Some(version),
        None => header(APPLIED_HEADER).and_then(|v| v.parse().ok()),
    };
    let seen = NodeSeen {
        id: node,
        hostname: query.hostname.or_else(|| header(HOSTNAME_HEADER)),
        sluice_version: query.sluice_version.or_else(|| header(VERSION_HEADER)),
        applied_version: applied,
        errors: None,
    };
    // Subscribe before reading anything, so a version stored meanwhile
    // still wakes this request.
    let mut versions = state.watch_versions();
    state
        .blocking(move |state| Ok(state.store().node_seen(&seen)?))
        .await?;
    if let Some(known) = query.version {
        let wait = Duration::from_millis(query.wait_ms.unwrap_or(DEFAULT_WAIT_MS).min(MAX_WAIT_MS));
        let changed = tokio::time::timeout(wait, versions.wait_for(|current| *current != known));
        match changed.await {
            Err(_elapsed) => return Ok(StatusCode::NO_CONTENT.into_response()),
            Ok(Err(_closed)) => return Err(ApiError::Internal("version feed closed".into())),
            Ok(Ok(_)) => {}
        }
    }
    let current = state.blocking(|state| Ok(state.store().current()?)).await?;
    let answer = ConfigAnswer {
        version: current.version,
        created_at: None,
        summary: None,
        config: &current.config,
    };
    Ok(Json(answer).into_response())
}

#[derive(Debug, Deserialize)]
pub struct Report {
    hostname: Option<String>,
    sluice_version: Option<String>,
    applied_version: Option<u64>,
    #[serde(default)]
    errors: Vec<ConfigError>,
}

/// `POST /v1/dataplane/report`: the outcome of the node's last attempt.
pub async fn report(
    State(state): State<AppState>,
    Node(node): Node,
    body: Bytes,
) -> Result<StatusCode, ApiError> {
    let report: Report = serde_json::from_slice(&body)
        .map_err(|e| ApiError::bad_request(format!("invalid report: {e}")))?;
    let seen = NodeSeen {
        id: node,
        hostname: report.hostname,
        sluice_version: report.sluice_version,
        applied_version: report.applied_version,
        errors: Some(report.errors),
    };
    state
        .blocking(move |state| Ok(state.store().node_seen(&seen)?))
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

pub async fn nodes(State(state): State<AppState>) -> Result<Json<Value>, ApiError> {
    let nodes = state.blocking(|state| Ok(state.store().nodes()?)).await?;
    Ok(Json(json!({"nodes": nodes})))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct CertificateRequest {
    node_id: String,
    days: Option<u32>,
}

/// `POST /v1/certificates {"node_id": "..."}`: a client certificate and key
/// for a node, and the CA certificate to trust the control plane with.
pub async fn issue_certificate(
    State(state): State<AppState>,
    body: Bytes,
) -> Result<Response, ApiError> {
    let request: CertificateRequest = serde_json::from_slice(&body)
        .map_err(|e| ApiError::bad_request(format!("expected {{\"node_id\": \"...\"}}: {e}")))?;
    let days = request.days.unwrap_or(DEFAULT_NODE_VALIDITY_DAYS);
    let node_id = request.node_id;
    let (issued, node_id) = state
        .blocking(move |state| Ok((state.ca().node_cert(&node_id, days)?, node_id)))
        .await?;
    info!(node = %node_id, days, "issued node certificate");
    let body = json!({
        "node_id": node_id,
        "files": {
            "node.pem": issued.cert_pem,
            "node.key": issued.key_pem,
            "ca.pem": state.ca().cert_pem(),
        },
    });
    // The body holds a private key: no cache may keep it.
    Ok((
        StatusCode::CREATED,
        [(header::CACHE_CONTROL, "no-store")],
        Json(body),
    )
        .into_response())
}
