//! PUBLISH (3.1.1 section 3.3, 5.0 section 3.3).

use bytes::{BufMut, Bytes, BytesMut};

use super::{
    check_str, field_str, no_v3_properties, read_packet_id, topic_encode_error, topic_error, Codec,
    PacketId,
};
use crate::error::{DecodeError, EncodeError};
use crate::properties::{Props, PublishProperties, PublishPropertiesRef};
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
pub(crate) struct PublishFields<P> {
    dup: bool,
    qos: QoS,
    retain: bool,
    topic: Span,
    packet_id: Option<PacketId>,
    properties: P,
    /// Offset of the payload, which runs to the end of the packet.
    payload: usize,
}

/// How a PUBLISH's 5.0 properties are read: into the owned set, or checked and kept as the
/// bounds of their bytes for [`PublishPropertiesRef`].
pub(crate) trait ReadProperties: Sized {
    /// No properties (3.1.1).
    fn none() -> Self;
    /// Reads and checks the property section at `r`'s position; says if it has a Topic Alias.
    fn read<S: Source>(r: &mut Reader<'_, S>) -> Result<(Self, bool), DecodeError>;
}

impl ReadProperties for Props<PublishProperties> {
    #[inline(always)]
    fn none() -> Self {
        Props::none()
    }

    #[inline(always)]
    fn read<S: Source>(r: &mut Reader<'_, S>) -> Result<(Self, bool), DecodeError> {
        let props = PublishProperties::decode_props(r, "PUBLISH")?;
        let alias = props.topic_alias.is_some();
        Ok((props, alias))
    }
}

/// The bounds of a checked property section (Property Length included).
pub(crate) struct SectionSpan(Span);

impl ReadProperties for SectionSpan {
    #[inline(always)]
    fn none() -> Self {
        SectionSpan((0, 0))
    }

    #[inline(always)]
    fn read<S: Source>(r: &mut Reader<'_, S>) -> Result<(Self, bool), DecodeError> {
        let at = r.pos();
        // The usual properties are checked in one pass without building anything; the general
        // decoder checks (and explains) the rest.
        if let Some((end, alias)) =
            crate::property_scan::scan_publish_properties(r.packet(), at, &mut ())
        {
            r.advance_to(end);
            return Ok((SectionSpan((at, end)), alias));
        }
        let props = PublishProperties::decode_props(r, "PUBLISH")?;
        Ok((SectionSpan((at, r.pos())), props.topic_alias.is_some()))
    }
}

/// Reads and checks a PUBLISH whose first byte is `first`.
#[inline(always)]
pub(crate) fn parse<S: Source, P: ReadProperties>(
    first: u8,
    r: &mut Reader<'_, S>,
) -> Result<PublishFields<P>, DecodeError> {
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
        let (props, alias) = P::read(r)?;
        if start == end && !alias {
            // 5.0 section 3.3.2.1: a zero-length Topic Name needs a Topic Alias.
            return Err(DecodeError::protocol(
                topic_at,
                "Topic Name is empty and there is no Topic Alias",
            )
            .cite(&[crate::Statement::v5("MQTT-4.7.3-1")]));
        }
        props
    } else {
        P::none()
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
    /// 5.0 properties, read on access.
    pub properties: PublishPropertiesRef<'a>,
    /// Payload.
    pub payload: &'a [u8],
}

impl<'a> PublishRef<'a> {
    /// The view of the checked fields `f` of the PUBLISH that `r` read from `packet`.
    #[inline]
    pub(crate) fn new(packet: &'a [u8], f: PublishFields<SectionSpan>) -> Self {
        let (start, end) = f.properties.0;
        PublishRef {
            dup: f.dup,
            qos: f.qos,
            retain: f.retain,
            topic: field_str(packet, f.topic),
            packet_id: f.packet_id,
            properties: PublishPropertiesRef::new(packet.get(start..end).unwrap_or_default()),
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
            properties: self.properties.to_owned(),
            payload: Bytes::copy_from_slice(self.payload),
        }
    }
}

impl Codec for Publish {
    #[inline]
    fn decode<S: Source>(first: u8, mut r: Reader<'_, S>) -> Result<Self, DecodeError> {
        let f = parse::<_, Props<PublishProperties>>(first, &mut r)?;
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
