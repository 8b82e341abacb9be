//! Connections on a glommio executor: connect with the same timeout as the
//! setup phase (and, with `--tls-ca`, a TLS handshake). The stream types and
//! their split into halves are sluice's own (`sluice-runtime`).

use std::net::SocketAddr;

use futures_rustls::TlsConnector;
use glommio::net::TcpStream;
pub use sluice_runtime::{split, ReadHalf, Stream, WriteHalf};

use super::blocking::CONNECT_TIMEOUT;
use super::tls::{self, TlsClient};
use super::ProtocolError;

/// Connects, then runs the TLS handshake when `--tls-ca` is in force.
pub async fn connect(addr: SocketAddr) -> Result<Stream, ProtocolError> {
    let stream = connect_tcp(addr).await?;
    match tls::current() {
        None => Ok(Stream::Plain(stream)),
        Some(client) => handshake(&client, addr, stream).await,
    }
}

async fn connect_tcp(addr: SocketAddr) -> Result<TcpStream, ProtocolError> {
    let stream = TcpStream::connect_timeout(addr, CONNECT_TIMEOUT)
        .await
        .map_err(|e| ProtocolError::Io(e.into()))?;
    // Kafka clients disable Nagle; small pipelined requests would otherwise
    // wait for the previous one's ACK.
    stream
        .set_nodelay(true)
        .map_err(|e| ProtocolError::Io(e.into()))?;
    Ok(stream)
}

/// A full TLS handshake on a connected socket (resumed only if the client
/// configuration allows resumption).
pub async fn handshake(
    client: &TlsClient,
    addr: SocketAddr,
    stream: TcpStream,
) -> Result<Stream, ProtocolError> {
    let name = client.name_for(&addr.to_string())?;
    let tls = TlsConnector::from(client.config.clone())
        .connect(name, stream)
        .await
        .map_err(|e| ProtocolError::Tls(e.to_string()))?;
    Ok(Stream::TlsClient(Box::new(tls)))
}

/// One ApiVersions round trip on a fresh connection, as every Kafka client
/// starts; for a gateway this is what opens its upstream connection.
pub async fn api_versions(stream: &mut Stream, version: i16) -> Result<(), ProtocolError> {
    use futures_lite::AsyncWriteExt;
    use kafka_protocol::messages::{ApiKey, ApiVersionsResponse};

    const CORRELATION: i32 = 1;
    let mut out = bytes::BytesMut::new();
    let request = super::blocking::api_versions_request();
    super::codec::encode_request(
        &mut out,
        ApiKey::ApiVersions,
        version,
        CORRELATION,
        &request,
    )?;
    stream.write_all(&out).await?;
    stream.flush().await?;
    let frame = super::frame::FrameReader::new(&mut *stream)
        .next_frame()
        .await?;
    let body = super::codec::response_body(frame, ApiKey::ApiVersions, version, CORRELATION)?;
    let response: ApiVersionsResponse =
        super::codec::decode_body(body, ApiKey::ApiVersions, version)?;
    match kafka_protocol::ResponseError::try_from_code(response.error_code) {
        None => Ok(()),
        Some(error) => Err(ProtocolError::Kafka {
            api: ApiKey::ApiVersions,
            error,
        }),
    }
}
