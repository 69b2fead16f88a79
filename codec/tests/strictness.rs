//! One test per rule the codec enforces: each feeds a packet that breaks exactly that rule and
//! asserts the exact error (kind, reason code, statements, offset). Tests of numbered statements
//! are named `v311_mqtt_x_y_z_n_...` or `v5_mqtt_x_y_z_n_...`; `every_codec_statement_is_tested`
//! checks that every statement the specification index marks `codec` has one.

use bytes::BytesMut;
use touchstone_codec::raw::Frame;
use touchstone_codec::topic::{validate_topic_name, TopicError};
use touchstone_codec::*;

const V3: Protocol = Protocol::V3_1_1;
const V5: Protocol = Protocol::V5;

/// Decodes one packet; first checks that the borrowed decoder agrees with the owned one on it.
#[track_caller]
fn decode(p: Protocol, frame: &Frame) -> Result<Packet, DecodeError> {
    let bytes = frame.to_bytes();
    agrees(p, &bytes);
    decode_slice(p, &bytes).map(|(packet, _)| packet)
}

/// Asserts that `Decoder::decode_ref` gives what `Decoder::decode` gives on `bytes`.
#[track_caller]
fn agrees(p: Protocol, bytes: &[u8]) {
    if let Err(e) = Decoder::new(p).compare_decode_ref(bytes) {
        panic!("{}: {e}", hex::encode(bytes));
    }
}

#[track_caller]
fn ok(p: Protocol, frame: Frame) -> Packet {
    match decode(p, &frame) {
        Ok(packet) => packet,
        Err(e) => panic!(
            "expected {} to decode in {p}, got {e}",
            hex::encode(&frame.to_bytes())
        ),
    }
}

/// Asserts the error: kind, v5 reason code, the cited statement ids (all of them, in the
/// version of `p`), and the offset.
#[track_caller]
fn fails(
    p: Protocol,
    frame: Frame,
    kind: ErrorKind,
    reason: u8,
    ids: &[&str],
    offset: usize,
) -> DecodeError {
    let bytes = frame.to_bytes();
    agrees(p, &bytes);
    let e = match decode_slice(p, &bytes) {
        Ok((packet, _)) => panic!(
            "expected {} to fail in {p}, decoded {packet:?}",
            hex::encode(&bytes)
        ),
        Err(e) => e,
    };
    assert_eq!(e.kind, kind, "kind: {e}");
    assert_eq!(e.reason_code, Some(ReasonCode(reason)), "reason code: {e}");
    let version = p.spec();
    for s in &e.statements {
        assert_eq!(s.version, version, "statement {s} cited for {p}: {e}");
    }
    let cited: Vec<&str> = e.statements.iter().map(|s| s.id).collect();
    assert_eq!(cited, ids, "statements: {e}");
    assert_eq!(e.offset, offset, "offset: {e}");
    e
}

#[track_caller]
fn malformed(p: Protocol, frame: Frame, ids: &[&str], offset: usize) -> DecodeError {
    fails(p, frame, ErrorKind::Malformed, 0x81, ids, offset)
}

#[track_caller]
fn protocol_error(p: Protocol, frame: Frame, ids: &[&str], offset: usize) -> DecodeError {
    fails(p, frame, ErrorKind::ProtocolError, 0x82, ids, offset)
}

// ---------------------------------------------------------------------------------------------
// Packet builders (only the fields before the one under test matter for offsets).

/// CONNECT up to and including Keep Alive (offset of the next byte: 12 in 3.1.1).
fn connect_head(p: Protocol, flags: u8) -> Frame {
    Frame::new(0x10)
        .string(p.name())
        .u8(p.level())
        .u8(flags)
        .u16(60)
}

/// A 3.1.1 CONNECT with client id "c" and the given flags and payload after the client id.
fn connect_v3(flags: u8) -> Frame {
    connect_head(V3, flags).string("c")
}

/// A 5.0 CONNECT with empty properties and client id "c".
fn connect_v5(flags: u8) -> Frame {
    connect_head(V5, flags).u8(0).string("c")
}

fn publish(p: Protocol, first: u8, topic: &[u8]) -> Frame {
    let f = Frame::new(first).string(topic);
    let f = if first & 0x06 != 0 { f.u16(1) } else { f };
    if p.is_v5() {
        f.u8(0)
    } else {
        f
    }
}

fn subscribe(p: Protocol, filter: &[u8], options: u8) -> Frame {
    let f = Frame::new(0x82).u16(1);
    let f = if p.is_v5() { f.u8(0) } else { f };
    f.string(filter).u8(options)
}

fn unsubscribe(p: Protocol, filter: &[u8]) -> Frame {
    let f = Frame::new(0xA2).u16(1);
    let f = if p.is_v5() { f.u8(0) } else { f };
    f.string(filter)
}

/// A 5.0 PUBLISH QoS 0 on "t" with these properties (body bytes) and a payload "x".
fn publish_props(props: &[u8]) -> Frame {
    Frame::new(0x30)
        .string("t")
        .varint(props.len() as u32)
        .bytes(props)
        .bytes("x")
}

// ---------------------------------------------------------------------------------------------
// Fixed header.

#[test]
fn v311_mqtt_2_2_2_1_reserved_flags_of_each_packet_type() {
    // PUBREL, SUBSCRIBE, UNSUBSCRIBE need 0010; the others 0000.
    malformed(
        V3,
        Frame::new(0x60).u16(1),
        &["MQTT-2.2.2-1", "MQTT-2.2.2-2", "MQTT-3.6.1-1"],
        0,
    );
    malformed(
        V3,
        Frame::new(0x80).u16(1).string("a").u8(0),
        &["MQTT-2.2.2-1", "MQTT-2.2.2-2", "MQTT-3.8.1-1"],
        0,
    );
    malformed(
        V3,
        Frame::new(0xA0).u16(1).string("a"),
        &["MQTT-2.2.2-1", "MQTT-2.2.2-2", "MQTT-3.10.1-1"],
        0,
    );
    malformed(
        V3,
        Frame::new(0xE1),
        &["MQTT-2.2.2-1", "MQTT-2.2.2-2", "MQTT-3.14.1-1"],
        0,
    );
    for first in [0x11, 0x28, 0x42, 0x54, 0x71, 0x98, 0xB8, 0xC1, 0xD2] {
        malformed(
            V3,
            Frame::new(first).u16(1),
            &["MQTT-2.2.2-1", "MQTT-2.2.2-2"],
            0,
        );
    }
    ok(V3, Frame::new(0x62).u16(1));
}

#[test]
fn v5_mqtt_2_1_3_1_reserved_flags_of_each_packet_type() {
    malformed(
        V5,
        Frame::new(0x63).u16(1),
        &["MQTT-2.1.3-1", "MQTT-3.6.1-1"],
        0,
    );
    malformed(
        V5,
        Frame::new(0x8A).u16(1).u8(0).string("a").u8(0),
        &["MQTT-2.1.3-1", "MQTT-3.8.1-1"],
        0,
    );
    malformed(
        V5,
        Frame::new(0xA6).u16(1).u8(0).string("a"),
        &["MQTT-2.1.3-1", "MQTT-3.10.1-1"],
        0,
    );
    malformed(V5, Frame::new(0xE2), &["MQTT-2.1.3-1", "MQTT-3.14.1-1"], 0);
    malformed(V5, Frame::new(0xF1), &["MQTT-2.1.3-1", "MQTT-3.15.1-1"], 0);
    malformed(V5, Frame::new(0xC4), &["MQTT-2.1.3-1"], 0);
    ok(V5, Frame::new(0xF0));
}

