//! A blocking client for the admin API, used by the CLI (and handy in
//! tests).

use std::path::Path;

use cp_sync::config::ConfigError;
use cp_sync::remote::https_agent;
use serde_json::Value;
use ureq::Agent;

use crate::secret::AdminToken;

#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    #[error("{0}")]
    Setup(String),
    #[error("cannot reach the control plane at {url}: {message}")]
    Transport { url: String, message: String },
    #[error("HTTP {status}: {message}")]
    Api {
        status: u16,
        message: String,
        errors: Vec<ConfigError>,
    },
}

/// The admin API at one URL, with one token. `Debug` hides the token.
#[derive(Debug)]
pub struct AdminClient {
    agent: Agent,
    base: String,
    token: Option<AdminToken>,
}

#[derive(Debug, Clone, Copy)]
pub enum Verb {
    Get,
    Put,
    Post,
    Delete,
}

impl AdminClient {
    /// `ca`: the control plane's CA certificate (`DATA_DIR/ca.pem`); without
    /// it the server must have a certificate from a public CA.
    pub fn new(
        url: &str,
        token: Option<AdminToken>,
        ca: Option<&Path>,
    ) -> Result<Self, ClientError> {
        let base = url.trim_end_matches('/').to_owned();
        if !base.starts_with("https://") {
            return Err(ClientError::Setup(format!(
                "control plane URL {url:?} must start with https://"
            )));
        }
        let agent = https_agent(ca, None, Some(std::time::Duration::from_secs(60)))
            .map_err(|e| ClientError::Setup(e.to_string()))?;
        Ok(AdminClient { agent, base, token })
    }

    pub fn get(&self, path: &str) -> Result<Value, ClientError> {
        self.call(Verb::Get, path, None)
    }

    pub fn post_json(&self, path: &str, body: &Value) -> Result<Value, ClientError> {
        self.call(
            Verb::Post,
            path,
            Some(("application/json", body.to_string())),
        )
    }

    /// Sends `body` with its content type and returns the JSON answer
    /// (`null` for an empty one); a 4xx/5xx answer becomes
    /// [`ClientError::Api`] with the server's message and errors.
    pub fn call(
        &self,
        verb: Verb,
        path: &str,
        body: Option<(&str, String)>,
    ) -> Result<Value, ClientError> {
        let url = format!("{}{path}", self.base);
        let auth = self
            .token
            .as_ref()
            .map(|token| format!("Bearer {}", token.expose()));
        let result = match (verb, body) {
            (Verb::Get, _) => with_auth(self.agent.get(&url), auth).call(),
            (Verb::Delete, _) => with_auth(self.agent.delete(&url), auth).call(),
            (Verb::Put, body) => send(with_auth(self.agent.put(&url), auth), body),
            (Verb::Post, body) => send(with_auth(self.agent.post(&url), auth), body),
        };
        let mut response = result.map_err(|e| ClientError::Transport {
            url: self.base.clone(),
            message: e.to_string(),
        })?;
        let status = response.status().as_u16();
        let text = response
            .body_mut()
            .read_to_string()
            .map_err(|e| ClientError::Transport {
                url: self.base.clone(),
                message: format!("reading the answer: {e}"),
            })?;
        let value = if text.trim().is_empty() {
            Value::Null
        } else {
            serde_json::from_str(&text).unwrap_or(Value::String(text))
        };
        if status >= 400 {
            return Err(api_error(status, &value));
        }
        Ok(value)
    }
}

fn with_auth<B>(request: ureq::RequestBuilder<B>, auth: Option<String>) -> ureq::RequestBuilder<B> {
    match auth {
        Some(value) => request.header("authorization", value),
        None => request,
    }
}

fn send(
    request: ureq::RequestBuilder<ureq::typestate::WithBody>,
    body: Option<(&str, String)>,
) -> Result<ureq::http::Response<ureq::Body>, ureq::Error> {
    match body {
        Some((content_type, text)) => request.header("content-type", content_type).send(text),
        None => request.send_empty(),
    }
}

fn api_error(status: u16, value: &Value) -> ClientError {
    let message = value
        .get("error")
        .and_then(Value::as_str)
        .map(str::to_owned)
        .unwrap_or_else(|| value.to_string());
    let errors = value
        .get("errors")
        .cloned()
        .and_then(|errors| serde_json::from_value(errors).ok())
        .unwrap_or_default();
    ClientError::Api {
        status,
        message,
        errors,
    }
}
