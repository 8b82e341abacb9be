//! HTTPS to the control plane with ureq: the client certificate that names
//! this node, the CA that signed the control plane's certificate, and the
//! two calls a node makes (long poll, report).

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use serde::Serialize;
use ureq::tls::{Certificate, ClientCert, PemItem, PrivateKey, RootCerts, TlsConfig, TlsProvider};
use ureq::Agent;

use super::RemoteError;
use crate::config::ConfigError;

/// How long connecting may take before the control plane counts as down.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
/// Added to the long-poll wait for the answer to travel back.
const POLL_MARGIN: Duration = Duration::from_secs(15);
/// For calls that answer at once (first fetch, reports).
const QUICK_TIMEOUT: Duration = Duration::from_secs(15);

/// Reads PEM certificates from `path` (for a CA bundle or a chain).
pub fn read_certificates(path: &Path) -> Result<Vec<Certificate<'static>>, RemoteError> {
    let bytes = std::fs::read(path).map_err(|e| RemoteError::file(path, e.to_string()))?;
    let mut certificates = Vec::new();
    for item in ureq::tls::parse_pem(&bytes) {
        match item {
            Ok(PemItem::Certificate(certificate)) => certificates.push(certificate),
            Ok(_) => {}
            Err(e) => return Err(RemoteError::file(path, format!("invalid PEM: {e}"))),
        }
    }
    if certificates.is_empty() {
        return Err(RemoteError::file(path, "no certificate found in PEM"));
    }
    Ok(certificates)
}

fn read_private_key(path: &Path) -> Result<PrivateKey<'static>, RemoteError> {
    let bytes = std::fs::read(path).map_err(|e| RemoteError::file(path, e.to_string()))?;
    for item in ureq::tls::parse_pem(&bytes) {
        match item {
            Ok(PemItem::PrivateKey(key)) => return Ok(key),
            Ok(_) => {}
            // The message names the PEM problem, never key material.
            Err(e) => return Err(RemoteError::file(path, format!("invalid PEM: {e}"))),
        }
    }
    Err(RemoteError::file(path, "no private key found in PEM"))
}

/// A ureq agent over rustls with the ring provider (like the rest of the
/// workspace), trusting `ca` (or the web PKI roots without one) and
/// presenting `identity` (certificate chain file, key file) when given.
/// HTTP error statuses are returned as responses, so callers can show the
/// server's JSON error.
pub fn https_agent(
    ca: Option<&Path>,
    identity: Option<(&Path, &Path)>,
    timeout: Option<Duration>,
) -> Result<Agent, RemoteError> {
    let mut tls = TlsConfig::builder()
        .provider(TlsProvider::Rustls)
        .unversioned_rustls_crypto_provider(Arc::new(rustls::crypto::ring::default_provider()));
    if let Some(ca) = ca {
        tls = tls.root_certs(RootCerts::Specific(Arc::new(read_certificates(ca)?)));
    }
    if let Some((cert, key)) = identity {
        let chain = read_certificates(cert)?;
        tls = tls.client_cert(Some(ClientCert::new_with_certs(
            &chain,
            read_private_key(key)?,
        )));
    }
    let config = Agent::config_builder()
        .tls_config(tls.build())
        .http_status_as_error(false)
        .timeout_connect(Some(CONNECT_TIMEOUT))
        .timeout_global(timeout)
        .build();
    Ok(config.into())
}

/// One answer to a long poll.
#[derive(Debug)]
pub(crate) enum Poll {
    /// A version other than the one asked about; `config` is JSON text.
    Changed {
        version: u64,
        config: String,
    },
    Unchanged,
}

/// The control plane as a node sees it.
pub(crate) struct CpClient {
    base: String,
    polls: Agent,
    quick: Agent,
    hostname: String,
}

#[derive(Serialize)]
struct Report<'a> {
    hostname: &'a str,
    sluice_version: &'a str,
    applied_version: Option<u64>,
    errors: &'a [ConfigError],
}

pub(crate) const SLUICE_VERSION: &str = env!("CARGO_PKG_VERSION");

