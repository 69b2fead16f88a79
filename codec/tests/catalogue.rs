//! The catalogue of canonical encodings: every control packet in every version where it exists,
//! with the variants that exercise each optional part of the wire format.
//!
//! Each entry is encoded with checked encoding and snapshotted (insta) as annotated hex: one line
//! per field, with the bytes sliced from the encoded buffer by an annotator that walks the packet
//! structure independently of the codec and asserts that it consumed exactly every byte. A
//! snapshot therefore pins the byte layout; a wrong byte in one is a codec bug.
//!
//! Each entry must also decode back to an equal packet. With `TOUCHSTONE_WRITE_CORPUS=<dir>` the
//! encodings are written to `<dir>/<version>/<name>.bin` (the fuzz seed corpus).
//!
//! Update the snapshots after a deliberate change with
//! `INSTA_UPDATE=always cargo test -p touchstone-codec --test catalogue`, and review the diff.

use std::fmt::Write as _;
use std::num::NonZeroU16;

use bytes::{Bytes, BytesMut};
use touchstone_codec::properties::{
    AckProperties, AuthProperties, ConnAckProperties, ConnectProperties, DisconnectProperties,
    PublishProperties, SubscribeProperties, UnsubscribeProperties, WillProperties,
};
use touchstone_codec::{
    decode_slice, Auth, ConnAck, Connect, Decoder, Disconnect, Packet, PacketId, PayloadFormat,
    Protocol, PubAck, PubComp, PubRec, PubRel, Publish, QoS, ReasonCode, RetainHandling, SubAck,
    Subscribe, Subscription, SubscriptionOptions, UnsubAck, Unsubscribe, UserProperties, Will,
};

// ---------------------------------------------------------------------------------------------
// The catalogue
// ---------------------------------------------------------------------------------------------

/// One catalogue entry: a name (unique within its version), the version and the packet.
struct Entry {
    name: &'static str,
    protocol: Protocol,
    packet: Packet,
}

/// The directory and snapshot prefix for a version.
fn version_dir(p: Protocol) -> &'static str {
    match p {
        Protocol::V3_1 => "v31",
        Protocol::V3_1_1 => "v311",
        Protocol::V5 => "v5",
    }
}

fn pid(n: u16) -> PacketId {
    NonZeroU16::new(n).expect("non-zero packet id")
}

fn user(pairs: &[(&str, &str)]) -> UserProperties {
    UserProperties::from_pairs(pairs.iter().copied())
}

fn publish(topic: &str, payload: &'static [u8], qos: QoS, id: Option<u16>) -> Publish {
    Publish {
        qos,
        packet_id: id.map(pid),
        ..Publish::new(topic, Bytes::from_static(payload))
    }
}

fn sub(filter: &str, qos: QoS) -> Subscription {
    Subscription::new(filter, qos)
}

fn will(qos: QoS, retain: bool) -> Will {
    Will {
        topic: "will/t".into(),
        payload: Bytes::from_static(b"bye"),
        qos,
        retain,
        properties: WillProperties::default().into(),
    }
}

fn connect(client_id: &str) -> Connect {
    Connect {
        clean_start: true,
        keep_alive: 60,
        client_id: client_id.into(),
        ..Connect::default()
    }
}

fn reason_string(s: &str) -> AckProperties {
    AckProperties {
        reason_string: Some(s.into()),
        ..AckProperties::default()
    }
}

