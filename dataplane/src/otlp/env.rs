//! The standard OpenTelemetry exporter variables, as far as metrics over
//! OTLP/HTTP go: endpoint (generic or metrics-specific), headers, interval,
//! timeout, protocol, service name and resource attributes.

use std::time::Duration;

use super::MIN_INTERVAL;

const DEFAULT_INTERVAL: Duration = Duration::from_secs(60);
const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);

#[derive(Clone)]
pub struct OtlpConfig {
    pub endpoint: String,
    /// Sent with every export; never logged (they usually hold credentials).
    pub headers: Vec<(String, String)>,
    pub interval: Duration,
    pub timeout: Duration,
    pub resource: Vec<(String, String)>,
}

impl std::fmt::Debug for OtlpConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let header_names: Vec<&str> = self.headers.iter().map(|(k, _)| k.as_str()).collect();
        f.debug_struct("OtlpConfig")
            .field("endpoint", &self.endpoint_for_logs())
            .field("header_names", &header_names)
            .field("interval", &self.interval)
            .field("timeout", &self.timeout)
            .field("resource", &self.resource)
            .finish()
    }
}

impl OtlpConfig {
    /// The endpoint without user info or query, either of which may carry
    /// a credential: what logs and `Debug` show.
    pub fn endpoint_for_logs(&self) -> String {
        let (scheme, rest) = self
            .endpoint
            .split_once("://")
            .unwrap_or(("", &self.endpoint));
        let rest = rest.split(['?', '#']).next().unwrap_or_default();
        let (authority, path) = rest.split_once('/').map_or((rest, ""), |(a, p)| (a, p));
        let host = authority
            .rsplit_once('@')
            .map_or(authority, |(_, host)| host);
        match scheme {
            "" => format!("{host}/{path}"),
            _ => format!("{scheme}://{host}/{path}"),
        }
    }

    /// `Ok(None)` when no endpoint is configured (or metrics export is
    /// turned off); `Err` names a setting sluice cannot honour.
    pub fn from_env(
        env: impl Fn(&str) -> Option<String>,
        node_id: &str,
    ) -> Result<Option<OtlpConfig>, String> {
        let var = |name: &str| {
            env(name)
                .map(|v| v.trim().to_string())
                .filter(|v| !v.is_empty())
        };
        let disabled = var("OTEL_SDK_DISABLED").is_some_and(|v| v.eq_ignore_ascii_case("true"))
            || var("OTEL_METRICS_EXPORTER").is_some_and(|v| v.eq_ignore_ascii_case("none"));
        let endpoint = match (
            var("OTEL_EXPORTER_OTLP_METRICS_ENDPOINT"),
            var("OTEL_EXPORTER_OTLP_ENDPOINT"),
        ) {
            (Some(metrics), _) => metrics,
            (None, Some(base)) => format!("{}/v1/metrics", base.trim_end_matches('/')),
            (None, None) => return Ok(None),
        };
        if disabled {
            return Ok(None);
        }
        let protocol = var("OTEL_EXPORTER_OTLP_METRICS_PROTOCOL")
            .or_else(|| var("OTEL_EXPORTER_OTLP_PROTOCOL"));
        if let Some(protocol) = protocol.filter(|p| p != "http/protobuf") {
            return Err(format!("OTLP protocol {protocol:?} is not supported; sluice exports metrics with http/protobuf only"));
        }
        let mut headers = pairs(&var("OTEL_EXPORTER_OTLP_HEADERS").unwrap_or_default());
        for (name, value) in pairs(&var("OTEL_EXPORTER_OTLP_METRICS_HEADERS").unwrap_or_default()) {
            headers.retain(|(n, _)| !n.eq_ignore_ascii_case(&name));
            headers.push((name, value));
        }
        let millis = |name: &str| {
            var(name)
                .and_then(|v| v.parse::<u64>().ok())
                .map(Duration::from_millis)
        };
        let interval = millis("OTEL_METRIC_EXPORT_INTERVAL")
            .unwrap_or(DEFAULT_INTERVAL)
            .max(MIN_INTERVAL);
        let timeout = (millis("OTEL_EXPORTER_OTLP_METRICS_TIMEOUT")
            .or_else(|| millis("OTEL_EXPORTER_OTLP_TIMEOUT")))
        .unwrap_or(DEFAULT_TIMEOUT);
        let resource = resource(
            var("OTEL_RESOURCE_ATTRIBUTES"),
            var("OTEL_SERVICE_NAME"),
            node_id,
        );
        Ok(Some(OtlpConfig {
            endpoint,
            headers,
            interval,
            timeout,
            resource,
        }))
    }
}

