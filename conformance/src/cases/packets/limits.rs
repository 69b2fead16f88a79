//! 5.0 limits negotiated in CONNECT and CONNACK: Maximum Packet Size both ways, Maximum QoS,
//! Retain Available, Request Response Information.

use crate::cases::prelude::*;

pub(crate) const CASES: &[Case] = &[
    CLIENT_MAXIMUM_PACKET_SIZE,
    SERVER_MAXIMUM_PACKET_SIZE,
    NO_RESPONSE_INFORMATION,
    NO_PROBLEM_INFORMATION,
    PUBLISH_ABOVE_MAXIMUM_QOS,
    WILL_ABOVE_MAXIMUM_QOS,
    RETAINED_PUBLISH_REFUSED,
    RETAINED_WILL_REFUSED,
];

/// The client's Maximum Packet Size in CONNECT, small enough for the control message only.
const CLIENT_MAX: u32 = 128;

/// A message too large for the subscriber's Maximum Packet Size is not sent to it (dropped as
/// if delivered); a smaller message after it arrives.
const CLIENT_MAXIMUM_PACKET_SIZE: Case = Case {
    id: "limits.client-maximum-packet-size-respected",
    title: "The server never sends a packet larger than the client's Maximum Packet Size and drops such a message",
    protocols: V5,
    statements: &[v5("MQTT-3.1.2-24"), v5("MQTT-3.1.2-25")],
    requires: &[Qos1],
    body: |t| Box::pin(client_maximum_packet_size(t)),
};

async fn client_maximum_packet_size(t: &mut Test) -> Verdict {
    let topic = t.topic("big");
    let mut sub = t
        .client("sub")
        .properties(|p| p.maximum_packet_size = Some(CLIENT_MAX))
        .connect()
        .await?;
    let granted = sub.subscribe(&topic, Q1).granted().await?;
    need_granted(&granted, Q1)?;
    let mut publ = t.client("pub").connect().await?;
    // 300 bytes of payload: the PUBLISH is well over 128 bytes. A server whose own Maximum
    // Packet Size is smaller gets the largest PUBLISH it accepts (the test client must not
    // break 5.0 [MQTT-3.2.2-15] itself), as long as that is still over 128 bytes when
    // forwarded.
    let payload = large_payload(&topic, publ.connack().and_then(|a| a.properties.maximum_packet_size))?;
    publ.publish(&topic)
        .qos(Q1)
        .payload(vec![b'x'; payload])
        .acked()
        .await?;
    publ.publish(&topic)
        .qos(Q1)
        .payload("small")
        .acked()
        .await?;
    // The first PUBLISH that comes must be the small one: the large one was dropped, and
    // dropping it counts as delivered, so it does not hold back the next message.
    let m = sub
        .expect(
            publish(&topic).satisfies("the PUBLISH fits in 128 bytes", |m| {
                if m.payload.len() < 100 {
                    Ok(())
                } else {
                    Err(format!(
                        "a PUBLISH with {} bytes of payload",
                        m.payload.len()
                    ))
                }
            }),
        )
        .because(&[v5("MQTT-3.1.2-24")])
        .await?;
    if m.payload.as_ref() != b"small" {
        return Err(fail(
            "the message \"small\"",
            format!("payload {:?}", m.payload),
            &[v5("MQTT-3.1.2-25")],
        ));
    }
    sub.ack(&m).await?;
    sub.expect_no(any_publish(), t.quiet())
        .await
        .map_err(|e| e.because(&[v5("MQTT-3.1.2-24")]))?;
    Ok(())
}