impl CpClient {
    pub(crate) fn new(options: &super::RemoteOptions) -> Result<CpClient, RemoteError> {
        let base = options.url.trim_end_matches('/').to_owned();
        if !base.starts_with("https://") {
            return Err(RemoteError::Url(format!(
                "control plane URL {:?} must start with https:// (nodes authenticate with a client certificate)",
                options.url
            )));
        }
        let identity = Some((options.cert.as_path(), options.key.as_path()));
        let ca = Some(options.ca.as_path());
        Ok(CpClient {
            polls: https_agent(ca, identity, Some(options.poll_wait + POLL_MARGIN))?,
            quick: https_agent(ca, identity, Some(QUICK_TIMEOUT))?,
            base,
            hostname: local_hostname(),
        })
    }

    pub(crate) fn url(&self) -> &str {
        &self.base
    }

    /// `known`: the newest version this node has (None asks for the current
    /// one at once). `applied`: the version it runs.
    pub(crate) fn poll(
        &self,
        known: Option<u64>,
        applied: Option<u64>,
        wait: Duration,
    ) -> Result<Poll, String> {
        let mut url = format!(
            "{}/v1/dataplane/config?wait_ms={}",
            self.base,
            wait.as_millis()
        );
        if let Some(version) = known {
            url.push_str(&format!("&version={version}"));
        }
        if let Some(version) = applied {
            url.push_str(&format!("&applied_version={version}"));
        }
        let agent = if known.is_some() {
            &self.polls
        } else {
            &self.quick
        };
        let mut response = agent
            .get(&url)
            .header("x-sluice-hostname", &self.hostname)
            .header("x-sluice-version", SLUICE_VERSION)
            .call()
            .map_err(|e| format!("cannot reach the control plane at {}: {e}", self.base))?;
        let status = response.status().as_u16();
        let body = response
            .body_mut()
            .read_to_string()
            .map_err(|e| format!("reading the control plane's answer: {e}"))?;
        match status {
            200 => parse_update(&body),
            204 => Ok(Poll::Unchanged),
            _ => Err(refusal(status, &body)),
        }
    }

    /// Tells the control plane what this node runs and what went wrong with
    /// its last attempt (an empty list: nothing).
    pub(crate) fn report(
        &self,
        applied: Option<u64>,
        errors: &[ConfigError],
    ) -> Result<(), String> {
        let report = Report {
            hostname: &self.hostname,
            sluice_version: SLUICE_VERSION,
            applied_version: applied,
            errors,
        };
        let body = serde_json::to_string(&report).map_err(|e| e.to_string())?;
        let mut response = self
            .quick
            .post(format!("{}/v1/dataplane/report", self.base))
            .header("content-type", "application/json")
            .send(body)
            .map_err(|e| format!("cannot reach the control plane at {}: {e}", self.base))?;
        let status = response.status().as_u16();
        if (200..300).contains(&status) {
            return Ok(());
        }
        let body = response.body_mut().read_to_string().unwrap_or_default();
        Err(refusal(status, &body))
    }
}

fn parse_update(body: &str) -> Result<Poll, String> {
    let value: serde_json::Value = serde_json::from_str(body)
        .map_err(|e| format!("control plane answered with invalid JSON: {e}"))?;
    let version = value
        .get("version")
        .and_then(serde_json::Value::as_u64)
        .ok_or("control plane answer has no version")?;
    let config = value
        .get("config")
        .ok_or("control plane answer has no config")?
        .to_string();
    Ok(Poll::Changed { version, config })
}

/// The control plane's own error message when it sent one.
fn refusal(status: u16, body: &str) -> String {
    let message = serde_json::from_str::<serde_json::Value>(body)
        .ok()
        .and_then(|v| v.get("error").and_then(|e| e.as_str()).map(str::to_owned))
        .unwrap_or_else(|| body.chars().take(200).collect());
    format!("control plane answered HTTP {status}: {message}")
}

/// The host name the node reports, for operators matching nodes to hosts.
fn local_hostname() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .map(|name| name.trim().to_owned())
        .filter(|name| !name.is_empty())
        .or_else(|| std::env::var("HOSTNAME").ok())
        .unwrap_or_else(|| "unknown".into())
}
