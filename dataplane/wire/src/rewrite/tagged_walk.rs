//! Checked, allocation-free reads over untrusted Kafka bytes.
//!
//! Two jobs depend on this cursor. The hot path walks Produce and Fetch
//! responses to their top-level tagged fields without looking at record
//! data. And before any message is handed to kafka-protocol, its structure is
//! walked here first: the crate sizes `Vec`s from the declared array length
//! before reading a single element, so a forged count of 2^31 would make it
//! allocate gigabytes and abort. After a successful walk every count is
//! bounded by the bytes that are really there, and every known tagged field
//! is known to span exactly its declared size (the crate decodes those from
//! the main buffer and ignores the size).

use crate::WireError;

/// Result of every read: `Truncated` names the field that ran out of bytes.
pub(crate) type WalkResult<T> = Result<T, WireError>;

#[derive(Clone, Copy)]
pub(crate) struct Cursor<'a> {
    rest: &'a [u8],
}

impl<'a> Cursor<'a> {
    pub(crate) fn new(buf: &'a [u8]) -> Self {
        Cursor { rest: buf }
    }

    pub(crate) fn remaining(&self) -> usize {
        self.rest.len()
    }

    pub(crate) fn take(&mut self, n: usize, what: &'static str) -> WalkResult<&'a [u8]> {
        let (head, tail) = self
            .rest
            .split_at_checked(n)
            .ok_or(WireError::Truncated(what))?;
        self.rest = tail;
        Ok(head)
    }

    pub(crate) fn skip(&mut self, n: usize, what: &'static str) -> WalkResult<()> {
        self.take(n, what).map(|_| ())
    }

    fn fixed<const N: usize>(&mut self, what: &'static str) -> WalkResult<[u8; N]> {
        let (head, tail) = self
            .rest
            .split_first_chunk::<N>()
            .ok_or(WireError::Truncated(what))?;
        self.rest = tail;
        Ok(*head)
    }

    pub(crate) fn u8(&mut self, what: &'static str) -> WalkResult<u8> {
        self.fixed::<1>(what).map(|[b]| b)
    }

    pub(crate) fn i16(&mut self, what: &'static str) -> WalkResult<i16> {
        self.fixed(what).map(i16::from_be_bytes)
    }

    pub(crate) fn i32(&mut self, what: &'static str) -> WalkResult<i32> {
        self.fixed(what).map(i32::from_be_bytes)
    }

    /// Unsigned varint as Kafka writes it: at most 5 bytes. Longer ones, and
    /// a fifth byte with bits beyond 32, are rejected rather than truncated
    /// silently (which is what kafka-protocol would do), so the walk and the
    /// crate never disagree about a value.
    pub(crate) fn uvarint(&mut self, what: &'static str) -> WalkResult<u32> {
        let mut value: u32 = 0;
        for shift in [0u32, 7, 14, 21, 28] {
            let byte = self.u8(what)?;
            if shift == 28 && byte > 0x0f {
                return Err(WireError::Malformed(format!(
                    "varint in {what} is longer than 32 bits"
                )));
            }
            value |= u32::from(byte & 0x7f) << shift;
            if byte & 0x80 == 0 {
                return Ok(value);
            }
        }
        Err(WireError::Malformed(format!(
            "varint in {what} is longer than 32 bits"
        )))
    }

    /// Length of a nullable, length-prefixed item (string, bytes, array);
    /// null counts as 0. `flexible` selects the compact (varint + 1) form.
    fn length(&mut self, flexible: bool, wide: bool, what: &'static str) -> WalkResult<usize> {
        if flexible {
            let n = self.uvarint(what)?;
            return Ok(usize::try_from(n.saturating_sub(1)).unwrap_or(usize::MAX));
        }
        let n = if wide {
            self.i32(what)?
        } else {
            i32::from(self.i16(what)?)
        };
        match n {
            -1 => Ok(0),
            n => usize::try_from(n)
                .map_err(|_| WireError::Malformed(format!("negative length {n} for {what}"))),
        }
    }

    /// A STRING / COMPACT_STRING, nullable or not.
    pub(crate) fn string(&mut self, flexible: bool, what: &'static str) -> WalkResult<()> {
        let len = self.length(flexible, false, what)?;
        self.skip(len, what)
    }

    /// A STRING / COMPACT_STRING's bytes (empty for null).
    pub(crate) fn string_bytes(
        &mut self,
        flexible: bool,
        what: &'static str,
    ) -> WalkResult<&'a [u8]> {
        let len = self.length(flexible, false, what)?;
        self.take(len, what)
    }

    /// A BYTES / COMPACT_BYTES (record data included), skipped by its length.
    pub(crate) fn bytes(&mut self, flexible: bool, what: &'static str) -> WalkResult<()> {
        self.bytes_len(flexible, what).map(|_| ())
    }

    /// Like [`Cursor::bytes`], returning how many bytes were skipped.
    pub(crate) fn bytes_len(&mut self, flexible: bool, what: &'static str) -> WalkResult<usize> {
        let len = self.bytes_prefix(flexible, what)?;
        self.skip(len, what)?;
        Ok(len)
    }

