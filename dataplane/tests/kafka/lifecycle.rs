//! Gateway life cycle against the real cluster: SIGHUP reloads (listeners
//! bound and unbound in the running process, invalid files refused), SIGTERM
//! drains in-flight requests, and brokers without a port are reported.

use std::net::TcpStream;
use std::time::Duration;

use kafka_protocol::messages::fetch_request::{FetchPartition, FetchRequest, FetchTopic};
use kafka_protocol::messages::{
    ApiKey, FetchResponse, MetadataRequest, MetadataResponse, TopicName,
};
use kafka_protocol::protocol::StrBytes;

use crate::bad_input::round_trip_works;
use crate::clients::create_topic;
use crate::support::gateway::Gateway;
use crate::support::raw::RawConn;
use crate::Env;
use sluice_test_support::kafka::NODE_ID_BASE;
use sluice_test_support::{ports, wait};

const WAIT: Duration = Duration::from_secs(30);

fn metadata_ports(addr: &str) -> Vec<i32> {
    let mut conn = RawConn::connect(addr);
    let request = MetadataRequest::default().with_topics(Some(vec![]));
    let response: MetadataResponse = conn.call(ApiKey::Metadata, 12, &request);
    response.brokers.iter().map(|b| b.port).collect()
}

fn second_listener(first_port: u16) -> String {
    format!(
        r#"  - name: second
    addresses: ["127.0.0.1"]
    ports: ["{first_port}-{}"]
    policies:
      - type: forward_to_virtual_cluster
        config:
          type: port_mapping
          destination: {{ name: vc }}
          advertised_host: 127.0.0.1
          min_broker_id: {NODE_ID_BASE}
"#,
        first_port + 4
    )
}

fn reload(gw: &Gateway, config: &str, epoch: u64) {
    std::fs::write(&gw.config_path, config).unwrap();
    gw.signal("-HUP");
    gw.wait_log_line(&["configuration reloaded", &format!("epoch={epoch}")], WAIT);
}

pub fn sighup_reloads_listeners_and_keeps_connections(env: &Env) {
    let args = ["--shards", "2", "--no-pin"];
    let gw = Gateway::start_port_mapping(&env.cluster.bootstrap, 3, NODE_ID_BASE, &args);
    let original = std::fs::read_to_string(&gw.config_path).unwrap();
    let mut kept = RawConn::connect(&gw.bootstrap());
    round_trip_works(&mut kept);

    // A new listener is bound in the running process; others are untouched.
    let second = ports::free_port_block(5);
    reload(&gw, &format!("{original}{}", second_listener(second)), 2);
    let second_addr = format!("127.0.0.1:{second}");
    drop(wait::until("the new listener to accept", WAIT, || {
        TcpStream::connect(&second_addr).ok()
    }));
    let ports = metadata_ports(&second_addr);
    let second_range = second as i32 + 1..second as i32 + 5;
    assert!(ports.iter().all(|p| second_range.contains(p)), "{ports:?}");
    round_trip_works(&mut kept);

    // An invalid file is refused and changes nothing.
    std::fs::write(
        &gw.config_path,
        "listeners: [ { name: broken, bogus: 1 } ]\n",
    )
    .unwrap();
    gw.signal("-HUP");
    gw.wait_log_line(&["configuration rejected", "bogus"], WAIT);
    round_trip_works(&mut kept);
    let mut on_second = RawConn::connect(&second_addr);
    round_trip_works(&mut on_second);

    // Removing a listener closes its connections, and only those.
    reload(&gw, &original, 3);
    wait::until("the removed listener to stop accepting", WAIT, || {
        TcpStream::connect(&second_addr).err()
    });
    assert!(
        on_second.closed_by_peer(),
        "connection of a removed listener left open"
    );
    gw.wait_log_line(
        &[
            "connection closed",
            "configuration changed: listener second was removed",
        ],
        WAIT,
    );
    round_trip_works(&mut kept);

    // A tuning field changes without closing anything, while requests flow.
    let retuned = original.replacen(
        "metadata_update_interval_seconds: 5",
        "metadata_update_interval_seconds: 7",
        1,
    );
    let (stop, stopped) = std::sync::mpsc::channel::<()>();
    let mut busy = RawConn::connect(&gw.bootstrap());
    let load = std::thread::spawn(move || {
        let mut trips = 0;
        while stopped.try_recv().is_err() {
            round_trip_works(&mut busy);
            trips += 1;
        }
        trips
    });
    reload(&gw, &retuned, 4);
    round_trip_works(&mut kept);
    let _ = stop.send(());
    let trips = load
        .join()
        .expect("requests during the reload all answered");
    assert!(trips > 0);
    assert!(
        !gw.logs().contains("configuration changed: backend cluster"),
        "a tuning-only reload closed connections"
    );

    // Changing the listener a connection uses closes it.
    reload(
        &gw,
        &retuned.replacen(
            "advertised_host: 127.0.0.1",
            "advertised_host: localhost",
            1,
        ),
        5,
    );
    assert!(
        kept.closed_by_peer(),
        "connection of a changed listener left open"
    );
    gw.wait_log_line(
        &[
            "connection closed",
            "configuration changed: listener plain changed",
        ],
        WAIT,
    );
}

