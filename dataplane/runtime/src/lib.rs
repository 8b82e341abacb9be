//! What sluice and its load tool share on their glommio executors: the byte
//! streams a connection runs over (plain TCP or TLS on either side) with the
//! split into a read and a write half that two futures of one connection
//! poll concurrently, the reader that cuts Kafka frames out of such a
//! stream, and the CPU lists executors are pinned by.

mod budget;
mod cpus;
mod frames;
mod halves;
mod read_buffer;
mod stream;

pub use budget::{ByteBudget, CoarseClock, OverBudget};
pub use cpus::{available_cpus, parse_cpu_list};
pub use frames::{FrameLimits, FrameReader, FrameStart, ReadError, ReadHooks};
pub use halves::{split, ReadHalf, WriteHalf};
pub use stream::Stream;
