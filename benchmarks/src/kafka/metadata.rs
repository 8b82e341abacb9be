//! Where a topic's partitions live: Metadata from the bootstrap address,
//! leaders mapped to the host:port each broker advertises (for sluice, its
//! own ports), CreateTopics when asked, and ListOffsets per leader.

use std::collections::{BTreeMap, HashMap};
use std::net::SocketAddr;
use std::thread::sleep;
use std::time::{Duration, Instant};

use kafka_protocol::error::ResponseError;
use kafka_protocol::messages::create_topics_request::CreatableTopic;
use kafka_protocol::messages::list_offsets_request::{ListOffsetsPartition, ListOffsetsTopic};
use kafka_protocol::messages::metadata_request::MetadataRequestTopic;
use kafka_protocol::messages::{
    ApiKey, CreateTopicsRequest, CreateTopicsResponse, ListOffsetsRequest, ListOffsetsResponse,
    MetadataRequest, MetadataResponse, TopicName,
};
use kafka_protocol::protocol::StrBytes;

use super::blocking::{resolve, BlockingConn};
use super::versions::Versions;
use crate::error::BenchError;

/// How long a new topic may take to get leaders for every partition.
const LEADER_WAIT: Duration = Duration::from_secs(30);
const LEADER_POLL: Duration = Duration::from_millis(200);

#[derive(Debug, Clone)]
pub struct Broker {
    pub node: i32,
    /// `host:port` exactly as advertised, for messages.
    pub advertised: String,
    pub socket: SocketAddr,
}

/// A topic's partitions grouped by the broker that leads them.
#[derive(Debug, Clone)]
pub struct TopicLayout {
    pub topic: String,
    pub leaders: BTreeMap<i32, (Broker, Vec<i32>)>,
}

impl TopicLayout {
    pub fn partition_count(&self) -> usize {
        self.leaders.values().map(|(_, p)| p.len()).sum()
    }
}

#[derive(Debug, Clone, Copy)]
pub struct CreateSpec {
    pub partitions: i32,
    pub replication_factor: i16,
}

pub fn topic_name(topic: &str) -> TopicName {
    TopicName(StrBytes::from_string(topic.to_string()))
}

/// Looks `topic` up, creating it first when `create` is given and it is
/// missing, and waits until every partition has a leader.
pub fn discover(
    conn: &mut BlockingConn,
    versions: &Versions,
    topic: &str,
    create: Option<CreateSpec>,
) -> Result<TopicLayout, BenchError> {
    let deadline = Instant::now() + LEADER_WAIT;
    let mut created = false;
    loop {
        let response = fetch_metadata(conn, versions, topic)?;
        match layout_from(&response, topic)? {
            Lookup::Ready(layout) => return Ok(layout),
            Lookup::Missing if !created => match create {
                Some(spec) => {
                    create_topic(conn, versions, topic, spec)?;
                    created = true;
                }
                None => {
                    return Err(BenchError::Setup(format!(
                    "topic {topic:?} does not exist at {}; pass --create-partitions N to create it",
                    conn.addr()
                )))
                }
            },
            Lookup::Missing | Lookup::NotReady(_) if Instant::now() < deadline => {
                sleep(LEADER_POLL)
            }
            Lookup::Missing => {
                return Err(BenchError::Setup(format!(
                    "topic {topic:?} was created but is still unknown after {LEADER_WAIT:?}"
                )))
            }
            Lookup::NotReady(reason) => {
                return Err(BenchError::Setup(format!(
                    "topic {topic:?} is not ready after {LEADER_WAIT:?}: {reason}"
                )))
            }
        }
    }
}

fn fetch_metadata(
    conn: &mut BlockingConn,
    versions: &Versions,
    topic: &str,
) -> Result<MetadataResponse, BenchError> {
    let version = versions
        .pick(ApiKey::Metadata)
        .map_err(|e| BenchError::protocol(conn.addr().to_string(), e))?;
    let mut request = MetadataRequest::default();
    request.topics = Some(vec![
        MetadataRequestTopic::default().with_name(Some(topic_name(topic)))
    ]);
    request.allow_auto_topic_creation = false;
    conn.call(ApiKey::Metadata, version, &request)
        .map_err(|e| BenchError::protocol(format!("Metadata from {}", conn.addr()), e))
}

enum Lookup {
    Ready(TopicLayout),
    Missing,
    NotReady(String),
}

