//! The edits of one packet's bytes that the field operators make: sans-IO, from the bytes of
//! a packet to the bytes of its mutant. Fields are found with the codec's dissector (their
//! offsets), and every edit that changes a length rewrites the Remaining Length and, inside a
//! property section, the Property Length: the mutant is well framed unless the operator means
//! it not to be.

use touchstone_codec::dissect::Field;
use touchstone_codec::reason::valid;
use touchstone_codec::{dissect, read_varint, write_varint, PacketType, Protocol, Varint};

use super::mutant::Operator;

/// A User Property `mutant` = `1`.
const USER_PROPERTY: &[u8] = &[0x26, 0, 6, b'm', b'u', b't', b'a', b'n', b't', 0, 1, b'1'];
/// A Packet Identifier given to a PUBLISH raised from QoS 0.
const RAISED_PACKET_ID: [u8; 2] = [0x7A, 0x7A];

/// The bytes of `raw` (one whole packet) after `op`, or `None` when the packet has nothing the
/// operator changes (a QoS 0 PUBLISH has no Packet Identifier to change). The operators that
/// move whole packets (drop, duplicate, delay, reorder, inject) are the proxy's.
pub fn edit(op: Operator, protocol: Protocol, raw: &[u8]) -> Option<Vec<u8>> {
    let packet = Packet::parse(protocol, raw)?;
    match op {
        Operator::FlipFlag(bit) => {
            let mut out = raw.to_vec();
            out[0] ^= 1 << bit;
            Some(out)
        }
        Operator::Truncate => {
            let body = packet.body();
            (!body.is_empty()).then(|| packet.rebuild(raw[0], &body[..body.len() - 1]))
        }
        Operator::Extend => {
            let mut body = packet.body().to_vec();
            body.push(0);
            Some(packet.rebuild(raw[0], &body))
        }
        Operator::PacketIdNext | Operator::PacketIdZero => {
            let f = packet.field("Packet Identifier")?;
            let id = u16::from_be_bytes([raw[f.offset], raw[f.offset + 1]]);
            let new = match op {
                Operator::PacketIdNext => id.wrapping_add(1).max(1),
                _ if id == 0 => return None,
                _ => 0,
            };
            Some(packet.splice(f.offset, f.offset + 2, &new.to_be_bytes(), None))
        }
        Operator::QosUp | Operator::QosDown => qos(&packet, op == Operator::QosUp),
        Operator::TopicRename | Operator::TopicAddLevel | Operator::TopicDropLevel => {
            topic(&packet, op)
        }
        Operator::PayloadAlter | Operator::PayloadEmpty => {
            if packet.kind != PacketType::Publish {
                return None;
            }
            let f = packet.field("Payload").filter(|f| f.len > 0)?;
            let end = f.offset + f.len;
            if op == Operator::PayloadEmpty {
                return Some(packet.splice(f.offset, end, &[], None));
            }
            let last = [raw[end - 1] ^ 0x01];
            Some(packet.splice(end - 1, end, &last, None))
        }
        Operator::FlipVarFlag(bit) => {
            let f = packet
                .field("Connect Flags")
                .or_else(|| packet.field("Connect Acknowledge Flags"))
                .or_else(|| packet.field("Subscription Options"))?;
            let b = [raw[f.offset] ^ (1 << bit)];
            Some(packet.splice(f.offset, f.offset + 1, &b, None))
        }
        Operator::ReasonFlip | Operator::ReasonOther => reason(&packet, op == Operator::ReasonFlip),
        Operator::PropAddUser
        | Operator::PropAddForeign
        | Operator::PropRemove
        | Operator::PropAlter
        | Operator::PropDuplicate => properties(&packet, op),
        Operator::Drop
        | Operator::DropFirst
        | Operator::Duplicate
        | Operator::Delay
        | Operator::Reorder
        | Operator::InjectDisconnect
        | Operator::InjectPingResp => None,
    }
}

/// A packet and its dissection.
struct Packet<'a> {
    protocol: Protocol,
    raw: &'a [u8],
    kind: PacketType,
    /// Where the body starts (after the Remaining Length).
    body_at: usize,
    fields: Vec<Field>,
}

