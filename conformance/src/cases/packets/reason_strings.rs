//! 5.0 Reason String and User Property left out when they would push a packet over the
//! receiver's Maximum Packet Size. Each case connects with a small Maximum Packet Size and
//! provokes packets whose failure codes make a Reason String likely (no matching subscribers,
//! packet identifier not found, no subscription existed, protocol error), then checks every
//! packet fits. A server that never sends Reason Strings passes, which the spec allows.

use touchstone_codec::Statement;
use crate::harness::client::Client;
use crate::cases::prelude::*;

pub(crate) const CASES: &[Case] = &[
    CONNACK,
    PUBLISH_ACKS,
    SUBSCRIBE_ACKS,
    DISCONNECT,
    AUTH,
];

/// The Maximum Packet Size the cases announce: room for every packet's required content, not
/// for a long Reason String.
const SMALL: u32 = 160;

/// Fails unless `p` fits in `max` bytes, citing `cite`; records whether problem information
/// came.
fn fits(t: &Test, p: &Packet, max: u32, cite: &[Statement]) -> Verdict {
    let n = p.encoded_len(Protocol::V5);
    let described = summary::packet(p);
    t.observe(format!("{described}: {n} bytes"));
    check(
        n <= max as usize,
        format!(
            "{} of at most {max} bytes (the client's Maximum Packet Size), without the Reason String or User Property that would not fit",
            p.packet_type()
        ),
        || format!("{described} of {n} bytes"),
    )
    .map_err(|e| e.because(cite))
}

fn small(t: &Test, name: &str, max: u32) -> crate::harness::client::ClientBuilder {
    t.client(name)
        .properties(|p| p.maximum_packet_size = Some(max))
}

/// Every packet up to the close (or the deadline) must fit.
async fn all_fit_until_closed(t: &Test, c: &mut Client, max: u32, cite: &[Statement]) -> Verdict {
    loop {
        match c.next_packet(t.timeout()).await? {
            Some(p) => fits(t, &p, max, cite)?,
            None => return Ok(()),
        }
    }
}

fn is_accepting(p: &Packet) -> bool {
    matches!(p, Packet::ConnAck(a) if a.reason_code.is_success())
}

/// CONNACK, refusing and accepting, fits the client's Maximum Packet Size.
const CONNACK: Case = Case {
    id: "reason-strings.connack-fits-maximum-packet-size",
    title: "CONNACK (a refusal and an acceptance) leaves out Reason String and User Property beyond the client's Maximum Packet Size",
    protocols: V5,
    statements: &[v5("MQTT-3.2.2-19"), v5("MQTT-3.2.2-20")],
    requires: &[],
    body: |t| Box::pin(connack_fits(t)),
};

async fn connack_fits(t: &mut Test) -> Verdict {
    let cite = [v5("MQTT-3.2.2-19"), v5("MQTT-3.2.2-20")];
    // A refusal: an Authentication Method the server does not know (CONNACK 0x8C, 0x87, or
    // just the close).
    let mut c = small(t, "refused", 32)
        .properties(|p| p.authentication_method = Some("touchstone-no-such-method".into()))
        .send_connect()
        .await?;
    loop {
        match c.next_packet(t.timeout()).await? {
            Some(p @ Packet::ConnAck(_)) if is_accepting(&p) => {
                // The server accepted the unknown method (auth.unsupported-method-refused
                // judges that): the CONNACK must fit all the same; nothing more to see here.
                fits(t, &p, 32, &cite)?;
                t.observe("the server accepted a CONNECT with an unknown Authentication Method, so no refusal was seen");
                c.disconnect().await?;
                break;
            }
            Some(p) => fits(t, &p, 32, &cite)?,
            None => break,
        }
    }
    // An acceptance.
    let mut c = small(t, "accepted", SMALL).send_connect().await?;
    let ack = c.expect(connack().accepted()).await?;
    fits(t, &Packet::ConnAck(Box::new(ack)), SMALL, &cite)?;
    c.disconnect().await
}