/// The payload of the large message: 300 bytes, or less so that the QoS 1 PUBLISH carrying it
/// (no properties) fits `server_max`, but never so little that the forwarded PUBLISH (at least
/// the same topic and payload) could fit the client's 128 bytes.
fn large_payload(topic: &str, server_max: Option<u32>) -> Result<usize, CaseError> {
    const WANTED: usize = 300;
    // Topic length and name, packet id, Property Length (1 byte).
    let body = 2 + topic.len() + 2 + 1;
    // The fixed header: 1 byte, and 2 bytes of Remaining Length below 16,384.
    let overhead = 1 + 2 + body;
    let fits = server_max.map_or(WANTED, |m| (m as usize).saturating_sub(overhead).min(WANTED));
    // Forwarded, the PUBLISH holds at least the topic and the payload.
    if 2 + topic.len() + fits <= CLIENT_MAX as usize + 16 {
        return Err(skip(format!(
            "the server's Maximum Packet Size {} leaves no room for a PUBLISH over the client's {CLIENT_MAX} bytes",
            server_max.unwrap_or_default()
        )));
    }
    Ok(fits)
}

/// A PUBLISH larger than the server's Maximum Packet Size is a protocol error: DISCONNECT
/// 0x95 (or the close).
const SERVER_MAXIMUM_PACKET_SIZE: Case = Case {
    id: "limits.server-maximum-packet-size-enforced",
    title: "A packet larger than the server's Maximum Packet Size closes the connection",
    protocols: V5,
    statements: &[v5("MQTT-3.2.2-15")],
    requires: &[],
    body: |t| Box::pin(server_maximum_packet_size(t)),
};

async fn server_maximum_packet_size(t: &mut Test) -> Verdict {
    let topic = t.topic("big");
    let mut c = t.client("c").connect().await?;
    let Some(max) = c.connack().and_then(|a| a.properties.maximum_packet_size) else {
        return Err(skip(
            "the server advertises no Maximum Packet Size (no limit but the protocol's)",
        ));
    };
    if max > 64 * 1024 * 1024 {
        return Err(skip(format!(
            "the server's Maximum Packet Size {max} is too large to send cheaply"
        )));
    }
    // Fixed header (1 + up to 4 bytes), topic length and name, no properties (1 byte): the
    // payload makes the packet `max + 1` bytes or a little more.
    let payload = vec![b'x'; max as usize];
    let frame = Frame::new(0x30)
        .string(&topic)
        .u8(0)
        .bytes(&payload)
        .to_bytes();
    if c.send_raw(frame).await.is_err() {
        // The server closed the connection before the whole packet was written: it refused
        // the packet from its Remaining Length (allowed; nothing more to see).
        t.observe("the connection closed while the oversized PUBLISH was being written");
        return Ok(());
    }
    let closed = c
        .expect_closed()
        .within(t.timeout() + Duration::from_secs(2))
        .because(&[v5("MQTT-3.2.2-15")])
        .await?;
    note_disconnect_code(t, "c", closed.disconnect, &[ReasonCode::PACKET_TOO_LARGE], ERROR_CLOSE_SHOULD);
    Ok(())
}

/// Without Request Response Information the CONNACK carries no Response Information.
const NO_RESPONSE_INFORMATION: Case = Case {
    id: "limits.no-response-information-unrequested",
    title: "CONNACK has no Response Information unless the client asked for it",
    protocols: V5,
    statements: &[v5("MQTT-3.1.2-28")],
    requires: &[],
    body: |t| Box::pin(no_response_information(t)),
};

async fn no_response_information(t: &mut Test) -> Verdict {
    for (label, request) in [("absent", None), ("zero", Some(false))] {
        let c = t
            .client(label)
            .properties(|p| p.request_response_information = request)
            .connect()
            .await?;
        if let Some(info) = c
            .connack()
            .and_then(|a| a.properties.response_information.clone())
        {
            return Err(fail(
                format!("no Response Information (Request Response Information {label})"),
                format!("Response Information {:?}", info.as_str()),
                &[v5("MQTT-3.1.2-28")],
            ));
        }
    }
    Ok(())
}

/// The server's Maximum QoS from a CONNACK, 2 when absent.
fn maximum_qos(c: &crate::harness::client::Client) -> QoS {
    c.connack()
        .and_then(|a| a.properties.maximum_qos)
        .unwrap_or(Q2)
}

