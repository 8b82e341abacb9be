//! Metrics and readiness against real traffic: a produce/consume run
//! through a gateway of its own moves the request, byte and connection
//! counters by what the run did (exactly what its connection-close log
//! lines add up to), and readiness drops while the gateway drains.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use kafka_protocol::messages::{ApiKey, FetchResponse};

use crate::clients::create_topic;
use crate::lifecycle::{leader_port, long_poll_fetch};
use crate::support::gateway::Gateway;
use crate::support::http::{get, scrape, Metrics};
use crate::support::raw::RawConn;
use crate::Env;
use sluice_test_support::kafka::{kcat_ok, kcat_read_from_start, NODE_ID_BASE};
use sluice_test_support::{ports, wait};

const WAIT: Duration = Duration::from_secs(60);
const RECORDS: usize = 2_000;
const RECORD_BYTES: usize = 100;

fn start_with_admin(env: &Env, shards: &str) -> Gateway {
    let admin = ports::free_addr();
    let args = ["--shards", shards, "--no-pin", "--admin-listen", &admin];
    Gateway::start_port_mapping(&env.cluster.bootstrap, 3, NODE_ID_BASE, &args)
}

/// Sum of `field=N` over the gateway's connection-close log lines.
fn logged_total(gw: &Gateway, field: &str) -> f64 {
    let key = format!("{field}=");
    (gw.logs().lines())
        .filter(|l| l.contains("connection closed"))
        .filter_map(|l| l.split_whitespace().find_map(|w| w.strip_prefix(&key)))
        .filter_map(|n| n.parse::<f64>().ok())
        .sum()
}

/// A scrape taken once every connection is closed and counted. Shards
/// publish their counters about once a second, each on its own: a scrape
/// can show one shard's connections closed while another's are not in yet,
/// so the counters must also agree with the close lines already logged.
fn settled(gw: &Gateway) -> Metrics {
    wait::until("every connection closed and counted", WAIT, || {
        let m = scrape(gw.admin());
        let accepted = m.sum("sluice_client_connections_accepted_total", &[]);
        let closed = m.sum("sluice_client_connections_closed_total", &[]);
        let idle = m.sum("sluice_client_connections_active", &[]) == 0.0;
        let logged = (gw.logs().lines())
            .filter(|l| l.contains("connection closed"))
            .count() as f64;
        let requests = m.sum("sluice_requests_total", &[]) == logged_total(gw, "requests");
        (idle && accepted > 0.0 && closed == accepted && closed == logged && requests).then_some(m)
    })
}

fn produce_and_consume(gw: &Gateway, topic: &str) {
    let records: String = (0..RECORDS)
        .map(|i| format!("obs-{i:0width$}\n", width = RECORD_BYTES - 4))
        .collect();
    let bootstrap = gw.bootstrap();
    kcat_ok(
        &["-b", &bootstrap, "-P", "-t", topic, "-X", "acks=all"],
        Some(&records),
    );
    let consumed = kcat_read_from_start(&bootstrap, topic, RECORDS);
    assert_eq!(
        consumed.lines().count(),
        RECORDS,
        "consumer did not get every record"
    );
}

fn assert_brokers_in_status(env: &Env, gw: &Gateway) {
    let expected: Vec<String> = (env.cluster.broker_ports().iter())
        .map(|p| format!("127.0.0.1:{p}"))
        .collect();
    wait::until("/status to list the backend's brokers", WAIT, || {
        let (_, body) = get(gw.admin(), "/status")?;
        let status: serde_json::Value = serde_json::from_str(&body).ok()?;
        let brokers = status["backends"][0]["brokers"].as_object()?.clone();
        let found: Vec<String> = brokers
            .values()
            .filter_map(|v| v.as_str().map(String::from))
            .collect();
        (found == expected).then_some(())
    });
}

/// What one scrape says minus what an earlier one said.
struct Delta<'a> {
    before: &'a Metrics,
    after: &'a Metrics,
}

