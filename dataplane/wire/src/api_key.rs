//! Kafka api keys as the `i16` that request headers carry, for the apis
//! sluice treats specially. Taken from kafka-protocol's [`ApiKey`] so the
//! numbers cannot drift from the protocol definition; being plain
//! constants, they work as `match` patterns on the hot path, where a peeked
//! header's api key is still an `i16`.

use kafka_protocol::messages::ApiKey;

pub const PRODUCE: i16 = ApiKey::Produce as i16;
pub const FETCH: i16 = ApiKey::Fetch as i16;
pub const METADATA: i16 = ApiKey::Metadata as i16;
pub const JOIN_GROUP: i16 = ApiKey::JoinGroup as i16;
pub const FIND_COORDINATOR: i16 = ApiKey::FindCoordinator as i16;
pub const API_VERSIONS: i16 = ApiKey::ApiVersions as i16;
pub const SASL_HANDSHAKE: i16 = ApiKey::SaslHandshake as i16;
pub const SASL_AUTHENTICATE: i16 = ApiKey::SaslAuthenticate as i16;
pub const DESCRIBE_CLUSTER: i16 = ApiKey::DescribeCluster as i16;
pub const SHARE_FETCH: i16 = ApiKey::ShareFetch as i16;
pub const SHARE_ACKNOWLEDGE: i16 = ApiKey::ShareAcknowledge as i16;