/// The packets every version has, in their plainest useful form.
fn common(p: Protocol) -> Vec<(&'static str, Packet)> {
    let c = if p == Protocol::V3_1 {
        // 3.1 requires a Client Identifier of 1 to 23 characters.
        connect("c1")
    } else {
        connect("")
    };
    let mut v = vec![
        ("connect_minimal", Packet::Connect(Box::new(c))),
        (
            "connect_will_qos1_retain",
            Packet::Connect(Box::new(Connect {
                keep_alive: 30,
                will: Some(will(QoS::AtLeastOnce, true)),
                ..connect("c1")
            })),
        ),
        (
            "connect_username_password",
            Packet::Connect(Box::new(Connect {
                clean_start: false,
                username: Some("user".into()),
                password: Some(Bytes::from_static(b"p\x00ss")),
                ..connect("client-1")
            })),
        ),
        (
            "connect_will_username_password",
            Packet::Connect(Box::new(Connect {
                keep_alive: 0,
                will: Some(will(QoS::ExactlyOnce, false)),
                username: Some("u".into()),
                password: Some(Bytes::from_static(b"pw")),
                ..connect("c2")
            })),
        ),
        ("connack_accepted", Packet::ConnAck(Box::default())),
        (
            "publish_qos0",
            Packet::Publish(publish("a/b", b"hello", QoS::AtMostOnce, None)),
        ),
        (
            "publish_qos0_empty_payload_retain",
            Packet::Publish(Publish {
                retain: true,
                ..publish("a/b", b"", QoS::AtMostOnce, None)
            }),
        ),
        (
            "publish_qos1",
            Packet::Publish(publish("a/b", b"hello", QoS::AtLeastOnce, Some(10))),
        ),
        (
            "publish_qos1_dup",
            Packet::Publish(Publish {
                dup: true,
                ..publish("a/b", b"hello", QoS::AtLeastOnce, Some(10))
            }),
        ),
        (
            "publish_qos2_retain",
            Packet::Publish(Publish {
                retain: true,
                ..publish("sensors/t1", b"21.5", QoS::ExactlyOnce, Some(0x1234))
            }),
        ),
        (
            "publish_200_byte_payload",
            Packet::Publish(Publish::new("big", Bytes::from(vec![0xA5u8; 200]))),
        ),
        ("puback", Packet::PubAck(PubAck::new(pid(10)))),
        ("pubrec", Packet::PubRec(PubRec::new(pid(0x1234)))),
        ("pubrel", Packet::PubRel(PubRel::new(pid(0x1234)))),
        ("pubcomp", Packet::PubComp(PubComp::new(pid(0xFFFF)))),
        (
            "subscribe_three_filters",
            Packet::Subscribe(Subscribe {
                packet_id: pid(1),
                properties: SubscribeProperties::default().into(),
                filters: vec![
                    sub("a/b", QoS::AtMostOnce),
                    sub("c/+/d", QoS::AtLeastOnce),
                    sub("e/#", QoS::ExactlyOnce),
                ],
            }),
        ),
        (
            "suback",
            Packet::SubAck(SubAck {
                packet_id: pid(1),
                properties: AckProperties::default().into(),
                reason_codes: vec![ReasonCode(0), ReasonCode(1), ReasonCode(2)],
            }),
        ),
        (
            "unsubscribe",
            Packet::Unsubscribe(Unsubscribe {
                packet_id: pid(2),
                properties: UnsubscribeProperties::default().into(),
                filters: vec!["a/b".into(), "c/+/d".into()],
            }),
        ),
        ("pingreq", Packet::PingReq),
        ("pingresp", Packet::PingResp),
        ("disconnect", Packet::Disconnect(Disconnect::default())),
    ];
    if p != Protocol::V3_1 {
        // Session Present arrived with 3.1.1; in 3.1 that byte of CONNACK is reserved.
        v.push((
            "connack_session_present",
            Packet::ConnAck(Box::new(ConnAck {
                session_present: true,
                ..ConnAck::default()
            })),
        ));
    }
    v
}

/// What 3.1 and 3.1.1 have beyond the common set.
fn v3_only(p: Protocol) -> Vec<(&'static str, Packet)> {
    let refused = if p == Protocol::V3_1 {
        ReasonCode::V3_IDENTIFIER_REJECTED
    } else {
        ReasonCode::V3_NOT_AUTHORIZED
    };
    let mut v = vec![
        (
            "connack_refused",
            Packet::ConnAck(Box::new(ConnAck {
                reason_code: refused,
                ..ConnAck::default()
            })),
        ),
        (
            "unsuback",
            Packet::UnsubAck(UnsubAck {
                packet_id: pid(2),
                properties: AckProperties::default().into(),
                reason_codes: vec![],
            }),
        ),
    ];
    if p == Protocol::V3_1_1 {
        // 0x80 (Failure) was added in 3.1.1.
        v.push((
            "suback_with_failure",
            Packet::SubAck(SubAck {
                packet_id: pid(7),
                properties: AckProperties::default().into(),
                reason_codes: vec![ReasonCode(2), ReasonCode(0x80)],
            }),
        ));
    }
    v
}

