//! Producing through a raw connection, for tests that must know which TCP
//! connection carried a record.

use std::io::{Read, Write};
use std::time::Duration;

use bytes::{Bytes, BytesMut};
use kafka_protocol::messages::create_topics_request::{CreatableTopic, CreateTopicsRequest};
use kafka_protocol::messages::produce_request::{
    PartitionProduceData, ProduceRequest, TopicProduceData,
};
use kafka_protocol::messages::{ApiKey, CreateTopicsResponse, ProduceResponse, TopicName};
use kafka_protocol::protocol::StrBytes;
use kafka_protocol::records::{
    Compression, Record, RecordBatchEncoder, RecordEncodeOptions, TimestampType,
};

use super::raw::RawConn;
use sluice_test_support::wait::eventually;

fn topic_name(topic: &str) -> TopicName {
    TopicName(StrBytes::from_string(topic.to_string()))
}

/// Creates a one-partition topic through `conn`.
pub fn create_topic<S: Read + Write>(conn: &mut RawConn<S>, topic: &str) {
    let topic = CreatableTopic::default()
        .with_name(topic_name(topic))
        .with_num_partitions(1)
        .with_replication_factor(1);
    let request = CreateTopicsRequest::default()
        .with_topics(vec![topic])
        .with_timeout_ms(30_000);
    let response: CreateTopicsResponse = conn.call(ApiKey::CreateTopics, 5, &request);
    assert_eq!(response.topics[0].error_code, 0, "create topic");
}

fn batch(value: &str) -> Bytes {
    let record = Record {
        transactional: false,
        control: false,
        delete_horizon: false,
        partition_leader_epoch: 0,
        producer_id: -1,
        producer_epoch: -1,
        timestamp_type: TimestampType::Creation,
        offset: 0,
        sequence: -1,
        timestamp: 0,
        key: None,
        value: Some(Bytes::from(value.to_string())),
        headers: Default::default(),
    };
    let mut out = BytesMut::new();
    let options = RecordEncodeOptions {
        version: 2,
        compression: Compression::None,
    };
    RecordBatchEncoder::encode(&mut out, [&record], &options).unwrap();
    out.freeze()
}

pub fn produce_request(topic: &str, value: &str, acks: i16) -> ProduceRequest {
    let partition = PartitionProduceData::default()
        .with_index(0)
        .with_records(Some(batch(value)));
    let topic = TopicProduceData::default()
        .with_name(topic_name(topic))
        .with_partition_data(vec![partition]);
    ProduceRequest::default()
        .with_acks(acks)
        .with_timeout_ms(30_000)
        .with_topic_data(vec![topic])
}

/// One Produce request of one record with `acks` (1 or -1): the error code
/// and message of its partition.
pub fn produce_once<S: Read + Write>(
    conn: &mut RawConn<S>,
    topic: &str,
    value: &str,
    acks: i16,
) -> (i16, String) {
    let request = produce_request(topic, value, acks);
    let response: ProduceResponse = conn.call(ApiKey::Produce, 9, &request);
    let partition = &response.responses[0].partition_responses[0];
    let message = partition.error_message.as_deref().unwrap_or("");
    (partition.error_code, message.to_owned())
}

/// One Produce request with acks=0: nothing comes back.
pub fn produce_unacknowledged<S: Read + Write>(conn: &mut RawConn<S>, topic: &str, value: &str) {
    conn.send(ApiKey::Produce, 9, &produce_request(topic, value, 0));
}

/// Produces one record on `conn` (connected to the topic's only broker).
pub fn produce<S: Read + Write>(conn: &mut RawConn<S>, topic: &str, value: &str) {
    // A topic just created can answer "not leader" until its leader has
    // loaded it; those errors are retriable, anything else fails the test.
    let mut last = 0;
    let answered = eventually(Duration::from_secs(30), || {
        last = produce_once(conn, topic, value, -1).0;
        assert!(
            RETRIABLE.contains(&last) || last == 0,
            "produce {value:?}: error {last}"
        );
        last == 0
    });
    assert!(answered, "produce {value:?} kept failing with error {last}");
}

/// UNKNOWN_TOPIC_OR_PARTITION, LEADER_NOT_AVAILABLE, NOT_LEADER_OR_FOLLOWER.
const RETRIABLE: [i16; 3] = [3, 5, 6];
