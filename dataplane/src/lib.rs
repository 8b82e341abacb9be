//! The sluice data plane: a thread-per-core Kafka-protocol gateway.
//!
//! `gateway` wires the pieces together; `shard` runs one executor per CPU;
//! `proxy` carries one client connection and its upstream connection;
//! `discovery` learns backend brokers; `routing` turns a configuration
//! snapshot into what shards look up per connection. Kafka wire logic lives
//! in the `sluice-wire` crate, apart from any I/O.

pub mod cli;
pub mod cpus;
pub mod discovery;
pub mod gateway;
pub mod logging;
pub mod proxy;
pub mod routing;
pub mod shard;
pub mod topology;