impl<'a> Packet<'a> {
    fn parse(protocol: Protocol, raw: &'a [u8]) -> Option<Packet<'a>> {
        let kind = PacketType::from_nibble(*raw.first()? >> 4)?;
        let body_at = match read_varint(raw.get(1..)?) {
            Varint::Value(len, n) | Varint::NotMinimal(len, n)
                if 1 + n + len as usize == raw.len() =>
            {
                1 + n
            }
            _ => return None,
        };
        let d = dissect(protocol, raw);
        Some(Packet {
            protocol,
            raw,
            kind,
            body_at,
            fields: d.fields,
        })
    }

    fn body(&self) -> &[u8] {
        &self.raw[self.body_at..]
    }

    fn field(&self, name: &str) -> Option<&Field> {
        self.fields.iter().find(|f| f.name == name)
    }

    /// The packet with first byte `first` and this body.
    fn rebuild(&self, first: u8, body: &[u8]) -> Vec<u8> {
        let mut out = vec![first];
        write_varint(&mut out, body.len() as u32);
        out.extend_from_slice(body);
        out
    }

    /// The packet with `raw[start..end]` replaced by `with`; `section` is the offset of the
    /// Property Length field around the change, which grows or shrinks with it.
    fn splice(&self, start: usize, end: usize, with: &[u8], section: Option<&Field>) -> Vec<u8> {
        let raw = self.raw;
        let mut body = Vec::with_capacity(raw.len() + with.len());
        let mut from = self.body_at;
        if let Some(s) = section {
            let old = match read_varint(&raw[s.offset..]) {
                Varint::Value(v, _) | Varint::NotMinimal(v, _) => v as i64,
                _ => 0,
            };
            let new = old + with.len() as i64 - (end - start) as i64;
            body.extend_from_slice(&raw[from..s.offset]);
            write_varint(&mut body, new.max(0) as u32);
            from = s.offset + s.len;
        }
        body.extend_from_slice(&raw[from..start]);
        body.extend_from_slice(with);
        body.extend_from_slice(&raw[end..]);
        self.rebuild(raw[0], &body)
    }
}

fn qos(p: &Packet<'_>, up: bool) -> Option<Vec<u8>> {
    let raw = p.raw;
    match p.kind {
        PacketType::Publish => {
            let q = (raw[0] >> 1) & 3;
            let first = |q: u8| (raw[0] & !0x06) | (q << 1);
            match (up, q) {
                (true, 0) => {
                    // A Packet Identifier appears after the Topic Name.
                    let t = p.field("Topic Name")?;
                    let at = t.offset + t.len;
                    let mut out = p.splice(at, at, &RAISED_PACKET_ID, None);
                    out[0] = first(1);
                    Some(out)
                }
                (true, 1) | (false, 2) => {
                    let mut out = raw.to_vec();
                    out[0] = first(if up { 2 } else { 1 });
                    Some(out)
                }
                (false, 1) => {
                    let f = p.field("Packet Identifier")?;
                    let mut out = p.splice(f.offset, f.offset + 2, &[], None);
                    out[0] = first(0);
                    Some(out)
                }
                _ => None,
            }
        }
        PacketType::Subscribe => {
            let f = p.field("Subscription Options")?;
            let b = raw[f.offset];
            let q = b & 3;
            let new = match (up, q) {
                (true, 0 | 1) => b + 1,
                (false, 1 | 2) => b - 1,
                _ => return None,
            };
            Some(p.splice(f.offset, f.offset + 1, &[new], None))
        }
        PacketType::SubAck => {
            let f = p.field("Reason Code").or_else(|| p.field("Return Code"))?;
            let code = raw[f.offset];
            let new = match (up, code) {
                (true, 0 | 1) => code + 1,
                (false, 1 | 2) => code - 1,
                _ => return None,
            };
            Some(p.splice(f.offset, f.offset + 1, &[new], None))
        }
        _ => None,
    }
}

fn topic(p: &Packet<'_>, op: Operator) -> Option<Vec<u8>> {
    let f = match p.kind {
        PacketType::Publish => p.field("Topic Name"),
        PacketType::Subscribe | PacketType::Unsubscribe => p.field("Topic Filter"),
        PacketType::Connect => p.field("Will Topic"),
        _ => None,
    }?;
    let old = std::str::from_utf8(p.raw.get(f.offset + 2..f.offset + f.len)?).ok()?;
    if old.is_empty() {
        return None;
    }
    let new = match op {
        Operator::TopicRename => match old.rsplit_once('/') {
            Some((head, "+" | "#")) => format!("{head}/m"),
            None if old == "+" || old == "#" => "m".to_string(),
            _ => format!("{old}m"),
        },
        Operator::TopicAddLevel => match old.strip_suffix('#') {
            Some(head) => format!("{head}m/#"),
            None => format!("{old}/m"),
        },
        _ => old.rsplit_once('/')?.0.to_string(),
    };
    let mut with = (new.len() as u16).to_be_bytes().to_vec();
    with.extend_from_slice(new.as_bytes());
    Some(p.splice(f.offset, f.offset + f.len, &with, None))
}

/// The 5.0 reason codes a packet may carry, or the 3.1.1 return codes.
fn table(protocol: Protocol, kind: PacketType) -> Option<&'static [u8]> {
    Some(match (protocol.is_v5(), kind) {
        (true, PacketType::ConnAck) => valid::CONNACK,
        (true, PacketType::PubAck | PacketType::PubRec) => valid::PUBACK,
        (true, PacketType::PubRel | PacketType::PubComp) => valid::PUBREL,
        (true, PacketType::SubAck) => valid::SUBACK,
        (true, PacketType::UnsubAck) => valid::UNSUBACK,
        (true, PacketType::Disconnect) => valid::DISCONNECT,
        (true, PacketType::Auth) => valid::AUTH,
        (false, PacketType::ConnAck) => valid::V3_CONNACK,
        (false, PacketType::SubAck) => valid::V3_SUBACK,
        _ => return None,
    })
}

