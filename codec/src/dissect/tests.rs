use bytes::{Bytes, BytesMut};
use proptest::prelude::*;

use super::*;
use crate::hex;
use crate::packet::{Connect, Packet, Will};
use crate::properties::{AuthProperties, ConnectProperties, Props};
use crate::{Auth, QoS, ReasonCode, Str};

fn bytes(h: &str) -> Vec<u8> {
    hex::decode(h).unwrap()
}

fn encoded(p: &Packet, protocol: Protocol) -> Vec<u8> {
    let mut buf = BytesMut::new();
    p.encode(protocol, &mut buf).unwrap();
    buf.to_vec()
}

fn field<'a>(d: &'a Dissection, name: &str) -> &'a Field {
    d.fields
        .iter()
        .find(|f| f.name == name)
        .unwrap_or_else(|| panic!("no field {name} in {:#?}", d.fields))
}

#[test]
fn connect_3_1_1_fields_offsets_and_flags() {
    // CONNECT "MQTT" 4, flags c2 (user name, password, clean session), keep alive 60,
    // client id "c", user "alice", password "s3cret".
    let b = bytes("101c 0004 4d515454 04 c2 003c 0001 63 0005 616c696365 0006 733363726574");
    let d = dissect(Protocol::V3_1_1, &b);
    assert_eq!(d.problem, None);
    assert_eq!(d.len, b.len());
    assert_eq!(d.packet_type, Some(PacketType::Connect));
    assert_eq!(
        field(&d, "Packet Type and Flags").value,
        "0x10: CONNECT (1), flags 0000"
    );
    assert_eq!(field(&d, "Remaining Length").value, "28");
    let name = field(&d, "Protocol Name");
    assert_eq!(
        (name.offset, name.len, name.value.as_str()),
        (2, 6, "\"MQTT\"")
    );
    assert_eq!(field(&d, "Protocol Level").value, "4 (MQTT 3.1.1)");
    assert_eq!(
        field(&d, "Connect Flags").value,
        "0xC2: User Name, Password, Clean Session"
    );
    assert_eq!(field(&d, "Keep Alive").value, "60 s");
    assert_eq!(field(&d, "User Name").value, "\"alice\"");
    let password = field(&d, "Password");
    assert_eq!((password.offset, password.len), (22, 8));
    let secrets: Vec<_> = d.secrets().collect();
    assert_eq!(secrets.len(), 1);
    assert_eq!(&b[secrets[0].start..secrets[0].end], b"s3cret");
}

#[test]
fn connect_5_with_properties_will_and_password() {
    let props = ConnectProperties {
        session_expiry_interval: Some(u32::MAX),
        authentication_method: Some(Str::from("SCRAM-SHA-256")),
        authentication_data: Some(Bytes::from_static(b"first-message")),
        ..ConnectProperties::default()
    };
    let connect = Connect {
        clean_start: true,
        keep_alive: 0,
        client_id: Str::from("id"),
        will: Some(Will {
            topic: Str::from("w"),
            payload: Bytes::from_static(b"gone"),
            qos: QoS::AtLeastOnce,
            retain: true,
            ..Will::default()
        }),
        username: Some(Str::from("u")),
        password: Some(Bytes::from_static(b"hunter2")),
        properties: Props::from_set(props),
    };
    let b = encoded(&Packet::Connect(Box::new(connect)), Protocol::V5);
    let d = dissect(Protocol::V5, &b);
    assert_eq!(d.problem, None, "{:#?}", d.fields);
    assert_eq!(
        field(&d, "Connect Flags").value,
        "0xEE: User Name, Password, Will (QoS 1, RETAIN), Clean Start"
    );
    assert_eq!(field(&d, "Keep Alive").value, "0 (off)");
    let expiry = field(&d, "Session Expiry Interval (0x11)");
    assert_eq!(expiry.depth, 1);
    assert_eq!(expiry.value, "4294967295 (never expires)");
    assert_eq!(expiry.len, 5);
    assert_eq!(
        field(&d, "Authentication Method (0x15)").value,
        "\"SCRAM-SHA-256\""
    );
    field(&d, "Will Properties Length");
    assert_eq!(field(&d, "Will Payload").value, "676f6e65 (4 bytes)");
    let secrets: Vec<&[u8]> = d.secrets().map(|s| &b[s.start..s.end]).collect();
    assert_eq!(secrets, vec![&b"first-message"[..], &b"hunter2"[..]]);
    // The fields tile the packet.
    let mut at = 0;
    for f in d
        .fields
        .iter()
        .filter(|f| f.depth == 0 || f.name.contains("(0x"))
    {
        assert_eq!(f.offset, at, "{f:?}");
        at += f.len;
    }
    assert_eq!(at, b.len());
}

