//! Kafka wire logic for sluice: framing, request-header peeks, the targeted
//! walks of the hot path and the response rewriters. Pure functions over
//! bytes: no sockets, no runtime, so everything here is unit-tested and
//! fuzzed on its own.
//!
//! Nothing in this crate may panic on input that came from the network.
//! The lints below hold every non-test line to that: short input is a
//! [`WireError`], never an unwrap, an out-of-bounds index or a `panic!`.

#![cfg_attr(
    not(test),
    deny(
        clippy::unwrap_used,
        clippy::expect_used,
        clippy::panic,
        clippy::indexing_slicing
    )
)]

pub mod api_key;
pub mod broker_versions;
pub mod discovery;
pub mod error;
pub mod frame;
pub mod header;
pub mod produce;
pub mod rewrite;
pub mod sasl;
pub mod sasl_answer;
pub mod stream;
pub mod wait;

pub use error::WireError;