/// PUBACK, PUBREC, PUBREL and PUBCOMP fit.
const PUBLISH_ACKS: Case = Case {
    id: "reason-strings.publish-acks-fit-maximum-packet-size",
    title: "PUBACK, PUBREC, PUBREL and PUBCOMP leave out Reason String and User Property beyond the client's Maximum Packet Size",
    protocols: V5,
    statements: &[
        v5("MQTT-3.4.2-2"),
        v5("MQTT-3.4.2-3"),
        v5("MQTT-3.5.2-2"),
        v5("MQTT-3.5.2-3"),
        v5("MQTT-3.6.2-2"),
        v5("MQTT-3.6.2-3"),
        v5("MQTT-3.7.2-2"),
        v5("MQTT-3.7.2-3"),
    ],
    requires: &[Qos1, Qos2],
    body: |t| Box::pin(publish_acks_fit(t)),
};

async fn publish_acks_fit(t: &mut Test) -> Verdict {
    let puback_cite = [v5("MQTT-3.4.2-2"), v5("MQTT-3.4.2-3")];
    let pubrec_cite = [v5("MQTT-3.5.2-2"), v5("MQTT-3.5.2-3")];
    let pubrel_cite = [v5("MQTT-3.6.2-2"), v5("MQTT-3.6.2-3")];
    let pubcomp_cite = [v5("MQTT-3.7.2-2"), v5("MQTT-3.7.2-3")];
    let lonely = t.topic("nobody-listens");
    let mut c = small(t, "c", SMALL).connect().await?;
    // QoS 1 with no subscribers: PUBACK 0x00 or 0x10 (No matching subscribers).
    let id = c.publish(&lonely).qos(Q1).payload("x").send().await?;
    let id = id.ok_or_else(|| CaseError::Error("QoS 1 PUBLISH without packet id".into()))?;
    let ack = c.expect(puback(id)).await?;
    fits(t, &Packet::PubAck(ack), SMALL, &puback_cite)?;
    // QoS 2 with no subscribers: PUBREC, then PUBCOMP.
    let id = c.publish(&lonely).qos(Q2).payload("x").send().await?;
    let id = id.ok_or_else(|| CaseError::Error("QoS 2 PUBLISH without packet id".into()))?;
    let rec = c.expect(pubrec(id)).await?;
    fits(t, &Packet::PubRec(rec), SMALL, &pubrec_cite)?;
    c.send(Packet::PubRel(touchstone_codec::PubRel::new(id)))
        .await?;
    let comp = c.expect(pubcomp(id)).await?;
    fits(t, &Packet::PubComp(comp), SMALL, &pubcomp_cite)?;
    // The server's PUBREL: a QoS 2 message to the client itself.
    let topic = t.topic("q2");
    let granted = c.subscribe(&topic, Q2).granted().await?;
    need_granted(&granted, Q2)?;
    c.publish(&topic).qos(Q2).payload("y").acked().await?;
    let m = c.expect(publish(&topic).qos(Q2)).await?;
    let Some(id) = m.packet_id else {
        return Err(CaseError::fail(
            "a packet identifier",
            summary::packet(&Packet::Publish(m)),
        ));
    };
    c.send(Packet::PubRec(touchstone_codec::PubRec::new(id)))
        .await?;
    let rel = c.expect(pubrel(id)).await?;
    fits(t, &Packet::PubRel(rel), SMALL, &pubrel_cite)?;
    c.send(Packet::PubComp(touchstone_codec::PubComp::new(id)))
        .await?;
    // Last, as a server may close the connection on it: PUBREL for an identifier the server
    // does not hold. PUBCOMP 0x92 (Packet Identifier not found) is likely;
    // qos.pubrel-unknown-id-answered judges a server that closes the connection instead.
    let unknown = PacketId::new(4242).unwrap_or(PacketId::MIN);
    c.send(Packet::PubRel(touchstone_codec::PubRel::new(unknown)))
        .await?;
    if !c.arrives(&pubcomp(unknown), t.timeout()).await? && c.is_closed() {
        t.observe("the server closed the connection on a PUBREL for an unknown packet id, so no PUBCOMP 0x92 was seen");
        return Ok(());
    }
    // Already there, or already waited for: no second wait.
    let comp = c.expect(pubcomp(unknown)).within(Duration::ZERO).await?;
    fits(t, &Packet::PubComp(comp), SMALL, &pubcomp_cite)?;
    c.disconnect().await
}