/// A server with Maximum QoS below 2 still accepts SUBSCRIBE at any QoS, and answers a PUBLISH
/// above its Maximum QoS with DISCONNECT 0x9B.
const PUBLISH_ABOVE_MAXIMUM_QOS: Case = Case {
    id: "limits.publish-above-maximum-qos",
    title: "A server with Maximum QoS below 2 accepts SUBSCRIBE at any QoS and refuses a PUBLISH above it",
    protocols: V5,
    statements: &[v5("MQTT-3.2.2-10"), v5("MQTT-3.2.2-11")],
    requires: &[],
    body: |t| Box::pin(publish_above_maximum_qos(t)),
};

async fn publish_above_maximum_qos(t: &mut Test) -> Verdict {
    let topic = t.topic("q");
    let mut c = t.client("c").connect().await?;
    let max = maximum_qos(&c);
    if max == Q2 {
        return Err(skip(
            "the server supports QoS 2 (Maximum QoS absent): nothing is above its maximum",
        ));
    }
    t.observe(format!("the server advertises Maximum QoS {}", max.as_u8()));
    // SUBSCRIBE at QoS 0, 1 and 2 are all accepted (granted at most the maximum).
    // Checked here, not by the SUBSCRIBE helper: any code below 0x80 is an acceptance.
    let (id, _) = c
        .subscribe(&t.topic("s0"), Q0)
        .also(&t.topic("s1"), Q1)
        .also(&t.topic("s2"), Q2)
        .send()
        .await?;
    let ack = c.expect(suback(id)).because(&[v5("MQTT-3.2.2-10")]).await?;
    for code in &ack.reason_codes {
        if !code.is_success() || code.as_u8() > max.as_u8() {
            return Err(fail(
                format!("SUBACK granting QoS 0 to {} for each filter", max.as_u8()),
                format!("SUBACK {:?}", ack.reason_codes),
                &[v5("MQTT-3.2.2-10")],
            ));
        }
    }
    let above = if max == Q0 { Q1 } else { Q2 };
    c.publish(&topic)
        .qos(above)
        .payload("too high")
        .send()
        .await?;
    let closed = c.expect_closed().because(&[v5("MQTT-3.2.2-11")]).await?;
    note_disconnect_code(t, "c", closed.disconnect, &[ReasonCode::QOS_NOT_SUPPORTED], ERROR_CLOSE_SHOULD);
    Ok(())
}

/// A Will QoS above the server's Maximum QoS is refused (CONNACK 0x9B).
const WILL_ABOVE_MAXIMUM_QOS: Case = Case {
    id: "limits.will-above-maximum-qos-refused",
    title: "A Will QoS above the server's Maximum QoS is refused",
    protocols: V5,
    statements: &[v5("MQTT-3.2.2-12")],
    requires: &[],
    body: |t| Box::pin(will_above_maximum_qos(t)),
};

async fn will_above_maximum_qos(t: &mut Test) -> Verdict {
    let topic = t.topic("will");
    let probe = t.client("probe").connect().await?;
    let max = maximum_qos(&probe);
    drop(probe);
    if max == Q2 {
        return Err(skip(
            "the server supports QoS 2 (Maximum QoS absent): no Will QoS is above it",
        ));
    }
    let above = if max == Q0 { Q1 } else { Q2 };
    let mut c = t
        .client("w")
        .will(&topic, "w")
        .will_qos(above)
        .send_connect()
        .await?;
    let ack = c
        .expect(connack().refused())
        .because(&[v5("MQTT-3.2.2-12")])
        .await?;
    // 5.0 MQTT-3.2.2-12: the refusal and the close are MUSTs; the code is a SHOULD.
    note_connack_code(t, &ack, ReasonCode::QOS_NOT_SUPPORTED, "5.0 MQTT-3.2.2-12");
    c.expect_closed().because(&[v5("MQTT-3.2.2-12")]).await?;
    Ok(())
}

/// Skips unless the server's CONNACK says Retain Available 0.
fn need_retain_unavailable(c: &crate::harness::client::Client) -> Verdict {
    if c.connack()
        .and_then(|a| a.properties.retain_available)
        .unwrap_or(true)
    {
        return Err(skip("the server supports retained messages"));
    }
    Ok(())
}

