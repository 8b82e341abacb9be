//! Helpers shared by the integration tests: a broker map, and response
//! frames built and read back with kafka-protocol.
#![allow(dead_code)]

pub mod fetch;

use std::collections::HashMap;

use bytes::{BufMut, Bytes, BytesMut};
use kafka_protocol::messages::{ApiKey, ResponseHeader};
use kafka_protocol::protocol::{Decodable, Encodable, StrBytes};
use sluice_wire::frame::{frame_len, DEFAULT_MAX_FRAME};
use sluice_wire::rewrite::{rewrite_response, BrokerAddressMap, RewriteOutcome, Rewritten};

/// Backend brokers the responses name.
pub const BACKEND: [(i32, &str, i32); 3] = [
    (1, "kafka-1.backend.internal", 9092),
    (2, "kafka-2.backend.internal", 9093),
    (3, "kafka-3.backend.internal", 9094),
];

pub struct TestMap(HashMap<i32, (String, i32)>);

impl TestMap {
    /// The gateway serves every backend broker: port mapping on one host.
    pub fn all() -> Self {
        Self::only(&[1, 2, 3])
    }

    /// Only `ids` have an address on this listener.
    pub fn only(ids: &[i32]) -> Self {
        TestMap(
            ids.iter()
                .map(|&id| (id, ("gateway.example".to_owned(), 19_000 + id)))
                .collect(),
        )
    }

    pub fn host(&self, id: i32) -> StrBytes {
        StrBytes::from_string(self.0[&id].0.clone())
    }

    pub fn port(&self, id: i32) -> i32 {
        self.0[&id].1
    }
}

impl BrokerAddressMap for TestMap {
    fn broker_endpoint(&self, node_id: i32) -> Option<(std::borrow::Cow<'_, str>, i32)> {
        self.0.get(&node_id).map(|(h, p)| (h.as_str().into(), *p))
    }
}

pub fn s(x: &str) -> StrBytes {
    StrBytes::from_string(x.to_owned())
}

pub const CORRELATION_ID: i32 = 0x0102_0304;

/// A response header at the version the api uses; v1 headers carry an
/// unknown tagged field, which a rewrite must keep.
fn header(key: ApiKey, version: i16) -> (ResponseHeader, i16) {
    let header_version = key.response_header_version(version);
    let mut h = ResponseHeader::default().with_correlation_id(CORRELATION_ID);
    if header_version >= 1 {
        h = h.with_unknown_tagged_field(7, Bytes::from_static(b"hdr"));
    }
    (h, header_version)
}

/// A complete response frame (length prefix included).
pub fn response_frame<M: Encodable>(key: ApiKey, version: i16, message: &M) -> Bytes {
    let (h, hv) = header(key, version);
    let mut body = BytesMut::new();
    h.encode(&mut body, hv).unwrap();
    message.encode(&mut body, version).unwrap();
    save_rewrite_seed(key, version, &body);
    let mut frame = BytesMut::new();
    frame.put_i32(body.len() as i32);
    frame.put_slice(&body);
    frame.freeze()
}

/// With `SLUICE_FUZZ_SEEDS=<dir>` set, every frame the tests build is also
/// written as a seed for the fuzz targets in `fuzz/` (see its README), so
/// the fuzzers start from valid messages of every version.
pub fn save_seed(target: &str, input: &[u8]) {
    let Some(dir) = std::env::var_os("SLUICE_FUZZ_SEEDS") else {
        return;
    };
    use std::hash::{Hash, Hasher};
    let mut h = std::collections::hash_map::DefaultHasher::new();
    input.hash(&mut h);
    let dir = std::path::Path::new(&dir).join(target);
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join(format!("{:016x}", h.finish())), input).unwrap();
}

/// The rewrite targets read the api version from the first byte (as
/// `byte % (max + 3) - 1`); the share target first picks the api.
fn save_rewrite_seed(key: ApiKey, version: i16, body: &[u8]) {
    let target = match key {
        ApiKey::Metadata => "rewrite_metadata",
        ApiKey::FindCoordinator => "rewrite_find_coordinator",
        ApiKey::DescribeCluster => "rewrite_describe_cluster",
        ApiKey::ApiVersions => "rewrite_api_versions",
        ApiKey::Produce => "rewrite_produce",
        ApiKey::Fetch => "rewrite_fetch",
        ApiKey::ShareFetch | ApiKey::ShareAcknowledge => "rewrite_share",
        _ => return,
    };
    let mut input = Vec::new();
    if target == "rewrite_share" {
        input.push(u8::from(key == ApiKey::ShareAcknowledge));
    }
    input.push((version + 1) as u8);
    input.extend_from_slice(body);
    save_seed(target, &input);
}

/// The frame without its length prefix, as `rewrite_response` takes it.
pub fn body_of(frame: &Bytes) -> Bytes {
    frame.slice(4..)
}

/// Decodes a frame produced by the rewriter, checking its prefix and header.
pub fn decode_frame<M: Decodable>(key: ApiKey, version: i16, frame: &Bytes) -> M {
    let len = i32::from_be_bytes(frame[..4].try_into().unwrap());
    assert_eq!(len as usize, frame.len() - 4, "length prefix");
    let mut body = body_of(frame);
    let (expected_header, hv) = header(key, version);
    let h = ResponseHeader::decode(&mut body, hv).unwrap();
    assert_eq!(h, expected_header, "response header preserved");
    let m = M::decode(&mut body, version).unwrap();
    assert!(body.is_empty(), "trailing bytes after the message");
    m
}

