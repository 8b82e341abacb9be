//! A Produce response that refuses every partition of a request, built by
//! the gateway in place of the broker's.

use bytes::Bytes;
use kafka_protocol::messages::produce_response::{PartitionProduceResponse, TopicProduceResponse};
use kafka_protocol::messages::{ApiKey, ProduceResponse, TopicName};
use kafka_protocol::protocol::{Message, StrBytes};

use super::request::{ProducedPartition, ProducedTopic, TopicRef};
use crate::rewrite::codec::{check_version, encode_frame};
use crate::WireError;

/// POLICY_VIOLATION: clients treat it as final (no retry) and show the
/// message, which is what an operator's refusal should look like.
pub const POLICY_VIOLATION: i16 = 44;
const FIRST_FLEXIBLE: i16 = 9;

/// The whole response frame (length prefix included) answering
/// `correlation_id` with `error_code` for every partition of `topics`, each
/// with the message `reason` gives it (carried from v8 on).
pub fn refuse_produce(
    correlation_id: i32,
    api_version: i16,
    topics: &[ProducedTopic],
    error_code: i16,
    reason: impl Fn(&ProducedTopic, &ProducedPartition) -> String,
) -> Result<Bytes, WireError> {
    check_version::<ProduceResponse>(ApiKey::Produce, api_version)?;
    let responses = topics
        .iter()
        .map(|topic| {
            let partitions = topic.partitions.iter().map(|partition| {
                PartitionProduceResponse::default()
                    .with_index(partition.index)
                    .with_error_code(error_code)
                    .with_base_offset(-1)
                    .with_error_message(Some(StrBytes::from_string(reason(topic, partition))))
            });
            let response =
                TopicProduceResponse::default().with_partition_responses(partitions.collect());
            match &topic.topic {
                TopicRef::Name(name) => {
                    response.with_name(TopicName(StrBytes::from_string(name.clone())))
                }
                TopicRef::Id(id) => response.with_topic_id(uuid::Uuid::from_bytes(*id)),
            }
        })
        .collect();
    let message = ProduceResponse::default().with_responses(responses);
    let mut header = correlation_id.to_be_bytes().to_vec();
    if api_version >= FIRST_FLEXIBLE {
        // Response header v1: an empty tagged-field section.
        header.push(0);
    }
    encode_frame(ApiKey::Produce, api_version, &header, &message)
}

/// The oldest Produce version a refusal can be written in.
pub fn min_refusable_version() -> i16 {
    ProduceResponse::VERSIONS.min
}
