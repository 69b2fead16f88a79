//! The fifteen control packets: one model for every version, one file per packet.

mod ack;
mod auth;
mod borrowed;
mod connack;
mod connect;
mod disconnect;
mod filters;
mod pingreq;
mod pingresp;
mod puback;
mod pubcomp;
mod publish;
mod pubrec;
mod pubrel;
mod suback;
mod subscribe;
mod unsuback;
mod unsubscribe;

use std::fmt;
use std::num::NonZeroU16;

use bytes::{BufMut, BytesMut};

pub use auth::Auth;
pub(crate) use borrowed::decode_body_ref;
pub use borrowed::PacketRef;
pub use connack::ConnAck;
pub use connect::{Connect, ConnectRef, Will, WillRef};
pub use disconnect::Disconnect;
pub use puback::PubAck;
pub use pubcomp::PubComp;
pub use publish::{Publish, PublishRef};
pub use pubrec::PubRec;
pub use pubrel::PubRel;
pub use suback::SubAck;
pub use subscribe::{
    RetainHandling, Subscribe, SubscribeRef, Subscription, SubscriptionOptions, SubscriptionsIter,
    SubscriptionsRef,
};
pub use unsuback::UnsubAck;
pub use unsubscribe::{FiltersIter, FiltersRef, Unsubscribe, UnsubscribeRef};

use crate::error::{DecodeError, EncodeError};
use crate::protocol::Protocol;
use crate::reader::{Reader, Source};
use crate::stmts;
use crate::topic::TopicError;
use crate::varint::{varint_len, write_varint, VARINT_MAX};

/// A Packet Identifier: never 0 (3.1.1 [MQTT-2.3.1-1]).
pub type PacketId = NonZeroU16;

/// The type of a control packet (the high nibble of its first byte).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "UPPERCASE"))]
#[allow(missing_docs)]
pub enum PacketType {
    Connect = 1,
    ConnAck = 2,
    Publish = 3,
    PubAck = 4,
    PubRec = 5,
    PubRel = 6,
    PubComp = 7,
    Subscribe = 8,
    SubAck = 9,
    Unsubscribe = 10,
    UnsubAck = 11,
    PingReq = 12,
    PingResp = 13,
    Disconnect = 14,
    Auth = 15,
}

impl PacketType {
    /// The type for the high nibble `n`, if any (0 is reserved).
    pub const fn from_nibble(n: u8) -> Option<PacketType> {
        Some(match n {
            1 => PacketType::Connect,
            2 => PacketType::ConnAck,
            3 => PacketType::Publish,
            4 => PacketType::PubAck,
            5 => PacketType::PubRec,
            6 => PacketType::PubRel,
            7 => PacketType::PubComp,
            8 => PacketType::Subscribe,
            9 => PacketType::SubAck,
            10 => PacketType::Unsubscribe,
            11 => PacketType::UnsubAck,
            12 => PacketType::PingReq,
            13 => PacketType::PingResp,
            14 => PacketType::Disconnect,
            15 => PacketType::Auth,
            _ => return None,
        })
    }

    /// The name the specification uses, e.g. `CONNACK`.
    pub const fn name(self) -> &'static str {
        match self {
            PacketType::Connect => "CONNECT",
            PacketType::ConnAck => "CONNACK",
            PacketType::Publish => "PUBLISH",
            PacketType::PubAck => "PUBACK",
            PacketType::PubRec => "PUBREC",
            PacketType::PubRel => "PUBREL",
            PacketType::PubComp => "PUBCOMP",
            PacketType::Subscribe => "SUBSCRIBE",
            PacketType::SubAck => "SUBACK",
            PacketType::Unsubscribe => "UNSUBSCRIBE",
            PacketType::UnsubAck => "UNSUBACK",
            PacketType::PingReq => "PINGREQ",
            PacketType::PingResp => "PINGRESP",
            PacketType::Disconnect => "DISCONNECT",
            PacketType::Auth => "AUTH",
        }
    }

    /// The fixed-header flag bits required for this type; `None` for PUBLISH, whose flags carry
    /// DUP, QoS and RETAIN (3.1.1 Table 2.2, 5.0 Table 2-2).
    pub const fn required_flags(self) -> Option<u8> {
        match self {
            PacketType::Publish => None,
            PacketType::PubRel | PacketType::Subscribe | PacketType::Unsubscribe => Some(0b0010),
            _ => Some(0),
        }
    }
}