#[test]
fn reserved_packet_type_0_and_auth_outside_v5() {
    malformed(V3, Frame::new(0x00), &[], 0);
    malformed(V5, Frame::new(0x00), &[], 0);
    malformed(V3, Frame::new(0xF0), &[], 0);
    malformed(Protocol::V3_1, Frame::new(0xF0), &[], 0);
}

#[test]
fn remaining_length_longer_than_four_bytes_is_malformed() {
    let e = malformed(
        V3,
        Frame::new(0xC0).remaining_length_bytes(&[0x80, 0x80, 0x80, 0x80, 0x01]),
        &[],
        1,
    );
    assert!(e.message.contains("longer than 4 bytes"), "{e}");
}

#[test]
fn v5_mqtt_1_5_5_1_non_minimal_variable_byte_integers() {
    // Remaining Length 0 in two bytes.
    malformed(
        V5,
        Frame::new(0xC0).remaining_length_bytes(&[0x80, 0x00]),
        &["MQTT-1.5.5-1"],
        1,
    );
    // Property Length 0 in two bytes.
    malformed(
        V5,
        Frame::new(0x30).string("t").bytes([0x80, 0x00]),
        &["MQTT-1.5.5-1"],
        5,
    );
    // Subscription Identifier 1 in two bytes.
    malformed(
        V5,
        Frame::new(0x82)
            .u16(1)
            .u8(3)
            .u8(0x0B)
            .bytes([0x81, 0x00])
            .string("a")
            .u8(0),
        &["MQTT-1.5.5-1"],
        6,
    );
    // 3.1.1 has no statement for it but the encoding is still not the specified one.
    malformed(
        V3,
        Frame::new(0xC0).remaining_length_bytes(&[0x80, 0x00]),
        &[],
        1,
    );
}

#[test]
fn packet_too_large_is_detected_from_the_fixed_header() {
    let decoder = Decoder::new(V5).with_max_packet_size(16);
    let mut buf = BytesMut::from(&[0x30, 0x7F][..]); // announces 129 bytes, only 2 arrived
    let e = decoder.decode(&mut buf).unwrap_err();
    assert_eq!(e.kind, ErrorKind::PacketTooLarge);
    assert_eq!(e.reason_code, Some(ReasonCode::PACKET_TOO_LARGE));
    assert_eq!(e.offset, 0);
    let mut exact = BytesMut::from(
        &Frame::new(0x30)
            .string("t")
            .u8(0)
            .bytes([0u8; 10])
            .to_bytes()[..],
    );
    assert_eq!(exact.len(), 16);
    assert!(decoder.decode(&mut exact).unwrap().is_some());
}

#[test]
fn streaming_decode_waits_for_the_whole_packet_without_reserving() {
    let decoder = Decoder::new(V3);
    // A PUBLISH announcing 200 MB: nothing is allocated for it, the decoder waits.
    let mut buf = BytesMut::from(&[0x30, 0xFF, 0xFF, 0xFF, 0x5F, 0x00][..]);
    let before = buf.capacity();
    assert_eq!(decoder.decode(&mut buf).unwrap(), None);
    assert_eq!(buf.capacity(), before);
    assert_eq!(buf.len(), 6);
}

#[test]
fn decode_slice_reports_incomplete_input() {
    let e = decode_slice(V3, &[0x30, 0x05, 0x00, 0x01]).unwrap_err();
    assert_eq!(e.kind, ErrorKind::Incomplete);
    assert_eq!(e.reason_code, None);
    assert_eq!(e.offset, 4);
    assert_eq!(
        decode_slice(V3, &[]).unwrap_err().kind,
        ErrorKind::Incomplete
    );
    assert_eq!(
        decode_slice(V3, &[0x30, 0x80]).unwrap_err().kind,
        ErrorKind::Incomplete
    );
}

#[test]
fn a_failed_decode_leaves_the_buffer_as_it_was() {
    let bad = Frame::new(0x60).u16(1).to_bytes();
    let mut buf = BytesMut::from(&bad[..]);
    buf.extend_from_slice(&[0xC0, 0x00]);
    let copy = buf.clone();
    assert!(Decoder::new(V3).decode(&mut buf).is_err());
    assert_eq!(buf, copy);
}

#[test]
fn trailing_bytes_after_fixed_size_packets_are_malformed() {
    malformed(V3, Frame::new(0xC0).u8(0), &[], 2);
    malformed(V5, Frame::new(0xD0).u8(0), &[], 2);
    malformed(V3, Frame::new(0x40).u16(1).u8(0), &[], 4);
    malformed(V3, Frame::new(0xE0).u8(0), &[], 2);
    malformed(V3, Frame::new(0x20).u8(0).u8(0).u8(0), &[], 4);
    malformed(V3, Frame::new(0xB0).u16(1).u8(0), &[], 4);
    // 5.0 PUBACK: reason code, properties, then junk.
    malformed(V5, Frame::new(0x40).u16(1).u8(0x10).u8(0).u8(0xFF), &[], 6);
}

#[test]
fn fields_cut_short_are_malformed() {
    // PUBLISH whose topic length runs past the packet.
    malformed(V3, Frame::new(0x30).u16(10).bytes("ab"), &[], 4);
    // PUBACK with one byte of packet id.
    malformed(V3, Frame::new(0x40).u8(1), &[], 2);
    // 5.0 Property Length larger than what is left.
    malformed(V5, Frame::new(0x30).string("t").u8(9).u8(0x02), &[], 5);
    // A property value that runs past the Property Length.
    let e = malformed(V5, publish_props(&[0x02, 0, 0]).remaining_length(8), &[], 7);
    assert!(
        e.message.contains("needs 4 bytes") || e.message.contains("past"),
        "{e}"
    );
}

// ---------------------------------------------------------------------------------------------
// Strings (3.1.1 section 1.5.3, 5.0 section 1.5.4).

#[test]
fn v311_mqtt_1_5_3_1_ill_formed_utf8_and_surrogates() {
    // Overlong encoding of '/', then an encoded surrogate U+D800.
    malformed(
        V3,
        publish(V3, 0x30, b"a\xC0\xAF"),
        &["MQTT-1.5.3-1", "MQTT-3.3.2-1"],
        5,
    );
    malformed(
        V3,
        publish(V3, 0x30, b"\xED\xA0\x80"),
        &["MQTT-1.5.3-1", "MQTT-3.3.2-1"],
        4,
    );
}

#[test]
fn v311_mqtt_1_5_3_2_u0000_in_strings() {
    malformed(
        V3,
        connect_head(V3, 0x82).string("c").string("u\0"),
        &["MQTT-1.5.3-2", "MQTT-3.1.3-11"],
        18,
    );
}

#[test]
fn v311_mqtt_1_5_3_3_bom_is_kept() {
    let Packet::Publish(p) = ok(V3, publish(V3, 0x30, b"\xEF\xBB\xBFa")) else {
        panic!()
    };
    assert_eq!(p.topic.as_str(), "\u{FEFF}a");
}

#[test]
fn v5_mqtt_1_5_4_1_ill_formed_utf8_and_surrogates() {
    malformed(
        V5,
        publish(V5, 0x30, b"\xED\xBF\xBF"),
        &["MQTT-1.5.4-1", "MQTT-3.3.2-1"],
        4,
    );
    malformed(
        V5,
        publish(V5, 0x30, b"\xFF"),
        &["MQTT-1.5.4-1", "MQTT-3.3.2-1"],
        4,
    );
    // In a Reason String.
    malformed(
        V5,
        Frame::new(0x40)
            .u16(1)
            .u8(0x80)
            .u8(4)
            .u8(0x1F)
            .string(b"\xC3"),
        &["MQTT-1.5.4-1"],
        9,
    );
}

