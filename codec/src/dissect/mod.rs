//! A protocol analyser's view of a packet: every field with its byte offset and length, flags
//! spelled out, reason codes named. Lenient where the decoder is strict: it reads what the
//! bytes say as far as they can be read and tells where and why it stopped, so that it can
//! show malformed packets too (the strict verdict is the decoder's).
//!
//! It also finds the secrets of a packet (Password, Authentication Data), so that a transcript
//! can mask them in place ([`Dissection::secrets`]).
//!
//! ```
//! use touchstone_codec::{dissect, Protocol};
//!
//! let d = dissect(Protocol::V3_1_1, &[0x20, 0x02, 0x00, 0x05]);
//! let code = d.fields.last().unwrap();
//! assert_eq!((code.offset, code.name.as_str()), (3, "Connect Return Code"));
//! assert_eq!(code.value, "0x05 Connection Refused, not authorized");
//! ```

mod cursor;
mod packets;
mod properties;

use cursor::Cursor;

use crate::packet::PacketType;
use crate::protocol::Protocol;
use crate::varint::{read_varint, Varint};

/// One field of a packet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Field {
    /// Offset of its first byte from the packet's first byte.
    pub offset: usize,
    /// How many bytes it takes (a length prefix included).
    pub len: usize,
    /// Nesting: 0 for the packet's own fields, 1 inside a property section or a list entry.
    pub depth: usize,
    /// Its name, as the specification writes it.
    pub name: String,
    /// Its value as people read it.
    pub value: String,
    /// Set when the field is a secret.
    pub secret: Option<Secret>,
}

/// Where a secret's bytes are (without their length prefix).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Secret {
    /// What it is: `Password` or `Authentication Data`.
    pub what: &'static str,
    /// Offset of the first secret byte from the packet's first byte.
    pub start: usize,
    /// Offset just past the last secret byte.
    pub end: usize,
}

/// The fields of one packet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Dissection {
    /// The packet type, when the first byte names one.
    pub packet_type: Option<PacketType>,
    /// The bytes of the input this packet takes: its fixed header and Remaining Length, or
    /// everything given when the input ends first or the header cannot be read.
    pub len: usize,
    /// The fields, in wire order.
    pub fields: Vec<Field>,
    /// Where and why reading stopped before the end of the packet, if it did.
    pub problem: Option<String>,
}

impl Dissection {
    /// The secrets of the packet.
    pub fn secrets(&self) -> impl Iterator<Item = &Secret> + '_ {
        self.fields.iter().filter_map(|f| f.secret.as_ref())
    }
}

/// Dissects the packet at the front of `bytes`, as `protocol` lays it out.
pub fn dissect(protocol: Protocol, bytes: &[u8]) -> Dissection {
    let Some(&first) = bytes.first() else {
        return Dissection {
            packet_type: None,
            len: 0,
            fields: Vec::new(),
            problem: Some("no bytes".into()),
        };
    };
    let packet_type = PacketType::from_nibble(first >> 4);
    let (end, header_problem) = match read_varint(&bytes[1..]) {
        Varint::Value(n, l) | Varint::NotMinimal(n, l) => (1 + l + n as usize, None),
        Varint::Incomplete => (bytes.len(), Some(())),
        Varint::TooLong => (bytes.len(), Some(())),
    };
    let mut c = Cursor::new(bytes, end);
    let _ = c.byte("Packet Type and Flags", |b| first_byte(protocol, b));
    if c.varint("Remaining Length").is_ok() && header_problem.is_none() {
        let body = match packet_type {
            Some(t) if t == PacketType::Auth && !protocol.is_v5() => Ok(()),
            Some(t) => packets::body(&mut c, protocol, t, first),
            None => Ok(()),
        };
        if body.is_ok() {
            c.trailing("(bytes no field explains)");
        }
        if end > bytes.len() && c.problem.is_none() {
            c.problem = Some(format!(
                "the packet is {end} bytes long, but the input ends after {}",
                bytes.len()
            ));
        }
    }
    Dissection {
        packet_type,
        len: end.min(bytes.len()),
        fields: c.fields,
        problem: c.problem,
    }
}

/// The first byte: the type, and what its flag bits say.
fn first_byte(protocol: Protocol, b: u8) -> String {
    let flags = b & 0x0F;
    let Some(t) =
        PacketType::from_nibble(b >> 4).filter(|t| *t != PacketType::Auth || protocol.is_v5())
    else {
        return format!("0x{b:02X}: type {} is reserved (malformed)", b >> 4);
    };
    let what = match t.required_flags() {
        Some(r) if r == flags => format!("flags {flags:04b}"),
        Some(r) => format!("flags {flags:04b}, must be {r:04b} (malformed)"),
        None => {
            let qos = (flags >> 1) & 3;
            format!(
                "flags {flags:04b}: DUP {}, QoS {qos}{}, RETAIN {}",
                flags >> 3,
                if qos == 3 { " (malformed)" } else { "" },
                flags & 1
            )
        }
    };
    format!("0x{b:02X}: {} ({}), {what}", t.name(), b >> 4)
}

#[cfg(test)]
mod tests;
