//! Framing and decoding: the fixed header, streaming decode from `BytesMut`, and decode from a
//! slice.

use bytes::BytesMut;

use crate::error::{DecodeError, ErrorKind};
use crate::packet::{decode_body, decode_body_ref, Packet, PacketRef, PacketType};
use crate::protocol::{Protocol, Statement};
use crate::reader::Reader;
use crate::stmts;
use crate::varint::{read_varint, Varint, VARINT_MAX};

/// The largest packet the format can express: a 5-byte fixed header and the largest Remaining
/// Length.
pub const MAX_PACKET_SIZE: usize = 1 + 4 + VARINT_MAX as usize;

/// A checked fixed header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FixedHeader {
    /// The packet type.
    pub packet_type: PacketType,
    /// The first byte (type and flags).
    pub first_byte: u8,
    /// The Remaining Length.
    pub remaining_length: usize,
    /// Bytes taken by the fixed header (2 to 5).
    pub header_len: usize,
}

impl FixedHeader {
    /// Size of the whole packet.
    #[inline]
    pub fn packet_len(&self) -> usize {
        self.header_len + self.remaining_length
    }

    /// Reads and checks the fixed header at the front of `buf`: the packet type exists in
    /// `protocol`, the reserved flag bits hold their required values (3.1.1 [MQTT-2.2.2-1],
    /// [MQTT-2.2.2-2]; 5.0 [MQTT-2.1.3-1]), the Remaining Length is at most four bytes and
    /// minimally encoded, and the packet fits in `max_packet_size`. `Ok(None)` if `buf` ends
    /// inside the header.
    #[inline]
    pub fn parse(
        buf: &[u8],
        protocol: Protocol,
        max_packet_size: usize,
    ) -> Result<Option<FixedHeader>, DecodeError> {
        // Fast path: a valid first byte and a Remaining Length of one byte, or of two minimally
        // encoded bytes (most packets).
        let (first, len, header_len) = match *buf {
            [first, len, ..] if len < 0x80 => (first, len as usize, 2),
            [first, lo, hi, ..] if hi != 0 && hi < 0x80 => {
                (first, (lo & 0x7F) as usize | (hi as usize) << 7, 3)
            }
            _ => return Self::parse_slow(buf, protocol, max_packet_size),
        };
        let nibble = first >> 4;
        let required = FLAGS[nibble as usize];
        let flags_ok = required == ANY_FLAGS || first & 0x0F == required;
        let exists = nibble != 15 || protocol.is_v5();
        if flags_ok && exists && header_len + len <= max_packet_size {
            if let Some(packet_type) = PacketType::from_nibble(nibble) {
                return Ok(Some(FixedHeader {
                    packet_type,
                    first_byte: first,
                    remaining_length: len,
                    header_len,
                }));
            }
        }
        Self::parse_slow(buf, protocol, max_packet_size)
    }

    #[cold]
    fn parse_slow(
        buf: &[u8],
        protocol: Protocol,
        max_packet_size: usize,
    ) -> Result<Option<FixedHeader>, DecodeError> {
        let Some(&first) = buf.first() else {
            return Ok(None);
        };
        let packet_type = match PacketType::from_nibble(first >> 4) {
            Some(PacketType::Auth) if !protocol.is_v5() => {
                return Err(DecodeError::malformed(
                    0,
                    format!("packet type 15 (AUTH) does not exist in MQTT {protocol}"),
                ));
            }
            Some(t) => t,
            None => return Err(DecodeError::malformed(0, "packet type 0 is reserved")),
        };
        if let Some(required) = packet_type.required_flags() {
            if first & 0x0F != required {
                return Err(flags_error(packet_type, first, required, protocol));
            }
        }
        let (remaining_length, n) = match read_varint(&buf[1..]) {
            Varint::Value(v, n) => (v as usize, n),
            Varint::Incomplete => return Ok(None),
            Varint::TooLong => {
                return Err(DecodeError::malformed(
                    1,
                    "Remaining Length is longer than 4 bytes",
                ))
            }
            Varint::NotMinimal(v, _) => {
                return Err(DecodeError::malformed(
                    1,
                    format!("Remaining Length {v} is not encoded in the fewest bytes"),
                )
                .cite(stmts!(protocol, v311: [], v5: ["MQTT-1.5.5-1"])))
            }
        };
        let header = FixedHeader {
            packet_type,
            first_byte: first,
            remaining_length,
            header_len: 1 + n,
        };
        if header.packet_len() > max_packet_size {
            return Err(DecodeError::new(
                ErrorKind::PacketTooLarge,
                0,
                format!(
                    "{} of {} bytes is larger than the maximum packet size {max_packet_size}",
                    packet_type,
                    header.packet_len()
                ),
            ));
        }
        Ok(Some(header))
    }
}

/// Fixed-header flags each packet type requires ([`ANY_FLAGS`] for PUBLISH; type 0 matches
/// nothing).
const FLAGS: [u8; 16] = [
    0xFF, 0, 0, ANY_FLAGS, 0, 0, 0b0010, 0, 0b0010, 0, 0b0010, 0, 0, 0, 0, 0,
];
const ANY_FLAGS: u8 = 0x10;

