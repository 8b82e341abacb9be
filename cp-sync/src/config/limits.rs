//! A listener's `limits`: how many client connections it takes (in all,
//! and per client IP address) and the client timeouts. Counts span every
//! shard of a node. A change applies to connections accepted after it, so
//! changing only `limits` closes no open connection.

use std::collections::BTreeMap;
use std::net::IpAddr;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use serde_yaml_ng::Value;

use super::document::decode;
use super::errors::{DocPath, ErrorList};

pub const DEFAULT_FIRST_FRAME_TIMEOUT_MS: u64 = 10_000;
pub const DEFAULT_FRAME_TIMEOUT_MS: u64 = 30_000;
pub const DEFAULT_IDLE_TIMEOUT_MS: u64 = 600_000;
/// The longest timeout a listener takes: Kafka's own timeouts are 32-bit
/// milliseconds, and a bound keeps every deadline far from `Instant`'s end.
pub const MAX_TIMEOUT_MS: u64 = i32::MAX as u64;

/// Limits on a listener's client connections.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ListenerLimits {
    /// Client connections open at once on this listener; `None`: no limit.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_connections: Option<u32>,
    /// Client connections open at once from one IP address on this
    /// listener; `None`: no limit. 0 admits only the overridden addresses.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_connections_per_ip: Option<u32>,
    /// Per-address limits that replace `max_connections_per_ip` (0 refuses
    /// the address).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub max_connections_per_ip_overrides: BTreeMap<IpAddr, u32>,
    /// Time from accept to the client's first complete request; 0: none.
    #[serde(default = "default_first_frame_timeout_ms")]
    pub first_frame_timeout_ms: u64,
    /// Time from a request's first byte to its last; 0: none.
    #[serde(default = "default_frame_timeout_ms")]
    pub frame_timeout_ms: u64,
    /// Time a connection may stay with nothing in flight; 0: none.
    #[serde(default = "default_idle_timeout_ms")]
    pub idle_timeout_ms: u64,
}

fn default_first_frame_timeout_ms() -> u64 {
    DEFAULT_FIRST_FRAME_TIMEOUT_MS
}

fn default_frame_timeout_ms() -> u64 {
    DEFAULT_FRAME_TIMEOUT_MS
}

fn default_idle_timeout_ms() -> u64 {
    DEFAULT_IDLE_TIMEOUT_MS
}

impl Default for ListenerLimits {
    fn default() -> Self {
        ListenerLimits {
            max_connections: None,
            max_connections_per_ip: None,
            max_connections_per_ip_overrides: BTreeMap::new(),
            first_frame_timeout_ms: DEFAULT_FIRST_FRAME_TIMEOUT_MS,
            frame_timeout_ms: DEFAULT_FRAME_TIMEOUT_MS,
            idle_timeout_ms: DEFAULT_IDLE_TIMEOUT_MS,
        }
    }
}

impl ListenerLimits {
    pub fn is_default(&self) -> bool {
        *self == ListenerLimits::default()
    }

    /// How many connections `ip` may hold on this listener; `None`: no limit.
    pub fn per_ip_limit(&self, ip: IpAddr) -> Option<u32> {
        let overridden = self.max_connections_per_ip_overrides.get(&ip).copied();
        overridden.or(self.max_connections_per_ip)
    }

    pub fn first_frame_timeout(&self) -> Option<Duration> {
        timeout(self.first_frame_timeout_ms)
    }

    pub fn frame_timeout(&self) -> Option<Duration> {
        timeout(self.frame_timeout_ms)
    }

    pub fn idle_timeout(&self) -> Option<Duration> {
        timeout(self.idle_timeout_ms)
    }
}

/// 0 turns a timeout off.
fn timeout(ms: u64) -> Option<Duration> {
    (ms > 0).then(|| Duration::from_millis(ms.min(MAX_TIMEOUT_MS)))
}

/// A `limits` mapping. Fields stay raw so each gets its own message and
/// one bad field does not hide the others.
#[derive(Deserialize)]
#[serde(expecting = "a limits mapping like {max_connections: 1000}")]
struct RawListenerLimits {
    max_connections: Option<Value>,
    max_connections_per_ip: Option<Value>,
    max_connections_per_ip_overrides: Option<Value>,
    first_frame_timeout_ms: Option<Value>,
    frame_timeout_ms: Option<Value>,
    idle_timeout_ms: Option<Value>,
}