/// SUBACK and UNSUBACK fit.
const SUBSCRIBE_ACKS: Case = Case {
    id: "reason-strings.subscribe-acks-fit-maximum-packet-size",
    title: "SUBACK and UNSUBACK (No subscription existed) leave out Reason String and User Property beyond the client's Maximum Packet Size",
    protocols: V5,
    statements: &[
        v5("MQTT-3.9.2-1"),
        v5("MQTT-3.9.2-2"),
        v5("MQTT-3.11.2-1"),
        v5("MQTT-3.11.2-2"),
    ],
    requires: &[],
    body: |t| Box::pin(subscribe_acks_fit(t)),
};

async fn subscribe_acks_fit(t: &mut Test) -> Verdict {
    let mut c = small(t, "c", SMALL).connect().await?;
    let ack = c.subscribe(&t.topic("s"), Q1).suback().await?;
    fits(
        t,
        &Packet::SubAck(ack),
        SMALL,
        &[v5("MQTT-3.9.2-1"), v5("MQTT-3.9.2-2")],
    )?;
    // A filter never subscribed: UNSUBACK 0x11 (No subscription existed) is likely.
    let id = c.unsubscribe(&t.topic("never")).send().await?;
    let ack = c.expect(unsuback(id)).await?;
    fits(
        t,
        &Packet::UnsubAck(ack),
        SMALL,
        &[v5("MQTT-3.11.2-1"), v5("MQTT-3.11.2-2")],
    )?;
    c.disconnect().await
}

/// The server's DISCONNECT fits.
const DISCONNECT: Case = Case {
    id: "reason-strings.disconnect-fits-maximum-packet-size",
    title: "The server's DISCONNECT after a Protocol Error leaves out Reason String and User Property beyond the client's Maximum Packet Size",
    protocols: V5,
    statements: &[v5("MQTT-3.14.2-3"), v5("MQTT-3.14.2-4")],
    requires: &[],
    body: |t| Box::pin(disconnect_fits(t)),
};

async fn disconnect_fits(t: &mut Test) -> Verdict {
    let mut c = small(t, "c", SMALL).connect().await?;
    c.ping().await?;
    // PUBLISH with Topic Alias 0: a Protocol Error (5.0 [MQTT-3.3.2-8]); DISCONNECT 0x94 is
    // likely before the close.
    let topic = t.topic("a");
    let bad = Frame::new(0x30)
        .string(&topic)
        .varint(3)
        .u8(0x23)
        .u16(0)
        .bytes(b"x");
    c.send_raw(bad.to_bytes()).await?;
    all_fit_until_closed(
        t,
        &mut c,
        SMALL,
        &[v5("MQTT-3.14.2-3"), v5("MQTT-3.14.2-4")],
    )
    .await
}

/// The server's AUTH fits.
const AUTH: Case = Case {
    id: "reason-strings.auth-fits-maximum-packet-size",
    title: "The server's AUTH (SCRAM-SHA-256) leaves out Reason String and User Property beyond the client's Maximum Packet Size",
    protocols: V5,
    statements: &[v5("MQTT-3.15.2-2"), v5("MQTT-3.15.2-3")],
    requires: &[EnhancedAuth],
    body: |t| Box::pin(auth_fits(t)),
};

async fn auth_fits(t: &mut Test) -> Verdict {
    // Room for the server-first message, not for a long Reason String.
    const MAX: u32 = 256;
    let cite = [v5("MQTT-3.15.2-2"), v5("MQTT-3.15.2-3")];
    let user = t
        .shared
        .run
        .credentials
        .username
        .clone()
        .unwrap_or_default();
    let scram =
        touchstone_sasl::scram::ScramClient::new(&user, "whatever", "tsnonce1212121212");
    let first = Bytes::from(scram.client_first());
    let mut c = t
        .client("c")
        .auth_listener()
        .no_credentials()
        .properties(|p| {
            p.maximum_packet_size = Some(MAX);
            p.authentication_method = Some("SCRAM-SHA-256".into());
            p.authentication_data = Some(first);
        })
        .send_connect()
        .await?;
    match c.next_packet(t.timeout()).await? {
        Some(p @ Packet::Auth(_)) => fits(t, &p, MAX, &cite)?,
        Some(other) => return Err(CaseError::fail("AUTH", summary::packet(&other))),
        None => return Err(CaseError::fail("AUTH", "the connection closed")),
    }
    c.close().await;
    Ok(())
}
