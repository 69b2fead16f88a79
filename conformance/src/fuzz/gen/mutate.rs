//! Field-level mutations of a generated packet script: flag bits, lengths, property lists,
//! strings, packet ids, and whole packets dropped, repeated or swapped.

use bytes::BytesMut;
use touchstone_codec::hex::encode as hex;

use super::{Field, Length, Pkt};
use crate::fuzz::rng::Rng;

/// Applies one field-level mutation to one packet of a client's script (or to the script).
pub(super) fn mutate(r: &mut Rng, v5: bool, pkts: &mut Vec<Pkt>) {
    let i = r.below(pkts.len());
    match r.below(16) {
        // Reserved / flag bits of the fixed header.
        0 => {
            let p = &mut pkts[i];
            let bit = 1u8 << r.below(4);
            p.first ^= bit;
            p.label += &format!(" [first byte ^ {bit:#04x}]");
        }
        // PUBLISH QoS 3, or DUP on QoS 0.
        1 => {
            let Some(p) = pkts.iter_mut().find(|p| p.first >> 4 == 3) else {
                return;
            };
            if r.chance(1, 2) {
                p.first |= 0x06;
                p.label += " [QoS 3]";
            } else {
                p.first = (p.first & 0xF9) | 0x08;
                p.label += " [DUP on QoS 0]";
            }
        }
        // Remaining Length too long or too short.
        2 => {
            let p = &mut pkts[i];
            let d = *r.pick(&[-3i64, -2, -1, 1, 2, 100]);
            p.length = Length::Delta(d);
            p.label += &format!(" [Remaining Length {d:+}]");
        }
        // Non-minimal or over-long Remaining Length.
        3 => {
            let p = &mut pkts[i];
            let len = p.encode().len().saturating_sub(2) as u32; // close enough to choose a form
            let bytes = match r.below(3) {
                0 => vec![(len as u8 & 0x7F) | 0x80, 0x00],
                1 => vec![(len as u8 & 0x7F) | 0x80, 0x80, 0x80, 0x00],
                _ => vec![0xFF, 0xFF, 0xFF, 0xFF, 0x7F],
            };
            p.label += &format!(" [Remaining Length bytes {}]", hex(&bytes));
            // Keep the value right when the form allows it.
            let mut body = BytesMut::new();
            for f in &p.fields {
                f.write(&mut body);
            }
            let mut b = bytes;
            if b.len() < 5 {
                b[0] = (body.len() as u8 & 0x7F) | 0x80;
                if body.len() >= 128 {
                    b = vec![0xFF, 0xFF, 0xFF, 0xFF, 0x7F];
                }
            }
            p.length = Length::Bytes(b);
        }
        // Inner length prefix of a string / binary / property list.
        4 => {
            let p = &mut pkts[i];
            let Some(f) = pick_field(r, p, |f| {
                matches!(f, Field::Str(..) | Field::Bin(..) | Field::Props(..))
            }) else {
                return;
            };
            match f {
                Field::Str(b, len) | Field::Bin(b, len) => {
                    let n = b.len() as u16;
                    *len = Some(*r.pick(&[n.wrapping_add(1), n.wrapping_sub(1), 0xFFFF, n + 7]));
                }
                Field::Props(_, len) => *len = Some(*r.pick(&[0, 1, 200, 268_435_455])),
                _ => {}
            }
            p.label += " [inner length wrong]";
        }
        // Property duplication, unknown property, order.
        5 if v5 => {
            let p = &mut pkts[i];
            let Some(Field::Props(props, _)) = pick_field(r, p, |f| matches!(f, Field::Props(..)))
            else {
                return;
            };
            match r.below(3) {
                0 if !props.is_empty() => {
                    let k = r.below(props.len());
                    let dup = props[k].clone();
                    props.push(dup);
                    p.label += " [property repeated]";
                }
                1 => {
                    props.insert(0, (*r.pick(&[0x00, 0x04, 0x2B, 0x7F]), Field::U8(1)));
                    p.label += " [unknown property]";
                }
                _ => {
                    props.reverse();
                    p.label += " [properties reversed]";
                }
            }
        }
        // Boundary values: Two/Four Byte Integers and Variable Byte Integers.
        5..=6 => {
            let p = &mut pkts[i];
            let Some(f) = pick_field(r, p, |f| {
                matches!(
                    f,
                    Field::U16(_) | Field::U32(_) | Field::Varint(..) | Field::U8(_)
                )
            }) else {
                return;
            };
            match f {
                Field::U16(v) => *v = *r.pick(&[0, 1, 0xFFFF]),
                Field::U32(v) => *v = *r.pick(&[0, 1, 0xFFFF_FFFF, 0x8000_0000]),
                Field::Varint(v, enc) => {
                    if r.chance(1, 2) {
                        *v = *r.pick(&[0, 268_435_455]);
                    } else {
                        *enc = Some(vec![0xFF, 0xFF, 0xFF, 0xFF, 0x01]);
                    }
                }
                Field::U8(v) => *v = *r.pick(&[0, 0xFF, 3, 0x80, 0xC0]),
                _ => {}
            }
            p.label += " [boundary value]";
        }
        // Invalid UTF-8 and U+0000 in a string.
        7 => {
            let p = &mut pkts[i];
            let Some(Field::Str(b, _)) = pick_field(r, p, |f| matches!(f, Field::Str(..))) else {
                return;
            };
            let bad: &[u8] = r.pick::<&[u8]>(&[
                &[0x00u8][..],
                &[0xFF][..],
                &[0xC0, 0x80][..],
                &[0xED, 0xA0, 0x80][..],
                &[0xE2, 0x82][..],
            ]);
            let at = r.below(b.len() + 1);
            b.splice(at..at, bad.iter().copied());
            p.label += &format!(" [string with {}]", hex(bad));
        }
        // Wildcards in a topic name.
        8 => {
            let Some(p) = pkts.iter_mut().find(|p| p.first >> 4 == 3) else {
                return;
            };
            if let Some(Field::Str(b, _)) = p.fields.first_mut() {
                let w: &[u8] = r.pick::<&[u8]>(&[b"/+", b"/#", b"+"]);
                b.extend_from_slice(w);
                p.label += " [wildcard in Topic Name]";
            }
        }
        // Invalid topic filter.
        9 => {
            let Some(p) = pkts.iter_mut().find(|p| p.first >> 4 == 8) else {
                return;
            };
            let Some(Field::Str(b, _)) = p.fields.iter_mut().find(|f| matches!(f, Field::Str(..)))
            else {
                return;
            };
            let bad = *r.pick(&[&b"a/#/b"[..], &b"a+"[..], &b""[..], &b"#x"[..]]);
            *b = bad.to_vec();
            p.label += &format!(" [filter {:?}]", String::from_utf8_lossy(bad));
        }
        // Wrong state: CONNECT twice.
        10 if pkts.len() > 1 => {
            let c = pkts[0].clone();
            let at = 1 + r.below(pkts.len() - 1);
            pkts.insert(at, c);
            pkts[at].label += " [second CONNECT]";
        }
        // Wrong state: a packet before CONNECT.
        11 if pkts.len() > 1 => {
            let k = 1 + r.below(pkts.len() - 1);
            pkts.swap(0, k);
            pkts[0].label += " [before CONNECT]";
        }
        // Truncation (at the end of what the client sends).
        12 => {
            let p = pkts.last_mut().expect("a script has packets");
            let n = p.encode().len();
            if n > 1 {
                p.truncate = 1 + r.below(n - 1);
                p.label += &format!(" [last {} bytes cut]", p.truncate);
            }
        }
        // A field dropped or junk appended.
        13 => {
            let p = &mut pkts[i];
            if !p.fields.is_empty() && r.chance(1, 2) {
                let k = r.below(p.fields.len());
                if matches!(p.fields[k], Field::Fixed(_)) {
                    return;
                }
                p.fields.remove(k);
                p.label += " [a field left out]";
            } else {
                p.fields.push(Field::Raw(vec![r.byte(); 1 + r.below(3)]));
                p.label += " [junk appended]";
            }
        }
        // Reserved packet type 0, or AUTH in 3.1.1 (type 15 is reserved there).
        14 => {
            let p = &mut pkts[i];
            p.first = if v5 { 0x00 } else { 0xF0 };
            p.label += " [reserved packet type]";
        }
        // Subscription options reserved bits / Retain Handling 3 / QoS 3.
        _ => {
            let Some(p) = pkts.iter_mut().find(|p| p.first >> 4 == 8) else {
                return;
            };
            if let Some(Field::U8(o)) = p
                .fields
                .iter_mut()
                .rev()
                .find(|f| matches!(f, Field::U8(_)))
            {
                *o |= *r.pick(&[0x03, 0x30, 0x40, 0xC0]);
                p.label += &format!(" [subscription options {o:#04x}]");
            }
        }
    }
}

fn pick_field<'a>(
    r: &mut Rng,
    p: &'a mut Pkt,
    want: impl Fn(&Field) -> bool,
) -> Option<&'a mut Field> {
    // Property values count too.
    let mut paths: Vec<(usize, Option<usize>)> = Vec::new();
    for (i, f) in p.fields.iter().enumerate() {
        if want(f) {
            paths.push((i, None));
        }
        if let Field::Props(props, _) = f {
            for (k, (_, v)) in props.iter().enumerate() {
                if want(v) {
                    paths.push((i, Some(k)));
                }
            }
        }
    }
    if paths.is_empty() {
        return None;
    }
    let (i, k) = *r.pick(&paths);
    match k {
        None => p.fields.get_mut(i),
        Some(k) => match p.fields.get_mut(i) {
            Some(Field::Props(props, _)) => props.get_mut(k).map(|(_, v)| v),
            _ => None,
        },
    }
}