/// The 5.0 variants: properties, reason codes, short forms, AUTH.
fn v5_only() -> Vec<(&'static str, Packet)> {
    let connect_props = ConnectProperties {
        session_expiry_interval: Some(3600),
        receive_maximum: Some(20),
        maximum_packet_size: Some(1_048_576),
        topic_alias_maximum: Some(10),
        request_response_information: Some(true),
        request_problem_information: Some(false),
        authentication_method: Some("SCRAM-SHA-1".into()),
        authentication_data: Some(Bytes::from_static(b"\x01\x02\x03")),
        user_properties: user(&[("region", "eu"), ("k", "v")]),
    };
    let will_props = WillProperties {
        will_delay_interval: Some(5),
        payload_format_indicator: Some(PayloadFormat::Utf8),
        message_expiry_interval: Some(120),
        content_type: Some("text/plain".into()),
        response_topic: Some("resp/t".into()),
        correlation_data: Some(Bytes::from_static(b"\xCA\xFE")),
        user_properties: user(&[("w", "1")]),
    };
    let connack_props = ConnAckProperties {
        session_expiry_interval: Some(7200),
        receive_maximum: Some(100),
        maximum_qos: Some(QoS::AtLeastOnce),
        retain_available: Some(false),
        maximum_packet_size: Some(65_536),
        assigned_client_identifier: Some("auto-1".into()),
        topic_alias_maximum: Some(5),
        reason_string: Some("ok".into()),
        wildcard_subscription_available: Some(true),
        subscription_identifiers_available: Some(true),
        shared_subscription_available: Some(false),
        server_keep_alive: Some(30),
        response_information: Some("resp/".into()),
        server_reference: Some("other:1883".into()),
        authentication_method: Some("SCRAM-SHA-1".into()),
        authentication_data: Some(Bytes::from_static(b"\x04")),
        user_properties: user(&[("srv", "ts")]),
    };
    let publish_props = PublishProperties {
        payload_format_indicator: Some(PayloadFormat::Utf8),
        message_expiry_interval: Some(60),
        topic_alias: Some(1),
        response_topic: Some("resp/1".into()),
        correlation_data: Some(Bytes::from_static(b"id-1")),
        content_type: Some("application/json".into()),
        subscription_identifiers: vec![1, 16_384],
        user_properties: user(&[("a", "1"), ("a", "2")]),
    };
    vec![
        (
            "connect_password_without_username",
            Packet::Connect(Box::new(Connect {
                password: Some(Bytes::from_static(b"token")),
                ..connect("c3")
            })),
        ),
        (
            "connect_properties",
            Packet::Connect(Box::new(Connect {
                properties: connect_props.into(),
                ..connect("c4")
            })),
        ),
        (
            "connect_will_properties",
            Packet::Connect(Box::new(Connect {
                will: Some(Will {
                    properties: will_props.into(),
                    ..will(QoS::AtLeastOnce, true)
                }),
                ..connect("c5")
            })),
        ),
        (
            "connack_refused",
            Packet::ConnAck(Box::new(ConnAck {
                reason_code: ReasonCode::NOT_AUTHORIZED,
                ..ConnAck::default()
            })),
        ),
        (
            "connack_properties",
            Packet::ConnAck(Box::new(ConnAck {
                session_present: true,
                reason_code: ReasonCode::SUCCESS,
                properties: connack_props.into(),
            })),
        ),
        (
            "publish_all_properties",
            Packet::Publish(Publish {
                properties: publish_props.into(),
                ..publish("a/b", b"{}", QoS::AtLeastOnce, Some(3))
            }),
        ),
        (
            "publish_topic_alias_empty_topic",
            Packet::Publish(Publish {
                properties: PublishProperties {
                    topic_alias: Some(1),
                    ..PublishProperties::default()
                }
                .into(),
                ..publish("", b"x", QoS::AtMostOnce, None)
            }),
        ),
        (
            "puback_reason_code_only",
            Packet::PubAck(PubAck {
                reason_code: ReasonCode::NO_MATCHING_SUBSCRIBERS,
                ..PubAck::new(pid(10))
            }),
        ),
        (
            "puback_reason_string",
            Packet::PubAck(PubAck {
                reason_code: ReasonCode::NO_MATCHING_SUBSCRIBERS,
                properties: reason_string("no subscribers").into(),
                ..PubAck::new(pid(10))
            }),
        ),
        (
            "pubrec_reason_string",
            Packet::PubRec(PubRec {
                reason_code: ReasonCode::QUOTA_EXCEEDED,
                properties: reason_string("quota").into(),
                ..PubRec::new(pid(11))
            }),
        ),
        (
            "pubrel_reason_string",
            Packet::PubRel(PubRel {
                reason_code: ReasonCode::PACKET_IDENTIFIER_NOT_FOUND,
                properties: reason_string("unknown id").into(),
                ..PubRel::new(pid(12))
            }),
        ),
        (
            "pubcomp_reason_string",
            Packet::PubComp(PubComp {
                reason_code: ReasonCode::PACKET_IDENTIFIER_NOT_FOUND,
                properties: reason_string("unknown id").into(),
                ..PubComp::new(pid(13))
            }),
        ),
        (
            "pubcomp_success_with_properties",
            Packet::PubComp(PubComp {
                properties: AckProperties {
                    user_properties: user(&[("t", "1")]),
                    ..AckProperties::default()
                }
                .into(),
                ..PubComp::new(pid(14))
            }),
        ),
        (
            "subscribe_options",
            Packet::Subscribe(Subscribe {
                packet_id: pid(5),
                properties: SubscribeProperties {
                    subscription_identifier: Some(1000),
                    user_properties: user(&[("s", "x")]),
                }
                .into(),
                filters: vec![
                    Subscription {
                        filter: "a/+".into(),
                        options: SubscriptionOptions {
                            qos: QoS::AtLeastOnce,
                            no_local: true,
                            ..SubscriptionOptions::default()
                        },
                    },
                    Subscription {
                        filter: "b/#".into(),
                        options: SubscriptionOptions {
                            qos: QoS::ExactlyOnce,
                            retain_as_published: true,
                            retain_handling: RetainHandling::SendAtSubscribeIfNew,
                            ..SubscriptionOptions::default()
                        },
                    },
                    Subscription {
                        filter: "c".into(),
                        options: SubscriptionOptions {
                            qos: QoS::AtMostOnce,
                            no_local: true,
                            retain_as_published: true,
                            retain_handling: RetainHandling::DoNotSend,
                        },
                    },
                ],
            }),
        ),
        (
            "subscribe_shared",
            Packet::Subscribe(Subscribe {
                packet_id: pid(6),
                properties: SubscribeProperties::default().into(),
                filters: vec![sub("$share/group/t/#", QoS::AtLeastOnce)],
            }),
        ),
        (
            "suback_reason_codes",
            Packet::SubAck(SubAck {
                packet_id: pid(5),
                properties: reason_string("partial").into(),
                reason_codes: vec![
                    ReasonCode::GRANTED_QOS_1,
                    ReasonCode::GRANTED_QOS_2,
                    ReasonCode::SUCCESS,
                    ReasonCode::NOT_AUTHORIZED,
                    ReasonCode::SHARED_SUBSCRIPTIONS_NOT_SUPPORTED,
                ],
            }),
        ),
        (
            "unsubscribe_user_property",
            Packet::Unsubscribe(Unsubscribe {
                packet_id: pid(8),
                properties: UnsubscribeProperties {
                    user_properties: user(&[("u", "v")]),
                }
                .into(),
                filters: vec!["$share/g/a/b".into()],
            }),
        ),
        (
            "unsuback",
            Packet::UnsubAck(UnsubAck {
                packet_id: pid(2),
                properties: AckProperties::default().into(),
                reason_codes: vec![ReasonCode::SUCCESS, ReasonCode::NO_SUBSCRIPTION_EXISTED],
            }),
        ),
        (
            "unsuback_reason_string",
            Packet::UnsubAck(UnsubAck {
                packet_id: pid(8),
                properties: reason_string("denied").into(),
                reason_codes: vec![ReasonCode::NOT_AUTHORIZED],
            }),
        ),
        (
            "disconnect_with_will",
            Packet::Disconnect(Disconnect::new(ReasonCode::DISCONNECT_WITH_WILL)),
        ),
        (
            "disconnect_properties",
            Packet::Disconnect(Disconnect {
                reason_code: ReasonCode::SUCCESS,
                properties: DisconnectProperties {
                    session_expiry_interval: Some(300),
                    reason_string: Some("bye".into()),
                    server_reference: None,
                    user_properties: user(&[("d", "1")]),
                }
                .into(),
            }),
        ),
        (
            "disconnect_server_moved",
            Packet::Disconnect(Disconnect {
                reason_code: ReasonCode::SERVER_MOVED,
                properties: DisconnectProperties {
                    server_reference: Some("other:1883".into()),
                    ..DisconnectProperties::default()
                }
                .into(),
            }),
        ),
        ("auth_short", Packet::Auth(Auth::default())),
        (
            "auth_properties",
            Packet::Auth(Auth {
                reason_code: ReasonCode::CONTINUE_AUTHENTICATION,
                properties: AuthProperties {
                    authentication_method: Some("SCRAM-SHA-1".into()),
                    authentication_data: Some(Bytes::from_static(b"n,,n=user,r=abc")),
                    reason_string: Some("continue".into()),
                    user_properties: UserProperties::default(),
                }
                .into(),
            }),
        ),
    ]
}

