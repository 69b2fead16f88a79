//! Decodes one stream with Touchstone in a loop, for profilers (`perf record`, callgrind):
//! `cargo run --release -p touchstone-benches --example decode_loop -- mixed-3.1.1 2000`.
//! Besides the benchmark streams, `only-TYPE` streams (for example `only-publish`) repeat the
//! packets of one type from `mixed-3.1.1` (`only-TYPE@mixed-5.0` from another stream), to see
//! what each type costs. A third argument picks
//! the mode: `ref` decodes borrowed packets in place with `Decoder::decode_ref`; `mqttrs` decodes
//! the same bytes with mqttrs, splitting each frame off a buffer, and `mqttrs-slice` in place
//! from the slice (its best harness); `mqttbytes-v5` with rumqttc's 5.0 codec; `split` only splits each frame off the buffer as shared
//! bytes (the floor of a decoder handing out owned payloads). The stream name `malformed`
//! decodes the catalogue of malformed 3.1.1 packets instead (the error path).

use std::hint::black_box;
use std::time::Instant;

use bytes::BytesMut;
use touchstone_benches::peers::{mqttbytes_v5, mqttrs};
use touchstone_benches::{streams, touchstone};
use touchstone_codec::{Decoder, Protocol};

fn main() {
    let mut args = std::env::args().skip(1);
    let name = args.next().unwrap_or_else(|| "mixed-3.1.1".into());
    let rounds: usize = args.next().and_then(|n| n.parse().ok()).unwrap_or(2000);
    let mode = args.next();
    if name == "malformed" {
        // The error path: every packet of the malformed catalogue, one decode each, reading the
        // error's fields as the fuzz targets do (not its message).
        let packets: Vec<Vec<u8>> = touchstone_benches::malformed::CATALOGUE
            .iter()
            .map(|m| m.bytes())
            .collect();
        let decoder = Decoder::new(Protocol::V3_1_1);
        let start = Instant::now();
        let mut n = 0usize;
        for _ in 0..rounds {
            for p in &packets {
                let mut buf = BytesMut::from(&p[..]);
                if let Err(e) = decoder.decode(&mut buf) {
                    black_box((e.kind, e.offset, e.reason_code));
                }
                n += 1;
            }
        }
        let secs = start.elapsed().as_secs_f64();
        println!("malformed: {:.1} ns/packet", secs * 1e9 / n as f64);
        return;
    }
    let (protocol, bytes) = stream(&name);
    // As in the criterion bench, the owned modes decode a fresh copy each round (the copy is
    // timed here) and the in-place modes decode the stream itself.
    fn owned(decode: impl Fn(&mut BytesMut) -> usize + 'static) -> Decode {
        Box::new(move |stream: &[u8]| {
            let mut buf = BytesMut::with_capacity(stream.len() + 4096);
            buf.extend_from_slice(stream);
            decode(&mut buf)
        })
    }
    let decode: Decode = match mode.as_deref() {
        None => owned(move |buf| touchstone::decode_buf(protocol, buf)),
        Some("ref") => Box::new(move |s| touchstone::decode_slice(protocol, s)),
        // The fastest 3.1.1 peer on the same bytes, for comparison.
        Some("mqttrs") => owned(mqttrs::decode_buf),
        Some("mqttrs-slice") => Box::new(mqttrs::decode_slice),
        // The fastest 5.0 peer, for the 5.0 streams.
        Some("mqttbytes-v5") => owned(mqttbytes_v5::decode_buf),
        // The floor of any decoder that hands out owned `Bytes`: split each frame off the
        // buffer as shared bytes and drop it (two reference-count operations), decoding nothing.
        Some("split") => owned(|buf| {
            let mut packets = 0;
            while let Some(len) = touchstone_benches::streams::frame_len(buf) {
                black_box(buf.split_to(len).freeze());
                packets += 1;
            }
            packets
        }),
        Some(other) => {
            eprintln!(
                "unknown mode {other}; one of: ref, mqttrs, mqttrs-slice, mqttbytes-v5, split"
            );
            std::process::exit(2)
        }
    };
    let start = Instant::now();
    let mut packets = 0;
    for _ in 0..rounds {
        packets += decode(&bytes);
    }
    let secs = start.elapsed().as_secs_f64();
    println!(
        "{name} ({}): {:.1} ns/packet, {:.0} MB/s",
        mode.as_deref().unwrap_or("touchstone"),
        secs * 1e9 / packets as f64,
        (bytes.len() * rounds) as f64 / secs / 1e6
    );
}

/// A decoder of a whole stream, returning the number of packets.
type Decode = Box<dyn Fn(&[u8]) -> usize>;

fn stream(name: &str) -> (Protocol, Vec<u8>) {
    if let Some(kind) = name.strip_prefix("only-") {
        // `only-TYPE` takes the packets from mixed-3.1.1, `only-TYPE@STREAM` from STREAM.
        let (kind, from) = kind.split_once('@').unwrap_or((kind, "mixed-3.1.1"));
        let (protocol, bytes) = stream(from);
        let decoder = Decoder::new(protocol);
        let mixed = streams::Stream {
            name: "",
            bytes,
            packets: 0,
        };
        let mut buf = BytesMut::from(&mixed.bytes[..]);
        let mut out = Vec::new();
        let mut start = 0;
        while let Some(p) = decoder.decode(&mut buf).expect("valid stream") {
            let end = mixed.bytes.len() - buf.len();
            if format!("{:?}", p.packet_type()).eq_ignore_ascii_case(kind) {
                out.extend_from_slice(&mixed.bytes[start..end]);
            }
            start = end;
        }
        if out.is_empty() {
            eprintln!("no {kind} packets in {from}");
            std::process::exit(2);
        }
        return (protocol, out);
    }
    let Some((_, s)) = streams::all().into_iter().find(|(_, s)| s.name == name) else {
        let names: Vec<_> = streams::all().iter().map(|(_, s)| s.name).collect();
        eprintln!("unknown stream {name}; one of: {names:?} or only-TYPE");
        std::process::exit(2)
    };
    let protocol = if name.ends_with("5.0") {
        Protocol::V5
    } else {
        Protocol::V3_1_1
    };
    (protocol, s.bytes)
}
