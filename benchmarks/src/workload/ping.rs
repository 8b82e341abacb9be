//! `ping`: small requests (ApiVersions, or Metadata for no topics)
//! pipelined on each connection to the bootstrap address: the per-request
//! cost of whatever sits between the tool and the broker.

use std::time::Instant;

use bytes::{Bytes, BytesMut};
use kafka_protocol::error::ResponseError;
use kafka_protocol::messages::{ApiKey, ApiVersionsResponse, MetadataRequest, MetadataResponse};
use kafka_protocol::protocol::Encodable;

use super::pipeline::{self, Counting, Load, Outcome, PipelineSpec, RequestSource, ResponseCheck};
use super::{backoff_after, run_measured, Measured, RunSetup};
use crate::cli::{PingApi, PingArgs};
use crate::error::BenchError;
use crate::kafka::blocking::{self, BlockingConn};
use crate::kafka::codec::{self, kafka_error_kind};
use crate::kafka::ProtocolError;
use crate::stats::Stats;

#[derive(Clone)]
pub struct PingSpec {
    pipeline: PipelineSpec,
    /// The request body, encoded once.
    body: Bytes,
}

pub fn run(bootstrap: &str, args: &PingArgs, setup: &RunSetup) -> Result<Measured, BenchError> {
    let mut conn = BlockingConn::connect(bootstrap)?;
    let versions = conn
        .negotiate()
        .map_err(|e| BenchError::protocol(format!("ApiVersions at {bootstrap}"), e))?;
    let api = match args.api {
        PingApi::Apiversions => ApiKey::ApiVersions,
        PingApi::Metadata => ApiKey::Metadata,
    };
    let version = versions
        .pick(api)
        .map_err(|e| BenchError::protocol(format!("{api:?}"), e))?;
    let body = encode_body(api, version).map_err(|e| BenchError::protocol("ping", e))?;
    let spec = PingSpec {
        pipeline: PipelineSpec {
            addr: blocking::resolve(bootstrap)?,
            api,
            version,
            depth: args.pipeline,
            answered: true,
            counting: Counting::Traffic,
        },
        body,
    };
    let specs = vec![spec; args.connections];
    run_measured(setup, specs, |spec, stats, window| async move {
        let mut source = PingSource { spec: spec.clone() };
        let mut check = PingCheck {
            api: spec.pipeline.api,
            version: spec.pipeline.version,
        };
        while Instant::now() < window.until {
            match pipeline::run(spec.pipeline, &mut source, &mut check, &stats, window).await {
                Ok(()) => break,
                Err(e) => backoff_after(&stats, e).await,
            }
        }
    })
}

fn encode_body(api: ApiKey, version: i16) -> Result<Bytes, ProtocolError> {
    let mut out = BytesMut::new();
    let encoded = match api {
        ApiKey::Metadata => {
            // An empty topic list asks for brokers only (null would be
            // every topic, which grows with the cluster).
            let mut request = MetadataRequest::default();
            request.topics = Some(Vec::new());
            request.allow_auto_topic_creation = false;
            request.encode(&mut out, version)
        }
        _ => blocking::api_versions_request().encode(&mut out, version),
    };
    encoded.map_err(|e| ProtocolError::Encode {
        api,
        version,
        reason: e.to_string(),
    })?;
    Ok(out.freeze())
}

struct PingSource {
    spec: PingSpec,
}

/// A body that is already encoded, written after a fresh header.
struct Raw<'a>(&'a [u8]);

impl Encodable for Raw<'_> {
    fn encode<B: kafka_protocol::protocol::buf::ByteBufMut>(
        &self,
        buf: &mut B,
        _version: i16,
    ) -> anyhow::Result<()> {
        buf.put_slice(self.0);
        Ok(())
    }

    fn compute_size(&self, _version: i16) -> anyhow::Result<usize> {
        Ok(self.0.len())
    }
}

impl RequestSource for PingSource {
    fn encode_next(&mut self, out: &mut BytesMut, correlation: i32) -> Result<Load, ProtocolError> {
        let before = out.len();
        let p = &self.spec.pipeline;
        codec::encode_request(out, p.api, p.version, correlation, &Raw(&self.spec.body))?;
        Ok(Load {
            records: 0,
            bytes: (out.len() - before) as u64,
        })
    }

    fn due(&self) -> Option<Instant> {
        None
    }
}

struct PingCheck {
    api: ApiKey,
    version: i16,
}

impl ResponseCheck for PingCheck {
    fn check(
        &mut self,
        frame_len: usize,
        body: Bytes,
        stats: &mut Stats,
    ) -> Result<Outcome, ProtocolError> {
        let code = match self.api {
            ApiKey::Metadata => {
                let response: MetadataResponse = codec::decode_body(body, self.api, self.version)?;
                response.error_code
            }
            _ => {
                let response: ApiVersionsResponse =
                    codec::decode_body(body, self.api, self.version)?;
                response.error_code
            }
        };
        match ResponseError::try_from_code(code) {
            None => Ok(Outcome::Done {
                extra_bytes: frame_len as u64,
            }),
            Some(error) => {
                stats.error(kafka_error_kind(self.api, error));
                Ok(Outcome::Failed)
            }
        }
    }
}
