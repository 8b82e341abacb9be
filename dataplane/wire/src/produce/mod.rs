//! Produce requests. The hot path needs one field, `acks`: with acks=0 the
//! broker sends no response, so the request must not be tracked as in
//! flight. Produce policies need the partitions and the size of each
//! partition's records, and a way to refuse the request in the broker's own
//! words.

mod refusal;
mod request;

pub use refusal::{min_refusable_version, refuse_produce, POLICY_VIOLATION};
pub use request::{
    summarize_produce_request, walk_produce_request, ProduceItem, ProduceSummary,
    ProducedPartition, ProducedTopic, TopicKey, TopicRef,
};

use crate::api_key::PRODUCE;
use crate::header::skip_request_header;
use crate::rewrite::tagged_walk::Cursor;
use crate::WireError;

/// transactional_id was added in v3, and became a COMPACT_STRING with the
/// flexible versions (v9+).
const FIRST_TRANSACTIONAL: i16 = 3;
const FIRST_FLEXIBLE: i16 = 9;
/// v13 (KIP-516) names topics by topic_id instead of name.
const FIRST_TOPIC_ID: i16 = 13;

/// Targeted walk of a Produce request body (frame without prefix, header
/// included): skips the header (client_id, and the tagged fields of header
/// v2) and transactional_id, returns `acks`. Record data is never reached.
pub fn produce_acks(body: &[u8], api_version: i16) -> Result<i16, WireError> {
    let mut c = Cursor::new(body);
    walk_to_acks(&mut c, api_version)?;
    c.i16("acks")
}

/// `acks` and `timeout_ms` (how long the broker may wait for the acks), in
/// one walk.
pub fn produce_acks_and_timeout(body: &[u8], api_version: i16) -> Result<(i16, i32), WireError> {
    let mut c = Cursor::new(body);
    walk_to_acks(&mut c, api_version)?;
    Ok((c.i16("acks")?, c.i32("timeout_ms")?))
}

/// Moves `c` from the start of the body to the `acks` field.
fn walk_to_acks(c: &mut Cursor<'_>, api_version: i16) -> Result<(), WireError> {
    skip_request_header(c, PRODUCE, api_version)?;
    if api_version >= FIRST_TRANSACTIONAL {
        c.string(api_version >= FIRST_FLEXIBLE, "transactional_id")?;
    }
    Ok(())
}
