//! SUBSCRIBE (3.1.1 section 3.8, 5.0 section 3.8).

use bytes::{BufMut, BytesMut};

use super::filters::FilterList;
use super::{
    check_str, field_str, no_v3_properties, not_in_v3, read_packet_id, topic_encode_error,
    topic_error, Codec, PacketId,
};
use crate::error::{DecodeError, EncodeError};
use crate::properties::{Props, SubscribeProperties};
use crate::protocol::Protocol;
use crate::qos::QoS;
use crate::reader::{next_field, Reader, Source};
use crate::stmts;
use crate::str::Str;
use crate::topic::{split_shared, validate_decoded_filter, validate_topic_filter};
use crate::writer::{bin_len, put_bin};

/// SUBSCRIBE: one or more subscriptions.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(deny_unknown_fields))]
pub struct Subscribe {
    /// Packet Identifier.
    pub packet_id: PacketId,
    /// 5.0 properties.
    #[cfg_attr(
        feature = "serde",
        serde(default, skip_serializing_if = "crate::properties::Props::is_empty")
    )]
    pub properties: crate::properties::Props<crate::properties::SubscribeProperties>,
    /// Topic filters and their options, at least one.
    pub filters: Vec<Subscription>,
}

/// One topic filter of a SUBSCRIBE and its options.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(deny_unknown_fields))]
pub struct Subscription {
    /// Topic Filter (5.0: may be a shared subscription `$share/{name}/{filter}`).
    pub filter: Str,
    /// Subscription Options (3.1.1: the requested QoS only).
    #[cfg_attr(feature = "serde", serde(flatten))]
    pub options: SubscriptionOptions,
}

impl Subscription {
    /// A subscription to `filter` at `qos` with default options.
    pub fn new(filter: impl Into<Str>, qos: QoS) -> Self {
        Subscription {
            filter: filter.into(),
            options: SubscriptionOptions {
                qos,
                ..Default::default()
            },
        }
    }
}

/// Subscription Options (5.0 section 3.8.3.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(default))]
pub struct SubscriptionOptions {
    /// Maximum QoS (3.1.1: Requested QoS).
    pub qos: QoS,
    /// No Local (5.0).
    #[cfg_attr(feature = "serde", serde(skip_serializing_if = "is_false"))]
    pub no_local: bool,
    /// Retain As Published (5.0).
    #[cfg_attr(feature = "serde", serde(skip_serializing_if = "is_false"))]
    pub retain_as_published: bool,
    /// Retain Handling (5.0).
    #[cfg_attr(
        feature = "serde",
        serde(skip_serializing_if = "RetainHandling::is_default")
    )]
    pub retain_handling: RetainHandling,
}

#[cfg(feature = "serde")]
fn is_false(b: &bool) -> bool {
    !*b
}

impl RetainHandling {
    /// True for the default, 0 (send retained messages at subscribe time).
    pub fn is_default(&self) -> bool {
        *self == RetainHandling::SendAtSubscribe
    }
}

impl SubscriptionOptions {
    /// The options byte.
    pub fn to_byte(self) -> u8 {
        self.qos.as_u8()
            | u8::from(self.no_local) << 2
            | u8::from(self.retain_as_published) << 3
            | (self.retain_handling as u8) << 4
    }
}

/// Retain Handling (5.0 section 3.8.3.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum RetainHandling {
    /// 0: send retained messages at the time of the subscribe.
    #[default]
    SendAtSubscribe = 0,
    /// 1: send retained messages only if the subscription does not already exist.
    SendAtSubscribeIfNew = 1,
    /// 2: do not send retained messages at the time of the subscribe.
    DoNotSend = 2,
}

#[cfg(feature = "serde")]
impl serde::Serialize for RetainHandling {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_u8(*self as u8)
    }
}

#[cfg(feature = "serde")]
impl<'de> serde::Deserialize<'de> for RetainHandling {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        match <u8 as serde::Deserialize>::deserialize(d)? {
            0 => Ok(RetainHandling::SendAtSubscribe),
            1 => Ok(RetainHandling::SendAtSubscribeIfNew),
            2 => Ok(RetainHandling::DoNotSend),
            v => Err(serde::de::Error::custom(format!(
                "retain handling must be 0, 1 or 2, not {v}"
            ))),
        }
    }
}

