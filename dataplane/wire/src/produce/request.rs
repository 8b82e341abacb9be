//! What a Produce request writes where: its topics, partitions and the size
//! of each partition's records, read by a bounds-checked walk (the record
//! data itself is skipped, never copied).

use super::{walk_to_acks, FIRST_FLEXIBLE, FIRST_TOPIC_ID};
use crate::rewrite::tagged_walk::{Cursor, WalkResult};
use crate::WireError;

/// How a Produce request names a topic: by name before v13, by id after.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TopicRef {
    Name(String),
    Id([u8; 16]),
}

impl std::fmt::Display for TopicRef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            TopicRef::Name(name) => f.write_str(name),
            TopicRef::Id(id) => {
                f.write_str("topic id ")?;
                id.iter().try_for_each(|b| write!(f, "{b:02x}"))
            }
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProducedPartition {
    pub index: i32,
    /// Length of the partition's record data (all its batches together).
    pub records_bytes: usize,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProducedTopic {
    pub topic: TopicRef,
    pub partitions: Vec<ProducedPartition>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProduceSummary {
    pub acks: i16,
    pub topics: Vec<ProducedTopic>,
}

/// Walks a whole Produce request body (frame without prefix, header
/// included), any version from v0.
pub fn summarize_produce_request(
    body: &[u8],
    api_version: i16,
) -> Result<ProduceSummary, WireError> {
    let flex = api_version >= FIRST_FLEXIBLE;
    let mut c = Cursor::new(body);
    walk_to_acks(&mut c, api_version)?;
    let acks = c.i16("acks")?;
    c.skip(4, "timeout_ms")?;
    let count = c.array_len(flex, "topic_data")?;
    let mut topics = Vec::with_capacity(count);
    for _ in 0..count {
        topics.push(walk_topic(&mut c, api_version)?);
    }
    c.struct_tags(flex, "produce request tagged fields")?;
    Ok(ProduceSummary { acks, topics })
}

fn walk_topic(c: &mut Cursor<'_>, version: i16) -> WalkResult<ProducedTopic> {
    let flex = version >= FIRST_FLEXIBLE;
    let topic = if version >= FIRST_TOPIC_ID {
        let id = c.take(16, "topic_id")?;
        TopicRef::Id(
            id.try_into()
                .map_err(|_| WireError::Truncated("topic_id"))?,
        )
    } else {
        let name = c.string_bytes(flex, "topic name")?;
        let name = std::str::from_utf8(name)
            .map_err(|_| WireError::Malformed("topic name is not UTF-8".into()))?;
        TopicRef::Name(name.to_owned())
    };
    let count = c.array_len(flex, "partition_data")?;
    let mut partitions = Vec::with_capacity(count);
    for _ in 0..count {
        let index = c.i32("partition index")?;
        let records_bytes = c.bytes_len(flex, "records")?;
        c.struct_tags(flex, "partition tagged fields")?;
        partitions.push(ProducedPartition {
            index,
            records_bytes,
        });
    }
    c.struct_tags(flex, "topic tagged fields")?;
    Ok(ProducedTopic { topic, partitions })
}