#[test]
fn v5_mqtt_1_5_4_2_u0000_in_strings() {
    malformed(
        V5,
        connect_v5(0x82).string("a\0b"),
        &["MQTT-1.5.4-2", "MQTT-3.1.3-12"],
        19,
    );
    malformed(
        V5,
        Frame::new(0x40).u16(1).u8(0x80).u8(4).u8(0x1F).string("\0"),
        &["MQTT-1.5.4-2"],
        9,
    );
}

#[test]
fn v5_mqtt_1_5_4_3_bom_is_kept() {
    let Packet::Publish(p) = ok(V5, publish(V5, 0x30, b"\xEF\xBB\xBF")) else {
        panic!()
    };
    assert_eq!(p.topic.as_bytes(), b"\xEF\xBB\xBF");
}

#[test]
fn v5_mqtt_1_5_7_1_user_property_pairs_are_utf8_strings() {
    malformed(
        V5,
        publish_props(&[0x26, 0, 1, b'k', 0, 1, 0xFF]),
        &["MQTT-1.5.4-1", "MQTT-1.5.7-1"],
        12,
    );
    malformed(
        V5,
        publish_props(&[0x26, 0, 1, 0, 0, 1, b'v']),
        &["MQTT-1.5.4-2", "MQTT-1.5.7-1"],
        9,
    );
    let Packet::Publish(p) = ok(V5, publish_props(&[0x26, 0, 1, b'k', 0, 0])) else {
        panic!()
    };
    assert_eq!(
        p.properties.user_properties.iter().collect::<Vec<_>>(),
        vec![("k", "")]
    );
}

// ---------------------------------------------------------------------------------------------
// Packet identifiers.

#[test]
fn v311_mqtt_2_3_1_1_packet_identifiers_are_non_zero() {
    malformed(
        V3,
        Frame::new(0x82).u16(0).string("a").u8(0),
        &["MQTT-2.3.1-1"],
        2,
    );
    malformed(
        V3,
        Frame::new(0xA2).u16(0).string("a"),
        &["MQTT-2.3.1-1"],
        2,
    );
    malformed(
        V3,
        Frame::new(0x32).string("t").u16(0),
        &["MQTT-2.3.1-1"],
        5,
    );
    malformed(V3, Frame::new(0x40).u16(0), &["MQTT-2.3.1-1"], 2);
}

#[test]
fn v5_packet_identifiers_are_non_zero() {
    malformed(
        V5,
        Frame::new(0x34).string("t").u16(0).u8(0),
        &["MQTT-2.2.1-3", "MQTT-2.2.1-4"],
        5,
    );
}

#[test]
fn v311_mqtt_2_3_1_5_qos0_publish_has_no_packet_identifier() {
    // The two bytes after the topic of a QoS 0 PUBLISH are payload, not a packet id.
    let Packet::Publish(p) = ok(V3, Frame::new(0x30).string("t").u16(7)) else {
        panic!()
    };
    assert_eq!((p.packet_id, &p.payload[..]), (None, &[0u8, 7][..]));
    let mut bad = Publish::new("t", "x");
    bad.packet_id = PacketId::new(7);
    let e = Packet::Publish(bad)
        .encode(V3, &mut BytesMut::new())
        .unwrap_err();
    assert_eq!(e.statements, vec![Statement::v311("MQTT-2.3.1-5")]);
}

#[test]
fn v5_mqtt_2_2_1_2_qos0_publish_has_no_packet_identifier() {
    let Packet::Publish(p) = ok(V5, Frame::new(0x30).string("t").u8(0).u16(7)) else {
        panic!()
    };
    assert_eq!((p.packet_id, &p.payload[..]), (None, &[0u8, 7][..]));
    let mut bad = Publish::new("t", "x");
    bad.packet_id = PacketId::new(7);
    let e = Packet::Publish(bad)
        .encode(V5, &mut BytesMut::new())
        .unwrap_err();
    assert_eq!(e.statements, vec![Statement::v5("MQTT-2.2.1-2")]);
}

#[test]
fn v5_mqtt_2_2_2_1_property_length_is_always_present() {
    // CONNACK without a Property Length.
    malformed(V5, Frame::new(0x20).u8(0).u8(0), &["MQTT-2.2.2-1"], 4);
    let Packet::ConnAck(c) = ok(V5, Frame::new(0x20).u8(0).u8(0).u8(0)) else {
        panic!()
    };
    assert!(c.properties.is_empty());
}

// ---------------------------------------------------------------------------------------------
// CONNECT (3.1.1).

#[test]
fn protocol_name_and_level_must_match_the_version() {
    fails(
        V3,
        connect_head(V5, 0x02).u8(0).string("c"),
        ErrorKind::UnsupportedProtocol,
        0x84,
        &["MQTT-3.1.2-2"],
        8,
    );
    fails(
        V5,
        connect_v3(0x02),
        ErrorKind::UnsupportedProtocol,
        0x84,
        &["MQTT-3.1.2-2"],
        8,
    );
    fails(
        V3,
        Frame::new(0x10)
            .string("MQTX")
            .u8(4)
            .u8(2)
            .u16(0)
            .string("c"),
        ErrorKind::UnsupportedProtocol,
        0x84,
        &["MQTT-3.1.2-1"],
        2,
    );
    fails(
        V3,
        connect_head(Protocol::V3_1, 0x02).string("c"),
        ErrorKind::UnsupportedProtocol,
        0x84,
        &["MQTT-3.1.2-1"],
        2,
    );
    // MQTT 3.1: protocol name MQIsdp, level 3.
    let Packet::Connect(c) = ok(
        Protocol::V3_1,
        connect_head(Protocol::V3_1, 0x02).string("c31"),
    ) else {
        panic!()
    };
    assert_eq!(c.client_id, "c31");
    assert_eq!(
        peek_protocol(&connect_head(Protocol::V3_1, 0x02).string("c").to_bytes()).unwrap(),
        Some(Protocol::V3_1)
    );
    assert_eq!(
        peek_protocol(&connect_v5(0x02).to_bytes()).unwrap(),
        Some(V5)
    );
    assert_eq!(peek_protocol(&[0x10, 0x0A, 0x00]).unwrap(), None);
    assert!(peek_protocol(&[0x30, 0x00]).is_err());
}

/// Found by the `streaming_mixed` fuzz target: `peek_protocol` on `10 00` (a CONNECT with
/// Remaining Length 0) waited for more bytes, reading the protocol name from beyond the packet,
/// so a server kept the connection until its CONNECT timeout instead of rejecting it.
#[test]
fn peek_protocol_decides_once_the_connect_is_whole() {
    for whole in [
        &[0x10, 0x00][..],
        &[0x10, 0x01, 0x00],
        &[0x10, 0x02, 0x00, 0x04],
        &[0x10, 0x06, 0x00, 0x04, b'M', b'Q', b'T', b'T'],
    ] {
        let e = peek_protocol(whole).unwrap_err();
        assert_eq!(e.kind, ErrorKind::Malformed, "{whole:02x?}: {e}");
        // Bytes of a following packet change nothing.
        let mut more = whole.to_vec();
        more.extend_from_slice(&[0x00, 0x04, b'M', b'Q', b'T', b'T', 0x04]);
        assert_eq!(peek_protocol(&more).unwrap_err().kind, ErrorKind::Malformed);
    }
    // Still undecided while the CONNECT is not whole.
    assert_eq!(
        peek_protocol(&[0x10, 0x0A, 0x00, 0x04, b'M']).unwrap(),
        None
    );
}

#[test]
fn v311_mqtt_3_1_2_3_reserved_connect_flag() {
    malformed(V3, connect_v3(0x03), &["MQTT-3.1.2-3"], 9);
}

