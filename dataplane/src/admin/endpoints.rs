//! What each admin endpoint answers. Pure: no I/O, so the answers are
//! tested without a socket and the server module only carries them.

use hyper::header::{HeaderValue, CONTENT_TYPE};
use hyper::{Method, Response, StatusCode};

use super::AdminState;
use crate::metrics::render;

/// A response: status, content type, body.
#[derive(Debug, PartialEq, Eq)]
pub struct Answer {
    pub status: StatusCode,
    pub content_type: String,
    pub body: String,
}

impl Answer {
    fn text(status: StatusCode, body: &str) -> Answer {
        Answer {
            status,
            content_type: "text/plain; charset=utf-8".into(),
            body: format!("{body}\n"),
        }
    }

    /// The HTTP response; hyper leaves the body out for HEAD and keeps
    /// its Content-Length.
    pub fn into_response(self) -> Response<String> {
        let mut response = Response::new(self.body);
        *response.status_mut() = self.status;
        if let Ok(value) = HeaderValue::from_str(&self.content_type) {
            response.headers_mut().insert(CONTENT_TYPE, value);
        }
        response
    }
}

/// The answer to `method path` (`path` without its query).
pub fn answer(method: &Method, path: &str, state: &AdminState) -> Answer {
    if *method != Method::GET && *method != Method::HEAD {
        return Answer::text(StatusCode::METHOD_NOT_ALLOWED, "only GET");
    }
    match path {
        "/metrics" => Answer {
            status: StatusCode::OK,
            content_type: render::text_content_type(),
            body: state.hub.render_text(),
        },
        "/health/probes/liveness" => Answer::text(StatusCode::OK, "alive"),
        "/health/probes/readiness" => readiness(state),
        "/status" => {
            let json = state.status.to_json(state.hub.readiness());
            Answer {
                status: StatusCode::OK,
                content_type: "application/json".into(),
                body: serde_json::to_string_pretty(&json).unwrap_or_default(),
            }
        }
        _ => Answer::text(
            StatusCode::NOT_FOUND,
            "not found; try /metrics, /health/probes/liveness, /health/probes/readiness or /status",
        ),
    }
}

fn readiness(state: &AdminState) -> Answer {
    let readiness = state.hub.readiness();
    match readiness.is_ready() {
        true => Answer::text(StatusCode::OK, "ready"),
        false if readiness.is_draining() => {
            Answer::text(StatusCode::SERVICE_UNAVAILABLE, "draining")
        }
        false => Answer::text(StatusCode::SERVICE_UNAVAILABLE, "not ready"),
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::admin::status::StatusBoard;
    use crate::metrics::MetricsHub;
    use crate::readiness::Readiness;

    fn state() -> AdminState {
        let (hub, _observers) = MetricsHub::new(1, true, Arc::new(Readiness::new(1, true)));
        let status = Arc::new(StatusBoard::new("node".into(), 1));
        AdminState { hub, status }
    }

    #[test]
    fn probes_answer_get_and_head_and_refuse_other_methods() {
        let state = state();
        let live = answer(&Method::GET, "/health/probes/liveness", &state);
        assert_eq!(live, Answer::text(StatusCode::OK, "alive"));
        let head = answer(&Method::HEAD, "/health/probes/liveness", &state);
        assert_eq!(head, live);
        let post = answer(&Method::POST, "/health/probes/liveness", &state);
        assert_eq!(post.status, StatusCode::METHOD_NOT_ALLOWED);
        assert_eq!(post.body, "only GET\n");
        let ready = answer(&Method::GET, "/health/probes/readiness", &state);
        assert_eq!(
            ready,
            Answer::text(StatusCode::SERVICE_UNAVAILABLE, "not ready")
        );
        state.hub.readiness().set_draining();
        let draining = answer(&Method::GET, "/health/probes/readiness", &state);
        assert_eq!(draining.body, "draining\n");
    }

    #[test]
    fn metrics_status_and_unknown_paths() {
        let state = state();
        let metrics = answer(&Method::GET, "/metrics", &state);
        assert_eq!(metrics.content_type, render::text_content_type());
        assert!(
            metrics.body.contains("sluice_build_info"),
            "{}",
            metrics.body
        );
        let status = answer(&Method::GET, "/status", &state);
        assert_eq!(status.content_type, "application/json");
        let json: serde_json::Value = serde_json::from_str(&status.body).unwrap();
        assert_eq!(json["node_id"], "node");
        let missing = answer(&Method::GET, "/nope", &state);
        assert_eq!(missing.status, StatusCode::NOT_FOUND);
    }

    #[test]
    fn a_response_carries_status_type_and_body() {
        let response = Answer::text(StatusCode::NOT_FOUND, "x").into_response();
        assert_eq!(response.status(), StatusCode::NOT_FOUND);
        let content_type = response.headers().get(CONTENT_TYPE).unwrap();
        assert_eq!(content_type, "text/plain; charset=utf-8");
        assert_eq!(response.body(), "x\n");
    }
}