impl SubscriptionOptions {
    /// The options in a Subscription Options byte the decoder has checked (3.1.1: the Requested
    /// QoS alone, the other bits 0).
    #[inline]
    pub(crate) fn from_checked_byte(byte: u8) -> Self {
        SubscriptionOptions {
            qos: QoS::from_u8(byte & 0x03).unwrap_or_default(),
            no_local: byte & 0x04 != 0,
            retain_as_published: byte & 0x08 != 0,
            retain_handling: match (byte >> 4) & 0x03 {
                1 => RetainHandling::SendAtSubscribeIfNew,
                2 => RetainHandling::DoNotSend,
                _ => RetainHandling::SendAtSubscribe,
            },
        }
    }
}

/// The checked fields of a SUBSCRIBE, from which both its owned and borrowed forms are built.
pub(crate) struct SubscribeFields {
    packet_id: PacketId,
    properties: Props<SubscribeProperties>,
    filters: FilterList,
}

/// Reads and checks a SUBSCRIBE.
#[inline]
pub(crate) fn parse<S: Source>(r: &mut Reader<'_, S>) -> Result<SubscribeFields, DecodeError> {
    let p = r.protocol;
    let packet_id = read_packet_id(r)?;
    let properties = if p.is_v5() {
        SubscribeProperties::decode_props(r, "SUBSCRIBE")?
    } else {
        Props::none()
    };
    if r.is_empty() {
        return Err(
            DecodeError::protocol(r.pos(), "SUBSCRIBE has no topic filter")
                .cite(stmts!(p, v311: ["MQTT-3.8.3-3"], v5: ["MQTT-3.8.3-2"])),
        );
    }
    let start = r.pos();
    let mut count = 0;
    while !r.is_empty() {
        let at = r.pos();
        let span = r.topic_span(
            "Topic Filter",
            stmts!(p, v311: ["MQTT-3.8.3-1"], v5: ["MQTT-3.8.3-1"]),
        )?;
        validate_decoded_filter(r.str(span), p.is_v5())
            .map_err(|e| topic_error(e, at + 2, p, "Topic Filter"))?;
        let opts_at = r.pos();
        let byte = r.u8("Subscription Options")?;
        if p.is_v5() {
            if byte & 0xC0 != 0 {
                return Err(DecodeError::malformed(
                    opts_at,
                    "reserved Subscription Options bits 6-7 are set",
                )
                .cite(&[crate::Statement::v5("MQTT-3.8.3-5")]));
            }
            if byte & 0x03 == 3 {
                return Err(DecodeError::protocol(opts_at, "Maximum QoS is 3"));
            }
            if (byte >> 4) & 0x03 == 3 {
                return Err(DecodeError::protocol(opts_at, "Retain Handling is 3"));
            }
            if byte & 0x04 != 0 && matches!(split_shared(r.str(span)), Ok(Some(_))) {
                return Err(DecodeError::protocol(
                    opts_at,
                    "No Local is 1 on a Shared Subscription",
                )
                .cite(&[crate::Statement::v5("MQTT-3.8.3-4")]));
            }
        } else if byte & 0xFC != 0 || byte & 0x03 == 3 {
            return Err(DecodeError::malformed(
                opts_at,
                format!("Requested QoS byte {byte:#04x} has reserved bits set or QoS 3"),
            )
            .cite(stmts!(p, v311: ["MQTT-3.8.3-4"], v5: [])));
        }
        count += 1;
    }
    Ok(SubscribeFields {
        packet_id,
        properties,
        filters: FilterList {
            start,
            end: r.pos(),
            count,
        },
    })
}

/// A SUBSCRIBE borrowed from the bytes it was decoded from (see [`crate::Decoder::decode_ref`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SubscribeRef<'a> {
    /// Packet Identifier.
    pub packet_id: PacketId,
    /// 5.0 properties (decoded into their owned form: they allocate when present).
    pub properties: Props<SubscribeProperties>,
    /// The checked topic filters and their options, at least one.
    pub filters: SubscriptionsRef<'a>,
}

impl<'a> SubscribeRef<'a> {
    /// The view of the checked fields `f` of the SUBSCRIBE in `packet`.
    #[inline]
    pub(crate) fn new(packet: &'a [u8], f: SubscribeFields) -> Self {
        SubscribeRef {
            packet_id: f.packet_id,
            properties: f.properties,
            filters: SubscriptionsRef {
                packet: packet.get(..f.filters.end).unwrap_or_default(),
                start: f.filters.start,
                count: f.filters.count,
            },
        }
    }

    /// An owned copy.
    pub fn to_owned(&self) -> Subscribe {
        Subscribe {
            packet_id: self.packet_id,
            properties: self.properties.clone(),
            filters: self
                .filters
                .iter()
                .map(|(filter, options)| Subscription {
                    filter: Str::from(filter),
                    options,
                })
                .collect(),
        }
    }
}

