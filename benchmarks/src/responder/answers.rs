//! The responder's answer to each api it knows. Leadership is checked the
//! way a broker does (a partition's requests must reach its leader's port),
//! which makes the responder a check on the tool's and a gateway's routing.

use std::collections::hash_map::DefaultHasher;
use std::hash::{Hash, Hasher};

use bytes::BytesMut;
use kafka_protocol::messages::api_versions_response::ApiVersion;
use kafka_protocol::messages::find_coordinator_response::Coordinator;
use kafka_protocol::messages::list_offsets_response::{
    ListOffsetsPartitionResponse, ListOffsetsTopicResponse,
};
use kafka_protocol::messages::metadata_response::{
    MetadataResponseBroker, MetadataResponsePartition, MetadataResponseTopic,
};
use kafka_protocol::messages::produce_response::{PartitionProduceResponse, TopicProduceResponse};
use kafka_protocol::messages::{
    ApiKey, ApiVersionsResponse, BrokerId, FindCoordinatorRequest, FindCoordinatorResponse,
    InitProducerIdResponse, ListOffsetsRequest, ListOffsetsResponse, MetadataRequest,
    MetadataResponse, ProduceRequest, ProduceResponse, RequestHeader, TopicName,
};
use kafka_protocol::protocol::StrBytes;
use uuid::Uuid;

use super::connection::Ctx;
use crate::kafka::batch;
use crate::kafka::codec;
use crate::kafka::ProtocolError;

/// Versions answered. ApiVersions goes to 4 because current Java clients
/// ask with it; the rest stop where topic names give way to topic ids.
pub const SUPPORTED: &[(ApiKey, i16, i16)] = &[
    (ApiKey::Produce, 3, 12),
    (ApiKey::Fetch, 4, 12),
    (ApiKey::ListOffsets, 1, 9),
    (ApiKey::Metadata, 1, 12),
    (ApiKey::FindCoordinator, 0, 6),
    (ApiKey::ApiVersions, 0, 4),
    (ApiKey::InitProducerId, 0, 5),
];

const CLUSTER_ID: &str = "sluice-bench-responder-not-kafka";
const NOT_LEADER: i16 = 6;
const UNSUPPORTED_VERSION: i16 = 35;

fn api_list() -> Vec<ApiVersion> {
    SUPPORTED
        .iter()
        .map(|(api, min, max)| {
            ApiVersion::default()
                .with_api_key(*api as i16)
                .with_min_version(*min)
                .with_max_version(*max)
        })
        .collect()
}

/// A client asking with a version above ours gets the v0 answer with
/// UNSUPPORTED_VERSION and our range, and retries; that is the protocol.
pub fn api_versions(header: &RequestHeader, out: &mut BytesMut) -> Result<(), ProtocolError> {
    let asked = header.request_api_version;
    let (version, error) = if !(0..=4).contains(&asked) {
        (0, UNSUPPORTED_VERSION)
    } else {
        (asked, 0)
    };
    let response = ApiVersionsResponse::default()
        .with_error_code(error)
        .with_api_keys(api_list());
    codec::encode_response(
        out,
        ApiKey::ApiVersions,
        version,
        header.correlation_id,
        &response,
    )
}

fn str_bytes(s: &str) -> StrBytes {
    StrBytes::from_string(s.to_string())
}

fn topic_id(name: &str) -> Uuid {
    let mut hasher = DefaultHasher::new();
    name.hash(&mut hasher);
    let high = hasher.finish();
    "topic-id".hash(&mut hasher);
    Uuid::from_u64_pair(high, hasher.finish())
}

pub fn metadata(request: &MetadataRequest, ctx: &Ctx<'_>) -> MetadataResponse {
    let config = ctx.config;
    let brokers = (0..config.brokers)
        .map(|i| {
            MetadataResponseBroker::default()
                .with_node_id(BrokerId(config.node_id_base + i as i32))
                .with_host(str_bytes(&config.advertised_host))
                .with_port(config.port_of(i) as i32)
        })
        .collect();
    let names = request
        .topics
        .iter()
        .flatten()
        .filter_map(|t| t.name.as_ref());
    let topics = names.map(|name| metadata_topic(name, ctx)).collect();
    MetadataResponse::default()
        .with_brokers(brokers)
        .with_cluster_id(Some(str_bytes(CLUSTER_ID)))
        .with_controller_id(BrokerId(config.node_id_base))
        .with_topics(topics)
}

