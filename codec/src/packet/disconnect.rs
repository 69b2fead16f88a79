//! DISCONNECT (3.1.1 section 3.14, 5.0 section 3.14).

use bytes::{BufMut, BytesMut};

use super::{no_v3_properties, not_in_v3, Codec};
use crate::error::{DecodeError, EncodeError};
use crate::properties::DisconnectProperties;
use crate::protocol::{Protocol, Statement};
use crate::reader::{Reader, Source};
use crate::reason::{valid, ReasonCode};

/// DISCONNECT: the last packet on a connection (from either side in 5.0).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(deny_unknown_fields))]
pub struct Disconnect {
    /// Disconnect Reason Code (5.0; Normal disconnection in 3.1.1).
    #[cfg_attr(feature = "serde", serde(default))]
    pub reason_code: ReasonCode,
    /// 5.0 properties.
    #[cfg_attr(
        feature = "serde",
        serde(default, skip_serializing_if = "crate::properties::Props::is_empty")
    )]
    pub properties: crate::properties::Props<crate::properties::DisconnectProperties>,
}

impl Disconnect {
    /// A DISCONNECT with `reason_code` and no properties.
    pub fn new(reason_code: ReasonCode) -> Self {
        Disconnect {
            reason_code,
            properties: crate::properties::Props::none(),
        }
    }
}

impl Codec for Disconnect {
    fn decode<S: Source>(_first: u8, mut r: Reader<'_, S>) -> Result<Self, DecodeError> {
        let mut d = Disconnect::default();
        // 5.0 section 3.14.2.1: a Remaining Length of 0 means Normal disconnection; below 2,
        // no properties.
        if r.protocol.is_v5() && !r.is_empty() {
            let at = r.pos();
            d.reason_code = ReasonCode(r.u8("Disconnect Reason Code")?);
            if !valid::DISCONNECT.contains(&d.reason_code.0) {
                return Err(DecodeError::malformed(
                    at,
                    format!("0x{:02X} is not a DISCONNECT reason code", d.reason_code.0),
                )
                .cite(&[Statement::v5("MQTT-3.14.2-1")]));
            }
            if !r.is_empty() {
                d.properties = DisconnectProperties::decode_props(&mut r, "DISCONNECT")?;
            }
        }
        r.finish("DISCONNECT")?;
        Ok(d)
    }

    fn body_len(&self, p: Protocol) -> usize {
        match (p.is_v5(), self.properties.is_empty()) {
            (false, _) => 0,
            (true, true) if self.reason_code == ReasonCode::SUCCESS => 0,
            (true, true) => 1,
            (true, false) => 1 + self.properties.encoded_len(),
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
        if !p.is_v5() && self.reason_code != ReasonCode::SUCCESS {
            return Err(not_in_v3("a DISCONNECT reason code", p));
        }
        if p.is_v5() && !valid::DISCONNECT.contains(&self.reason_code.0) {
            return Err(EncodeError::new(format!(
                "0x{:02X} is not a DISCONNECT reason code",
                self.reason_code.0
            ))
            .cite(&[Statement::v5("MQTT-3.14.2-1")]));
        }
        no_v3_properties(self.properties.is_empty(), p, "DISCONNECT")?;
        self.properties.check()
    }
}
