//! The oracles' knowledge of the specification: what the bytes a client sent require of the
//! server (judged with the strict codec, as the server must read them), and what the server's
//! own bytes may be (decoded with the strict codec for the connection's version).

use std::collections::HashSet;

use touchstone_codec::{
    peek_protocol, DecodeError, Decoder, ErrorKind, Framer, Packet, Protocol, SpecVersion,
    Statement,
};

/// The statement that makes a server close the connection after a protocol violation.
pub fn close_rule(protocol: Protocol) -> Statement {
    if protocol.is_v5() {
        Statement::v5("MQTT-4.13.1-1")
    } else {
        Statement::v311("MQTT-4.8.0-1")
    }
}

fn for_version(protocol: Protocol, statements: &[Statement]) -> Vec<Statement> {
    let v = protocol.spec();
    statements
        .iter()
        .filter(|s| s.version == v)
        .copied()
        .collect()
}

/// The first protocol violation in what a client sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Violation {
    /// Index of the violating packet on the connection (0: the CONNECT position).
    pub packet: usize,
    /// What is wrong.
    pub what: String,
    /// The statements broken, and the one requiring the close.
    pub statements: Vec<Statement>,
    /// PINGREQs in the valid packets before it (each owed a PINGRESP).
    pub pingreqs_before: usize,
    /// (packet type of the ack, packet id) of the valid packets before it that get an ack.
    pub acked_before: HashSet<(u8, u16)>,
}

/// What the server owes a connection, given what the client sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Expect {
    /// Every packet was valid: PINGREQs get PINGRESPs (or the server closes, which it may do
    /// for reasons of its own).
    Responsive {
        /// PINGREQs sent (each owed a PINGRESP).
        pingreqs: usize,
        /// The 5.0 CONNECT's Maximum Packet Size, when it is smaller than the largest CONNACK
        /// the server may have to send: then the server may be unable to send any CONNACK
        /// (5.0 [MQTT-3.1.2-24]), and silence before a CONNACK is allowed.
        connack_may_not_fit: Option<u32>,
    },
    /// A violation: the server must close the connection, and process nothing after it.
    Close(Box<Violation>),
    /// A violation the strict codec rejects, but for which no statement of the version tells
    /// the server how to react (the rule binds the sender only, or it is the codec's own
    /// strictness, such as a non-minimal Remaining Length in 3.1.1): the server may close or
    /// go on, and nothing after it is judged.
    Lenient(Box<Violation>),
    /// Nothing is owed: the bytes end inside a packet, or after DISCONNECT.
    Nothing(String),
}

/// The server's view of one connection's bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SentView {
    /// The version the server must decode with (from the CONNECT), if it could tell.
    pub protocol: Option<Protocol>,
    /// What the server owes.
    pub expect: Expect,
}

