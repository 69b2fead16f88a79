//! The variable header and payload of each packet type, field by field (3.1.1 chapter 3, 5.0
//! chapter 3).

use super::cursor::{bytes_value, Cursor, Stop};
use super::properties::section;
use crate::packet::PacketType;
use crate::protocol::Protocol;
use crate::reason::{valid, ReasonCode};

/// Reads the body of a packet of type `t` (the fixed header is read).
pub(super) fn body(
    c: &mut Cursor<'_>,
    protocol: Protocol,
    t: PacketType,
    first: u8,
) -> Result<(), Stop> {
    let v5 = protocol.is_v5();
    match t {
        PacketType::Connect => connect(c),
        PacketType::ConnAck => {
            c.byte("Connect Acknowledge Flags", |b| {
                let mut s = format!("0x{b:02X}: Session Present {}", b & 1);
                if b & 0xFE != 0 {
                    s += ", reserved bits set (malformed)";
                }
                s
            })?;
            if v5 {
                reason(c, "Reason Code", valid::CONNACK, "CONNACK")?;
                section(c, "Properties")
            } else {
                c.byte("Connect Return Code", |b| {
                    let code = ReasonCode(b);
                    match code.v3_connack_name() {
                        Some(name) => format!("0x{b:02X} {name}"),
                        None => format!("0x{b:02X} (no such return code)"),
                    }
                })?;
                Ok(())
            }
        }
        PacketType::Publish => {
            c.string("Topic Name")?;
            if (first >> 1) & 3 != 0 {
                packet_id(c)?;
            }
            if v5 {
                section(c, "Properties")?;
            }
            let n = c.left().min(c.data.len().saturating_sub(c.pos));
            let payload = c.data[c.pos..c.pos + n].to_vec();
            if n > 0 || c.left() == 0 {
                c.push(n, "Payload", bytes_value(&payload));
            }
            Ok(())
        }
        PacketType::PubAck | PacketType::PubRec | PacketType::PubRel | PacketType::PubComp => {
            packet_id(c)?;
            if v5 && c.left() > 0 {
                let table = match t {
                    PacketType::PubAck | PacketType::PubRec => valid::PUBACK,
                    _ => valid::PUBREL,
                };
                reason(c, "Reason Code", table, t.name())?;
                if c.left() > 0 {
                    section(c, "Properties")?;
                }
            }
            Ok(())
        }
        PacketType::Subscribe => {
            packet_id(c)?;
            if v5 {
                section(c, "Properties")?;
            }
            while c.left() > 0 {
                c.string("Topic Filter")?;
                c.depth += 1;
                let r = c.byte("Subscription Options", |b| options(v5, b));
                c.depth -= 1;
                r?;
            }
            Ok(())
        }
        PacketType::SubAck => {
            packet_id(c)?;
            if v5 {
                section(c, "Properties")?;
            }
            while c.left() > 0 {
                if v5 {
                    reason(c, "Reason Code", valid::SUBACK, "SUBACK")?;
                } else {
                    c.byte("Return Code", |b| match b {
                        0x00..=0x02 => format!("0x{b:02X} Success, maximum QoS {b}"),
                        0x80 => "0x80 Failure".into(),
                        _ => format!("0x{b:02X} (no such return code)"),
                    })?;
                }
            }
            Ok(())
        }
        PacketType::Unsubscribe => {
            packet_id(c)?;
            if v5 {
                section(c, "Properties")?;
            }
            while c.left() > 0 {
                c.string("Topic Filter")?;
            }
            Ok(())
        }
        PacketType::UnsubAck => {
            packet_id(c)?;
            if v5 {
                section(c, "Properties")?;
                while c.left() > 0 {
                    reason(c, "Reason Code", valid::UNSUBACK, "UNSUBACK")?;
                }
            }
            Ok(())
        }
        PacketType::PingReq | PacketType::PingResp => Ok(()),
        PacketType::Disconnect | PacketType::Auth => {
            if v5 && c.left() > 0 {
                let table = if t == PacketType::Auth {
                    valid::AUTH
                } else {
                    valid::DISCONNECT
                };
                reason(c, "Reason Code", table, t.name())?;
                if c.left() > 0 {
                    section(c, "Properties")?;
                }
            }
            Ok(())
        }
    }
}

