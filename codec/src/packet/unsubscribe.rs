//! UNSUBSCRIBE (3.1.1 section 3.10, 5.0 section 3.10).

use bytes::{BufMut, BytesMut};

use super::{
    check_str, no_v3_properties, read_packet_id, topic_encode_error, topic_error, Codec, PacketId,
};
use crate::error::{DecodeError, EncodeError};
use crate::properties::UnsubscribeProperties;
use crate::protocol::Protocol;
use crate::reader::Reader;
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

impl Codec for Unsubscribe {
    fn decode(_first: u8, mut r: Reader<'_>) -> Result<Self, DecodeError> {
        let p = r.protocol;
        let packet_id = read_packet_id(&mut r)?;
        let properties = if p.is_v5() {
            UnsubscribeProperties::decode_props(&mut r, "UNSUBSCRIBE")?
        } else {
            crate::properties::Props::none()
        };
        if r.is_empty() {
            return Err(
                DecodeError::protocol(r.pos(), "UNSUBSCRIBE has no topic filter")
                    .cite(stmts!(p, v311: ["MQTT-3.10.3-2"], v5: ["MQTT-3.10.3-2"])),
            );
        }
        let mut filters = Vec::with_capacity(r.count_fields(0));
        while !r.is_empty() {
            let at = r.pos();
            let filter = r.topic_string(
                "Topic Filter",
                stmts!(p, v311: ["MQTT-3.10.3-1"], v5: ["MQTT-3.10.3-1"]),
            )?;
            validate_decoded_filter(&filter, p.is_v5())
                .map_err(|e| topic_error(e, at + 2, p, "Topic Filter"))?;
            filters.push(filter);
        }
        Ok(Unsubscribe {
            packet_id,
            properties,
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