fn layout_from(response: &MetadataResponse, topic: &str) -> Result<Lookup, BenchError> {
    let Some(entry) = response
        .topics
        .iter()
        .find(|t| t.name.as_ref().map(|n| n.0.as_str()) == Some(topic))
    else {
        return Ok(Lookup::Missing);
    };
    match ResponseError::try_from_code(entry.error_code) {
        None => {}
        Some(ResponseError::UnknownTopicOrPartition) => return Ok(Lookup::Missing),
        Some(ResponseError::LeaderNotAvailable) => {
            return Ok(Lookup::NotReady("leader not available".into()))
        }
        Some(e) => return Err(BenchError::Setup(format!("Metadata for {topic:?}: {e}"))),
    }
    let brokers = brokers_of(response)?;
    let mut leaders: BTreeMap<i32, (Broker, Vec<i32>)> = BTreeMap::new();
    for partition in &entry.partitions {
        let leader = partition.leader_id.0;
        let Some(broker) = brokers.get(&leader) else {
            let p = partition.partition_index;
            return Ok(Lookup::NotReady(format!(
                "partition {p} has no live leader"
            )));
        };
        leaders
            .entry(leader)
            .or_insert_with(|| (broker.clone(), Vec::new()))
            .1
            .push(partition.partition_index);
    }
    if leaders.is_empty() {
        return Ok(Lookup::NotReady("no partitions yet".into()));
    }
    for (_, partitions) in leaders.values_mut() {
        partitions.sort_unstable();
    }
    Ok(Lookup::Ready(TopicLayout {
        topic: topic.to_string(),
        leaders,
    }))
}

/// Brokers as advertised; an address that does not resolve is an error
/// naming it, because that is what a client of the cluster would hit too.
pub fn brokers_of(response: &MetadataResponse) -> Result<HashMap<i32, Broker>, BenchError> {
    response
        .brokers
        .iter()
        .map(|b| {
            let advertised = format!("{}:{}", b.host.as_str(), b.port);
            let socket = resolve(&advertised)?;
            let broker = Broker {
                node: b.node_id.0,
                advertised,
                socket,
            };
            Ok((b.node_id.0, broker))
        })
        .collect()
}

fn create_topic(
    conn: &mut BlockingConn,
    versions: &Versions,
    topic: &str,
    spec: CreateSpec,
) -> Result<(), BenchError> {
    let version = versions
        .pick(ApiKey::CreateTopics)
        .map_err(|e| BenchError::protocol(conn.addr().to_string(), e))?;
    let mut request = CreateTopicsRequest::default();
    request.timeout_ms = 30_000;
    request.topics = vec![CreatableTopic::default()
        .with_name(topic_name(topic))
        .with_num_partitions(spec.partitions)
        .with_replication_factor(spec.replication_factor)];
    let response: CreateTopicsResponse = conn
        .call(ApiKey::CreateTopics, version, &request)
        .map_err(|e| BenchError::protocol(format!("CreateTopics at {}", conn.addr()), e))?;
    for result in &response.topics {
        match ResponseError::try_from_code(result.error_code) {
            None | Some(ResponseError::TopicAlreadyExists) => {}
            Some(e) => {
                let detail = result
                    .error_message
                    .as_ref()
                    .map(|m| m.as_str().to_string());
                return Err(BenchError::Setup(format!(
                    "creating topic {topic:?} failed: {e}{}",
                    detail.map(|d| format!(" ({d})")).unwrap_or_default()
                )));
            }
        }
    }
    Ok(())
}

/// Offsets of every partition at `timestamp` (-1 latest, -2 earliest),
/// asked of each partition's leader. A topic created a moment ago may not
/// have settled on its leaders yet, so retriable errors are retried.
pub fn list_offsets(layout: &TopicLayout, timestamp: i64) -> Result<HashMap<i32, i64>, BenchError> {
    let mut offsets = HashMap::new();
    for (broker, partitions) in layout.leaders.values() {
        let mut conn = BlockingConn::connect(&broker.advertised)?;
        let versions = conn.negotiate().map_err(|e| {
            BenchError::protocol(format!("ApiVersions at {}", broker.advertised), e)
        })?;
        let version = versions
            .pick(ApiKey::ListOffsets)
            .map_err(|e| BenchError::protocol(broker.advertised.clone(), e))?;
        let request = list_offsets_request(&layout.topic, partitions, timestamp);
        let deadline = Instant::now() + LEADER_WAIT;
        loop {
            let response: ListOffsetsResponse = conn
                .call(ApiKey::ListOffsets, version, &request)
                .map_err(|e| {
                BenchError::protocol(format!("ListOffsets at {}", broker.advertised), e)
            })?;
            match offsets_of(&response) {
                Ok(found) => {
                    offsets.extend(found);
                    break;
                }
                Err((_, error)) if is_retriable(error) && Instant::now() < deadline => {
                    sleep(LEADER_POLL)
                }
                Err((partition, error)) => {
                    return Err(BenchError::Setup(format!(
                        "ListOffsets for partition {partition}: {error}"
                    )))
                }
            }
        }
    }
    Ok(offsets)
}

