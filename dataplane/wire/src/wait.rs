//! How long a client allowed the broker to hold a request before answering:
//! a Fetch waits up to `max_wait_ms` for data, a JoinGroup up to the
//! group's rebalance timeout. The gateway gives a broker that long plus a
//! margin before it treats the request as lost. Produce carries its
//! `timeout_ms` next to `acks` and is read with it
//! ([`crate::produce::produce_acks_and_timeout`]).

use crate::api_key::{FETCH, JOIN_GROUP};
use crate::header::skip_request_header;
use crate::rewrite::tagged_walk::Cursor;
use crate::WireError;

/// Fetch v15 moved `replica_id` into a tagged field (KIP-903).
const FETCH_FIRST_WITHOUT_REPLICA_ID: i16 = 15;
/// JoinGroup v1 added `rebalance_timeout_ms`; v6 is the first flexible one.
const JOIN_FIRST_REBALANCE_TIMEOUT: i16 = 1;
const JOIN_FIRST_FLEXIBLE: i16 = 6;

/// The wait the client asked for, in milliseconds, for the apis that carry
/// one; `None` for the others. A body too short to hold the field is the
/// broker's to refuse: the wait is then unknown, not an error here.
pub fn requested_wait_ms(api_key: i16, api_version: i16, body: &[u8]) -> Option<u32> {
    let wait = match api_key {
        FETCH => fetch_max_wait(body, api_version),
        JOIN_GROUP => join_group_timeout(body, api_version),
        _ => return None,
    };
    wait.ok().map(|ms| u32::try_from(ms).unwrap_or(0))
}

fn fetch_max_wait(body: &[u8], api_version: i16) -> Result<i32, WireError> {
    let mut c = Cursor::new(body);
    skip_request_header(&mut c, FETCH, api_version)?;
    if api_version < FETCH_FIRST_WITHOUT_REPLICA_ID {
        c.skip(4, "replica_id")?;
    }
    c.i32("max_wait_ms")
}

fn join_group_timeout(body: &[u8], api_version: i16) -> Result<i32, WireError> {
    let mut c = Cursor::new(body);
    skip_request_header(&mut c, JOIN_GROUP, api_version)?;
    c.string(api_version >= JOIN_FIRST_FLEXIBLE, "group_id")?;
    let session = c.i32("session_timeout_ms")?;
    if api_version < JOIN_FIRST_REBALANCE_TIMEOUT {
        return Ok(session);
    }
    c.i32("rebalance_timeout_ms")
}
