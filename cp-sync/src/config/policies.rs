//! Virtual cluster policy chains. `produce_policies` run, in order, on every
//! Produce request of the virtual cluster; a change applies from the next
//! request of every open connection.

use serde::{Deserialize, Serialize};
use serde_yaml_ng::Value;

use super::document::{decode, split_tag, unknown_type_message};
use super::errors::{DocPath, ErrorList};
use super::raw::RawPolicy;

/// A produce policy: `{type: ..., config: {...}}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", content = "config", rename_all = "snake_case")]
pub enum ProducePolicy {
    /// Refuses Produce requests that break the limits it sets.
    ProduceLimits(ProduceLimits),
}

/// Limits on what producers may send; unset limits are not checked.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProduceLimits {
    /// The weakest acknowledgement a producer may ask for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_acks: Option<Acks>,
    /// The largest record data one partition of a request may carry.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_batch_bytes: Option<u32>,
}

/// A producer's `acks`, weakest first, so limits compare with `<`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Acks {
    /// acks=0: no response at all.
    None,
    /// acks=1: the partition leader has written it.
    Leader,
    /// acks=all (-1): every in-sync replica has it.
    All,
}

impl Acks {
    /// The value of a request's `acks` field; `None` for values Kafka
    /// itself refuses (the broker answers those with INVALID_REQUIRED_ACKS).
    pub fn from_wire(acks: i16) -> Option<Acks> {
        match acks {
            0 => Some(Acks::None),
            1 => Some(Acks::Leader),
            -1 => Some(Acks::All),
            _ => None,
        }
    }

    /// As producers are configured: `acks=0`, `acks=1`, `acks=all`.
    pub fn as_producer_setting(self) -> &'static str {
        match self {
            Acks::None => "0",
            Acks::Leader => "1",
            Acks::All => "all",
        }
    }
}

/// A `produce_limits` config. Fields stay raw so both spellings of `acks`
/// and out-of-range sizes get their own messages.
#[derive(Deserialize)]
#[serde(expecting = "a produce_limits config mapping")]
struct RawProduceLimits {
    min_acks: Option<Value>,
    max_batch_bytes: Option<Value>,
}

pub(super) fn build_produce_policies(
    chain: &[Value],
    at: &DocPath,
    errors: &mut ErrorList,
) -> Vec<ProducePolicy> {
    (chain.iter().enumerate())
        .filter_map(|(j, value)| build_produce_policy(value, &at.index(j), errors))
        .collect()
}

fn build_produce_policy(
    value: &Value,
    at: &DocPath,
    errors: &mut ErrorList,
) -> Option<ProducePolicy> {
    let (tag, rest) = split_tag(value, at, errors)?;
    if tag != "produce_limits" {
        let message = unknown_type_message("produce policy", &tag, &["produce_limits"]);
        errors.push(at.key("type"), message);
        return None;
    }
    let raw: RawPolicy = decode(&rest, at, errors)?;
    let at = at.key("config");
    let limits: RawProduceLimits = decode(&raw.config, &at, errors)?;
    if limits.min_acks.is_none() && limits.max_batch_bytes.is_none() {
        errors.push(at.clone(), "set min_acks, max_batch_bytes or both");
    }
    let min_acks = limits
        .min_acks
        .as_ref()
        .map(|v| acks(v, &at.key("min_acks"), errors));
    let max_batch_bytes = (limits.max_batch_bytes.as_ref())
        .map(|v| batch_bytes(v, &at.key("max_batch_bytes"), errors));
    Some(ProducePolicy::ProduceLimits(ProduceLimits {
        min_acks: min_acks.flatten(),
        max_batch_bytes: max_batch_bytes.flatten(),
    }))
}

/// `all`, `leader`, `none`, or the producer setting (`all`, -1, 1, 0).
fn acks(value: &Value, at: &DocPath, errors: &mut ErrorList) -> Option<Acks> {
    let parsed = match value {
        Value::String(text) => match text.as_str() {
            "all" | "-1" => Some(Acks::All),
            "leader" | "1" => Some(Acks::Leader),
            "none" | "0" => Some(Acks::None),
            _ => None,
        },
        Value::Number(n) => n
            .as_i64()
            .and_then(|n| i16::try_from(n).ok())
            .and_then(Acks::from_wire),
        _ => None,
    };
    if parsed.is_none() {
        errors.push(
            at.clone(),
            "must be all (or -1), leader (or 1) or none (or 0), as producers set acks",
        );
    }
    parsed
}

/// Kafka lengths are 32-bit signed: a record set is at most 2^31 - 1 bytes.
fn batch_bytes(value: &Value, at: &DocPath, errors: &mut ErrorList) -> Option<u32> {
    let n = value
        .as_i64()
        .filter(|n| (1..=i64::from(i32::MAX)).contains(n));
    if n.is_none() {
        errors.push(
            at.clone(),
            format!("must be an integer from 1 to {}", i32::MAX),
        );
    }
    n.and_then(|n| u32::try_from(n).ok())
}
