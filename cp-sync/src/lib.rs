//! sluice configuration: the schema and its validation (shared by the data
//! plane and the control plane), configuration sources, the sync thread and
//! the snapshots it publishes.

pub mod config;
pub mod snapshot;
pub mod source;
pub mod sync;

pub use snapshot::Snapshot;