fn catalogue() -> Vec<Entry> {
    let mut out = Vec::new();
    for protocol in Protocol::ALL {
        let mut entries = common(protocol);
        if protocol.is_v5() {
            entries.extend(v5_only());
        } else {
            entries.extend(v3_only(protocol));
        }
        for (name, packet) in entries {
            out.push(Entry {
                name,
                protocol,
                packet,
            });
        }
    }
    out
}

// ---------------------------------------------------------------------------------------------
// The annotator: an independent walk over the encoded bytes, guided by the packet model
// ---------------------------------------------------------------------------------------------

/// Bytes per hex line.
const PER_LINE: usize = 8;
/// Fields longer than this show their first bytes and a count of the rest.
const SHOW_MAX: usize = 24;

struct Annotator<'a> {
    buf: &'a [u8],
    pos: usize,
    out: String,
    protocol: Protocol,
}

fn hex(bytes: &[u8]) -> String {
    bytes
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect::<Vec<_>>()
        .join(" ")
}

fn count(n: usize) -> String {
    if n == 1 {
        "1 byte".to_string()
    } else {
        format!("{n} bytes")
    }
}

fn quoted(bytes: &[u8]) -> String {
    match std::str::from_utf8(bytes) {
        Ok(s) => format!("{s:?}"),
        Err(_) => format!("0x{}", hex(bytes).replace(' ', "")),
    }
}