#[test]
fn v311_mqtt_3_1_2_9_will_flag_requires_will_topic_and_message() {
    let e = malformed(V3, connect_v3(0x06), &["MQTT-3.1.2-9"], 15);
    assert!(e.message.contains("Will Topic"), "{e}");
    malformed(V3, connect_v3(0x06).string("w"), &["MQTT-3.1.2-9"], 18);
    let Packet::Connect(c) = ok(V3, connect_v3(0x2E).string("w").string("bye")) else {
        panic!()
    };
    let will = c.will.unwrap();
    assert_eq!(
        (
            will.topic.as_str(),
            &will.payload[..],
            will.qos,
            will.retain
        ),
        ("w", &b"bye"[..], QoS::AtLeastOnce, true)
    );
}

#[test]
fn v311_mqtt_3_1_2_11_will_flag_0_means_no_will_qos_retain_or_fields() {
    malformed(V3, connect_v3(0x0A), &["MQTT-3.1.2-11", "MQTT-3.1.2-13"], 9);
    malformed(V3, connect_v3(0x22), &["MQTT-3.1.2-11", "MQTT-3.1.2-15"], 9);
    // Will fields present without the flag: trailing bytes.
    malformed(
        V3,
        connect_v3(0x02).string("w").string("m"),
        &["MQTT-3.1.2-18", "MQTT-3.1.3-1"],
        15,
    );
}

#[test]
fn v311_mqtt_3_1_2_13_will_qos_0_without_will_flag() {
    malformed(V3, connect_v3(0x12), &["MQTT-3.1.2-11", "MQTT-3.1.2-13"], 9);
}

#[test]
fn v311_mqtt_3_1_2_14_will_qos_3() {
    malformed(
        V3,
        connect_v3(0x1E).string("w").string("m"),
        &["MQTT-3.1.2-14"],
        9,
    );
    ok(V3, connect_v3(0x16).string("w").string("m"));
}

#[test]
fn v311_mqtt_3_1_2_15_will_retain_0_without_will_flag() {
    malformed(V3, connect_v3(0x20), &["MQTT-3.1.2-11", "MQTT-3.1.2-15"], 9);
}

#[test]
fn v311_mqtt_3_1_2_18_user_name_flag_0_means_no_user_name() {
    malformed(
        V3,
        connect_v3(0x02).string("u"),
        &["MQTT-3.1.2-18", "MQTT-3.1.3-1"],
        15,
    );
}

#[test]
fn v311_mqtt_3_1_2_19_user_name_flag_1_needs_a_user_name() {
    malformed(V3, connect_v3(0x82), &["MQTT-3.1.2-19"], 15);
    let Packet::Connect(c) = ok(V3, connect_v3(0x82).string("u")) else {
        panic!()
    };
    assert_eq!(c.username.as_deref(), Some("u"));
}

#[test]
fn v311_mqtt_3_1_2_20_password_flag_0_means_no_password() {
    malformed(
        V3,
        connect_v3(0x82).string("u").string("p"),
        &["MQTT-3.1.2-20", "MQTT-3.1.3-1"],
        18,
    );
}

#[test]
fn v311_mqtt_3_1_2_21_password_flag_1_needs_a_password() {
    malformed(V3, connect_v3(0xC2).string("u"), &["MQTT-3.1.2-21"], 18);
    let Packet::Connect(c) = ok(V3, connect_v3(0xC2).string("u").string("p")) else {
        panic!()
    };
    assert_eq!(c.password.as_deref(), Some(&b"p"[..]));
}

#[test]
fn v311_mqtt_3_1_2_22_password_needs_user_name() {
    malformed(V3, connect_v3(0x42).string("p"), &["MQTT-3.1.2-22"], 9);
    // 5.0 allows a password without a user name.
    let Packet::Connect(c) = ok(V5, connect_v5(0x42).string("p")) else {
        panic!()
    };
    assert_eq!((c.username, c.password.as_deref()), (None, Some(&b"p"[..])));
}

#[test]
fn v311_mqtt_3_1_3_1_payload_fields_in_order() {
    // User Name and Password in the wrong order leave an unexpected field at the end.
    malformed(
        V3,
        connect_v3(0x82).string("u").string("p"),
        &["MQTT-3.1.2-20", "MQTT-3.1.3-1"],
        18,
    );
    // A Will Topic placed after the User Name is read as the Will Topic's place: the password
    // bytes "a/+" are then the topic, which is invalid.
    malformed(
        V3,
        connect_v3(0x86).string("a/+").string("m").string("u"),
        &["MQTT-3.3.2-2", "MQTT-4.7.1-1"],
        17,
    );
}

#[test]
fn v311_mqtt_3_1_3_3_client_identifier_is_always_first() {
    malformed(V3, connect_head(V3, 0x02), &["MQTT-3.1.3-3"], 12);
}

#[test]
fn v311_mqtt_3_1_3_4_client_identifier_is_utf8() {
    malformed(
        V3,
        connect_head(V3, 0x02).string(b"\xC0\x80"),
        &["MQTT-1.5.3-1", "MQTT-3.1.3-4"],
        14,
    );
}

#[test]
fn v311_mqtt_3_1_3_7_empty_client_identifier_needs_clean_session() {
    let e = fails(
        V3,
        connect_head(V3, 0x00).string(""),
        ErrorKind::ProtocolError,
        0x85,
        &["MQTT-3.1.3-7", "MQTT-3.1.3-8"],
        12,
    );
    assert_eq!(
        ReasonCode(0x85).to_v3_connack(),
        Some(ReasonCode::V3_IDENTIFIER_REJECTED),
        "{e}"
    );
    ok(V3, connect_head(V3, 0x02).string(""));
    // 5.0 lets the server assign an identifier even with Clean Start 0.
    ok(V5, connect_head(V5, 0x00).u8(0).string(""));
}

#[test]
fn v311_mqtt_3_1_3_10_will_topic_is_utf8() {
    malformed(
        V3,
        connect_v3(0x06).string(b"\xED\xA0\x80").string("m"),
        &["MQTT-1.5.3-1", "MQTT-3.1.3-10"],
        17,
    );
}

#[test]
fn v311_mqtt_3_1_3_11_user_name_is_utf8() {
    malformed(
        V3,
        connect_v3(0x82).string(b"\xFE"),
        &["MQTT-1.5.3-1", "MQTT-3.1.3-11"],
        17,
    );
}

// ---------------------------------------------------------------------------------------------
// CONNECT (5.0).

#[test]
fn v5_mqtt_3_1_2_3_reserved_connect_flag() {
    malformed(V5, connect_v5(0x01), &["MQTT-3.1.2-3"], 9);
}

#[test]
fn v5_mqtt_3_1_2_9_will_flag_requires_will_properties_topic_and_payload() {
    malformed(V5, connect_v5(0x06), &["MQTT-3.1.2-9"], 16);
    malformed(V5, connect_v5(0x06).u8(0), &["MQTT-3.1.2-9"], 17);
    malformed(
        V5,
        connect_v5(0x06).u8(0).string("w"),
        &["MQTT-3.1.2-9"],
        20,
    );
    let Packet::Connect(c) = ok(
        V5,
        connect_v5(0x0E)
            .u8(5)
            .u8(0x18)
            .u32(30)
            .string("w")
            .string("m"),
    ) else {
        panic!()
    };
    assert_eq!(c.will.unwrap().properties.will_delay_interval, Some(30));
}

#[test]
fn v5_mqtt_3_1_2_11_will_qos_0_without_will_flag() {
    malformed(V5, connect_v5(0x0A), &["MQTT-3.1.2-11"], 9);
}

