//! Requests the broker never answers are bounded by their deadline: the
//! wait the client allowed plus sluice's margin. Kafka 4.1 never answers a
//! Produce whose records length is negative; a client that sends one and
//! stays connected is released at the deadline, with its upstream
//! connection, and every descriptor comes back.

use std::time::Duration;

use bytes::BytesMut;
use kafka_protocol::messages::produce_request::{PartitionProduceData, TopicProduceData};
use kafka_protocol::messages::{ApiKey, ProduceRequest, RequestHeader, TopicName};
use kafka_protocol::protocol::{Encodable, StrBytes};

use crate::clients::create_topic;
use crate::lifecycle::leader_port;
use crate::support::gateway::Gateway;
use crate::support::http::scrape;
use crate::support::raw::RawConn;
use crate::Env;
use sluice_test_support::kafka::NODE_ID_BASE;
use sluice_test_support::wait;

const CLIENTS: usize = 300;
const WAIT: Duration = Duration::from_secs(60);

/// Produce v7, acks=1, `timeout_ms` 1 s, one partition whose records
/// length is -7.
fn unanswerable_produce(topic: &str, correlation_id: i32) -> Vec<u8> {
    let partition = PartitionProduceData::default()
        .with_index(0)
        .with_records(Some(bytes::Bytes::new()));
    let topic = TopicProduceData::default()
        .with_name(TopicName(StrBytes::from_string(topic.to_owned())))
        .with_partition_data(vec![partition]);
    let request = ProduceRequest::default()
        .with_acks(1)
        .with_timeout_ms(1_000)
        .with_topic_data(vec![topic]);
    let header = RequestHeader::default()
        .with_request_api_key(ApiKey::Produce as i16)
        .with_request_api_version(7)
        .with_correlation_id(correlation_id)
        .with_client_id(Some(StrBytes::from_static_str("abandoned")));
    let mut body = BytesMut::new();
    header.encode(&mut body, 1).unwrap();
    request.encode(&mut body, 7).unwrap();
    // The records length is the body's last field.
    let at = body.len() - 4;
    body[at..].copy_from_slice(&(-7i32).to_be_bytes());
    let mut frame = (body.len() as i32).to_be_bytes().to_vec();
    frame.extend_from_slice(&body);
    frame
}

fn open_fds(pid: u32) -> usize {
    std::fs::read_dir(format!("/proc/{pid}/fd")).map_or(0, |dir| dir.count())
}

pub fn unanswered_requests_are_released_at_their_deadline(env: &Env) {
    let topic = "never-answered";
    create_topic(&env.gateway.bootstrap(), topic);
    let admin = sluice_test_support::ports::free_addr();
    let args = [
        "--shards",
        "1",
        "--no-pin",
        "--request-timeout-margin-ms",
        "1000",
        "--admin-listen",
        admin.as_str(),
    ];
    let gw = Gateway::start_port_mapping(&env.cluster.bootstrap, 3, NODE_ID_BASE, &args);
    let pid = gw.pid().expect("sluice runs");
    let port = leader_port(&gw, topic);
    let baseline = open_fds(pid);
    let mut clients: Vec<RawConn> = (0..CLIENTS)
        .map(|i| {
            let mut conn = RawConn::connect(&format!("127.0.0.1:{port}"));
            conn.send_bytes(&unanswerable_produce(topic, i as i32 + 1));
            conn
        })
        .collect();
    let released = || {
        gw.logs()
            .matches("reason_code=\"upstream_timeout\"")
            .count()
    };
    assert!(
        wait::eventually(WAIT, || released() >= CLIENTS),
        "{} of {CLIENTS} connections released at their deadline",
        released()
    );
    for conn in &mut clients {
        assert!(conn.closed_by_peer(), "client connection left open");
    }
    drop(clients);
    assert!(
        wait::eventually(WAIT, || open_fds(pid) <= baseline),
        "descriptors: {} now, {baseline} before",
        open_fds(pid)
    );
    let active = || scrape(&admin).sum("sluice_client_connections_active", &[]);
    assert!(
        wait::eventually(WAIT, || active() == 0.0),
        "{} connections still counted active",
        active()
    );
    let line = gw.wait_log_line(&["connection closed", "upstream_timeout"], WAIT);
    assert!(line.contains("side=\"backend\""), "{line}");
    assert!(line.contains("requests=1"), "{line}");
}

/// A connection with nothing in flight for the listener's
/// `idle_timeout_ms` is closed, like the broker's `connections.max.idle.ms`.
pub fn idle_connections_are_closed(env: &Env) {
    let first = sluice_test_support::ports::free_port_block(5);
    let mut config = crate::support::gateway::port_mapping_config(
        &env.cluster.bootstrap,
        first,
        5,
        NODE_ID_BASE,
    );
    config.push_str("    limits: { idle_timeout_ms: 2000 }\n");
    let gw = Gateway::start(&config, first, &["--shards", "1", "--no-pin"]);
    let mut conn = RawConn::connect(&gw.bootstrap());
    crate::bad_input::round_trip_works(&mut conn);
    let local = conn.stream.local_addr().expect("local addr");
    let peer = format!("peer={local} ");
    let line = gw.wait_log_line(&["connection closed", peer.as_str()], WAIT);
    assert!(line.contains("reason_code=\"idle_timeout\""), "{line}");
    assert!(conn.closed_by_peer(), "idle connection left open");
}

/// A hung broker (SIGSTOP) answers nothing: its clients are released at
/// their request's deadline, not when the broker wakes up.
pub fn a_hung_brokers_clients_are_released_at_their_deadline(env: &Env) {
    let topic = "hung-broker";
    create_topic(&env.gateway.bootstrap(), topic);
    let gw = Gateway::start_port_mapping(
        &env.cluster.bootstrap,
        3,
        NODE_ID_BASE,
        &[
            "--shards",
            "1",
            "--no-pin",
            "--request-timeout-margin-ms",
            "1000",
        ],
    );
    let port = leader_port(&gw, topic);
    let node = port - i32::from(gw.port) - 1 + NODE_ID_BASE;
    let mut conn = RawConn::connect(&format!("127.0.0.1:{port}"));
    crate::bad_input::round_trip_works(&mut conn);
    let local = conn.stream.local_addr().expect("local addr");
    env.cluster.signal_node(node, "-STOP");
    let request = crate::support::produce::produce_request(topic, "held", 1).with_timeout_ms(1_000);
    conn.send(ApiKey::Produce, 9, &request);
    let peer = format!("peer={local} ");
    let line = gw.wait_log_line(&["connection closed", peer.as_str()], WAIT);
    env.cluster.signal_node(node, "-CONT");
    assert!(line.contains("reason_code=\"upstream_timeout\""), "{line}");
    assert!(
        conn.closed_by_peer(),
        "client left waiting for a hung broker"
    );
}