    /// Only the length prefix of a BYTES / COMPACT_BYTES: the content
    /// (record data) is left for the caller, who may not have it yet.
    pub(crate) fn bytes_prefix(&mut self, flexible: bool, what: &'static str) -> WalkResult<usize> {
        self.length(flexible, true, what)
    }

    /// Element count of an ARRAY / COMPACT_ARRAY. Every element takes at
    /// least one byte on the wire, so a count above the remaining bytes is a
    /// lie; refusing it here is what bounds kafka-protocol's allocations.
    pub(crate) fn array_len(&mut self, flexible: bool, what: &'static str) -> WalkResult<usize> {
        let count = self.length(flexible, true, what)?;
        if count > self.remaining() {
            return Err(WireError::Truncated(what));
        }
        Ok(count)
    }

    pub(crate) fn array(
        &mut self,
        flexible: bool,
        what: &'static str,
        mut each: impl FnMut(&mut Cursor<'a>) -> WalkResult<()>,
    ) -> WalkResult<()> {
        for _ in 0..self.array_len(flexible, what)? {
            each(self)?;
        }
        Ok(())
    }

    /// An array of INT32 (replica lists and the like).
    pub(crate) fn i32_array(&mut self, flexible: bool, what: &'static str) -> WalkResult<()> {
        let count = self.array_len(flexible, what)?;
        self.skip(count.saturating_mul(4), what)
    }

    /// A tagged-field section. `known` is called with each tag and a cursor
    /// over exactly that field's bytes; it returns `true` when it walked the
    /// field, which must then have consumed all of them.
    pub(crate) fn tagged_fields(
        &mut self,
        what: &'static str,
        mut known: impl FnMut(u32, &mut Cursor<'a>) -> WalkResult<bool>,
    ) -> WalkResult<()> {
        let count = self.uvarint(what)?;
        // Each field is at least two bytes (tag and size).
        if usize::try_from(count).unwrap_or(usize::MAX) > self.remaining() {
            return Err(WireError::Truncated(what));
        }
        for _ in 0..count {
            let tag = self.uvarint(what)?;
            // kafka-protocol keys unknown tags by i32; a tag that does not
            // fit would be dropped on re-encode while still being counted.
            if i32::try_from(tag).is_err() {
                return Err(WireError::Malformed(format!(
                    "tag {tag} in {what} is too large"
                )));
            }
            let size = self.uvarint(what)?;
            let size = usize::try_from(size).unwrap_or(usize::MAX);
            let mut field = Cursor::new(self.take(size, what)?);
            if known(tag, &mut field)? && field.remaining() != 0 {
                return Err(WireError::Malformed(format!(
                    "tagged field {tag} in {what} is longer than its content"
                )));
            }
        }
        Ok(())
    }

    /// A tagged-field section in which no tag is known to kafka-protocol.
    pub(crate) fn skip_tagged_fields(&mut self, what: &'static str) -> WalkResult<()> {
        self.tagged_fields(what, |_, _| Ok(false))
    }

    /// The tagged fields of a struct in a flexible version; nothing otherwise.
    pub(crate) fn struct_tags(&mut self, flexible: bool, what: &'static str) -> WalkResult<()> {
        if flexible {
            self.skip_tagged_fields(what)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn varints() {
        assert_eq!(Cursor::new(&[0x00]).uvarint("v"), Ok(0));
        assert_eq!(Cursor::new(&[0x96, 0x01]).uvarint("v"), Ok(150));
        let max = [0xff, 0xff, 0xff, 0xff, 0x0f];
        assert_eq!(Cursor::new(&max).uvarint("v"), Ok(u32::MAX));
        let too_long = [0xff, 0xff, 0xff, 0xff, 0x1f];
        assert!(matches!(
            Cursor::new(&too_long).uvarint("v"),
            Err(WireError::Malformed(_))
        ));
        assert_eq!(
            Cursor::new(&[0x80, 0x80]).uvarint("v"),
            Err(WireError::Truncated("v"))
        );
    }

    #[test]
    fn lengths() {
        let mut c = Cursor::new(&[0xff, 0xff, 0, 1, b'x']);
        c.string(false, "s").unwrap();
        c.string(false, "s").unwrap();
        assert_eq!(c.remaining(), 0);
        assert!(matches!(
            Cursor::new(&[0xff, 0xfe]).string(false, "s"),
            Err(WireError::Malformed(_))
        ));
        // An array claiming more elements than there are bytes.
        assert_eq!(
            Cursor::new(&[0, 0, 0, 9, 1, 2]).array_len(false, "a"),
            Err(WireError::Truncated("a"))
        );
        assert_eq!(Cursor::new(&[0]).array_len(true, "a"), Ok(0));
    }

    #[test]
    fn tagged_field_must_span_its_size() {
        // One field, tag 0, size 3, but the known walker reads only 2.
        let buf = [1, 0, 3, 0, 1, 2];
        let res = Cursor::new(&buf).tagged_fields("t", |_, c| c.skip(2, "x").map(|_| true));
        assert!(matches!(res, Err(WireError::Malformed(_))));
        let res = Cursor::new(&buf).tagged_fields("t", |_, _| Ok(false));
        assert_eq!(res, Ok(()));
    }
}