impl<'a> Annotator<'a> {
    fn new(buf: &'a [u8], protocol: Protocol) -> Self {
        Annotator {
            buf,
            pos: 0,
            out: String::new(),
            protocol,
        }
    }

    fn left(&self) -> usize {
        self.buf.len() - self.pos
    }

    fn peek(&self, at: usize) -> u8 {
        *self
            .buf
            .get(self.pos + at)
            .unwrap_or_else(|| panic!("encoding ends early at byte {}", self.pos + at))
    }

    /// Consumes `n` bytes as one field and prints them with `desc`.
    fn field(&mut self, n: usize, desc: impl AsRef<str>) -> &'a [u8] {
        assert!(
            n <= self.left(),
            "field {:?} needs {n} bytes, {} left",
            desc.as_ref(),
            self.left()
        );
        let bytes = &self.buf[self.pos..self.pos + n];
        self.pos += n;
        let shown = if n > SHOW_MAX { &bytes[..16] } else { bytes };
        let mut chunks: Vec<String> = shown.chunks(PER_LINE).map(hex).collect();
        if n > SHOW_MAX {
            chunks.push(format!("... ({} more)", n - 16));
        }
        if chunks.is_empty() {
            chunks.push(String::new());
        }
        for (i, chunk) in chunks.iter().enumerate() {
            let d = if i == 0 { desc.as_ref() } else { "" };
            let line = format!("{chunk:<26}{d}");
            let _ = writeln!(self.out, "{}", line.trim_end());
        }
        bytes
    }

    fn u8(&mut self, desc: impl FnOnce(u8) -> String) -> u8 {
        let v = self.peek(0);
        self.field(1, desc(v));
        v
    }

    fn u16(&mut self, desc: impl FnOnce(u16) -> String) -> u16 {
        let v = u16::from_be_bytes([self.peek(0), self.peek(1)]);
        self.field(2, desc(v));
        v
    }

    /// Length of the Variable Byte Integer at `at` bytes ahead, and its value (at most 4 bytes).
    fn varint_at(&self, at: usize) -> (u32, usize) {
        let mut v = 0u32;
        for i in 0..4 {
            let b = self.peek(at + i);
            v |= u32::from(b & 0x7F) << (7 * i);
            if b & 0x80 == 0 {
                assert!(i == 0 || b != 0, "non-minimal Variable Byte Integer");
                return (v, i + 1);
            }
        }
        panic!("Variable Byte Integer longer than 4 bytes");
    }

    fn varint(&mut self, desc: impl FnOnce(u32) -> String) -> u32 {
        let (v, n) = self.varint_at(0);
        self.field(n, desc(v));
        v
    }

    /// A length-prefixed string or binary field, checked against `expected`.
    fn lp(&mut self, what: &str, expected: &[u8], binary: bool) {
        let len = u16::from_be_bytes([self.peek(0), self.peek(1)]) as usize;
        let body = &self.buf[self.pos + 2..(self.pos + 2 + len).min(self.buf.len())];
        let desc = if binary {
            format!("{what} ({})", count(len))
        } else {
            format!("{what} {}", quoted(body))
        };
        let bytes = self.field(2 + len, desc);
        assert_eq!(&bytes[2..], expected, "{what}");
    }

    fn string(&mut self, what: &str, expected: &str) {
        self.lp(what, expected.as_bytes(), false);
    }

    fn binary(&mut self, what: &str, expected: &[u8]) {
        self.lp(what, expected, true);
    }

    /// The fixed header; returns the first byte.
    fn fixed_header(&mut self, packet: &Packet) -> u8 {
        let ty = packet.packet_type();
        let first = self.peek(0);
        assert_eq!(first >> 4, ty as u8, "packet type");
        let desc = match packet {
            Packet::Publish(_) => format!(
                "{ty}  dup={} qos={} retain={}",
                (first >> 3) & 1,
                (first >> 1) & 3,
                first & 1
            ),
            _ => format!("{ty}  flags={:04b}", first & 0x0F),
        };
        self.field(1, desc);
        let rl = self.varint(|v| format!("Remaining Length {v}"));
        assert_eq!(rl as usize, self.left(), "Remaining Length");
        first
    }

    fn packet_id(&mut self, expected: PacketId) {
        let v = self.u16(|v| format!("Packet Identifier {v}"));
        assert_eq!(v, expected.get(), "Packet Identifier");
    }

    fn reason_code(&mut self, what: &str, expected: ReasonCode) {
        let v = self.u8(|v| format!("{what} 0x{v:02x} {}", ReasonCode(v).name()));
        assert_eq!(v, expected.0, "{what}");
    }

    /// A Property Length and the properties it covers, walked by identifier.
    fn properties(&mut self, what: &str) {
        let len = self.varint(|v| format!("{what} Length {v}")) as usize;
        let end = self.pos + len;
        assert!(end <= self.buf.len(), "{what} run past the packet");
        while self.pos < end {
            self.property();
        }
        assert_eq!(
            self.pos, end,
            "{what} Length does not cover whole properties"
        );
    }

    fn property(&mut self) {
        let (id, idn) = self.varint_at(0);
        let u16_at = |s: &Self, at: usize| u16::from_be_bytes([s.peek(at), s.peek(at + 1)]);
        let u32_at = |s: &Self, at: usize| {
            u32::from_be_bytes([s.peek(at), s.peek(at + 1), s.peek(at + 2), s.peek(at + 3)])
        };
        let lp_at = |s: &Self, at: usize| -> (usize, &'a [u8]) {
            let len = u16_at(s, at) as usize;
            let start = s.pos + at + 2;
            (2 + len, &s.buf[start..start + len])
        };
        let name = property_name(id);
        let (n, desc) = match id {
            // Byte
            0x01 | 0x17 | 0x19 | 0x24 | 0x25 | 0x28 | 0x29 | 0x2A => {
                (1, format!("{name} {}", self.peek(idn)))
            }
            // Two Byte Integer
            0x13 | 0x21 | 0x22 | 0x23 => (2, format!("{name} {}", u16_at(self, idn))),
            // Four Byte Integer
            0x02 | 0x11 | 0x18 | 0x27 => (4, format!("{name} {}", u32_at(self, idn))),
            // Variable Byte Integer
            0x0B => {
                let (v, n) = self.varint_at(idn);
                (n, format!("{name} {v}"))
            }
            // UTF-8 Encoded String
            0x03 | 0x08 | 0x12 | 0x15 | 0x1A | 0x1C | 0x1F => {
                let (n, s) = lp_at(self, idn);
                (n, format!("{name} {}", quoted(s)))
            }
            // Binary Data
            0x09 | 0x16 => {
                let (n, s) = lp_at(self, idn);
                (n, format!("{name} ({})", count(s.len())))
            }
            // UTF-8 String Pair
            0x26 => {
                let (kn, k) = lp_at(self, idn);
                let (vn, v) = lp_at(self, idn + kn);
                (kn + vn, format!("{name} {} = {}", quoted(k), quoted(v)))
            }
            _ => panic!("unknown property identifier 0x{id:02x}"),
        };
        self.field(idn + n, desc);
    }

    /// PUBACK, PUBREC, PUBREL, PUBCOMP: the short forms end after the Packet Identifier (3.1.1
    /// always; 5.0 for Success without properties) or after the Reason Code (5.0, no properties).
    fn ack(&mut self, id: PacketId, code: ReasonCode, props_empty: bool) {
        self.packet_id(id);
        if self.left() == 0 {
            assert!(code == ReasonCode::SUCCESS && props_empty, "short form");
            return;
        }
        assert!(self.protocol.is_v5(), "3.1.1 acknowledgements are 2 bytes");
        self.reason_code("Reason Code", code);
        if self.left() == 0 {
            assert!(props_empty, "properties left out");
            return;
        }
        self.properties("Property");
    }

    fn finish(self) -> String {
        assert_eq!(
            self.pos,
            self.buf.len(),
            "annotator left {} bytes unexplained",
            self.buf.len() - self.pos
        );
        self.out
    }
}