#[test]
fn v5_mqtt_3_1_2_12_will_qos_3() {
    malformed(
        V5,
        connect_v5(0x1E).u8(0).string("w").string("m"),
        &["MQTT-3.1.2-12"],
        9,
    );
}

#[test]
fn v5_mqtt_3_1_2_13_will_retain_0_without_will_flag() {
    malformed(V5, connect_v5(0x22), &["MQTT-3.1.2-13"], 9);
}

#[test]
fn v5_mqtt_3_1_2_16_user_name_flag_0_means_no_user_name() {
    malformed(
        V5,
        connect_v5(0x02).string("u"),
        &["MQTT-3.1.2-16", "MQTT-3.1.3-1"],
        16,
    );
}

#[test]
fn v5_mqtt_3_1_2_17_user_name_flag_1_needs_a_user_name() {
    malformed(V5, connect_v5(0x82), &["MQTT-3.1.2-17"], 16);
}

#[test]
fn v5_mqtt_3_1_2_18_password_flag_0_means_no_password() {
    malformed(
        V5,
        connect_v5(0x82).string("u").string("p"),
        &["MQTT-3.1.2-18", "MQTT-3.1.3-1"],
        19,
    );
}

#[test]
fn v5_mqtt_3_1_2_19_password_flag_1_needs_a_password() {
    malformed(V5, connect_v5(0xC2).string("u"), &["MQTT-3.1.2-19"], 19);
}

#[test]
fn v5_mqtt_3_1_3_1_payload_fields_in_order() {
    malformed(
        V5,
        connect_v5(0x82).string("u").string("p"),
        &["MQTT-3.1.2-18", "MQTT-3.1.3-1"],
        19,
    );
}

#[test]
fn v5_mqtt_3_1_3_3_client_identifier_is_always_first() {
    malformed(V5, connect_head(V5, 0x02).u8(0), &["MQTT-3.1.3-3"], 13);
}

#[test]
fn v5_mqtt_3_1_3_4_client_identifier_is_utf8() {
    malformed(
        V5,
        connect_head(V5, 0x02).u8(0).string(b"\xF8\x88\x80\x80\x80"),
        &["MQTT-1.5.4-1", "MQTT-3.1.3-4"],
        15,
    );
}

#[test]
fn v5_mqtt_3_1_3_11_will_topic_is_utf8() {
    malformed(
        V5,
        connect_v5(0x06).u8(0).string(b"\xC3\x28").string("m"),
        &["MQTT-1.5.4-1", "MQTT-3.1.3-11"],
        19,
    );
}

#[test]
fn v5_mqtt_3_1_3_12_user_name_is_utf8() {
    malformed(
        V5,
        connect_v5(0x82).string(b"\xE2\x82"),
        &["MQTT-1.5.4-1", "MQTT-3.1.3-12"],
        18,
    );
}

#[test]
fn will_topic_must_be_a_valid_topic_name() {
    malformed(
        V3,
        connect_v3(0x06).string("a/#").string("m"),
        &["MQTT-3.3.2-2", "MQTT-4.7.1-1"],
        17,
    );
    malformed(
        V3,
        connect_v3(0x06).string("").string("m"),
        &["MQTT-4.7.3-1"],
        17,
    );
    malformed(
        V5,
        connect_v5(0x06).u8(0).string("+").string("m"),
        &["MQTT-3.3.2-2", "MQTT-4.7.0-1"],
        19,
    );
}

// ---------------------------------------------------------------------------------------------
// CONNACK.

#[test]
fn v5_mqtt_3_2_2_1_connack_flags_bits_7_1_are_zero() {
    malformed(
        V5,
        Frame::new(0x20).u8(0x02).u8(0).u8(0),
        &["MQTT-3.2.2-1"],
        2,
    );
    malformed(V3, Frame::new(0x20).u8(0x80).u8(0), &[], 2);
}

#[test]
fn connack_codes_must_be_defined() {
    malformed(V3, Frame::new(0x20).u8(0).u8(6), &[], 3);
    malformed(
        V5,
        Frame::new(0x20).u8(0).u8(0x01).u8(0),
        &["MQTT-3.2.2-8"],
        3,
    );
    let Packet::ConnAck(c) = ok(V3, Frame::new(0x20).u8(0).u8(5)) else {
        panic!()
    };
    assert_eq!(c.reason_code, ReasonCode::V3_NOT_AUTHORIZED);
}

#[test]
fn session_present_only_when_accepted() {
    protocol_error(V3, Frame::new(0x20).u8(1).u8(2), &["MQTT-3.2.2-4"], 2);
    protocol_error(
        V5,
        Frame::new(0x20).u8(1).u8(0x87).u8(0),
        &["MQTT-3.2.2-6"],
        2,
    );
}

// ---------------------------------------------------------------------------------------------
// PUBLISH.

#[test]
fn v311_mqtt_3_3_1_2_dup_is_0_at_qos_0() {
    malformed(V3, publish(V3, 0x38, b"t"), &["MQTT-3.3.1-2"], 0);
    ok(V3, publish(V3, 0x3A, b"t"));
}

#[test]
fn v5_mqtt_3_3_1_2_dup_is_0_at_qos_0() {
    malformed(V5, publish(V5, 0x38, b"t"), &["MQTT-3.3.1-2"], 0);
}

#[test]
fn v311_qos_3_is_malformed_mqtt_3_3_1_4() {
    malformed(
        V3,
        Frame::new(0x36).string("t").u16(1),
        &["MQTT-3.3.1-4"],
        0,
    );
}

#[test]
fn v5_mqtt_3_3_1_4_qos_3_is_malformed() {
    malformed(
        V5,
        Frame::new(0x36).string("t").u16(1).u8(0),
        &["MQTT-3.3.1-4"],
        0,
    );
}

#[test]
fn v311_mqtt_3_3_2_1_topic_name_is_utf8() {
    malformed(
        V3,
        publish(V3, 0x30, b"\x80"),
        &["MQTT-1.5.3-1", "MQTT-3.3.2-1"],
        4,
    );
}

#[test]
fn v5_mqtt_3_3_2_1_topic_name_is_utf8() {
    malformed(
        V5,
        publish(V5, 0x30, b"ok/\xF5"),
        &["MQTT-1.5.4-1", "MQTT-3.3.2-1"],
        7,
    );
}

#[test]
fn v311_mqtt_3_3_2_2_no_wildcards_in_topic_names() {
    malformed(
        V3,
        publish(V3, 0x30, b"a/+"),
        &["MQTT-3.3.2-2", "MQTT-4.7.1-1"],
        4,
    );
}

#[test]
fn v5_mqtt_3_3_2_2_no_wildcards_in_topic_names() {
    malformed(
        V5,
        publish(V5, 0x30, b"#"),
        &["MQTT-3.3.2-2", "MQTT-4.7.0-1"],
        4,
    );
}

#[test]
fn v5_topic_alias_0_and_empty_topic_without_alias_mqtt_3_3_2_8() {
    protocol_error(V5, publish_props(&[0x23, 0, 0]), &["MQTT-3.3.2-8"], 6);
    protocol_error(V5, Frame::new(0x30).string("").u8(0), &["MQTT-4.7.3-1"], 2);
    let Packet::Publish(p) = ok(V5, Frame::new(0x30).string("").u8(3).u8(0x23).u16(4)) else {
        panic!()
    };
    assert_eq!((p.topic.as_str(), p.properties.topic_alias), ("", Some(4)));
}

#[test]
fn v5_mqtt_3_3_2_13_response_topic_is_utf8() {
    malformed(
        V5,
        publish_props(&[0x08, 0, 1, 0xFF]),
        &["MQTT-1.5.4-1", "MQTT-3.3.2-13"],
        9,
    );
}

