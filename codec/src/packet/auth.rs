//! AUTH (5.0 section 3.15): enhanced authentication. It does not exist in 3.1.1.

use bytes::{BufMut, BytesMut};

use super::{not_in_v3, Codec};
use crate::error::{DecodeError, EncodeError};
use crate::properties::AuthProperties;
use crate::protocol::{Protocol, Statement};
use crate::reader::{Reader, Source};
use crate::reason::{valid, ReasonCode};

/// AUTH: one step of an enhanced authentication exchange.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(deny_unknown_fields))]
pub struct Auth {
    /// Authenticate Reason Code.
    #[cfg_attr(feature = "serde", serde(default))]
    pub reason_code: ReasonCode,
    /// Properties.
    #[cfg_attr(
        feature = "serde",
        serde(default, skip_serializing_if = "crate::properties::Props::is_empty")
    )]
    pub properties: crate::properties::Props<crate::properties::AuthProperties>,
}

impl Codec for Auth {
    fn decode<S: Source>(_first: u8, mut r: Reader<'_, S>) -> Result<Self, DecodeError> {
        let mut a = Auth::default();
        // 5.0 section 3.15.2.1: a Remaining Length of 0 means Success with no properties.
        if !r.is_empty() {
            let at = r.pos();
            a.reason_code = ReasonCode(r.u8("Authenticate Reason Code")?);
            if !valid::AUTH.contains(&a.reason_code.0) {
                return Err(DecodeError::malformed(
                    at,
                    format!("0x{:02X} is not an AUTH reason code", a.reason_code.0),
                )
                .cite(&[Statement::v5("MQTT-3.15.2-1")]));
            }
            if !r.is_empty() {
                a.properties = AuthProperties::decode_props(&mut r, "AUTH")?;
            }
        }
        r.finish("AUTH")?;
        Ok(a)
    }

    fn body_len(&self, _p: Protocol) -> usize {
        match self.properties.is_empty() {
            true if self.reason_code == ReasonCode::SUCCESS => 0,
            true => 1,
            false => 1 + self.properties.encoded_len(),
        }
    }

    fn write_body(&self, p: Protocol, buf: &mut BytesMut) {
        let n = self.body_len(p);
        if n > 0 {
            buf.put_u8(self.reason_code.0);
        }
        if n > 1 {
            self.properties.write(buf);
        }
    }

    fn check(&self, p: Protocol) -> Result<(), EncodeError> {
        if !p.is_v5() {
            return Err(not_in_v3("AUTH", p));
        }
        if !valid::AUTH.contains(&self.reason_code.0) {
            return Err(EncodeError::new(format!(
                "0x{:02X} is not an AUTH reason code",
                self.reason_code.0
            ))
            .cite(&[Statement::v5("MQTT-3.15.2-1")]));
        }
        self.properties.check()
    }
}