#[test]
fn auth_data_is_a_secret() {
    let props = AuthProperties {
        authentication_method: Some(Str::from("SCRAM-SHA-256")),
        authentication_data: Some(Bytes::from_static(b"proof")),
        ..AuthProperties::default()
    };
    let auth = Auth {
        reason_code: ReasonCode::CONTINUE_AUTHENTICATION,
        properties: Props::from_set(props),
    };
    let b = encoded(&Packet::Auth(auth), Protocol::V5);
    let d = dissect(Protocol::V5, &b);
    assert_eq!(
        field(&d, "Reason Code").value,
        "0x18 Continue authentication"
    );
    let s: Vec<_> = d.secrets().collect();
    assert_eq!((s.len(), s[0].what), (1, "Authentication Data"));
    assert_eq!(&b[s[0].start..s[0].end], b"proof");
}

#[test]
fn reason_codes_are_named_and_checked_against_the_packet() {
    let d = dissect(Protocol::V3_1_1, &bytes("20020005"));
    assert_eq!(
        field(&d, "Connect Return Code").value,
        "0x05 Connection Refused, not authorized"
    );
    let d = dissect(Protocol::V5, &bytes("2003008700"));
    assert_eq!(field(&d, "Reason Code").value, "0x87 Not authorized");
    let d = dissect(Protocol::V5, &bytes("4003000118"));
    assert_eq!(
        field(&d, "Reason Code").value,
        "0x18 Continue authentication (not a PUBACK reason code)"
    );
}

#[test]
fn publish_flags_and_payload() {
    let d = dissect(Protocol::V3_1_1, &bytes("3b09 0003 612f62 0007 6869"));
    assert_eq!(
        field(&d, "Packet Type and Flags").value,
        "0x3B: PUBLISH (3), flags 1011: DUP 1, QoS 1, RETAIN 1"
    );
    assert_eq!(field(&d, "Topic Name").value, "\"a/b\"");
    assert_eq!(field(&d, "Packet Identifier").value, "7");
    let p = field(&d, "Payload");
    assert_eq!(
        (p.offset, p.len, p.value.as_str()),
        (9, 2, "6869 (2 bytes)")
    );
}

#[test]
fn subscribe_options() {
    let d = dissect(Protocol::V5, &bytes("8209 0001 00 0003 612f23 2d"));
    let o = field(&d, "Subscription Options");
    assert_eq!(o.depth, 1);
    assert_eq!(
        o.value,
        "0x2D: QoS 1, No Local 1, Retain As Published 1, Retain Handling 2"
    );
}

#[test]
fn malformed_packets_are_shown_as_far_as_they_go() {
    // Reserved flags on PINGREQ.
    let d = dissect(Protocol::V5, &bytes("c100"));
    assert_eq!(
        field(&d, "Packet Type and Flags").value,
        "0xC1: PINGREQ (12), flags 0001, must be 0000 (malformed)"
    );
    // The input ends inside the password.
    let b = bytes("101c 0004 4d515454 04 c2 003c 0001 63 0005 616c696365 0006 7333");
    let d = dissect(Protocol::V3_1_1, &b);
    assert_eq!(d.len, b.len());
    assert!(d.problem.as_deref().unwrap().contains("Password"), "{d:?}");
    // A string longer than the packet.
    let d = dissect(Protocol::V3_1_1, &bytes("3004 0009 6162"));
    assert!(
        d.problem
            .as_deref()
            .unwrap()
            .contains("needs 11 bytes, but only 4 are left"),
        "{d:?}"
    );
    // An unknown property stops the section.
    let d = dissect(Protocol::V5, &bytes("e0 03 00 01 07"));
    assert!(d.problem.as_deref().unwrap().contains("0x07"), "{d:?}");
    // Remaining Length of five bytes.
    let d = dissect(Protocol::V5, &bytes("30ffffffff7f"));
    assert!(
        d.problem.as_deref().unwrap().contains("longer than 4"),
        "{d:?}"
    );
    // Type 0 and 3.1.1 AUTH are reserved.
    let d = dissect(Protocol::V3_1_1, &bytes("f000"));
    assert!(field(&d, "Packet Type and Flags")
        .value
        .contains("reserved"));
    // Bytes after the last field.
    let d = dissect(Protocol::V3_1_1, &bytes("c0020102"));
    assert_eq!(field(&d, "(bytes no field explains)").len, 2);
}

proptest! {
    #[test]
    fn never_panics_and_stays_in_bounds(b in proptest::collection::vec(any::<u8>(), 0..64), v5: bool) {
        let protocol = if v5 { Protocol::V5 } else { Protocol::V3_1_1 };
        let d = dissect(protocol, &b);
        prop_assert!(d.len <= b.len());
        for f in &d.fields {
            prop_assert!(f.offset + f.len <= b.len(), "{:?}", f);
        }
        for s in d.secrets() {
            prop_assert!(s.start <= s.end && s.end <= b.len());
        }
    }
}
