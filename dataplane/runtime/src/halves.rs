//! Read and write halves of one glommio TCP stream, for the two pumps of a
//! connection. Both halves live on the same shard and are polled by the same
//! thread, so a `RefCell` borrowed only for the span of one poll is enough:
//! no lock. glommio keeps separate read and write readiness sources, so a
//! pending read and a pending write on one socket do not disturb each other.

use std::cell::RefCell;
use std::io;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll};

use crate::stream::Stream;
use futures_lite::{AsyncRead, AsyncWrite};

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
