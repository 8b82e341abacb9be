//! `--log-format`: every line of the chosen format parses, and the line a
//! connection close writes carries its reason, duration and bytes.

use std::time::Duration;

use crate::support::gateway::Gateway;
use crate::{gateway, SilentBackend};

const WAIT: Duration = Duration::from_secs(30);

/// Runs a gateway in `format`, closes one connection through it, stops it
/// and returns the whole log.
fn log_of_one_connection(format: &str) -> String {
    let backend = SilentBackend::new();
    let mut gw: Gateway = gateway(&backend.addr(), &["--log-format", format], &[]);
    gw.wait_log("sluice is serving", WAIT);
    crate::speak_and_wait_for_close(&gw.bootstrap());
    gw.wait_log("connection closed", WAIT);
    assert!(gw.stop().success());
    gw.logs()
}

#[test]
fn json_lines_carry_reason_duration_and_bytes() {
    let log = log_of_one_connection("json");
    let mut close = None;
    for line in log.lines().filter(|l| !l.trim().is_empty()) {
        let event: serde_json::Value =
            serde_json::from_str(line).unwrap_or_else(|e| panic!("not JSON ({e}): {line}"));
        if event["message"] == "connection closed" {
            close = Some(event);
        }
    }
    let close = close.unwrap_or_else(|| panic!("no close line in:\n{log}"));
    assert_eq!(close["reason_code"], "no_bootstrap", "{close}");
    assert!(
        close["reason"]
            .as_str()
            .is_some_and(|r| r.contains("kafka")),
        "{close}"
    );
    for field in ["duration_ms", "bytes_in", "bytes_out", "requests"] {
        assert!(close[field].is_u64(), "{field} missing in {close}");
    }
    assert_eq!(close["level"], "WARN");
}

#[test]
fn logfmt_lines_carry_reason_duration_and_bytes() {
    let log = log_of_one_connection("logfmt");
    for line in log.lines().filter(|l| !l.trim().is_empty()) {
        assert!(
            line.starts_with("ts=") && line.contains(" level="),
            "not logfmt: {line}"
        );
    }
    let close = (log.lines())
        .find(|l| l.contains("connection closed"))
        .unwrap_or_else(|| panic!("no close line in:\n{log}"));
    for field in [
        "reason=",
        "reason_code=no_bootstrap",
        "duration_ms=",
        "bytes_in=",
        "bytes_out=",
    ] {
        assert!(close.contains(field), "{field} missing in {close}");
    }
}

#[test]
fn text_stays_the_default() {
    let log = log_of_one_connection("text");
    let close = (log.lines())
        .find(|l| l.contains("connection closed"))
        .unwrap_or_else(|| panic!("no close line in:\n{log}"));
    assert!(
        close.contains(" WARN ") && close.contains("reason_code=\"no_bootstrap\""),
        "{close}"
    );
    assert!(
        close.contains("duration_ms=") && close.contains("bytes_in="),
        "{close}"
    );
}
