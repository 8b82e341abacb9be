//! `e2e`: produce at a rate and consume the same topic at the same time.
//! Every record value starts with the time it was made, so the consuming
//! side measures produce-to-consume latency per record. Both sides live in
//! this process and read one monotonic clock.

use std::time::Instant;

use bytes::Bytes;
use kafka_protocol::messages::ApiKey;

use super::consume::{fetch_specs, fetch_until_closed, FetchSpec, FetchedRecords};
use super::pipeline::{self, Counting};
use super::produce::{
    compression, prepare_topic, producer_specs, Batches, ProduceCheck, ProduceSource, ProducerSpec,
};
use super::{backoff_after, run_measured, Measured, RunSetup};
use crate::cli::E2eArgs;
use crate::error::BenchError;
use crate::kafka::batch::{self, BatchWalk, STAMP_LEN};
use crate::kafka::metadata;
use crate::stats::Stats;

pub enum Side {
    Producer(Box<ProducerSpec>),
    Consumer(FetchSpec),
}

pub fn validate(args: &E2eArgs) -> Result<(), BenchError> {
    if args.producer.record_size < STAMP_LEN {
        return Err(BenchError::Usage(format!(
            "e2e needs --record-size of at least {STAMP_LEN} bytes to carry the send time"
        )));
    }
    Ok(())
}

pub fn run(bootstrap: &str, args: &E2eArgs, setup: &RunSetup) -> Result<Measured, BenchError> {
    validate(args)?;
    let (layout, versions) = prepare_topic(bootstrap, &args.topic)?;
    // Start where the log ends now, so only this run's records are timed.
    let ends = metadata::list_offsets(&layout, -1)?;
    let p = &args.producer;
    batch::anchor();
    let batches = Batches::Stamped {
        record_size: p.record_size,
        records: p.records_per_batch,
        compression: compression(p.compression),
        filler: batch::text_value(p.record_size, 7),
    };
    let producers = producer_specs(&layout, &versions, p, batches, Counting::Produced)?;
    let fetch_version = versions
        .pick(ApiKey::Fetch)
        .map_err(|e| BenchError::protocol("Fetch", e))?;
    let consumers = fetch_specs(&layout, fetch_version, 1, &args.fetch, false, |partition| {
        ends.get(&partition).copied().unwrap_or(0)
    });
    let sides: Vec<Side> = producers
        .into_iter()
        .map(|p| Side::Producer(Box::new(p)))
        .chain(consumers.into_iter().map(Side::Consumer))
        .collect();
    run_measured(setup, sides, |side, stats, window| async move {
        match side {
            Side::Consumer(spec) => {
                fetch_until_closed(spec, TimeRecords::default(), stats, window).await;
            }
            Side::Producer(spec) => {
                let mut source = ProduceSource::new(&spec, window.start);
                let mut check = ProduceCheck {
                    version: spec.pipeline.version,
                };
                while Instant::now() < window.until {
                    match pipeline::run(spec.pipeline, &mut source, &mut check, &stats, window)
                        .await
                    {
                        Ok(()) => break,
                        Err(e) => backoff_after(&stats, e).await,
                    }
                }
            }
        }
    })
}

/// Decodes each complete batch (decompressing it) to read the stamps.
#[derive(Default)]
struct TimeRecords {
    ages: Vec<std::time::Duration>,
}

impl FetchedRecords for TimeRecords {
    fn partition(&mut self, records: &Bytes, now: Instant) -> Result<BatchWalk, String> {
        let walk = batch::walk(records).map_err(|e| e.to_string())?;
        for one in batch::split_batches(records) {
            let ages = batch::stamp_ages(one, now).map_err(|e| e.to_string())?;
            self.ages.extend(ages);
        }
        Ok(walk)
    }

    fn fetched(&mut self, _sent: Instant, now: Instant, total: BatchWalk, stats: &mut Stats) {
        stats.received(now, total.records, total.bytes, &self.ages);
        self.ages.clear();
    }
}
