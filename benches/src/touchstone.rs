//! Touchstone's own codec, driven like the peers: owned packets split off a `bytes::BytesMut`
//! ([`decode_buf`]), and borrowed packets read in place from a slice ([`decode_slice`]).

use std::hint::black_box;

use bytes::BytesMut;
use touchstone_codec::{Decoder, Protocol};

/// Benchmark function name of [`decode_buf`] (owned packets).
pub const NAME: &str = "touchstone";
/// Benchmark function name of [`decode_slice`] (borrowed packets).
pub const REF_NAME: &str = "touchstone-ref";

/// Decodes every packet in `buf` with [`Decoder::decode`], leaving it empty; panics on an error.
pub fn decode_buf(protocol: Protocol, buf: &mut BytesMut) -> usize {
    let decoder = Decoder::new(protocol);
    let mut n = 0;
    while let Some(p) = decoder.decode(buf).expect("valid stream") {
        black_box(p);
        n += 1;
    }
    n
}

/// Decodes every packet in `stream` in place with [`Decoder::decode_ref`]; panics on an error or
/// on bytes left over.
pub fn decode_slice(protocol: Protocol, stream: &[u8]) -> usize {
    let decoder = Decoder::new(protocol);
    let (mut rest, mut n) = (stream, 0);
    while let Some((p, len)) = decoder.decode_ref(rest).expect("valid stream") {
        black_box(p);
        rest = rest.get(len..).unwrap_or_default();
        n += 1;
    }
    assert!(
        rest.is_empty(),
        "{REF_NAME}: {} bytes left over",
        rest.len()
    );
    n
}
