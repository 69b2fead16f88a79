//! A connection's byte stream as a server reads it, across versions: the version comes from the
//! CONNECT at its front (`peek_protocol`), then packets are decoded with that version.
//!
//! Input: a selector byte (`% 4`: 0 = a 3.1 CONNECT, 1 = 3.1.1, 2 = 5.0 template CONNECT in
//! front of the rest; 3 = the rest as it is), a count byte `k` (`% 16`), `k` chunk sizes (used
//! cyclically, 0 = the rest), then the rest of the stream. Checks:
//!
//! * `peek_protocol` is monotonic: on every prefix the stream is read in, it answers "need more"
//!   or exactly what it answers for the whole stream; and once the first packet is whole it
//!   decides (it never waits for bytes beyond the CONNECT it reads);
//! * with a template CONNECT it finds the template's version;
//! * reading in chunks (peek until decided, then `Decoder::decode` after each chunk) gives the
//!   same packets and the same end (clean, incomplete, or the same error kind at the same
//!   offset) as `decode_slice` over the whole stream, whatever the version;
//! * every packet decoded re-encodes (checked encoding) to bytes that decode to the same packet
//!   and re-encode identically (encode(decode(x)) is stable).
//!
//! The `streaming` target covers chunked decoding for a fixed version; this one adds version
//! detection from the stream and packets following a CONNECT.

#![no_main]

use bytes::BytesMut;
use libfuzzer_sys::fuzz_target;
use touchstone_codec::{
    peek_protocol, Connect, DecodeError, Decoder, ErrorKind, FixedHeader, Packet, Protocol,
};

#[derive(Debug, PartialEq)]
enum End {
    Clean,
    Incomplete,
    Error(ErrorKind, usize),
}

fn end_of(e: &DecodeError) -> End {
    if e.kind == ErrorKind::Incomplete {
        End::Incomplete
    } else {
        End::Error(e.kind, e.offset)
    }
}

fn stable(p: Protocol, packet: &Packet) {
    let Ok(first) = packet.to_bytes(p) else {
        panic!("a decoded packet does not encode ({p}): {packet:?}");
    };
    let (again, n) = Decoder::new(p)
        .decode_slice(&first)
        .unwrap_or_else(|e| panic!("re-encoding does not decode ({p}): {e}\n{packet:?}"));
    assert_eq!(n, first.len());
    assert_eq!(&again, packet, "decode(encode(x)) != x ({p})");
    assert_eq!(
        again.to_bytes(p).expect("encode again"),
        first,
        "encoding not stable"
    );
}

fuzz_target!(|data: &[u8]| {
    let [selector, k, rest @ ..] = data else {
        return;
    };
    let k = usize::from(k % 16).min(rest.len());
    let (sizes, tail) = rest.split_at(k);
    let mut stream = Vec::new();
    let template = match selector % 4 {
        3 => None,
        n => Some(Protocol::ALL[usize::from(n)]),
    };
    if let Some(p) = template {
        let c = Connect {
            client_id: "fuzz".into(),
            clean_start: true,
            keep_alive: 30,
            ..Connect::default()
        };
        stream.extend_from_slice(&Packet::Connect(Box::new(c)).to_bytes(p).expect("template"));
    }
    stream.extend_from_slice(tail);

    // Whole stream.
    let whole = peek_protocol(&stream);
    if let Some(p) = template {
        assert_eq!(
            whole.as_ref().ok().copied().flatten(),
            Some(p),
            "template version"
        );
    }
    if matches!(whole, Ok(None)) {
        // Undecided: the first packet must not be whole yet.
        if let Ok(Some(h)) =
            FixedHeader::parse(&stream, Protocol::V5, touchstone_codec::MAX_PACKET_SIZE)
        {
            assert!(
                h.packet_len() > stream.len(),
                "peek_protocol waits for more bytes though the first {}-byte packet is whole: {:02x?}",
                h.packet_len(),
                &stream[..h.packet_len()]
            );
        }
    }
    let expected_protocol = match &whole {
        Ok(Some(p)) => Some(*p),
        _ => None,
    };
    let mut expected: Vec<Packet> = Vec::new();
    let mut expected_end = End::Incomplete;
    if let Some(p) = expected_protocol {
        let decoder = Decoder::new(p);
        let mut off = 0;
        expected_end = loop {
            if off == stream.len() {
                break End::Clean;
            }
            match decoder.decode_slice(&stream[off..]) {
                Ok((x, n)) => {
                    stable(p, &x);
                    expected.push(x);
                    off += n;
                }
                Err(e) => break end_of(&e),
            }
        };
    }

    // In chunks, as a server reads a connection.
    let mut buf = BytesMut::new();
    let mut decoder: Option<Decoder> = None;
    let mut got: Vec<Packet> = Vec::new();
    let mut fed = 0;
    let mut chunk = 0;
    let got_end = 'outer: loop {
        let size = match sizes.get(chunk % sizes.len().max(1)) {
            Some(&s) if s > 0 => usize::from(s),
            _ => usize::MAX,
        };
        chunk += 1;
        let n = size.min(stream.len() - fed);
        buf.extend_from_slice(&stream[fed..fed + n]);
        fed += n;
        if decoder.is_none() {
            match peek_protocol(&buf) {
                Ok(None) => {}
                r => {
                    // Decided: the same answer as for the whole stream.
                    let same = match (&r, &whole) {
                        (Ok(a), Ok(b)) => a == b,
                        (Err(a), Err(b)) => a.kind == b.kind && a.offset == b.offset,
                        _ => false,
                    };
                    assert!(
                        same,
                        "peek_protocol on {fed} bytes: {r:?}; on all: {whole:?}"
                    );
                    match r {
                        Ok(Some(p)) => decoder = Some(Decoder::new(p)),
                        _ => break 'outer End::Incomplete,
                    }
                }
            }
        }
        if let Some(d) = &decoder {
            loop {
                match d.decode(&mut buf) {
                    Ok(Some(x)) => got.push(x),
                    Ok(None) => break,
                    Err(e) => break 'outer end_of(&e),
                }
            }
        }
        if fed == stream.len() {
            break if buf.is_empty() && decoder.is_some() {
                End::Clean
            } else {
                End::Incomplete
            };
        }
    };
    if expected_protocol.is_some() {
        assert_eq!(got, expected, "packets differ");
        assert_eq!(got_end, expected_end, "outcome differs");
    } else {
        assert!(got.is_empty());
    }
});
