//! A minimal blocking Kafka client built on the kafka-protocol crate, to see
//! exactly what the gateway answers (decoded responses) and to send it bytes
//! no real client would.

use std::io::{Read, Write};
use std::net::{Shutdown, TcpStream};
use std::time::Duration;

use bytes::{Bytes, BytesMut};
use kafka_protocol::messages::{ApiKey, RequestHeader, ResponseHeader};
use kafka_protocol::protocol::{Decodable, Encodable, StrBytes};

/// A connection to the gateway over plain TCP (the default) or any other
/// byte stream, such as a rustls client stream.
pub struct RawConn<S = TcpStream> {
    pub stream: S,
    next_correlation: i32,
}

impl RawConn<TcpStream> {
    pub fn connect(addr: &str) -> RawConn {
        let stream = TcpStream::connect(addr).unwrap_or_else(|e| panic!("connect {addr}: {e}"));
        stream
            .set_read_timeout(Some(Duration::from_secs(30)))
            .unwrap();
        RawConn::over(stream)
    }

    pub fn shutdown_write(&self) {
        let _ = self.stream.shutdown(Shutdown::Write);
    }
}

impl<S: Read + Write> RawConn<S> {
    pub fn over(stream: S) -> RawConn<S> {
        RawConn {
            stream,
            next_correlation: 1,
        }
    }

    pub fn send_bytes(&mut self, bytes: &[u8]) {
        self.stream.write_all(bytes).expect("write to gateway");
        self.stream.flush().expect("flush to gateway");
    }

    /// True once the gateway has closed the connection (EOF or reset).
    pub fn closed_by_peer(&mut self) -> bool {
        let mut buf = [0u8; 256];
        loop {
            match self.stream.read(&mut buf) {
                Ok(0) => return true,
                Ok(_) => continue,
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => return false,
                Err(e) if e.kind() == std::io::ErrorKind::TimedOut => return false,
                Err(_) => return true,
            }
        }
    }

    /// Sends `request` as `api_key` v`version` and decodes the response.
    pub fn call<Req: Encodable, Resp: Decodable>(
        &mut self,
        api_key: ApiKey,
        version: i16,
        request: &Req,
    ) -> Resp {
        let correlation_id = self.send(api_key, version, request);
        let mut response = self.read_frame();
        let header =
            ResponseHeader::decode(&mut response, api_key.response_header_version(version))
                .unwrap();
        assert_eq!(
            header.correlation_id, correlation_id,
            "response out of order"
        );
        Resp::decode(&mut response, version)
            .unwrap_or_else(|e| panic!("decode {api_key:?} v{version}: {e}"))
    }

    /// Sends `request` without waiting for a response; returns its
    /// correlation id.
    pub fn send<Req: Encodable>(&mut self, api_key: ApiKey, version: i16, request: &Req) -> i32 {
        let correlation_id = self.next_correlation;
        self.next_correlation += 1;
        let header = RequestHeader::default()
            .with_request_api_key(api_key as i16)
            .with_request_api_version(version)
            .with_correlation_id(correlation_id)
            .with_client_id(Some(StrBytes::from_static_str("sluice-test")));
        let mut body = BytesMut::new();
        header
            .encode(&mut body, api_key.request_header_version(version))
            .unwrap();
        request.encode(&mut body, version).unwrap();
        let mut frame = BytesMut::new();
        frame.extend_from_slice(&(body.len() as i32).to_be_bytes());
        frame.extend_from_slice(&body);
        self.send_bytes(&frame);
        correlation_id
    }

    pub fn read_frame(&mut self) -> Bytes {
        let mut prefix = [0u8; 4];
        self.stream
            .read_exact(&mut prefix)
            .expect("read response length");
        let len = i32::from_be_bytes(prefix) as usize;
        let mut body = vec![0u8; len];
        self.stream
            .read_exact(&mut body)
            .expect("read response body");
        Bytes::from(body)
    }
}
