//! The mutants: one operator applied to one packet type going one way, and the catalogue of
//! every mutant that makes sense for a protocol version.

use std::fmt;

use touchstone_codec::{PacketType, Protocol};

/// Which way a packet goes through the proxy.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Way {
    /// From the test client to the broker.
    ToServer,
    /// From the broker to the test client.
    ToClient,
}

impl Way {
    /// The name in mutant ids.
    pub const fn as_str(self) -> &'static str {
        match self {
            Way::ToServer => "to-server",
            Way::ToClient => "to-client",
        }
    }
}

/// What a mutant does to each packet it applies to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Operator {
    /// The packet is not forwarded (every one of its type).
    Drop,
    /// Only the first packet of its type on each connection is not forwarded.
    DropFirst,
    /// The packet is forwarded twice.
    Duplicate,
    /// The packet goes [`DELAY`] after it arrived (what follows on the connection waits
    /// behind it): a slow network, not a slow link.
    Delay,
    /// The packet is swapped with the next one going the same way (or sent after [`HOLD`]).
    Reorder,
    /// One bit of the fixed header's flags (0 to 3) is flipped.
    FlipFlag(u8),
    /// The last byte of the packet is cut (the Remaining Length follows).
    Truncate,
    /// A zero byte is appended to the packet (the Remaining Length follows).
    Extend,
    /// A DISCONNECT is sent before the packet.
    InjectDisconnect,
    /// A PINGRESP is sent after the packet (towards the client).
    InjectPingResp,
    /// The Packet Identifier is the next one.
    PacketIdNext,
    /// The Packet Identifier is 0.
    PacketIdZero,
    /// One QoS higher (PUBLISH, a subscription's options, a SUBACK's granted QoS).
    QosUp,
    /// One QoS lower.
    QosDown,
    /// The last level of the topic (or filter) is renamed.
    TopicRename,
    /// A level is added to the topic (or filter).
    TopicAddLevel,
    /// The last level of the topic (or filter) is removed.
    TopicDropLevel,
    /// The last byte of the payload is changed.
    PayloadAlter,
    /// The payload is removed.
    PayloadEmpty,
    /// One bit of the variable header's flag byte (CONNECT flags, CONNACK acknowledge flags,
    /// the first subscription's options) is flipped.
    FlipVarFlag(u8),
    /// The reason code turns from success to failure, or back.
    ReasonFlip,
    /// Another reason code of the same kind (success or failure) that the packet allows.
    ReasonOther,
    /// A User Property is added.
    PropAddUser,
    /// A property the packet may not carry is added.
    PropAddForeign,
    /// The first property is removed.
    PropRemove,
    /// The value of the first property is changed.
    PropAlter,
    /// The first property is repeated.
    PropDuplicate,
}

/// How long [`Operator::Delay`] holds a packet.
pub const DELAY: std::time::Duration = std::time::Duration::from_millis(250);
/// The longest [`Operator::Reorder`] waits for a packet to swap with.
pub const HOLD: std::time::Duration = std::time::Duration::from_millis(200);

impl Operator {
    /// The name in mutant ids.
    pub fn name(self) -> String {
        match self {
            Operator::Drop => "drop".into(),
            Operator::DropFirst => "drop-first".into(),
            Operator::Duplicate => "duplicate".into(),
            Operator::Delay => "delay".into(),
            Operator::Reorder => "reorder".into(),
            Operator::FlipFlag(b) => format!("flip-flag-{b}"),
            Operator::Truncate => "truncate".into(),
            Operator::Extend => "extend".into(),
            Operator::InjectDisconnect => "inject-disconnect".into(),
            Operator::InjectPingResp => "inject-pingresp".into(),
            Operator::PacketIdNext => "packet-id-next".into(),
            Operator::PacketIdZero => "packet-id-zero".into(),
            Operator::QosUp => "qos-up".into(),
            Operator::QosDown => "qos-down".into(),
            Operator::TopicRename => "topic-rename".into(),
            Operator::TopicAddLevel => "topic-add-level".into(),
            Operator::TopicDropLevel => "topic-drop-level".into(),
            Operator::PayloadAlter => "payload-alter".into(),
            Operator::PayloadEmpty => "payload-empty".into(),
            Operator::FlipVarFlag(b) => format!("flip-var-flag-{b}"),
            Operator::ReasonFlip => "reason-flip".into(),
            Operator::ReasonOther => "reason-other".into(),
            Operator::PropAddUser => "prop-add-user".into(),
            Operator::PropAddForeign => "prop-add-foreign".into(),
            Operator::PropRemove => "prop-remove".into(),
            Operator::PropAlter => "prop-alter".into(),
            Operator::PropDuplicate => "prop-duplicate".into(),
        }
    }
}

/// One operator applied to every packet of one type going one way.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Mutant {
    /// What it does.
    pub operator: Operator,
    /// To which packets.
    pub packet: PacketType,
    /// Going which way.
    pub way: Way,
}

impl Mutant {
    /// Its id: `operator:PACKET:way`, e.g. `drop:PUBACK:to-client`.
    pub fn id(&self) -> String {
        format!(
            "{}:{}:{}",
            self.operator.name(),
            self.packet.name(),
            self.way.as_str()
        )
    }

    /// Does the mutant apply to this packet?
    pub fn targets(&self, first_byte: u8, way: Way) -> bool {
        way == self.way && PacketType::from_nibble(first_byte >> 4) == Some(self.packet)
    }
}