#[test]
fn v5_mqtt_3_3_2_14_response_topic_has_no_wildcards() {
    malformed(
        V5,
        publish_props(&[0x08, 0, 3, b'r', b'/', b'#']),
        &["MQTT-3.3.2-14"],
        6,
    );
    malformed(V5, publish_props(&[0x08, 0, 0]), &["MQTT-4.7.3-1"], 6);
}

#[test]
fn v5_mqtt_3_3_2_19_content_type_is_utf8() {
    malformed(
        V5,
        publish_props(&[0x03, 0, 2, 0xC2, 0x41]),
        &["MQTT-1.5.4-1", "MQTT-3.3.2-19"],
        9,
    );
}

// ---------------------------------------------------------------------------------------------
// SUBSCRIBE, SUBACK, UNSUBSCRIBE, UNSUBACK.

#[test]
fn v311_mqtt_3_8_3_1_subscribe_filters_are_utf8() {
    malformed(
        V3,
        subscribe(V3, b"a/\xFF", 0),
        &["MQTT-1.5.3-1", "MQTT-3.8.3-1"],
        8,
    );
}

#[test]
fn v5_mqtt_3_8_3_1_subscribe_filters_are_utf8() {
    malformed(
        V5,
        subscribe(V5, b"\xC0", 0),
        &["MQTT-1.5.4-1", "MQTT-3.8.3-1"],
        7,
    );
}

#[test]
fn v311_mqtt_3_8_3_3_subscribe_needs_a_filter() {
    protocol_error(V3, Frame::new(0x82).u16(1), &["MQTT-3.8.3-3"], 4);
}

#[test]
fn v5_mqtt_3_8_3_2_subscribe_needs_a_filter() {
    protocol_error(V5, Frame::new(0x82).u16(1).u8(0), &["MQTT-3.8.3-2"], 5);
}

#[test]
fn v311_mqtt_3_8_3_4_requested_qos_reserved_bits_and_qos_3() {
    malformed(V3, subscribe(V3, b"a", 0x03), &["MQTT-3.8.3-4"], 7);
    malformed(V3, subscribe(V3, b"a", 0x04), &["MQTT-3.8.3-4"], 7);
    ok(V3, subscribe(V3, b"a", 0x02));
}

#[test]
fn v5_mqtt_3_8_3_4_no_local_on_shared_subscription() {
    protocol_error(
        V5,
        subscribe(V5, b"$share/g/a", 0x04),
        &["MQTT-3.8.3-4"],
        17,
    );
    ok(V5, subscribe(V5, b"$share/g/a", 0x00));
    ok(V5, subscribe(V5, b"a", 0x04));
}

#[test]
fn v5_mqtt_3_8_3_5_subscription_options_reserved_bits() {
    malformed(V5, subscribe(V5, b"a", 0x40), &["MQTT-3.8.3-5"], 8);
    malformed(V5, subscribe(V5, b"a", 0x80), &["MQTT-3.8.3-5"], 8);
}

#[test]
fn v5_subscription_options_qos_3_and_retain_handling_3() {
    protocol_error(V5, subscribe(V5, b"a", 0x03), &[], 8);
    protocol_error(V5, subscribe(V5, b"a", 0x30), &[], 8);
    let Packet::Subscribe(s) = ok(V5, subscribe(V5, b"a", 0x2E)) else {
        panic!()
    };
    let o = s.filters[0].options;
    assert_eq!(
        (o.qos, o.no_local, o.retain_as_published, o.retain_handling),
        (QoS::ExactlyOnce, true, true, RetainHandling::DoNotSend)
    );
}

#[test]
fn v311_mqtt_3_10_3_1_unsubscribe_filters_are_utf8() {
    malformed(
        V3,
        unsubscribe(V3, b"\xE0\x80\x80"),
        &["MQTT-1.5.3-1", "MQTT-3.10.3-1"],
        6,
    );
}

#[test]
fn v5_mqtt_3_10_3_1_unsubscribe_filters_are_utf8() {
    malformed(
        V5,
        unsubscribe(V5, b"x\xFF"),
        &["MQTT-1.5.4-1", "MQTT-3.10.3-1"],
        8,
    );
}

#[test]
fn v311_mqtt_3_10_3_2_unsubscribe_needs_a_filter() {
    protocol_error(V3, Frame::new(0xA2).u16(1), &["MQTT-3.10.3-2"], 4);
}

#[test]
fn v5_mqtt_3_10_3_2_unsubscribe_needs_a_filter() {
    protocol_error(V5, Frame::new(0xA2).u16(1).u8(0), &["MQTT-3.10.3-2"], 5);
}

#[test]
fn suback_codes_must_be_defined_mqtt_3_9_3_2() {
    malformed(V3, Frame::new(0x90).u16(1).u8(0x03), &["MQTT-3.9.3-2"], 4);
    malformed(V3, Frame::new(0x90).u16(1).u8(0x87), &["MQTT-3.9.3-2"], 4);
    malformed(
        V5,
        Frame::new(0x90).u16(1).u8(0).u8(0x00).u8(0x10),
        &["MQTT-3.9.3-2"],
        6,
    );
    malformed(V3, Frame::new(0x90).u16(1), &[], 4);
    let Packet::SubAck(s) = ok(
        V5,
        Frame::new(0x90)
            .u16(1)
            .u8(0)
            .bytes([0x00, 0x01, 0x02, 0x80, 0x8F, 0xA2]),
    ) else {
        panic!()
    };
    assert_eq!(s.reason_codes.len(), 6);
}

#[test]
fn unsuback_codes_must_be_defined_mqtt_3_11_3_2() {
    malformed(
        V5,
        Frame::new(0xB0).u16(1).u8(0).u8(0x01),
        &["MQTT-3.11.3-2"],
        5,
    );
    malformed(V5, Frame::new(0xB0).u16(1).u8(0), &[], 5);
    let Packet::UnsubAck(u) = ok(V5, Frame::new(0xB0).u16(1).u8(0).bytes([0x00, 0x11])) else {
        panic!()
    };
    assert_eq!(
        u.reason_codes,
        vec![ReasonCode::SUCCESS, ReasonCode::NO_SUBSCRIPTION_EXISTED]
    );
}

// ---------------------------------------------------------------------------------------------
// Topic names and filters (3.1.1 section 4.7, 5.0 sections 4.7 and 4.8.2).

#[test]
fn v311_mqtt_4_7_1_1_wildcards_only_in_filters() {
    malformed(
        V3,
        publish(V3, 0x30, b"#"),
        &["MQTT-3.3.2-2", "MQTT-4.7.1-1"],
        4,
    );
    ok(V3, subscribe(V3, b"#", 0));
}

#[test]
fn v5_mqtt_4_7_0_1_wildcards_only_in_filters() {
    malformed(
        V5,
        publish(V5, 0x30, b"a/+/b"),
        &["MQTT-3.3.2-2", "MQTT-4.7.0-1"],
        4,
    );
    ok(V5, subscribe(V5, b"a/+/b", 0));
}

#[test]
fn v311_mqtt_4_7_1_2_multi_level_wildcard_last_and_alone() {
    malformed(V3, subscribe(V3, b"a/#/b", 0), &["MQTT-4.7.1-2"], 6);
    malformed(V3, unsubscribe(V3, b"a#"), &["MQTT-4.7.1-2"], 6);
}

#[test]
fn v5_mqtt_4_7_1_1_multi_level_wildcard_last_and_alone() {
    malformed(V5, subscribe(V5, b"sport/tennis#", 0), &["MQTT-4.7.1-1"], 7);
}

#[test]
fn v311_mqtt_4_7_1_3_single_level_wildcard_fills_its_level() {
    malformed(V3, subscribe(V3, b"sport+", 0), &["MQTT-4.7.1-3"], 6);
}

