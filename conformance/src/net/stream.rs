//! Decoding a whole byte stream into packets (through the codec's [`Framer`]), offsets counted
//! from the start of the stream.

use touchstone_codec::{DecodeError, Decoder, FrameError, Framer, Packet};

/// A packet decoded from a stream, and where it was.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decoded {
    /// Offset of the packet's first byte from the start of the stream.
    pub offset: usize,
    /// Size of the packet in bytes, fixed header included.
    pub len: usize,
    /// The packet.
    pub packet: Packet,
}

/// Why a stream stopped decoding: the packet that starts at `packet_offset` is invalid or cut
/// short.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StreamError {
    /// Offset of the first byte of the failing packet from the start of the stream.
    pub packet_offset: usize,
    /// The error, its `offset` counted from the start of the stream (not of the packet). For
    /// [`ErrorKind::Incomplete`] it is the length of the stream: where more bytes were expected.
    pub error: DecodeError,
}

/// An iterator over the packets of a byte stream, decoded with the streaming [`Decoder`].
///
/// Yields each packet in turn; the stream then ends, or yields one [`StreamError`] and ends, if
/// the bytes that are left do not start with a valid packet or end inside one.
///
/// ```
/// use touchstone_codec::{Decoder, ErrorKind, Protocol};
/// use touchstone_conformance::net::stream::PacketStream;
///
/// // PINGREQ, then a PINGRESP cut short after its first byte.
/// let mut stream = PacketStream::new(Decoder::new(Protocol::V3_1_1), &[0xC0, 0x00, 0xD0]);
/// assert_eq!(stream.next().unwrap().unwrap().offset, 0);
/// let err = stream.next().unwrap().unwrap_err();
/// assert_eq!(err.error.kind, ErrorKind::Incomplete);
/// assert_eq!((err.packet_offset, err.error.offset), (2, 3));
/// assert!(stream.next().is_none());
/// ```
#[derive(Debug)]
pub struct PacketStream {
    framer: Framer,
    done: bool,
}

impl PacketStream {
    /// A stream over a copy of `bytes`.
    pub fn new(decoder: Decoder, bytes: &[u8]) -> Self {
        let mut framer = Framer::new(decoder);
        framer.push(bytes);
        PacketStream {
            framer,
            done: false,
        }
    }

    /// Offset from the start of the stream of the next byte to decode.
    pub fn offset(&self) -> usize {
        self.framer.consumed() as usize
    }

    fn fail(&mut self, e: FrameError) -> Option<Result<Decoded, StreamError>> {
        self.done = true;
        let packet_offset = e.offset as usize;
        Some(Err(StreamError {
            packet_offset,
            error: e.error.shifted(packet_offset),
        }))
    }
}

impl Iterator for PacketStream {
    type Item = Result<Decoded, StreamError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.done {
            return None;
        }
        match self.framer.next_frame() {
            Ok(Some(f)) => Some(Ok(Decoded {
                offset: f.offset as usize,
                len: f.raw.len(),
                packet: f.packet,
            })),
            // The input ends, perhaps inside a packet.
            Ok(None) => match self.framer.finish() {
                None => {
                    self.done = true;
                    None
                }
                Some(e) => self.fail(e),
            },
            Err(e) => self.fail(e),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use touchstone_codec::ErrorKind;
    use touchstone_codec::Protocol;

    #[test]
    fn offsets_count_from_the_stream_start() {
        // PINGREQ, then PUBREL with reserved flags 0000.
        let bytes = [0xC0, 0x00, 0x60, 0x02, 0x00, 0x01];
        let items: Vec<_> = PacketStream::new(Decoder::new(Protocol::V3_1_1), &bytes).collect();
        assert_eq!(items.len(), 2);
        assert_eq!(
            items[0],
            Ok(Decoded {
                offset: 0,
                len: 2,
                packet: Packet::PingReq
            })
        );
        let err = items[1].clone().unwrap_err();
        assert_eq!(err.packet_offset, 2);
        assert_eq!(err.error.offset, 2);
        assert_eq!(err.error.kind, ErrorKind::Malformed);
    }

    #[test]
    fn empty_stream_has_no_packets() {
        assert_eq!(
            PacketStream::new(Decoder::new(Protocol::V5), &[]).count(),
            0
        );
    }

    #[test]
    fn arbitrary_bytes_keep_the_invariants() {
        let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
        let mut next = move || {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x
        };
        for round in 0..20_000 {
            let len = (next() % 40) as usize;
            // Bias the first byte towards valid packet types with valid flags.
            let mut bytes: Vec<u8> = (0..len).map(|_| next() as u8).collect();
            if round % 2 == 0 && !bytes.is_empty() {
                bytes[0] = [
                    0x10, 0x20, 0x30, 0x32, 0x40, 0x62, 0x82, 0x90, 0xA2, 0xE0, 0xF0,
                ][(next() % 11) as usize];
                if bytes.len() > 1 {
                    bytes[1] = (bytes.len() - 2) as u8;
                }
            }
            for protocol in Protocol::ALL {
                let mut expected = 0;
                for item in PacketStream::new(Decoder::new(protocol), &bytes) {
                    match item {
                        Ok(d) => {
                            assert_eq!(d.offset, expected);
                            expected += d.len;
                            let json = serde_json::to_string(&d.packet).unwrap();
                            let back: Packet = serde_json::from_str(&json)
                                .unwrap_or_else(|e| panic!("{e}: {json}"));
                            assert_eq!(back, d.packet, "{json}");
                        }
                        Err(e) => {
                            assert_eq!(e.packet_offset, expected);
                            assert!(e.error.offset >= e.packet_offset);
                            assert!(e.error.offset <= bytes.len());
                            let spec = protocol.spec();
                            assert!(
                                e.error.statements.iter().all(|s| s.version == spec),
                                "{protocol}: {:?}",
                                e.error
                            );
                        }
                    }
                }
            }
        }
    }

    #[test]
    fn too_large_is_reported_from_the_header() {
        let decoder = Decoder::new(Protocol::V5).with_max_packet_size(3);
        let mut s = PacketStream::new(decoder, &[0x30, 0x05, 0x00]);
        let err = s.next().unwrap().unwrap_err();
        assert_eq!(err.error.kind, ErrorKind::PacketTooLarge);
    }
}
