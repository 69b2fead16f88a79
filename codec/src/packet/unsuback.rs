//! UNSUBACK (3.1.1 section 3.11, 5.0 section 3.11).

use bytes::{BufMut, BytesMut};

use super::{no_v3_properties, not_in_v3, read_packet_id, Codec, PacketId};
use crate::error::{DecodeError, EncodeError};
use crate::properties::AckProperties;
use crate::protocol::{Protocol, Statement};
use crate::reader::{Reader, Source};
use crate::reason::{valid, ReasonCode};

/// UNSUBACK: in 5.0, one reason code per topic filter; in 3.1.1 only the Packet Identifier.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(deny_unknown_fields))]
pub struct UnsubAck {
    /// Packet Identifier of the UNSUBSCRIBE.
    pub packet_id: PacketId,
    /// 5.0 properties.
    #[cfg_attr(
        feature = "serde",
        serde(default, skip_serializing_if = "crate::properties::Props::is_empty")
    )]
    pub properties: crate::properties::Props<crate::properties::AckProperties>,
    /// 5.0: one reason code per filter, in order. Empty in 3.1.1.
    #[cfg_attr(
        feature = "serde",
        serde(default, skip_serializing_if = "Vec::is_empty")
    )]
    pub reason_codes: Vec<ReasonCode>,
}

impl Codec for UnsubAck {
    fn decode<S: Source>(_first: u8, mut r: Reader<'_, S>) -> Result<Self, DecodeError> {
        let p = r.protocol;
        let packet_id = read_packet_id(&mut r)?;
        if !p.is_v5() {
            r.finish("UNSUBACK")?;
            return Ok(UnsubAck {
                packet_id,
                properties: crate::properties::Props::none(),
                reason_codes: Vec::new(),
            });
        }
        let properties = AckProperties::decode_props(&mut r, "UNSUBACK")?;
        if r.is_empty() {
            return Err(DecodeError::malformed(
                r.pos(),
                "UNSUBACK has no reason code",
            ));
        }
        let mut reason_codes = Vec::with_capacity(r.remaining());
        while !r.is_empty() {
            let at = r.pos();
            let code = r.u8("UNSUBACK reason code")?;
            if !valid::UNSUBACK.contains(&code) {
                return Err(DecodeError::malformed(
                    at,
                    format!("0x{code:02X} is not an UNSUBACK reason code"),
                )
                .cite(&[Statement::v5("MQTT-3.11.3-2")]));
            }
            reason_codes.push(ReasonCode(code));
        }
        Ok(UnsubAck {
            packet_id,
            properties,
            reason_codes,
        })
    }

    fn body_len(&self, p: Protocol) -> usize {
        if p.is_v5() {
            2 + self.properties.encoded_len() + self.reason_codes.len()
        } else {
            2
        }
    }

    fn write_body(&self, p: Protocol, buf: &mut BytesMut) {
        buf.put_u16(self.packet_id.get());
        if p.is_v5() {
            self.properties.write(buf);
            for c in &self.reason_codes {
                buf.put_u8(c.0);
            }
        }
    }

    fn check(&self, p: Protocol) -> Result<(), EncodeError> {
        if !p.is_v5() {
            if !self.reason_codes.is_empty() {
                return Err(not_in_v3("UNSUBACK reason codes", p));
            }
            return no_v3_properties(self.properties.is_empty(), p, "UNSUBACK");
        }
        if self.reason_codes.is_empty() {
            return Err(EncodeError::new(
                "a 5.0 UNSUBACK needs at least one reason code",
            ));
        }
        if let Some(c) = self
            .reason_codes
            .iter()
            .find(|c| !valid::UNSUBACK.contains(&c.0))
        {
            return Err(
                EncodeError::new(format!("0x{:02X} is not an UNSUBACK reason code", c.0))
                    .cite(&[Statement::v5("MQTT-3.11.3-2")]),
            );
        }
        self.properties.check()
    }
}
