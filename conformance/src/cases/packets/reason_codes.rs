//! Reason codes (5.0) and return codes (3.1.1): every code a server sends is one its packet
//! allows. The strict decoder already refuses a code outside the packet's table in every case
//! (the failure cites the table's statement); this area provokes each packet that carries one,
//! with the codes a server is most likely to choose, and judges each against its table.

use std::collections::BTreeMap;

use touchstone_codec::reason::valid;

use crate::cases::prelude::*;

pub(crate) const CASES: &[Case] = &[PROVOKED];

/// Each packet with a reason code, provoked, and its code judged against its table.
const PROVOKED: Case = Case {
    id: "reason-codes.provoked-codes-allowed",
    title: "CONNACK, PUBACK, PUBREC, PUBREL, PUBCOMP, SUBACK, UNSUBACK and DISCONNECT from the server carry only codes their packet allows",
    protocols: BOTH,
    statements: &[
        v311("MQTT-3.9.3-2"),
        v5("MQTT-3.2.2-8"),
        v5("MQTT-3.4.2-1"),
        v5("MQTT-3.5.2-1"),
        v5("MQTT-3.6.2-1"),
        v5("MQTT-3.7.2-1"),
        v5("MQTT-3.9.3-2"),
        v5("MQTT-3.11.3-2"),
        v5("MQTT-3.14.2-1"),
    ],
    requires: &[Qos1, Qos2],
    body: |t| Box::pin(provoked(t)),
};

/// The table of `packet` for the version running, and the statement that fixes it (none for
/// 3.1.1 CONNACK, whose table is not a numbered statement).
fn table(t: &Test, packet: &str) -> Option<(&'static [u8], Option<touchstone_codec::Statement>)> {
    if !t.is_v5() {
        return match packet {
            "CONNACK" => Some((valid::V3_CONNACK, None)),
            "SUBACK" => Some((valid::V3_SUBACK, Some(v311("MQTT-3.9.3-2")))),
            _ => None,
        };
    }
    Some(match packet {
        "CONNACK" => (valid::CONNACK, Some(v5("MQTT-3.2.2-8"))),
        "PUBACK" => (valid::PUBACK, Some(v5("MQTT-3.4.2-1"))),
        "PUBREC" => (valid::PUBACK, Some(v5("MQTT-3.5.2-1"))),
        "PUBREL" => (valid::PUBREL, Some(v5("MQTT-3.6.2-1"))),
        "PUBCOMP" => (valid::PUBREL, Some(v5("MQTT-3.7.2-1"))),
        "SUBACK" => (valid::SUBACK, Some(v5("MQTT-3.9.3-2"))),
        "UNSUBACK" => (valid::UNSUBACK, Some(v5("MQTT-3.11.3-2"))),
        "DISCONNECT" => (valid::DISCONNECT, Some(v5("MQTT-3.14.2-1"))),
        _ => return None,
    })
}

/// The packet's name and its reason codes (none for packets without one).
fn codes_of(p: &Packet) -> Option<(&'static str, Vec<u8>)> {
    Some(match p {
        Packet::ConnAck(a) => ("CONNACK", vec![a.reason_code.0]),
        Packet::PubAck(a) => ("PUBACK", vec![a.reason_code.0]),
        Packet::PubRec(a) => ("PUBREC", vec![a.reason_code.0]),
        Packet::PubRel(a) => ("PUBREL", vec![a.reason_code.0]),
        Packet::PubComp(a) => ("PUBCOMP", vec![a.reason_code.0]),
        Packet::SubAck(a) => ("SUBACK", a.reason_codes.iter().map(|c| c.0).collect()),
        Packet::UnsubAck(a) => ("UNSUBACK", a.reason_codes.iter().map(|c| c.0).collect()),
        Packet::Disconnect(d) => ("DISCONNECT", vec![d.reason_code.0]),
        _ => return None,
    })
}

/// Records the codes of `p` and fails if its table does not allow one.
fn judge(t: &Test, seen: &mut BTreeMap<&'static str, Vec<u8>>, p: &Packet) -> Verdict {
    let Some((name, codes)) = codes_of(p) else {
        return Ok(());
    };
    let entry = seen.entry(name).or_default();
    for c in codes {
        if !entry.contains(&c) {
            entry.push(c);
        }
        if let Some((allowed, statement)) = table(t, name) {
            if !allowed.contains(&c) {
                return Err(CaseError::fail(
                    format!("a {name} code of its table"),
                    format!("{} with code 0x{c:02X}", summary::packet(p)),
                )
                .because(&statement.into_iter().collect::<Vec<_>>()));
            }
        }
    }
    Ok(())
}