/// A server without retained messages treats RETAIN=1 on a PUBLISH as a protocol error.
const RETAINED_PUBLISH_REFUSED: Case = Case {
    id: "limits.retained-publish-refused-without-retain",
    title: "A server without retain closes the connection on a retained PUBLISH",
    protocols: V5,
    statements: &[v5("MQTT-3.2.2-14")],
    requires: &[],
    body: |t| Box::pin(retained_publish_refused(t)),
};

async fn retained_publish_refused(t: &mut Test) -> Verdict {
    let topic = t.topic("r");
    let mut c = t.client("c").connect().await?;
    need_retain_unavailable(&c)?;
    // Sent as a plain packet: nothing is retained, so there is nothing to clean up.
    let mut retained = Publish::new(topic.as_str(), Bytes::from_static(b"r"));
    retained.retain = true;
    c.send(Packet::Publish(retained)).await?;
    let closed = c.expect_closed().because(&[v5("MQTT-3.2.2-14")]).await?;
    note_disconnect_code(t, "c", closed.disconnect, &[ReasonCode::RETAIN_NOT_SUPPORTED], ERROR_CLOSE_SHOULD);
    Ok(())
}

/// A server without retained messages refuses a retained Will (CONNACK 0x9A).
const RETAINED_WILL_REFUSED: Case = Case {
    id: "limits.retained-will-refused-without-retain",
    title: "A server without retain refuses a CONNECT with Will Retain 1",
    protocols: V5,
    statements: &[v5("MQTT-3.2.2-13")],
    requires: &[],
    body: |t| Box::pin(retained_will_refused(t)),
};

async fn retained_will_refused(t: &mut Test) -> Verdict {
    let topic = t.topic("r");
    let probe = t.client("probe").connect().await?;
    need_retain_unavailable(&probe)?;
    drop(probe);
    let mut w = t
        .client("w")
        .will(&topic, "w")
        .will_retain()
        .send_connect()
        .await?;
    let ack = w
        .expect(connack().refused())
        .because(&[v5("MQTT-3.2.2-13")])
        .await?;
    // 5.0 MQTT-3.2.2-13: the refusal and the close are MUSTs; the code is a SHOULD.
    note_connack_code(t, &ack, ReasonCode::RETAIN_NOT_SUPPORTED, "5.0 MQTT-3.2.2-13");
    w.expect_closed().because(&[v5("MQTT-3.2.2-13")]).await?;
    Ok(())
}

/// The code of a refusing CONNACK where the text makes the refusal a MUST and the code
/// (`should_be`) a SHOULD: the code the text names is an observation, another one a SHOULD
/// not followed.
fn note_connack_code(
    t: &Test,
    ack: &touchstone_codec::ConnAck,
    should_be: ReasonCode,
    should: &str,
) {
    if ack.reason_code == should_be {
        t.observe(format!("refused with CONNACK {}", summary::reason(should_be)));
    } else {
        t.short_of(
            should,
            format!("a refusing CONNACK {}", summary::reason(should_be)),
            format!("CONNACK {}", summary::reason(ack.reason_code)),
        );
    }
}

/// A failure with `expected` / `got`, citing `statements`.
fn fail(
    expected: impl Into<String>,
    got: impl Into<String>,
    statements: &[touchstone_codec::Statement],
) -> CaseError {
    CaseError::fail(expected, got.into()).because(statements)
}

/// Fails if `props` (an acknowledgement's) carries a Reason String or User Properties.
fn no_problem_info(
    what: &str,
    reason_string: Option<&touchstone_codec::Str>,
    user_properties: &touchstone_codec::UserProperties,
) -> Verdict {
    if reason_string.is_some() || !user_properties.is_empty() {
        return Err(fail(
            format!(
                "{what} without Reason String or User Property (Request Problem Information 0)"
            ),
            format!(
                "{what} with Reason String {:?} and {} User Properties",
                reason_string.map(|s| s.as_str()),
                user_properties.iter().count()
            ),
            &[v5("MQTT-3.1.2-29")],
        ));
    }
    Ok(())
}

