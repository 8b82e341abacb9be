//! Certificate rotation: new certificate files are picked up without a
//! restart; new connections get the new certificate while a connection made
//! before keeps producing.

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

use crate::setup::{Env, SHARED};
use crate::support::tls::{client_config, connect, peer_leaf, TlsConn};

const TOPIC: &str = "rotation";

fn topic_name() -> TopicName {
    TopicName(StrBytes::from_static_str(TOPIC))
}

fn create_topic(conn: &mut TlsConn) {
    let topic = CreatableTopic::default()
        .with_name(topic_name())
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

/// Produces one record on `conn` (connected to the topic's only broker).
fn produce(conn: &mut TlsConn, value: &str) {
    let partition = PartitionProduceData::default()
        .with_index(0)
        .with_records(Some(batch(value)));
    let topic = TopicProduceData::default()
        .with_name(topic_name())
        .with_partition_data(vec![partition]);
    let request = ProduceRequest::default()
        .with_acks(-1)
        .with_timeout_ms(30_000)
        .with_topic_data(vec![topic]);
    // A topic just created can answer "not leader" until its leader has
    // loaded it; those errors are retriable, anything else fails the test.
    let mut last = 0;
    let answered = crate::support::wait::until_ok(Duration::from_secs(30), || {
        let response: ProduceResponse = conn.call(ApiKey::Produce, 9, &request);
        last = response.responses[0].partition_responses[0].error_code;
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

pub fn rotation(env: &Env) {
    let addr = format!("127.0.0.1:{}", env.shared_port);
    let name = format!("bootstrap-vc-b{SHARED}");
    let config = client_config(&env.gateway_ca.cert_pem, None);
    let mut old = connect(&addr, &name, config.clone()).expect("TLS before rotation");
    let old_leaf = peer_leaf(&old);
    create_topic(&mut old);
    produce(&mut old, "before rotation");

    let renewed = env
        .gateway_ca
        .issue("shared renewed", &["*.sh.sluice.test"]);
    let (cert_path, key_path) = &env.shared_cert;
    replace_file(key_path, &renewed.key_pem);
    replace_file(cert_path, &renewed.cert_pem);
    env.gateway
        .wait_log_line(&["TLS files changed"], Duration::from_secs(60));

    let fresh = crate::support::wait::until(
        "a new connection to get the new certificate",
        Duration::from_secs(30),
        || {
            let conn = connect(&addr, &name, config.clone()).ok()?;
            (peer_leaf(&conn) == renewed.der).then_some(conn)
        },
    );
    assert_ne!(peer_leaf(&fresh), old_leaf);
    produce(&mut old, "after rotation, same connection");
    assert_eq!(
        peer_leaf(&old),
        old_leaf,
        "the old connection keeps its session"
    );
}

/// Writes next to the file and renames over it, as certificate tooling does,
/// so a reader never sees half a file.
fn replace_file(path: &std::path::Path, text: &str) {
    let tmp = path.with_extension("new");
    std::fs::write(&tmp, text).unwrap();
    std::fs::rename(&tmp, path).unwrap();
}