/// The specification's name of property `id`.
fn property_name(id: u32) -> &'static str {
    touchstone_codec::properties::property_name(id)
}

fn bit(flags: u8, n: u8) -> u8 {
    (flags >> n) & 1
}

/// Annotates the encoding `buf` of `packet` for `protocol`, one line per field.
fn annotate(protocol: Protocol, packet: &Packet, buf: &[u8]) -> String {
    let mut a = Annotator::new(buf, protocol);
    let first = a.fixed_header(packet);
    let v5 = protocol.is_v5();
    match packet {
        Packet::Connect(c) => {
            a.string("Protocol Name", protocol.name());
            let level = a.u8(|v| format!("Protocol Level {v}"));
            assert_eq!(level, protocol.level());
            let flags = a.u8(|f| {
                format!(
                    "Connect Flags  username={} password={} will_retain={} will_qos={} will={} clean={} reserved={}",
                    bit(f, 7), bit(f, 6), bit(f, 5), (f >> 3) & 3, bit(f, 2), bit(f, 1), bit(f, 0)
                )
            });
            assert_eq!(bit(flags, 7) == 1, c.username.is_some());
            assert_eq!(bit(flags, 6) == 1, c.password.is_some());
            assert_eq!(bit(flags, 2) == 1, c.will.is_some());
            assert_eq!(bit(flags, 1) == 1, c.clean_start);
            assert_eq!(bit(flags, 0), 0);
            let ka = a.u16(|v| format!("Keep Alive {v}"));
            assert_eq!(ka, c.keep_alive);
            if v5 {
                a.properties("Property");
            }
            a.string("Client Identifier", &c.client_id);
            if let Some(w) = &c.will {
                assert_eq!((flags >> 3) & 3, w.qos.as_u8());
                assert_eq!(bit(flags, 5) == 1, w.retain);
                if v5 {
                    a.properties("Will Property");
                }
                a.string("Will Topic", &w.topic);
                a.binary(if v5 { "Will Payload" } else { "Will Message" }, &w.payload);
            }
            if let Some(u) = &c.username {
                a.string("User Name", u);
            }
            if let Some(pw) = &c.password {
                a.binary("Password", pw);
            }
        }
        Packet::ConnAck(c) => {
            let f = a.u8(|f| format!("Connect Acknowledge Flags  session_present={}", f & 1));
            assert_eq!(f, u8::from(c.session_present));
            let what = if v5 {
                "Connect Reason Code"
            } else {
                "Connect Return Code"
            };
            if v5 {
                a.reason_code(what, c.reason_code);
                a.properties("Property");
            } else {
                let v = a.u8(|v| format!("{what} {v}"));
                assert_eq!(v, c.reason_code.0);
            }
        }
        Packet::Publish(p) => {
            assert_eq!(bit(first, 3) == 1, p.dup);
            assert_eq!((first >> 1) & 3, p.qos.as_u8());
            assert_eq!(bit(first, 0) == 1, p.retain);
            a.string("Topic Name", &p.topic);
            if let Some(id) = p.packet_id {
                a.packet_id(id);
            }
            if v5 {
                a.properties("Property");
            }
            let n = a.left();
            let payload = a.field(n, format!("Payload ({})", count(n)));
            assert_eq!(payload, &p.payload[..]);
        }
        Packet::PubAck(x) => a.ack(x.packet_id, x.reason_code, x.properties.is_empty()),
        Packet::PubRec(x) => a.ack(x.packet_id, x.reason_code, x.properties.is_empty()),
        Packet::PubRel(x) => a.ack(x.packet_id, x.reason_code, x.properties.is_empty()),
        Packet::PubComp(x) => a.ack(x.packet_id, x.reason_code, x.properties.is_empty()),
        Packet::Subscribe(s) => {
            a.packet_id(s.packet_id);
            if v5 {
                a.properties("Property");
            }
            for f in &s.filters {
                a.string("Topic Filter", &f.filter);
                let o = a.u8(|o| {
                    if v5 {
                        format!(
                            "Subscription Options  qos={} no_local={} retain_as_published={} retain_handling={} reserved={}",
                            o & 3, bit(o, 2), bit(o, 3), (o >> 4) & 3, o >> 6
                        )
                    } else {
                        format!("Requested QoS {o}")
                    }
                });
                let expected = if v5 {
                    f.options.to_byte()
                } else {
                    f.options.qos.as_u8()
                };
                assert_eq!(o, expected);
            }
        }
        Packet::SubAck(s) => {
            a.packet_id(s.packet_id);
            if v5 {
                a.properties("Property");
            }
            for &code in &s.reason_codes {
                if v5 {
                    a.reason_code("Reason Code", code);
                } else {
                    let v = a.u8(|v| match v {
                        0x80 => "Return Code 0x80 Failure".to_string(),
                        v => format!("Return Code 0x{v:02x} Success - Maximum QoS {v}"),
                    });
                    assert_eq!(v, code.0);
                }
            }
        }
        Packet::Unsubscribe(u) => {
            a.packet_id(u.packet_id);
            if v5 {
                a.properties("Property");
            }
            for f in &u.filters {
                a.string("Topic Filter", f);
            }
        }
        Packet::UnsubAck(u) => {
            a.packet_id(u.packet_id);
            if v5 {
                a.properties("Property");
                for &code in &u.reason_codes {
                    a.reason_code("Reason Code", code);
                }
            }
        }
        Packet::PingReq | Packet::PingResp => {}
        Packet::Disconnect(Disconnect {
            reason_code,
            properties,
        }) => {
            if a.left() > 0 {
                a.reason_code("Reason Code", *reason_code);
                if a.left() > 0 {
                    a.properties("Property");
                }
            } else {
                assert!(*reason_code == ReasonCode::SUCCESS && properties.is_empty());
            }
        }
        Packet::Auth(Auth {
            reason_code,
            properties,
        }) => {
            if a.left() > 0 {
                a.reason_code("Reason Code", *reason_code);
                if a.left() > 0 {
                    a.properties("Property");
                }
            } else {
                assert!(*reason_code == ReasonCode::SUCCESS && properties.is_empty());
            }
        }
    }
    a.finish()
}

