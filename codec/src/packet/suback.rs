//! SUBACK (3.1.1 section 3.9, 5.0 section 3.9).

use bytes::{BufMut, BytesMut};

use super::{no_v3_properties, read_packet_id, Codec, PacketId};
use crate::error::{DecodeError, EncodeError};
use crate::properties::AckProperties;
use crate::protocol::Protocol;
use crate::reader::{Reader, Source};
use crate::reason::{valid, ReasonCode};
use crate::stmts;

/// SUBACK: one return or reason code per topic filter of the SUBSCRIBE.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(deny_unknown_fields))]
pub struct SubAck {
    /// Packet Identifier of the SUBSCRIBE.
    pub packet_id: PacketId,
    /// 5.0 properties.
    #[cfg_attr(
        feature = "serde",
        serde(default, skip_serializing_if = "crate::properties::Props::is_empty")
    )]
    pub properties: crate::properties::Props<crate::properties::AckProperties>,
    /// One code per filter, in order: granted QoS (0, 1, 2) or a failure (>= 0x80).
    pub reason_codes: Vec<ReasonCode>,
}

impl Codec for SubAck {
    fn decode<S: Source>(_first: u8, mut r: Reader<'_, S>) -> Result<Self, DecodeError> {
        let p = r.protocol;
        let packet_id = read_packet_id(&mut r)?;
        let properties = if p.is_v5() {
            AckProperties::decode_props(&mut r, "SUBACK")?
        } else {
            crate::properties::Props::none()
        };
        if r.is_empty() {
            return Err(DecodeError::malformed(r.pos(), "SUBACK has no return code"));
        }
        let table = if p.is_v5() {
            valid::SUBACK
        } else {
            valid::V3_SUBACK
        };
        let mut reason_codes = Vec::with_capacity(r.remaining());
        while !r.is_empty() {
            let at = r.pos();
            let code = r.u8("SUBACK code")?;
            if !table.contains(&code) {
                return Err(DecodeError::malformed(
                    at,
                    format!("0x{code:02X} is not a SUBACK code"),
                )
                .cite(stmts!(p, v311: ["MQTT-3.9.3-2"], v5: ["MQTT-3.9.3-2"])));
            }
            reason_codes.push(ReasonCode(code));
        }
        Ok(SubAck {
            packet_id,
            properties,
            reason_codes,
        })
    }

    fn body_len(&self, p: Protocol) -> usize {
        2 + if p.is_v5() {
            self.properties.encoded_len()
        } else {
            0
        } + self.reason_codes.len()
    }

    fn write_body(&self, p: Protocol, buf: &mut BytesMut) {
        buf.put_u16(self.packet_id.get());
        if p.is_v5() {
            self.properties.write(buf);
        }
        for c in &self.reason_codes {
            buf.put_u8(c.0);
        }
    }

    fn check(&self, p: Protocol) -> Result<(), EncodeError> {
        if self.reason_codes.is_empty() {
            return Err(EncodeError::new("SUBACK needs at least one code"));
        }
        let table = if p.is_v5() {
            valid::SUBACK
        } else {
            valid::V3_SUBACK
        };
        if let Some(c) = self.reason_codes.iter().find(|c| !table.contains(&c.0)) {
            return Err(EncodeError::new(format!(
                "0x{:02X} is not a SUBACK code in MQTT {p}",
                c.0
            ))
            .cite(stmts!(p, v311: ["MQTT-3.9.3-2"], v5: ["MQTT-3.9.3-2"])));
        }
        no_v3_properties(self.properties.is_empty(), p, "SUBACK")?;
        self.properties.check()
    }
}
