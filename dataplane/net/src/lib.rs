//! The byte streams sluice (and its load tool) run over on a glommio
//! executor: plain TCP or TLS on either side, and the split into a read and
//! a write half that two futures of one connection poll concurrently.

mod halves;
mod stream;

pub use halves::{split, ReadHalf, WriteHalf};
pub use stream::Stream;
