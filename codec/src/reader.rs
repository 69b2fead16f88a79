//! A cursor over one whole packet: the primitives of the wire format, each checked.

use bytes::{Buf, Bytes, BytesMut};

use crate::error::DecodeError;
use crate::protocol::{Protocol, Statement};
use crate::small::SmallBytes;
use crate::str::Str;
use crate::varint::{read_varint, Varint};

/// The start and end of a field, as offsets from the first byte of its packet.
pub(crate) type Span = (usize, usize);

/// Reads the fields of the whole packet at the front of a `BytesMut` ([`Owned`]), or of a
/// borrowed slice ([`Borrowed`]) (fixed header included, so positions are offsets from the first
/// byte of the packet).
///
/// From a `BytesMut`, the packet is split off the buffer as a shared [`Bytes`] only when a field
/// must share it (a payload, a long string or binary field); packets that need no such field are
/// read in place and then skipped, without any reference-count operation. When the reader is
/// dropped, the packet has left the buffer, whether decoding succeeded or not. From a slice, a
/// field that must be shared copies the packet once.
pub(crate) struct Reader<'a, S: Source = Owned<'a>> {
    src: S,
    len: usize,
    pos: usize,
    done: bool,
    pub(crate) protocol: Protocol,
    _packet: std::marker::PhantomData<&'a [u8]>,
}

/// Where a [`Reader`]'s packet lives, and how fields are shared with it.
pub(crate) trait Source {
    /// The packet's bytes: the first `len` bytes of the source.
    fn data(&self, len: usize) -> &[u8];
    /// The packet as shared bytes, taken out (a later call to `data` is not made).
    fn take_frame(&mut self, len: usize) -> Bytes;
    /// The packet as shared bytes, made once and kept.
    fn frame(&mut self, len: usize) -> &Bytes;
    /// Reading ended without taking the frame: drop the packet from the source.
    fn skip(&mut self, len: usize);
}

/// A packet at the front of a `BytesMut`, split off as shared bytes when a field needs it.
pub(crate) enum Owned<'a> {
    /// At the front of the buffer, not yet split off.
    Buf(&'a mut BytesMut),
    /// Split off as shared bytes holding exactly the packet.
    Frame(Bytes),
}

impl Source for Owned<'_> {
    #[inline]
    fn data(&self, len: usize) -> &[u8] {
        match self {
            Owned::Buf(b) => &b[..len],
            Owned::Frame(f) => f,
        }
    }

    #[inline]
    fn take_frame(&mut self, len: usize) -> Bytes {
        match std::mem::replace(self, Owned::Frame(Bytes::new())) {
            Owned::Buf(b) => b.split_to(len).freeze(),
            Owned::Frame(f) => f,
        }
    }

    #[inline]
    fn frame(&mut self, len: usize) -> &Bytes {
        if let Owned::Buf(_) = self {
            let frame = self.take_frame(len);
            *self = Owned::Frame(frame);
        }
        match self {
            Owned::Frame(f) => f,
            Owned::Buf(_) => unreachable!(),
        }
    }

    #[inline]
    fn skip(&mut self, len: usize) {
        if let Owned::Buf(b) = self {
            b.advance(len);
        }
    }
}

/// A borrowed slice holding exactly one packet, copied once if a field must be shared.
pub(crate) struct Borrowed<'a> {
    packet: &'a [u8],
    copy: Option<Bytes>,
}

impl Source for Borrowed<'_> {
    #[inline(always)]
    fn data(&self, _len: usize) -> &[u8] {
        self.packet
    }

    #[inline]
    fn take_frame(&mut self, _len: usize) -> Bytes {
        match self.copy.take() {
            Some(f) => f,
            None => Bytes::copy_from_slice(self.packet),
        }
    }

    #[inline]
    fn frame(&mut self, _len: usize) -> &Bytes {
        self.copy
            .get_or_insert_with(|| Bytes::copy_from_slice(self.packet))
    }

    #[inline(always)]
    fn skip(&mut self, _len: usize) {}
}

impl<S: Source> Drop for Reader<'_, S> {
    #[inline]
    fn drop(&mut self) {
        if !self.done {
            self.src.skip(self.len);
        }
    }
}