/// The gateway port that serves the leader of `topic` partition 0.
pub fn leader_port(gw: &Gateway, topic: &str) -> i32 {
    let mut conn = RawConn::connect(&gw.bootstrap());
    let name = TopicName(StrBytes::from_string(topic.to_string()));
    let topic_request = kafka_protocol::messages::metadata_request::MetadataRequestTopic::default()
        .with_name(Some(name));
    let request = MetadataRequest::default().with_topics(Some(vec![topic_request]));
    let response: MetadataResponse = conn.call(ApiKey::Metadata, 12, &request);
    let leader = response.topics[0]
        .partitions
        .iter()
        .find(|p| p.partition_index == 0)
        .unwrap()
        .leader_id;
    response
        .brokers
        .iter()
        .find(|b| b.node_id == leader)
        .unwrap()
        .port
}

pub fn long_poll_fetch(topic: &str) -> FetchRequest {
    let partition = FetchPartition::default()
        .with_partition(0)
        .with_fetch_offset(0)
        .with_partition_max_bytes(1 << 20);
    let fetch_topic = FetchTopic::default()
        .with_topic(TopicName(StrBytes::from_string(topic.to_string())))
        .with_partitions(vec![partition]);
    FetchRequest::default()
        .with_replica_id(kafka_protocol::messages::BrokerId(-1))
        .with_max_wait_ms(3000)
        .with_min_bytes(1)
        .with_max_bytes(1 << 20)
        .with_topics(vec![fetch_topic])
}

pub fn sigterm_drains_in_flight_requests(env: &Env) {
    let topic = "drain-empty";
    create_topic(&env.gateway.bootstrap(), topic);
    let mut gw = Gateway::start_port_mapping(
        &env.cluster.bootstrap,
        3,
        NODE_ID_BASE,
        &["--shards", "1", "--no-pin"],
    );
    let port = leader_port(&gw, topic);
    let mut conn = RawConn::connect(&format!("127.0.0.1:{port}"));
    // A fetch on an empty partition is held by the broker for max_wait_ms:
    // it is in flight when the gateway is told to stop.
    let (tx, rx) = std::sync::mpsc::channel();
    let fetcher = std::thread::spawn(move || {
        let response: FetchResponse = conn.call(ApiKey::Fetch, 12, &long_poll_fetch(topic));
        tx.send(response.error_code).unwrap();
        conn.closed_by_peer()
    });
    gw.wait_log_line(&["request forwarded", "api_key=1"], WAIT);
    let status = gw.stop();
    assert!(status.success(), "sluice exited with {status}");
    assert_eq!(
        rx.recv_timeout(WAIT)
            .expect("the in-flight fetch was answered"),
        0
    );
    assert!(fetcher.join().unwrap(), "connection left open after drain");
    let log = gw.logs();
    assert!(
        log.contains("draining") && log.contains("sluice stopped"),
        "{log}"
    );
    assert!(
        TcpStream::connect(gw.bootstrap()).is_err(),
        "still accepting after stop"
    );
}

pub fn brokers_without_a_port_are_reported(env: &Env) {
    // Bootstrap plus two broker ports: node 3 has no port on this listener.
    let first = ports::free_port_block(3);
    let config = crate::support::gateway::port_mapping_config(
        &env.cluster.bootstrap,
        first,
        3,
        NODE_ID_BASE,
    );
    let gw = Gateway::start(&config, first, &["--shards", "1", "--no-pin"]);
    let line = gw.wait_log_line(
        &["broker node 3 maps to port", "outside listener ports"],
        WAIT,
    );
    assert!(line.contains("ERROR"), "{line}");
    let ports = metadata_ports(&gw.bootstrap());
    assert_eq!(
        ports,
        vec![first as i32 + 1, first as i32 + 2],
        "only mapped brokers are announced"
    );
    gw.wait_log_line(&["left out of the response"], WAIT);
}

/// A client that leaves while the broker holds its request (a long-polled
/// Fetch on an empty partition, held for a minute) is released at once,
/// with its upstream connection, not when the broker answers.
pub fn a_client_leaving_mid_request_is_released(env: &Env) {
    let topic = "abandoned-fetch";
    create_topic(&env.gateway.bootstrap(), topic);
    let port = leader_port(&env.gateway, topic);
    let mut conn = RawConn::connect(&format!("127.0.0.1:{port}"));
    let local = conn.stream.local_addr().unwrap().port();
    let held = long_poll_fetch(topic)
        .with_max_wait_ms(60_000)
        .with_min_bytes(1 << 20);
    conn.send(ApiKey::Fetch, 12, &held);
    drop(conn);
    let peer = format!("127.0.0.1:{local}");
    let line = env
        .gateway
        .wait_log_line(&["connection closed", peer.as_str(), "client_left"], WAIT);
    assert!(line.contains("requests=1"), "{line}");
}