pub fn rewrite(
    key: ApiKey,
    version: i16,
    frame: &Bytes,
    map: &dyn BrokerAddressMap,
) -> RewriteOutcome {
    rewrite_response(key as i16, version, &body_of(frame), map)
        .unwrap_or_else(|e| panic!("{key:?} v{version}: {e}"))
}

pub fn replaced(outcome: &RewriteOutcome) -> &Bytes {
    match &outcome.frame {
        Rewritten::Replaced(b) => b,
        Rewritten::Unchanged => panic!("expected a rewritten frame"),
    }
}

/// Rewrites `message` and decodes the result.
pub fn round_trip<M: Encodable + Decodable>(
    key: ApiKey,
    version: i16,
    message: &M,
    map: &TestMap,
) -> (M, Vec<i32>) {
    let frame = response_frame(key, version, message);
    let outcome = rewrite(key, version, &frame, map);
    let decoded = decode_frame(key, version, replaced(&outcome));
    (decoded, outcome.unmapped)
}

/// Asserts the rewriter leaves `message` alone.
pub fn assert_unchanged<M: Encodable>(key: ApiKey, version: i16, message: &M, map: &TestMap) {
    let frame = response_frame(key, version, message);
    let outcome = rewrite(key, version, &frame, map);
    assert_eq!(outcome.frame, Rewritten::Unchanged, "{key:?} v{version}");
    assert!(outcome.unmapped.is_empty());
}

/// Non-empty bytes standing in for record batches: the rewriter must carry
/// them over byte for byte.
pub fn record_bytes(seed: u8, len: usize) -> Bytes {
    (0..len)
        .map(|i| (i as u8).wrapping_mul(31).wrapping_add(seed))
        .collect::<Vec<u8>>()
        .into()
}

/// Every strict prefix of a response that must be inspected is an error,
/// never a panic and never a silently forwarded frame. `frame_len` on every
/// prefix of the frame waits for 4 bytes and then knows the full length.
pub fn assert_prefixes_fail(key: ApiKey, version: i16, frame: &Bytes) {
    for n in 0..frame.len() {
        let got = frame_len(&frame[..n], DEFAULT_MAX_FRAME, 4, false).unwrap();
        assert_eq!(
            got,
            (n >= 4).then_some(frame.len()),
            "frame_len on {n} bytes"
        );
    }
    let body = body_of(frame);
    let map = TestMap::all();
    for n in 0..body.len() {
        let res = rewrite_response(key as i16, version, &body.slice(..n), &map);
        assert!(
            res.is_err(),
            "{key:?} v{version}: prefix of {n} bytes gave {res:?}"
        );
    }
}

/// Corrupts single bytes all over the body: any result is fine, a panic
/// (or an abort from a huge allocation) is not. A cheap, deterministic
/// stand-in for the fuzzers in `fuzz/`.
pub fn assert_mutations_survive(key: ApiKey, version: i16, frame: &Bytes) {
    let body = body_of(frame);
    let map = TestMap::only(&[1]);
    for i in 0..body.len() {
        for value in [0x00, 0x01, 0x7f, 0x80, 0xfe, 0xff, body[i].wrapping_add(1)] {
            let mut mutated = body.to_vec();
            mutated[i] = value;
            let _ = rewrite_response(key as i16, version, &Bytes::from(mutated), &map);
        }
    }
}

/// A Produce request body (header included, no length prefix), encoded by
/// kafka-protocol. Topic k is `topic-k` (topic id k + 5 from v13); each of
/// its entries is a partition, numbered from 0, with that many bytes of
/// records.
pub fn produce_request(
    v: i16,
    acks: i16,
    txn: Option<&str>,
    client_id: Option<&str>,
    topics: &[&[usize]],
) -> Vec<u8> {
    use kafka_protocol::messages::produce_request::{PartitionProduceData, TopicProduceData};
    use kafka_protocol::messages::{ProduceRequest, RequestHeader, TopicName, TransactionalId};

    let mut header = RequestHeader::default()
        .with_request_api_key(0)
        .with_request_api_version(v)
        .with_correlation_id(42)
        .with_client_id(client_id.map(s));
    let hv = ApiKey::Produce.request_header_version(v);
    if hv >= 2 {
        header = header.with_unknown_tagged_field(3, Bytes::from_static(b"hdr"));
    }
    let topic_data = topics.iter().enumerate().map(|(k, sizes)| {
        let partitions = sizes.iter().enumerate().map(|(j, &size)| {
            PartitionProduceData::default()
                .with_index(j as i32)
                .with_records(Some(Bytes::from(vec![0xee; size])))
        });
        let topic = TopicProduceData::default().with_partition_data(partitions.collect());
        if v >= 13 {
            topic.with_topic_id(uuid::Uuid::from_u128(k as u128 + 5))
        } else {
            topic.with_name(TopicName(s(&format!("topic-{k}"))))
        }
    });
    let request = ProduceRequest::default()
        .with_transactional_id(txn.map(|t| TransactionalId(s(t))))
        .with_acks(acks)
        .with_timeout_ms(30_000)
        .with_topic_data(topic_data.collect());
    let mut out = BytesMut::new();
    header.encode(&mut out, hv).unwrap();
    request.encode(&mut out, v).unwrap();
    let body = out.to_vec();
    // The frame target reads a whole frame, length prefix included.
    let mut frame = (body.len() as i32).to_be_bytes().to_vec();
    frame.extend_from_slice(&body);
    save_seed("frame", &frame);
    let mut input = vec![(v + 1) as u8];
    input.extend_from_slice(&body);
    save_seed("produce_request", &input);
    body
}
