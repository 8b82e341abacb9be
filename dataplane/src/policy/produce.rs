//! Produce policies: what a virtual cluster lets producers send.

use bytes::Bytes;
use cp_sync::config::{Acks, ProducePolicy};
use sluice_wire::header::RequestHeader;
use sluice_wire::produce::{
    min_refusable_version, refuse_produce, summarize_produce_request, walk_produce_request,
    ProduceItem, POLICY_VIOLATION,
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
        let scan = self.scan(body, version)?;
        let Some(refusal) = self.refusal(&scan) else {
            return Ok(ProduceVerdict::Forward);
        };
        let limit = refusal.limit();
        let unanswerable = if scan.acks == 0 {
            Some("acks=0: no response can say so".to_owned())
        } else if version < min_refusable_version() {
            Some(format!("Produce v{version} is too old to answer"))
        } else if scan.entries > MAX_ANSWERED_ENTRIES {
            Some(format!(
                "{} topics and partitions, too many to answer one by one",
                scan.entries
            ))
        } else {
            None
        };
        if let Some(why) = unanswerable {
            let reason = format!("{} ({why})", refusal.summary());
            return Ok(ProduceVerdict::Close(reason, limit));
        }
        let summary = summarize_produce_request(body, version)?;
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

    /// What the policies need from a request, read without allocating per
    /// topic or partition: most requests pass, and a request's counts must
    /// not decide how much memory the gateway takes.
    fn scan(&self, body: &[u8], version: i16) -> Result<Scan, WireError> {
        let mut entries = 0usize;
        let mut topic = None;
        let mut too_large = None;
        let acks = walk_produce_request(body, version, |item| {
            entries += 1;
            match item {
                ProduceItem::Topic(key) => topic = Some(key),
                ProduceItem::Partition(p) => {
                    let over = self
                        .max_batch_bytes
                        .is_some_and(|max| p.records_bytes > max);
                    if over && too_large.is_none() {
                        let name = topic.map(|t| t.to_string()).unwrap_or_default();
                        too_large = Some((name, p.index, p.records_bytes));
                    }
                }
            }
        })?;
        Ok(Scan {
            acks,
            entries,
            too_large,
        })
    }

    fn refusal(&self, scan: &Scan) -> Option<Refusal> {
        if let (Some(min), Some(acks)) = (self.min_acks, Acks::from_wire(scan.acks)) {
            if acks < min {
                return Some(Refusal::Acks { asked: acks, min });
            }
        }
        Some(Refusal::TooLarge {
            max: self.max_batch_bytes?,
            first: scan.too_large.clone()?,
        })
    }
}

/// A refusal answers every topic and partition of the request one by one;
/// past this many the connection is closed instead, so that no request
/// makes the gateway build an answer many times its own size.
const MAX_ANSWERED_ENTRIES: usize = 100_000;

/// What [`ProduceRules::scan`] read from one request.
struct Scan {
    acks: i16,
    /// Topics and partitions in the request.
    entries: usize,
    /// The first partition over `max_batch_bytes`: (topic, partition, bytes).
    too_large: Option<(String, i32, usize)>,
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
