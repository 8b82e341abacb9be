//! The bytes one shard may hold in frames it is still receiving, shared by
//! that shard's connections. A counter, not a lock: every connection of a
//! shard runs on its one thread. A frame reserves its length before the
//! buffer grows to hold it; a connection whose next frame does not fit waits
//! (stops reading, so TCP pushes back on its client) until others release.

use std::cell::{Cell, RefCell};
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll, Waker};
use std::time::Instant;

/// A frame longer than the whole budget: it could never be held.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("a {len}-byte frame is larger than the shard's whole frame budget of {capacity} bytes")]
pub struct OverBudget {
    pub len: usize,
    pub capacity: usize,
}

pub struct ByteBudget {
    capacity: usize,
    used: Cell<usize>,
    waiters: RefCell<Vec<Waker>>,
    /// Reservations that had to wait, since start.
    waits: Cell<u64>,
}

impl ByteBudget {
    pub fn new(capacity: usize) -> Self {
        ByteBudget {
            capacity,
            used: Cell::new(0),
            waiters: RefCell::new(Vec::new()),
            waits: Cell::new(0),
        }
    }

    pub fn capacity(&self) -> usize {
        self.capacity
    }

    pub fn used(&self) -> usize {
        self.used.get()
    }

    pub fn waits(&self) -> u64 {
        self.waits.get()
    }

    /// Takes `len` bytes, waiting while they do not fit.
    pub fn reserve(&self, len: usize) -> Reserve<'_> {
        Reserve {
            budget: self,
            len,
            counted: false,
        }
    }

    pub fn release(&self, len: usize) {
        self.used.set(self.used.get().saturating_sub(len));
        // Everyone waiting looks again: a waiter whose frame still does not
        // fit just registers anew.
        for waker in self.waiters.borrow_mut().drain(..) {
            waker.wake();
        }
    }

    fn try_take(&self, len: usize) -> bool {
        let fits = self.used.get().saturating_add(len) <= self.capacity;
        if fits {
            self.used.set(self.used.get() + len);
        }
        fits
    }
}

/// The future of [`ByteBudget::reserve`].
pub struct Reserve<'a> {
    budget: &'a ByteBudget,
    len: usize,
    counted: bool,
}

impl Future for Reserve<'_> {
    type Output = Result<(), OverBudget>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let budget = self.budget;
        if self.len > budget.capacity {
            return Poll::Ready(Err(OverBudget {
                len: self.len,
                capacity: budget.capacity,
            }));
        }
        if budget.try_take(self.len) {
            return Poll::Ready(Ok(()));
        }
        if !self.counted {
            self.counted = true;
            budget.waits.set(budget.waits.get() + 1);
        }
        budget.waiters.borrow_mut().push(cx.waker().clone());
        Poll::Pending
    }
}

/// A clock read once a tick by the shard rather than once per event: the
/// instants connections stamp on the hot path (frame started, request
/// sent) cost a load, not a clock call, and are as precise as the sweep
/// that reads them.
#[derive(Debug)]
pub struct CoarseClock(Cell<Instant>);

impl Default for CoarseClock {
    fn default() -> Self {
        CoarseClock(Cell::new(Instant::now()))
    }
}

impl CoarseClock {
    pub fn now(&self) -> Instant {
        self.0.get()
    }

    /// Reads the real clock; returns the new time.
    pub fn tick(&self) -> Instant {
        let now = Instant::now();
        self.0.set(now);
        now
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use futures_lite::future::{block_on, poll_once};

    #[test]
    fn a_frame_that_does_not_fit_waits_for_a_release() {
        let budget = ByteBudget::new(100);
        block_on(budget.reserve(60)).unwrap();
        let mut second = Box::pin(budget.reserve(60));
        assert!(block_on(poll_once(&mut second)).is_none());
        assert_eq!(budget.waits(), 1);
        budget.release(60);
        assert_eq!(block_on(poll_once(&mut second)), Some(Ok(())));
        assert_eq!(budget.used(), 60);
        assert_eq!(budget.waits(), 1, "a wait is counted once");
    }

    #[test]
    fn a_frame_larger_than_the_budget_is_refused() {
        let budget = ByteBudget::new(100);
        let err = block_on(budget.reserve(101)).unwrap_err();
        assert_eq!(
            err,
            OverBudget {
                len: 101,
                capacity: 100
            }
        );
        assert_eq!(budget.used(), 0);
    }
}