#[cold]
fn flags_error(t: PacketType, first: u8, required: u8, p: Protocol) -> DecodeError {
    let statements: &[Statement] = match t {
        PacketType::PubRel => {
            stmts!(p, v311: ["MQTT-2.2.2-1", "MQTT-2.2.2-2", "MQTT-3.6.1-1"], v5: ["MQTT-2.1.3-1", "MQTT-3.6.1-1"])
        }
        PacketType::Subscribe => {
            stmts!(p, v311: ["MQTT-2.2.2-1", "MQTT-2.2.2-2", "MQTT-3.8.1-1"], v5: ["MQTT-2.1.3-1", "MQTT-3.8.1-1"])
        }
        PacketType::Unsubscribe => {
            stmts!(p, v311: ["MQTT-2.2.2-1", "MQTT-2.2.2-2", "MQTT-3.10.1-1"], v5: ["MQTT-2.1.3-1", "MQTT-3.10.1-1"])
        }
        PacketType::Disconnect => {
            stmts!(p, v311: ["MQTT-2.2.2-1", "MQTT-2.2.2-2", "MQTT-3.14.1-1"], v5: ["MQTT-2.1.3-1", "MQTT-3.14.1-1"])
        }
        PacketType::Auth => stmts!(p, v311: [], v5: ["MQTT-2.1.3-1", "MQTT-3.15.1-1"]),
        _ => stmts!(p, v311: ["MQTT-2.2.2-1", "MQTT-2.2.2-2"], v5: ["MQTT-2.1.3-1"]),
    };
    DecodeError::malformed(
        0,
        format!(
            "{t} fixed-header flags are {:04b}, must be {required:04b}",
            first & 0x0F
        ),
    )
    .cite(statements)
}

/// A streaming decoder for one protocol version.
#[derive(Debug, Clone, Copy)]
pub struct Decoder {
    protocol: Protocol,
    max_packet_size: usize,
}

impl Decoder {
    /// A decoder for `protocol`, accepting packets up to [`MAX_PACKET_SIZE`].
    pub const fn new(protocol: Protocol) -> Self {
        Decoder {
            protocol,
            max_packet_size: MAX_PACKET_SIZE,
        }
    }

    /// The same decoder rejecting packets larger than `bytes` (fixed header included) with
    /// [`ErrorKind::PacketTooLarge`], as soon as their fixed header has arrived.
    #[must_use]
    pub const fn with_max_packet_size(mut self, bytes: usize) -> Self {
        self.max_packet_size = bytes;
        self
    }

    /// The protocol version decoded.
    pub const fn protocol(&self) -> Protocol {
        self.protocol
    }

    /// The maximum packet size accepted.
    pub const fn max_packet_size(&self) -> usize {
        self.max_packet_size
    }

    /// Decodes the packet at the front of `buf` and removes its bytes. `Ok(None)` until a whole
    /// packet is buffered (nothing is reserved on the strength of a declared length). Payloads
    /// and long string or binary fields share `buf`'s memory; short strings are copied.
    ///
    /// On an error in the fixed header `buf` is left as it was; on an error in the rest of the
    /// packet, the whole invalid packet has been removed from `buf`. Either way the error's
    /// offset counts from the first byte of that packet.
    #[inline]
    pub fn decode(&self, buf: &mut BytesMut) -> Result<Option<Packet>, DecodeError> {
        if let Some(packet) = crate::fast::decode(buf, self.protocol, self.max_packet_size) {
            return Ok(Some(packet));
        }
        self.decode_general(buf)
    }

    /// [`Decoder::decode`] without its fast path, for tests and fuzzers that check the two agree.
    #[doc(hidden)]
    #[inline]
    pub fn decode_general(&self, buf: &mut BytesMut) -> Result<Option<Packet>, DecodeError> {
        let Some(h) = FixedHeader::parse(buf, self.protocol, self.max_packet_size)? else {
            return Ok(None);
        };
        if buf.len() < h.packet_len() {
            return Ok(None);
        }
        let reader = Reader::new(buf, h.packet_len(), h.header_len, self.protocol);
        decode_body(h.packet_type, h.first_byte, reader).map(Some)
    }

