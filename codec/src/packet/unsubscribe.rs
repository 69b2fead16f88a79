//! UNSUBSCRIBE (3.1.1 section 3.10, 5.0 section 3.10).

use bytes::{BufMut, BytesMut};

use super::filters::FilterList;
use super::{
    check_str, field_str, no_v3_properties, read_packet_id, topic_encode_error, topic_error, Codec,
    PacketId,
};
use crate::error::{DecodeError, EncodeError};
use crate::properties::{Props, UnsubscribeProperties};
use crate::protocol::Protocol;
use crate::reader::{next_field, Reader, Source};
use crate::stmts;
use crate::str::Str;
use crate::topic::{validate_decoded_filter, validate_topic_filter};
use crate::writer::{bin_len, put_bin};

/// UNSUBSCRIBE: topic filters to remove.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(deny_unknown_fields))]
pub struct Unsubscribe {
    /// Packet Identifier.
    pub packet_id: PacketId,
    /// 5.0 properties.
    #[cfg_attr(
        feature = "serde",
        serde(default, skip_serializing_if = "crate::properties::Props::is_empty")
    )]
    pub properties: crate::properties::Props<crate::properties::UnsubscribeProperties>,
    /// Topic filters, at least one.
    pub filters: Vec<Str>,
}

/// The checked fields of an UNSUBSCRIBE, from which both its owned and borrowed forms are built.
pub(crate) struct UnsubscribeFields {
    packet_id: PacketId,
    properties: Props<UnsubscribeProperties>,
    filters: FilterList,
}

/// Reads and checks an UNSUBSCRIBE.
#[inline]
pub(crate) fn parse<S: Source>(r: &mut Reader<'_, S>) -> Result<UnsubscribeFields, DecodeError> {
    let p = r.protocol;
    let packet_id = read_packet_id(r)?;
    let properties = if p.is_v5() {
        UnsubscribeProperties::decode_props(r, "UNSUBSCRIBE")?
    } else {
        Props::none()
    };
    if r.is_empty() {
        return Err(
            DecodeError::protocol(r.pos(), "UNSUBSCRIBE has no topic filter")
                .cite(stmts!(p, v311: ["MQTT-3.10.3-2"], v5: ["MQTT-3.10.3-2"])),
        );
    }
    let start = r.pos();
    let mut count = 0;
    while !r.is_empty() {
        let at = r.pos();
        let span = r.topic_span(
            "Topic Filter",
            stmts!(p, v311: ["MQTT-3.10.3-1"], v5: ["MQTT-3.10.3-1"]),
        )?;
        validate_decoded_filter(r.str(span), p.is_v5())
            .map_err(|e| topic_error(e, at + 2, p, "Topic Filter"))?;
        count += 1;
    }
    Ok(UnsubscribeFields {
        packet_id,
        properties,
        filters: FilterList {
            start,
            end: r.pos(),
            count,
        },
    })
}

/// An UNSUBSCRIBE borrowed from the bytes it was decoded from (see
/// [`crate::Decoder::decode_ref`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnsubscribeRef<'a> {
    /// Packet Identifier.
    pub packet_id: PacketId,
    /// 5.0 properties (decoded into their owned form: they allocate when present).
    pub properties: Props<UnsubscribeProperties>,
    /// The checked topic filters, at least one.
    pub filters: FiltersRef<'a>,
}

impl<'a> UnsubscribeRef<'a> {
    /// The view of the checked fields `f` of the UNSUBSCRIBE in `packet`.
    #[inline]
    pub(crate) fn new(packet: &'a [u8], f: UnsubscribeFields) -> Self {
        UnsubscribeRef {
            packet_id: f.packet_id,
            properties: f.properties,
            filters: FiltersRef {
                packet: packet.get(..f.filters.end).unwrap_or_default(),
                start: f.filters.start,
                count: f.filters.count,
            },
        }
    }

    /// An owned copy.
    pub fn to_owned(&self) -> Unsubscribe {
        Unsubscribe {
            packet_id: self.packet_id,
            properties: self.properties.clone(),
            filters: self.filters.iter().map(Str::from).collect(),
        }
    }
}

/// The checked topic filters of an [`UnsubscribeRef`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FiltersRef<'a> {
    packet: &'a [u8],
    start: usize,
    count: usize,
}

impl<'a> FiltersRef<'a> {
    /// How many filters.
    pub fn len(&self) -> usize {
        self.count
    }

    /// True if there are none (never, in a decoded UNSUBSCRIBE).
    pub fn is_empty(&self) -> bool {
        self.count == 0
    }

    /// The filters, in order.
    pub fn iter(&self) -> FiltersIter<'a> {
        FiltersIter {
            packet: self.packet,
            pos: self.start,
        }
    }
}

impl<'a> IntoIterator for FiltersRef<'a> {
    type Item = &'a str;
    type IntoIter = FiltersIter<'a>;
    fn into_iter(self) -> FiltersIter<'a> {
        self.iter()
    }
}

/// Iterator over the filters of a [`FiltersRef`].
#[derive(Debug, Clone)]
pub struct FiltersIter<'a> {
    packet: &'a [u8],
    pos: usize,
}

impl<'a> Iterator for FiltersIter<'a> {
    type Item = &'a str;
    #[inline]
    fn next(&mut self) -> Option<&'a str> {
        let (span, _, next) = next_field(self.packet, self.pos, 0)?;
        self.pos = next;
        Some(field_str(self.packet, span))
    }
}

impl Codec for Unsubscribe {
    fn decode<S: Source>(_first: u8, mut r: Reader<'_, S>) -> Result<Self, DecodeError> {
        let f = parse(&mut r)?;
        let mut filters = Vec::with_capacity(f.filters.count);
        let mut pos = f.filters.start;
        while let Some((span, _, next)) = next_field(r.packet(), pos, 0) {
            if next > f.filters.end {
                break;
            }
            filters.push(Str::from_checked(r.small(span.0, span.1)));
            pos = next;
        }
        Ok(Unsubscribe {
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
            .map(|f| bin_len(f.as_bytes()))
            .sum::<usize>()
    }

    fn write_body(&self, p: Protocol, buf: &mut BytesMut) {
        buf.put_u16(self.packet_id.get());
        if p.is_v5() {
            self.properties.write(buf);
        }
        for f in &self.filters {
            put_bin(buf, f.as_bytes());
        }
    }

    fn check(&self, p: Protocol) -> Result<(), EncodeError> {
        if self.filters.is_empty() {
            return Err(
                EncodeError::new("UNSUBSCRIBE needs at least one topic filter")
                    .cite(stmts!(p, v311: ["MQTT-3.10.3-2"], v5: ["MQTT-3.10.3-2"])),
            );
        }
        for f in &self.filters {
            check_str(f, p, "Topic Filter")?;
            validate_topic_filter(f, p.is_v5())
                .map_err(|e| topic_encode_error(e, p, "Topic Filter"))?;
        }
        no_v3_properties(self.properties.is_empty(), p, "UNSUBSCRIBE")?;
        self.properties.check()
    }
}
