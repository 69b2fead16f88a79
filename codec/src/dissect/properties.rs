//! Dissecting a 5.0 property section (section 2.2.2): the length, then each property by the
//! type its identifier gives it.

use super::cursor::{quote, Cursor, Stop};
use crate::properties::property_name;

/// How a property's value is written (5.0 section 2.2.2.2, Table 2-4).
enum Kind {
    Byte,
    U16,
    U32,
    Varint,
    Str,
    Binary,
    Pair,
}

fn kind(id: u32) -> Option<Kind> {
    Some(match id {
        0x01 | 0x17 | 0x19 | 0x24 | 0x25 | 0x28 | 0x29 | 0x2A => Kind::Byte,
        0x13 | 0x21 | 0x22 | 0x23 => Kind::U16,
        0x02 | 0x11 | 0x18 | 0x27 => Kind::U32,
        0x0B => Kind::Varint,
        0x03 | 0x08 | 0x12 | 0x15 | 0x1A | 0x1C | 0x1F => Kind::Str,
        0x09 | 0x16 => Kind::Binary,
        0x26 => Kind::Pair,
        _ => return None,
    })
}

/// Reads a property section (`Properties`, `Will Properties`): its length (a field at the current depth), then each property
/// one level deeper, named with its identifier.
pub(super) fn section(c: &mut Cursor<'_>, name: &str) -> Result<(), Stop> {
    let len = c.varint(&format!("{name} Length"))? as usize;
    let end = c.pos + len;
    if end > c.end {
        return Err(c.stop(format!(
            "the Properties Length {len} runs past the end of the packet (byte {})",
            c.end
        )));
    }
    let outer_end = std::mem::replace(&mut c.end, end);
    c.depth += 1;
    let result = properties(c);
    c.depth -= 1;
    c.end = outer_end;
    result
}

fn properties(c: &mut Cursor<'_>) -> Result<(), Stop> {
    while c.left() > 0 {
        let start = c.pos;
        let first = c.fields.len();
        // The identifier is a Variable Byte Integer (in practice one byte).
        let id = c.varint("Property Identifier")?;
        let id_field = c.fields.remove(first);
        let name = format!("{} (0x{id:02X})", property_name(id));
        let Some(k) = kind(id) else {
            c.pos = start;
            c.push(
                id_field.len,
                "Property Identifier",
                format!("0x{id:02X}: no such property (malformed)"),
            );
            return Err(c.stop(format!(
                "byte {start}: 0x{id:02X} is not a property identifier; the rest of the section cannot be read"
            )));
        };
        match k {
            Kind::Byte => {
                c.byte(&name, |b| byte_value(id, b))?;
            }
            Kind::U16 => {
                c.u16(&name)?;
            }
            Kind::U32 => {
                let v = c.u32(&name)?;
                if id == 0x11 && v == u32::MAX {
                    if let Some(f) = c.fields.last_mut() {
                        f.value += " (never expires)";
                    }
                }
            }
            Kind::Varint => {
                c.varint(&name)?;
            }
            Kind::Str => {
                c.string(&name)?;
            }
            Kind::Binary => {
                c.binary(&name, (id == 0x16).then_some("Authentication Data"))?;
            }
            Kind::Pair => {
                let key = c.string(&name)?;
                let value_at = c.fields.len();
                let value = c.string("value")?;
                let v = c.fields.remove(value_at);
                if let Some(f) = c.fields.last_mut() {
                    f.len += v.len;
                    f.value = format!("{} = {}", quote(&key), quote(&value));
                }
            }
        }
        // One field per property: the identifier and the value together.
        if let Some(f) = c.fields.last_mut() {
            f.offset = start;
            f.len += id_field.len;
        }
    }
    Ok(())
}

fn byte_value(id: u32, b: u8) -> String {
    let meaning = match (id, b) {
        (0x01, 0) => "unspecified bytes",
        (0x01, 1) => "UTF-8 character data",
        (0x24, 0) => "QoS 0",
        (0x24, 1) => "QoS 1",
        (_, 0) => "false",
        (_, 1) => "true",
        _ => "invalid: must be 0 or 1 (Protocol Error)",
    };
    format!("{b} ({meaning})")
}
