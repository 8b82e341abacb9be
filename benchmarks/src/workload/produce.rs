//! `produce`: record batches to every partition of a topic, each sent to
//! the partition's leader at the address the cluster advertises, as a real
//! producer does. Every Produce request carries one batch for one
//! partition; a connection takes its partitions round-robin.

use std::time::Instant;

use bytes::{Bytes, BytesMut};
use kafka_protocol::error::ResponseError;
use kafka_protocol::messages::produce_request::{PartitionProduceData, TopicProduceData};
use kafka_protocol::messages::{ApiKey, ProduceRequest, ProduceResponse, TopicName};
use kafka_protocol::records::Compression;

use super::pace::Pace;
use super::pipeline::{self, Counting, Load, Outcome, PipelineSpec, RequestSource, ResponseCheck};
use super::{backoff_after, run_measured, Measured, RunSetup};
use crate::cli::{CompressionArg, ProduceArgs, ProducerArgs, Rate, TopicArgs};
use crate::error::BenchError;
use crate::kafka::batch::{encode_batch, stamped_value, text_value};
use crate::kafka::blocking::BlockingConn;
use crate::kafka::codec::{self, kafka_error_kind};
use crate::kafka::metadata::{self, topic_name, CreateSpec, TopicLayout};
use crate::kafka::versions::Versions;
use crate::kafka::ProtocolError;
use crate::stats::Stats;

/// How long a broker may take to acknowledge (Kafka's request.timeout.ms).
const PRODUCE_TIMEOUT_MS: i32 = 30_000;

/// The batches a connection sends.
#[derive(Clone)]
pub enum Batches {
    /// One batch encoded up front and sent again and again: the tool then
    /// costs a memcpy per request, whatever the compression.
    Fixed { batch: Bytes, records: u64 },
    /// A fresh batch per request whose values start with the send time.
    Stamped {
        record_size: usize,
        records: usize,
        compression: Compression,
        filler: Bytes,
    },
}

#[derive(Clone)]
pub struct ProducerSpec {
    pub pipeline: PipelineSpec,
    pub topic: String,
    pub partitions: Vec<i32>,
    pub acks: i16,
    pub batches: Batches,
    pub rate: Rate,
    pub connections_total: usize,
}

pub fn compression(arg: CompressionArg) -> Compression {
    match arg {
        CompressionArg::None => Compression::None,
        CompressionArg::Lz4 => Compression::Lz4,
        CompressionArg::Zstd => Compression::Zstd,
    }
}

/// Connects to the bootstrap address, negotiates versions and finds (or
/// creates) the topic; fails fast on anything unreachable.
pub fn prepare_topic(
    bootstrap: &str,
    topic: &TopicArgs,
) -> Result<(TopicLayout, Versions), BenchError> {
    let mut conn = BlockingConn::connect(bootstrap)?;
    let versions = conn
        .negotiate()
        .map_err(|e| BenchError::protocol(format!("ApiVersions at {bootstrap}"), e))?;
    let create = topic.create_partitions.map(|partitions| CreateSpec {
        partitions,
        replication_factor: topic.replication_factor,
    });
    let layout = metadata::discover(&mut conn, &versions, &topic.topic, create)?;
    metadata::check_leaders_reachable(&layout)?;
    if create.is_some() {
        // Metadata can name a new partition's leader before that broker
        // serves it; ListOffsets succeeding on every leader means it does,
        // so the run does not start with NOT_LEADER_OR_FOLLOWER errors.
        metadata::list_offsets(&layout, -1)?;
    }
    Ok((layout, versions))
}

/// Splits one leader's partitions among `connections`; a connection left
/// without any shares one, so every connection carries load.
pub fn split_partitions(partitions: &[i32], connections: usize) -> Vec<Vec<i32>> {
    (0..connections)
        .map(|j| {
            let mine: Vec<i32> = partitions
                .iter()
                .enumerate()
                .filter(|(k, _)| k % connections == j)
                .map(|(_, p)| *p)
                .collect();
            if mine.is_empty() && !partitions.is_empty() {
                vec![partitions[j % partitions.len()]]
            } else {
                mine
            }
        })
        .collect()
}

pub fn producer_specs(
    layout: &TopicLayout,
    versions: &Versions,
    args: &ProducerArgs,
    batches: Batches,
    counting: Counting,
) -> Result<Vec<ProducerSpec>, BenchError> {
    let version = versions
        .pick(ApiKey::Produce)
        .map_err(|e| BenchError::protocol("Produce", e))?;
    let total = layout.leaders.len() * args.connections;
    let mut specs = Vec::with_capacity(total);
    for (broker, partitions) in layout.leaders.values() {
        for mine in split_partitions(partitions, args.connections) {
            specs.push(ProducerSpec {
                pipeline: PipelineSpec {
                    addr: broker.socket,
                    api: ApiKey::Produce,
                    version,
                    depth: args.pipeline,
                    answered: args.acks != 0,
                    counting,
                },
                topic: layout.topic.clone(),
                partitions: mine,
                acks: args.acks,
                batches: batches.clone(),
                rate: args.rate,
                connections_total: total,
            });
        }
    }
    Ok(specs)
}