impl fmt::Display for PacketType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// An MQTT control packet of any version.
///
/// 5.0-only parts (properties, reason codes other than success, AUTH) are fields that checked
/// encoding for 3.1 / 3.1.1 rejects when set.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(tag = "type", rename_all = "UPPERCASE"))]
#[allow(missing_docs)]
pub enum Packet {
    Connect(Box<Connect>),
    ConnAck(Box<ConnAck>),
    Publish(Publish),
    PubAck(PubAck),
    PubRec(PubRec),
    PubRel(PubRel),
    PubComp(PubComp),
    Subscribe(Subscribe),
    SubAck(SubAck),
    Unsubscribe(Unsubscribe),
    UnsubAck(UnsubAck),
    PingReq,
    PingResp,
    Disconnect(Disconnect),
    Auth(Auth),
}

/// What every packet type implements: decode from its body, and checked and unchecked encode.
pub(crate) trait Codec: Sized {
    /// Decodes the body; `first` is the first byte of the fixed header.
    fn decode<S: Source>(first: u8, r: Reader<'_, S>) -> Result<Self, DecodeError>;
    /// The low nibble of the first byte.
    fn flags(&self) -> u8 {
        0
    }
    /// The Remaining Length.
    fn body_len(&self, p: Protocol) -> usize;
    /// Writes the variable header and payload.
    fn write_body(&self, p: Protocol, buf: &mut BytesMut);
    /// Checks that the packet is valid for `p`, as the decoder would.
    fn check(&self, p: Protocol) -> Result<(), EncodeError>;
}

macro_rules! each_packet {
    ($self:ident, $v:ident => $e:expr, ping => $ping:expr) => {
        match $self {
            Packet::Connect($v) => $e,
            Packet::ConnAck($v) => $e,
            Packet::Publish($v) => $e,
            Packet::PubAck($v) => $e,
            Packet::PubRec($v) => $e,
            Packet::PubRel($v) => $e,
            Packet::PubComp($v) => $e,
            Packet::Subscribe($v) => $e,
            Packet::SubAck($v) => $e,
            Packet::Unsubscribe($v) => $e,
            Packet::UnsubAck($v) => $e,
            Packet::Disconnect($v) => $e,
            Packet::Auth($v) => $e,
            Packet::PingReq | Packet::PingResp => $ping,
        }
    };
}

impl Packet {
    /// The packet's type.
    pub fn packet_type(&self) -> PacketType {
        match self {
            Packet::Connect(_) => PacketType::Connect,
            Packet::ConnAck(_) => PacketType::ConnAck,
            Packet::Publish(_) => PacketType::Publish,
            Packet::PubAck(_) => PacketType::PubAck,
            Packet::PubRec(_) => PacketType::PubRec,
            Packet::PubRel(_) => PacketType::PubRel,
            Packet::PubComp(_) => PacketType::PubComp,
            Packet::Subscribe(_) => PacketType::Subscribe,
            Packet::SubAck(_) => PacketType::SubAck,
            Packet::Unsubscribe(_) => PacketType::Unsubscribe,
            Packet::UnsubAck(_) => PacketType::UnsubAck,
            Packet::PingReq => PacketType::PingReq,
            Packet::PingResp => PacketType::PingResp,
            Packet::Disconnect(_) => PacketType::Disconnect,
            Packet::Auth(_) => PacketType::Auth,
        }
    }

    fn first_byte(&self) -> u8 {
        let flags = each_packet!(self, p => p.flags(), ping => 0);
        (self.packet_type() as u8) << 4 | flags
    }

    /// The Remaining Length of the encoded packet.
    pub fn remaining_length(&self, protocol: Protocol) -> usize {
        each_packet!(self, p => p.body_len(protocol), ping => 0)
    }

