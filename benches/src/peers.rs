//! The peer codecs, each driven the way it is normally used for streaming: the whole input sits in
//! the library's own `BytesMut`, and packets are split off it one by one until it is empty.
//!
//! Each peer module has:
//! - `buffer(stream)`: copies the stream into the peer's buffer type (benchmark setup, untimed);
//! - `decode_buf(&mut buf)`: decodes every packet in the buffer, dropping each after use, and
//!   returns how many it decoded (timed); it panics on an error, since benchmark input is valid.
//!   The caller drops the emptied buffer, so freeing the input is not part of the decode time;
//! - `decode_all(stream)`: both of the above;
//! - `decode_one(packet)` (3.1.1 peers): decodes a single packet for the strictness table.

use std::hint::black_box;

use crate::streams::Version;

/// What a decoder made of one packet handed to it alone.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// Decoded it into a packet.
    Accepts(String),
    /// Returned an error.
    Rejects(String),
    /// Asked for more bytes although the whole packet was there.
    Incomplete,
    /// Panicked.
    Panics(String),
}

impl Verdict {
    /// One word for the strictness table.
    pub fn word(&self) -> &'static str {
        match self {
            Verdict::Accepts(_) => "accepts",
            Verdict::Rejects(_) => "rejects",
            Verdict::Incomplete => "wants more",
            Verdict::Panics(_) => "panics",
        }
    }

    /// Whether the packet was decoded.
    pub fn accepted(&self) -> bool {
        matches!(self, Verdict::Accepts(_))
    }
}

/// A single-packet decode entry: `Ok(Some(debug))` decoded, `Ok(None)` wants more bytes.
pub type DecodeOne = fn(&[u8]) -> Result<Option<String>, String>;

/// Runs `decode_one` on `packet`, turning a panic into [`Verdict::Panics`].
///
/// The caller may want to silence the default panic hook around this (see the strictness
/// binary); the verdict is the same either way.
pub fn judge(decode_one: DecodeOne, packet: &[u8]) -> Verdict {
    match std::panic::catch_unwind(|| decode_one(packet)) {
        Ok(Ok(Some(debug))) => Verdict::Accepts(debug),
        Ok(Ok(None)) => Verdict::Incomplete,
        Ok(Err(e)) => Verdict::Rejects(e),
        Err(panic) => Verdict::Panics(
            panic
                .downcast_ref::<&str>()
                .map(|s| (*s).to_owned())
                .or_else(|| panic.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "<non-string panic>".to_owned()),
        ),
    }
}

/// A peer codec entry, for loops over all peers.
#[derive(Clone, Copy)]
pub struct Peer {
    /// Benchmark function name, e.g. `mqttbytes-v4`.
    pub name: &'static str,
    /// The protocol version this entry decodes.
    pub version: Version,
    /// Copies the stream into the peer's buffer and decodes it all; returns the packet count.
    pub decode_all: fn(&[u8]) -> usize,
    /// Single-packet decoder for the strictness table (3.1.1 peers only).
    pub decode_one: Option<DecodeOne>,
}

/// Every peer codec, in table order.
pub const PEERS: &[Peer] = &[
    Peer {
        name: mqttbytes_v4::NAME,
        version: Version::V3_1_1,
        decode_all: mqttbytes_v4::decode_all,
        decode_one: Some(mqttbytes_v4::decode_one),
    },
    Peer {
        name: ntex_v3::NAME,
        version: Version::V3_1_1,
        decode_all: ntex_v3::decode_all,
        decode_one: Some(ntex_v3::decode_one),
    },
    Peer {
        name: mqttrs::NAME,
        version: Version::V3_1_1,
        decode_all: mqttrs::decode_all,
        decode_one: Some(mqttrs::decode_one),
    },
    Peer {
        name: mqttbytes_v5::NAME,
        version: Version::V5,
        decode_all: mqttbytes_v5::decode_all,
        decode_one: None,
    },
    Peer {
        name: ntex_v5::NAME,
        version: Version::V5,
        decode_all: ntex_v5::decode_all,
        decode_one: None,
    },
];

