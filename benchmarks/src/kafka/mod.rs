//! The Kafka protocol as sluice-bench speaks it: framing, request and
//! response encoding, version negotiation, cluster discovery and record
//! batches. Nothing here knows about workloads.

pub mod batch;
pub mod blocking;
pub mod codec;
pub mod conn;
pub mod frame;
pub mod metadata;
pub mod tls;
pub mod versions;

pub use codec::ProtocolError;