async fn provoked(t: &mut Test) -> Verdict {
    let mut seen: BTreeMap<&'static str, Vec<u8>> = BTreeMap::new();
    let topic = t.topic("x");
    let nobody = t.topic("nobody");
    let mut c = t.client("c").connect().await?;
    if let Some(a) = c.connack() {
        judge(t, &mut seen, &Packet::ConnAck(Box::new(a.clone())))?;
    }
    // SUBACK: QoS 0, 1 and 2 asked.
    let ack = c
        .subscribe(&topic, Q0)
        .also(&t.topic("y"), Q1)
        .also(&t.topic("z"), Q2)
        .suback()
        .await?;
    // A server may refuse any subscription (section 3.9.3): then no delivery is provoked.
    let delivery = ack.reason_codes.get(2).is_some_and(|c| c.is_success());
    judge(t, &mut seen, &Packet::SubAck(ack))?;
    // UNSUBACK for a subscription that exists and one that never did.
    c.unsubscribe(&t.topic("y"))
        .also(&t.topic("never"))
        .send()
        .await?;
    let p = c.next_packet(t.timeout()).await?;
    judge_opt(t, &mut seen, p.as_ref())?;
    // PUBACK, and PUBREC / PUBCOMP, for messages nobody receives (5.0 may say 0x10).
    c.publish(&nobody).qos(Q1).payload("1").send().await?;
    let p = c.next_packet(t.timeout()).await?;
    judge_opt(t, &mut seen, p.as_ref())?;
    let id = c.publish(&nobody).qos(Q2).payload("2").send().await?;
    let p = c.next_packet(t.timeout()).await?;
    judge_opt(t, &mut seen, p.as_ref())?;
    if let Some(id) = id {
        c.send(Packet::PubRel(touchstone_codec::PubRel::new(id))).await?;
        let p = c.next_packet(t.timeout()).await?;
        judge_opt(t, &mut seen, p.as_ref())?;
    }
    // A server's QoS 2 delivery: its PUBLISH, then its PUBREL after our PUBREC.
    let mut publ = t.client("pub").connect().await?;
    publ.publish(&t.topic("z")).qos(Q2).payload("q2").acked().await?;
    if !delivery {
        t.observe("the server refused the subscription, so no PUBLISH or PUBREL of its own was provoked");
    } else {
        let m = c.expect(publish(t.topic("z"))).await?;
        match (m.qos, m.packet_id) {
            (Q2, Some(id)) => {
                c.send(Packet::PubRec(touchstone_codec::PubRec::new(id))).await?;
                let p = c.next_packet(t.timeout()).await?;
                judge_opt(t, &mut seen, p.as_ref())?;
                c.send(Packet::PubComp(touchstone_codec::PubComp::new(id))).await?;
            }
            _ => c.ack(&m).await?,
        }
    }
    publ.disconnect().await?;
    // PUBCOMP for a PUBREL of an unknown packet id (5.0: 0x92 likely; closing is allowed).
    if t.is_v5() {
        let unknown = PacketId::new(4242).unwrap_or(PacketId::MIN);
        c.send(Packet::PubRel(touchstone_codec::PubRel::new(unknown))).await?;
        let p = c.next_packet(t.timeout()).await?;
        judge_opt(t, &mut seen, p.as_ref())?;
    }
    // DISCONNECT from the server: a second CONNECT is a Protocol Error.
    if !c.is_closed() {
        let again = t.client("c").connect_packet();
        c.send_unchecked(Packet::Connect(Box::new(again))).await?;
        let p = c.next_packet(t.timeout()).await?;
        judge_opt(t, &mut seen, p.as_ref())?;
    }
    t.observe(format!(
        "codes seen: {}",
        seen.iter()
            .map(|(k, v)| if v.is_empty() {
                format!("{k} (no code)")
            } else {
                format!(
                    "{k} {}",
                    v.iter().map(|c| format!("0x{c:02X}")).collect::<Vec<_>>().join("/")
                )
            })
            .collect::<Vec<_>>()
            .join(", ")
    ));
    Ok(())
}

fn judge_opt(t: &Test, seen: &mut BTreeMap<&'static str, Vec<u8>>, p: Option<&Packet>) -> Verdict {
    match p {
        Some(p) => judge(t, seen, p),
        None => Ok(()),
    }
}
