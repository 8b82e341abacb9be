//! `handshakes`: full TLS handshakes per second. Each of `--connections`
//! loops connects, runs a full handshake (session resumption is off),
//! does one ApiVersions round trip (through a gateway this also opens its
//! upstream connection) and closes with close_notify, as fast as it can.
//! A request here is one such handshake; its latency is connect to the
//! ApiVersions answer.

use std::time::Instant;

use futures_lite::AsyncWriteExt;

use super::{backoff_after, run_measured, Measured, RunSetup};
use crate::cli::HandshakesArgs;
use crate::error::BenchError;
use crate::kafka::{conn, tls};

pub fn run(
    bootstrap: &str,
    args: &HandshakesArgs,
    setup: &RunSetup,
) -> Result<Measured, BenchError> {
    if tls::current().is_none() {
        return Err(BenchError::Usage(
            "handshakes measures TLS handshakes: give --tls-ca".to_string(),
        ));
    }
    let (version, addr) = super::api_versions_probe(bootstrap)?;
    let loops = vec![(); args.connections];
    run_measured(setup, loops, move |(), stats, window| async move {
        while Instant::now() < window.until {
            let started = Instant::now();
            let result = async {
                let mut stream = conn::connect(addr).await?;
                conn::api_versions(&mut stream, version).await?;
                // close_notify and FIN, as a well-behaved client leaves.
                let _ = stream.close().await;
                Ok::<_, crate::kafka::ProtocolError>(())
            }
            .await;
            match result {
                Ok(()) => stats.borrow_mut().answered(started, Instant::now(), 0, 0),
                Err(e) => backoff_after(&stats, e).await,
            }
        }
    })
}