// ---------------------------------------------------------------------------------------------
// Tests
// ---------------------------------------------------------------------------------------------

fn encode(e: &Entry) -> BytesMut {
    let mut buf = BytesMut::new();
    e.packet
        .encode(e.protocol, &mut buf)
        .unwrap_or_else(|err| panic!("{} {}: {err}", version_dir(e.protocol), e.name));
    assert_eq!(
        buf.len(),
        e.packet.encoded_len(e.protocol),
        "{}: encoded_len",
        e.name
    );
    buf
}

#[test]
fn names_are_unique_and_every_type_is_covered() {
    let cat = catalogue();
    let mut seen = std::collections::BTreeSet::new();
    for e in &cat {
        assert!(
            seen.insert((version_dir(e.protocol), e.name)),
            "duplicate entry {} {}",
            version_dir(e.protocol),
            e.name
        );
    }
    for p in Protocol::ALL {
        let types: std::collections::BTreeSet<_> = cat
            .iter()
            .filter(|e| e.protocol == p)
            .map(|e| e.packet.packet_type())
            .collect();
        let expected = if p.is_v5() { 15 } else { 14 };
        assert_eq!(types.len(), expected, "packet types covered in {p}");
    }
}

#[test]
fn catalogue_snapshots() {
    for e in catalogue() {
        let buf = encode(&e);
        let text = annotate(e.protocol, &e.packet, &buf);
        let name = format!("{}_{}", version_dir(e.protocol), e.name);
        insta::with_settings!({
            description => format!("{:?}", e.packet),
            omit_expression => true,
        }, {
            insta::assert_snapshot!(name, text);
        });
    }
}

