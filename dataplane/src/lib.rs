//! The sluice data plane: a thread-per-core Kafka-protocol gateway.
//!
//! `gateway` wires the pieces together; `shard` runs one executor per CPU;
//! `proxy` carries one client connection and its upstream connection;
//! `discovery` learns backend brokers; `routing` turns a configuration
//! snapshot into what shards look up per connection; `metrics`, `admin`
//! and `otlp` count, serve and push what happens (`observability` wires
//! them in). Kafka wire logic lives in the `sluice-wire` crate, apart from
//! any I/O.
//!
//! Only `cli` and `logging` are public: the `sluice` binary needs nothing
//! else, and private modules let the compiler report dead code.

mod admin;
mod auth;
mod backend_login;
pub mod cli;
mod config_source;
mod conn_limits;
mod cpus;
mod discovery;
mod exposure;
mod fd_limit;
mod gateway;
pub mod logging;
mod memlock;
mod metrics;
mod observability;
mod otlp;
mod policy;
mod proxy;
mod readiness;
mod routing;
mod shard;
mod topology;
