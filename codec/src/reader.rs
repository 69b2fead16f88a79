//! A cursor over one whole packet: the primitives of the wire format, each checked.

use bytes::{Buf, Bytes};

use crate::error::DecodeError;
use crate::protocol::{Protocol, Statement};
use crate::str::Str;
use crate::varint::{read_varint, Varint};

/// Reads fields from a packet held in one [`Bytes`] (fixed header included, so positions are
/// offsets from the first byte of the packet). Slices it returns share the packet's buffer.
pub(crate) struct Reader {
    frame: Bytes,
    pos: usize,
    pub(crate) protocol: Protocol,
}

impl Reader {
    /// A reader over `frame`, starting at `pos` (just after the fixed header).
    #[inline]
    pub(crate) fn new(frame: Bytes, pos: usize, protocol: Protocol) -> Self {
        Reader {
            frame,
            pos,
            protocol,
        }
    }

    /// Current offset from the start of the packet.
    #[inline]
    pub(crate) fn pos(&self) -> usize {
        self.pos
    }

    /// Bytes left in the packet.
    #[inline]
    pub(crate) fn remaining(&self) -> usize {
        self.frame.len() - self.pos
    }

    /// True if no bytes are left.
    #[inline]
    pub(crate) fn is_empty(&self) -> bool {
        self.pos >= self.frame.len()
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

    /// One byte.
    #[inline]
    pub(crate) fn u8(&mut self, what: &str) -> Result<u8, DecodeError> {
        match self.frame.get(self.pos) {
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
        match self.frame.get(self.pos..self.pos + 2) {
            Some(b) => {
                self.pos += 2;
                Ok(u16::from_be_bytes([b[0], b[1]]))
            }
            None => Err(self.short(what, 2)),
        }
    }

    /// A Four Byte Integer.
    #[inline]
    pub(crate) fn u32(&mut self, what: &str) -> Result<u32, DecodeError> {
        match self.frame.get(self.pos..self.pos + 4) {
            Some(b) => {
                self.pos += 4;
                Ok(u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
            }
            None => Err(self.short(what, 4)),
        }
    }

    /// A Variable Byte Integer (5.0 [MQTT-1.5.5-1]: in the fewest bytes).
    #[inline]
    pub(crate) fn varint(&mut self, what: &str) -> Result<u32, DecodeError> {
        let start = self.pos;
        match read_varint(&self.frame[self.pos..]) {
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

    /// `n` raw bytes, shared with the packet.
    #[inline]
    pub(crate) fn take(&mut self, n: usize, what: &str) -> Result<Bytes, DecodeError> {
        if self.remaining() < n {
            return Err(self.short(what, n));
        }
        let b = self.frame.slice(self.pos..self.pos + n);
        self.pos += n;
        Ok(b)
    }

    /// Binary Data: a Two Byte Integer length and that many bytes.
    #[inline]
    pub(crate) fn binary(&mut self, what: &str) -> Result<Bytes, DecodeError> {
        let len = self.u16(what)? as usize;
        self.take(len, what)
    }

    /// A UTF-8 Encoded String (3.1.1 section 1.5.3, 5.0 section 1.5.4): well-formed UTF-8 without
    /// surrogates, and without U+0000. `field` adds the statement that names this field.
    #[inline]
    pub(crate) fn string(&mut self, what: &str, field: &[Statement]) -> Result<Str, DecodeError> {
        let start = self.pos;
        let bytes = self.binary(what)?;
        check_utf8(&bytes, self.protocol, start + 2, what, field)?;
        Ok(Str::from_checked(bytes))
    }

    /// The packet bytes from `start` to `end` (both already read).
    #[inline]
    pub(crate) fn bytes(&self, start: usize, end: usize) -> &[u8] {
        &self.frame[start..end]
    }

    /// The packet bytes from `start` to `end`, shared.
    #[inline]
    pub(crate) fn slice(&self, start: usize, end: usize) -> Bytes {
        self.frame.slice(start..end)
    }

    /// A topic name or filter: a string whose U+0000 also breaks 3.1.1 and 5.0 [MQTT-4.7.3-2].
    #[inline]
    pub(crate) fn topic_string(
        &mut self,
        what: &str,
        field: &[Statement],
    ) -> Result<Str, DecodeError> {
        let start = self.pos;
        let bytes = self.binary(what)?;
        if let Some(i) = bytes.iter().position(|&b| b == 0) {
            return Err(DecodeError::malformed(start + 2 + i, format!("{what} contains U+0000"))
                .cite(crate::stmts!(self.protocol, v311: ["MQTT-1.5.3-2", "MQTT-4.7.3-2"], v5: ["MQTT-1.5.4-2", "MQTT-4.7.3-2"]))
                .cite(field));
        }
        check_utf8(&bytes, self.protocol, start + 2, what, field)?;
        Ok(Str::from_checked(bytes))
    }

    /// Everything left in the packet, without copying.
    #[inline]
    pub(crate) fn rest(mut self) -> Bytes {
        self.frame.advance(self.pos);
        self.frame
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

/// Checks MQTT's string rules on `bytes`, which start at `offset` in the packet.
#[inline]
pub(crate) fn check_utf8(
    bytes: &[u8],
    protocol: Protocol,
    offset: usize,
    what: &str,
    field: &[Statement],
) -> Result<(), DecodeError> {
    // Fast path: printable ASCII and controls other than U+0000 (one vectorisable pass).
    if bytes
        .iter()
        .fold(true, |acc, &c| acc & (c.wrapping_sub(1) < 0x7F))
    {
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
