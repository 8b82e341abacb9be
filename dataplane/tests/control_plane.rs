//! sluice nodes configured by a real `sluice-cp`: configuration applied
//! through the control plane's CLI reaches every node, changes reload
//! without dropping connections they do not concern, nodes outlive the
//! control plane, and bad configurations and credentials are refused.

#[path = "control_plane/changes.rs"]
mod changes;
#[path = "control_plane/outage.rs"]
mod outage;
#[path = "control_plane/refusals.rs"]
mod refusals;
#[path = "control_plane/setup.rs"]
mod setup;
mod support;

use sluice_test_support::harness::{self, TestFn};

fn main() {
    let tests: &[(&str, TestFn<setup::Env>)] = &[
        (
            "config_from_the_control_plane_serves_clients_on_two_nodes",
            changes::two_nodes_converge,
        ),
        (
            "open_connections_survive_changes_they_do_not_depend_on",
            changes::connections_survive,
        ),
        (
            "refused_configs_tokens_and_certificates",
            refusals::refusals,
        ),
        ("nodes_serve_through_a_control_plane_outage", outage::outage),
    ];
    harness::run_with_kafka(tests, setup::Env::start);
}