#[test]
fn v5_mqtt_4_7_1_2_single_level_wildcard_fills_its_level() {
    malformed(V5, unsubscribe(V5, b"a/+b"), &["MQTT-4.7.1-2"], 7);
}

#[test]
fn v311_mqtt_4_7_3_1_topics_are_not_empty() {
    malformed(V3, publish(V3, 0x30, b""), &["MQTT-4.7.3-1"], 2);
    malformed(V3, subscribe(V3, b"", 0), &["MQTT-4.7.3-1"], 6);
}

#[test]
fn v5_mqtt_4_7_3_1_topics_are_not_empty() {
    malformed(V5, subscribe(V5, b"", 0), &["MQTT-4.7.3-1"], 7);
    malformed(V5, unsubscribe(V5, b""), &["MQTT-4.7.3-1"], 7);
}

#[test]
fn v311_mqtt_4_7_3_2_no_u0000_in_topics() {
    malformed(
        V3,
        publish(V3, 0x30, b"a\0"),
        &["MQTT-1.5.3-2", "MQTT-4.7.3-2", "MQTT-3.3.2-1"],
        5,
    );
    malformed(
        V3,
        subscribe(V3, b"\0", 0),
        &["MQTT-1.5.3-2", "MQTT-4.7.3-2", "MQTT-3.8.3-1"],
        6,
    );
}

#[test]
fn v5_mqtt_4_7_3_2_no_u0000_in_topics() {
    malformed(
        V5,
        publish(V5, 0x30, b"\0"),
        &["MQTT-1.5.4-2", "MQTT-4.7.3-2", "MQTT-3.3.2-1"],
        4,
    );
    malformed(
        V5,
        unsubscribe(V5, b"a/\0"),
        &["MQTT-1.5.4-2", "MQTT-4.7.3-2", "MQTT-3.10.3-1"],
        9,
    );
}

#[test]
fn v311_mqtt_4_7_3_3_topics_fit_in_65535_bytes() {
    // A two-byte length cannot say more on the wire; the encoder refuses longer topics.
    let long = "a".repeat(65_536);
    assert_eq!(validate_topic_name(&long), Err(TopicError::TooLong));
    assert!(Packet::Publish(Publish::new(long.as_str(), ""))
        .encode(V3, &mut BytesMut::new())
        .is_err());
    let max = "a".repeat(65_535);
    let Packet::Publish(p) = ok(V3, publish(V3, 0x30, max.as_bytes())) else {
        panic!()
    };
    assert_eq!(p.topic.len(), 65_535);
}

#[test]
fn v5_mqtt_4_7_3_3_topics_fit_in_65535_bytes() {
    let long = "a".repeat(65_536);
    let mut sub = Subscribe {
        packet_id: PacketId::new(1).unwrap(),
        properties: Default::default(),
        filters: vec![Subscription::new(long.as_str(), QoS::AtMostOnce)],
    };
    assert!(Packet::Subscribe(sub.clone())
        .encode(V5, &mut BytesMut::new())
        .is_err());
    sub.filters[0].filter = Str::from("a".repeat(65_535));
    assert!(Packet::Subscribe(sub)
        .encode(V5, &mut BytesMut::new())
        .is_ok());
}

#[test]
fn v5_mqtt_4_8_2_1_shared_subscription_needs_a_share_name() {
    malformed(V5, subscribe(V5, b"$share//a", 0), &["MQTT-4.8.2-1"], 7);
    // In 3.1.1 the same filter is an ordinary one.
    ok(V3, subscribe(V3, b"$share//a", 0));
}

#[test]
fn v5_mqtt_4_8_2_2_share_name_has_no_wildcards_and_is_followed_by_a_filter() {
    malformed(V5, subscribe(V5, b"$share/g+/a", 0), &["MQTT-4.8.2-2"], 7);
    malformed(V5, subscribe(V5, b"$share/g", 0), &["MQTT-4.8.2-2"], 7);
    malformed(V5, unsubscribe(V5, b"$share/#/x"), &["MQTT-4.8.2-2"], 7);
    let Packet::Subscribe(s) = ok(V5, subscribe(V5, b"$share/g/a/#", 0)) else {
        panic!()
    };
    assert_eq!(s.filters[0].filter, "$share/g/a/#");
}

// ---------------------------------------------------------------------------------------------
// 5.0 properties: the rules without a statement id of their own (5.0 section 2.2.2.2 and the
// "It is a Protocol Error to include ... more than once" sentences of each property).

#[test]
fn v5_property_not_allowed_in_the_packet_is_malformed() {
    // Topic Alias in CONNECT, Session Expiry in PUBLISH, Will Delay in CONNECT properties,
    // Subscription Identifier in UNSUBSCRIBE, Reason String in SUBSCRIBE.
    let e = malformed(
        V5,
        connect_head(V5, 0x02).u8(3).u8(0x23).u16(1).string("c"),
        &[],
        13,
    );
    assert!(
        e.message.contains("Topic Alias") && e.message.contains("CONNECT"),
        "{e}"
    );
    malformed(V5, publish_props(&[0x11, 0, 0, 0, 1]), &[], 6);
    malformed(
        V5,
        connect_head(V5, 0x02).u8(5).u8(0x18).u32(1).string("c"),
        &[],
        13,
    );
    malformed(
        V5,
        Frame::new(0xA2).u16(1).u8(2).u8(0x0B).u8(1).string("a"),
        &[],
        5,
    );
    malformed(
        V5,
        Frame::new(0x82)
            .u16(1)
            .u8(4)
            .u8(0x1F)
            .string("r")
            .string("a")
            .u8(0),
        &[],
        5,
    );
    // Will Properties do not take a Topic Alias either.
    malformed(
        V5,
        connect_v5(0x06)
            .u8(3)
            .u8(0x23)
            .u16(1)
            .string("w")
            .string("m"),
        &[],
        17,
    );
}

#[test]
fn v5_unknown_property_identifier_is_malformed() {
    let e = malformed(V5, publish_props(&[0x7F, 0]), &[], 6);
    assert!(e.message.contains("unknown property"), "{e}");
    malformed(
        V5,
        Frame::new(0x40).u16(1).u8(0).u8(2).u8(0x04).u8(0),
        &[],
        6,
    );
}

#[test]
fn v5_property_twice_is_a_protocol_error() {
    let e = protocol_error(
        V5,
        publish_props(&[0x02, 0, 0, 0, 1, 0x02, 0, 0, 0, 2]),
        &[],
        11,
    );
    assert!(e.message.contains("more than once"), "{e}");
    protocol_error(
        V5,
        connect_head(V5, 0x02)
            .u8(6)
            .bytes([0x21, 0, 1, 0x21, 0, 1])
            .string("c"),
        &[],
        16,
    );
    // A Subscription Identifier may repeat in PUBLISH but not in SUBSCRIBE.
    let Packet::Publish(p) = ok(V5, publish_props(&[0x0B, 1, 0x0B, 2])) else {
        panic!()
    };
    assert_eq!(p.properties.subscription_identifiers, vec![1, 2]);
    protocol_error(
        V5,
        Frame::new(0x82)
            .u16(1)
            .u8(4)
            .bytes([0x0B, 1, 0x0B, 2])
            .string("a")
            .u8(0),
        &[],
        7,
    );
    // User Properties may repeat, names included, and keep their order.
    let Packet::Publish(p) = ok(
        V5,
        publish_props(&[
            0x26, 0, 1, b'a', 0, 1, b'1', 0x02, 0, 0, 0, 9, 0x26, 0, 1, b'a', 0, 1, b'2',
        ]),
    ) else {
        panic!()
    };
    assert_eq!(
        p.properties.user_properties.iter().collect::<Vec<_>>(),
        vec![("a", "1"), ("a", "2")]
    );
    assert_eq!(p.properties.message_expiry_interval, Some(9));
}

