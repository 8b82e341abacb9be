//! The in-flight FIFO of one connection: which response answers which
//! request, in order. Bounded by a count of entries, not by preallocated
//! room: a bounded glommio channel reserves its whole capacity up front,
//! which idle connections would pay for in memory.

use std::cell::Cell;
use std::rc::Rc;

use glommio::channels::local_channel::{self, LocalReceiver, LocalSender};
use glommio::sync::{Semaphore, StaticPermit};

use super::pump::InFlight;

/// An entry with its place in the FIFO. The place is freed when the slot
/// is dropped: after its response went out, not when it was taken out, so
/// that at most `max_entries` requests wait for a response.
pub(crate) struct Slot {
    pub entry: InFlight,
    _permit: StaticPermit,
}

/// The other side of the FIFO is gone.
#[derive(Debug)]
pub struct Closed;

pub struct FifoSender {
    tx: LocalSender<Slot>,
    places: Rc<Semaphore>,
    queued: Rc<Cell<usize>>,
}

pub struct FifoReceiver {
    rx: LocalReceiver<Slot>,
    queued: Rc<Cell<usize>>,
}

pub fn fifo(max_entries: usize) -> (FifoSender, FifoReceiver) {
    let (tx, rx) = local_channel::new_unbounded();
    let places = Rc::new(Semaphore::new(max_entries.max(1) as u64));
    let queued = Rc::new(Cell::new(0));
    let sender = FifoSender {
        tx,
        places,
        queued: queued.clone(),
    };
    (sender, FifoReceiver { rx, queued })
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
        self.tx.send(slot).await.map_err(|_| Closed)?;
        self.queued.set(self.queued.get() + 1);
        Ok(())
    }

    /// Whether `push` would go through without waiting.
    pub fn has_room(&self) -> bool {
        self.places.available() > 0
    }
}

impl FifoReceiver {
    /// The next entry; `None` once the sender is gone and all are taken.
    pub async fn pop(&self) -> Option<Slot> {
        let slot = self.rx.recv().await?;
        self.queued.set(self.queued.get().saturating_sub(1));
        Some(slot)
    }

    /// Whether an entry is queued, so `pop` would not wait.
    pub fn has_queued(&self) -> bool {
        self.queued.get() > 0
    }
}
