//! `consume`: Fetch a topic from offset 0 on every partition, one Fetch in
//! flight per connection as a consumer does, counting records from batch
//! headers only. At the end of a partition it starts over from the first
//! offset (unless --no-rewind), so a short topic still fills the duration.

use std::cell::RefCell;
use std::net::SocketAddr;
use std::rc::Rc;
use std::time::Instant;

use bytes::{Bytes, BytesMut};
use futures_lite::AsyncWriteExt;
use kafka_protocol::error::ResponseError;
use kafka_protocol::messages::fetch_request::{FetchPartition, FetchTopic};
use kafka_protocol::messages::fetch_response::PartitionData;
use kafka_protocol::messages::{ApiKey, FetchRequest, FetchResponse};

use super::produce::prepare_topic;
use super::{backoff_after, run_measured, Measured, RunSetup};
use crate::cli::{ConsumeArgs, FetchArgs, TopicArgs};
use crate::error::BenchError;
use crate::kafka::batch::{self, BatchWalk};
use crate::kafka::codec::{self, kafka_error_kind};
use crate::kafka::conn;
use crate::kafka::frame::FrameReader;
use crate::kafka::metadata::{topic_name, TopicLayout};
use crate::kafka::ProtocolError;
use crate::stats::{Stats, Window};

#[derive(Debug, Clone, Copy)]
pub struct Cursor {
    pub partition: i32,
    pub offset: i64,
}

#[derive(Clone)]
pub struct FetchSpec {
    pub addr: SocketAddr,
    pub version: i16,
    pub topic: String,
    pub cursors: Vec<Cursor>,
    pub fetch: FetchArgs,
    pub rewind: bool,
}

/// What a workload does with the records of a Fetch.
pub trait FetchedRecords {
    /// One partition's records; returns what its complete batches hold.
    fn partition(&mut self, records: &Bytes, now: Instant) -> Result<BatchWalk, String>;
    /// Counts one answered Fetch with the totals of all its partitions.
    fn fetched(&mut self, sent: Instant, now: Instant, total: BatchWalk, stats: &mut Stats);
}

struct CountRecords;

impl FetchedRecords for CountRecords {
    fn partition(&mut self, records: &Bytes, _now: Instant) -> Result<BatchWalk, String> {
        batch::walk(records).map_err(|e| e.to_string())
    }

    fn fetched(&mut self, sent: Instant, now: Instant, total: BatchWalk, stats: &mut Stats) {
        stats.answered(sent, now, total.records, total.bytes);
    }
}

/// One connection per leader and `connections` index; a leader's
/// partitions are split among its connections without overlap.
pub fn fetch_specs(
    layout: &TopicLayout,
    version: i16,
    connections: usize,
    fetch: &FetchArgs,
    rewind: bool,
    start_offset: impl Fn(i32) -> i64,
) -> Vec<FetchSpec> {
    let mut specs = Vec::new();
    for (broker, partitions) in layout.leaders.values() {
        for j in 0..connections {
            let cursors: Vec<Cursor> = partitions
                .iter()
                .enumerate()
                .filter(|(k, _)| k % connections == j)
                .map(|(_, &partition)| Cursor {
                    partition,
                    offset: start_offset(partition),
                })
                .collect();
            if cursors.is_empty() {
                continue;
            }
            specs.push(FetchSpec {
                addr: broker.socket,
                version,
                topic: layout.topic.clone(),
                cursors,
                fetch: fetch.clone(),
                rewind,
            });
        }
    }
    specs
}

pub fn run(bootstrap: &str, args: &ConsumeArgs, setup: &RunSetup) -> Result<Measured, BenchError> {
    let topic = TopicArgs {
        topic: args.topic.clone(),
        create_partitions: None,
        replication_factor: 1,
    };
    let (layout, versions) = prepare_topic(bootstrap, &topic)?;
    let version = versions
        .pick(ApiKey::Fetch)
        .map_err(|e| BenchError::protocol("Fetch", e))?;
    let specs = fetch_specs(
        &layout,
        version,
        args.connections,
        &args.fetch,
        !args.no_rewind,
        |_| 0,
    );
    run_measured(setup, specs, |spec, stats, window| async move {
        fetch_until_closed(spec, CountRecords, stats, window).await;
    })
}

