//! The decoder's fast path for the commonest packets: PUBLISH with a plain ASCII topic (short
//! enough to copy inline, for owned packets) and the usual 5.0 properties (see
//! [`crate::property_scan`]), the four PUBLISH acknowledgements in their two-byte form, PINGREQ
//! and PINGRESP.
//!
//! It serves both [`crate::Decoder::decode`] (owned packets) and [`crate::Decoder::decode_ref`]
//! (borrowed ones). It either returns exactly the packet the general decoder would, or declines
//! (`None`) and the general decoder runs; errors always come from the general decoder. The fuzz
//! targets `streaming` and `decode_ref`, the test `fast_path_agrees_with_the_general_decoder` and
//! every use of `Decoder::compare_decode_ref` hold it to that.

use std::num::NonZeroU16;

use bytes::{Buf, Bytes, BytesMut};

use crate::packet::{Packet, PacketRef, PubAck, PubComp, PubRec, PubRel, Publish, PublishRef};
use crate::properties::{
    PayloadFormat, Props, PublishProperties, PublishPropertiesRef, UserProperties,
};
use crate::property_scan::{scan_publish_properties, Visit};
use crate::protocol::Protocol;
use crate::qos::QoS;
use crate::small::SmallBytes;
use crate::str::Str;

/// The first byte, Remaining Length and header length at the front of `bytes`, when the
/// Remaining Length takes one byte, or two minimally encoded bytes.
#[inline(always)]
fn header(bytes: &[u8]) -> Option<(u8, usize, usize)> {
    match *bytes {
        [first, len, ..] if len < 0x80 => Some((first, len as usize, 2)),
        [first, lo, hi, ..] if hi != 0 && hi < 0x80 => {
            Some((first, (lo & 0x7F) as usize | (hi as usize) << 7, 3))
        }
        _ => None,
    }
}

/// A PUBLISH acknowledgement in its two-byte form, or PINGREQ or PINGRESP: the first byte and
/// the Packet Identifier (0 for the pings).
#[inline(always)]
fn short(b: &[u8], first: u8, len: usize) -> Option<u16> {
    match first {
        0x40 | 0x50 | 0x62 | 0x70 if len == 2 => {
            let id = u16::from_be_bytes([*b.get(2)?, *b.get(3)?]);
            (id != 0).then_some(id)
        }
        0xC0 | 0xD0 if len == 0 => Some(0),
        _ => None,
    }
}

/// Decodes the packet at the front of `buf` if it is one the fast path handles.
#[inline(always)]
pub(crate) fn decode(
    buf: &mut BytesMut,
    protocol: Protocol,
    max_packet_size: usize,
) -> Option<Packet> {
    let (first, len, header) = header(buf)?;
    let total = header + len;
    if total > buf.len() || total > max_packet_size {
        return None;
    }
    if let 0x30..=0x3D = first {
        return publish(buf, first, header, total, protocol);
    }
    let id = NonZeroU16::new(short(buf, first, len)?);
    let packet = match first {
        0x40 => Packet::PubAck(PubAck::new(id?)),
        0x50 => Packet::PubRec(PubRec::new(id?)),
        0x62 => Packet::PubRel(PubRel::new(id?)),
        0x70 => Packet::PubComp(PubComp::new(id?)),
        0xC0 => Packet::PingReq,
        _ => Packet::PingResp,
    };
    buf.advance(total);
    Some(packet)
}

/// The borrowed form of [`decode`]: the packet at the front of `bytes` and its length, if it is
/// one the fast path handles.
#[inline(always)]
pub(crate) fn decode_ref(
    bytes: &[u8],
    protocol: Protocol,
    max_packet_size: usize,
) -> Option<(PacketRef<'_>, usize)> {
    let (first, len, header) = header(bytes)?;
    let total = header + len;
    if total > max_packet_size {
        return None;
    }
    let b = bytes.get(..total)?;
    if let 0x30..=0x3D = first {
        let h = publish_head(b, first, header)?;
        let (properties, payload) = if protocol.is_v5() {
            let (end, alias) = scan_publish_properties(b, h.pos, &mut ())?;
            if h.topic.0 == h.topic.1 && !alias {
                return None;
            }
            (b.get(h.pos..end)?, end)
        } else if h.topic.0 == h.topic.1 {
            return None;
        } else {
            (&[][..], h.pos)
        };
        let publish = PublishRef {
            dup: h.dup,
            qos: h.qos,
            retain: first & 0x01 != 0,
            topic: crate::str::checked(b.get(h.topic.0..h.topic.1)?),
            packet_id: h.packet_id,
            properties: PublishPropertiesRef::new(properties),
            payload: b.get(payload..)?,
        };
        return Some((PacketRef::Publish(publish), total));
    }
    let id = NonZeroU16::new(short(b, first, len)?);
    Some((
        match first {
            0x40 => PacketRef::PubAck(PubAck::new(id?)),
            0x50 => PacketRef::PubRec(PubRec::new(id?)),
            0x62 => PacketRef::PubRel(PubRel::new(id?)),
            0x70 => PacketRef::PubComp(PubComp::new(id?)),
            0xC0 => PacketRef::PingReq,
            _ => PacketRef::PingResp,
        },
        total,
    ))
}

