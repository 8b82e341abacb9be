//! CRUD on one entity list. Every change is validated as the whole
//! configuration it results in, so errors name paths in that document.

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use serde_json::{json, Value};

use super::config::commit;
use super::{ApiError, AppState};
use crate::document::{name_of, Document, EditError, Kind};
use crate::store::{Committed, Proposal};

pub async fn list(State(state): State<AppState>, kind: Kind) -> Result<Json<Value>, ApiError> {
    let current = state.blocking(|state| Ok(state.store().current()?)).await?;
    Ok(Json(json!({
        "version": current.version,
        "data": kind.entities(&current.config)?,
    })))
}

pub async fn get_one(
    State(state): State<AppState>,
    kind: Kind,
    Path(name): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let current = state.blocking(|state| Ok(state.store().current()?)).await?;
    let entity = find(&current.config, kind, &name)?;
    Ok(Json(json!({"version": current.version, "data": entity})))
}

pub async fn create(
    State(state): State<AppState>,
    kind: Kind,
    body: Bytes,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let entity = parse_entity(&body)?;
    let name = name_of(&entity).unwrap_or_default().to_owned();
    let label = name.clone();
    let committed = commit(&state, move |previous| {
        let mut document = Document::from_config(&previous.config)?;
        document
            .create(kind, entity)
            .map_err(|e| edit_error(kind, &label, e))?;
        Ok(Proposal {
            config: document.into_config().map_err(ApiError::Invalid)?,
            summary: format!("create {}/{label}", kind.key()),
            always: false,
        })
    })
    .await?;
    Ok((
        StatusCode::CREATED,
        entity_response(&committed, kind, &name)?,
    ))
}

pub async fn put(
    State(state): State<AppState>,
    kind: Kind,
    Path(name): Path<String>,
    body: Bytes,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let entity = parse_entity(&body)?;
    let label = name.clone();
    let committed = commit(&state, move |previous| {
        let mut document = Document::from_config(&previous.config)?;
        let created = document
            .put(kind, &label, entity)
            .map_err(|e| edit_error(kind, &label, e))?;
        let verb = if created { "create" } else { "update" };
        Ok(Proposal {
            config: document.into_config().map_err(ApiError::Invalid)?,
            summary: format!("{verb} {}/{label}", kind.key()),
            always: false,
        })
    })
    .await?;
    let created = find(&committed.previous.config, kind, &name).is_err();
    let status = if created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok((status, entity_response(&committed, kind, &name)?))
}

pub async fn delete(
    State(state): State<AppState>,
    kind: Kind,
    Path(name): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let label = name.clone();
    let committed = commit(&state, move |previous| {
        let mut document = Document::from_config(&previous.config)?;
        document
            .delete(kind, &label)
            .map_err(|e| edit_error(kind, &label, e))?;
        Ok(Proposal {
            config: document.into_config().map_err(ApiError::Invalid)?,
            summary: format!("delete {}/{label}", kind.key()),
            always: false,
        })
    })
    .await?;
    Ok(Json(
        json!({"version": committed.version, "changed": committed.created}),
    ))
}

fn entity_response(committed: &Committed, kind: Kind, name: &str) -> Result<Json<Value>, ApiError> {
    Ok(Json(json!({
        "version": committed.version,
        "changed": committed.created,
        // As stored: with every default filled in.
        "data": find(&committed.config, kind, name)?,
    })))
}

fn find(config: &cp_sync::config::Config, kind: Kind, name: &str) -> Result<Value, ApiError> {
    kind.entities(config)?
        .into_iter()
        .find(|entity| name_of(entity) == Some(name))
        .ok_or_else(|| ApiError::NotFound(format!("no {} named {name:?}", kind.singular())))
}

fn parse_entity(body: &[u8]) -> Result<Value, ApiError> {
    serde_json::from_slice(body)
        .map_err(|e| ApiError::bad_request(format!("request body is not valid JSON: {e}")))
}

fn edit_error(kind: Kind, name: &str, error: EditError) -> ApiError {
    let what = kind.singular();
    match error {
        EditError::NotAnObject => {
            ApiError::bad_request(format!("request body must be a JSON object (one {what})"))
        }
        EditError::NotFound => ApiError::NotFound(format!("no {what} named {name:?}")),
        EditError::Exists => ApiError::Conflict(format!(
            "a {what} named {name:?} already exists; use PUT /v1/{}/{name} to replace it",
            kind.key()
        )),
        EditError::NameMismatch { body } => ApiError::bad_request(format!(
            "name {body:?} in the body differs from {name:?} in the URL; renaming is not supported: create the new {what} and delete the old one"
        )),
    }
}