    /// The size of the encoded packet, fixed header included.
    pub fn encoded_len(&self, protocol: Protocol) -> usize {
        let n = self.remaining_length(protocol);
        1 + varint_len(n as u32) + n
    }

    /// Checks that the packet can be encoded for `protocol`: the checks mirror the decoder's, so
    /// what passes decodes back to an equal packet.
    pub fn check(&self, protocol: Protocol) -> Result<(), EncodeError> {
        each_packet!(self, p => p.check(protocol)?, ping => ());
        if self.remaining_length(protocol) > VARINT_MAX as usize {
            return Err(EncodeError::new(
                "packet is longer than the largest Remaining Length (268435455)",
            ));
        }
        Ok(())
    }

    /// Checks the packet for `protocol` and appends its encoding to `buf`.
    pub fn encode(&self, protocol: Protocol, buf: &mut BytesMut) -> Result<(), EncodeError> {
        self.check(protocol)?;
        self.encode_unchecked(protocol, buf);
        Ok(())
    }

    /// Appends the encoding without any check: invalid values are written as they are (5.0-only
    /// fields are left out for 3.1.1). For tests that must put invalid packets on the wire; see
    /// also [`crate::raw`].
    pub fn encode_unchecked(&self, protocol: Protocol, buf: &mut BytesMut) {
        let len = self.remaining_length(protocol);
        buf.reserve(1 + varint_len(len as u32) + len);
        buf.put_u8(self.first_byte());
        write_varint(buf, len as u32);
        each_packet!(self, p => p.write_body(protocol, buf), ping => ());
    }

