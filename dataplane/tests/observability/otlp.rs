//! OTLP/HTTP push: a receiver made here gets protobuf-encoded sluice
//! metrics, with the configured headers, and no header value reaches a log.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::mpsc::{channel, Sender};
use std::time::Duration;

use opentelemetry_proto::tonic::collector::metrics::v1::ExportMetricsServiceRequest;
use prost::Message;

use crate::{gateway, SilentBackend};

/// One received POST: its request line, headers (lower-cased names) and body.
struct Received {
    request_line: String,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

/// Reads one HTTP/1.1 request off `reader`; `None` at end of stream.
fn read_request(reader: &mut BufReader<TcpStream>) -> Option<Received> {
    let mut request_line = String::new();
    if reader.read_line(&mut request_line).ok()? == 0 {
        return None;
    }
    let mut headers = Vec::new();
    loop {
        let mut line = String::new();
        reader.read_line(&mut line).ok()?;
        let line = line.trim_end();
        if line.is_empty() {
            break;
        }
        let (name, value) = line.split_once(':')?;
        headers.push((name.trim().to_ascii_lowercase(), value.trim().to_string()));
    }
    let length: usize = (headers.iter())
        .find(|(n, _)| n == "content-length")
        .and_then(|(_, v)| v.parse().ok())
        .unwrap_or(0);
    let mut body = vec![0u8; length];
    reader.read_exact(&mut body).ok()?;
    Some(Received {
        request_line,
        headers,
        body,
    })
}

/// Answers every request on every connection with 200 and passes it on.
fn receiver(listener: TcpListener, out: Sender<Received>) {
    for conn in listener.incoming().flatten() {
        let out = out.clone();
        std::thread::spawn(move || {
            let Ok(mut writer) = conn.try_clone() else {
                return;
            };
            let mut reader = BufReader::new(conn);
            while let Some(request) = read_request(&mut reader) {
                let _ = writer.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
                if out.send(request).is_err() {
                    return;
                }
            }
        });
    }
}

/// Checks one export's HTTP framing and resource; returns its metric names.
fn check_export(got: &Received) -> Vec<String> {
    assert!(
        got.request_line.starts_with("POST /v1/metrics "),
        "{}",
        got.request_line
    );
    let header = |n: &str| {
        got.headers
            .iter()
            .find(|(k, _)| k == n)
            .map(|(_, v)| v.clone())
    };
    assert_eq!(
        header("content-type").as_deref(),
        Some("application/x-protobuf")
    );
    assert_eq!(
        header("authorization").as_deref(),
        Some("Bearer otlp-secret-token")
    );
    let request = ExportMetricsServiceRequest::decode(&got.body[..]).expect("protobuf body");
    let resource = &request.resource_metrics[0];
    let attrs = format!("{:?}", resource.resource);
    assert!(
        attrs.contains("sluice-test") && attrs.contains("otlp-node"),
        "{attrs}"
    );
    assert!(attrs.contains("deployment.environment"), "{attrs}");
    (resource.scope_metrics.iter())
        .flat_map(|s| s.metrics.iter().map(|m| m.name.clone()))
        .collect()
}

#[test]
fn metrics_are_pushed_as_otlp_protobuf() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let endpoint = format!("http://{}", listener.local_addr().unwrap());
    let (tx, rx) = channel();
    std::thread::spawn(move || receiver(listener, tx));
    let backend = SilentBackend::new();
    let env = [
        ("OTEL_EXPORTER_OTLP_ENDPOINT", endpoint.as_str()),
        (
            "OTEL_EXPORTER_OTLP_HEADERS",
            "authorization=Bearer%20otlp-secret-token",
        ),
        ("OTEL_METRIC_EXPORT_INTERVAL", "300"),
        ("OTEL_SERVICE_NAME", "sluice-test"),
        ("OTEL_RESOURCE_ATTRIBUTES", "deployment.environment=test"),
    ];
    let mut gw = gateway(&backend.addr(), &["--node-id", "otlp-node"], &env);
    gw.wait_log("sluice is serving", Duration::from_secs(30));
    // The first exports may predate the first shard snapshot: wait for one
    // that has the shard metrics too.
    let names = loop {
        let got = rx
            .recv_timeout(Duration::from_secs(30))
            .expect("an OTLP export");
        let names = check_export(&got);
        if names
            .iter()
            .any(|n| n == "sluice_client_connections_accepted")
        {
            break names;
        }
    };
    for name in [
        "sluice_config_loads",
        "sluice_build_info",
        "sluice_bytes_in",
        "sluice_ready",
    ] {
        assert!(names.iter().any(|n| n == name), "{name} not in {names:?}");
    }
    assert!(gw.stop().success());
    let logs = gw.logs();
    assert!(logs.contains("exporting metrics over OTLP/HTTP"), "{logs}");
    assert!(
        !logs.contains("otlp-secret-token"),
        "a header value reached the log:\n{logs}"
    );
}
