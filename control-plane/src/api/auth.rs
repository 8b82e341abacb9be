//! Who may call what: admin routes need the bearer token, data-plane routes
//! a node certificate from the control plane's CA.

use axum::extract::{FromRequestParts, Request, State};
use axum::http::header;
use axum::http::request::Parts;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use super::{ApiError, AppState};
use crate::tls::PeerIdentity;

/// Middleware for admin routes.
pub async fn require_admin(
    State(state): State<AppState>,
    request: Request,
    next: Next,
) -> Response {
    let presented = request
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| {
            // The scheme name is case-insensitive (RFC 9110).
            let (scheme, token) = value.split_once(' ')?;
            scheme.eq_ignore_ascii_case("bearer").then_some(token)
        });
    match presented {
        Some(token) if state.token().matches(token.trim()) => next.run(request).await,
        Some(_) => ApiError::Unauthorized("invalid bearer token".into()).into_response(),
        None => ApiError::Unauthorized(
            "missing bearer token: send Authorization: Bearer <admin token>".into(),
        )
        .into_response(),
    }
}

/// The node a data-plane request comes from: the common name of its client
/// certificate, which the control plane's CA signed.
#[derive(Debug, Clone)]
pub struct Node(pub String);

impl<S: Send + Sync> FromRequestParts<S> for Node {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        match parts.extensions.get::<PeerIdentity>() {
            Some(PeerIdentity::Node(id)) => Ok(Node(id.clone())),
            Some(PeerIdentity::Rejected(reason)) => Err(ApiError::Forbidden(reason.clone())),
            Some(PeerIdentity::Anonymous) | None => Err(ApiError::Unauthorized(
                "client certificate required: data-plane endpoints need the node certificate issued by this control plane (sluice-cp issue-cert or POST /v1/certificates)".into(),
            )),
        }
    }
}