/// Is `code` a failure in `protocol` (a 3.1.1 CONNACK fails with any code but 0)?
fn failure(protocol: Protocol, kind: PacketType, code: u8) -> bool {
    if !protocol.is_v5() && kind == PacketType::ConnAck {
        code != 0
    } else {
        code >= 0x80
    }
}

fn reason(p: &Packet<'_>, flip: bool) -> Option<Vec<u8>> {
    let table = table(p.protocol, p.kind)?;
    let field = p
        .field("Reason Code")
        .or_else(|| p.field("Connect Return Code"))
        .or_else(|| p.field("Return Code"));
    // The short forms of the 5.0 acknowledgements, DISCONNECT and AUTH leave out a success
    // code: it goes at the end.
    let (at, code) = match field {
        Some(f) => (f.offset, p.raw[f.offset]),
        None if p.protocol.is_v5() => (p.raw.len(), 0x00),
        None => return None,
    };
    let fails = failure(p.protocol, p.kind, code);
    let new = if flip {
        if fails {
            0x00
        } else {
            *table
                .iter()
                .find(|&&c| failure(p.protocol, p.kind, c) && c != 0x80)
                .or_else(|| table.iter().find(|&&c| failure(p.protocol, p.kind, c)))?
        }
    } else {
        let same: Vec<u8> = table
            .iter()
            .copied()
            .filter(|&c| failure(p.protocol, p.kind, c) == fails)
            .collect();
        let i = same.iter().position(|&c| c == code)?;
        let next = same[(i + 1) % same.len()];
        if next == code {
            return None;
        }
        next
    };
    let end = if field.is_some() { at + 1 } else { at };
    Some(p.splice(at, end, &[new], None))
}

fn properties(p: &Packet<'_>, op: Operator) -> Option<Vec<u8>> {
    if !p.protocol.is_v5() || matches!(p.kind, PacketType::PingReq | PacketType::PingResp) {
        return None;
    }
    let Some(i) = p.fields.iter().position(|f| f.name == "Properties Length") else {
        // A short form without a property section: only an addition can apply, after the
        // reason code (a success code when that was left out too).
        let mut tail = Vec::new();
        if p.field("Reason Code").is_none()
            && !matches!(
                p.kind,
                PacketType::PubAck
                    | PacketType::PubRec
                    | PacketType::PubRel
                    | PacketType::PubComp
                    | PacketType::Disconnect
                    | PacketType::Auth
            )
        {
            return None;
        }
        if p.field("Reason Code").is_none() {
            tail.push(0x00);
        }
        let prop = added(p.kind, op)?;
        write_varint(&mut tail, prop.len() as u32);
        tail.extend_from_slice(prop);
        let end = p.raw.len();
        return Some(p.splice(end, end, &tail, None));
    };
    let section = &p.fields[i];
    let props: Vec<&Field> = p.fields[i + 1..]
        .iter()
        .take_while(|f| f.depth > section.depth)
        .collect();
    let section_end = props
        .last()
        .map_or(section.offset + section.len, |f| f.offset + f.len);
    match op {
        Operator::PropAddUser | Operator::PropAddForeign => {
            let prop = added(p.kind, op)?;
            Some(p.splice(section_end, section_end, prop, Some(section)))
        }
        Operator::PropRemove => {
            let f = props.first()?;
            Some(p.splice(f.offset, f.offset + f.len, &[], Some(section)))
        }
        Operator::PropAlter => {
            let f = props.first()?;
            let end = f.offset + f.len;
            let last = [p.raw[end - 1] ^ 0x01];
            Some(p.splice(end - 1, end, &last, Some(section)))
        }
        Operator::PropDuplicate => {
            let f = props.first()?;
            let end = f.offset + f.len;
            let copy = p.raw[f.offset..end].to_vec();
            Some(p.splice(end, end, &copy, Some(section)))
        }
        _ => None,
    }
}