#[test]
fn catalogue_round_trips() {
    for e in catalogue() {
        let buf = encode(&e);
        let what = format!("{} {}", version_dir(e.protocol), e.name);

        // From a slice.
        let (decoded, n) =
            decode_slice(e.protocol, &buf).unwrap_or_else(|err| panic!("{what}: {err}"));
        assert_eq!(n, buf.len(), "{what}: bytes consumed");
        assert_eq!(decoded, e.packet, "{what}: decode_slice");

        // Borrowed, with the same result as the owned decoder on every prefix.
        let decoder = Decoder::new(e.protocol);
        let (view, n) = decoder
            .decode_ref(&buf)
            .unwrap_or_else(|err| panic!("{what}: decode_ref: {err}"))
            .unwrap_or_else(|| panic!("{what}: decode_ref wants more bytes"));
        assert_eq!(n, buf.len(), "{what}: bytes consumed by decode_ref");
        assert_eq!(view.packet_type(), e.packet.packet_type(), "{what}");
        assert_eq!(view.to_owned(), e.packet, "{what}: decode_ref");
        for end in 0..=buf.len() {
            if let Err(err) = decoder.compare_decode_ref(&buf[..end]) {
                panic!("{what}, first {end} bytes: {err}");
            }
        }

        // Streaming, one byte at a time: nothing until the last byte.
        let mut stream = BytesMut::new();
        for (i, &b) in buf.iter().enumerate() {
            stream.extend_from_slice(&[b]);
            let got = decoder
                .decode(&mut stream)
                .unwrap_or_else(|err| panic!("{what}: {err}"));
            if i + 1 < buf.len() {
                assert!(got.is_none(), "{what}: a packet after {} bytes", i + 1);
            } else {
                assert_eq!(got.as_ref(), Some(&e.packet), "{what}: streaming decode");
            }
        }
        assert!(stream.is_empty());

        // Re-encoding the decoded packet gives the same bytes.
        let mut again = BytesMut::new();
        decoded.encode(e.protocol, &mut again).unwrap();
        assert_eq!(again, buf, "{what}: re-encoding");
    }
}

/// With `TOUCHSTONE_WRITE_CORPUS=<dir>`, writes `<dir>/<version>/<name>.bin` for every entry.
#[test]
fn write_corpus() {
    let Some(dir) = std::env::var_os("TOUCHSTONE_WRITE_CORPUS") else {
        return;
    };
    let dir = std::path::PathBuf::from(dir);
    for e in catalogue() {
        let sub = dir.join(version_dir(e.protocol));
        std::fs::create_dir_all(&sub).unwrap();
        std::fs::write(sub.join(format!("{}.bin", e.name)), encode(&e)).unwrap();
    }
}
