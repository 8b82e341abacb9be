//! sluice control plane (`sluice-cp`): stores the gateway configuration in
//! an embedded SQLite database, versioned; serves an admin REST API (bearer
//! token) and the long-poll endpoint data-plane nodes fetch their
//! configuration from (mutual TLS, certificates from the control plane's
//! own CA); and ships a CLI for teams that keep their configuration in git.
//!
//! Every configuration is checked by `sluice-cp-sync`, the same code the data
//! plane runs, so a configuration the control plane accepts is one every node
//! accepts (files the configuration names, such as certificates, are read
//! only on the nodes).

pub mod api;
pub mod cli;
pub mod client;
pub mod datadir;
pub mod diff;
pub mod document;
pub mod pki;
pub mod secret;
pub mod serve;
pub mod store;
mod tls;

pub use api::{route_table, AppState, RouteSpec};
pub use serve::{serve, ServeOptions};
