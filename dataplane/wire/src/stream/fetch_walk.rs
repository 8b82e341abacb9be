//! A Fetch response (v16+) walked piece by piece as its bytes arrive. Each
//! step looks at the bytes not yet forwarded and says how many may go: the
//! small structures around record data are walked (and so checked) before
//! they are forwarded, record data is forwarded unread, and the walk stops
//! at the top-level tagged fields, the only part that may need rewriting.

use crate::rewrite::fetch::{walk_partition_head, walk_partition_tags};
use crate::rewrite::tagged_walk::{Cursor, WalkResult};
use crate::WireError;

/// What the caller does next.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    /// The first `n` bytes given are walked: forward them.
    Forward(usize),
    /// The next `n` bytes are record data: forward them unread (they need
    /// not be buffered yet).
    Records(usize),
    /// The bytes given end inside a structure: call again with more.
    NeedMore,
    /// Everything before the top-level tagged fields is walked; the rest of
    /// the frame is those fields (see `rewrite_fetch_trailer`).
    Trailer,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Stage {
    Header,
    Topic,
    Partition,
    Records(usize),
    PartitionTags,
    TopicTags,
    Trailer,
}

/// Progress through one Fetch response body (after the length prefix).
#[derive(Debug, Clone)]
pub struct FetchWalk {
    version: i16,
    stage: Stage,
    topics_left: usize,
    partitions_left: usize,
}

impl FetchWalk {
    /// For a flexible Fetch response with topic ids (v13+; streaming is
    /// only asked for v16+).
    pub fn new(version: i16) -> Self {
        FetchWalk {
            version,
            stage: Stage::Header,
            topics_left: 0,
            partitions_left: 0,
        }
    }

    /// One step over `data`, the next bytes of the frame not yet forwarded
    /// (and none past the frame's end). A structure that cannot be walked
    /// in full is `NeedMore`; the caller turns that into an error when
    /// `data` already reaches the end of the frame.
    pub fn step(&mut self, data: &[u8]) -> Result<Step, WireError> {
        if let Stage::Records(n) = self.stage {
            self.stage = Stage::PartitionTags;
            return Ok(Step::Records(n));
        }
        if self.stage == Stage::Trailer {
            return Ok(Step::Trailer);
        }
        let mut c = Cursor::new(data);
        match self.walk_stage(&mut c) {
            Ok(next) => {
                self.stage = next;
                Ok(Step::Forward(data.len() - c.remaining()))
            }
            Err(WireError::Truncated(_)) => Ok(Step::NeedMore),
            Err(e) => Err(e),
        }
    }

    /// Walks the structure of the current stage; returns the next stage.
    fn walk_stage(&mut self, c: &mut Cursor<'_>) -> WalkResult<Stage> {
        let v = self.version;
        match self.stage {
            Stage::Header => {
                c.skip(4, "response correlation_id")?;
                c.skip_tagged_fields("response header tagged fields")?;
                c.skip(4 + 2 + 4, "throttle_time_ms, error_code and session_id")?;
                self.topics_left = c.array_len(true, "responses")?;
                Ok(self.after_topic())
            }
            Stage::Topic => {
                c.skip(16, "topic_id")?;
                self.partitions_left = c.array_len(true, "partitions")?;
                Ok(self.after_partition())
            }
            Stage::Partition => Ok(Stage::Records(walk_partition_head(c, v)?)),
            Stage::PartitionTags => {
                walk_partition_tags(c, v)?;
                self.partitions_left -= 1;
                Ok(self.after_partition())
            }
            Stage::TopicTags => {
                c.skip_tagged_fields("topic tagged fields")?;
                self.topics_left -= 1;
                Ok(self.after_topic())
            }
            Stage::Records(_) | Stage::Trailer => Ok(self.stage),
        }
    }

    fn after_topic(&self) -> Stage {
        if self.topics_left == 0 {
            Stage::Trailer
        } else {
            Stage::Topic
        }
    }

    fn after_partition(&self) -> Stage {
        if self.partitions_left == 0 {
            Stage::TopicTags
        } else {
            Stage::Partition
        }
    }
}
