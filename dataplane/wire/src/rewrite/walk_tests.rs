//! The structure walks must agree with kafka-protocol's encoding to the
//! byte: each one, at every version, consumes exactly what the crate wrote.
//! (A walk that stopped early would still let the crate decode, so the
//! rewrite tests alone would not notice.)

use bytes::{Bytes, BytesMut};
use kafka_protocol::messages::*;
use kafka_protocol::protocol::{Encodable, Message, StrBytes};

use super::tagged_walk::{Cursor, WalkResult};
use super::{api_versions, describe_cluster, fetch, find_coordinator, metadata, produce, share};

fn s(x: &str) -> StrBytes {
    StrBytes::from_string(x.to_owned())
}

fn tag() -> (i32, Bytes) {
    (17, Bytes::from_static(b"tagged"))
}

fn assert_exact<M: Encodable, T>(
    m: &M,
    versions: std::ops::RangeInclusive<i16>,
    walk: impl Fn(&mut Cursor<'_>, i16) -> WalkResult<T>,
) {
    for v in versions {
        let mut buf = BytesMut::new();
        m.encode(&mut buf, v).unwrap();
        let mut c = Cursor::new(&buf);
        walk(&mut c, v).unwrap_or_else(|e| panic!("v{v}: {e}"));
        assert_eq!(c.remaining(), 0, "v{v}: walk stopped early");
    }
}

fn range<M: Message>() -> std::ops::RangeInclusive<i16> {
    M::VERSIONS.min..=M::VERSIONS.max
}

#[test]
fn metadata() {
    use metadata_response::*;
    let partition = MetadataResponsePartition::default()
        .with_replica_nodes(vec![BrokerId(1), BrokerId(2)])
        .with_isr_nodes(vec![BrokerId(1)]);
    let topic = MetadataResponseTopic::default()
        .with_name(Some(TopicName(s("t"))))
        .with_partitions(vec![partition.clone(), partition]);
    let broker = MetadataResponseBroker::default().with_host(s("h"));
    let m = MetadataResponse::default()
        .with_brokers(vec![broker.clone(), broker])
        .with_topics(vec![topic]);
    assert_exact(&m, range::<MetadataResponse>(), metadata::walk);
}

#[test]
fn find_coordinator() {
    let single = FindCoordinatorResponse::default().with_host(s("h"));
    assert_exact(&single, 0..=3, find_coordinator::walk);
    let c = find_coordinator_response::Coordinator::default().with_host(s("h"));
    let batched = FindCoordinatorResponse::default().with_coordinators(vec![c.clone(), c]);
    assert_exact(&batched, 4..=6, find_coordinator::walk);
}

#[test]
fn describe_cluster() {
    let b = describe_cluster_response::DescribeClusterBroker::default().with_host(s("h"));
    let m = DescribeClusterResponse::default().with_brokers(vec![b.clone(), b]);
    assert_exact(
        &m,
        range::<DescribeClusterResponse>(),
        describe_cluster::walk,
    );
}

#[test]
fn api_versions() {
    use api_versions_response::*;
    let api = ApiVersion::default().with_api_key(3).with_max_version(9);
    let m = ApiVersionsResponse::default().with_api_keys(vec![api.clone(), api]);
    assert_exact(&m, 0..=2, api_versions::walk);
    let m = m
        .with_supported_features(vec![SupportedFeatureKey::default().with_name(s("f"))])
        .with_finalized_features_epoch(3)
        .with_finalized_features(vec![FinalizedFeatureKey::default().with_name(s("f"))])
        .with_zk_migration_ready(true)
        .with_unknown_tagged_field(tag().0, tag().1);
    assert_exact(&m, 3..=4, api_versions::walk);
}

fn produce_response(v: i16) -> ProduceResponse {
    use produce_response::*;
    let mut p = PartitionProduceResponse::default();
    if v >= 8 {
        p = p.with_record_errors(vec![BatchIndexAndErrorMessage::default()]);
    }
    if v >= 10 {
        p = p.with_current_leader(LeaderIdAndEpoch::default().with_leader_id(BrokerId(1)));
    }
    let t = TopicProduceResponse::default()
        .with_name(if v <= 12 {
            TopicName(s("t"))
        } else {
            TopicName::default()
        })
        .with_partition_responses(vec![p.clone(), p]);
    let mut r = ProduceResponse::default().with_responses(vec![t]);
    if v >= 9 {
        r = r.with_unknown_tagged_field(tag().0, tag().1);
    }
    r
}

#[test]
fn produce() {
    for v in range::<ProduceResponse>() {
        assert_exact(&produce_response(v), v..=v, produce::walk);
    }
    let with = produce_response(13).with_node_endpoints(vec![
        produce_response::NodeEndpoint::default().with_host(s("h")),
    ]);
    assert_exact(&with, 10..=13, |c, v| {
        assert!(produce::walk(c, v)?);
        Ok(())
    });
}

fn fetch_response(v: i16) -> FetchResponse {
    use fetch_response::*;
    let mut p = PartitionData::default()
        .with_records(Some(Bytes::from_static(&[1; 100])))
        .with_aborted_transactions(Some(vec![AbortedTransaction::default()]));
    if v >= 12 {
        p = p
            .with_diverging_epoch(EpochEndOffset::default().with_epoch(1))
            .with_current_leader(LeaderIdAndEpoch::default().with_leader_id(BrokerId(1)))
            .with_snapshot_id(SnapshotId::default().with_epoch(1))
            .with_unknown_tagged_field(tag().0, tag().1);
    }
    let t = FetchableTopicResponse::default()
        .with_topic(if v <= 12 {
            TopicName(s("t"))
        } else {
            TopicName::default()
        })
        .with_partitions(vec![p.clone(), p.with_aborted_transactions(None)]);
    FetchResponse::default().with_responses(vec![t])
}

#[test]
fn fetch() {
    for v in range::<FetchResponse>() {
        assert_exact(&fetch_response(v), v..=v, fetch::walk);
    }
    let with =
        fetch_response(18).with_node_endpoints(vec![
            fetch_response::NodeEndpoint::default().with_host(s("h"))
        ]);
    assert_exact(&with, 16..=18, |c, v| {
        assert!(fetch::walk(c, v)?);
        Ok(())
    });
}

#[test]
fn share() {
    use share_fetch_response::*;
    let p = PartitionData::default()
        .with_records(Some(Bytes::from_static(&[1; 100])))
        .with_acquired_records(vec![AcquiredRecords::default()]);
    let t = ShareFetchableTopicResponse::default().with_partitions(vec![p.clone(), p]);
    let m = ShareFetchResponse::default()
        .with_responses(vec![t])
        .with_node_endpoints(vec![NodeEndpoint::default().with_host(s("h"))]);
    assert_exact(&m, range::<ShareFetchResponse>(), |c, _| {
        share::walk_fetch(c)
    });

    use share_acknowledge_response as ack;
    let p = ack::PartitionData::default();
    let t = ack::ShareAcknowledgeTopicResponse::default().with_partitions(vec![p.clone(), p]);
    let m = ShareAcknowledgeResponse::default()
        .with_responses(vec![t])
        .with_node_endpoints(vec![ack::NodeEndpoint::default().with_host(s("h"))]);
    assert_exact(&m, range::<ShareAcknowledgeResponse>(), |c, _| {
        share::walk_acknowledge(c)
    });
}
