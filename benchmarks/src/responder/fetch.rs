//! Fetch answers, written by hand for v4-v12 so the record bytes are copied
//! once, from the template straight into the connection's output buffer,
//! with base offsets patched in place. Going through `FetchResponse`
//! would copy them twice into freshly allocated buffers, and the responder
//! would then be slower than the Kafka it stands in for. The unit test
//! decodes every version with kafka-protocol to keep this honest.

use bytes::{BufMut, BytesMut};
use kafka_protocol::messages::FetchRequest;

use super::connection::Ctx;

const NOT_LEADER: i16 = 6;
/// From v12 on, Fetch is a "flexible" message: compact lengths and tagged
/// field sections.
const FIRST_FLEXIBLE: i16 = 12;

fn put_uvarint(out: &mut BytesMut, mut value: u64) {
    while value >= 0x80 {
        out.put_u8((value as u8 & 0x7f) | 0x80);
        value >>= 7;
    }
    out.put_u8(value as u8);
}

fn put_len(out: &mut BytesMut, flexible: bool, len: usize) {
    if flexible {
        put_uvarint(out, len as u64 + 1);
    } else {
        out.put_i32(len as i32);
    }
}

fn put_null(out: &mut BytesMut, flexible: bool) {
    if flexible {
        put_uvarint(out, 0);
    } else {
        out.put_i32(-1);
    }
}

fn put_string(out: &mut BytesMut, flexible: bool, s: &str) {
    if flexible {
        put_uvarint(out, s.len() as u64 + 1);
    } else {
        out.put_i16(s.len() as i16);
    }
    out.put_slice(s.as_bytes());
}

/// No tagged fields: an empty tag section.
fn put_no_tags(out: &mut BytesMut, flexible: bool) {
    if flexible {
        out.put_u8(0);
    }
}

/// Appends the whole response frame (length, header, body) to `out`.
pub fn encode(
    out: &mut BytesMut,
    version: i16,
    correlation: i32,
    request: &FetchRequest,
    ctx: &Ctx<'_>,
) {
    let flexible = version >= FIRST_FLEXIBLE;
    let start = out.len();
    out.put_i32(0);
    out.put_i32(correlation);
    put_no_tags(out, flexible);
    out.put_i32(0); // throttle_time_ms
    if version >= 7 {
        out.put_i16(0); // error_code
        out.put_i32(0); // session_id
    }
    let mut budget = request.max_bytes.max(0) as usize;
    put_len(out, flexible, request.topics.len());
    for topic in &request.topics {
        put_string(out, flexible, topic.topic.0.as_str());
        put_len(out, flexible, topic.partitions.len());
        for p in &topic.partitions {
            let leads = (0..ctx.config.partitions).contains(&p.partition)
                && ctx.config.leader_of(p.partition) == ctx.node;
            let len = if leads {
                let limit = (p.partition_max_bytes.max(0) as usize).min(budget);
                ctx.config.fetch.answer_len(limit)
            } else {
                0
            };
            budget = budget.saturating_sub(len);
            put_partition(
                out,
                version,
                p.partition,
                leads.then_some((p.fetch_offset.max(0), len)),
                ctx,
            );
        }
        put_no_tags(out, flexible);
    }
    put_no_tags(out, flexible);
    let len = (out.len() - start - 4) as i32;
    out[start..start + 4].copy_from_slice(&len.to_be_bytes());
}

/// One partition: `answer` is (fetch offset, record bytes) when this
/// broker leads it, `None` for NOT_LEADER_OR_FOLLOWER.
fn put_partition(
    out: &mut BytesMut,
    version: i16,
    partition: i32,
    answer: Option<(i64, usize)>,
    ctx: &Ctx<'_>,
) {
    let flexible = version >= FIRST_FLEXIBLE;
    out.put_i32(partition);
    let Some((offset, len)) = answer else {
        out.put_i16(NOT_LEADER);
        out.put_i64(-1); // high_watermark
        out.put_i64(-1); // last_stable_offset
        if version >= 5 {
            out.put_i64(-1); // log_start_offset
        }
        put_null(out, flexible); // aborted_transactions
        if version >= 11 {
            out.put_i32(-1); // preferred_read_replica
        }
        put_null(out, flexible); // records
        put_no_tags(out, flexible);
        return;
    };
    let end = offset + ctx.config.fetch.records_in(len);
    out.put_i16(0);
    out.put_i64(end); // high_watermark
    out.put_i64(end); // last_stable_offset
    if version >= 5 {
        out.put_i64(0); // log_start_offset
    }
    put_null(out, flexible); // aborted_transactions
    if version >= 11 {
        out.put_i32(-1); // preferred_read_replica
    }
    put_len(out, flexible, len);
    ctx.config.fetch.append(out, offset, len);
    put_no_tags(out, flexible);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kafka::batch::walk;
    use crate::kafka::codec;
    use crate::responder::connection::ExecutorState;
    use crate::responder::{Config, FetchTemplate};
    use kafka_protocol::messages::fetch_request::{FetchPartition, FetchTopic};
    use kafka_protocol::messages::{ApiKey, FetchResponse, TopicName};
    use kafka_protocol::protocol::StrBytes;

    fn config() -> Config {
        Config {
            bind_host: "127.0.0.1".into(),
            base_port: 9092,
            brokers: 2,
            node_id_base: 1,
            advertised_host: "127.0.0.1".into(),
            partitions: 4,
            fetch: FetchTemplate::build(5_000, 100, 5).unwrap(),
            quiet: true,
        }
    }

    fn request() -> FetchRequest {
        let partitions = (0..3)
            .map(|p| {
                FetchPartition::default()
                    .with_partition(p)
                    .with_fetch_offset(100)
                    .with_partition_max_bytes(1 << 20)
            })
            .collect();
        let mut request = FetchRequest::default();
        request.max_bytes = 1 << 24;
        request.topics = vec![FetchTopic::default()
            .with_topic(TopicName(StrBytes::from_static_str("t")))
            .with_partitions(partitions)];
        request
    }

    #[test]
    fn every_version_decodes_with_kafka_protocol() {
        let config = config();
        let state = ExecutorState::new(0);
        let ctx = Ctx {
            config: &config,
            node: 1,
            state: &state,
        };
        for version in 4..=12 {
            let mut out = BytesMut::new();
            encode(&mut out, version, 77, &request(), &ctx);
            let frame = out.freeze().slice(4..);
            let body = codec::response_body(frame, ApiKey::Fetch, version, 77).unwrap();
            let response: FetchResponse = codec::decode_body(body, ApiKey::Fetch, version).unwrap();
            let partitions = &response.responses[0].partitions;
            assert_eq!(partitions.len(), 3, "v{version}");
            // Node 1 leads partitions 0 and 2 of 2 brokers.
            assert_eq!(partitions[1].error_code, NOT_LEADER, "v{version}");
            let led = &partitions[2];
            assert_eq!(led.error_code, 0, "v{version}");
            let walked = walk(led.records.as_ref().unwrap()).unwrap();
            assert_eq!(walked.next_offset, Some(led.high_watermark), "v{version}");
            assert!(walked.records > 0);
        }
    }
}