pub fn run(bootstrap: &str, args: &ProduceArgs, setup: &RunSetup) -> Result<Measured, BenchError> {
    let (layout, versions) = prepare_topic(bootstrap, &args.topic)?;
    let p = &args.producer;
    let values: Vec<Bytes> = (0..p.records_per_batch)
        .map(|i| text_value(p.record_size, i as u64))
        .collect();
    let batch = encode_batch(&values, compression(p.compression))
        .map_err(|e| BenchError::Setup(format!("cannot encode a record batch: {e}")))?;
    let batches = Batches::Fixed {
        batch,
        records: p.records_per_batch as u64,
    };
    let specs = producer_specs(&layout, &versions, p, batches, Counting::Traffic)?;
    run_measured(setup, specs, |spec, stats, window| async move {
        let mut source = ProduceSource::new(&spec, window.start);
        let mut check = ProduceCheck {
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

pub struct ProduceSource {
    topic: TopicName,
    partitions: Vec<i32>,
    next: usize,
    acks: i16,
    batches: Batches,
    pace: Pace,
    version: i16,
}

impl ProduceSource {
    pub fn new(spec: &ProducerSpec, start: Instant) -> ProduceSource {
        ProduceSource {
            topic: topic_name(&spec.topic),
            partitions: spec.partitions.clone(),
            next: 0,
            acks: spec.acks,
            batches: spec.batches.clone(),
            pace: Pace::new(spec.rate, spec.connections_total, start),
            version: spec.pipeline.version,
        }
    }

    fn batch(&self) -> Result<(Bytes, u64), ProtocolError> {
        match &self.batches {
            Batches::Fixed { batch, records } => Ok((batch.clone(), *records)),
            Batches::Stamped {
                record_size,
                records,
                compression,
                filler,
            } => {
                let values: Vec<Bytes> = (0..*records)
                    .map(|_| stamped_value(*record_size, filler))
                    .collect();
                let batch =
                    encode_batch(&values, *compression).map_err(|e| ProtocolError::Encode {
                        api: ApiKey::Produce,
                        version: self.version,
                        reason: e.to_string(),
                    })?;
                Ok((batch, *records as u64))
            }
        }
    }
}

impl RequestSource for ProduceSource {
    fn encode_next(&mut self, out: &mut BytesMut, correlation: i32) -> Result<Load, ProtocolError> {
        let partition = self.partitions[self.next % self.partitions.len()];
        self.next = self.next.wrapping_add(1);
        let (batch, records) = self.batch()?;
        let bytes = batch.len() as u64;
        let mut request = ProduceRequest::default();
        request.acks = self.acks;
        request.timeout_ms = PRODUCE_TIMEOUT_MS;
        request.topic_data = vec![TopicProduceData::default()
            .with_name(self.topic.clone())
            .with_partition_data(vec![PartitionProduceData::default()
                .with_index(partition)
                .with_records(Some(batch))])];
        codec::encode_request(out, ApiKey::Produce, self.version, correlation, &request)?;
        self.pace.sent(records);
        Ok(Load { records, bytes })
    }

    fn due(&self) -> Option<Instant> {
        self.pace.due()
    }
}

pub struct ProduceCheck {
    pub version: i16,
}

impl ResponseCheck for ProduceCheck {
    fn check(
        &mut self,
        _frame_len: usize,
        body: Bytes,
        stats: &mut Stats,
    ) -> Result<Outcome, ProtocolError> {
        let response: ProduceResponse = codec::decode_body(body, ApiKey::Produce, self.version)?;
        Ok(produce_outcome(&response, stats))
    }
}

/// Checks every partition of a Produce response for an error code.
pub fn produce_outcome(response: &ProduceResponse, stats: &mut Stats) -> Outcome {
    let mut failed = false;
    for topic in &response.responses {
        for partition in &topic.partition_responses {
            if let Some(error) = ResponseError::try_from_code(partition.error_code) {
                stats.error(kafka_error_kind(ApiKey::Produce, error));
                failed = true;
            }
        }
    }
    if failed {
        Outcome::Failed
    } else {
        Outcome::Done { extra_bytes: 0 }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn partitions_split_evenly_and_no_connection_idles() {
        assert_eq!(
            split_partitions(&[0, 1, 2, 3, 4], 2),
            vec![vec![0, 2, 4], vec![1, 3]]
        );
        assert_eq!(split_partitions(&[7], 3), vec![vec![7], vec![7], vec![7]]);
    }
}
