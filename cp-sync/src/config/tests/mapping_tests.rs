//! The port mapping formula, both directions, both bootstrap modes.

use super::super::{
    broker_port, port_target, BootstrapPort, Destination, ListenerPorts, PortMapping, PortRange,
    PortTarget,
};

fn mapping(bootstrap_port: BootstrapPort, min_broker_id: i32) -> PortMapping {
    PortMapping {
        destination: Destination::new("team-a"),
        advertised_host: "127.0.0.1".to_owned(),
        bootstrap_port,
        min_broker_id,
    }
}

fn ports(ranges: &[PortRange]) -> ListenerPorts {
    ListenerPorts::new(ranges)
}

fn range_19092_19097() -> ListenerPorts {
    ports(&[PortRange::new(19092, 19097)])
}

#[test]
fn at_start_puts_bootstrap_first_and_brokers_after() {
    let mapping = mapping(BootstrapPort::AtStart, 0);
    let ports = range_19092_19097();
    assert_eq!(broker_port(&mapping, &ports, 0), Ok(19093));
    assert_eq!(broker_port(&mapping, &ports, 4), Ok(19097));
    assert_eq!(
        port_target(&mapping, &ports, 19092),
        Some(PortTarget::Bootstrap)
    );
    assert_eq!(
        port_target(&mapping, &ports, 19093),
        Some(PortTarget::Broker(0))
    );
    assert_eq!(
        port_target(&mapping, &ports, 19097),
        Some(PortTarget::Broker(4))
    );
}

#[test]
fn none_starts_brokers_on_the_first_port() {
    let mapping = mapping(BootstrapPort::None, 0);
    let ports = range_19092_19097();
    assert_eq!(broker_port(&mapping, &ports, 0), Ok(19092));
    assert_eq!(broker_port(&mapping, &ports, 5), Ok(19097));
    assert_eq!(
        port_target(&mapping, &ports, 19092),
        Some(PortTarget::Broker(0))
    );
    assert_eq!(
        port_target(&mapping, &ports, 19097),
        Some(PortTarget::Broker(5))
    );
}

#[test]
fn min_broker_id_shifts_node_ids() {
    let at_start = mapping(BootstrapPort::AtStart, 1);
    let ports = range_19092_19097();
    assert_eq!(broker_port(&at_start, &ports, 1), Ok(19093));
    assert_eq!(
        port_target(&at_start, &ports, 19093),
        Some(PortTarget::Broker(1))
    );
    let none = mapping(BootstrapPort::None, 100);
    assert_eq!(broker_port(&none, &ports, 100), Ok(19092));
    assert_eq!(broker_port(&none, &ports, 105), Ok(19097));
    assert_eq!(
        port_target(&none, &ports, 19094),
        Some(PortTarget::Broker(102))
    );
}

#[test]
fn both_directions_agree() {
    let ports = ports(&[PortRange::new(30000, 30010)]);
    for bootstrap in [BootstrapPort::AtStart, BootstrapPort::None] {
        let mapping = mapping(bootstrap, 3);
        for node in 3..13 {
            if let Ok(port) = broker_port(&mapping, &ports, node) {
                assert_eq!(
                    port_target(&mapping, &ports, port),
                    Some(PortTarget::Broker(node))
                );
            }
        }
    }
}

#[test]
fn brokers_beyond_the_range_are_errors_naming_range_node_and_port() {
    let ports = range_19092_19097();
    let at_start = mapping(BootstrapPort::AtStart, 0);
    let error = broker_port(&at_start, &ports, 5).expect_err("past the end");
    assert!(error.contains("node 5"), "{error}");
    assert!(error.contains("port 19098"), "{error}");
    assert!(error.contains("19092-19097"), "{error}");
    let none = mapping(BootstrapPort::None, 0);
    let error = broker_port(&none, &ports, 6).expect_err("past the end");
    assert!(
        error.contains("node 6") && error.contains("port 19098"),
        "{error}"
    );
}

#[test]
fn node_ids_below_min_broker_id_are_errors() {
    let ports = range_19092_19097();
    let error = broker_port(&mapping(BootstrapPort::AtStart, 2), &ports, 1).expect_err("below");
    assert!(
        error.contains("node 1") && error.contains("min_broker_id 2"),
        "{error}"
    );
    assert!(error.contains("19092-19097"), "{error}");
    let error = broker_port(&mapping(BootstrapPort::None, 0), &ports, -1).expect_err("negative");
    assert!(error.contains("node -1"), "{error}");
}

#[test]
fn ports_outside_the_listener_have_no_target() {
    let ports = range_19092_19097();
    for bootstrap in [BootstrapPort::AtStart, BootstrapPort::None] {
        let mapping = mapping(bootstrap, 0);
        assert_eq!(port_target(&mapping, &ports, 19091), None);
        assert_eq!(port_target(&mapping, &ports, 19098), None);
    }
}

#[test]
fn gaps_in_the_port_list_are_outside() {
    let ports = ports(&[PortRange::single(19092), PortRange::new(19094, 19095)]);
    let mapping = mapping(BootstrapPort::AtStart, 0);
    let error = broker_port(&mapping, &ports, 0).expect_err("lands in the gap");
    assert!(
        error.contains("port 19093") && error.contains("19092, 19094-19095"),
        "{error}"
    );
    assert_eq!(broker_port(&mapping, &ports, 1), Ok(19094));
    assert_eq!(port_target(&mapping, &ports, 19093), None);
    assert_eq!(
        port_target(&mapping, &ports, 19095),
        Some(PortTarget::Broker(2))
    );
}

#[test]
fn empty_listener_and_extreme_ids() {
    let mapping_none = mapping(BootstrapPort::None, 0);
    let empty = ports(&[]);
    assert!(broker_port(&mapping_none, &empty, 0).is_err());
    assert_eq!(port_target(&mapping_none, &empty, 19092), None);
    let ports = ports(&[PortRange::new(1, 65535)]);
    assert!(broker_port(&mapping_none, &ports, i32::MAX).is_err());
    let high = mapping(BootstrapPort::None, i32::MAX - 1);
    assert_eq!(
        port_target(&high, &ports, 2),
        Some(PortTarget::Broker(i32::MAX))
    );
    assert_eq!(port_target(&high, &ports, 3), None);
}

#[test]
fn listener_ports_are_sorted_and_merged() {
    let ports = ports(&[
        PortRange::new(20, 25),
        PortRange::single(10),
        PortRange::new(26, 27),
        PortRange::new(9, 1),
        PortRange::single(0),
    ]);
    assert_eq!(
        ports.ranges(),
        &[PortRange::single(10), PortRange::new(20, 27)]
    );
    assert_eq!(ports.first_port(), Some(10));
    assert_eq!(ports.len(), 9);
    assert_eq!(ports.sorted_ports()[..3], [10, 20, 21]);
    assert_eq!(ports.to_string(), "10, 20-27");
}
