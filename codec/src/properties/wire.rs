//! Encoders for each property value type: length, bytes, and the checks that mirror decoding.

use bytes::{BufMut, Bytes, BytesMut};

use super::{property_name, PayloadFormat};
use crate::error::EncodeError;
use crate::protocol::Statement;
use crate::qos::QoS;
use crate::str::Str;
use crate::topic::{validate_topic_name, TopicError};
use crate::varint::{varint_len, write_varint, VARINT_MAX};

#[cold]
fn invalid(id: u8, what: &str) -> EncodeError {
    EncodeError::new(format!(
        "property {} (0x{id:02X}) {what}",
        property_name(id.into())
    ))
}

/// A one-byte 0/1 flag.
pub(crate) mod flag {
    use super::*;
    pub(crate) fn len(_: &bool) -> usize {
        2
    }
    pub(crate) fn put(v: &bool, id: u8, buf: &mut BytesMut) {
        buf.put_u8(id);
        buf.put_u8(u8::from(*v));
    }
    pub(crate) fn check(_: &bool, _: u8) -> Result<(), EncodeError> {
        Ok(())
    }
}

/// Maximum QoS: a byte, 0 or 1.
pub(crate) mod qos {
    use super::*;
    pub(crate) fn len(_: &QoS) -> usize {
        2
    }
    pub(crate) fn put(v: &QoS, id: u8, buf: &mut BytesMut) {
        buf.put_u8(id);
        buf.put_u8(v.as_u8());
    }
    pub(crate) fn check(v: &QoS, id: u8) -> Result<(), EncodeError> {
        if *v == QoS::ExactlyOnce {
            return Err(invalid(id, "must be 0 or 1"));
        }
        Ok(())
    }
}

/// Payload Format Indicator: a byte.
pub(crate) mod format {
    use super::*;
    pub(crate) fn len(_: &PayloadFormat) -> usize {
        2
    }
    pub(crate) fn put(v: &PayloadFormat, id: u8, buf: &mut BytesMut) {
        buf.put_u8(id);
        buf.put_u8(*v as u8);
    }
    pub(crate) fn check(_: &PayloadFormat, _: u8) -> Result<(), EncodeError> {
        Ok(())
    }
}

/// A Two Byte Integer; Receive Maximum and Topic Alias must not be 0.
pub(crate) mod two {
    use super::*;
    pub(crate) fn len(_: &u16) -> usize {
        3
    }
    pub(crate) fn put(v: &u16, id: u8, buf: &mut BytesMut) {
        buf.put_u8(id);
        buf.put_u16(*v);
    }
    pub(crate) fn check(v: &u16, id: u8) -> Result<(), EncodeError> {
        if *v == 0 && (id == 0x21 || id == 0x23) {
            let e = invalid(id, "must not be 0");
            return Err(if id == 0x23 {
                e.cite(&[Statement::v5("MQTT-3.3.2-8")])
            } else {
                e
            });
        }
        Ok(())
    }
}

/// A Four Byte Integer; Maximum Packet Size must not be 0.
pub(crate) mod four {
    use super::*;
    pub(crate) fn len(_: &u32) -> usize {
        5
    }
    pub(crate) fn put(v: &u32, id: u8, buf: &mut BytesMut) {
        buf.put_u8(id);
        buf.put_u32(*v);
    }
    pub(crate) fn check(v: &u32, id: u8) -> Result<(), EncodeError> {
        if *v == 0 && id == 0x27 {
            return Err(invalid(id, "must not be 0"));
        }
        Ok(())
    }
}

/// A Variable Byte Integer (Subscription Identifier: 1 to 268,435,455).
pub(crate) mod var {
    use super::*;
    pub(crate) fn len(v: &u32) -> usize {
        1 + varint_len(*v)
    }
    pub(crate) fn put(v: &u32, id: u8, buf: &mut BytesMut) {
        buf.put_u8(id);
        write_varint(buf, *v);
    }
    pub(crate) fn check(v: &u32, id: u8) -> Result<(), EncodeError> {
        if *v == 0 || *v > VARINT_MAX {
            return Err(invalid(id, "must be between 1 and 268435455"));
        }
        Ok(())
    }
}

/// A UTF-8 Encoded String; the Response Topic must also be a valid topic name.
pub(crate) mod utf8 {
    use super::*;
    pub(crate) fn len(v: &Str) -> usize {
        3 + v.len()
    }
    pub(crate) fn put(v: &Str, id: u8, buf: &mut BytesMut) {
        buf.put_u8(id);
        crate::writer::put_bin(buf, v.as_bytes());
    }
    pub(crate) fn check(v: &Str, id: u8) -> Result<(), EncodeError> {
        if v.len() > 65_535 {
            return Err(invalid(id, "is longer than 65535 bytes"));
        }
        if v.as_bytes().contains(&0) {
            return Err(invalid(id, "contains U+0000").cite(&[Statement::v5("MQTT-1.5.4-2")]));
        }
        if id == 0x08 {
            match validate_topic_name(v) {
                Ok(()) => {}
                Err(TopicError::WildcardInName) => {
                    return Err(
                        invalid(id, "contains a wildcard").cite(&[Statement::v5("MQTT-3.3.2-14")])
                    )
                }
                Err(e) => return Err(invalid(id, &e.to_string())),
            }
        }
        Ok(())
    }
}

/// Binary Data.
pub(crate) mod bin {
    use super::*;
    pub(crate) fn len(v: &Bytes) -> usize {
        3 + v.len()
    }
    pub(crate) fn put(v: &Bytes, id: u8, buf: &mut BytesMut) {
        buf.put_u8(id);
        crate::writer::put_bin(buf, v);
    }
    pub(crate) fn check(v: &Bytes, id: u8) -> Result<(), EncodeError> {
        if v.len() > 65_535 {
            return Err(invalid(id, "is longer than 65535 bytes"));
        }
        Ok(())
    }
}