/// The property an addition puts in.
fn added(kind: PacketType, op: Operator) -> Option<&'static [u8]> {
    match op {
        Operator::PropAddUser => Some(USER_PROPERTY),
        // Maximum QoS belongs to CONNACK only; a Subscription Identifier never goes in one.
        Operator::PropAddForeign if kind == PacketType::ConnAck => Some(&[0x0B, 0x01]),
        Operator::PropAddForeign => Some(&[0x24, 0x01]),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use touchstone_codec::decode_slice;

    fn hex(s: &str) -> Vec<u8> {
        touchstone_codec::hex::decode(s).unwrap()
    }

    #[test]
    fn qos_down_drops_the_packet_identifier() {
        // 3.1.1 PUBLISH QoS 1 "a/b" id 5 payload "x".
        let raw = hex("32 08 0003 612f62 0005 78");
        let out = edit(Operator::QosDown, Protocol::V3_1_1, &raw).unwrap();
        assert_eq!(out, hex("30 06 0003 612f62 78"));
        assert!(decode_slice(Protocol::V3_1_1, &out).is_ok());
        let up = edit(Operator::QosUp, Protocol::V3_1_1, &out).unwrap();
        assert_eq!(up, hex("32 08 0003 612f62 7a7a 78"));
    }

    #[test]
    fn topic_edits_keep_the_framing() {
        let raw = hex("30 06 0003 612f62 78");
        let rename = edit(Operator::TopicRename, Protocol::V3_1_1, &raw).unwrap();
        assert_eq!(rename, hex("30 07 0004 612f626d 78"));
        let add = edit(Operator::TopicAddLevel, Protocol::V3_1_1, &raw).unwrap();
        assert_eq!(add, hex("30 08 0005 612f622f6d 78"));
        let drop = edit(Operator::TopicDropLevel, Protocol::V3_1_1, &raw).unwrap();
        assert_eq!(drop, hex("30 04 0001 61 78"));
        // SUBSCRIBE "a/#": a level goes before the `#`.
        let sub = hex("82 08 0001 0003 612f23 01");
        let add = edit(Operator::TopicAddLevel, Protocol::V3_1_1, &sub).unwrap();
        assert_eq!(add, hex("82 0a 0001 0005 612f6d2f23 01"));
    }

    #[test]
    fn property_edits_rewrite_the_property_length() {
        // 5.0 PUBACK id 1, reason 0x10, Reason String "r".
        let raw = hex("40 08 0001 10 04 1f 0001 72");
        let removed = edit(Operator::PropRemove, Protocol::V5, &raw).unwrap();
        assert_eq!(removed, hex("40 04 0001 10 00"));
        let dup = edit(Operator::PropDuplicate, Protocol::V5, &raw).unwrap();
        assert_eq!(dup, hex("40 0c 0001 10 08 1f0001 72 1f0001 72"));
        assert!(
            decode_slice(Protocol::V5, &dup).is_err(),
            "a Reason String twice"
        );
        // The short form gains a reason code and a section.
        let short = hex("40 02 0001");
        let user = edit(Operator::PropAddUser, Protocol::V5, &short).unwrap();
        assert!(decode_slice(Protocol::V5, &user).is_ok(), "{user:02x?}");
        let foreign = edit(Operator::PropAddForeign, Protocol::V5, &short).unwrap();
        assert!(decode_slice(Protocol::V5, &foreign).is_err());
    }

    #[test]
    fn reason_codes_stay_in_the_packets_table() {
        let connack = hex("20 03 00 00 00");
        let flip = edit(Operator::ReasonFlip, Protocol::V5, &connack).unwrap();
        assert_eq!(flip, hex("20 03 00 81 00"));
        let short_ack = hex("50 02 0001");
        let flip = edit(Operator::ReasonFlip, Protocol::V5, &short_ack).unwrap();
        assert_eq!(flip, hex("50 03 0001 83"));
        let other = edit(Operator::ReasonOther, Protocol::V5, &short_ack).unwrap();
        assert_eq!(other, hex("50 03 0001 10"));
        let v3 = hex("20 02 00 00");
        assert_eq!(
            edit(Operator::ReasonFlip, Protocol::V3_1_1, &v3).unwrap(),
            hex("20 02 00 01")
        );
        assert_eq!(edit(Operator::ReasonOther, Protocol::V3_1_1, &v3), None);
    }

    #[test]
    fn nothing_to_change_is_none() {
        let qos0 = hex("30 06 0003 612f62 78");
        assert_eq!(edit(Operator::PacketIdNext, Protocol::V3_1_1, &qos0), None);
        assert_eq!(edit(Operator::QosDown, Protocol::V3_1_1, &qos0), None);
        let one_level = hex("30 04 0001 61 78");
        assert_eq!(
            edit(Operator::TopicDropLevel, Protocol::V3_1_1, &one_level),
            None
        );
    }
}