    /// Decodes the packet at the front of `bytes` without copying it: the packet and the number
    /// of bytes it took, or `Ok(None)` until `bytes` holds a whole packet. Exactly as strict as
    /// [`Decoder::decode`]: for every input, the same error, or a packet whose
    /// [`PacketRef::to_owned`] equals what `decode` returns. An error consumes nothing: a caller
    /// that goes on past an invalid packet takes its length from [`FixedHeader::parse`] (when the
    /// fixed header itself is valid).
    ///
    /// ```
    /// use touchstone_codec::{Decoder, PacketRef, Protocol};
    ///
    /// let bytes = [0x30, 0x07, 0x00, 0x03, b'a', b'/', b'b', b'h', b'i', 0xC0];
    /// let decoder = Decoder::new(Protocol::V3_1_1);
    /// let (packet, used) = decoder.decode_ref(&bytes).unwrap().unwrap();
    /// assert_eq!(used, 9);
    /// let PacketRef::Publish(publish) = packet else { panic!("{packet:?}") };
    /// assert_eq!((publish.topic, publish.payload), ("a/b", &b"hi"[..]));
    /// assert_eq!(decoder.decode_ref(&bytes[used..]).unwrap(), None); // PINGREQ: one more byte
    /// ```
    #[inline(always)]
    pub fn decode_ref<'a>(
        &self,
        bytes: &'a [u8],
    ) -> Result<Option<(PacketRef<'a>, usize)>, DecodeError> {
        if let Some(fast) = crate::fast::decode_ref(bytes, self.protocol, self.max_packet_size) {
            return Ok(Some(fast));
        }
        let Some(h) = FixedHeader::parse(bytes, self.protocol, self.max_packet_size)? else {
            return Ok(None);
        };
        let len = h.packet_len();
        let Some(packet) = bytes.get(..len) else {
            return Ok(None);
        };
        let reader = Reader::borrowed(packet, h.header_len, self.protocol);
        let packet = decode_body_ref(h.packet_type, h.first_byte, packet, reader)?;
        Ok(Some((packet, len)))
    }

    /// Decodes the packet at the front of `bytes` into its owned form (fields that share the
    /// packet's memory copy it once). Returns the packet and the
    /// number of bytes it took; an input that ends inside a packet is an
    /// [`ErrorKind::Incomplete`] error.
    pub fn decode_slice(&self, bytes: &[u8]) -> Result<(Packet, usize), DecodeError> {
        let incomplete = || {
            DecodeError::new(
                ErrorKind::Incomplete,
                bytes.len(),
                "input ends inside a packet",
            )
        };
        let h = FixedHeader::parse(bytes, self.protocol, self.max_packet_size)?
            .ok_or_else(incomplete)?;
        let frame = bytes.get(..h.packet_len()).ok_or_else(|| {
            DecodeError::new(
                ErrorKind::Incomplete,
                bytes.len(),
                format!(
                    "input ends after {} of the {} bytes of a {}",
                    bytes.len(),
                    h.packet_len(),
                    h.packet_type
                ),
            )
        })?;
        let reader = Reader::borrowed(frame, h.header_len, self.protocol);
        let packet = decode_body(h.packet_type, h.first_byte, reader)?;
        Ok((packet, h.packet_len()))
    }
}

/// Decodes one packet from the front of `bytes` (see [`Decoder::decode_slice`]).
pub fn decode_slice(protocol: Protocol, bytes: &[u8]) -> Result<(Packet, usize), DecodeError> {
    Decoder::new(protocol).decode_slice(bytes)
}

/// Reads the protocol version a server should decode a connection with, from the CONNECT at the
/// front of `buf` (its protocol name and level). `Ok(None)` until enough bytes are buffered;
/// an error if the first packet is not a CONNECT (3.1.1 [MQTT-3.1.0-1], 5.0 [MQTT-3.1.0-1]) or
/// names no supported version.
pub fn peek_protocol(buf: &[u8]) -> Result<Option<Protocol>, DecodeError> {
    let Some(&first) = buf.first() else {
        return Ok(None);
    };
    if first >> 4 != PacketType::Connect as u8 {
        return Err(
            DecodeError::protocol(0, "the first packet is not CONNECT").cite(&[
                Statement::v311("MQTT-3.1.0-1"),
                Statement::v5("MQTT-3.1.0-1"),
            ]),
        );
    }
    let (body, end) = match read_varint(&buf[1..]) {
        Varint::Value(v, n) => (1 + n, 1 + n + v as usize),
        Varint::Incomplete => return Ok(None),
        _ => return Err(DecodeError::malformed(1, "invalid Remaining Length")),
    };
    // Reads stay inside the CONNECT: once it is whole, a name or level beyond its end is a
    // malformed packet, not a reason to wait for more bytes.
    let get = |from: usize, to: usize| -> Result<Option<&[u8]>, DecodeError> {
        if to > end {
            return Err(DecodeError::malformed(
                body,
                "CONNECT too short for its protocol name and level",
            ));
        }
        Ok(buf.get(from..to))
    };
    let Some(len) = get(body, body + 2)? else {
        return Ok(None);
    };
    let len = u16::from_be_bytes([len[0], len[1]]) as usize;
    let Some(name) = get(body + 2, body + 2 + len)? else {
        return Ok(None);
    };
    let Some(&[level]) = get(body + 2 + len, body + 3 + len)? else {
        return Ok(None);
    };
    Protocol::from_name_and_level(name, level)
        .map(Some)
        .ok_or_else(|| {
            DecodeError::new(
                ErrorKind::UnsupportedProtocol,
                body,
                format!(
                    "protocol name {:?} level {level} is not MQTT 3.1, 3.1.1 or 5.0",
                    String::from_utf8_lossy(name)
                ),
            )
        })
}
