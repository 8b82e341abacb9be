//! Node, listener and per-IP counts, and what a dropped permit gives back.

use super::*;

fn ip(text: &str) -> IpAddr {
    text.parse().unwrap()
}

fn listener_limits(json: &str) -> ListenerLimits {
    serde_json::from_str(json).unwrap()
}

#[test]
fn no_limits_admit_everyone_and_count_them() {
    let limits = ConnLimits::new(NodeLimits::default());
    let listener = limits.listener("plain");
    let now = Instant::now();
    let permits: Vec<Permit> = (0..100)
        .map(|_| limits.admit(&listener, None, ip("10.0.0.1"), now).unwrap())
        .collect();
    assert_eq!((limits.active(), listener.active()), (100, 100));
    assert_eq!(limits.count_from(ip("10.0.0.1")), 100);
    drop(permits);
    assert_eq!((limits.active(), listener.active()), (0, 0));
    assert_eq!(limits.count_from(ip("10.0.0.1")), 0);
}

#[test]
fn node_limits_span_listeners() {
    let node = NodeLimits {
        max_connections: Some(3),
        max_connections_per_ip: Some(2),
        per_ip_overrides: parse_ip_overrides("10.0.0.9=0").unwrap(),
        creation_rate: None,
    };
    let limits = ConnLimits::new(node);
    let (a, b) = (limits.listener("a"), limits.listener("b"));
    let now = Instant::now();
    let first = limits.admit(&a, None, ip("10.0.0.1"), now).unwrap();
    let _second = limits.admit(&b, None, ip("10.0.0.1"), now).unwrap();
    let refused = limits.admit(&a, None, ip("10.0.0.1"), now).err();
    assert_eq!(refused, Some(Refusal::NodeMaxConnectionsPerIp(2)));
    let blocked = limits.admit(&a, None, ip("10.0.0.9"), now).err();
    assert_eq!(blocked, Some(Refusal::NodeMaxConnectionsPerIp(0)));
    let _third = limits.admit(&b, None, ip("10.0.0.2"), now).unwrap();
    let full = limits.admit(&a, None, ip("10.0.0.3"), now).err();
    assert_eq!(full, Some(Refusal::NodeMaxConnections(3)));
    assert_eq!((limits.active(), a.active(), b.active()), (3, 1, 2));
    drop(first);
    assert!(limits.admit(&a, None, ip("10.0.0.3"), now).is_ok());
}

#[test]
fn listener_limits_count_only_their_listener() {
    let limits = ConnLimits::new(NodeLimits::default());
    let (a, b) = (limits.listener("a"), limits.listener("b"));
    let on_a = listener_limits(
        r#"{"max_connections": 3, "max_connections_per_ip": 1,
            "max_connections_per_ip_overrides": {"127.0.0.1": 2}}"#,
    );
    let now = Instant::now();
    let admit = |count: &Arc<ListenerCount>, limits_of: Option<&ListenerLimits>, from: &str| {
        limits.admit(count, limits_of, ip(from), now)
    };
    let _x = admit(&a, Some(&on_a), "10.0.0.1").unwrap();
    let again = admit(&a, Some(&on_a), "10.0.0.1").err();
    assert_eq!(again, Some(Refusal::ListenerMaxConnectionsPerIp(1)));
    // Another listener without limits takes the same address.
    let _y = admit(&b, None, "10.0.0.1").unwrap();
    let _l1 = admit(&a, Some(&on_a), "127.0.0.1").unwrap();
    let _l2 = admit(&a, Some(&on_a), "127.0.0.1");
    let full = admit(&a, Some(&on_a), "10.0.0.2").err();
    assert_eq!(full, Some(Refusal::ListenerMaxConnections(3)));
    // Refusals give back what they had counted.
    assert_eq!((limits.active(), a.active(), b.active()), (4, 3, 1));
    assert_eq!(limits.count_from(ip("10.0.0.1")), 2);
    assert_eq!(limits.count_from(ip("10.0.0.2")), 0);
}

#[test]
fn the_creation_rate_refuses_past_its_burst_and_takes_nothing_for_refusals() {
    let node = NodeLimits {
        max_connections: Some(1),
        creation_rate: Some(2),
        ..NodeLimits::default()
    };
    let limits = ConnLimits::new(node);
    let listener = limits.listener("plain");
    let now = Instant::now();
    let first = limits.admit(&listener, None, ip("10.0.0.1"), now).unwrap();
    let full = limits.admit(&listener, None, ip("10.0.0.1"), now).err();
    assert_eq!(full, Some(Refusal::NodeMaxConnections(1)));
    drop(first);
    let second = limits.admit(&listener, None, ip("10.0.0.1"), now).unwrap();
    drop(second);
    let fast = limits.admit(&listener, None, ip("10.0.0.1"), now).err();
    assert_eq!(fast, Some(Refusal::CreationRate(2)));
    assert_eq!((limits.active(), listener.active()), (0, 0));
    assert_eq!(limits.count_from(ip("10.0.0.1")), 0);
}

#[test]
fn a_listener_name_keeps_its_count() {
    let limits = ConnLimits::new(NodeLimits::default());
    let first = limits.listener("plain");
    let _permit = limits.admit(&first, None, ip("::1"), Instant::now());
    assert_eq!(limits.listener("plain").active(), 1);
    assert_eq!(limits.listener("other").active(), 0);
}