/// `OTEL_SERVICE_NAME` wins over a `service.name` attribute; sluice adds
/// its version and the node id unless the operator set them.
fn resource(
    attributes: Option<String>,
    service: Option<String>,
    node_id: &str,
) -> Vec<(String, String)> {
    let mut out = pairs(&attributes.unwrap_or_default());
    let mut set = |key: &str, value: String, replace: bool| {
        let present = out.iter().any(|(k, _)| k == key);
        if replace {
            out.retain(|(k, _)| k != key);
        }
        if replace || !present {
            out.push((key.to_string(), value));
        }
    };
    match service {
        Some(name) => set("service.name", name, true),
        None => set("service.name", "sluice".into(), false),
    }
    set("service.version", env!("CARGO_PKG_VERSION").into(), false);
    set("service.instance.id", node_id.to_string(), false);
    out
}

/// `k1=v1,k2=v2` with percent-encoded values (the W3C baggage form the
/// OpenTelemetry variables use). Malformed entries are skipped.
fn pairs(text: &str) -> Vec<(String, String)> {
    (text.split(','))
        .filter_map(|entry| entry.split_once('='))
        .map(|(k, v)| (percent_decode(k.trim()), percent_decode(v.trim())))
        .filter(|(k, _)| !k.is_empty())
        .collect()
}

fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = bytes
            .get(i + 1..i + 3)
            .and_then(|h| std::str::from_utf8(h).ok());
        match (bytes[i], hex.and_then(|h| u8::from_str_radix(h, 16).ok())) {
            (b'%', Some(byte)) => {
                out.push(byte);
                i += 3;
            }
            (byte, _) => {
                out.push(byte);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn config(vars: &[(&str, &str)]) -> Result<Option<OtlpConfig>, String> {
        let vars: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        OtlpConfig::from_env(|name| vars.get(name).cloned(), "node-1")
    }

    #[test]
    fn off_without_an_endpoint() {
        assert!(config(&[("OTEL_SERVICE_NAME", "x")]).unwrap().is_none());
        let off = [
            ("OTEL_EXPORTER_OTLP_ENDPOINT", "http://c:4318"),
            ("OTEL_METRICS_EXPORTER", "none"),
        ];
        assert!(config(&off).unwrap().is_none());
    }

    #[test]
    fn standard_variables_are_honoured() {
        let c = config(&[
            ("OTEL_EXPORTER_OTLP_ENDPOINT", "http://collector:4318/"),
            (
                "OTEL_EXPORTER_OTLP_HEADERS",
                "Authorization=Bearer%20abc,x-tenant=a",
            ),
            ("OTEL_EXPORTER_OTLP_METRICS_HEADERS", "X-Tenant=b"),
            ("OTEL_METRIC_EXPORT_INTERVAL", "5000"),
            (
                "OTEL_RESOURCE_ATTRIBUTES",
                "deployment.environment=prod,service.name=ignored",
            ),
            ("OTEL_SERVICE_NAME", "gw"),
        ])
        .unwrap()
        .unwrap();
        assert_eq!(c.endpoint, "http://collector:4318/v1/metrics");
        assert_eq!(c.interval, Duration::from_secs(5));
        assert_eq!(
            c.headers,
            vec![
                ("Authorization".into(), "Bearer abc".into()),
                ("X-Tenant".into(), "b".into())
            ]
        );
        let get = |k: &str| {
            c.resource
                .iter()
                .find(|(key, _)| key == k)
                .map(|(_, v)| v.as_str())
        };
        assert_eq!(get("service.name"), Some("gw"));
        assert_eq!(get("deployment.environment"), Some("prod"));
        assert_eq!(get("service.instance.id"), Some("node-1"));
        assert!(
            !format!("{c:?}").contains("abc"),
            "headers must not reach Debug output"
        );
    }

    #[test]
    fn metrics_endpoint_is_used_as_is_and_grpc_is_refused() {
        let c = config(&[("OTEL_EXPORTER_OTLP_METRICS_ENDPOINT", "http://c:9/custom")])
            .unwrap()
            .unwrap();
        assert_eq!(c.endpoint, "http://c:9/custom");
        let secret = "https://u:pw@c:9/v1/metrics?token=pw";
        let c = config(&[("OTEL_EXPORTER_OTLP_METRICS_ENDPOINT", secret)])
            .unwrap()
            .unwrap();
        assert_eq!(c.endpoint_for_logs(), "https://c:9/v1/metrics");
        assert!(!format!("{c:?}").contains("pw"));
        let grpc = [
            ("OTEL_EXPORTER_OTLP_ENDPOINT", "http://c:4317"),
            ("OTEL_EXPORTER_OTLP_PROTOCOL", "grpc"),
        ];
        assert!(config(&grpc).unwrap_err().contains("grpc"));
    }
}