/// Decodes a listener's `limits` (found at `at`). A field that fails keeps
/// its default, so the listener is still checked as a whole.
pub(super) fn build_limits(value: &Value, at: &DocPath, errors: &mut ErrorList) -> ListenerLimits {
    let mut limits = ListenerLimits::default();
    if value.is_null() {
        return limits;
    }
    let Some(raw) = decode::<RawListenerLimits>(value, at, errors) else {
        return limits;
    };
    let count = |field: &str, value: &Option<Value>, errors: &mut ErrorList| {
        let value = value.as_ref()?;
        whole_number(value, &at.key(field), u64::from(u32::MAX), errors)
            .and_then(|n| u32::try_from(n).ok())
    };
    limits.max_connections = count("max_connections", &raw.max_connections, errors);
    limits.max_connections_per_ip = count(
        "max_connections_per_ip",
        &raw.max_connections_per_ip,
        errors,
    );
    if let Some(overrides) = &raw.max_connections_per_ip_overrides {
        let at = at.key("max_connections_per_ip_overrides");
        limits.max_connections_per_ip_overrides = build_overrides(overrides, &at, errors);
    }
    let timeouts = [
        (
            "first_frame_timeout_ms",
            &raw.first_frame_timeout_ms,
            &mut limits.first_frame_timeout_ms,
        ),
        (
            "frame_timeout_ms",
            &raw.frame_timeout_ms,
            &mut limits.frame_timeout_ms,
        ),
        (
            "idle_timeout_ms",
            &raw.idle_timeout_ms,
            &mut limits.idle_timeout_ms,
        ),
    ];
    for (field, value, slot) in timeouts {
        let Some(value) = value else { continue };
        if let Some(ms) = whole_number(value, &at.key(field), MAX_TIMEOUT_MS, errors) {
            *slot = ms;
        }
    }
    limits
}

/// `{"<ip address>": <count>, ...}`: addresses are keys, so each is listed once.
fn build_overrides(value: &Value, at: &DocPath, errors: &mut ErrorList) -> BTreeMap<IpAddr, u32> {
    let mut overrides = BTreeMap::new();
    let Value::Mapping(map) = value else {
        errors.push(
            at.clone(),
            "must be a mapping of IP address to connection count, e.g. {\"10.0.0.7\": 200}",
        );
        return overrides;
    };
    // Keys are strings: the document check refused any other key already.
    for (key, count) in map.iter().filter_map(|(k, v)| Some((k.as_str()?, v))) {
        let path = at.key(key);
        let limit = whole_number(count, &path, u64::from(u32::MAX), errors);
        let Ok(ip) = key.parse::<IpAddr>() else {
            errors.push(
                path,
                format!("{key:?} is not an IP address (IPv4 or IPv6, no port, no prefix length)"),
            );
            continue;
        };
        let Some(limit) = limit.and_then(|n| u32::try_from(n).ok()) else {
            continue;
        };
        if overrides.insert(ip, limit).is_some() {
            errors.push(
                path,
                format!("{ip} is listed twice (in another spelling); list it once"),
            );
        }
    }
    overrides
}

/// An integer from 0 to `max`, or an error at `at` naming the range.
fn whole_number(value: &Value, at: &DocPath, max: u64, errors: &mut ErrorList) -> Option<u64> {
    let n = value.as_u64().filter(|n| *n <= max);
    if n.is_none() {
        errors.push(at.clone(), format!("must be an integer from 0 to {max}"));
    }
    n
}

/// Rules a typed value can break (a config built in code, or one sent to
/// the control plane, runs these too).
pub(super) fn check_limits(limits: &ListenerLimits, at: &DocPath, errors: &mut ErrorList) {
    if limits.max_connections == Some(0) {
        errors.push(
            at.key("max_connections"),
            "0 would refuse every client; set at least 1, or leave it out for no limit",
        );
    }
    if limits.max_connections_per_ip == Some(0)
        && limits.max_connections_per_ip_overrides.is_empty()
    {
        errors.push(
            at.key("max_connections_per_ip"),
            "0 admits only the addresses in max_connections_per_ip_overrides, and there are \
             none; list them, set at least 1, or leave it out for no limit",
        );
    }
    let timeouts = [
        ("first_frame_timeout_ms", limits.first_frame_timeout_ms),
        ("frame_timeout_ms", limits.frame_timeout_ms),
        ("idle_timeout_ms", limits.idle_timeout_ms),
    ];
    for (field, ms) in timeouts {
        if ms > MAX_TIMEOUT_MS {
            let message = format!("must be an integer from 0 to {MAX_TIMEOUT_MS}");
            errors.push(at.key(field), message);
        }
    }
}