/// Judges the bytes a client sent on one connection, in order.
pub fn judge_sent(stream: &[u8]) -> SentView {
    let protocol = match peek_protocol(stream) {
        Ok(Some(p)) => p,
        Ok(None) => {
            return SentView {
                protocol: None,
                expect: Expect::Nothing("the bytes end inside the first packet".into()),
            }
        }
        Err(e) if e.statements.is_empty() => {
            // A first packet the codec cannot frame (a non-minimal Remaining Length, say): no
            // statement fixes what the server does with it.
            return SentView {
                protocol: None,
                expect: Expect::Lenient(Box::new(Violation {
                    packet: 0,
                    what: format!("first packet: {e}"),
                    statements: vec![],
                    pingreqs_before: 0,
                    acked_before: HashSet::new(),
                })),
            };
        }
        Err(e) => {
            // Not a CONNECT, or one of no version: 3.1.1 [MQTT-3.1.0-1], 5.0 [MQTT-3.1.0-1].
            let mut statements = e.statements.clone();
            statements.push(Statement::v311("MQTT-4.8.0-1"));
            statements.push(Statement::v5("MQTT-4.13.1-1"));
            return SentView {
                protocol: None,
                expect: Expect::Close(Box::new(Violation {
                    packet: 0,
                    what: format!("first packet: {e}"),
                    statements,
                    pingreqs_before: 0,
                    acked_before: HashSet::new(),
                })),
            };
        }
    };
    let decoder = Decoder::new(protocol);
    let mut at = 0;
    let mut index = 0;
    let mut pingreqs = 0;
    let mut acked = HashSet::new();
    let mut auth_method = false;
    let mut connack_may_not_fit = None;
    let violation = |index: usize,
                     what: String,
                     cited: &[Statement],
                     pingreqs: usize,
                     acked: &HashSet<(u8, u16)>| {
        let mut statements = for_version(protocol, cited);
        if index == 0 && !statements.is_empty() {
            // The CONNECT itself: 3.1.1 [MQTT-3.1.4-1], 5.0 [MQTT-3.1.4-1].
            statements.push(if protocol.is_v5() {
                Statement::v5("MQTT-3.1.4-1")
            } else {
                Statement::v311("MQTT-3.1.4-1")
            });
        }
        let strict = requires_close(protocol, &statements);
        statements.push(close_rule(protocol));
        let v = Box::new(Violation {
            packet: index,
            what,
            statements,
            pingreqs_before: pingreqs,
            acked_before: acked.clone(),
        });
        SentView {
            protocol: Some(protocol),
            expect: if strict {
                Expect::Close(v)
            } else {
                Expect::Lenient(v)
            },
        }
    };
    while at < stream.len() {
        let packet = match decoder.decode_slice(&stream[at..]) {
            Ok((p, n)) => {
                at += n;
                p
            }
            Err(e) if e.kind == ErrorKind::Incomplete => {
                return SentView {
                    protocol: Some(protocol),
                    expect: Expect::Nothing(format!(
                        "the bytes end inside packet {index}: the server may wait for the rest"
                    )),
                }
            }
            Err(e) if !frame_complete(&stream[at..]) => {
                // The codec rejects the packet from its first bytes, but a server may read a
                // whole packet before judging it; this one's bytes are not all there.
                return SentView {
                    protocol: Some(protocol),
                    expect: Expect::Nothing(format!(
                        "packet {index} is invalid ({}) but its bytes end before its Remaining Length: the server may wait for the rest",
                        describe(&e)
                    )),
                };
            }
            Err(e) => {
                return violation(index, describe(&e), &e.statements, pingreqs, &acked);
            }
        };
        match &packet {
            Packet::Connect(c) if index == 0 => {
                auth_method = c.properties.authentication_method.is_some();
                connack_may_not_fit = c
                    .properties
                    .maximum_packet_size
                    .filter(|&n| (n as usize) < largest_connack(c));
            }
            Packet::Connect(_) => {
                return violation(
                    index,
                    "a second CONNECT on the connection".into(),
                    &[
                        Statement::v311("MQTT-3.1.0-2"),
                        Statement::v5("MQTT-3.1.0-2"),
                    ],
                    pingreqs,
                    &acked,
                );
            }
            Packet::Auth(_) if !auth_method => {
                return violation(
                    index,
                    "AUTH on a connection whose CONNECT had no Authentication Method".into(),
                    &[Statement::v5("MQTT-4.12.0-7")],
                    pingreqs,
                    &acked,
                );
            }
            Packet::PingReq => pingreqs += 1,
            Packet::Publish(p) => {
                if let Some(id) = p.packet_id {
                    let kind = if p.qos == touchstone_codec::QoS::AtLeastOnce {
                        4
                    } else {
                        5
                    };
                    acked.insert((kind, id.get()));
                }
            }
            Packet::PubRel(p) => {
                acked.insert((7, p.packet_id.get()));
            }
            Packet::Subscribe(s) => {
                acked.insert((9, s.packet_id.get()));
            }
            Packet::Unsubscribe(u) => {
                acked.insert((11, u.packet_id.get()));
            }
            Packet::Disconnect(_) => {
                return SentView {
                    protocol: Some(protocol),
                    expect: Expect::Nothing(
                        "DISCONNECT: the connection ends; nothing after it counts".into(),
                    ),
                };
            }
            _ => {}
        }
        index += 1;
    }
    SentView {
        protocol: Some(protocol),
        expect: Expect::Responsive {
            pingreqs,
            connack_may_not_fit,
        },
    }
}