/// The peers that decode `version`.
pub fn for_version(version: Version) -> impl Iterator<Item = &'static Peer> {
    PEERS.iter().filter(move |p| p.version == version)
}

/// Largest packet the peers are configured to accept: well above the 64 KiB benchmark payloads.
pub const MAX_PACKET: usize = 1 << 20;

/// Spare capacity given to every input buffer, as a network read buffer would have. Without it,
/// a decoder that calls `reserve` after each packet (ntex-mqtt does) reallocates and copies the
/// rest of a full-to-capacity buffer, which says more about the setup than about the decoder.
pub const SPARE_CAPACITY: usize = 4096;

/// Copies `stream` into a `bytes::BytesMut` with [`SPARE_CAPACITY`].
pub fn bytes_buffer(stream: &[u8]) -> bytes::BytesMut {
    let mut buf = bytes::BytesMut::with_capacity(stream.len() + SPARE_CAPACITY);
    buf.extend_from_slice(stream);
    buf
}

/// Copies `stream` into an `ntex_bytes::BytesMut` with [`SPARE_CAPACITY`].
pub fn ntex_buffer(stream: &[u8]) -> ntex_bytes::BytesMut {
    let mut buf = ntex_bytes::BytesMut::with_capacity(stream.len() + SPARE_CAPACITY);
    buf.extend_from_slice(stream);
    buf
}

/// rumqttc's `mqttbytes` for MQTT 3.1.1 (`rumqttc::mqttbytes::v4`), as its `Codec` uses it.
pub mod mqttbytes_v4 {
    use super::black_box;
    use bytes::BytesMut;
    use rumqttc::mqttbytes::{v4::Packet, Error};

    /// Benchmark function name.
    pub const NAME: &str = "mqttbytes-v4";

    /// Copies `stream` into a `bytes::BytesMut` (see [`super::bytes_buffer`]).
    pub fn buffer(stream: &[u8]) -> BytesMut {
        super::bytes_buffer(stream)
    }

    /// Decodes every packet in `buf`, leaving it empty; panics on an error.
    pub fn decode_buf(buf: &mut BytesMut) -> usize {
        let mut n = 0;
        while !buf.is_empty() {
            match Packet::read(buf, super::MAX_PACKET) {
                Ok(p) => {
                    black_box(p);
                    n += 1;
                }
                Err(e) => panic!("{NAME}: packet {n}: {e:?}"),
            }
        }
        n
    }

    /// [`buffer`] then [`decode_buf`].
    pub fn decode_all(stream: &[u8]) -> usize {
        decode_buf(&mut buffer(stream))
    }

    /// Decodes one packet (see [`super::DecodeOne`]).
    pub fn decode_one(packet: &[u8]) -> Result<Option<String>, String> {
        let mut buf = BytesMut::from(packet);
        match Packet::read(&mut buf, super::MAX_PACKET) {
            Ok(p) => Ok(Some(format!("{p:?}"))),
            Err(Error::InsufficientBytes(_)) => Ok(None),
            Err(e) => Err(format!("{e:?}")),
        }
    }
}

/// rumqttc's `mqttbytes` for MQTT 5.0 (`rumqttc::v5::mqttbytes::v5`).
pub mod mqttbytes_v5 {
    use super::black_box;
    use bytes::BytesMut;
    use rumqttc::v5::mqttbytes::v5::Packet;

    /// Benchmark function name.
    pub const NAME: &str = "mqttbytes-v5";

    /// Copies `stream` into a `bytes::BytesMut` (see [`super::bytes_buffer`]).
    pub fn buffer(stream: &[u8]) -> BytesMut {
        super::bytes_buffer(stream)
    }

    /// Decodes every packet in `buf`, leaving it empty; panics on an error.
    pub fn decode_buf(buf: &mut BytesMut) -> usize {
        let mut n = 0;
        let max = Some(super::MAX_PACKET as u32);
        while !buf.is_empty() {
            match Packet::read(buf, max) {
                Ok(p) => {
                    black_box(p);
                    n += 1;
                }
                Err(e) => panic!("{NAME}: packet {n}: {e:?}"),
            }
        }
        n
    }

