//! Framing: the one place where received bytes become packets. A [`Framer`] buffers a byte
//! stream as it arrives (in any pieces: TCP reads, WebSocket frames, a file) and hands out each
//! whole packet with its raw bytes and its offset in the stream, decoded by the strict
//! streaming [`Decoder`]. It does no I/O: the reader around it moves the bytes.

use bytes::{Buf, Bytes, BytesMut};

use crate::{DecodeError, Decoder, ErrorKind, FixedHeader, Packet};

/// A packet taken off the stream.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Framed {
    /// The packet.
    pub packet: Packet,
    /// Its bytes as received, fixed header included.
    pub raw: Bytes,
    /// Where its first byte was, counted from the start of the stream.
    pub offset: u64,
}

/// Bytes that are not a valid packet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FrameError {
    /// Why, its `offset` counted from the start of the failing packet.
    pub error: DecodeError,
    /// The failing packet's bytes: the whole packet when its fixed header gave its length (the
    /// stream goes on after it: see [`FrameError::resumable`]), else everything buffered, taken
    /// off the stream.
    pub raw: Bytes,
    /// Where the failing packet started, counted from the start of the stream.
    pub offset: u64,
    /// The fixed header was valid and the whole packet was taken off the stream, so the next
    /// packet can still be read; `false` when the fixed header itself is invalid: the stream
    /// has lost its framing and holds nothing more that can be trusted.
    pub resumable: bool,
    /// The fixed header's length, when it was valid (the body starts after it).
    pub header_len: Option<usize>,
}

/// A byte stream in, packets out. See the [module documentation](self).
///
/// ```
/// use touchstone_codec::{Decoder, Framer, Packet, Protocol};
///
/// let mut framer = Framer::new(Decoder::new(Protocol::V3_1_1));
/// framer.push(&[0xC0]); // half a PINGREQ
/// assert_eq!(framer.next_frame(), Ok(None));
/// framer.push(&[0x00, 0xD0, 0x00]); // its end, and a PINGRESP
/// let first = framer.next_frame().unwrap().unwrap();
/// assert_eq!((first.packet, first.offset, &first.raw[..]), (Packet::PingReq, 0, &[0xC0, 0x00][..]));
/// assert_eq!(framer.next_frame().unwrap().unwrap().offset, 2);
/// assert!(framer.finish().is_none());
/// ```
#[derive(Debug, Clone)]
pub struct Framer {
    decoder: Decoder,
    buf: BytesMut,
    offset: u64,
}

impl Framer {
    /// An empty stream, decoded with `decoder`.
    pub fn new(decoder: Decoder) -> Self {
        Framer {
            decoder,
            buf: BytesMut::new(),
            offset: 0,
        }
    }

    /// The decoder in use.
    pub fn decoder(&self) -> &Decoder {
        &self.decoder
    }

    /// Decodes what follows with `decoder` (a server learns the version from the CONNECT).
    pub fn set_decoder(&mut self, decoder: Decoder) {
        self.decoder = decoder;
    }

    /// Appends received bytes.
    pub fn push(&mut self, bytes: &[u8]) {
        self.buf.extend_from_slice(bytes);
    }

    /// The buffer, for a reader that reads straight into it (`read_buf`).
    pub fn buffer_mut(&mut self) -> &mut BytesMut {
        &mut self.buf
    }

    /// The bytes received and not yet taken as packets.
    pub fn buffered(&self) -> &[u8] {
        &self.buf
    }

    /// How many bytes of the stream were taken as packets (or as invalid ones) so far.
    pub fn consumed(&self) -> u64 {
        self.offset
    }

    /// Takes every buffered byte off the stream (after an error that is not resumable).
    pub fn take_buffered(&mut self) -> Bytes {
        self.offset += self.buf.len() as u64;
        self.buf.split().freeze()
    }

    /// The next whole packet; `Ok(None)` until one is buffered. A packet the codec rejects is
    /// an error and is taken off the stream: when [`FrameError::resumable`], the next call reads
    /// the packet after it; otherwise everything buffered went with it.
    pub fn next_frame(&mut self) -> Result<Option<Framed>, FrameError> {
        let offset = self.offset;
        let h = match FixedHeader::parse(
            &self.buf,
            self.decoder.protocol(),
            self.decoder.max_packet_size(),
        ) {
            Ok(Some(h)) => h,
            Ok(None) => return Ok(None),
            Err(error) => {
                return Err(FrameError {
                    error,
                    raw: self.take_buffered(),
                    offset,
                    resumable: false,
                    header_len: None,
                })
            }
        };
        let len = h.packet_len();
        if self.buf.len() < len {
            return Ok(None);
        }
        let raw = Bytes::copy_from_slice(&self.buf[..len]);
        let before = self.buf.len();
        match self.decoder.decode(&mut self.buf) {
            Ok(Some(packet)) => {
                self.offset += len as u64;
                Ok(Some(Framed {
                    packet,
                    raw,
                    offset,
                }))
            }
            // The fixed header said the packet is whole.
            Ok(None) => Ok(None),
            Err(error) => {
                // The decoder may or may not have taken the packet off the buffer: take exactly
                // this packet, so that what follows can still be read.
                let taken = before - self.buf.len();
                self.buf.advance(len - taken.min(len));
                self.offset += len as u64;
                Err(FrameError {
                    error,
                    raw,
                    offset,
                    resumable: true,
                    header_len: Some(h.header_len),
                })
            }
        }
    }

