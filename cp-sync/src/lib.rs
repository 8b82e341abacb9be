//! sluice configuration: the schema and its validation (shared by the data
//! plane and the control plane), configuration sources, the sync thread and
//! the snapshots it publishes, with the TLS configurations built from the
//! certificate files the configuration names.

pub mod config;
pub mod credentials;
pub mod files;
pub mod oauth;
pub mod remote;
pub mod scram;
pub mod secret;
pub mod snapshot;
pub mod source;
pub mod sync;
pub mod tls;

pub use snapshot::Snapshot;