impl<'a> Reader<'a> {
    /// A reader over the `len`-byte packet at the front of `src`, starting at `pos` (just after
    /// the fixed header).
    #[inline]
    pub(crate) fn new(src: &'a mut BytesMut, len: usize, pos: usize, protocol: Protocol) -> Self {
        debug_assert!(src.len() >= len);
        Reader {
            src: Owned::Buf(src),
            len,
            pos,
            done: false,
            protocol,
            _packet: std::marker::PhantomData,
        }
    }
}

impl<'a> Reader<'a, Borrowed<'a>> {
    /// A reader over `packet` (exactly one whole packet), starting at `pos`.
    #[inline]
    pub(crate) fn borrowed(packet: &'a [u8], pos: usize, protocol: Protocol) -> Self {
        Reader {
            src: Borrowed { packet, copy: None },
            len: packet.len(),
            pos,
            done: false,
            protocol,
            _packet: std::marker::PhantomData,
        }
    }
}

impl<S: Source> Reader<'_, S> {
    /// The packet's bytes.
    #[inline(always)]
    fn data(&self) -> &[u8] {
        self.src.data(self.len)
    }

    /// The packet as shared bytes, splitting it off the buffer (or copying the slice) the first
    /// time.
    #[inline]
    fn frame(&mut self) -> &Bytes {
        self.src.frame(self.len)
    }

    /// The whole packet.
    #[inline]
    pub(crate) fn packet(&self) -> &[u8] {
        self.data()
    }

    /// Current offset from the start of the packet.
    #[inline]
    pub(crate) fn pos(&self) -> usize {
        self.pos
    }

    /// Moves on to offset `pos`, past bytes checked by other means.
    #[inline]
    pub(crate) fn advance_to(&mut self, pos: usize) {
        debug_assert!(self.pos <= pos && pos <= self.len);
        self.pos = pos.min(self.len);
    }

    /// Bytes left in the packet.
    #[inline]
    pub(crate) fn remaining(&self) -> usize {
        self.len - self.pos
    }

    /// True if no bytes are left.
    #[inline]
    pub(crate) fn is_empty(&self) -> bool {
        self.pos >= self.len
    }

    #[cold]
    fn short(&self, what: &str, need: usize) -> DecodeError {
        DecodeError::malformed(
            self.pos,
            format!(
                "{what} needs {need} bytes but the packet has {} left",
                self.remaining()
            ),
        )
    }

    /// The next byte, if any, without reading it.
    #[inline]
    pub(crate) fn peek(&self) -> Option<u8> {
        self.data().get(self.pos).copied()
    }

    /// One byte.
    #[inline]
    pub(crate) fn u8(&mut self, what: &str) -> Result<u8, DecodeError> {
        match self.data().get(self.pos) {
            Some(&b) => {
                self.pos += 1;
                Ok(b)
            }
            None => Err(self.short(what, 1)),
        }
    }

    /// A Two Byte Integer.
    #[inline]
    pub(crate) fn u16(&mut self, what: &str) -> Result<u16, DecodeError> {
        match self.data().get(self.pos..self.pos + 2) {
            Some(b) => {
                let v = u16::from_be_bytes([b[0], b[1]]);
                self.pos += 2;
                Ok(v)
            }
            None => Err(self.short(what, 2)),
        }
    }

    /// A Four Byte Integer.
    #[inline]
    pub(crate) fn u32(&mut self, what: &str) -> Result<u32, DecodeError> {
        match self.data().get(self.pos..self.pos + 4) {
            Some(b) => {
                let v = u32::from_be_bytes([b[0], b[1], b[2], b[3]]);
                self.pos += 4;
                Ok(v)
            }
            None => Err(self.short(what, 4)),
        }
    }

    /// A Variable Byte Integer (5.0 [MQTT-1.5.5-1]: in the fewest bytes).
    #[inline]
    pub(crate) fn varint(&mut self, what: &str) -> Result<u32, DecodeError> {
        let start = self.pos;
        match read_varint(&self.data()[self.pos..]) {
            Varint::Value(v, n) => {
                self.pos += n;
                Ok(v)
            }
            Varint::Incomplete => Err(DecodeError::malformed(
                start,
                format!("{what}: Variable Byte Integer runs past the end of the packet"),
            )),
            Varint::TooLong => Err(DecodeError::malformed(
                start,
                format!("{what}: Variable Byte Integer longer than 4 bytes"),
            )),
            Varint::NotMinimal(v, _) => Err(DecodeError::malformed(
                start,
                format!("{what}: Variable Byte Integer {v} not encoded in the fewest bytes"),
            )
            .cite(&[Statement::v5("MQTT-1.5.5-1")])),
        }
    }

    /// The Two Byte Integer length of a string or binary field, checked against what is left;
    /// returns the field's start and end.
    #[inline]
    pub(crate) fn field(&mut self, what: &str) -> Result<(usize, usize), DecodeError> {
        let len = self.u16(what)? as usize;
        if self.remaining() < len {
            return Err(self.short(what, len));
        }
        let start = self.pos;
        self.pos += len;
        Ok((start, start + len))
    }

    /// Binary Data: a Two Byte Integer length and that many bytes, shared with the packet.
    #[inline]
    pub(crate) fn binary(&mut self, what: &str) -> Result<Bytes, DecodeError> {
        let (start, end) = self.field(what)?;
        Ok(self.share(start, end))
    }

    /// The bytes from `start` to `end` (a field already read), shared with the packet.
    #[inline]
    pub(crate) fn share(&mut self, start: usize, end: usize) -> Bytes {
        if start == end {
            return Bytes::new();
        }
        self.frame().slice(start..end)
    }

    /// The bytes from `start` to `end`, copied if short and shared if long.
    #[inline]
    pub(crate) fn small(&mut self, start: usize, end: usize) -> SmallBytes {
        match SmallBytes::inline_at(self.data(), start, end) {
            Some(s) => s,
            None => SmallBytes::Shared(self.frame().slice(start..end)),
        }
    }

    /// A UTF-8 Encoded String (3.1.1 section 1.5.3, 5.0 section 1.5.4): well-formed UTF-8 without
    /// surrogates, and without U+0000. `field` adds the statement that names this field.
    #[inline]
    pub(crate) fn string(&mut self, what: &str, field: &[Statement]) -> Result<Str, DecodeError> {
        let (start, end) = self.string_span(what, field)?;
        Ok(Str::from_checked(self.small(start, end)))
    }

    /// A string checked as by [`Reader::string`]: its start and end.
    #[inline]
    pub(crate) fn string_span(
        &mut self,
        what: &str,
        field: &[Statement],
    ) -> Result<Span, DecodeError> {
        let (start, end) = self.field(what)?;
        check_utf8(&self.data()[start..end], self.protocol, start, what, field)?;
        Ok((start, end))
    }

    /// A string whose bytes are only checked, not kept.
    #[inline]
    pub(crate) fn skip_string(
        &mut self,
        what: &str,
        field: &[Statement],
    ) -> Result<(), DecodeError> {
        self.string_span(what, field).map(drop)
    }

    /// A topic name or filter: a string whose U+0000 also breaks 3.1.1 and 5.0 [MQTT-4.7.3-2].
    #[inline]
    pub(crate) fn topic_string(
        &mut self,
        what: &str,
        field: &[Statement],
    ) -> Result<Str, DecodeError> {
        let (start, end) = self.topic_span(what, field)?;
        Ok(Str::from_checked(self.small(start, end)))
    }

    /// A topic name or filter checked as by [`Reader::topic_string`]: its start and end.
    #[inline]
    pub(crate) fn topic_span(
        &mut self,
        what: &str,
        field: &[Statement],
    ) -> Result<Span, DecodeError> {
        let (start, end) = self.field(what)?;
        let bytes = &self.data()[start..end];
        if !is_plain_ascii(bytes) {
            if let Some(i) = bytes.iter().position(|&b| b == 0) {
                return Err(DecodeError::malformed(start + i, format!("{what} contains U+0000"))
                    .cite(crate::stmts!(self.protocol, v311: ["MQTT-1.5.3-2", "MQTT-4.7.3-2"], v5: ["MQTT-1.5.4-2", "MQTT-4.7.3-2"]))
                    .cite(field));
            }
            check_utf8(bytes, self.protocol, start, what, field)?;
        }
        Ok((start, end))
    }

    /// The string from `start` to `end`, a field already checked as a string.
    #[inline]
    pub(crate) fn str(&self, (start, end): Span) -> &str {
        crate::str::checked(self.bytes(start, end))
    }

    /// The raw bytes of a field already read, from `start` to `end`.
    #[inline]
    pub(crate) fn bytes(&self, start: usize, end: usize) -> &[u8] {
        &self.data()[start..end]
    }

    /// Everything left in the packet, shared, and the end of reading.
    #[inline]
    pub(crate) fn rest(mut self) -> Bytes {
        self.done = true;
        let pos = self.pos;
        if pos == self.len {
            self.src.skip(self.len);
            return Bytes::new();
        }
        let mut frame = self.src.take_frame(self.len);
        frame.advance(pos);
        frame
    }

    /// The bytes from `start` (a field already read) to the end of the packet, shared, and the
    /// end of reading: a last Binary Data field without a second share of the packet.
    #[inline]
    pub(crate) fn rest_from(mut self, start: usize) -> Bytes {
        debug_assert!(start <= self.pos);
        self.pos = start;
        self.rest()
    }

    /// Fails if bytes are left over after the last field.
    #[inline]
    pub(crate) fn finish(&self, packet: &str) -> Result<(), DecodeError> {
        if self.is_empty() {
            Ok(())
        } else {
            Err(DecodeError::malformed(
                self.pos,
                format!(
                    "{} unexpected trailing bytes after the end of {packet}",
                    self.remaining()
                ),
            ))
        }
    }
}