/// The largest successful CONNACK a 5.0 server may have to send in answer to `c`, once it has
/// left out what it may leave out to fit the client's Maximum Packet Size (Reason String and
/// User Properties: 5.0 [MQTT-3.2.2-19], [MQTT-3.2.2-20]). Any server may have limits to
/// announce, so every property of fixed size counts; the strings a server may be bound to send
/// count at their largest (a server chooses the Assigned Client Identifier it must send to a
/// client with an empty one, its Response Information and its authentication data).
fn largest_connack(c: &touchstone_codec::Connect) -> usize {
    const STRING: usize = 3 + 65_535;
    // Session Expiry Interval 5, Receive Maximum 3, Maximum QoS 2, Retain Available 2,
    // Maximum Packet Size 5, Topic Alias Maximum 3, Wildcard Subscription Available 2,
    // Subscription Identifiers Available 2, Shared Subscription Available 2, Server Keep
    // Alive 3.
    let mut properties = 29;
    if c.client_id.is_empty() {
        properties += STRING; // Assigned Client Identifier, 5.0 [MQTT-3.2.2-16].
    }
    if c.properties.request_response_information == Some(true) {
        properties += STRING; // Response Information.
    }
    if c.properties.authentication_method.is_some() {
        properties += 2 * STRING; // Authentication Method and Data.
    }
    // Fixed header (type, Remaining Length up to 4 bytes), flags, reason code, Property
    // Length (up to 4 bytes).
    1 + 4 + 2 + 4 + properties
}

/// True if one of `statements` (of `protocol`'s version) fixes the receiver's reaction: it
/// says the receiver closes (disconnects), or calls the packet Malformed or a protocol
/// error / violation, which 3.1.1 [MQTT-4.8.0-1] and 5.0 [MQTT-4.13.1-1] then make the
/// server close for. A rule that only binds the sender (use one of these reason codes, DUP is
/// 0 on QoS 0) leaves the receiver free.
pub fn requires_close(protocol: Protocol, statements: &[Statement]) -> bool {
    statements.iter().any(|s| {
        s.version == protocol.spec()
            && crate::spec::find(s.version, s.id).is_some_and(|st| {
                let text = st.summary.to_ascii_lowercase();
                [
                    "close",
                    "disconnect",
                    "malformed",
                    "protocol error",
                    "protocol violation",
                ]
                .iter()
                .any(|w| text.contains(w))
            })
    })
}

/// True if the packet at the front of `bytes` is all there (as its Remaining Length says),
/// or its Remaining Length is itself invalid (which a server sees without waiting).
fn frame_complete(bytes: &[u8]) -> bool {
    match touchstone_codec::read_varint(bytes.get(1..).unwrap_or(&[])) {
        touchstone_codec::Varint::Value(v, n) | touchstone_codec::Varint::NotMinimal(v, n) => {
            1 + n + v as usize <= bytes.len()
        }
        touchstone_codec::Varint::Incomplete => false,
        touchstone_codec::Varint::TooLong => true,
    }
}

fn describe(e: &DecodeError) -> String {
    format!("{}: {}", e.kind, e.message)
}

/// A broken rule seen in the server's bytes (or in its silence).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Breach {
    /// The oracle that saw it.
    pub oracle: super::Oracle,
    /// The statements broken.
    pub statements: Vec<Statement>,
    /// What happened.
    pub message: String,
}

