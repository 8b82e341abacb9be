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

/// A topic as the request names it, borrowed from the request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TopicKey<'a> {
    Name(&'a str),
    Id([u8; 16]),
}

impl TopicKey<'_> {
    pub fn to_topic_ref(self) -> TopicRef {
        match self {
            TopicKey::Name(name) => TopicRef::Name(name.to_owned()),
            TopicKey::Id(id) => TopicRef::Id(id),
        }
    }
}

impl TopicRef {
    pub fn key(&self) -> TopicKey<'_> {
        match self {
            TopicRef::Name(name) => TopicKey::Name(name),
            TopicRef::Id(id) => TopicKey::Id(*id),
        }
    }
}

impl std::fmt::Display for TopicKey<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            TopicKey::Name(name) => f.write_str(name),
            TopicKey::Id(id) => {
                f.write_str("topic id ")?;
                id.iter().try_for_each(|b| write!(f, "{b:02x}"))
            }
        }
    }
}

impl std::fmt::Display for TopicRef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.key().fmt(f)
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

/// One step of [`walk_produce_request`]: a topic, then its partitions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ProduceItem<'a> {
    Topic(TopicKey<'a>),
    Partition(ProducedPartition),
}

/// Walks a whole Produce request body (frame without prefix, header
/// included), any version from v0, handing every topic and then each of
/// its partitions to `visit` in request order; returns `acks`. Allocates
/// nothing: the counts in the request are never trusted to size memory.
pub fn walk_produce_request<'a>(
    body: &'a [u8],
    api_version: i16,
    mut visit: impl FnMut(ProduceItem<'a>),
) -> Result<i16, WireError> {
    let flex = api_version >= FIRST_FLEXIBLE;
    let mut c = Cursor::new(body);
    walk_to_acks(&mut c, api_version)?;
    let acks = c.i16("acks")?;
    c.skip(4, "timeout_ms")?;
    let count = c.array_len(flex, "topic_data")?;
    for _ in 0..count {
        walk_topic(&mut c, api_version, &mut visit)?;
    }
    c.struct_tags(flex, "produce request tagged fields")?;
    Ok(acks)
}

/// The whole request as owned data (for answering it), built by
/// [`walk_produce_request`]; memory grows with the entries really there.
pub fn summarize_produce_request(
    body: &[u8],
    api_version: i16,
) -> Result<ProduceSummary, WireError> {
    let mut topics: Vec<ProducedTopic> = Vec::new();
    let acks = walk_produce_request(body, api_version, |item| match item {
        ProduceItem::Topic(key) => topics.push(ProducedTopic {
            topic: key.to_topic_ref(),
            partitions: Vec::new(),
        }),
        ProduceItem::Partition(partition) => {
            if let Some(topic) = topics.last_mut() {
                topic.partitions.push(partition);
            }
        }
    })?;
    Ok(ProduceSummary { acks, topics })
}

fn walk_topic<'a>(
    c: &mut Cursor<'a>,
    version: i16,
    visit: &mut impl FnMut(ProduceItem<'a>),
) -> WalkResult<()> {
    let flex = version >= FIRST_FLEXIBLE;
    let topic = if version >= FIRST_TOPIC_ID {
        let id = c.take(16, "topic_id")?;
        TopicKey::Id(
            id.try_into()
                .map_err(|_| WireError::Truncated("topic_id"))?,
        )
    } else {
        let name = c.string_bytes(flex, "topic name")?;
        let name = std::str::from_utf8(name)
            .map_err(|_| WireError::Malformed("topic name is not UTF-8".into()))?;
        TopicKey::Name(name)
    };
    visit(ProduceItem::Topic(topic));
    let count = c.array_len(flex, "partition_data")?;
    for _ in 0..count {
        let index = c.i32("partition index")?;
        let records_bytes = c.bytes_len(flex, "records")?;
        c.struct_tags(flex, "partition tagged fields")?;
        visit(ProduceItem::Partition(ProducedPartition {
            index,
            records_bytes,
        }));
    }
    c.struct_tags(flex, "topic tagged fields")?;
    Ok(())
}
