//! Cut-through forwarding of large responses: the gateway passes a frame on
//! while it is still arriving instead of holding all of it first. Most
//! responses need no change and stream as they are; Fetch v16+ may carry
//! KIP-951 `node_endpoints` in its last bytes, so its structure is walked as
//! it passes ([`FetchWalk`]) and only its trailing tagged fields are held and
//! rewritten, in exactly the space they had ([`rewrite_fetch_trailer`]),
//! because the frame's length went out first.

mod fetch_walk;
mod trailer;

pub use fetch_walk::{FetchWalk, Step};
pub use trailer::rewrite_fetch_trailer;

use crate::api_key::FETCH;
use crate::rewrite::fetch::FIRST_NODE_ENDPOINTS;

/// How a response frame can be streamed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StreamPlan {
    /// As it arrives: nothing in it changes.
    Verbatim,
    /// Walked as it arrives, its trailing tagged fields held back.
    FetchWalked,
    /// Only as a whole (it may be rewritten anywhere).
    Whole,
}

/// The plan for a response to `(api_key, api_version)`; `needs_inspection`
/// is [`crate::rewrite::response_needs_inspection`] for the same pair.
pub fn stream_plan(api_key: i16, api_version: i16, needs_inspection: bool) -> StreamPlan {
    if !needs_inspection {
        StreamPlan::Verbatim
    } else if api_key == FETCH && api_version >= FIRST_NODE_ENDPOINTS {
        StreamPlan::FetchWalked
    } else {
        StreamPlan::Whole
    }
}
