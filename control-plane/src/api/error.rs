//! Error answers: a status code and a JSON body
//! `{"error": "...", "errors": [{"path": "...", "message": "..."}]}`.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use cp_sync::config::{ConfigError, ConfigErrors};
use serde_json::json;
use tracing::error;

use crate::pki::PkiError;
use crate::store::StoreError;

#[derive(Debug)]
pub enum ApiError {
    /// The request cannot be understood: bad JSON or YAML syntax, a body of
    /// the wrong shape, a name that contradicts the URL.
    BadRequest {
        message: String,
        errors: Vec<ConfigError>,
    },
    Unauthorized(String),
    Forbidden(String),
    NotFound(String),
    Conflict(String),
    UnsupportedMediaType(String),
    /// The resulting configuration is invalid; every problem is listed.
    Invalid(ConfigErrors),
    Internal(String),
}

impl ApiError {
    pub fn bad_request(message: impl Into<String>) -> Self {
        ApiError::BadRequest {
            message: message.into(),
            errors: Vec::new(),
        }
    }

    fn status(&self) -> StatusCode {
        match self {
            ApiError::BadRequest { .. } => StatusCode::BAD_REQUEST,
            ApiError::Unauthorized(_) => StatusCode::UNAUTHORIZED,
            ApiError::Forbidden(_) => StatusCode::FORBIDDEN,
            ApiError::NotFound(_) => StatusCode::NOT_FOUND,
            ApiError::Conflict(_) => StatusCode::CONFLICT,
            ApiError::UnsupportedMediaType(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ApiError::Invalid(_) => StatusCode::UNPROCESSABLE_ENTITY,
            ApiError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        ApiError::Internal(e.to_string())
    }
}

impl From<serde_json::Error> for ApiError {
    fn from(e: serde_json::Error) -> Self {
        ApiError::Internal(format!("JSON encoding failed: {e}"))
    }
}

impl From<PkiError> for ApiError {
    fn from(e: PkiError) -> Self {
        match e {
            PkiError::Invalid(message) => ApiError::bad_request(message),
            other => ApiError::Internal(other.to_string()),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = self.status();
        let (message, errors) = match self {
            ApiError::BadRequest { message, errors } => (message, errors),
            ApiError::Invalid(errors) => {
                let count = errors.len();
                let noun = if count == 1 { "error" } else { "errors" };
                (
                    format!("configuration rejected ({count} {noun}); nothing was stored"),
                    errors.into_vec(),
                )
            }
            ApiError::Internal(message) => {
                error!(%message, "request failed");
                (format!("internal error: {message}"), Vec::new())
            }
            ApiError::Unauthorized(message)
            | ApiError::Forbidden(message)
            | ApiError::NotFound(message)
            | ApiError::Conflict(message)
            | ApiError::UnsupportedMediaType(message) => (message, Vec::new()),
        };
        let mut response =
            (status, Json(json!({"error": message, "errors": errors}))).into_response();
        if status == StatusCode::UNAUTHORIZED {
            response
                .headers_mut()
                .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        response
    }
}
