//! `PacketRef`: a checked packet borrowed from the bytes it was decoded from.

use super::{
    auth::Auth, connack::ConnAck, connect, disconnect::Disconnect, pingreq, pingresp,
    puback::PubAck, pubcomp::PubComp, publish, pubrec::PubRec, pubrel::PubRel, suback::SubAck,
    subscribe, unsuback::UnsubAck, unsubscribe, Codec, ConnectRef, Packet, PacketType, PublishRef,
    SubscribeRef, UnsubscribeRef,
};
use crate::error::DecodeError;
use crate::reader::{Borrowed, Reader};

/// A control packet borrowed from the bytes it was decoded from, as checked as a [`Packet`]
/// (see [`crate::Decoder::decode_ref`]).
///
/// The packets a client sends borrow their strings and payloads; the packets only a server sends
/// (CONNACK, SUBACK, UNSUBACK), the PUBLISH acknowledgements, DISCONNECT and AUTH are small and
/// held in their owned form. A PUBLISH's 5.0 properties are checked bytes read on access
/// ([`crate::PublishPropertiesRef`]); those of the other packets are held in their owned form,
/// so such a packet with properties allocates; one without (every 3.1.1 packet but SUBACK) does
/// not.
#[derive(Debug, Clone, PartialEq, Eq)]
#[allow(missing_docs)]
pub enum PacketRef<'a> {
    Connect(ConnectRef<'a>),
    ConnAck(Box<ConnAck>),
    Publish(PublishRef<'a>),
    PubAck(PubAck),
    PubRec(PubRec),
    PubRel(PubRel),
    PubComp(PubComp),
    Subscribe(SubscribeRef<'a>),
    SubAck(SubAck),
    Unsubscribe(UnsubscribeRef<'a>),
    UnsubAck(UnsubAck),
    PingReq,
    PingResp,
    Disconnect(Disconnect),
    Auth(Auth),
}

impl PacketRef<'_> {
    /// The packet's type.
    pub fn packet_type(&self) -> PacketType {
        match self {
            PacketRef::Connect(_) => PacketType::Connect,
            PacketRef::ConnAck(_) => PacketType::ConnAck,
            PacketRef::Publish(_) => PacketType::Publish,
            PacketRef::PubAck(_) => PacketType::PubAck,
            PacketRef::PubRec(_) => PacketType::PubRec,
            PacketRef::PubRel(_) => PacketType::PubRel,
            PacketRef::PubComp(_) => PacketType::PubComp,
            PacketRef::Subscribe(_) => PacketType::Subscribe,
            PacketRef::SubAck(_) => PacketType::SubAck,
            PacketRef::Unsubscribe(_) => PacketType::Unsubscribe,
            PacketRef::UnsubAck(_) => PacketType::UnsubAck,
            PacketRef::PingReq => PacketType::PingReq,
            PacketRef::PingResp => PacketType::PingResp,
            PacketRef::Disconnect(_) => PacketType::Disconnect,
            PacketRef::Auth(_) => PacketType::Auth,
        }
    }

    /// An owned copy: equal to what [`crate::Decoder::decode`] makes of the same bytes.
    pub fn to_owned(&self) -> Packet {
        match self {
            PacketRef::Connect(p) => Packet::Connect(Box::new(p.to_owned())),
            PacketRef::ConnAck(p) => Packet::ConnAck(p.clone()),
            PacketRef::Publish(p) => Packet::Publish(p.to_owned()),
            PacketRef::PubAck(p) => Packet::PubAck(p.clone()),
            PacketRef::PubRec(p) => Packet::PubRec(p.clone()),
            PacketRef::PubRel(p) => Packet::PubRel(p.clone()),
            PacketRef::PubComp(p) => Packet::PubComp(p.clone()),
            PacketRef::Subscribe(p) => Packet::Subscribe(p.to_owned()),
            PacketRef::SubAck(p) => Packet::SubAck(p.clone()),
            PacketRef::Unsubscribe(p) => Packet::Unsubscribe(p.to_owned()),
            PacketRef::UnsubAck(p) => Packet::UnsubAck(p.clone()),
            PacketRef::PingReq => Packet::PingReq,
            PacketRef::PingResp => Packet::PingResp,
            PacketRef::Disconnect(p) => Packet::Disconnect(p.clone()),
            PacketRef::Auth(p) => Packet::Auth(p.clone()),
        }
    }
}

/// Decodes the body of `packet` (exactly one whole packet, whose fixed header has been checked)
/// with the same checks as [`super::decode_body`]. Always inlined into its caller: returning the
/// view through memory from a separate function costs a stalled load on every packet.
#[inline(always)]
pub(crate) fn decode_body_ref<'a>(
    ty: PacketType,
    first: u8,
    packet: &'a [u8],
    mut r: Reader<'a, Borrowed<'a>>,
) -> Result<PacketRef<'a>, DecodeError> {
    Ok(match ty {
        PacketType::Publish => {
            PacketRef::Publish(PublishRef::new(packet, publish::parse(first, &mut r)?))
        }
        PacketType::PubAck => PacketRef::PubAck(PubAck::decode(first, r)?),
        PacketType::PingReq => pingreq::decode(r).map(|()| PacketRef::PingReq)?,
        PacketType::Subscribe => {
            PacketRef::Subscribe(SubscribeRef::new(packet, subscribe::parse(&mut r)?))
        }
        PacketType::Connect => PacketRef::Connect(ConnectRef::new(packet, connect::parse(&mut r)?)),
        PacketType::Unsubscribe => {
            PacketRef::Unsubscribe(UnsubscribeRef::new(packet, unsubscribe::parse(&mut r)?))
        }
        PacketType::ConnAck => PacketRef::ConnAck(Box::new(ConnAck::decode(first, r)?)),
        PacketType::PubRec => PacketRef::PubRec(PubRec::decode(first, r)?),
        PacketType::PubRel => PacketRef::PubRel(PubRel::decode(first, r)?),
        PacketType::PubComp => PacketRef::PubComp(PubComp::decode(first, r)?),
        PacketType::SubAck => PacketRef::SubAck(SubAck::decode(first, r)?),
        PacketType::UnsubAck => PacketRef::UnsubAck(UnsubAck::decode(first, r)?),
        PacketType::PingResp => pingresp::decode(r).map(|()| PacketRef::PingResp)?,
        PacketType::Disconnect => PacketRef::Disconnect(Disconnect::decode(first, r)?),
        PacketType::Auth => PacketRef::Auth(Auth::decode(first, r)?),
    })
}
