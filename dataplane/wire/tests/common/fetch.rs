//! Fetch responses of every version, with and without KIP-951
//! `node_endpoints`, for the rewrite and streaming tests.

use bytes::Bytes;
use kafka_protocol::messages::fetch_response::{
    self, AbortedTransaction, EpochEndOffset, FetchableTopicResponse, PartitionData, SnapshotId,
};
use kafka_protocol::messages::{BrokerId, FetchResponse, ProducerId, TopicName};

use super::{record_bytes, s, BACKEND};

pub fn fetch_partition(v: i16, index: i32) -> PartitionData {
    let mut p = PartitionData::default()
        .with_partition_index(index)
        .with_high_watermark(5000)
        .with_last_stable_offset(4999)
        .with_aborted_transactions(Some(vec![AbortedTransaction::default()
            .with_producer_id(ProducerId(77))
            .with_first_offset(4000)]))
        .with_records(Some(record_bytes(index as u8, 700 + index as usize)));
    if v >= 5 {
        p = p.with_log_start_offset(100);
    }
    if v >= 11 {
        p = p.with_preferred_read_replica(BrokerId(2));
    }
    if v >= 12 {
        p = p
            .with_diverging_epoch(
                EpochEndOffset::default()
                    .with_epoch(3)
                    .with_end_offset(4500),
            )
            .with_current_leader(
                fetch_response::LeaderIdAndEpoch::default()
                    .with_leader_id(BrokerId(3))
                    .with_leader_epoch(9),
            )
            .with_snapshot_id(SnapshotId::default().with_end_offset(10).with_epoch(2))
            .with_unknown_tagged_field(6, Bytes::from_static(b"p"));
    }
    p
}

pub fn fetch(v: i16, endpoints: &[i32]) -> FetchResponse {
    let mut topic = FetchableTopicResponse::default()
        .with_partitions((0..3).map(|i| fetch_partition(v, i)).collect());
    topic = if v >= 13 {
        topic.with_topic_id(uuid::Uuid::from_u128(0xabcdef))
    } else {
        topic.with_topic(TopicName(s("orders")))
    };
    let mut r = FetchResponse::default()
        .with_throttle_time_ms(1)
        .with_responses(vec![topic]);
    if v >= 7 {
        r = r.with_session_id(1234);
    }
    if v >= 12 {
        r = r.with_unknown_tagged_field(4, Bytes::from_static(b"kept"));
    }
    r.node_endpoints = endpoints
        .iter()
        .map(|&id| {
            let (_, host, port) = BACKEND[(id - 1) as usize];
            fetch_response::NodeEndpoint::default()
                .with_node_id(BrokerId(id))
                .with_host(s(host))
                .with_port(port)
        })
        .collect();
    r
}
