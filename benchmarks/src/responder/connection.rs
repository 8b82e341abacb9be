//! One client connection to the responder: read every frame that has
//! arrived, answer them all into one buffer, write it with one call.

use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;
use std::sync::Arc;

use bytes::{Bytes, BytesMut};
use futures_lite::AsyncWriteExt;
use glommio::net::TcpStream;
use kafka_protocol::messages::{ApiKey, RequestHeader};

use super::{answers, Config, LABEL};
use crate::kafka::codec;
use crate::kafka::conn;
use crate::kafka::frame::FrameReader;
use crate::kafka::ProtocolError;

/// What one executor remembers across its connections: produced offsets
/// (so base offsets count up) and producer ids handed out.
pub struct ExecutorState {
    pub offsets: HashMap<(String, i32), i64>,
    pub next_producer_id: i64,
}

pub type SharedState = Rc<RefCell<ExecutorState>>;

impl ExecutorState {
    pub fn new(executor: usize) -> SharedState {
        Rc::new(RefCell::new(ExecutorState {
            offsets: HashMap::new(),
            // Executors hand out disjoint producer id ranges.
            next_producer_id: (executor as i64) << 32,
        }))
    }
}

/// Everything a request handler needs to know about its connection.
pub struct Ctx<'a> {
    pub config: &'a Config,
    pub node: i32,
    pub state: &'a SharedState,
}

pub async fn serve(stream: TcpStream, port: u16, config: Arc<Config>, state: SharedState) {
    let peer = stream
        .peer_addr()
        .map(|a| a.to_string())
        .unwrap_or_else(|_| "unknown peer".to_string());
    let _ = stream.set_nodelay(true);
    let Some(node) = config.node_on(port) else {
        return;
    };
    let ctx = Ctx {
        config: &config,
        node,
        state: &state,
    };
    let outcome = answer_until_closed(stream, &ctx).await;
    match outcome {
        Err(ProtocolError::Closed) if config.quiet => {}
        Err(ProtocolError::Closed) => {
            eprintln!("{LABEL}: connection from {peer} to node {node} closed by the client")
        }
        Err(e) => eprintln!("{LABEL}: closing connection from {peer} to node {node}: {e}"),
        Ok(()) => {}
    }
}

async fn answer_until_closed(stream: TcpStream, ctx: &Ctx<'_>) -> Result<(), ProtocolError> {
    let (read, mut write) = conn::split(conn::Stream::Plain(stream));
    let mut frames = FrameReader::new(read);
    let mut out = BytesMut::with_capacity(64 * 1024);
    loop {
        let first = frames.next_frame().await?;
        answer(first, ctx, &mut out)?;
        while let Some(frame) = frames.buffered_frame()? {
            answer(frame, ctx, &mut out)?;
        }
        if !out.is_empty() {
            write.write_all(&out).await?;
            out.clear();
        }
    }
}

fn answer(mut frame: Bytes, ctx: &Ctx<'_>, out: &mut BytesMut) -> Result<(), ProtocolError> {
    let header = codec::decode_request_header(&mut frame)?;
    let api = ApiKey::try_from(header.request_api_key).map_err(|_| {
        ProtocolError::Unsupported(format!("unknown api key {}", header.request_api_key))
    })?;
    let version = header.request_api_version;
    if api == ApiKey::ApiVersions {
        return answers::api_versions(&header, out);
    }
    let supported = answers::SUPPORTED.iter().find(|(key, _, _)| *key == api);
    match supported {
        Some((_, min, max)) if (*min..=*max).contains(&version) => {}
        Some((_, min, max)) => {
            return Err(ProtocolError::Unsupported(format!(
                "{api:?} v{version} (this responder answers v{min}-v{max})"
            )))
        }
        None => {
            return Err(ProtocolError::Unsupported(format!(
                "api {api:?} (key {}) v{version} is not answered by this responder",
                header.request_api_key
            )))
        }
    }
    dispatch(api, &header, frame, ctx, out)
}

fn dispatch(
    api: ApiKey,
    header: &RequestHeader,
    body: Bytes,
    ctx: &Ctx<'_>,
    out: &mut BytesMut,
) -> Result<(), ProtocolError> {
    let version = header.request_api_version;
    let correlation = header.correlation_id;
    match api {
        ApiKey::Produce => {
            let request = codec::decode_request(body, version)?;
            let Some(response) = answers::produce(&request, ctx) else {
                return Ok(()); // acks=0: Kafka sends nothing back
            };
            codec::encode_response(out, api, version, correlation, &response)
        }
        ApiKey::Fetch => {
            let request = codec::decode_request(body, version)?;
            super::fetch::encode(out, version, correlation, &request, ctx);
            Ok(())
        }
        ApiKey::Metadata => {
            let response = answers::metadata(&codec::decode_request(body, version)?, ctx);
            codec::encode_response(out, api, version, correlation, &response)
        }
        ApiKey::ListOffsets => {
            let response = answers::list_offsets(&codec::decode_request(body, version)?, ctx);
            codec::encode_response(out, api, version, correlation, &response)
        }
        ApiKey::FindCoordinator => {
            let response =
                answers::find_coordinator(&codec::decode_request(body, version)?, version, ctx);
            codec::encode_response(out, api, version, correlation, &response)
        }
        ApiKey::InitProducerId => {
            let response = answers::init_producer_id(ctx);
            codec::encode_response(out, api, version, correlation, &response)
        }
        other => Err(ProtocolError::Unsupported(format!(
            "api {other:?} is not answered"
        ))),
    }
}
