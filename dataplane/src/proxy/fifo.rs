//! The in-flight FIFO of one connection: which response answers which
//! request, in order. Bounded by a count of entries, not by preallocated
//! room: a bounded glommio channel reserves its whole capacity up front,
//! which idle connections would pay for in memory.

use std::rc::Rc;

use glommio::channels::local_channel::{self, LocalReceiver, LocalSender};
use glommio::sync::{Semaphore, StaticPermit};

use super::pump::InFlight;

struct Slot {
    entry: InFlight,
    // Frees a place in the FIFO when the entry is taken out.
    _permit: StaticPermit,
}

/// The other side of the FIFO is gone.
#[derive(Debug)]
pub struct Closed;

pub struct FifoSender {
    tx: LocalSender<Slot>,
    places: Rc<Semaphore>,
}

pub struct FifoReceiver {
    rx: LocalReceiver<Slot>,
}

pub fn fifo(max_entries: usize) -> (FifoSender, FifoReceiver) {
    let (tx, rx) = local_channel::new_unbounded();
    let places = Rc::new(Semaphore::new(max_entries.max(1) as u64));
    (FifoSender { tx, places }, FifoReceiver { rx })
}

impl FifoSender {
    /// Waits for a free place (backpressure on the client), then queues.
    pub async fn push(&self, entry: InFlight) -> Result<(), Closed> {
        let permit = self
            .places
            .acquire_static_permit(1)
            .await
            .map_err(|_| Closed)?;
        let slot = Slot {
            entry,
            _permit: permit,
        };
        self.tx.send(slot).await.map_err(|_| Closed)
    }
}

impl FifoReceiver {
    /// The next entry; `None` once the sender is gone and all are taken.
    pub async fn pop(&self) -> Option<InFlight> {
        self.rx.recv().await.map(|slot| slot.entry)
    }
}
