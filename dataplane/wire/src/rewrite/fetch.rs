//! Fetch responses (api key 1). Only v16+ can carry `node_endpoints`
//! (top-level tag 0); everything before passes through undecoded. The walk
//! skips record data by its length prefix: records are never read.

use bytes::Bytes;
use kafka_protocol::messages::FetchResponse;

use super::codec::unchanged;
use super::node_endpoints::{self, walk_leader};
use super::tagged_walk::{Cursor, WalkResult};
use super::{BrokerAddressMap, RewriteOutcome};
use crate::WireError;

pub(crate) const FIRST_NODE_ENDPOINTS: i16 = 16;
const FIRST_FLEXIBLE: i16 = 12;
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
    node_endpoints::rewrite_tagged::<FetchResponse>(version, body, map, walk)
}

/// Walks a FetchResponse message; `true` when the top-level tagged fields
/// hold `node_endpoints`.
pub(super) fn walk(c: &mut Cursor<'_>, version: i16) -> WalkResult<bool> {
    let flex = version >= FIRST_FLEXIBLE;
    c.skip(4, "throttle_time_ms")?;
    if version >= 7 {
        c.skip(2 + 4, "error_code and session_id")?;
    }
    c.array(flex, "responses", |c| {
        if version >= FIRST_TOPIC_ID {
            c.skip(16, "topic_id")?;
        } else {
            c.string(flex, "topic")?;
        }
        c.array(flex, "partitions", |c| walk_partition(c, version))?;
        c.struct_tags(flex, "topic tagged fields")
    })?;
    let mut found = false;
    if flex {
        c.tagged_fields("fetch response tagged fields", |tag, c| {
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
    let records = walk_partition_head(c, version)?;
    c.skip(records, "records")?;
    walk_partition_tags(c, version)
}

/// A partition up to its record data; returns the records' length.
pub(crate) fn walk_partition_head(c: &mut Cursor<'_>, version: i16) -> WalkResult<usize> {
    let flex = version >= FIRST_FLEXIBLE;
    // partition_index, error_code, high_watermark, last_stable_offset
    c.skip(4 + 2 + 8 + 8, "partition data")?;
    if version >= 5 {
        c.skip(8, "log_start_offset")?;
    }
    c.array(flex, "aborted_transactions", |c| {
        c.skip(8 + 8, "aborted transaction")?;
        c.struct_tags(flex, "aborted transaction tagged fields")
    })?;
    if version >= 11 {
        c.skip(4, "preferred_read_replica")?;
    }
    c.bytes_prefix(flex, "records")
}

/// What follows a partition's record data: its tagged fields.
pub(crate) fn walk_partition_tags(c: &mut Cursor<'_>, version: i16) -> WalkResult<()> {
    if version >= FIRST_FLEXIBLE {
        c.tagged_fields("partition tagged fields", |tag, c| {
            match tag {
                // diverging_epoch: epoch, end_offset
                0 => c.skip(4 + 8, "diverging_epoch")?,
                1 => return walk_leader(c).map(|()| true),
                // snapshot_id: end_offset, epoch
                2 => c.skip(8 + 4, "snapshot_id")?,
                _ => return Ok(false),
            }
            c.skip_tagged_fields("partition tagged struct tagged fields")?;
            Ok(true)
        })?;
    }
    Ok(())
}
