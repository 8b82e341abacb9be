//! Fetch responses forwarded while they arrive: the walk forwards every byte
//! once, in order, and the held-back trailer is rewritten in place.

mod common;

use std::borrow::Cow;

use bytes::Bytes;
use common::fetch::fetch;
use common::*;
use kafka_protocol::messages::{ApiKey, FetchResponse};
use kafka_protocol::protocol::Message;
use sluice_wire::rewrite::BrokerAddressMap;
use sluice_wire::stream::{rewrite_fetch_trailer, stream_plan, FetchWalk, Step, StreamPlan};
use sluice_wire::WireError;

const FIRST_STREAMED: i16 = 16;

/// Plays the gateway: the body arrives `chunk` bytes at a time; returns what
/// the client receives and the unmapped node ids.
fn stream(
    v: i16,
    body: &[u8],
    chunk: usize,
    map: &dyn BrokerAddressMap,
) -> Result<(Vec<u8>, Vec<i32>), WireError> {
    let mut walk = FetchWalk::new(v);
    let (mut sent, mut arrived) = (0usize, chunk.min(body.len()));
    let mut out = Vec::with_capacity(body.len());
    loop {
        match walk.step(&body[sent..arrived])? {
            Step::Forward(n) => {
                out.extend_from_slice(&body[sent..sent + n]);
                sent += n;
            }
            Step::Records(n) => {
                // Record data passes without being buffered or read.
                let end = sent
                    .checked_add(n)
                    .filter(|&e| e <= body.len())
                    .ok_or(WireError::Truncated("records"))?;
                out.extend_from_slice(&body[sent..end]);
                sent = end;
                arrived = arrived.max(sent);
            }
            Step::NeedMore if arrived == body.len() => return Err(WireError::Truncated("frame")),
            Step::NeedMore => arrived = (arrived + chunk).min(body.len()),
            Step::Trailer => {
                let trailer = &body[sent..];
                return match rewrite_fetch_trailer(v, trailer, map)? {
                    None => {
                        out.extend_from_slice(trailer);
                        Ok((out, Vec::new()))
                    }
                    Some((new, unmapped)) => {
                        assert_eq!(new.len(), trailer.len(), "trailer keeps its size");
                        out.extend_from_slice(&new);
                        Ok((out, unmapped))
                    }
                };
            }
        }
    }
}

fn streamed(
    v: i16,
    message: &FetchResponse,
    chunk: usize,
    map: &dyn BrokerAddressMap,
) -> (FetchResponse, Vec<i32>) {
    let frame = response_frame(ApiKey::Fetch, v, message);
    let body = body_of(&frame);
    // The fuzz target reads the version and the chunk size from one byte.
    let mut seed = vec![((v - FIRST_STREAMED) as usize + 3 * chunk.min(84)) as u8];
    seed.extend_from_slice(&body);
    save_seed("stream_fetch", &seed);
    let (out, unmapped) =
        stream(v, &body, chunk, map).unwrap_or_else(|e| panic!("v{v} chunk {chunk}: {e}"));
    let mut new_frame = frame[..4].to_vec();
    new_frame.extend_from_slice(&out);
    (
        decode_frame(ApiKey::Fetch, v, &Bytes::from(new_frame)),
        unmapped,
    )
}

fn versions() -> std::ops::RangeInclusive<i16> {
    FIRST_STREAMED..=FetchResponse::VERSIONS.max
}

#[test]
fn plans() {
    assert_eq!(stream_plan(1, 15, false), StreamPlan::Verbatim);
    assert_eq!(stream_plan(1, 16, true), StreamPlan::FetchWalked);
    assert_eq!(stream_plan(3, 12, true), StreamPlan::Whole);
    assert_eq!(stream_plan(0, 11, true), StreamPlan::Whole);
}

#[test]
fn without_endpoints_every_byte_passes_unchanged() {
    let map = TestMap::all();
    for v in versions() {
        let frame = response_frame(ApiKey::Fetch, v, &fetch(v, &[]));
        let body = body_of(&frame);
        for chunk in [1, 3, 64, 1000, body.len()] {
            let (out, _) = stream(v, &body, chunk, &map).unwrap();
            assert_eq!(out, body.to_vec(), "v{v} chunk {chunk}");
        }
    }
}