/// Fetches until the window closes, reconnecting after failures and
/// keeping each partition's position across connections.
pub async fn fetch_until_closed<H: FetchedRecords>(
    spec: FetchSpec,
    mut handler: H,
    stats: Rc<RefCell<Stats>>,
    window: Window,
) {
    let mut cursors = spec.cursors.clone();
    while Instant::now() < window.until {
        match fetch_session(&spec, &mut cursors, &mut handler, &stats, window).await {
            Ok(()) => break,
            Err(e) => backoff_after(&stats, e).await,
        }
    }
}

async fn fetch_session<H: FetchedRecords>(
    spec: &FetchSpec,
    cursors: &mut [Cursor],
    handler: &mut H,
    stats: &Rc<RefCell<Stats>>,
    window: Window,
) -> Result<(), ProtocolError> {
    let (read, mut write) = conn::split(conn::connect(spec.addr).await?);
    let mut frames = FrameReader::new(read);
    let mut out = BytesMut::new();
    let mut correlation = 0i32;
    while Instant::now() < window.until {
        correlation = correlation.wrapping_add(1);
        out.clear();
        let request = fetch_request(spec, cursors);
        codec::encode_request(&mut out, ApiKey::Fetch, spec.version, correlation, &request)?;
        let sent = Instant::now();
        write.write_all(&out).await?;
        // TLS may keep the tail of a write buffered; plain TCP: a no-op.
        write.flush().await?;
        let frame = frames.next_frame().await?;
        let now = Instant::now();
        let body = codec::response_body(frame, ApiKey::Fetch, spec.version, correlation)?;
        let response: FetchResponse = codec::decode_body(body, ApiKey::Fetch, spec.version)?;
        let mut stats = stats.borrow_mut();
        if let Some(error) = ResponseError::try_from_code(response.error_code) {
            stats.error(kafka_error_kind(ApiKey::Fetch, error));
            continue;
        }
        let mut total = BatchWalk::default();
        for partition in response.responses.iter().flat_map(|t| &t.partitions) {
            let walk = advance(spec, cursors, partition, handler, now, &mut stats)?;
            total.batches += walk.batches;
            total.records += walk.records;
            total.bytes += walk.bytes;
        }
        handler.fetched(sent, now, total, &mut stats);
    }
    Ok(())
}

/// Moves one partition's cursor past what the response carried.
fn advance<H: FetchedRecords>(
    spec: &FetchSpec,
    cursors: &mut [Cursor],
    data: &PartitionData,
    handler: &mut H,
    now: Instant,
    stats: &mut Stats,
) -> Result<BatchWalk, ProtocolError> {
    let Some(cursor) = cursors
        .iter_mut()
        .find(|c| c.partition == data.partition_index)
    else {
        return Ok(BatchWalk::default());
    };
    match ResponseError::try_from_code(data.error_code) {
        None => {}
        Some(ResponseError::OffsetOutOfRange) => {
            // Retention removed the start of the log: begin where it begins.
            cursor.offset = data.log_start_offset.max(0);
            return Ok(BatchWalk::default());
        }
        Some(error) => {
            stats.error(kafka_error_kind(ApiKey::Fetch, error));
            return Ok(BatchWalk::default());
        }
    }
    let walk = match &data.records {
        Some(records) => {
            handler
                .partition(records, now)
                .map_err(|reason| ProtocolError::Malformed {
                    api: ApiKey::Fetch,
                    version: spec.version,
                    reason,
                })?
        }
        None => BatchWalk::default(),
    };
    if let Some(next) = walk.next_offset {
        cursor.offset = cursor.offset.max(next);
    } else if spec.rewind && data.high_watermark >= 0 && cursor.offset >= data.high_watermark {
        cursor.offset = data.log_start_offset.max(0);
    }
    Ok(walk)
}

fn fetch_request(spec: &FetchSpec, cursors: &[Cursor]) -> FetchRequest {
    let mut request = FetchRequest::default();
    request.replica_id = (-1).into();
    request.max_wait_ms = spec.fetch.max_wait_ms;
    request.min_bytes = 1;
    request.max_bytes = spec.fetch.max_bytes;
    request.isolation_level = 0;
    // Session id 0 with epoch -1: a full fetch without a fetch session.
    request.session_id = 0;
    request.session_epoch = -1;
    let partitions = cursors
        .iter()
        .map(|c| {
            FetchPartition::default()
                .with_partition(c.partition)
                .with_fetch_offset(c.offset)
                .with_partition_max_bytes(spec.fetch.partition_max_bytes)
        })
        .collect();
    request.topics = vec![FetchTopic::default()
        .with_topic(topic_name(&spec.topic))
        .with_partitions(partitions)];
    request
}