    /// The next whole packet without its raw bytes (no copy: for a receiver that only needs
    /// the packet, such as a broker). An error leaves the stream where it was: the receiver
    /// closes the connection.
    pub fn next_packet(&mut self) -> Result<Option<Packet>, DecodeError> {
        let before = self.buf.len();
        let packet = self.decoder.decode(&mut self.buf)?;
        self.offset += (before - self.buf.len()) as u64;
        Ok(packet)
    }

    /// The end of the stream: an error if it ends inside a packet.
    pub fn finish(&mut self) -> Option<FrameError> {
        if self.buf.is_empty() {
            return None;
        }
        let offset = self.offset;
        let len = self.buf.len();
        let what = match FixedHeader::parse(
            &self.buf,
            self.decoder.protocol(),
            self.decoder.max_packet_size(),
        ) {
            Ok(Some(h)) => format!(
                "input ends after {len} of the {} bytes of a {}",
                h.packet_len(),
                h.packet_type
            ),
            _ => "input ends inside a packet".to_string(),
        };
        Some(FrameError {
            error: DecodeError::new(ErrorKind::Incomplete, len, what),
            raw: self.take_buffered(),
            offset,
            resumable: false,
            header_len: None,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{PacketType, Protocol};

    #[test]
    fn packets_split_anywhere_come_out_whole_with_their_offsets() {
        // CONNACK, PINGRESP, SUBACK: pushed one byte at a time.
        let stream = [
            0x20, 0x02, 0x00, 0x00, 0xD0, 0x00, 0x90, 0x03, 0x00, 0x01, 0x01,
        ];
        let mut f = Framer::new(Decoder::new(Protocol::V3_1_1));
        let mut got = Vec::new();
        for b in stream {
            f.push(&[b]);
            while let Some(p) = f.next_frame().unwrap() {
                got.push((p.packet.packet_type(), p.offset, p.raw.len()));
            }
        }
        assert_eq!(
            got,
            [
                (PacketType::ConnAck, 0, 4),
                (PacketType::PingResp, 4, 2),
                (PacketType::SubAck, 6, 5)
            ]
        );
        assert_eq!(f.consumed(), 11);
        assert!(f.finish().is_none());
    }

    #[test]
    fn an_invalid_body_is_skipped_and_the_next_packet_read() {
        // A 3.1.1 CONNACK whose reserved Connect Acknowledge Flags bits are set, then a
        // PINGRESP.
        let mut f = Framer::new(Decoder::new(Protocol::V3_1_1));
        f.push(&[0x20, 0x02, 0xFE, 0x00, 0xD0, 0x00]);
        let e = f.next_frame().unwrap_err();
        assert!(e.resumable);
        assert_eq!((e.offset, &e.raw[..]), (0, &[0x20, 0x02, 0xFE, 0x00][..]));
        assert_eq!(e.header_len, Some(2));
        let next = f.next_frame().unwrap().unwrap();
        assert_eq!((next.packet, next.offset), (Packet::PingResp, 4));
    }

    #[test]
    fn an_invalid_fixed_header_loses_the_framing() {
        // PINGRESP with a flag bit set: 3.1.1 [MQTT-2.2.2-2].
        let mut f = Framer::new(Decoder::new(Protocol::V3_1_1));
        f.push(&[0xD1, 0x00, 0xD0, 0x00]);
        let e = f.next_frame().unwrap_err();
        assert!(!e.resumable);
        assert_eq!(e.error.kind, ErrorKind::Malformed);
        assert_eq!(e.raw.len(), 4);
        assert!(f.buffered().is_empty());
        assert_eq!(f.consumed(), 4);
    }

    #[test]
    fn next_packet_takes_the_same_packets_without_their_bytes() {
        let mut f = Framer::new(Decoder::new(Protocol::V3_1_1));
        f.push(&[0xD0, 0x00, 0xC0]);
        assert_eq!(f.next_packet(), Ok(Some(Packet::PingResp)));
        assert_eq!(f.next_packet(), Ok(None));
        f.push(&[0x00]);
        assert_eq!(f.next_packet(), Ok(Some(Packet::PingReq)));
        assert_eq!(f.consumed(), 4);
    }

    #[test]
    fn a_stream_ending_inside_a_packet_says_so() {
        let mut f = Framer::new(Decoder::new(Protocol::V5));
        f.push(&[0xD0, 0x00, 0x30, 0x05, 0x00]);
        assert_eq!(f.next_frame().unwrap().unwrap().packet, Packet::PingResp);
        assert_eq!(f.next_frame(), Ok(None));
        let e = f.finish().unwrap();
        assert_eq!(e.error.kind, ErrorKind::Incomplete);
        assert_eq!((e.offset, e.raw.len()), (2, 3));
        assert!(e.error.message.contains("3 of the 7 bytes"), "{}", e.error);
    }
}
