//! Connections on a glommio executor: connect with the same timeout as the
//! setup phase (and, with `--tls-ca`, a TLS handshake), and split a stream
//! into the halves that a writer and a reader future poll concurrently.

use std::cell::RefCell;
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll};

use futures_lite::{AsyncRead, AsyncWrite};
use futures_rustls::client::TlsStream;
use futures_rustls::TlsConnector;
use glommio::net::TcpStream;

use super::blocking::CONNECT_TIMEOUT;
use super::tls::{self, TlsClient};
use super::ProtocolError;

/// A connection to the target: plain TCP, or TLS over it. One enum rather
/// than generics, so the workloads are compiled once.
pub enum Stream {
    Plain(TcpStream),
    Tls(Box<TlsStream<TcpStream>>),
}

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
    Ok(Stream::Tls(Box::new(tls)))
}

impl AsyncRead for Stream {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        match self.get_mut() {
            Stream::Plain(s) => Pin::new(s).poll_read(cx, buf),
            Stream::Tls(s) => Pin::new(s.as_mut()).poll_read(cx, buf),
        }
    }
}

impl AsyncWrite for Stream {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        match self.get_mut() {
            Stream::Plain(s) => Pin::new(s).poll_write(cx, buf),
            Stream::Tls(s) => Pin::new(s.as_mut()).poll_write(cx, buf),
        }
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Stream::Plain(s) => Pin::new(s).poll_flush(cx),
            Stream::Tls(s) => Pin::new(s.as_mut()).poll_flush(cx),
        }
    }

    fn poll_close(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Stream::Plain(s) => Pin::new(s).poll_close(cx),
            Stream::Tls(s) => Pin::new(s.as_mut()).poll_close(cx),
        }
    }
}

/// Both halves live on one executor thread and each borrow lasts one poll,
/// so a `RefCell` is enough; glommio keeps separate read and write sources,
/// so a pending read and a pending write do not disturb each other.
pub struct ReadHalf(Rc<RefCell<Stream>>);
pub struct WriteHalf(Rc<RefCell<Stream>>);

pub fn split(stream: Stream) -> (ReadHalf, WriteHalf) {
    let shared = Rc::new(RefCell::new(stream));
    (ReadHalf(shared.clone()), WriteHalf(shared))
}

impl AsyncRead for ReadHalf {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        let mut stream = self.0.borrow_mut();
        Pin::new(&mut *stream).poll_read(cx, buf)
    }
}

impl AsyncWrite for WriteHalf {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let mut stream = self.0.borrow_mut();
        Pin::new(&mut *stream).poll_write(cx, buf)
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let mut stream = self.0.borrow_mut();
        Pin::new(&mut *stream).poll_flush(cx)
    }

    fn poll_close(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let mut stream = self.0.borrow_mut();
        Pin::new(&mut *stream).poll_close(cx)
    }
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
