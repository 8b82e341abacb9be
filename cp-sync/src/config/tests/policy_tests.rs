//! Virtual cluster produce policies.

use super::{assert_only_error, errors_of, minimal_with};
use crate::config::{parse_config_str, Acks, ConfigFormat, ProduceLimits, ProducePolicy};

fn with_produce_policies(chain: &str) -> String {
    minimal_with(
        "dns_label: team-a",
        &format!("dns_label: team-a\n    produce_policies: {chain}"),
    )
}

fn limits_of(chain: &str) -> Vec<ProducePolicy> {
    let yaml = with_produce_policies(chain);
    let config = parse_config_str(&yaml, ConfigFormat::Yaml).unwrap();
    config.virtual_clusters[0].produce_policies.clone()
}

fn limits(min_acks: Option<Acks>, max_batch_bytes: Option<u32>) -> ProducePolicy {
    ProducePolicy::ProduceLimits(ProduceLimits {
        min_acks,
        max_batch_bytes,
    })
}

#[test]
fn produce_limits_in_both_acks_spellings() {
    let cases = [
        ("all", Acks::All),
        ("\"-1\"", Acks::All),
        ("-1", Acks::All),
        ("leader", Acks::Leader),
        ("1", Acks::Leader),
        ("none", Acks::None),
        ("0", Acks::None),
    ];
    for (text, acks) in cases {
        let chain = format!("[{{type: produce_limits, config: {{min_acks: {text}}}}}]");
        assert_eq!(limits_of(&chain), [limits(Some(acks), None)], "{text}");
    }
    let chain = "[{type: produce_limits, config: {max_batch_bytes: 1048576}}, \
                 {type: produce_limits, config: {min_acks: all, max_batch_bytes: 10}}]";
    assert_eq!(
        limits_of(chain),
        [
            limits(None, Some(1_048_576)),
            limits(Some(Acks::All), Some(10))
        ]
    );
    assert_eq!(limits_of("[]"), []);
}

#[test]
fn acks_order_from_weakest() {
    assert!(Acks::None < Acks::Leader && Acks::Leader < Acks::All);
    assert_eq!(Acks::from_wire(-1), Some(Acks::All));
    assert_eq!(Acks::from_wire(2), None);
}

#[test]
fn bad_produce_policies_name_every_problem() {
    let at = "virtual_clusters[0].produce_policies";
    let cases = [
        (
            "[{type: rate_limit}]",
            "[0].type",
            "unknown produce policy type \"rate_limit\"; expected produce_limits",
        ),
        (
            "[{type: produce_limits, config: {}}]",
            "[0].config",
            "set min_acks, max_batch_bytes or both",
        ),
        (
            "[{type: produce_limits, config: {min_acks: most}}]",
            "[0].config.min_acks",
            "must be all (or -1)",
        ),
        (
            "[{type: produce_limits, config: {min_acks: 2}}]",
            "[0].config.min_acks",
            "must be all (or -1)",
        ),
        (
            "[{type: produce_limits, config: {max_batch_bytes: 0}}]",
            "[0].config.max_batch_bytes",
            "from 1 to 2147483647",
        ),
        (
            "[{type: produce_limits, config: {max_batch_bytes: 1e3}}]",
            "[0].config.max_batch_bytes",
            "must be an integer",
        ),
        ("[{type: produce_limits}]", "[0].config", "is required"),
    ];
    for (chain, path, fragment) in cases {
        assert_only_error(
            &with_produce_policies(chain),
            &format!("{at}{path}"),
            fragment,
        );
    }
    let errors = errors_of(&with_produce_policies(
        "[{type: produce_limits, config: {min_acks: x, max_batch_byte: 5}}, {type: y}]",
    ));
    let paths: Vec<&str> = errors.iter().map(|(path, _)| path.as_str()).collect();
    assert_eq!(
        paths,
        [
            "virtual_clusters[0].produce_policies[0].config.min_acks",
            "virtual_clusters[0].produce_policies[0].config.max_batch_byte",
            "virtual_clusters[0].produce_policies[1].type",
        ],
        "{errors:#?}"
    );
}
