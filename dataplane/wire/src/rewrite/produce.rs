//! Produce responses (api key 0). Only v10+ can carry `node_endpoints`
//! (top-level tag 0); everything before passes through undecoded.

use bytes::Bytes;
use kafka_protocol::messages::ProduceResponse;

use super::codec::unchanged;
use super::node_endpoints::{self, walk_leader};
use super::tagged_walk::{Cursor, WalkResult};
use super::{BrokerAddressMap, RewriteOutcome};
use crate::WireError;

pub(super) const FIRST_NODE_ENDPOINTS: i16 = 10;
const FIRST_FLEXIBLE: i16 = 9;
/// v13 (KIP-516) names topics by topic_id instead of name.
const FIRST_TOPIC_ID: i16 = 13;

pub(super) fn rewrite(
    version: i16,
    body: &Bytes,
    map: &dyn BrokerAddressMap,
) -> Result<RewriteOutcome, WireError> {
    if version < FIRST_NODE_ENDPOINTS {
        return Ok(unchanged());
    }
    node_endpoints::rewrite_tagged::<ProduceResponse>(version, body, map, walk)
}

/// Walks a ProduceResponse message; `true` when the top-level tagged fields
/// hold `node_endpoints`.
pub(super) fn walk(c: &mut Cursor<'_>, version: i16) -> WalkResult<bool> {
    let flex = version >= FIRST_FLEXIBLE;
    c.array(flex, "responses", |c| {
        if version >= FIRST_TOPIC_ID {
            c.skip(16, "topic_id")?;
        } else {
            c.string(flex, "topic name")?;
        }
        c.array(flex, "partition_responses", |c| walk_partition(c, version))?;
        c.struct_tags(flex, "topic tagged fields")
    })?;
    c.skip(4, "throttle_time_ms")?;
    let mut found = false;
    if flex {
        c.tagged_fields("produce response tagged fields", |tag, c| {
            if tag != 0 || version < FIRST_NODE_ENDPOINTS {
                return Ok(false);
            }
            node_endpoints::walk(c)?;
            found = true;
            Ok(true)
        })?;
    }
    Ok(found)
}

fn walk_partition(c: &mut Cursor<'_>, version: i16) -> WalkResult<()> {
    let flex = version >= FIRST_FLEXIBLE;
    // index, error_code, base_offset, log_append_time_ms
    c.skip(4 + 2 + 8 + 8, "partition response")?;
    if version >= 5 {
        c.skip(8, "log_start_offset")?;
    }
    if version >= 8 {
        c.array(flex, "record_errors", |c| {
            c.skip(4, "batch_index")?;
            c.string(flex, "batch_index_error_message")?;
            c.struct_tags(flex, "record_errors tagged fields")
        })?;
        c.string(flex, "partition error_message")?;
    }
    if flex {
        c.tagged_fields("partition tagged fields", |tag, c| {
            if tag != 0 || version < FIRST_NODE_ENDPOINTS {
                return Ok(false);
            }
            walk_leader(c)?;
            Ok(true)
        })?;
    }
    Ok(())
}
