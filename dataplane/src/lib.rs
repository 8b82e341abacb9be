//! The sluice data plane: a thread-per-core Kafka-protocol gateway.
//!
//! `gateway` wires the pieces together; `shard` runs one executor per CPU;
//! `proxy` carries one client connection and its upstream connection;
//! `discovery` learns backend brokers; `routing` turns a configuration
//! snapshot into what shards look up per connection; `metrics`, `admin`
//! and `otlp` count, serve and push what happens (`observability` wires
//! them in). Kafka wire logic lives in the `sluice-wire` crate, apart from
//! any I/O.

pub mod admin;
pub mod cli;
pub mod config_source;
pub mod cpus;
pub mod discovery;
pub mod gateway;
pub mod logging;
pub mod metrics;
pub mod observability;
pub mod otlp;
pub mod policy;
pub mod proxy;
pub mod routing;
pub mod shard;
pub mod topology;