/// With Request Problem Information 0, PUBACK, PUBREC, PUBCOMP, SUBACK and UNSUBACK (also
/// those with codes other than Success) carry no Reason String and no User Property.
const NO_PROBLEM_INFORMATION: Case = Case {
    id: "limits.no-problem-information-unrequested",
    title: "With Request Problem Information 0 acknowledgements carry no Reason String or User Property",
    protocols: V5,
    statements: &[v5("MQTT-3.1.2-29")],
    requires: &[Qos2],
    body: |t| Box::pin(no_problem_information(t)),
};

async fn no_problem_information(t: &mut Test) -> Verdict {
    use touchstone_codec::PubRel;
    let topic = t.topic("nobody");
    let mut c = t
        .client("c")
        .properties(|p| p.request_problem_information = Some(false))
        .connect()
        .await?;
    // PUBACK (0x10 No matching subscribers allowed).
    let id = c.publish(&topic).qos(Q1).payload("x").send().await?;
    let id = id.ok_or_else(|| CaseError::Error("no packet id".into()))?;
    let ack = c.expect(puback(id)).await?;
    t.observe(format!("PUBACK {}", summary::reason(ack.reason_code)));
    no_problem_info(
        "PUBACK",
        ack.properties.reason_string.as_ref(),
        &ack.properties.user_properties,
    )?;
    // PUBREC and PUBCOMP.
    let id = c.publish(&topic).qos(Q2).payload("x").send().await?;
    let id = id.ok_or_else(|| CaseError::Error("no packet id".into()))?;
    let rec = c.expect(pubrec(id)).await?;
    no_problem_info(
        "PUBREC",
        rec.properties.reason_string.as_ref(),
        &rec.properties.user_properties,
    )?;
    c.send(Packet::PubRel(PubRel::new(id))).await?;
    let comp = c.expect(pubcomp(id)).await?;
    no_problem_info(
        "PUBCOMP",
        comp.properties.reason_string.as_ref(),
        &comp.properties.user_properties,
    )?;
    // SUBACK.
    let sub = c.subscribe(&topic, Q1).suback().await?;
    no_problem_info(
        "SUBACK",
        sub.properties.reason_string.as_ref(),
        &sub.properties.user_properties,
    )?;
    // UNSUBACK for a filter never subscribed (0x11 No subscription existed allowed).
    let id = c.unsubscribe(&t.topic("never")).send().await?;
    let unsub = c.expect(unsuback(id)).await?;
    t.observe(format!("UNSUBACK {:?}", unsub.reason_codes));
    no_problem_info(
        "UNSUBACK",
        unsub.properties.reason_string.as_ref(),
        &unsub.properties.user_properties,
    )?;
    // The server's PUBREL, for a QoS 2 delivery to this client (found by the mutation score:
    // a User Property added to it went unnoticed).
    let mine = t.topic("mine");
    let granted = c.subscribe(&mine, Q2).granted().await?;
    if granted.first() != Some(&Q2) {
        t.observe("QoS 2 not granted: the server's PUBREL not checked");
        return Ok(());
    }
    let mut p = t.client("p").connect().await?;
    p.publish(&mine).qos(Q2).payload("y").acked().await?;
    let m = c.expect(publish(&mine).qos(Q2)).await?;
    let id = m
        .packet_id
        .ok_or_else(|| CaseError::Error("a QoS 2 PUBLISH without a packet id".into()))?;
    c.send(Packet::PubRec(touchstone_codec::PubRec::new(id))).await?;
    let rel = c.expect(pubrel(id)).await?;
    no_problem_info(
        "PUBREL",
        rel.properties.reason_string.as_ref(),
        &rel.properties.user_properties,
    )?;
    c.send(Packet::PubComp(touchstone_codec::PubComp::new(id))).await?;
    Ok(())
}
