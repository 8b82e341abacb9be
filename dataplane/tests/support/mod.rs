//! What only the data plane's tests need: the real `sluice` binary, a
//! `sluice-cp` driven through its CLI, a raw Kafka protocol client, TLS
//! clients and the admin endpoints. What other crates' tests share (Kafka
//! clusters and clients, free ports, waits) is in sluice-test-support.
#![allow(dead_code)]

pub mod cp;
pub mod gateway;
pub mod http;
pub mod produce;
pub mod raw;
pub mod tls;
