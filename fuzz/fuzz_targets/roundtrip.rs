//! Round trip: the first byte selects the version (0: 3.1, 1: 3.1.1, 2: 5.0, cyclically); the
//! rest is decoded packet by packet. Whatever decodes must pass `Packet::check`, encode with
//! checked encoding to bytes that decode to an equal packet, no longer than the input packet
//! (re-encoding only drops optional parts), and re-encode to identical bytes.

#![no_main]

use bytes::BytesMut;
use libfuzzer_sys::fuzz_target;
use touchstone_codec::{decode_slice, Packet, Protocol};

mod common;

fuzz_target!(|data: &[u8]| {
    let Some((&selector, mut rest)) = data.split_first() else {
        return;
    };
    let protocol = common::protocol(selector);
    while let Ok((packet, n)) = decode_slice(protocol, rest) {
        round_trip(protocol, &packet, n);
        rest = &rest[n..];
    }
});

fn round_trip(p: Protocol, packet: &Packet, input_len: usize) {
    if let Err(e) = packet.check(p) {
        panic!("a decoded packet fails the encoder's check ({p}): {e}\n{packet:?}");
    }
    let mut first = BytesMut::new();
    packet
        .encode(p, &mut first)
        .unwrap_or_else(|e| panic!("checked packet does not encode: {e}"));
    assert_eq!(first.len(), packet.encoded_len(p), "encoded_len");
    assert!(
        first.len() <= input_len,
        "re-encoding is longer ({}) than the decoded input ({input_len})",
        first.len()
    );
    let (again, n) = decode_slice(p, &first).unwrap_or_else(|e| {
        panic!("re-encoding does not decode ({p}): {e}\n{packet:?}\n{first:02x?}")
    });
    assert_eq!(n, first.len(), "re-encoding decodes to a shorter packet");
    assert_eq!(&again, packet, "decode(encode(packet)) != packet");
    let mut second = BytesMut::new();
    again.encode(p, &mut second).expect("encode again");
    assert_eq!(first, second, "encoding is not stable");
}