#[test]
fn v5_property_values_out_of_range_are_protocol_errors() {
    let connect = |props: &[u8]| {
        connect_head(V5, 0x02)
            .varint(props.len() as u32)
            .bytes(props)
            .string("c")
    };
    let connack = |props: &[u8]| {
        Frame::new(0x20)
            .u8(0)
            .u8(0)
            .varint(props.len() as u32)
            .bytes(props)
    };
    protocol_error(V5, connect(&[0x21, 0, 0]), &[], 13); // Receive Maximum 0
    protocol_error(V5, connect(&[0x27, 0, 0, 0, 0]), &[], 13); // Maximum Packet Size 0
    protocol_error(V5, connect(&[0x17, 2]), &[], 13); // Request Problem Information 2
    protocol_error(V5, connect(&[0x19, 7]), &[], 13); // Request Response Information 7
    protocol_error(V5, connack(&[0x24, 2]), &[], 5); // Maximum QoS 2
    protocol_error(V5, connack(&[0x25, 2]), &[], 5); // Retain Available 2
    protocol_error(V5, connack(&[0x28, 3]), &[], 5); // Wildcard Subscription Available 3
    protocol_error(V5, connack(&[0x29, 3]), &[], 5);
    protocol_error(V5, connack(&[0x2A, 3]), &[], 5);
    protocol_error(V5, publish_props(&[0x01, 2]), &[], 6); // Payload Format Indicator 2
    protocol_error(V5, publish_props(&[0x0B, 0]), &[], 6); // Subscription Identifier 0
    let Packet::ConnAck(c) = ok(V5, connack(&[0x24, 1, 0x25, 0, 0x21, 0, 10, 0x13, 0, 5])) else {
        panic!()
    };
    let p = &c.properties;
    assert_eq!(
        (
            p.maximum_qos,
            p.retain_available,
            p.receive_maximum,
            p.server_keep_alive
        ),
        (Some(QoS::AtLeastOnce), Some(false), Some(10), Some(5))
    );
}

#[test]
fn v5_reason_codes_must_be_defined_for_the_packet() {
    malformed(V5, Frame::new(0x40).u16(1).u8(0x92), &["MQTT-3.4.2-1"], 4);
    malformed(V5, Frame::new(0x50).u16(1).u8(0x04), &["MQTT-3.5.2-1"], 4);
    malformed(V5, Frame::new(0x62).u16(1).u8(0x10), &["MQTT-3.6.2-1"], 4);
    malformed(V5, Frame::new(0x70).u16(1).u8(0x80), &["MQTT-3.7.2-1"], 4);
    malformed(V5, Frame::new(0xE0).u8(0x01), &["MQTT-3.14.2-1"], 2);
    malformed(V5, Frame::new(0xF0).u8(0x04), &["MQTT-3.15.2-1"], 2);
    let Packet::PubRel(r) = ok(V5, Frame::new(0x62).u16(1).u8(0x92)) else {
        panic!()
    };
    assert_eq!(r.reason_code, ReasonCode::PACKET_IDENTIFIER_NOT_FOUND);
}

#[test]
fn v5_short_forms_of_acknowledgements_disconnect_and_auth() {
    for first in [0x40, 0x50, 0x62, 0x70] {
        let two = ok(V5, Frame::new(first).u16(9));
        let three = ok(V5, Frame::new(first).u16(9).u8(0));
        let four = ok(V5, Frame::new(first).u16(9).u8(0).u8(0));
        assert_eq!(two, three);
        assert_eq!(three, four);
    }
    assert_eq!(
        ok(V5, Frame::new(0xE0)),
        Packet::Disconnect(Disconnect::default())
    );
    let Packet::Disconnect(d) = ok(V5, Frame::new(0xE0).u8(0x04)) else {
        panic!()
    };
    assert_eq!(d.reason_code, ReasonCode::DISCONNECT_WITH_WILL);
    assert_eq!(ok(V5, Frame::new(0xF0)), Packet::Auth(Auth::default()));
    let Packet::Auth(a) = ok(V5, Frame::new(0xF0).u8(0x18).u8(8).u8(0x15).string("SCRAM")) else {
        panic!()
    };
    assert_eq!(a.properties.authentication_method.as_deref(), Some("SCRAM"));
}

#[test]
fn user_properties_share_the_packet_buffer() {
    let bytes = publish_props(&[0x26, 0, 1, b'k', 0, 1, b'v']).to_bytes();
    let mut buf = BytesMut::from(&bytes[..]);
    let Some(Packet::Publish(p)) = Decoder::new(V5).decode(&mut buf).unwrap() else {
        panic!()
    };
    assert_eq!(p.properties.user_properties.iter().next(), Some(("k", "v")));
    let mut out = BytesMut::new();
    Packet::Publish(p).encode(V5, &mut out).unwrap();
    assert_eq!(&out[..], &bytes[..]);
}

// ---------------------------------------------------------------------------------------------
// Every statement the index marks `codec` has a test above, named after it.

fn codec_statements(tsv: &str) -> Vec<String> {
    tsv.lines()
        .skip(1)
        .filter_map(|line| {
            let cols: Vec<&str> = line.split('\t').collect();
            (cols.get(5) == Some(&"codec")).then(|| cols[0].to_string())
        })
        .collect()
}

fn test_name(version: &str, id: &str) -> String {
    format!(
        "fn {version}_{}_",
        id.to_lowercase().replace(['-', '.'], "_")
    )
}

#[test]
fn every_codec_statement_is_tested() {
    let source = include_str!("strictness.rs");
    let mut missing = Vec::new();
    for (version, tsv) in [
        ("v311", include_str!("../../spec/mqtt-3.1.1-statements.tsv")),
        ("v5", include_str!("../../spec/mqtt-5.0-statements.tsv")),
    ] {
        let ids = codec_statements(tsv);
        assert!(
            ids.len() >= 30,
            "{version}: only {} codec statements found",
            ids.len()
        );
        for id in ids {
            if !source.contains(&test_name(version, &id)) {
                missing.push(format!("{version} {id}"));
            }
        }
    }
    assert!(
        missing.is_empty(),
        "codec statements without a test named after them: {missing:?}"
    );
}

#[test]
fn every_codec_statement_is_cited_in_the_codec() {
    // The statement ids appear in the codec's source next to the checks that enforce them.
    let sources = [
        include_str!("../src/decoder.rs"),
        include_str!("../src/reader.rs"),
        include_str!("../src/topic.rs"),
        include_str!("../src/properties/mod.rs"),
        include_str!("../src/properties/wire.rs"),
        include_str!("../src/packet/mod.rs"),
        include_str!("../src/packet/connect.rs"),
        include_str!("../src/packet/connack.rs"),
        include_str!("../src/packet/publish.rs"),
        include_str!("../src/packet/subscribe.rs"),
        include_str!("../src/packet/unsubscribe.rs"),
    ]
    .concat();
    let mut missing = Vec::new();
    for (version, tsv) in [
        (
            "3.1.1",
            include_str!("../../spec/mqtt-3.1.1-statements.tsv"),
        ),
        ("5.0", include_str!("../../spec/mqtt-5.0-statements.tsv")),
    ] {
        for id in codec_statements(tsv) {
            if !sources.contains(&format!("\"{id}\"")) && !sources.contains(&format!("[{id}]")) {
                missing.push(format!("{version} {id}"));
            }
        }
    }
    assert!(
        missing.is_empty(),
        "codec statements not cited in codec/src: {missing:?}"
    );
}
