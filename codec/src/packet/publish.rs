//! PUBLISH (3.1.1 section 3.3, 5.0 section 3.3).

use bytes::{BufMut, Bytes, BytesMut};

use super::{
    check_str, field_str, no_v3_properties, read_packet_id, topic_encode_error, topic_error, Codec,
    PacketId,
};
use crate::error::{DecodeError, EncodeError};
use crate::properties::{Props, PublishProperties};
use crate::protocol::Protocol;
use crate::qos::QoS;
use crate::reader::{check_utf8, Reader, Source, Span};
use crate::stmts;
use crate::str::Str;
use crate::topic::{name_has_wildcard, validate_topic_name, TopicError};
use crate::writer::put_bin;

/// PUBLISH: an Application Message.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(deny_unknown_fields))]
pub struct Publish {
    /// DUP: a re-delivery (never set at QoS 0).
    #[cfg_attr(feature = "serde", serde(default))]
    pub dup: bool,
    /// QoS level.
    #[cfg_attr(feature = "serde", serde(default))]
    pub qos: QoS,
    /// RETAIN.
    #[cfg_attr(feature = "serde", serde(default))]
    pub retain: bool,
    /// Topic Name (in 5.0 empty when a Topic Alias stands for it).
    pub topic: Str,
    /// Packet Identifier: present exactly when QoS > 0.
    #[cfg_attr(
        feature = "serde",
        serde(default, skip_serializing_if = "Option::is_none")
    )]
    pub packet_id: Option<PacketId>,
    /// 5.0 properties.
    #[cfg_attr(
        feature = "serde",
        serde(default, skip_serializing_if = "crate::properties::Props::is_empty")
    )]
    pub properties: crate::properties::Props<crate::properties::PublishProperties>,
    /// Payload.
    #[cfg_attr(feature = "serde", serde(default, with = "crate::hex::serde_bytes"))]
    pub payload: Bytes,
}

impl Publish {
    /// A QoS 0 message.
    pub fn new(topic: impl Into<Str>, payload: impl Into<Bytes>) -> Self {
        Publish {
            topic: topic.into(),
            payload: payload.into(),
            ..Publish::default()
        }
    }
}

/// The slow path of the Topic Name checks: U+0000, UTF-8, wildcards.
#[cold]
fn check_topic_name(topic: &[u8], p: Protocol, start: usize) -> Result<(), DecodeError> {
    if let Some(i) = topic.iter().position(|&b| b == 0) {
        return Err(DecodeError::malformed(start + i, "Topic Name contains U+0000").cite(stmts!(p,
            v311: ["MQTT-1.5.3-2", "MQTT-4.7.3-2", "MQTT-3.3.2-1"], v5: ["MQTT-1.5.4-2", "MQTT-4.7.3-2", "MQTT-3.3.2-1"])));
    }
    check_utf8(
        topic,
        p,
        start,
        "Topic Name",
        stmts!(p, v311: ["MQTT-3.3.2-1"], v5: ["MQTT-3.3.2-1"]),
    )?;
    if name_has_wildcard(topic) {
        return Err(topic_error(
            TopicError::WildcardInName,
            start,
            p,
            "Topic Name",
        ));
    }
    Ok(())
}

/// The checked fields of a PUBLISH, from which both its owned and borrowed forms are built.
pub(crate) struct PublishFields {
    dup: bool,
    qos: QoS,
    retain: bool,
    topic: Span,
    packet_id: Option<PacketId>,
    properties: Props<PublishProperties>,
    /// Offset of the payload, which runs to the end of the packet.
    payload: usize,
}

/// Reads and checks a PUBLISH whose first byte is `first`.
#[inline(always)]
pub(crate) fn parse<S: Source>(
    first: u8,
    r: &mut Reader<'_, S>,
) -> Result<PublishFields, DecodeError> {
    let p = r.protocol;
    let dup = first & 0x08 != 0;
    let retain = first & 0x01 != 0;
    let Some(qos) = QoS::from_u8((first >> 1) & 0x03) else {
        return Err(
            DecodeError::malformed(0, "PUBLISH QoS bits are both 1 (QoS 3)")
                .cite(stmts!(p, v311: ["MQTT-3.3.1-4"], v5: ["MQTT-3.3.1-4"])),
        );
    };
    if qos == QoS::AtMostOnce && dup {
        return Err(DecodeError::malformed(0, "DUP is 1 on a QoS 0 PUBLISH")
            .cite(stmts!(p, v311: ["MQTT-3.3.1-2"], v5: ["MQTT-3.3.1-2"])));
    }
    let topic_at = r.pos();
    let (start, end) = r.field("Topic Name")?;
    let topic = r.bytes(start, end);
    // One pass over the usual case: ASCII without wildcards or U+0000.
    if !crate::scan::plain_name(topic) {
        check_topic_name(topic, p, start)?;
    }
    if start == end && !p.is_v5() {
        return Err(topic_error(TopicError::Empty, topic_at, p, "Topic Name"));
    }
    let packet_id = if qos == QoS::AtMostOnce {
        None
    } else {
        Some(read_packet_id(r)?)
    };
    let properties = if p.is_v5() {
        let props = PublishProperties::decode_props(r, "PUBLISH")?;
        if start == end && props.topic_alias.is_none() {
            // 5.0 section 3.3.2.1: a zero-length Topic Name needs a Topic Alias.
            return Err(DecodeError::protocol(
                topic_at,
                "Topic Name is empty and there is no Topic Alias",
            )
            .cite(&[crate::Statement::v5("MQTT-4.7.3-1")]));
        }
        props
    } else {
        Props::none()
    };
    Ok(PublishFields {
        dup,
        qos,
        retain,
        topic: (start, end),
        packet_id,
        properties,
        payload: r.pos(),
    })
}

