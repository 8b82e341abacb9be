//! A plain blocking Kafka connection for setting a run up (ApiVersions,
//! Metadata, CreateTopics, ListOffsets) before any executor starts, so an
//! unreachable or misconfigured target fails fast and with a clear message.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream, ToSocketAddrs};
use std::time::Duration;

use rustls::{ClientConnection, StreamOwned};

use bytes::{Bytes, BytesMut};
use kafka_protocol::messages::{ApiKey, ApiVersionsRequest, ApiVersionsResponse};
use kafka_protocol::protocol::{Decodable, Encodable, StrBytes};

use super::codec::{self, ProtocolError};
use super::frame::{check_length, MAX_FRAME};
use super::versions::{Versions, API_VERSIONS_FIRST_TRY};
use crate::error::BenchError;

pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
/// CreateTopics and a cold broker's first Metadata can take seconds.
const SETUP_READ_TIMEOUT: Duration = Duration::from_secs(30);
const UNSUPPORTED_VERSION: i16 = 35;

/// Resolves `HOST:PORT` to its first address.
pub fn resolve(addr: &str) -> Result<SocketAddr, BenchError> {
    let unreachable = |reason: String| BenchError::Connect {
        addr: addr.to_string(),
        reason,
    };
    addr.to_socket_addrs()
        .map_err(|e| unreachable(format!("cannot resolve: {e}")))?
        .next()
        .ok_or_else(|| unreachable("the name resolves to no address".to_string()))
}

/// Plain TCP, or TLS over it when `--tls-ca` is in force.
enum BlockingStream {
    Plain(TcpStream),
    Tls(Box<StreamOwned<ClientConnection, TcpStream>>),
}

impl Read for BlockingStream {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        match self {
            BlockingStream::Plain(s) => s.read(buf),
            BlockingStream::Tls(s) => s.read(buf),
        }
    }
}

impl Write for BlockingStream {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        match self {
            BlockingStream::Plain(s) => s.write(buf),
            BlockingStream::Tls(s) => s.write(buf),
        }
    }

    fn flush(&mut self) -> std::io::Result<()> {
        match self {
            BlockingStream::Plain(s) => s.flush(),
            BlockingStream::Tls(s) => s.flush(),
        }
    }
}

pub struct BlockingConn {
    stream: BlockingStream,
    addr: String,
    correlation: i32,
}

impl BlockingConn {
    pub fn connect(addr: &str) -> Result<BlockingConn, BenchError> {
        let socket = resolve(addr)?;
        let stream = TcpStream::connect_timeout(&socket, CONNECT_TIMEOUT).map_err(|e| {
            BenchError::Connect {
                addr: addr.to_string(),
                reason: e.to_string(),
            }
        })?;
        let io = |e: std::io::Error| BenchError::Io(format!("{addr}: {e}"));
        stream
            .set_read_timeout(Some(SETUP_READ_TIMEOUT))
            .map_err(io)?;
        stream.set_nodelay(true).map_err(io)?;
        let stream = match super::tls::current() {
            None => BlockingStream::Plain(stream),
            Some(client) => {
                let tls_error = |reason: String| BenchError::Connect {
                    addr: addr.to_string(),
                    reason: format!("TLS: {reason}"),
                };
                let name = client
                    .name_for(&socket.to_string())
                    .map_err(|e| tls_error(e.to_string()))?;
                let session = ClientConnection::new(client.config.clone(), name)
                    .map_err(|e| tls_error(e.to_string()))?;
                let mut tls = StreamOwned::new(session, stream);
                // Handshake now, so a certificate or name problem is
                // reported as such and not as a failed request.
                while tls.conn.is_handshaking() {
                    tls.conn
                        .complete_io(&mut tls.sock)
                        .map_err(|e| tls_error(e.to_string()))?;
                }
                BlockingStream::Tls(Box::new(tls))
            }
        };
        Ok(BlockingConn {
            stream,
            addr: addr.to_string(),
            correlation: 0,
        })
    }

    pub fn addr(&self) -> &str {
        &self.addr
    }

    /// Sends one request and waits for its response.
    pub fn call<Req: Encodable, Resp: Decodable>(
        &mut self,
        api: ApiKey,
        version: i16,
        request: &Req,
    ) -> Result<Resp, ProtocolError> {
        let body = self.round_trip(api, version, request)?;
        codec::decode_body(body, api, version)
    }

    fn round_trip<Req: Encodable>(
        &mut self,
        api: ApiKey,
        version: i16,
        request: &Req,
    ) -> Result<Bytes, ProtocolError> {
        self.correlation += 1;
        let mut out = BytesMut::new();
        codec::encode_request(&mut out, api, version, self.correlation, request)?;
        self.stream.write_all(&out)?;
        let frame = self.read_frame()?;
        codec::response_body(frame, api, version, self.correlation)
    }

    fn read_frame(&mut self) -> Result<Bytes, ProtocolError> {
        let mut len = [0u8; 4];
        self.stream.read_exact(&mut len).map_err(eof_is_closed)?;
        let len = check_length(len, MAX_FRAME)?;
        let mut body = vec![0u8; len];
        self.stream.read_exact(&mut body).map_err(eof_is_closed)?;
        Ok(Bytes::from(body))
    }

    /// ApiVersions as a real client does it: try v3, and if the broker does
    /// not know it, retry with the highest version its v0 answer offers.
    pub fn negotiate(&mut self) -> Result<Versions, ProtocolError> {
        let request = api_versions_request();
        let first = API_VERSIONS_FIRST_TRY;
        let body = self.round_trip(ApiKey::ApiVersions, first, &request)?;
        if codec::leading_error_code(&body) != Some(UNSUPPORTED_VERSION) {
            let response: ApiVersionsResponse =
                codec::decode_body(body, ApiKey::ApiVersions, first)?;
            return check_api_versions(response);
        }
        let offered: ApiVersionsResponse = codec::decode_body(body, ApiKey::ApiVersions, 0)?;
        let retry = Versions::from_response(&offered).pick(ApiKey::ApiVersions)?;
        let response = self.call(ApiKey::ApiVersions, retry, &request)?;
        check_api_versions(response)
    }
}

fn check_api_versions(response: ApiVersionsResponse) -> Result<Versions, ProtocolError> {
    match kafka_protocol::ResponseError::try_from_code(response.error_code) {
        None => Ok(Versions::from_response(&response)),
        Some(error) => Err(ProtocolError::Kafka {
            api: ApiKey::ApiVersions,
            error,
        }),
    }
}

pub fn api_versions_request() -> ApiVersionsRequest {
    ApiVersionsRequest::default()
        .with_client_software_name(StrBytes::from_static_str(codec::CLIENT_ID))
        .with_client_software_version(StrBytes::from_static_str(env!("CARGO_PKG_VERSION")))
}

fn eof_is_closed(e: std::io::Error) -> ProtocolError {
    if e.kind() == std::io::ErrorKind::UnexpectedEof {
        ProtocolError::Closed
    } else {
        ProtocolError::Io(e)
    }
}