/// Watches what the server sends on one connection.
#[derive(Debug)]
pub struct Watch {
    protocol: Option<Protocol>,
    framer: Framer,
    broken_stream: bool,
    /// The server's CONNACK: `Some(true)` if it accepted the connection.
    pub connack: Option<bool>,
    /// PINGRESPs received.
    pub pingresps: usize,
    /// Rules broken so far.
    pub breaches: Vec<Breach>,
    /// One line per packet received, for the transcript.
    pub log: Vec<String>,
    /// What the server did that no statement forbids but is worth knowing.
    pub observations: Vec<String>,
    violation: Option<Violation>,
}

impl Watch {
    /// A watch for a connection the server reads as `view` says.
    pub fn new(view: &SentView) -> Watch {
        Watch {
            protocol: view.protocol,
            framer: Framer::new(Decoder::new(view.protocol.unwrap_or(Protocol::V3_1_1))),
            broken_stream: false,
            connack: None,
            pingresps: 0,
            breaches: Vec::new(),
            log: Vec::new(),
            observations: Vec::new(),
            violation: match &view.expect {
                Expect::Close(v) => Some((**v).clone()),
                _ => None,
            },
        }
    }

    fn breach(&mut self, oracle: super::Oracle, statements: Vec<Statement>, message: String) {
        self.breaches.push(Breach {
            oracle,
            statements,
            message,
        });
    }

    /// True once the server's bytes could not be decoded (what follows is not judged).
    pub fn broken(&self) -> bool {
        self.broken_stream
    }

    /// Takes bytes the server sent.
    pub fn feed(&mut self, data: &[u8]) {
        let Some(protocol) = self.protocol else {
            self.log.push(format!(
                "{} bytes (not decoded: the connection's version is unknown)",
                data.len()
            ));
            return;
        };
        if self.broken_stream {
            return;
        }
        self.framer.push(data);
        loop {
            match self.framer.next_frame() {
                Ok(Some(f)) => self.on_packet(protocol, f.packet),
                Ok(None) => return,
                Err(frame_error) => {
                    // The bytes from the failing packet on, as they came.
                    let mut before = frame_error.raw.to_vec();
                    before.extend_from_slice(self.framer.buffered());
                    let e = frame_error.error;
                    self.broken_stream = true;
                    let statements = for_version(protocol, &e.statements);
                    let n = before.len().min(64);
                    self.log.push(format!(
                        "undecodable: {}",
                        touchstone_codec::hex::encode(&before[..n])
                    ));
                    if statements.is_empty() {
                        // The codec's own strictness (no statement of the version): recorded,
                        // not a finding.
                        self.observations.push(format!(
                            "the server sent a packet the strict codec rejects citing no statement: {}: {}",
                            e.kind, e.message
                        ));
                        return;
                    }
                    self.breach(
                        super::Oracle::InvalidPacket,
                        statements,
                        format!(
                            "the server sent bytes the strict MQTT {} codec rejects: {e} (bytes: {})",
                            protocol.as_str(),
                            touchstone_codec::hex::encode(&before[..n])
                        ),
                    );
                    return;
                }
            }
        }
    }