fn is_retriable(error: ResponseError) -> bool {
    matches!(
        error,
        ResponseError::NotLeaderOrFollower
            | ResponseError::LeaderNotAvailable
            | ResponseError::UnknownTopicOrPartition
            | ResponseError::OffsetNotAvailable
            | ResponseError::UnknownLeaderEpoch
    )
}

fn offsets_of(response: &ListOffsetsResponse) -> Result<Vec<(i32, i64)>, (i32, ResponseError)> {
    let mut found = Vec::new();
    for p in response.topics.iter().flat_map(|t| &t.partitions) {
        if let Some(error) = ResponseError::try_from_code(p.error_code) {
            return Err((p.partition_index, error));
        }
        found.push((p.partition_index, p.offset));
    }
    Ok(found)
}

fn list_offsets_request(topic: &str, partitions: &[i32], timestamp: i64) -> ListOffsetsRequest {
    let mut request = ListOffsetsRequest::default();
    request.replica_id = (-1).into();
    request.topics = vec![ListOffsetsTopic::default()
        .with_name(topic_name(topic))
        .with_partitions(
            partitions
                .iter()
                .map(|&p| {
                    ListOffsetsPartition::default()
                        .with_partition_index(p)
                        .with_timestamp(timestamp)
                })
                .collect(),
        )];
    request
}

/// Connects once to every leader so a broker address the cluster
/// advertises but this machine cannot reach fails the run up front.
pub fn check_leaders_reachable(layout: &TopicLayout) -> Result<(), BenchError> {
    for (broker, partitions) in layout.leaders.values() {
        BlockingConn::connect(&broker.advertised).map_err(|e| match e {
            BenchError::Connect { addr, reason } => BenchError::Connect {
                addr,
                reason: format!(
                    "{reason} (broker {} leads partitions {partitions:?} and advertises this address)",
                    broker.node
                ),
            },
            other => other,
        })?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use kafka_protocol::messages::metadata_response::{
        MetadataResponseBroker, MetadataResponsePartition, MetadataResponseTopic,
    };
    use kafka_protocol::messages::BrokerId;

    fn response(leaders: &[i32]) -> MetadataResponse {
        let brokers = (1..=2)
            .map(|n| {
                MetadataResponseBroker::default()
                    .with_node_id(BrokerId(n))
                    .with_host(StrBytes::from_static_str("127.0.0.1"))
                    .with_port(9090 + n)
            })
            .collect();
        let partitions = leaders
            .iter()
            .enumerate()
            .map(|(i, &l)| {
                MetadataResponsePartition::default()
                    .with_partition_index(i as i32)
                    .with_leader_id(BrokerId(l))
            })
            .collect();
        let topic = MetadataResponseTopic::default()
            .with_name(Some(topic_name("t")))
            .with_partitions(partitions);
        MetadataResponse::default()
            .with_brokers(brokers)
            .with_topics(vec![topic])
    }

    #[test]
    fn groups_partitions_by_leader_address() {
        let Lookup::Ready(layout) = layout_from(&response(&[1, 2, 1]), "t").unwrap() else {
            panic!("expected a ready layout");
        };
        assert_eq!(layout.partition_count(), 3);
        let (broker, partitions) = &layout.leaders[&1];
        assert_eq!(broker.advertised, "127.0.0.1:9091");
        assert_eq!(partitions, &vec![0, 2]);
    }

    #[test]
    fn a_partition_without_a_live_leader_is_not_ready() {
        assert!(matches!(
            layout_from(&response(&[1, -1]), "t").unwrap(),
            Lookup::NotReady(_)
        ));
        assert!(matches!(
            layout_from(&response(&[1]), "other").unwrap(),
            Lookup::Missing
        ));
    }
}
