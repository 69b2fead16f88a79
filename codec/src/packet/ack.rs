//! What PUBACK, PUBREC, PUBREL and PUBCOMP share: a Packet Identifier, and in 5.0 a Reason Code
//! and properties that may be left out (5.0 sections 3.4.2 to 3.7.2).

use bytes::{BufMut, BytesMut};

use super::{no_v3_properties, read_packet_id, PacketId};
use crate::error::{DecodeError, EncodeError};
use crate::properties::{AckProperties, Props};
use crate::protocol::{Protocol, Statement};
use crate::reader::{Reader, Source};
use crate::reason::ReasonCode;

/// The fields of an acknowledgement in the PUBLISH flows.
pub(crate) struct AckFields {
    pub(crate) packet_id: PacketId,
    pub(crate) reason_code: ReasonCode,
    pub(crate) properties: Props<AckProperties>,
}

/// Decodes an acknowledgement whose valid 5.0 reason codes are `codes` (the rule `rule`).
/// Always inlined: returning the fields through memory from a separate function costs a stalled
/// load on every acknowledgement.
#[inline(always)]
pub(crate) fn decode<S: Source>(
    mut r: Reader<'_, S>,
    name: &'static str,
    codes: &[u8],
    rule: &'static str,
) -> Result<AckFields, DecodeError> {
    let packet_id = read_packet_id(&mut r)?;
    let mut reason_code = ReasonCode::SUCCESS;
    let mut properties = crate::properties::Props::none();
    if r.protocol.is_v5() && !r.is_empty() {
        let at = r.pos();
        reason_code = ReasonCode(r.u8("Reason Code")?);
        if !codes.contains(&reason_code.0) {
            return Err(DecodeError::malformed(
                at,
                format!("0x{:02X} is not a {name} reason code", reason_code.0),
            )
            .cite(&[Statement::v5(rule)]));
        }
        // A Remaining Length of 3 means no Property Length (5.0 section 3.4.2.2).
        if !r.is_empty() {
            properties = AckProperties::decode_props(&mut r, name)?;
        }
    }
    r.finish(name)?;
    Ok(AckFields {
        packet_id,
        reason_code,
        properties,
    })
}

/// Remaining Length, using the short forms when they apply.
#[inline]
pub(crate) fn body_len(p: Protocol, code: ReasonCode, props: &AckProperties) -> usize {
    if !p.is_v5() || (code == ReasonCode::SUCCESS && props.is_empty()) {
        2
    } else if props.is_empty() {
        3
    } else {
        3 + props.encoded_len()
    }
}

#[inline]
pub(crate) fn write(
    p: Protocol,
    id: PacketId,
    code: ReasonCode,
    props: &AckProperties,
    buf: &mut BytesMut,
) {
    buf.put_u16(id.get());
    if p.is_v5() && !(code == ReasonCode::SUCCESS && props.is_empty()) {
        buf.put_u8(code.0);
        if !props.is_empty() {
            props.write(buf);
        }
    }
}

pub(crate) fn check(
    p: Protocol,
    name: &str,
    code: ReasonCode,
    props: &AckProperties,
    codes: &[u8],
    rule: &'static str,
) -> Result<(), EncodeError> {
    if !p.is_v5() && code != ReasonCode::SUCCESS {
        return Err(super::not_in_v3(&format!("a {name} reason code"), p));
    }
    if p.is_v5() && !codes.contains(&code.0) {
        return Err(
            EncodeError::new(format!("0x{:02X} is not a {name} reason code", code.0))
                .cite(&[Statement::v5(rule)]),
        );
    }
    no_v3_properties(props.is_empty(), p, name)?;
    props.check()
}

/// Defines one acknowledgement packet in terms of the functions above.
macro_rules! ack_packet {
    ($(#[$meta:meta])* $ty:ident, $name:literal, $flags:literal, $codes:expr, $rule:literal) => {
        $(#[$meta])*
        #[derive(Debug, Clone, PartialEq, Eq)]
        #[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
        #[cfg_attr(feature = "serde", serde(deny_unknown_fields))]
        pub struct $ty {
            /// Packet Identifier of the PUBLISH being acknowledged.
            pub packet_id: $crate::packet::PacketId,
            /// Reason Code (5.0; always Success in 3.1.1).
            #[cfg_attr(feature = "serde", serde(default))]
            pub reason_code: $crate::reason::ReasonCode,
            /// 5.0 properties.
            #[cfg_attr(feature = "serde", serde(default, skip_serializing_if = "crate::properties::Props::is_empty"))]
            pub properties: crate::properties::Props<crate::properties::AckProperties>,
        }

        impl $ty {
            /// A successful acknowledgement of `packet_id`.
            pub fn new(packet_id: $crate::packet::PacketId) -> Self {
                $ty { packet_id, reason_code: $crate::reason::ReasonCode::SUCCESS, properties: Default::default() }
            }
        }

        impl $crate::packet::Codec for $ty {
            #[inline(always)]
            fn decode<S: $crate::reader::Source>(_first: u8, r: $crate::reader::Reader<'_, S>) -> Result<Self, $crate::error::DecodeError> {
                let f = $crate::packet::ack::decode(r, $name, $codes, $rule)?;
                Ok($ty { packet_id: f.packet_id, reason_code: f.reason_code, properties: f.properties })
            }

            fn flags(&self) -> u8 {
                $flags
            }

            #[inline]
            fn body_len(&self, p: $crate::Protocol) -> usize {
                $crate::packet::ack::body_len(p, self.reason_code, &self.properties)
            }

            #[inline]
            fn write_body(&self, p: $crate::Protocol, buf: &mut bytes::BytesMut) {
                $crate::packet::ack::write(p, self.packet_id, self.reason_code, &self.properties, buf)
            }

            fn check(&self, p: $crate::Protocol) -> Result<(), $crate::error::EncodeError> {
                $crate::packet::ack::check(p, $name, self.reason_code, &self.properties, $codes, $rule)
            }
        }
    };
}
pub(crate) use ack_packet;
