//! Listener port lists: `19092` and `"19093-19096"` entries.

use std::fmt;

use serde::de::{self, Visitor};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// An inclusive range of TCP ports; a single port has `start == end`.
///
/// The type can hold port 0 and inverted ranges so that [`validate`] can
/// report them with their path instead of serde stopping at the first one.
///
/// [`validate`]: crate::config::validate
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct PortRange {
    pub start: u16,
    pub end: u16,
}

impl PortRange {
    pub fn new(start: u16, end: u16) -> Self {
        Self { start, end }
    }

    pub fn single(port: u16) -> Self {
        Self::new(port, port)
    }

    /// Ports 1-65535 with `start <= end`.
    pub fn is_valid(&self) -> bool {
        self.start >= 1 && self.start <= self.end
    }

    pub fn contains(&self, port: u16) -> bool {
        self.start <= port && port <= self.end
    }

    /// The ports both ranges share, if any.
    pub fn intersection(&self, other: &PortRange) -> Option<PortRange> {
        let start = self.start.max(other.start);
        let end = self.end.min(other.end);
        (start <= end).then_some(PortRange::new(start, end))
    }

    /// "port 9092" or "ports 9092-9095", for messages.
    pub fn describe(&self) -> String {
        if self.start == self.end {
            format!("port {self}")
        } else {
            format!("ports {self}")
        }
    }
}

impl fmt::Display for PortRange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.start == self.end {
            write!(f, "{}", self.start)
        } else {
            write!(f, "{}-{}", self.start, self.end)
        }
    }
}

/// Parses `"9092"` or `"9092-9095"`; the error says what to write instead.
fn parse_range(text: &str) -> Result<PortRange, String> {
    let hint = "write a port number or a range like \"9092-9095\"";
    let (first, last) = match text.split_once('-') {
        Some((first, last)) => (first.trim(), last.trim()),
        None => (text.trim(), text.trim()),
    };
    let parse = |part: &str| -> Result<u16, String> {
        let number: u64 = part
            .parse()
            .map_err(|_| format!("invalid port range \"{text}\"; {hint}"))?;
        u16::try_from(number).map_err(|_| format!("port {number} is out of range 1-65535"))
    };
    Ok(PortRange::new(parse(first)?, parse(last)?))
}

impl Serialize for PortRange {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        if self.start == self.end {
            serializer.serialize_u16(self.start)
        } else {
            serializer.serialize_str(&self.to_string())
        }
    }
}

struct PortRangeVisitor;

impl Visitor<'_> for PortRangeVisitor {
    type Value = PortRange;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a port number or a range string like \"9092-9095\"")
    }

    fn visit_u64<E: de::Error>(self, value: u64) -> Result<PortRange, E> {
        u16::try_from(value)
            .map(PortRange::single)
            .map_err(|_| E::custom(format!("port {value} is out of range 1-65535")))
    }

    fn visit_i64<E: de::Error>(self, value: i64) -> Result<PortRange, E> {
        match u64::try_from(value) {
            Ok(value) => self.visit_u64(value),
            Err(_) => Err(E::custom(format!("port {value} is out of range 1-65535"))),
        }
    }

    fn visit_str<E: de::Error>(self, value: &str) -> Result<PortRange, E> {
        parse_range(value).map_err(E::custom)
    }
}

impl<'de> Deserialize<'de> for PortRange {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(PortRangeVisitor)
    }
}

/// A listener's ports, sorted and merged, for lookups on the connection path.
///
/// Invalid ranges (port 0, inverted) are left out; a validated config has none.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ListenerPorts {
    ranges: Vec<PortRange>,
}

impl ListenerPorts {
    pub fn new(ranges: &[PortRange]) -> Self {
        let mut sorted: Vec<PortRange> =
            ranges.iter().copied().filter(PortRange::is_valid).collect();
        sorted.sort();
        let mut merged: Vec<PortRange> = Vec::with_capacity(sorted.len());
        for range in sorted {
            match merged.last_mut() {
                Some(last) if u32::from(range.start) <= u32::from(last.end) + 1 => {
                    last.end = last.end.max(range.end);
                }
                _ => merged.push(range),
            }
        }
        Self { ranges: merged }
    }

    /// The lowest port: the bootstrap port with `bootstrap_port: at_start`.
    pub fn first_port(&self) -> Option<u16> {
        self.ranges.first().map(|range| range.start)
    }

    pub fn contains(&self, port: u16) -> bool {
        self.ranges.iter().any(|range| range.contains(port))
    }

    /// Every port, ascending, each once.
    pub fn ports(&self) -> impl Iterator<Item = u16> + '_ {
        self.ranges.iter().flat_map(|range| range.start..=range.end)
    }

    pub fn sorted_ports(&self) -> Vec<u16> {
        self.ports().collect()
    }

    pub fn len(&self) -> usize {
        self.ranges
            .iter()
            .map(|range| usize::from(range.end - range.start) + 1)
            .sum()
    }

    pub fn is_empty(&self) -> bool {
        self.ranges.is_empty()
    }

    /// The merged, ascending ranges.
    pub fn ranges(&self) -> &[PortRange] {
        &self.ranges
    }
}

impl fmt::Display for ListenerPorts {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.ranges.is_empty() {
            return f.write_str("(none)");
        }
        for (i, range) in self.ranges.iter().enumerate() {
            if i > 0 {
                f.write_str(", ")?;
            }
            write!(f, "{range}")?;
        }
        Ok(())
    }
}