#[test]
fn shorter_addresses_are_rewritten_in_place() {
    let map = TestMap::all();
    for v in versions() {
        let original = fetch(v, &[3, 1]);
        let mut expected = original.clone();
        for e in &mut expected.node_endpoints {
            e.host = map.host(e.node_id.0);
            e.port = map.port(e.node_id.0);
        }
        for chunk in [1, 50, 100_000] {
            let (got, unmapped) = streamed(v, &original, chunk, &map);
            // The filler is an unknown tag to the client; all else matches.
            let mut got = got;
            let filler = got.unknown_tagged_fields.remove(&127);
            assert!(filler.is_some_and(|f| f.iter().all(|&b| b == 0)), "v{v}");
            assert_eq!(got, expected, "v{v} chunk {chunk}");
            assert!(unmapped.is_empty());
        }
    }
}

/// Every broker on a host name longer than the backend's.
struct LongNames;

impl BrokerAddressMap for LongNames {
    fn broker_endpoint(&self, node_id: i32) -> Option<(Cow<'_, str>, i32)> {
        Some((
            format!("broker-{node_id}.a-much-longer-gateway-name.example.internal").into(),
            9092,
        ))
    }
}

#[test]
fn endpoints_that_no_longer_fit_are_dropped() {
    for v in versions() {
        let original = fetch(v, &[1, 2, 3]);
        let (mut got, unmapped) = streamed(v, &original, 77, &LongNames);
        assert!(got.unknown_tagged_fields.remove(&127).is_some());
        let mut expected = original.clone();
        expected.node_endpoints.clear();
        assert_eq!(got, expected, "v{v}");
        assert!(unmapped.is_empty());
    }
}

#[test]
fn unmapped_endpoints_are_reported() {
    let map = TestMap::only(&[2]);
    let v = FetchResponse::VERSIONS.max;
    let (got, unmapped) = streamed(v, &fetch(v, &[1, 2, 3]), 10, &map);
    assert_eq!(got.node_endpoints.len(), 1);
    assert_eq!(got.node_endpoints[0].host, map.host(2));
    assert_eq!(unmapped, [1, 3]);
}

#[test]
fn truncated_frames_are_errors_not_panics() {
    let map = TestMap::all();
    for v in versions() {
        let frame = response_frame(ApiKey::Fetch, v, &fetch(v, &[1]));
        let body = body_of(&frame);
        for n in 0..body.len() {
            for chunk in [1, 9] {
                assert!(
                    stream(v, &body[..n], chunk, &map).is_err(),
                    "v{v} prefix {n}"
                );
            }
        }
    }
}

#[test]
fn corrupt_frames_never_panic() {
    let map = TestMap::all();
    let v = FetchResponse::VERSIONS.max;
    let frame = response_frame(ApiKey::Fetch, v, &fetch(v, &[1, 2]));
    let body = body_of(&frame).to_vec();
    for i in 0..body.len() {
        for byte in [0x00, 0x7f, 0x80, 0xff] {
            let mut corrupt = body.clone();
            corrupt[i] = byte;
            let _ = stream(v, &corrupt, 13, &map);
        }
    }
}

#[test]
fn a_repeated_node_endpoints_is_refused() {
    let map = TestMap::all();
    // Two tagged fields, each an empty node_endpoints array (tag 0, 1 byte),
    // with an unknown field between them.
    let repeated = [3u8, 0, 1, 1, 9, 0, 0, 1, 1];
    let got = rewrite_fetch_trailer(FIRST_STREAMED, &repeated, &map);
    assert!(
        matches!(&got, Err(WireError::Malformed(m)) if m.contains("node_endpoints twice")),
        "{got:?}"
    );
    // Once is fine.
    assert!(rewrite_fetch_trailer(FIRST_STREAMED, &[2, 0, 1, 1, 9, 0], &map).is_ok());
}