    /// Checks and encodes into a new buffer.
    pub fn to_bytes(&self, protocol: Protocol) -> Result<BytesMut, EncodeError> {
        let mut buf = BytesMut::with_capacity(self.encoded_len(protocol));
        self.encode(protocol, &mut buf)?;
        Ok(buf)
    }
}

/// Decodes the body of a packet whose fixed header has been checked.
#[inline]
pub(crate) fn decode_body<S: Source>(
    ty: PacketType,
    first: u8,
    r: Reader<'_, S>,
) -> Result<Packet, DecodeError> {
    Ok(match ty {
        PacketType::Publish => Packet::Publish(Publish::decode(first, r)?),
        PacketType::PubAck => Packet::PubAck(PubAck::decode(first, r)?),
        PacketType::Connect => Packet::Connect(Box::new(Connect::decode(first, r)?)),
        PacketType::ConnAck => Packet::ConnAck(Box::new(ConnAck::decode(first, r)?)),
        PacketType::PubRec => Packet::PubRec(PubRec::decode(first, r)?),
        PacketType::PubRel => Packet::PubRel(PubRel::decode(first, r)?),
        PacketType::PubComp => Packet::PubComp(PubComp::decode(first, r)?),
        PacketType::Subscribe => Packet::Subscribe(Subscribe::decode(first, r)?),
        PacketType::SubAck => Packet::SubAck(SubAck::decode(first, r)?),
        PacketType::Unsubscribe => Packet::Unsubscribe(Unsubscribe::decode(first, r)?),
        PacketType::UnsubAck => Packet::UnsubAck(UnsubAck::decode(first, r)?),
        PacketType::PingReq => pingreq::decode(r).map(|()| Packet::PingReq)?,
        PacketType::PingResp => pingresp::decode(r).map(|()| Packet::PingResp)?,
        PacketType::Disconnect => Packet::Disconnect(Disconnect::decode(first, r)?),
        PacketType::Auth => Packet::Auth(Auth::decode(first, r)?),
    })
}

/// The string at `span` in `packet`, a field the decoder has checked (empty if out of bounds,
/// which a checked span never is).
#[inline]
pub(crate) fn field_str(packet: &[u8], (start, end): crate::reader::Span) -> &str {
    crate::str::checked(packet.get(start..end).unwrap_or_default())
}

/// Reads a non-zero Packet Identifier (3.1.1 [MQTT-2.3.1-1]; 5.0 [MQTT-2.2.1-3], [MQTT-2.2.1-4]).
#[inline]
pub(crate) fn read_packet_id<S: Source>(r: &mut Reader<'_, S>) -> Result<PacketId, DecodeError> {
    let at = r.pos();
    let id = r.u16("Packet Identifier")?;
    PacketId::new(id).ok_or_else(|| {
        DecodeError::malformed(at, "Packet Identifier is 0").cite(stmts!(r.protocol,
            v311: ["MQTT-2.3.1-1"], v5: ["MQTT-2.2.1-3", "MQTT-2.2.1-4"]))
    })
}

/// The decode error for an invalid topic name or filter at `at`.
#[cold]
pub(crate) fn topic_error(e: TopicError, at: usize, p: Protocol, what: &str) -> DecodeError {
    let statements = match e {
        TopicError::Empty => stmts!(p, v311: ["MQTT-4.7.3-1"], v5: ["MQTT-4.7.3-1"]),
        TopicError::TooLong => stmts!(p, v311: ["MQTT-4.7.3-3"], v5: ["MQTT-4.7.3-3"]),
        TopicError::Nul => stmts!(p, v311: ["MQTT-4.7.3-2"], v5: ["MQTT-4.7.3-2"]),
        TopicError::WildcardInName => {
            stmts!(p, v311: ["MQTT-3.3.2-2", "MQTT-4.7.1-1"], v5: ["MQTT-3.3.2-2", "MQTT-4.7.0-1"])
        }
        TopicError::MisplacedMultiLevel => stmts!(p, v311: ["MQTT-4.7.1-2"], v5: ["MQTT-4.7.1-1"]),
        TopicError::MisplacedSingleLevel => stmts!(p, v311: ["MQTT-4.7.1-3"], v5: ["MQTT-4.7.1-2"]),
        TopicError::EmptyShareName => stmts!(p, v311: [], v5: ["MQTT-4.8.2-1"]),
        TopicError::InvalidShareName => stmts!(p, v311: [], v5: ["MQTT-4.8.2-2"]),
    };
    DecodeError::malformed(at, format!("{what}: {e}")).cite(statements)
}

/// The encode error for an invalid topic name or filter.
#[cold]
pub(crate) fn topic_encode_error(e: TopicError, p: Protocol, what: &str) -> EncodeError {
    let d = topic_error(e, 0, p, what);
    EncodeError::new(d.message.clone()).cite(&d.statements)
}

/// Checks a string field for encoding: at most 65,535 bytes, no U+0000.
pub(crate) fn check_str(s: &str, p: Protocol, what: &str) -> Result<(), EncodeError> {
    if s.len() > 65_535 {
        return Err(EncodeError::new(format!(
            "{what} is longer than 65535 bytes"
        )));
    }
    if s.contains('\0') {
        return Err(EncodeError::new(format!("{what} contains U+0000"))
            .cite(stmts!(p, v311: ["MQTT-1.5.3-2"], v5: ["MQTT-1.5.4-2"])));
    }
    Ok(())
}

/// Checks a binary field for encoding: at most 65,535 bytes.
pub(crate) fn check_bin(b: &[u8], what: &str) -> Result<(), EncodeError> {
    if b.len() > 65_535 {
        return Err(EncodeError::new(format!(
            "{what} is longer than 65535 bytes"
        )));
    }
    Ok(())
}

/// The error for a 5.0-only part set on a packet encoded for 3.1 / 3.1.1.
#[cold]
pub(crate) fn not_in_v3(what: &str, p: Protocol) -> EncodeError {
    EncodeError::new(format!("{what} does not exist in MQTT {p}"))
}

/// Fails unless `props_empty` when encoding for 3.1 / 3.1.1.
#[inline]
pub(crate) fn no_v3_properties(
    props_empty: bool,
    p: Protocol,
    packet: &str,
) -> Result<(), EncodeError> {
    if !p.is_v5() && !props_empty {
        return Err(not_in_v3(&format!("properties on {packet}"), p));
    }
    Ok(())
}