impl fmt::Display for Mutant {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.id())
    }
}

/// The packet types that go each way in `protocol`.
pub fn packets(protocol: Protocol, way: Way) -> Vec<PacketType> {
    use PacketType::*;
    let v5 = protocol.is_v5();
    let mut types = match way {
        Way::ToServer => vec![
            Connect,
            Publish,
            PubAck,
            PubRec,
            PubRel,
            PubComp,
            Subscribe,
            Unsubscribe,
            PingReq,
            Disconnect,
        ],
        Way::ToClient => vec![
            ConnAck, Publish, PubAck, PubRec, PubRel, PubComp, SubAck, UnsubAck, PingResp,
        ],
    };
    if v5 {
        if way == Way::ToClient {
            types.push(Disconnect);
        }
        types.push(Auth);
    }
    types
}

/// The operators that make sense for `packet` going `way` in `protocol`.
pub fn operators(protocol: Protocol, packet: PacketType, way: Way) -> Vec<Operator> {
    use Operator::*;
    use PacketType as T;
    let v5 = protocol.is_v5();
    let mut ops = vec![Drop, DropFirst, Duplicate, Delay, Reorder];
    ops.extend((0..4).map(FlipFlag));
    ops.extend([Truncate, Extend, InjectDisconnect]);
    if way == Way::ToClient {
        ops.push(InjectPingResp);
    }
    let has_packet_id = matches!(
        packet,
        T::Publish
            | T::PubAck
            | T::PubRec
            | T::PubRel
            | T::PubComp
            | T::Subscribe
            | T::SubAck
            | T::Unsubscribe
            | T::UnsubAck
    );
    if has_packet_id {
        ops.extend([PacketIdNext, PacketIdZero]);
    }
    if matches!(packet, T::Publish | T::Subscribe | T::SubAck) {
        ops.extend([QosUp, QosDown]);
    }
    if matches!(
        packet,
        T::Publish | T::Subscribe | T::Unsubscribe | T::Connect
    ) {
        ops.extend([TopicRename, TopicAddLevel, TopicDropLevel]);
    }
    if packet == T::Publish {
        ops.extend([PayloadAlter, PayloadEmpty]);
    }
    if matches!(packet, T::Connect | T::ConnAck | T::Subscribe) {
        ops.extend((0..8).map(FlipVarFlag));
    }
    let has_reason = if v5 {
        matches!(
            packet,
            T::ConnAck
                | T::PubAck
                | T::PubRec
                | T::PubRel
                | T::PubComp
                | T::SubAck
                | T::UnsubAck
                | T::Disconnect
                | T::Auth
        )
    } else {
        matches!(packet, T::ConnAck | T::SubAck)
    };
    if has_reason {
        ops.push(ReasonFlip);
        // A 3.1.1 SUBACK's other success codes are its granted QoS (`qos-up`, `qos-down`).
        if v5 || packet == T::ConnAck {
            ops.push(ReasonOther);
        }
    }
    if v5 && !matches!(packet, T::PingReq | T::PingResp) {
        ops.extend([
            PropAddUser,
            PropAddForeign,
            PropRemove,
            PropAlter,
            PropDuplicate,
        ]);
    }
    ops
}

/// Every mutant of `protocol`, in a fixed order.
pub fn catalogue(protocol: Protocol) -> Vec<Mutant> {
    let mut all = Vec::new();
    for way in [Way::ToServer, Way::ToClient] {
        for packet in packets(protocol, way) {
            for operator in operators(protocol, packet, way) {
                all.push(Mutant {
                    operator,
                    packet,
                    way,
                });
            }
        }
    }
    all
}

/// Does `id` match `pattern`: `op:PACKET:way` where each part is `*`, or one or more
/// alternatives separated by `|` (case-insensitive), and missing trailing parts match anything
/// (`drop` is `drop:*:*`; `reorder:PUBACK|PUBREC:to-client` two mutants)?
pub fn id_matches(pattern: &str, id: &str) -> bool {
    let mut ids = id.split(':');
    for part in pattern.split(':') {
        let Some(have) = ids.next() else {
            return false;
        };
        if part != "*" && !part.split('|').any(|alt| alt.eq_ignore_ascii_case(have)) {
            return false;
        }
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn at_least_300_mutants_per_version_each_id_once() {
        for p in [Protocol::V3_1_1, Protocol::V5] {
            let all = catalogue(p);
            assert!(all.len() >= 300, "{p}: {} mutants", all.len());
            let ids: std::collections::BTreeSet<String> = all.iter().map(Mutant::id).collect();
            assert_eq!(ids.len(), all.len(), "{p}: an id twice");
        }
    }

    #[test]
    fn patterns_match_by_part() {
        assert!(id_matches("drop", "drop:PUBACK:to-client"));
        assert!(id_matches("*:puback", "drop:PUBACK:to-client"));
        assert!(id_matches("drop:*:to-client", "drop:PUBACK:to-client"));
        assert!(!id_matches("drop:*:to-server", "drop:PUBACK:to-client"));
        assert!(!id_matches("drop-first", "drop:PUBACK:to-client"));
        assert!(id_matches("drop:SUBACK|PUBACK", "drop:PUBACK:to-client"));
        assert!(!id_matches("drop:SUBACK|PUBREC", "drop:PUBACK:to-client"));
    }
}
