//! Connection limits, client timeouts, file descriptor exhaustion and
//! start-up checks, on the real `sluice` binary. No Kafka: a listener
//! accepts before any backend is dialled, and clients here never complete
//! a request, so the backend address is never connected to by a client
//! connection.

#[path = "limits/connections.rs"]
mod connections;
#[path = "limits/descriptors.rs"]
mod descriptors;
#[path = "limits/reload.rs"]
mod reload;
#[path = "limits/startup.rs"]
mod startup;
mod support;
#[path = "limits/timeouts.rs"]
mod timeouts;

use std::io::{ErrorKind, Read};
use std::net::{IpAddr, SocketAddr, TcpStream};
use std::time::Duration;

use socket2::{Domain, Socket, Type};
use support::gateway::Gateway;
use support::http;

/// Generous: every wait is for a condition and fails with a message.
pub const WAIT: Duration = Duration::from_secs(30);

/// Where discovery fails at once: nothing listens on port 1.
pub const NO_BACKEND: &str = "127.0.0.1:1";

/// A client connection from `source` (any 127.0.0.0/8 address is local
/// on Linux) to the gateway's bootstrap port.
pub fn connect_from(source: &str, gateway: &Gateway) -> TcpStream {
    connect_to(source, gateway.port)
}

pub fn connect_to(source: &str, port: u16) -> TcpStream {
    let source: IpAddr = source.parse().expect("source address");
    let socket = Socket::new(Domain::IPV4, Type::STREAM, None).expect("socket");
    socket
        .bind(&SocketAddr::new(source, 0).into())
        .expect("bind the client's source address");
    let target = SocketAddr::from(([127, 0, 0, 1], port));
    socket.connect(&target.into()).expect("connect");
    socket.into()
}

/// `peer=ADDR:PORT ` as the gateway logs the client.
pub fn peer(client: &TcpStream) -> String {
    format!("peer={} ", client.local_addr().expect("local addr"))
}

/// Waits until the gateway has admitted `client` (and counted it).
pub fn wait_admitted(gateway: &Gateway, client: &TcpStream) {
    gateway.wait_log_line(&["connection accepted", &peer(client)], WAIT);
}

/// A connection from `source` that the gateway admits. A place freed by a
/// close is given back just after the close is logged, so a connection
/// made at once may still find it taken: that one is refused, and the
/// next try gets the place.
pub fn connect_admitted(source: &str, gateway: &Gateway) -> TcpStream {
    sluice_test_support::wait::until("a connection the gateway admits", WAIT, || {
        let client = connect_from(source, gateway);
        let peer = peer(&client);
        let line = sluice_test_support::wait::until("the gateway to admit or refuse", WAIT, || {
            let log = gateway.logs();
            let line = log.lines().find(|l| {
                l.contains(&peer)
                    && (l.contains("connection accepted") || l.contains("connection refused"))
            });
            line.map(str::to_owned)
        });
        line.contains("connection accepted").then_some(client)
    })
}

/// Waits until the gateway has refused `client` with `reason`, and checks
/// that the client saw its connection end, not a connection left waiting.
pub fn assert_refused(gateway: &Gateway, mut client: TcpStream, reason: &str) {
    let code = format!("reason_code=\"{reason}\"");
    gateway.wait_log_line(&["connection refused", &peer(&client), &code], WAIT);
    assert_ends(&mut client);
}

/// The gateway closed `client`: reading sees end of file (or a reset)
/// well within `WAIT`, rather than waiting for data that never comes.
pub fn assert_ends(client: &mut TcpStream) {
    client.set_read_timeout(Some(WAIT)).expect("read timeout");
    let read = client.read(&mut [0u8; 1]);
    let ended = matches!(read, Ok(0))
        || read
            .as_ref()
            .is_err_and(|e| e.kind() == ErrorKind::ConnectionReset);
    assert!(ended, "the gateway did not close the connection: {read:?}");
}

/// `client` is still open: nothing to read, no end of file.
pub fn assert_open(client: &TcpStream) {
    client.set_nonblocking(true).expect("non-blocking");
    let read = (&*client).read(&mut [0u8; 1]);
    let open = read
        .as_ref()
        .is_err_and(|e| e.kind() == ErrorKind::WouldBlock);
    assert!(open, "the connection is no longer open: {read:?}");
    client.set_nonblocking(false).expect("blocking");
}

/// Waits until the scraped `name{labels}` reaches `expected` (shards
/// publish their counters once a second), and checks it goes no further.
pub fn wait_metric(gateway: &Gateway, name: &str, labels: &[(&str, &str)], expected: f64) {
    let what = format!("{name}{labels:?} = {expected}");
    let value = sluice_test_support::wait::until(&what, WAIT, || {
        let value = http::scrape(gateway.admin()).sum(name, labels);
        (value >= expected).then_some(value)
    });
    assert_eq!(value, expected, "{name}{labels:?}");
}

/// The refusals counted for `listener` and `reason`, once `expected`.
pub fn wait_refused(gateway: &Gateway, listener: &str, reason: &str, expected: f64) {
    let labels = [("listener", listener), ("reason", reason)];
    wait_metric(
        gateway,
        "sluice_connections_refused_total",
        &labels,
        expected,
    );
}

/// A port-mapping config in front of nothing, its listener `plain` on
/// 127.0.0.1 from `first` with four ports, and `limits` if not empty.
pub fn config(first: u16, limits: &str) -> String {
    let mut config = support::gateway::port_mapping_config(NO_BACKEND, first, 4, 0);
    if !limits.is_empty() {
        config.push_str(&format!("    limits: {limits}\n"));
    }
    config
}

/// Free ports for one gateway: four listener ports from the first, and
/// the admin port after them. One block, so that tests running at once
/// cannot pick a port another one is about to bind.
pub fn gateway_ports() -> u16 {
    sluice_test_support::ports::free_port_block(5)
}

/// The admin address of a gateway whose ports are [`gateway_ports`].
pub fn admin_addr(first: u16) -> String {
    format!("127.0.0.1:{}", first + 4)
}

/// A gateway on [`gateway_ports`] with an admin listener, serving `config`.
pub fn start(config: &str, port: u16, extra: &[&str]) -> Gateway {
    let admin = admin_addr(port);
    let mut args = vec![
        "--shards",
        "2",
        "--no-pin",
        "--admin-listen",
        admin.as_str(),
    ];
    args.extend(extra);
    Gateway::start(config, port, &args)
}
