//! Streaming decode with arbitrary split points must agree with decoding all at once.
//!
//! Input: a selector byte (`% 3`: 0 = 3.1, 1 = 3.1.1, 2 = 5.0; `/ 3`, if not 0, sets a maximum
//! packet size of `8 * (selector / 3)` bytes), a count byte `k` (`% 16`), `k` chunk sizes, then
//! the stream. The stream is fed to `Decoder::decode` in chunks of those sizes, used cyclically
//! (0: no new bytes), draining every whole packet after each chunk. The packets and the final
//! outcome (clean end, end inside a packet, or the same error kind at the same offset of the same
//! packet) must be those of `Decoder::decode_slice` in a loop over the whole stream.

#![no_main]

use bytes::BytesMut;
use libfuzzer_sys::fuzz_target;
use touchstone_codec::{DecodeError, Decoder, ErrorKind, FixedHeader, Packet};

mod common;

#[derive(Debug, PartialEq)]
enum End {
    /// All bytes formed whole packets.
    Clean,
    /// The stream ended inside a packet.
    Incomplete,
    /// Decoding failed: error kind and offset within the failing packet.
    Error(ErrorKind, usize),
}

fn end_of(e: &DecodeError) -> End {
    if e.kind == ErrorKind::Incomplete {
        End::Incomplete
    } else {
        End::Error(e.kind, e.offset)
    }
}

fuzz_target!(|data: &[u8]| {
    let [selector, k, rest @ ..] = data else {
        return;
    };
    let k = usize::from(k % 16).min(rest.len());
    let (sizes, stream) = rest.split_at(k);
    let mut decoder = Decoder::new(common::protocol(*selector));
    if selector / 3 > 0 {
        decoder = decoder.with_max_packet_size(8 * usize::from(selector / 3));
    }

    // All at once.
    let mut expected: Vec<Packet> = Vec::new();
    let mut off = 0;
    let expected_end = loop {
        if off == stream.len() {
            break End::Clean;
        }
        match decoder.decode_slice(&stream[off..]) {
            Ok((p, n)) => {
                expected.push(p);
                off += n;
            }
            Err(e) => break end_of(&e),
        }
    };

    // In chunks.
    let mut got: Vec<Packet> = Vec::new();
    let mut buf = BytesMut::new();
    let mut fed = 0;
    let mut chunk = 0;
    let step_sum: usize = sizes.iter().map(|&s| usize::from(s)).sum();
    let got_end = 'outer: loop {
        let size = if step_sum == 0 {
            usize::MAX
        } else {
            usize::from(sizes[chunk % sizes.len()])
        };
        chunk += 1;
        let n = size.min(stream.len() - fed);
        buf.extend_from_slice(&stream[fed..fed + n]);
        fed += n;
        loop {
            let held = buf.clone();
            match decoder.decode(&mut buf) {
                Ok(Some(p)) => got.push(p),
                Ok(None) => break,
                Err(e) => {
                    let left = match FixedHeader::parse(&held, decoder.protocol(), decoder.max_packet_size()) {
                        Ok(Some(h)) => &held[h.packet_len()..],
                        _ => &held[..],
                    };
                    assert_eq!(&buf[..], left, "a failed decode must remove exactly the invalid packet, or nothing");
                    assert_ne!(e.kind, ErrorKind::Incomplete);
                    break 'outer End::Error(e.kind, e.offset);
                }
            }
        }
        if fed == stream.len() {
            break if buf.is_empty() {
                End::Clean
            } else {
                End::Incomplete
            };
        }
    };

    assert_eq!(got, expected, "packets differ");
    assert_eq!(got_end, expected_end, "outcome differs");
});
