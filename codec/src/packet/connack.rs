//! CONNACK (3.1.1 section 3.2, 5.0 section 3.2).

use bytes::{BufMut, BytesMut};

use super::{no_v3_properties, Codec};
use crate::error::{DecodeError, EncodeError};
use crate::properties::ConnAckProperties;
use crate::protocol::Protocol;
use crate::reader::{Reader, Source};
use crate::reason::{valid, ReasonCode};
use crate::stmts;

/// CONNACK: the server's answer to CONNECT.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(deny_unknown_fields))]
pub struct ConnAck {
    /// Session Present.
    pub session_present: bool,
    /// Connect Reason Code (5.0) or Connect Return Code (3.1.1).
    pub reason_code: ReasonCode,
    /// 5.0 properties.
    #[cfg_attr(
        feature = "serde",
        serde(default, skip_serializing_if = "crate::properties::Props::is_empty")
    )]
    pub properties: crate::properties::Props<crate::properties::ConnAckProperties>,
}

impl Codec for ConnAck {
    fn decode<S: Source>(_first: u8, mut r: Reader<'_, S>) -> Result<Self, DecodeError> {
        let p = r.protocol;
        let flags_at = r.pos();
        let flags = r.u8("Connect Acknowledge Flags")?;
        if flags & 0xFE != 0 {
            return Err(DecodeError::malformed(
                flags_at,
                format!(
                    "reserved Connect Acknowledge Flags bits 7-1 are {:#04x}",
                    flags & 0xFE
                ),
            )
            .cite(stmts!(p, v311: [], v5: ["MQTT-3.2.2-1"])));
        }
        let session_present = flags & 0x01 != 0;
        let code_at = r.pos();
        let reason_code = ReasonCode(r.u8("Connect Reason Code")?);
        let table = if p.is_v5() {
            valid::CONNACK
        } else {
            valid::V3_CONNACK
        };
        if !table.contains(&reason_code.0) {
            return Err(DecodeError::malformed(
                code_at,
                format!(
                    "0x{:02X} is not a CONNACK return or reason code",
                    reason_code.0
                ),
            )
            .cite(stmts!(p, v311: [], v5: ["MQTT-3.2.2-8"])));
        }
        if session_present && reason_code != ReasonCode::SUCCESS {
            return Err(DecodeError::protocol(
                flags_at,
                "Session Present is 1 with a non-zero return code",
            )
            .cite(stmts!(p, v311: ["MQTT-3.2.2-4"], v5: ["MQTT-3.2.2-6"])));
        }
        let properties = if p.is_v5() {
            if r.is_empty() {
                return Err(
                    DecodeError::malformed(r.pos(), "CONNACK has no Property Length")
                        .cite(&[crate::Statement::v5("MQTT-2.2.2-1")]),
                );
            }
            ConnAckProperties::decode_props(&mut r, "CONNACK")?
        } else {
            crate::properties::Props::none()
        };
        r.finish("CONNACK")?;
        Ok(ConnAck {
            session_present,
            reason_code,
            properties,
        })
    }

    fn body_len(&self, p: Protocol) -> usize {
        2 + if p.is_v5() {
            self.properties.encoded_len()
        } else {
            0
        }
    }

    fn write_body(&self, p: Protocol, buf: &mut BytesMut) {
        buf.put_u8(u8::from(self.session_present));
        buf.put_u8(self.reason_code.0);
        if p.is_v5() {
            self.properties.write(buf);
        }
    }

    fn check(&self, p: Protocol) -> Result<(), EncodeError> {
        let table = if p.is_v5() {
            valid::CONNACK
        } else {
            valid::V3_CONNACK
        };
        if !table.contains(&self.reason_code.0) {
            return Err(EncodeError::new(format!(
                "0x{:02X} is not a CONNACK code in MQTT {p}",
                self.reason_code.0
            ))
            .cite(stmts!(p, v311: [], v5: ["MQTT-3.2.2-8"])));
        }
        if self.session_present && self.reason_code != ReasonCode::SUCCESS {
            return Err(
                EncodeError::new("Session Present must be 0 with a non-zero code")
                    .cite(stmts!(p, v311: ["MQTT-3.2.2-4"], v5: ["MQTT-3.2.2-6"])),
            );
        }
        no_v3_properties(self.properties.is_empty(), p, "CONNACK")?;
        self.properties.check()
    }
}