fn metadata_topic(name: &TopicName, ctx: &Ctx<'_>) -> MetadataResponseTopic {
    let partitions = (0..ctx.config.partitions)
        .map(|p| {
            let leader = BrokerId(ctx.config.leader_of(p));
            MetadataResponsePartition::default()
                .with_partition_index(p)
                .with_leader_id(leader)
                .with_leader_epoch(0)
                .with_replica_nodes(vec![leader])
                .with_isr_nodes(vec![leader])
        })
        .collect();
    MetadataResponseTopic::default()
        .with_name(Some(name.clone()))
        .with_topic_id(topic_id(name.0.as_str()))
        .with_partitions(partitions)
}

fn leads(ctx: &Ctx<'_>, partition: i32) -> bool {
    (0..ctx.config.partitions).contains(&partition) && ctx.config.leader_of(partition) == ctx.node
}

/// `None` for acks=0, which Kafka never answers.
pub fn produce(request: &ProduceRequest, ctx: &Ctx<'_>) -> Option<ProduceResponse> {
    let mut state = ctx.state.borrow_mut();
    let responses = request
        .topic_data
        .iter()
        .map(|topic| {
            let partitions = topic
                .partition_data
                .iter()
                .map(|p| {
                    let answer = PartitionProduceResponse::default()
                        .with_index(p.index)
                        .with_log_append_time_ms(-1);
                    if !leads(ctx, p.index) {
                        return answer.with_error_code(NOT_LEADER).with_base_offset(-1);
                    }
                    let records = p
                        .records
                        .as_deref()
                        .map_or(0, |r| batch::walk(r).map_or(0, |w| w.records));
                    let offset = state
                        .offsets
                        .entry((topic.name.0.to_string(), p.index))
                        .or_insert(0);
                    let base = *offset;
                    *offset += records as i64;
                    answer.with_base_offset(base)
                })
                .collect();
            TopicProduceResponse::default()
                .with_name(topic.name.clone())
                .with_partition_responses(partitions)
        })
        .collect();
    (request.acks != 0).then(|| ProduceResponse::default().with_responses(responses))
}

pub fn list_offsets(request: &ListOffsetsRequest, ctx: &Ctx<'_>) -> ListOffsetsResponse {
    let state = ctx.state.borrow();
    let topics = request
        .topics
        .iter()
        .map(|topic| {
            let partitions = topic
                .partitions
                .iter()
                .map(|p| {
                    let answer = ListOffsetsPartitionResponse::default()
                        .with_partition_index(p.partition_index)
                        .with_timestamp(-1);
                    if !leads(ctx, p.partition_index) {
                        return answer.with_error_code(NOT_LEADER);
                    }
                    let latest = state
                        .offsets
                        .get(&(topic.name.0.to_string(), p.partition_index));
                    let offset = if p.timestamp == -2 {
                        0
                    } else {
                        latest.copied().unwrap_or(0)
                    };
                    answer.with_offset(offset).with_leader_epoch(0)
                })
                .collect();
            ListOffsetsTopicResponse::default()
                .with_name(topic.name.clone())
                .with_partitions(partitions)
        })
        .collect();
    ListOffsetsResponse::default().with_topics(topics)
}

/// Every coordinator is the first broker.
pub fn find_coordinator(
    request: &FindCoordinatorRequest,
    version: i16,
    ctx: &Ctx<'_>,
) -> FindCoordinatorResponse {
    let config = ctx.config;
    let node = BrokerId(config.node_id_base);
    let host = str_bytes(&config.advertised_host);
    let port = config.port_of(0) as i32;
    if version < 4 {
        return FindCoordinatorResponse::default()
            .with_node_id(node)
            .with_host(host)
            .with_port(port);
    }
    let coordinators = request
        .coordinator_keys
        .iter()
        .map(|key| {
            Coordinator::default()
                .with_key(key.clone())
                .with_node_id(node)
                .with_host(host.clone())
                .with_port(port)
        })
        .collect();
    FindCoordinatorResponse::default().with_coordinators(coordinators)
}

pub fn init_producer_id(ctx: &Ctx<'_>) -> InitProducerIdResponse {
    let mut state = ctx.state.borrow_mut();
    let id = state.next_producer_id;
    state.next_producer_id += 1;
    InitProducerIdResponse::default()
        .with_producer_id(id.into())
        .with_producer_epoch(0)
}