/// CONNECT (3.1.1 section 3.1, 5.0 section 3.1): laid out by its own Protocol Level.
fn connect(c: &mut Cursor<'_>) -> Result<(), Stop> {
    c.string("Protocol Name")?;
    let level = c.byte("Protocol Level", |b| match b {
        3 => "3 (MQTT 3.1)".into(),
        4 => "4 (MQTT 3.1.1)".into(),
        5 => "5 (MQTT 5.0)".into(),
        _ => format!("{b} (no such version)"),
    })?;
    let v5 = level == 5;
    let flags = c.byte("Connect Flags", |b| connect_flags(v5, b))?;
    let keep_alive = c.u16("Keep Alive")?;
    if let Some(f) = c.fields.last_mut() {
        f.value = if keep_alive == 0 {
            "0 (off)".into()
        } else {
            format!("{keep_alive} s")
        };
    }
    if v5 {
        section(c, "Properties")?;
    }
    c.string("Client Identifier")?;
    if flags & 0x04 != 0 {
        if v5 {
            section(c, "Will Properties")?;
        }
        c.string("Will Topic")?;
        c.binary("Will Payload", None)?;
    }
    if flags & 0x80 != 0 {
        c.string("User Name")?;
    }
    if flags & 0x40 != 0 {
        c.binary("Password", Some("Password"))?;
    }
    Ok(())
}

fn connect_flags(v5: bool, b: u8) -> String {
    let mut set = Vec::new();
    if b & 0x80 != 0 {
        set.push("User Name".to_string());
    }
    if b & 0x40 != 0 {
        set.push("Password".to_string());
    }
    if b & 0x04 != 0 {
        set.push(
            format!("Will (QoS {}", (b >> 3) & 3) + if b & 0x20 != 0 { ", RETAIN)" } else { ")" },
        );
    } else if b & 0x38 != 0 {
        set.push("Will QoS or Will Retain without the Will Flag (malformed)".into());
    }
    if b & 0x02 != 0 {
        set.push(if v5 { "Clean Start" } else { "Clean Session" }.into());
    }
    if b & 0x01 != 0 {
        set.push("reserved bit 0 set (malformed)".into());
    }
    if set.is_empty() {
        format!("0x{b:02X}: none")
    } else {
        format!("0x{b:02X}: {}", set.join(", "))
    }
}

fn options(v5: bool, b: u8) -> String {
    let qos = b & 3;
    let mut s = format!(
        "0x{b:02X}: QoS {qos}{}",
        if qos == 3 { " (malformed)" } else { "" }
    );
    if v5 {
        let rh = (b >> 4) & 3;
        s += &format!(
            ", No Local {}, Retain As Published {}, Retain Handling {rh}{}",
            (b >> 2) & 1,
            (b >> 3) & 1,
            if rh == 3 { " (Protocol Error)" } else { "" }
        );
        if b & 0xC0 != 0 {
            s += ", reserved bits set (malformed)";
        }
    } else if b & 0xFC != 0 {
        s += ", reserved bits set (malformed)";
    }
    s
}

fn packet_id(c: &mut Cursor<'_>) -> Result<(), Stop> {
    let id = c.u16("Packet Identifier")?;
    if id == 0 {
        if let Some(f) = c.fields.last_mut() {
            f.value += " (must not be 0)";
        }
    }
    Ok(())
}

/// A 5.0 reason code, named, and checked against the codes `packet` may carry.
fn reason(c: &mut Cursor<'_>, name: &str, table: &[u8], packet: &str) -> Result<(), Stop> {
    c.byte(name, |b| {
        let code = ReasonCode(b);
        if table.contains(&b) {
            code.to_string()
        } else {
            format!("0x{b:02X} {} (not a {packet} reason code)", code.name())
        }
    })?;
    Ok(())
}