    fn on_packet(&mut self, protocol: Protocol, p: Packet) {
        self.log.push(summary(&p));
        let v5 = protocol.is_v5();
        if self.connack.is_none() {
            match &p {
                Packet::ConnAck(c) => {
                    self.connack = Some(c.reason_code.as_u8() == 0);
                    if c.reason_code.as_u8() == 0 {
                        if let Some(v) = &self.violation {
                            if v.packet == 0 {
                                let statements = v.statements.clone();
                                let what = v.what.clone();
                                self.breach(
                                    super::Oracle::ContinuedAfterViolation,
                                    statements,
                                    format!(
                                        "the server accepted (CONNACK 0) a bad CONNECT: {what}"
                                    ),
                                );
                            }
                        }
                    }
                    return;
                }
                Packet::Auth(_) if v5 => return,
                Packet::Disconnect(_) if v5 => {
                    self.breach(
                        super::Oracle::Ordering,
                        vec![Statement::v5("MQTT-3.14.0-1")],
                        "the server sent DISCONNECT before any CONNACK".into(),
                    );
                    return;
                }
                other => {
                    let s = if v5 {
                        Statement::v5("MQTT-3.2.0-1")
                    } else {
                        Statement::v311("MQTT-3.2.0-1")
                    };
                    self.breach(
                        super::Oracle::Ordering,
                        vec![s],
                        format!(
                            "the server's first packet is {}, not CONNACK",
                            other.packet_type()
                        ),
                    );
                    // Go on as if connected, to avoid one breach per packet.
                    self.connack = Some(true);
                    return;
                }
            }
        }
        match &p {
            Packet::ConnAck(_) if v5 => self.breach(
                super::Oracle::Ordering,
                vec![Statement::v5("MQTT-3.2.0-2")],
                "the server sent a second CONNACK".into(),
            ),
            Packet::PingResp => self.pingresps += 1,
            _ => {}
        }
        // A success ack for a packet at or after the violation.
        let acked = match &p {
            Packet::PubAck(a) => Some((4, a.packet_id.get(), a.reason_code.is_success())),
            Packet::PubRec(a) => Some((5, a.packet_id.get(), a.reason_code.is_success())),
            Packet::PubComp(a) => Some((7, a.packet_id.get(), a.reason_code.is_success())),
            Packet::SubAck(a) => Some((
                9,
                a.packet_id.get(),
                a.reason_codes.iter().all(|c| c.is_success()),
            )),
            Packet::UnsubAck(a) => Some((
                11,
                a.packet_id.get(),
                a.reason_codes.iter().all(|c| c.is_success()),
            )),
            _ => None,
        };
        if let (Some((kind, id, true)), Some(v)) = (acked, &self.violation) {
            if !v.acked_before.contains(&(kind, id)) {
                let statements = v.statements.clone();
                let what = v.what.clone();
                self.breach(
                    super::Oracle::ContinuedAfterViolation,
                    statements,
                    format!(
                        "after a protocol violation ({what}) the server acknowledged id {id} with {} instead of closing",
                        p.packet_type()
                    ),
                );
            }
        }
    }
}

/// A one-line summary of a packet.
pub fn summary(p: &Packet) -> String {
    match p {
        Packet::ConnAck(c) => format!(
            "CONNACK {:#04x}{}",
            c.reason_code.as_u8(),
            if c.session_present { " sp" } else { "" }
        ),
        Packet::Publish(p) => format!(
            "PUBLISH {:?} q{}{}",
            p.topic.as_str(),
            p.qos as u8,
            p.packet_id.map(|i| format!(" id {i}")).unwrap_or_default()
        ),
        Packet::PubAck(a) => format!("PUBACK id {} {:#04x}", a.packet_id, a.reason_code.as_u8()),
        Packet::PubRec(a) => format!("PUBREC id {} {:#04x}", a.packet_id, a.reason_code.as_u8()),
        Packet::PubRel(a) => format!("PUBREL id {} {:#04x}", a.packet_id, a.reason_code.as_u8()),
        Packet::PubComp(a) => {
            format!("PUBCOMP id {} {:#04x}", a.packet_id, a.reason_code.as_u8())
        }
        Packet::SubAck(a) => format!(
            "SUBACK id {} {:02x?}",
            a.packet_id,
            a.reason_codes.iter().map(|c| c.as_u8()).collect::<Vec<_>>()
        ),
        Packet::UnsubAck(a) => format!("UNSUBACK id {}", a.packet_id),
        Packet::Disconnect(d) => format!("DISCONNECT {:#04x}", d.reason_code.as_u8()),
        Packet::Auth(a) => format!("AUTH {:#04x}", a.reason_code.as_u8()),
        other => other.packet_type().to_string(),
    }
}

