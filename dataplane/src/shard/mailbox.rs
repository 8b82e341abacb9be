//! How the configuration, discovery and metrics threads reach a shard: a
//! channel for the messages, and a socket pair whose reading end the
//! shard's executor waits on, so a shard sleeps until there is something
//! for it. No polling timer: while any timer is pending, every sleep of a
//! glommio executor costs an extra timeout submitted and cancelled on its
//! rings, which at moderate load was ~14% of a shard's CPU.

use std::io::{self, Write};
use std::os::fd::{FromRawFd, IntoRawFd};
use std::os::unix::net::UnixStream;

use crossbeam_channel::{Receiver, Sender};
use futures_lite::AsyncReadExt;

use super::ShardMsg;

/// The sending side, shared by every thread that talks to the shard.
pub struct Mailbox {
    messages: Sender<ShardMsg>,
    wake: UnixStream,
}

/// The shard's side, handed to it at start.
pub struct Inbox {
    messages: Receiver<ShardMsg>,
    wake: UnixStream,
}

pub fn mailbox() -> io::Result<(Mailbox, Inbox)> {
    let (tx, rx) = crossbeam_channel::unbounded();
    let (send_end, receive_end) = UnixStream::pair()?;
    send_end.set_nonblocking(true)?;
    let mailbox = Mailbox {
        messages: tx,
        wake: send_end,
    };
    let inbox = Inbox {
        messages: rx,
        wake: receive_end,
    };
    Ok((mailbox, inbox))
}

impl Mailbox {
    /// Delivers `msg` and wakes the shard. Never blocks: a full wake socket
    /// means the shard has a wake-up pending already.
    pub fn send(&self, msg: ShardMsg) {
        if self.messages.send(msg).is_ok() {
            let _ = (&self.wake).write(&[1]);
        }
    }
}

impl Inbox {
    /// On the shard's own executor: the messages, and the end to wait on.
    pub fn open(self) -> (Receiver<ShardMsg>, Waiter) {
        // SAFETY: the descriptor was just taken out of a stream we own.
        let stream = unsafe { glommio::net::UnixStream::from_raw_fd(self.wake.into_raw_fd()) };
        (self.messages, Waiter(stream))
    }

    /// Takes what a thread without an executor would read (tests).
    #[cfg(test)]
    pub fn drain_wakes(&mut self) -> usize {
        self.wake.set_nonblocking(true).ok();
        let mut buf = [0u8; 64];
        std::io::Read::read(&mut self.wake, &mut buf).unwrap_or(0)
    }
}

pub struct Waiter(glommio::net::UnixStream);

impl Waiter {
    /// Waits until a message may be waiting; `false` once every sender is
    /// gone (nothing can arrive any more).
    pub async fn wait(&mut self) -> bool {
        let mut wakes = [0u8; 64];
        matches!(self.0.read(&mut wakes).await, Ok(n) if n > 0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_send_leaves_a_wake_and_a_full_socket_never_blocks() {
        let (mailbox, mut inbox) = mailbox().unwrap();
        // Far more sends than the socket buffer holds: none blocks.
        for _ in 0..1_000_000 {
            mailbox.send(ShardMsg::Tick);
        }
        assert!(inbox.drain_wakes() > 0);
        assert!(matches!(inbox.messages.try_recv(), Ok(ShardMsg::Tick)));
    }
}