/// The checked topic filters of a [`SubscribeRef`], each with its options.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SubscriptionsRef<'a> {
    packet: &'a [u8],
    start: usize,
    count: usize,
}

impl<'a> SubscriptionsRef<'a> {
    /// How many filters.
    pub fn len(&self) -> usize {
        self.count
    }

    /// True if there are none (never, in a decoded SUBSCRIBE).
    pub fn is_empty(&self) -> bool {
        self.count == 0
    }

    /// The filters and their options, in order.
    pub fn iter(&self) -> SubscriptionsIter<'a> {
        SubscriptionsIter {
            packet: self.packet,
            pos: self.start,
        }
    }
}

impl<'a> IntoIterator for SubscriptionsRef<'a> {
    type Item = (&'a str, SubscriptionOptions);
    type IntoIter = SubscriptionsIter<'a>;
    fn into_iter(self) -> SubscriptionsIter<'a> {
        self.iter()
    }
}

/// Iterator over the filters of a [`SubscriptionsRef`].
#[derive(Debug, Clone)]
pub struct SubscriptionsIter<'a> {
    packet: &'a [u8],
    pos: usize,
}

impl<'a> Iterator for SubscriptionsIter<'a> {
    type Item = (&'a str, SubscriptionOptions);
    #[inline]
    fn next(&mut self) -> Option<Self::Item> {
        let (span, byte, next) = next_field(self.packet, self.pos, 1)?;
        self.pos = next;
        Some((
            field_str(self.packet, span),
            SubscriptionOptions::from_checked_byte(byte),
        ))
    }
}

impl Codec for Subscribe {
    fn decode<S: Source>(_first: u8, mut r: Reader<'_, S>) -> Result<Self, DecodeError> {
        let f = parse(&mut r)?;
        let mut filters = Vec::with_capacity(f.filters.count);
        let mut pos = f.filters.start;
        while let Some((span, byte, next)) = next_field(r.packet(), pos, 1) {
            if next > f.filters.end {
                break;
            }
            filters.push(Subscription {
                filter: Str::from_checked(r.small(span.0, span.1)),
                options: SubscriptionOptions::from_checked_byte(byte),
            });
            pos = next;
        }
        Ok(Subscribe {
            packet_id: f.packet_id,
            properties: f.properties,
            filters,
        })
    }

    fn flags(&self) -> u8 {
        0b0010
    }

    fn body_len(&self, p: Protocol) -> usize {
        2 + if p.is_v5() {
            self.properties.encoded_len()
        } else {
            0
        } + self
            .filters
            .iter()
            .map(|s| bin_len(s.filter.as_bytes()) + 1)
            .sum::<usize>()
    }

    fn write_body(&self, p: Protocol, buf: &mut BytesMut) {
        buf.put_u16(self.packet_id.get());
        if p.is_v5() {
            self.properties.write(buf);
        }
        for s in &self.filters {
            put_bin(buf, s.filter.as_bytes());
            let byte = if p.is_v5() {
                s.options.to_byte()
            } else {
                s.options.qos.as_u8()
            };
            buf.put_u8(byte);
        }
    }

    fn check(&self, p: Protocol) -> Result<(), EncodeError> {
        if self.filters.is_empty() {
            return Err(
                EncodeError::new("SUBSCRIBE needs at least one topic filter")
                    .cite(stmts!(p, v311: ["MQTT-3.8.3-3"], v5: ["MQTT-3.8.3-2"])),
            );
        }
        for s in &self.filters {
            check_str(&s.filter, p, "Topic Filter")?;
            validate_topic_filter(&s.filter, p.is_v5())
                .map_err(|e| topic_encode_error(e, p, "Topic Filter"))?;
            let o = s.options;
            if !p.is_v5()
                && (o.no_local
                    || o.retain_as_published
                    || o.retain_handling != RetainHandling::SendAtSubscribe)
            {
                return Err(not_in_v3(
                    "No Local, Retain As Published and Retain Handling",
                    p,
                ));
            }
            if o.no_local && matches!(split_shared(&s.filter), Ok(Some(_))) {
                return Err(
                    EncodeError::new("No Local must be 0 on a Shared Subscription")
                        .cite(&[crate::Statement::v5("MQTT-3.8.3-4")]),
                );
            }
        }
        no_v3_properties(self.properties.is_empty(), p, "SUBSCRIBE")?;
        self.properties.check()
    }
}