/// The version a statement list belongs to, for reports.
pub fn version_of(statements: &[Statement]) -> Option<SpecVersion> {
    statements.first().map(|s| s.version)
}

#[cfg(test)]
mod tests {
    use super::*;

    const CONNECT_311: &[u8] = &[0x10, 0x0c, 0, 4, b'M', b'Q', b'T', b'T', 4, 2, 0, 60, 0, 0];

    /// A 5.0 CONNECT with Maximum Packet Size `max` and client identifier `id`, then a PINGREQ.
    fn connect_v5_then_ping(max: u32, id: &str) -> Vec<u8> {
        let mut c = touchstone_codec::Connect {
            clean_start: true,
            client_id: id.into(),
            ..Default::default()
        };
        c.properties.maximum_packet_size = Some(max);
        let mut s = bytes::BytesMut::new();
        Packet::Connect(Box::new(c))
            .encode(Protocol::V5, &mut s)
            .unwrap();
        s.extend_from_slice(&[0xC0, 0x00]);
        s.to_vec()
    }

    #[test]
    fn mqtt_3_1_2_24_v5_silence_allowed_when_no_connack_can_fit() {
        let may_not_fit = |max, id| match judge_sent(&connect_v5_then_ping(max, id)).expect {
            Expect::Responsive {
                connack_may_not_fit,
                ..
            } => connack_may_not_fit,
            other => panic!("{other:?}"),
        };
        // Nothing fits in 1 byte; 40 bytes hold every fixed-size CONNACK property.
        assert_eq!(may_not_fit(1, "c"), Some(1));
        assert_eq!(may_not_fit(39, "c"), Some(39));
        assert_eq!(may_not_fit(40, "c"), None);
        // An empty client identifier: the server picks the Assigned Client Identifier.
        assert_eq!(may_not_fit(1000, ""), Some(1000));
    }

    #[test]
    fn valid_stream_owes_pingresps() {
        let mut s = CONNECT_311.to_vec();
        s.extend([0xC0, 0x00, 0xC0, 0x00]);
        assert_eq!(
            judge_sent(&s).expect,
            Expect::Responsive {
                pingreqs: 2,
                connack_may_not_fit: None
            }
        );
    }

    #[test]
    fn violations_and_incomplete() {
        let mut s = CONNECT_311.to_vec();
        s.extend([0xC0, 0x00, 0xC1, 0x00, 0xC0, 0x00]);
        let Expect::Close(v) = judge_sent(&s).expect else {
            panic!()
        };
        assert_eq!((v.packet, v.pingreqs_before), (2, 1));
        assert!(v.statements.contains(&Statement::v311("MQTT-4.8.0-1")));
        let mut twice = CONNECT_311.to_vec();
        twice.extend(CONNECT_311);
        let Expect::Close(v) = judge_sent(&twice).expect else {
            panic!()
        };
        assert!(v.statements.contains(&Statement::v311("MQTT-3.1.0-2")));
        assert!(matches!(
            judge_sent(&CONNECT_311[..5]).expect,
            Expect::Nothing(_)
        ));
        assert!(matches!(judge_sent(&[0xC0, 0x00]).expect, Expect::Close(_)));
    }

    #[test]
    fn watch_flags_undecodable_and_out_of_order() {
        let view = judge_sent(CONNECT_311);
        let mut w = Watch::new(&view);
        w.feed(&[0x20, 0x02, 0x00, 0x00, 0xD0, 0x00]);
        assert!(w.breaches.is_empty());
        assert_eq!(w.pingresps, 1);
        w.feed(&[0xD1, 0x00]);
        assert_eq!(w.breaches[0].oracle, super::super::Oracle::InvalidPacket);
        let mut w = Watch::new(&view);
        w.feed(&[0xD0, 0x00]);
        assert_eq!(w.breaches[0].oracle, super::super::Oracle::Ordering);
    }
}
