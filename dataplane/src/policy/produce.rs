//! Produce policies: what a virtual cluster lets producers send.

use bytes::Bytes;
use cp_sync::config::{Acks, ProducePolicy};
use sluice_wire::header::RequestHeader;
use sluice_wire::produce::{
    min_refusable_version, refuse_produce, summarize_produce_request, ProduceSummary,
    POLICY_VIOLATION,
};
use sluice_wire::WireError;

use crate::metrics::labels::PolicyLimit;

/// A chain of `produce_limits` policies folded into the strictest of each
/// limit: every policy in the chain must pass, so only the strictest counts.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct ProduceRules {
    min_acks: Option<Acks>,
    max_batch_bytes: Option<usize>,
}

/// What happens to one Produce request.
#[derive(Debug)]
pub enum ProduceVerdict {
    Forward,
    /// Answered by the gateway with this response; the broker never sees it.
    Refuse(Bytes, PolicyLimit),
    /// Refused, but no response can say so (acks=0, or a version too old to
    /// answer in): the connection is closed, as Kafka itself does.
    Close(String, PolicyLimit),
}

impl ProduceRules {
    pub fn compile(chain: &[ProducePolicy]) -> Self {
        let mut rules = ProduceRules::default();
        for ProducePolicy::ProduceLimits(limits) in chain {
            rules.min_acks = rules.min_acks.max(limits.min_acks);
            let max = limits.max_batch_bytes.and_then(|n| usize::try_from(n).ok());
            rules.max_batch_bytes = match (rules.max_batch_bytes, max) {
                (Some(a), Some(b)) => Some(a.min(b)),
                (a, b) => a.or(b),
            };
        }
        rules
    }

    pub fn is_empty(&self) -> bool {
        self.min_acks.is_none() && self.max_batch_bytes.is_none()
    }

    /// Checks one Produce request (`body`: the frame without its length
    /// prefix). Malformed requests are the caller's to close on.
    pub fn check(&self, header: &RequestHeader, body: &[u8]) -> Result<ProduceVerdict, WireError> {
        if self.is_empty() {
            return Ok(ProduceVerdict::Forward);
        }
        let version = header.api_version;
        let summary = summarize_produce_request(body, version)?;
        let Some(refusal) = self.refusal(&summary) else {
            return Ok(ProduceVerdict::Forward);
        };
        let limit = refusal.limit();
        if summary.acks == 0 {
            let reason = format!("{} (acks=0: no response can say so)", refusal.summary());
            return Ok(ProduceVerdict::Close(reason, limit));
        }
        if version < min_refusable_version() {
            let reason = format!(
                "{} (Produce v{version} is too old to answer)",
                refusal.summary()
            );
            return Ok(ProduceVerdict::Close(reason, limit));
        }
        let response = refuse_produce(
            header.correlation_id,
            version,
            &summary.topics,
            POLICY_VIOLATION,
            |topic, partition| {
                refusal.message_for(
                    &topic.topic.to_string(),
                    partition.index,
                    partition.records_bytes,
                )
            },
        )?;
        Ok(ProduceVerdict::Refuse(response, limit))
    }

    fn refusal(&self, summary: &ProduceSummary) -> Option<Refusal> {
        if let (Some(min), Some(acks)) = (self.min_acks, Acks::from_wire(summary.acks)) {
            if acks < min {
                return Some(Refusal::Acks { asked: acks, min });
            }
        }
        let max = self.max_batch_bytes?;
        let too_large = summary.topics.iter().find_map(|topic| {
            let partition = topic.partitions.iter().find(|p| p.records_bytes > max)?;
            Some((
                topic.topic.to_string(),
                partition.index,
                partition.records_bytes,
            ))
        })?;
        Some(Refusal::TooLarge {
            max,
            first: too_large,
        })
    }
}

/// Why a request is refused, worded for the producer's error message.
enum Refusal {
    Acks {
        asked: Acks,
        min: Acks,
    },
    /// The first partition over the limit: (topic, partition, bytes).
    TooLarge {
        max: usize,
        first: (String, i32, usize),
    },
}

impl Refusal {
    fn limit(&self) -> PolicyLimit {
        match self {
            Refusal::Acks { .. } => PolicyLimit::MinAcks,
            Refusal::TooLarge { .. } => PolicyLimit::MaxBatchBytes,
        }
    }

    fn summary(&self) -> String {
        match self {
            Refusal::Acks { asked, min } => format!(
                "produce policy: acks={} is below the virtual cluster's min_acks {}",
                asked.as_producer_setting(),
                min.as_producer_setting()
            ),
            Refusal::TooLarge { max, first: (topic, partition, bytes) } => format!(
                "produce policy: {bytes} bytes of records for {topic}-{partition} exceed max_batch_bytes {max}"
            ),
        }
    }

    fn message_for(&self, topic: &str, partition: i32, bytes: usize) -> String {
        match self {
            Refusal::Acks { .. } => self.summary(),
            Refusal::TooLarge { max, .. } if bytes > *max => format!(
                "produce policy: {bytes} bytes of records for {topic}-{partition} exceed max_batch_bytes {max}"
            ),
            Refusal::TooLarge { .. } => format!(
                "not written: another partition in the same request broke a produce policy ({})",
                self.summary()
            ),
        }
    }
}

#[cfg(test)]
mod tests;