impl Delta<'_> {
    fn of(&self, name: &str, labels: &[(&str, &str)]) -> f64 {
        self.after.sum(name, labels) - self.before.sum(name, labels)
    }

    fn at_least(&self, name: &str, labels: &[(&str, &str)], min: f64) {
        let got = self.of(name, labels);
        assert!(
            got >= min,
            "{name}{labels:?} moved by {got}, expected at least {min}"
        );
    }
}

const VC: (&str, &str) = ("virtual_cluster", "vc");

fn assert_request_counts(d: &Delta) {
    for api in ["Produce", "Fetch", "Metadata"] {
        let labels = [VC, ("api_key", api)];
        d.at_least("sluice_requests_total", &labels, 1.0);
        d.at_least("sluice_responses_total", &labels, 1.0);
    }
    let payload = (RECORDS * RECORD_BYTES) as f64;
    d.at_least("sluice_bytes_in_total", &[VC], payload);
    d.at_least("sluice_bytes_out_total", &[VC], payload);
    let produce_rtt = [("backend", "kafka"), ("api_key", "Produce")];
    d.at_least("sluice_backend_round_trip_seconds_count", &produce_rtt, 1.0);
    d.at_least("sluice_request_forward_seconds_count", &[VC], 2.0);
    d.at_least("sluice_response_processing_seconds_count", &[VC], 2.0);
}

fn assert_connection_counts(d: &Delta) {
    let accepted = d.of(
        "sluice_client_connections_accepted_total",
        &[("listener", "plain")],
    );
    assert!(
        accepted >= 2.0,
        "a producer and a consumer connected: {accepted}"
    );
    // A client may close between requests or with one in flight (a
    // consumer's long-polled Fetch): both are the client's own close.
    let by_client = ["client_closed", "client_left"].map(|reason| {
        let labels = [("listener", "plain"), ("reason", reason)];
        d.of("sluice_client_connections_closed_total", &labels)
    });
    assert_eq!(
        by_client.iter().sum::<f64>(),
        accepted,
        "every connection closed by its client: {by_client:?}"
    );
    let opened = d.of(
        "sluice_backend_connections_opened_total",
        &[("backend", "kafka")],
    );
    assert_eq!(
        opened, accepted,
        "one upstream connection per client connection"
    );
}

