//! Kafka wire logic for sluice: framing, request-header peeks, the targeted
//! walks of the hot path and the response rewriters. Pure functions over
//! bytes: no sockets, no runtime, so everything here is unit-tested and
//! fuzzed on its own.
//!
//! Nothing in this crate may panic on input that came from the network.

pub mod discovery;
pub mod error;
pub mod frame;
pub mod header;
pub mod produce;
pub mod rewrite;
pub mod stream;

pub use error::WireError;