    /// [`buffer`] then [`decode_buf`].
    pub fn decode_all(stream: &[u8]) -> usize {
        decode_buf(&mut buffer(stream))
    }
}

/// Decodes with an `ntex_codec::Decoder`, counting whole packets (`Packet` and `Publish` items;
/// a fully buffered stream never yields separate payload chunks, which are not counted).
macro_rules! ntex_decode_buf {
    ($codec:expr, $buf:expr, $name:expr, $decoded:path) => {{
        use ntex_codec::Decoder as _;
        use $decoded as D;
        let codec = $codec;
        let buf: &mut ntex_bytes::BytesMut = $buf;
        let mut n = 0;
        loop {
            match codec.decode(buf) {
                Ok(Some(item)) => {
                    if !matches!(item, D::PayloadChunk(..)) {
                        n += 1;
                    }
                    black_box(item);
                }
                Ok(None) => break,
                Err(e) => panic!("{}: packet {n}: {e:?}", $name),
            }
        }
        assert!(
            buf.is_empty(),
            "{}: {} bytes left undecoded",
            $name,
            buf.len()
        );
        n
    }};
}

/// ntex-mqtt's MQTT 3.1.1 codec (`ntex_mqtt::v3::codec::Codec`).
pub mod ntex_v3 {
    use super::black_box;
    use ntex_bytes::BytesMut;
    use ntex_codec::Decoder as _;
    use ntex_mqtt::v3::codec::{Codec, Decoded};

    /// Benchmark function name.
    pub const NAME: &str = "ntex-mqtt-v3";

    /// Copies `stream` into an `ntex_bytes::BytesMut` (see [`super::ntex_buffer`]).
    pub fn buffer(stream: &[u8]) -> BytesMut {
        super::ntex_buffer(stream)
    }

    fn codec() -> Codec {
        let codec = Codec::new();
        codec.set_max_size(super::MAX_PACKET as u32);
        codec
    }

    /// Decodes every packet in `buf`, leaving it empty; panics on an error.
    pub fn decode_buf(buf: &mut BytesMut) -> usize {
        ntex_decode_buf!(codec(), buf, NAME, Decoded)
    }

    /// [`buffer`] then [`decode_buf`].
    pub fn decode_all(stream: &[u8]) -> usize {
        decode_buf(&mut buffer(stream))
    }

    /// Decodes one packet (see [`super::DecodeOne`]).
    pub fn decode_one(packet: &[u8]) -> Result<Option<String>, String> {
        let mut buf = BytesMut::from(packet);
        match codec().decode(&mut buf) {
            Ok(Some(p)) => Ok(Some(format!("{p:?}"))),
            Ok(None) => Ok(None),
            Err(e) => Err(format!("{e:?}")),
        }
    }
}

/// ntex-mqtt's MQTT 5.0 codec (`ntex_mqtt::v5::codec::Codec`).
pub mod ntex_v5 {
    use super::black_box;
    use ntex_bytes::BytesMut;
    use ntex_mqtt::v5::codec::{Codec, Decoded};

    /// Benchmark function name.
    pub const NAME: &str = "ntex-mqtt-v5";

    /// Copies `stream` into an `ntex_bytes::BytesMut` (see [`super::ntex_buffer`]).
    pub fn buffer(stream: &[u8]) -> BytesMut {
        super::ntex_buffer(stream)
    }

    /// Decodes every packet in `buf`, leaving it empty; panics on an error.
    pub fn decode_buf(buf: &mut BytesMut) -> usize {
        let codec = Codec::new();
        codec.set_max_inbound_size(super::MAX_PACKET as u32);
        ntex_decode_buf!(codec, buf, NAME, Decoded)
    }

    /// [`buffer`] then [`decode_buf`].
    pub fn decode_all(stream: &[u8]) -> usize {
        decode_buf(&mut buffer(stream))
    }
}