pub fn metrics_count_a_produce_consume_run(env: &Env) {
    let topic = "observability-run";
    create_topic(&env.gateway.bootstrap(), topic);
    let gw = start_with_admin(env, "2");
    assert_brokers_in_status(env, &gw);
    let before = scrape(gw.admin());
    assert_eq!(
        before.sum("sluice_requests_total", &[]),
        0.0,
        "traffic before the run"
    );
    produce_and_consume(&gw, topic);
    let after = settled(&gw);
    let delta = Delta {
        before: &before,
        after: &after,
    };
    assert_request_counts(&delta);
    assert_connection_counts(&delta);
    // The counters and the close lines count the same frames.
    assert_eq!(
        after.sum("sluice_requests_total", &[]),
        logged_total(&gw, "requests")
    );
    assert_eq!(
        after.sum("sluice_bytes_in_total", &[]),
        logged_total(&gw, "bytes_in")
    );

    // An invalid frame is counted by what was wrong with it.
    let mut conn = TcpStream::connect(gw.bootstrap()).expect("connect");
    conn.set_read_timeout(Some(WAIT)).expect("read timeout");
    conn.write_all(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        .expect("write");
    let _ = conn.read(&mut [0u8; 16]);
    let http = [("side", "client"), ("reason", "http_on_kafka")];
    wait::until("the rejected frame to be counted", WAIT, || {
        (scrape(gw.admin()).sum("sluice_frames_rejected_total", &http) >= 1.0).then_some(())
    });
    silent_client_opens_no_backend_connection(&gw);
}

/// A client that connects and leaves without a word (a port probe), or
/// speaks HTTP, costs the backend nothing: sluice connects upstream once a
/// client has sent the start of a Kafka frame.
fn silent_client_opens_no_backend_connection(gw: &Gateway) {
    let before = settled(gw);
    drop(TcpStream::connect(gw.bootstrap()).expect("connect"));
    let mut http = TcpStream::connect(gw.bootstrap()).expect("connect");
    http.set_read_timeout(Some(WAIT)).expect("read timeout");
    http.write_all(b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n")
        .expect("write");
    let _ = http.read(&mut [0u8; 16]);
    // Their closes and any backend connection they made are counted together.
    let closed = |m: &Metrics| m.sum("sluice_client_connections_closed_total", &[]);
    let after = wait::until("both connections to be closed and counted", WAIT, || {
        let m = scrape(gw.admin());
        (closed(&m) >= closed(&before) + 2.0).then_some(m)
    });
    let opened = |m: &Metrics| m.sum("sluice_backend_connections_opened_total", &[]);
    assert_eq!(
        opened(&after),
        opened(&before),
        "a silent or HTTP client opened a backend connection"
    );
}

fn readiness(gw: &Gateway) -> Option<u16> {
    get(gw.admin(), "/health/probes/readiness").map(|(code, _)| code)
}

pub fn readiness_drops_while_draining(env: &Env) {
    let topic = "observability-drain";
    create_topic(&env.gateway.bootstrap(), topic);
    let mut gw = start_with_admin(env, "1");
    wait::until("readiness", WAIT, || {
        (readiness(&gw) == Some(200)).then_some(())
    });
    let mut conn = RawConn::connect(&format!("127.0.0.1:{}", leader_port(&gw, topic)));
    // A fetch on an empty partition is held by the broker for max_wait_ms:
    // it keeps the drain open while readiness is checked.
    let fetcher = std::thread::spawn(move || {
        let response: FetchResponse = conn.call(ApiKey::Fetch, 12, &long_poll_fetch(topic));
        response.error_code
    });
    gw.wait_log_line(&["request forwarded", "api_key=1"], WAIT);
    gw.signal("-TERM");
    wait::until("readiness 503 while draining", WAIT, || {
        (readiness(&gw) == Some(503)).then_some(())
    });
    let (_, body) = get(gw.admin(), "/status").expect("status while draining");
    assert!(body.contains("\"draining\": true"), "{body}");
    assert!(get(gw.admin(), "/health/probes/liveness").is_some_and(|(c, _)| c == 200));
    let status = gw.wait_exit(WAIT);
    assert!(status.success(), "sluice exited with {status}");
    assert_eq!(
        fetcher.join().expect("fetcher"),
        0,
        "the in-flight fetch failed"
    );
    assert_eq!(
        readiness(&gw),
        None,
        "admin listener still answers after exit"
    );
}

/// With no broker of its backend known, a node is not ready; once a
/// broker is known (here: the configuration is pointed at a running
/// cluster), it is, and it serves.
pub fn not_ready_until_a_backend_broker_is_known(env: &Env) {
    let admin = ports::free_addr();
    let first = ports::free_port_block(5);
    let down = crate::support::gateway::port_mapping_config("127.0.0.1:1", first, 5, NODE_ID_BASE);
    let args = [
        "--shards",
        "1",
        "--no-pin",
        "--admin-listen",
        admin.as_str(),
    ];
    let gw = Gateway::start(&down, first, &args);
    gw.wait_log("backend metadata refresh failed", WAIT);
    assert_eq!(readiness(&gw), Some(503));
    let (_, body) = get(gw.admin(), "/status").expect("status");
    assert!(body.contains("backend kafka: unreachable"), "{body}");
    let up = crate::support::gateway::port_mapping_config(
        &env.cluster.bootstrap,
        first,
        5,
        NODE_ID_BASE,
    );
    std::fs::write(&gw.config_path, up).expect("write config");
    gw.signal("-HUP");
    wait::until("readiness once a broker is known", WAIT, || {
        (readiness(&gw) == Some(200)).then_some(())
    });
    let mut conn = RawConn::connect(&gw.bootstrap());
    crate::bad_input::round_trip_works(&mut conn);
}