/// The fields of a PUBLISH before its properties, as the fast path takes them.
struct Head {
    qos: QoS,
    dup: bool,
    /// The Topic Name's bounds: plain ASCII without wildcards.
    topic: (usize, usize),
    packet_id: Option<NonZeroU16>,
    /// Offset after the Packet Identifier.
    pos: usize,
}

/// Reads the PUBLISH `b` (exactly the packet; its header takes `header` bytes) up to its
/// properties, if it is the usual kind: a Topic Name of plain ASCII without wildcards.
#[inline(always)]
fn publish_head(b: &[u8], first: u8, header: usize) -> Option<Head> {
    let qos = QoS::from_u8((first >> 1) & 0x03)?;
    let dup = first & 0x08 != 0;
    if dup && qos == QoS::AtMostOnce {
        return None;
    }
    let topic_start = header + 2;
    let topic_len = u16::from_be_bytes([*b.get(header)?, *b.get(header + 1)?]) as usize;
    let topic_end = topic_start + topic_len;
    if !crate::scan::plain_name(b.get(topic_start..topic_end)?) {
        return None;
    }
    let mut pos = topic_end;
    let packet_id = if qos == QoS::AtMostOnce {
        None
    } else {
        let id = NonZeroU16::new(u16::from_be_bytes([*b.get(pos)?, *b.get(pos + 1)?]))?;
        pos += 2;
        Some(id)
    };
    Some(Head {
        qos,
        dup,
        topic: (topic_start, topic_end),
        packet_id,
        pos,
    })
}

#[inline(always)]
fn publish(
    buf: &mut BytesMut,
    first: u8,
    header: usize,
    total: usize,
    protocol: Protocol,
) -> Option<Packet> {
    let b = &buf[..total];
    let Head {
        qos,
        dup,
        topic: (topic_start, topic_end),
        packet_id,
        mut pos,
    } = publish_head(b, first, header)?;
    let mut properties = Props::none();
    if protocol.is_v5() {
        let (props, end) = publish_properties(b, pos)?;
        if topic_start == topic_end && props.topic_alias.is_none() {
            return None;
        }
        properties = props;
        pos = end;
    } else if topic_start == topic_end {
        return None;
    }
    let topic = SmallBytes::inline_at(b, topic_start, topic_end)?;
    let payload = if pos == total {
        buf.advance(total);
        Bytes::new()
    } else {
        let mut frame = buf.split_to(total).freeze();
        frame.advance(pos);
        frame
    };
    Some(Packet::Publish(Publish {
        dup,
        qos,
        retain: first & 0x01 != 0,
        topic: Str::from_checked(topic),
        packet_id,
        properties,
        payload,
    }))
}

/// The properties of a 5.0 PUBLISH starting at `pos` (its Property Length), when they are the
/// usual kind (see [`scan_publish_properties`]): the set and the offset after it.
#[inline(always)]
fn publish_properties(b: &[u8], pos: usize) -> Option<(Props<PublishProperties>, usize)> {
    if *b.get(pos)? == 0 {
        return Some((Props::none(), pos + 1));
    }
    let mut set = SetBuilder {
        set: Box::default(),
        users: (0, 0, 0),
        ok: true,
    };
    let (end, _) = scan_publish_properties(b, pos, &mut set)?;
    let SetBuilder {
        mut set,
        users: (user_start, user_end, users),
        ok,
    } = set;
    if !ok {
        return None;
    }
    if users > 0 {
        set.user_properties =
            UserProperties::from_raw(SmallBytes::inline_at(b, user_start, user_end)?, users);
    }
    Some((Props::from_box(set), end))
}

/// Fills the owned set.
struct SetBuilder {
    set: Box<PublishProperties>,
    /// The User Properties: start, end, count.
    users: (usize, usize, u32),
    /// False if a string was too long to keep inline.
    ok: bool,
}

impl Visit for SetBuilder {
    #[inline(always)]
    fn property(&mut self, b: &[u8], id: u8, start: usize, end: usize) {
        let set = &mut self.set;
        match (id, b.get(start..end)) {
            (0x01, Some(&[v])) => {
                set.payload_format_indicator = Some(if v == 0 {
                    PayloadFormat::Unspecified
                } else {
                    PayloadFormat::Utf8
                })
            }
            (0x02, Some(&[b0, b1, b2, b3])) => {
                set.message_expiry_interval = Some(u32::from_be_bytes([b0, b1, b2, b3]))
            }
            (0x23, Some(&[hi, lo])) => set.topic_alias = Some(u16::from_be_bytes([hi, lo])),
            (0x0B, Some(&[v])) => set.subscription_identifiers.push(u32::from(v)),
            (0x03 | 0x08, _) => match SmallBytes::inline_at(b, start + 2, end) {
                Some(v) if id == 0x03 => set.content_type = Some(Str::from_checked(v)),
                Some(v) => set.response_topic = Some(Str::from_checked(v)),
                None => self.ok = false,
            },
            (0x26, _) => {
                // The scan keeps User Properties adjacent.
                let (first, last, n) = &mut self.users;
                if *n == 0 {
                    *first = start;
                }
                *last = end;
                *n += 1;
            }
            _ => self.ok = false,
        }
    }
}