/// True if `bytes` holds only ASCII other than U+0000: then it is valid
/// UTF-8 free of U+0000, the common case.
#[inline]
pub(crate) fn is_plain_ascii(bytes: &[u8]) -> bool {
    crate::scan::plain(bytes)
}

/// Checks MQTT's string rules on `bytes`, which start at `offset` in the packet.
#[inline]
pub(crate) fn check_utf8(
    bytes: &[u8],
    protocol: Protocol,
    offset: usize,
    what: &str,
    field: &[Statement],
) -> Result<(), DecodeError> {
    if is_plain_ascii(bytes) {
        return Ok(());
    }
    check_utf8_slow(bytes, protocol, offset, what, field)
}

#[cold]
fn check_utf8_slow(
    bytes: &[u8],
    protocol: Protocol,
    offset: usize,
    what: &str,
    field: &[Statement],
) -> Result<(), DecodeError> {
    if let Err(e) = std::str::from_utf8(bytes) {
        // Rust's UTF-8 check also rejects encoded surrogates (U+D800..U+DFFF) and overlong forms.
        return Err(DecodeError::malformed(
            offset + e.valid_up_to(),
            format!("{what} is not well-formed UTF-8"),
        )
        .cite(crate::stmts!(protocol, v311: ["MQTT-1.5.3-1"], v5: ["MQTT-1.5.4-1"]))
        .cite(field));
    }
    if let Some(i) = bytes.iter().position(|&b| b == 0) {
        return Err(
            DecodeError::malformed(offset + i, format!("{what} contains U+0000"))
                .cite(crate::stmts!(protocol, v311: ["MQTT-1.5.3-2"], v5: ["MQTT-1.5.4-2"]))
                .cite(field),
        );
    }
    Ok(())
}

/// The length-prefixed field at `pos` in a checked `packet` (a string or binary field, or a topic
/// filter of a list whose filters are each followed by `extra` bytes: 1 for the Subscription
/// Options, else 0): its span, the byte after it (0 if `extra` is 0) and the offset of the next
/// field. `None` past the end. For walks over fields the decoder has already checked.
#[inline]
pub(crate) fn next_field(packet: &[u8], pos: usize, extra: usize) -> Option<(Span, u8, usize)> {
    let len = packet.get(pos..pos + 2)?;
    let start = pos + 2;
    let end = start + u16::from_be_bytes([len[0], len[1]]) as usize;
    let byte = if extra == 0 { 0 } else { *packet.get(end)? };
    Some(((start, end), byte, end + extra))
}