/// A PUBLISH borrowed from the bytes it was decoded from (see [`crate::Decoder::decode_ref`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PublishRef<'a> {
    /// DUP.
    pub dup: bool,
    /// QoS level.
    pub qos: QoS,
    /// RETAIN.
    pub retain: bool,
    /// Topic Name (in 5.0 empty when a Topic Alias stands for it).
    pub topic: &'a str,
    /// Packet Identifier: present exactly when QoS > 0.
    pub packet_id: Option<PacketId>,
    /// 5.0 properties (decoded into their owned form: they allocate when present).
    pub properties: Props<PublishProperties>,
    /// Payload.
    pub payload: &'a [u8],
}

impl<'a> PublishRef<'a> {
    /// The view of the checked fields `f` of the PUBLISH that `r` read from `packet`.
    #[inline]
    pub(crate) fn new(packet: &'a [u8], f: PublishFields) -> Self {
        PublishRef {
            dup: f.dup,
            qos: f.qos,
            retain: f.retain,
            topic: field_str(packet, f.topic),
            packet_id: f.packet_id,
            properties: f.properties,
            payload: packet.get(f.payload..).unwrap_or_default(),
        }
    }

    /// An owned copy.
    pub fn to_owned(&self) -> Publish {
        Publish {
            dup: self.dup,
            qos: self.qos,
            retain: self.retain,
            topic: Str::from(self.topic),
            packet_id: self.packet_id,
            properties: self.properties.clone(),
            payload: Bytes::copy_from_slice(self.payload),
        }
    }
}

impl Codec for Publish {
    #[inline]
    fn decode<S: Source>(first: u8, mut r: Reader<'_, S>) -> Result<Self, DecodeError> {
        let f = parse(first, &mut r)?;
        Ok(Publish {
            dup: f.dup,
            qos: f.qos,
            retain: f.retain,
            topic: Str::from_checked(r.small(f.topic.0, f.topic.1)),
            packet_id: f.packet_id,
            properties: f.properties,
            payload: r.rest(),
        })
    }

    fn flags(&self) -> u8 {
        (u8::from(self.dup) << 3) | (self.qos.as_u8() << 1) | u8::from(self.retain)
    }

    #[inline]
    fn body_len(&self, p: Protocol) -> usize {
        2 + self.topic.len()
            + if self.packet_id.is_some() { 2 } else { 0 }
            + if p.is_v5() {
                self.properties.encoded_len()
            } else {
                0
            }
            + self.payload.len()
    }

    #[inline]
    fn write_body(&self, p: Protocol, buf: &mut BytesMut) {
        put_bin(buf, self.topic.as_bytes());
        if let Some(id) = self.packet_id {
            buf.put_u16(id.get());
        }
        if p.is_v5() {
            self.properties.write(buf);
        }
        buf.put_slice(&self.payload);
    }

    fn check(&self, p: Protocol) -> Result<(), EncodeError> {
        check_str(&self.topic, p, "Topic Name")?;
        if !(p.is_v5() && self.topic.is_empty() && self.properties.topic_alias.is_some()) {
            validate_topic_name(&self.topic).map_err(|e| topic_encode_error(e, p, "Topic Name"))?;
        }
        match (self.qos, self.packet_id) {
            (QoS::AtMostOnce, Some(_)) => {
                return Err(
                    EncodeError::new("a QoS 0 PUBLISH carries no Packet Identifier")
                        .cite(stmts!(p, v311: ["MQTT-2.3.1-5"], v5: ["MQTT-2.2.1-2"])),
                )
            }
            (QoS::AtLeastOnce | QoS::ExactlyOnce, None) => {
                return Err(
                    EncodeError::new("a QoS 1 or 2 PUBLISH needs a Packet Identifier")
                        .cite(stmts!(p, v311: ["MQTT-2.3.1-1"], v5: ["MQTT-2.2.1-3"])),
                )
            }
            _ => {}
        }
        if self.qos == QoS::AtMostOnce && self.dup {
            return Err(EncodeError::new("DUP must be 0 on a QoS 0 PUBLISH")
                .cite(stmts!(p, v311: ["MQTT-3.3.1-2"], v5: ["MQTT-3.3.1-2"])));
        }
        no_v3_properties(self.properties.is_empty(), p, "PUBLISH")?;
        self.properties.check()
    }
}