/// mqttrs (MQTT 3.1.1 only).
///
/// mqttrs 0.4 decodes from a slice (`decode_slice`) and does not report how many bytes a packet
/// took, so the stream is framed here by reading each fixed header, and each frame is split off
/// the `BytesMut` and handed to `decode_slice` alone (which is also what keeps mqttrs from
/// reading a truncated field's bytes out of the next packet).
pub mod mqttrs {
    use super::black_box;
    use crate::streams::frame_len;
    use bytes::BytesMut;

    /// Benchmark function name.
    pub const NAME: &str = "mqttrs";

    /// Copies `stream` into a `bytes::BytesMut` (see [`super::bytes_buffer`]).
    pub fn buffer(stream: &[u8]) -> BytesMut {
        super::bytes_buffer(stream)
    }

    /// Benchmark function name of [`decode_slice`]: mqttrs's best harness.
    pub const SLICE_NAME: &str = "mqttrs-slice";

    /// Decodes every packet in `buf`, splitting each off first, leaving `buf` empty; panics on an
    /// error.
    pub fn decode_buf(buf: &mut BytesMut) -> usize {
        let mut n = 0;
        while !buf.is_empty() {
            let len = next_len(buf, n);
            decode_frame(&buf.split_to(len), n);
            n += 1;
        }
        n
    }

    /// Decodes every packet in `stream` in place, the way mqttrs's borrowed API is used best:
    /// each frame's length from its fixed header, then `decode_slice` on that sub-slice (no
    /// buffer, no split). Panics on an error.
    pub fn decode_slice(stream: &[u8]) -> usize {
        let (mut rest, mut n) = (stream, 0);
        while !rest.is_empty() {
            let (frame, tail) = rest.split_at(next_len(rest, n));
            decode_frame(frame, n);
            rest = tail;
            n += 1;
        }
        n
    }

    /// The length of the `n`th packet, at the front of `buf`.
    fn next_len(buf: &[u8], n: usize) -> usize {
        match frame_len(buf) {
            Some(len) if len <= buf.len() && len <= super::MAX_PACKET + 5 => len,
            _ => panic!("{NAME}: packet {n}: bad or incomplete fixed header"),
        }
    }

    /// Decodes the `n`th packet, exactly `frame`, and drops it.
    #[inline]
    fn decode_frame(frame: &[u8], n: usize) {
        match ::mqttrs::decode_slice(frame) {
            Ok(Some(p)) => {
                black_box(p);
            }
            Ok(None) => panic!("{NAME}: packet {n}: incomplete"),
            Err(e) => panic!("{NAME}: packet {n}: {e:?}"),
        }
    }

    /// [`buffer`] then [`decode_buf`].
    pub fn decode_all(stream: &[u8]) -> usize {
        decode_buf(&mut buffer(stream))
    }

    /// Decodes one packet (see [`super::DecodeOne`]).
    pub fn decode_one(packet: &[u8]) -> Result<Option<String>, String> {
        match ::mqttrs::decode_slice(packet) {
            Ok(Some(p)) => Ok(Some(format!("{p:?}"))),
            Ok(None) => Ok(None),
            Err(e) => Err(format!("{e:?}")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::streams;

    #[test]
    fn every_stream_decodes_fully_with_every_peer() {
        for (version, stream) in streams::all() {
            for peer in for_version(version) {
                assert_eq!(
                    (peer.decode_all)(&stream.bytes),
                    stream.packets,
                    "{} on {}",
                    peer.name,
                    stream.name
                );
            }
        }
    }

    #[test]
    fn every_version_has_peers() {
        assert_eq!(for_version(Version::V3_1_1).count(), 3);
        assert_eq!(for_version(Version::V5).count(), 2);
    }

    #[test]
    fn decode_one_accepts_each_packet_of_the_v311_stream() {
        let stream = streams::mixed_v311();
        let frames = streams::split_frames(&stream.bytes).unwrap();
        for peer in for_version(Version::V3_1_1) {
            let one = peer.decode_one.unwrap();
            for (i, f) in frames.iter().enumerate().take(40) {
                let v = judge(one, f);
                assert!(v.accepted(), "{} packet {i}: {v:?}", peer.name);
            }
        }
    }
}
