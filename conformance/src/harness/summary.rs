//! One-line summaries of packets for people: `PUBLISH q1 r id=3 "a/b" payload="v"`.

use std::fmt::Write;

use touchstone_codec::{Packet, ReasonCode, UserProperties};

/// How a payload or binary field is shown: as text when it is short printable UTF-8, as hex
/// otherwise, cut after 48 bytes.
pub fn bytes(b: &[u8]) -> String {
    const MAX: usize = 48;
    let shown = &b[..b.len().min(MAX)];
    let more = if b.len() > MAX {
        format!("…(+{} bytes)", b.len() - MAX)
    } else {
        String::new()
    };
    match std::str::from_utf8(shown) {
        Ok(s) if s.chars().all(|c| !c.is_control()) => format!("{s:?}{more}"),
        _ => format!("0x{}{more}", touchstone_codec::hex::encode(shown)),
    }
}

/// Spaced hex, cut after `max` bytes.
pub fn hex(b: &[u8], max: usize) -> String {
    let mut s = String::with_capacity(b.len().min(max) * 3);
    for (i, byte) in b.iter().take(max).enumerate() {
        if i > 0 {
            s.push(' ');
        }
        let _ = write!(s, "{byte:02x}");
    }
    if b.len() > max {
        let _ = write!(s, " …(+{} bytes)", b.len() - max);
    }
    s
}

/// A reason code as `0x87 Not authorized`.
pub fn reason(code: ReasonCode) -> String {
    format!("0x{:02X} {}", code.0, code.name())
}

/// A CONNACK code: the 3.1.1 names for 0x01 to 0x05 (which 5.0 CONNACKs never carry), the 5.0
/// names otherwise.
pub fn connack_code(code: ReasonCode) -> String {
    match code.v3_connack_name() {
        Some(v3) if code.0 != 0 => format!("0x{:02X} {v3}", code.0),
        _ => reason(code),
    }
}

fn user(props: &UserProperties, out: &mut String) {
    if props.is_empty() {
        return;
    }
    let pairs: Vec<String> = props.iter().map(|(k, v)| format!("{k:?}:{v:?}")).collect();
    let _ = write!(out, " user=[{}]", pairs.join(", "));
}

/// A one-line summary of `p`.
pub fn packet(p: &Packet) -> String {
    let mut s = String::from(p.packet_type().name());
    match p {
        Packet::Connect(c) => {
            let _ = write!(
                s,
                " client_id={:?} clean={} keep_alive={}",
                c.client_id.as_str(),
                u8::from(c.clean_start),
                c.keep_alive
            );
            if let Some(w) = &c.will {
                let _ = write!(
                    s,
                    " will=({:?} q{}{} {})",
                    w.topic.as_str(),
                    w.qos.as_u8(),
                    if w.retain { " r" } else { "" },
                    bytes(&w.payload)
                );
            }
            if let Some(u) = &c.username {
                let _ = write!(s, " user={:?}", u.as_str());
            }
            if c.password.is_some() {
                s.push_str(" password=…");
            }
            if let Some(e) = c.properties.session_expiry_interval {
                let _ = write!(s, " session_expiry={e}");
            }
        }
        Packet::ConnAck(c) => {
            let _ = write!(
                s,
                " session_present={} {}",
                u8::from(c.session_present),
                connack_code(c.reason_code)
            );
            let pr = &c.properties;
            if let Some(v) = pr.maximum_qos {
                let _ = write!(s, " max_qos={}", v.as_u8());
            }
            if let Some(v) = pr.retain_available {
                let _ = write!(s, " retain_available={}", u8::from(v));
            }
            if let Some(v) = pr.server_keep_alive {
                let _ = write!(s, " server_keep_alive={v}");
            }
            if let Some(v) = &pr.assigned_client_identifier {
                let _ = write!(s, " assigned_id={:?}", v.as_str());
            }
            if let Some(v) = &pr.reason_string {
                let _ = write!(s, " reason_string={:?}", v.as_str());
            }
        }
        Packet::Publish(m) => {
            let _ = write!(s, " q{}", m.qos.as_u8());
            if m.retain {
                s.push_str(" retain");
            }
            if m.dup {
                s.push_str(" dup");
            }
            if let Some(id) = m.packet_id {
                let _ = write!(s, " id={id}");
            }
            let _ = write!(s, " {:?} payload={}", m.topic.as_str(), bytes(&m.payload));
            let pr = &m.properties;
            if let Some(a) = pr.topic_alias {
                let _ = write!(s, " alias={a}");
            }
            if let Some(e) = pr.message_expiry_interval {
                let _ = write!(s, " expiry={e}");
            }
            if !pr.subscription_identifiers.is_empty() {
                let _ = write!(s, " sub_ids={:?}", pr.subscription_identifiers);
            }
            user(&pr.user_properties, &mut s);
        }
        Packet::PubAck(a) => {
            let _ = write!(s, " id={} {}", a.packet_id, reason(a.reason_code));
        }
        Packet::PubRec(a) => {
            let _ = write!(s, " id={} {}", a.packet_id, reason(a.reason_code));
        }
        Packet::PubRel(a) => {
            let _ = write!(s, " id={} {}", a.packet_id, reason(a.reason_code));
        }
        Packet::PubComp(a) => {
            let _ = write!(s, " id={} {}", a.packet_id, reason(a.reason_code));
        }
        Packet::Subscribe(sub) => {
            let _ = write!(s, " id={}", sub.packet_id);
            for f in &sub.filters {
                let _ = write!(s, " {:?}@q{}", f.filter.as_str(), f.options.qos.as_u8());
            }
        }
        Packet::SubAck(a) => {
            let codes: Vec<String> = a
                .reason_codes
                .iter()
                .map(|c| format!("0x{:02X}", c.0))
                .collect();
            let _ = write!(s, " id={} codes=[{}]", a.packet_id, codes.join(", "));
        }
        Packet::Unsubscribe(u) => {
            let _ = write!(s, " id={}", u.packet_id);
            for f in &u.filters {
                let _ = write!(s, " {:?}", f.as_str());
            }
        }
        Packet::UnsubAck(a) => {
            let _ = write!(s, " id={}", a.packet_id);
            if !a.reason_codes.is_empty() {
                let codes: Vec<String> = a
                    .reason_codes
                    .iter()
                    .map(|c| format!("0x{:02X}", c.0))
                    .collect();
                let _ = write!(s, " codes=[{}]", codes.join(", "));
            }
        }
        Packet::PingReq | Packet::PingResp => {}
        Packet::Disconnect(d) => {
            let _ = write!(s, " {}", reason(d.reason_code));
            if let Some(r) = &d.properties.reason_string {
                let _ = write!(s, " reason_string={:?}", r.as_str());
            }
        }
        Packet::Auth(a) => {
            let _ = write!(s, " {}", reason(a.reason_code));
        }
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use touchstone_codec::{Publish, QoS};

    #[test]
    fn publish_summary() {
        let mut p = Publish::new("a/b", "v");
        p.qos = QoS::AtLeastOnce;
        p.retain = true;
        p.packet_id = std::num::NonZeroU16::new(3);
        assert_eq!(
            packet(&Packet::Publish(p)),
            r#"PUBLISH q1 retain id=3 "a/b" payload="v""#
        );
    }

    #[test]
    fn binary_and_long_payloads() {
        assert_eq!(bytes(&[0, 1]), "0x0001");
        assert!(bytes(&[b'x'; 60]).ends_with("…(+12 bytes)"));
        assert_eq!(hex(&[1, 2, 3], 2), "01 02 …(+1 bytes)");
    }
}
