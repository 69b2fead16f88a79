//! CONNECT and CONNACK beyond the basics: the first packet, the protocol name, reserved flags,
//! client identifiers, session takeover and expiry, the Will's retain, delay and properties,
//! and UTF-8 strings on the wire.

use super::prelude::*;

pub(crate) const CASES: &[Case] = &[
    FIRST_NOT_CONNECT,
    WRONG_PROTOCOL_NAME,
    RESERVED_CONNECT_FLAG,
    CLIENT_ID_23_ALNUM,
    EMPTY_CLIENT_ID,
    EMPTY_CLIENT_ID_PERSISTENT,
    TAKEOVER,
    SESSION_EXPIRY,
    RETAINED_SURVIVES_SESSION,
    BOM_KEPT,
    ILL_FORMED_UTF8,
    NUL_IN_TOPIC,
    WILL_RETAINED,
    NO_WILL_FLAG,
    WILL_DELAY_RECONNECT,
    WILL_USER_PROPERTIES,
];

/// What a server sent on a connection it should refuse: nothing, or (where `connack_ok`) one
/// refusing CONNACK; then the close. Returns the observation, or the failure.
async fn expect_refusal(
    t: &Test,
    c: &mut crate::harness::client::Client,
    connack_ok: bool,
    because: &[touchstone_codec::Statement],
) -> Result<String, CaseError> {
    let read = c.read_until_closed(t.timeout()).await?;
    judge_refusal(t, c.label(), &read, connack_ok, because)
}

/// [`expect_refusal`] on what was read already.
fn judge_refusal(
    t: &Test,
    label: &str,
    read: &crate::harness::client::RawRead,
    connack_ok: bool,
    because: &[touchstone_codec::Statement],
) -> Result<String, CaseError> {
    let mut rest = &read.bytes[..];
    let mut seen = Vec::new();
    let mut refusing_connack = false;
    while !rest.is_empty() {
        let (packet, n) = match decode_slice(t.protocol(), rest) {
            Ok(x) => x,
            Err(e) => {
                let mut cites = because.to_vec();
                cites.extend(e.statements.iter().copied());
                return Err(CaseError::fail(
                    format!(
                        "{}: no packet, or a refusing CONNACK, then the close",
                        label
                    ),
                    format!("bytes {} ({e})", summary::hex(rest, 32)),
                )
                .because(&cites));
            }
        };
        rest = &rest[n..];
        match &packet {
            Packet::ConnAck(a)
                if connack_ok
                    && seen.is_empty()
                    && (if t.is_v5() {
                        !a.reason_code.is_success()
                    } else {
                        a.reason_code.0 != 0
                    }) =>
            {
                refusing_connack = true;
                seen.push(format!("CONNACK {}", summary::connack_code(a.reason_code)));
            }
            Packet::Disconnect(_) if t.is_v5() => {
                // 5.0 [MQTT-3.14.0-1]: no DISCONNECT before a successful CONNACK.
                return Err(CaseError::fail(
                    format!("{}: no DISCONNECT before a successful CONNACK", label),
                    summary::packet(&packet),
                )
                .because(&[v5("MQTT-3.14.0-1")]));
            }
            other => {
                let wanted = if connack_ok {
                    "no packet, or one refusing CONNACK, then the close"
                } else {
                    "no packet (not even CONNACK), then the close"
                };
                return Err(CaseError::fail(
                    format!("{}: {wanted}", label),
                    summary::packet(other),
                )
                .because(because));
            }
        }
    }
    if read.closed.is_none() {
        let mut cites = because.to_vec();
        if refusing_connack && t.is_v5() {
            cites.push(v5("MQTT-4.13.2-1"));
        }
        let got = if seen.is_empty() {
            "the connection stayed open".to_string()
        } else {
            format!("{}, and the connection stayed open", seen.join(", "))
        };
        return Err(CaseError::fail(
            format!("{}: the server to close the connection", label),
            got,
        )
        .because(&cites));
    }
    Ok(if seen.is_empty() {
        "closed without CONNACK".to_string()
    } else {
        format!("{}, then the close", seen.join(", "))
    })
}

/// The first packet on a connection must be CONNECT: a PINGREQ first makes the server close
/// the connection, unanswered.
const FIRST_NOT_CONNECT: Case = Case {
    id: "conn-session.first-packet-not-connect-closes",
    title: "A first packet other than CONNECT makes the server close the connection",
    protocols: BOTH,
    statements: &[
        v311("MQTT-3.1.0-1"),
        v5("MQTT-3.1.0-1"),
        v5("MQTT-3.14.0-1"),
    ],
    requires: &[],
    body: |t| Box::pin(first_not_connect(t)),
};

async fn first_not_connect(t: &mut Test) -> Verdict {
    let mut c = t.client("c").open().await?;
    c.send_raw(Frame::new(0xC0).to_bytes()).await?;
    let seen = expect_refusal(t, &mut c, true, &cite(t, "MQTT-3.1.0-1", "MQTT-3.1.0-1")).await?;
    t.observe(seen);
    Ok(())
}

/// A CONNECT whose Protocol Name is not `MQTT` is not processed as MQTT: 3.1.1 lets the server
/// close or go on under another specification (but never accept it as 3.1.1); 5.0 allows a
/// CONNACK 0x84 and then requires the close.
const WRONG_PROTOCOL_NAME: Case = Case {
    id: "conn-session.wrong-protocol-name",
    title: "A CONNECT with Protocol Name other than MQTT is not accepted",
    protocols: BOTH,
    statements: &[v311("MQTT-3.1.2-1"), v5("MQTT-3.1.2-1")],
    requires: &[],
    body: |t| Box::pin(wrong_protocol_name(t)),
};

async fn wrong_protocol_name(t: &mut Test) -> Verdict {
    let builder = t.client("c");
    let login = builder.connect_packet();
    let mut c = builder.open().await?;
    let id = c.client_id().to_string();
    let mut frame = Frame::new(0x10)
        .string("MQTX")
        .u8(t.protocol().level())
        .u8(0x02 | login_flags(&login))
        .u16(60);
    if t.is_v5() {
        frame = frame.varint(0);
    }
    c.send_raw(with_login(frame.string(&id), &login).to_bytes())
        .await?;
    let because = cite(t, "MQTT-3.1.2-1", "MQTT-3.1.2-1");
    if t.is_v5() {
        let read = c.read_until_closed(t.timeout()).await?;
        // Not seeing "MQTT", the server may answer as under another specification (5.0
        // MQTT-3.1.2-1): a CONNACK 0x01 Unacceptable Protocol Version in the 3.1.1 format, then
        // the close, refuses as clearly as 0x84 does.
        if read.closed.is_some() && read.bytes[..] == [0x20, 0x02, 0x00, 0x01] {
            t.observe("CONNACK 0x01 in the 3.1.1 format (20 02 00 01), then the close");
            return Ok(());
        }
        let seen = judge_refusal(t, c.label(), &read, true, &because)?;
        t.observe(seen);
        return Ok(());
    }
    // 3.1.1: closing is allowed, so is going on under another protocol; accepting is not.
    let read = c.read_until_closed(t.timeout()).await?;
    if let Ok((Packet::ConnAck(a), _)) = decode_slice(Protocol::V3_1_1, &read.bytes) {
        if a.reason_code.0 == 0 {
            return Err(CaseError::fail(
                "c: the CONNECT not accepted as MQTT 3.1.1",
                "CONNACK 0x00 (accepted)",
            )
            .because(&because));
        }
    }
    t.observe(match (&read.closed, read.bytes.is_empty()) {
        (Some(_), true) => "closed without CONNACK".to_string(),
        (Some(_), false) => format!("{}, then the close", summary::hex(&read.bytes, 16)),
        (None, _) => "kept the connection open without accepting it".to_string(),
    });
    Ok(())
}

/// The reserved Connect Flags bit set: the CONNECT is malformed. The server closes the
/// connection (3.1.1: without CONNACK; 5.0: after an optional refusing CONNACK) and does not
/// process the PUBLISH sent right behind the CONNECT.
const RESERVED_CONNECT_FLAG: Case = Case {
    id: "conn-session.reserved-connect-flag-refused",
    title: "CONNECT with the reserved flag set is refused and what follows it ignored",
    protocols: BOTH,
    statements: &[
        v311("MQTT-3.1.2-3"),
        v311("MQTT-3.1.4-1"),
        v311("MQTT-3.1.4-5"),
        v5("MQTT-3.1.2-3"),
        v5("MQTT-3.1.4-1"),
        v5("MQTT-3.1.4-6"),
        v5("MQTT-3.2.2-8"),
        v5("MQTT-4.13.2-1"),
    ],
    requires: &[],
    body: |t| Box::pin(reserved_connect_flag(t)),
};

async fn reserved_connect_flag(t: &mut Test) -> Verdict {
    let topic = t.topic("after");
    let mut watcher = t.client("watcher").connect().await?;
    watcher.subscribe(&topic, Q0).granted().await?;

    let builder = t.client("c");
    let login = builder.connect_packet();
    let mut c = builder.open().await?;
    let id = c.client_id().to_string();
    // CONNECT with flags 0x03 (Clean Session/Start and the reserved bit; the run's credentials
    // if any), then a PUBLISH.
    let mut connect = Frame::new(0x10)
        .string("MQTT")
        .u8(t.protocol().level())
        .u8(0x03 | login_flags(&login))
        .u16(60);
    let mut after = Frame::new(0x30).string(&topic);
    if t.is_v5() {
        connect = connect.varint(0);
        after = after.varint(0);
    }
    let mut bytes = with_login(connect.string(&id), &login).to_bytes().to_vec();
    bytes.extend_from_slice(&after.bytes("after a refused CONNECT").to_bytes());
    c.send_raw(bytes).await?;
    let because = cite_all(
        t,
        &["MQTT-3.1.2-3", "MQTT-3.1.4-1"],
        &["MQTT-3.1.2-3", "MQTT-3.1.4-1", "MQTT-3.2.2-8"],
    );
    let seen = expect_refusal(t, &mut c, t.is_v5(), &because).await?;
    t.observe(seen);
    watcher
        .expect_nothing(t.quiet())
        .await
        .map_err(|e| e.because(&cite(t, "MQTT-3.1.4-5", "MQTT-3.1.4-6")))?;
    // Control: the same PUBLISH on an accepted connection reaches the watcher.
    let mut d = t.client("d").connect().await?;
    d.publish(&topic).payload("control").send().await?;
    watcher.expect(publish(&topic).payload("control")).await?;
    Ok(())
}

/// A Client Identifier of 23 characters from 0-9, a-z, A-Z is accepted: CONNACK 0 as the first
/// packet.
const CLIENT_ID_23_ALNUM: Case = Case {
    id: "conn-session.client-id-23-alphanumerics-accepted",
    title: "A 23-character alphanumeric Client Identifier is accepted with CONNACK 0",
    protocols: BOTH,
    statements: &[
        v311("MQTT-3.1.3-5"),
        v311("MQTT-3.1.4-4"),
        v311("MQTT-3.2.0-1"),
        v5("MQTT-3.1.3-5"),
        v5("MQTT-3.1.4-5"),
        v5("MQTT-3.2.0-1"),
    ],
    requires: &[],
    body: |t| Box::pin(client_id_23(t)),
};

async fn client_id_23(t: &mut Test) -> Verdict {
    let builder = t.client("c");
    let base = builder.connect_packet().client_id.to_string();
    let pad = "ABCDEFGHIJKLMNOPQRSTUVWXYZ";
    let id = format!("{base}{}", &pad[..23usize.saturating_sub(base.len())]);
    let mut c = builder.client_id(id.as_str()).send_connect().await?;
    match c.next_packet(t.timeout()).await? {
        Some(Packet::ConnAck(a)) if a.reason_code.0 == 0 => {}
        Some(Packet::ConnAck(a)) => {
            return Err(CaseError::fail(
                format!("c: CONNACK 0x00 for Client Identifier {id:?}"),
                format!("CONNACK {}", summary::connack_code(a.reason_code)),
            )
            .because(&cite_all(
                t,
                &["MQTT-3.1.3-5", "MQTT-3.1.4-4"],
                &["MQTT-3.1.3-5", "MQTT-3.1.4-5"],
            )))
        }
        Some(other) => {
            return Err(
                CaseError::fail("c: CONNACK as the first packet", summary::packet(&other))
                    .because(&cite(t, "MQTT-3.2.0-1", "MQTT-3.2.0-1")),
            )
        }
        None => {
            return Err(CaseError::fail(
                format!("c: CONNACK 0x00 for Client Identifier {id:?}"),
                "the connection was closed",
            )
            .because(&cite(t, "MQTT-3.1.3-5", "MQTT-3.1.3-5")))
        }
    }
    c.ping().await?;
    c.disconnect().await
}

/// An empty Client Identifier with Clean Session/Start 1: either accepted under a unique
/// identifier the server assigns (5.0: returned as Assigned Client Identifier), or refused
/// with CONNACK 0x02 (3.1.1) / 0x85 (5.0) and the close.
const EMPTY_CLIENT_ID: Case = Case {
    id: "conn-session.empty-client-id",
    title: "An empty Client Identifier gets a unique assigned one, or a refusal and the close",
    protocols: BOTH,
    statements: &[
        v311("MQTT-3.1.3-6"),
        v311("MQTT-3.1.3-9"),
        v5("MQTT-3.1.3-6"),
        v5("MQTT-3.1.3-7"),
        v5("MQTT-3.1.3-8"),
        v5("MQTT-3.2.2-16"),
    ],
    requires: &[],
    body: |t| Box::pin(empty_client_id(t)),
};

async fn empty_client_id(t: &mut Test) -> Verdict {
    let topic = t.topic("e");
    let mut a = t.client("a").client_id("").send_connect().await?;
    let ack = match a.next_packet(t.timeout()).await? {
        Some(Packet::ConnAck(ack)) if ack.reason_code.0 == 0 => ack,
        Some(Packet::ConnAck(ack))
            if ack.reason_code
                == if t.is_v5() {
                    ReasonCode::CLIENT_IDENTIFIER_NOT_VALID
                } else {
                    ReasonCode::V3_IDENTIFIER_REJECTED
                } =>
        {
            a.expect_closed()
                .because(&cite(t, "MQTT-3.1.3-9", "MQTT-3.1.3-8"))
                .await?;
            t.observe(format!(
                "refused with CONNACK {}, then the close",
                summary::connack_code(ack.reason_code)
            ));
            return Ok(());
        }
        other => {
            let got = other
                .map(|p| summary::packet(&p))
                .unwrap_or_else(|| "the connection was closed".into());
            return Err(CaseError::fail(
                "a: CONNACK 0x00, or a CONNACK refusing the identifier and the close",
                got,
            )
            .because(&cite_all(
                t,
                &["MQTT-3.1.3-6", "MQTT-3.1.3-9"],
                &["MQTT-3.1.3-6", "MQTT-3.1.3-8"],
            )));
        }
    };
    // Accepted: the connection works as if it had sent the assigned identifier.
    a.subscribe(&topic, Q0).granted().await?;
    if !t.is_v5() {
        let mut b = t.client("b").client_id("").connect().await?;
        b.publish(&topic).payload("to a").send().await?;
        a.expect(publish(&topic).payload("to a"))
            .because(&[v311("MQTT-3.1.3-6")])
            .await?;
        // A second empty-id client did not take a's place.
        a.ping()
            .await
            .map_err(|e| e.because(&[v311("MQTT-3.1.3-6")]))?;
        t.observe("accepted (3.1.1)");
        return Ok(());
    }
    let Some(first) = ack.properties.assigned_client_identifier.clone() else {
        return Err(CaseError::fail(
            "a: CONNACK with an Assigned Client Identifier",
            "a CONNACK without one",
        )
        .because(&[v5("MQTT-3.1.3-7"), v5("MQTT-3.2.2-16")]));
    };
    let b = t.client("b").client_id("").connect().await?;
    let second = b
        .connack()
        .and_then(|c| c.properties.assigned_client_identifier.clone());
    match second {
        None => {
            return Err(CaseError::fail(
                "b: CONNACK with an Assigned Client Identifier",
                "a CONNACK without one",
            )
            .because(&[v5("MQTT-3.1.3-7"), v5("MQTT-3.2.2-16")]))
        }
        Some(s) if s == first || s.is_empty() => {
            return Err(CaseError::fail(
                format!("b: an Assigned Client Identifier other than a's {first:?}"),
                format!("{s:?}"),
            )
            .because(&[v5("MQTT-3.1.3-6"), v5("MQTT-3.2.2-16")]))
        }
        Some(_) => {}
    }
    let mut b = b;
    b.publish(&topic).payload("to a").send().await?;
    a.expect(publish(&topic).payload("to a"))
        .because(&[v5("MQTT-3.1.3-6"), v5("MQTT-3.1.3-7")])
        .await?;
    a.ping()
        .await
        .map_err(|e| e.because(&[v5("MQTT-3.1.3-6"), v5("MQTT-3.2.2-16")]))?;
    t.observe(format!("accepted, assigned {first:?}"));
    Ok(())
}

/// 3.1.1: an empty Client Identifier with Clean Session 0 gets CONNACK 0x02, then the close.
const EMPTY_CLIENT_ID_PERSISTENT: Case = Case {
    id: "conn-session.empty-client-id-clean-session-0-refused",
    title: "An empty Client Identifier with Clean Session 0 gets CONNACK 0x02 and the close",
    protocols: V311,
    statements: &[v311("MQTT-3.1.3-8"), v311("MQTT-3.1.3-9")],
    requires: &[],
    body: |t| Box::pin(empty_client_id_persistent(t)),
};

async fn empty_client_id_persistent(t: &mut Test) -> Verdict {
    let builder = t.client("c").client_id("").clean_start(false);
    let connect = builder.connect_packet();
    let mut c = builder.open().await?;
    // The codec refuses to encode this CONNECT (a client must not send it).
    c.send_unchecked(Packet::Connect(Box::new(connect))).await?;
    c.expect(
        connack()
            .reason(ReasonCode::V3_IDENTIFIER_REJECTED)
            .session_present(false),
    )
    .because(&[v311("MQTT-3.1.3-8")])
    .await?;
    c.expect_closed()
        .because(&[v311("MQTT-3.1.3-8"), v311("MQTT-3.1.3-9")])
        .await?;
    Ok(())
}

/// A second connection with the same Client Identifier takes the session over: the old
/// connection is closed (5.0: after an optional DISCONNECT 0x8E without Session Expiry
/// Interval, and nothing after it), the new one resumes the session with its subscription.
const TAKEOVER: Case = Case {
    id: "conn-session.takeover-closes-old-connection",
    title: "A CONNECT with a connected Client Identifier closes the old connection and resumes the session",
    protocols: BOTH,
    statements: &[
        v311("MQTT-3.1.4-2"),
        v311("MQTT-3.1.4-3"),
        v311("MQTT-4.1.0-1"),
        v5("MQTT-3.1.4-3"),
        v5("MQTT-3.1.4-4"),
        v5("MQTT-4.1.0-1"),
        v5("MQTT-3.14.2-1"),
        v5("MQTT-3.14.2-2"),
        v5("MQTT-3.14.4-1"),
        v5("MQTT-3.14.4-2"),
        v5("MQTT-4.13.2-1"),
    ],
    requires: &[],
    body: |t| Box::pin(takeover(t)),
};

async fn takeover(t: &mut Test) -> Verdict {
    let topic = t.topic("s");
    let mut old = t.client("a").persistent_session().connect().await?;
    old.subscribe(&topic, Q0).granted().await?;

    let mut new = t.client("a").persistent_session().send_connect().await?;
    new.expect(connack().accepted().session_present(true))
        .because(&cite_all(
            t,
            &["MQTT-3.1.4-3", "MQTT-4.1.0-1"],
            &["MQTT-3.1.4-4", "MQTT-4.1.0-1"],
        ))
        .await?;

    if t.is_v5() {
        match old.next_packet(t.timeout()).await {
            Ok(None) => t.observe("old connection closed without DISCONNECT"),
            Ok(Some(Packet::Disconnect(d))) => {
                note_disconnect_code(
                    t,
                    "a",
                    Some(d.reason_code),
                    &[ReasonCode::SESSION_TAKEN_OVER],
                );
                if let Some(s) = d.properties.session_expiry_interval {
                    return Err(CaseError::fail(
                        "a: a server DISCONNECT without Session Expiry Interval",
                        format!("Session Expiry Interval {s}"),
                    )
                    .because(&[v5("MQTT-3.14.2-2")]));
                }
                match old.next_packet(t.timeout()).await {
                    Ok(None) => {}
                    Ok(Some(p)) => {
                        return Err(CaseError::fail(
                            "a: nothing after the server's DISCONNECT",
                            summary::packet(&p),
                        )
                        .because(&[v5("MQTT-3.14.4-1")]))
                    }
                    Err(e) => {
                        return Err(e.because(&[
                            v5("MQTT-3.1.4-3"),
                            v5("MQTT-3.14.4-2"),
                            v5("MQTT-4.13.2-1"),
                        ]))
                    }
                }
                t.observe("old connection: nothing after the server's DISCONNECT, then the close");
            }
            Ok(Some(p)) => {
                return Err(CaseError::fail(
                    "a: a DISCONNECT (0x8E Session taken over; or none), then the close",
                    summary::packet(&p),
                )
                .because(&[v5("MQTT-3.1.4-3")]))
            }
            Err(e) => return Err(e.because(&[v5("MQTT-3.1.4-3")])),
        }
    } else {
        old.expect_closed().because(&[v311("MQTT-3.1.4-2")]).await?;
    }

    // The session goes on in the new connection.
    let mut b = t.client("b").connect().await?;
    b.publish(&topic).payload("after takeover").send().await?;
    new.expect(publish(&topic).payload("after takeover"))
        .because(&cite(t, "MQTT-4.1.0-1", "MQTT-4.1.0-1"))
        .await?;
    Ok(())
}

/// 5.0: a session with Session Expiry Interval 1 s is there right after the close, and gone
/// once the interval has passed.
const SESSION_EXPIRY: Case = Case {
    id: "conn-session.session-expires-after-interval",
    title: "A session is discarded once its Session Expiry Interval has passed",
    protocols: V5,
    statements: &[v5("MQTT-4.1.0-2"), v5("MQTT-4.1.0-1")],
    requires: &[],
    body: |t| Box::pin(session_expiry(t)),
};

async fn session_expiry(t: &mut Test) -> Verdict {
    let topic = t.topic("x");
    let builder = t
        .client("a")
        .persistent_session()
        .properties(|p| p.session_expiry_interval = Some(1));
    let mut a = builder.clone().connect().await?;
    a.subscribe(&topic, Q0).granted().await?;
    a.disconnect().await?;
    // Control: right away the session is still there.
    let mut a = builder.clone().send_connect().await?;
    a.expect(connack().accepted().session_present(true))
        .because(&[v5("MQTT-4.1.0-1")])
        .await?;
    a.disconnect().await?;
    t.sleep(Duration::from_secs(1) + t.slack() + Duration::from_millis(700))
        .await;
    let mut a = builder.send_connect().await?;
    a.expect(connack().accepted().session_present(false))
        .because(&[v5("MQTT-4.1.0-2")])
        .await
        .map_err(|e| {
            timer_failure(
                t,
                e,
                format!(
                    "the Session Expiry Interval of 1 s had passed {:.1} s before",
                    t.slack().as_secs_f64() + 0.7
                ),
            )
        })?;
    a.disconnect().await
}

/// 3.1.1: retained messages are not session state; they stay when the publisher's session ends.
const RETAINED_SURVIVES_SESSION: Case = Case {
    id: "conn-session.retained-survives-session-end",
    title: "A retained message outlives the session of the client that published it",
    protocols: V311,
    statements: &[v311("MQTT-3.1.2-7")],
    requires: &[Retain, Qos1],
    body: |t| Box::pin(retained_survives_session(t)),
};

async fn retained_survives_session(t: &mut Test) -> Verdict {
    let topic = t.topic("r");
    let mut a = t.client("a").connect().await?;
    a.publish(&topic)
        .qos(Q1)
        .retain()
        .payload("kept")
        .acked()
        .await?;
    // Clean Session 1: the session ends with this connection.
    a.disconnect().await?;
    let mut b = t.client("b").connect().await?;
    b.subscribe(&topic, Q1).granted().await?;
    let m = b
        .expect(publish(&topic).retain(true).payload("kept"))
        .because(&[v311("MQTT-3.1.2-7")])
        .await?;
    b.ack(&m).await
}

/// A topic with U+FEFF (EF BB BF) in it is kept as it is: a subscription to that exact topic
/// gets the message, with the same topic.
const BOM_KEPT: Case = Case {
    id: "conn-session.bom-in-topic-kept",
    title: "EF BB BF (U+FEFF) in a topic is not stripped",
    protocols: BOTH,
    statements: &[v311("MQTT-1.5.3-3"), v5("MQTT-1.5.4-3")],
    requires: &[],
    body: |t| Box::pin(bom_kept(t)),
};

async fn bom_kept(t: &mut Test) -> Verdict {
    let topic = t.topic("\u{FEFF}bom");
    let mut a = t.client("a").connect().await?;
    // A server may refuse a subscription (SUBACK 0x80 or another failure code, section 3.9.3
    // of both versions): then there is nothing to check, and the case says so.
    let ack = a.subscribe(&topic, Q0).suback().await?;
    if let Some(code) = ack.reason_codes.iter().find(|c| c.0 >= 0x80) {
        return Err(skip(format!(
            "the server refused the subscription to the topic with U+FEFF ({}), so whether it keeps U+FEFF cannot be seen",
            summary::reason(*code)
        )));
    }
    a.publish(&topic)
        .payload("bom")
        .send()
        .await
        .map_err(|e| e.because(&cite(t, "MQTT-1.5.3-3", "MQTT-1.5.4-3")))?;
    a.expect(publish(&topic).payload("bom"))
        .because(&cite(t, "MQTT-1.5.3-3", "MQTT-1.5.4-3"))
        .await?;
    Ok(())
}

/// 3.1.1: ill-formed UTF-8 in a topic name makes the server close the connection.
const ILL_FORMED_UTF8: Case = Case {
    id: "conn-session.ill-formed-utf8-topic-closes",
    title: "A PUBLISH whose topic is ill-formed UTF-8 closes the connection",
    protocols: V311,
    statements: &[v311("MQTT-1.5.3-1")],
    requires: &[],
    body: |t| Box::pin(ill_formed_utf8(t)),
};

async fn ill_formed_utf8(t: &mut Test) -> Verdict {
    bad_topic_closes(t, b"\xC3\x28", "MQTT-1.5.3-1").await
}

/// 3.1.1: U+0000 in a topic name makes the server close the connection.
const NUL_IN_TOPIC: Case = Case {
    id: "conn-session.nul-in-topic-closes",
    title: "A PUBLISH whose topic contains U+0000 closes the connection",
    protocols: V311,
    statements: &[v311("MQTT-1.5.3-2")],
    requires: &[],
    body: |t| Box::pin(nul_in_topic(t)),
};

async fn nul_in_topic(t: &mut Test) -> Verdict {
    bad_topic_closes(t, b"\x00", "MQTT-1.5.3-2").await
}

/// Publishes (QoS 0) to the case's prefix followed by `bad`, expects the close and that a
/// subscriber to the prefix got nothing.
async fn bad_topic_closes(t: &mut Test, bad: &[u8], statement: &'static str) -> Verdict {
    let prefix = t.topic("u");
    let filter = format!("{prefix}/#");
    let mut watcher = t.client("watcher").connect().await?;
    watcher.subscribe(&filter, Q0).granted().await?;
    let mut c = t.client("c").connect().await?;
    let mut name = format!("{prefix}/").into_bytes();
    name.extend_from_slice(bad);
    c.send_raw(Frame::new(0x30).string(&name).bytes("bad").to_bytes())
        .await?;
    c.expect_closed().because(&[v311(statement)]).await?;
    watcher
        .expect_nothing(t.quiet())
        .await
        .map_err(|e| e.because(&[v311(statement)]))
}

/// Will Retain 1: the Will is published as a retained message (a later subscriber gets it with
/// RETAIN 1).
const WILL_RETAINED: Case = Case {
    id: "conn-session.will-retain-published-retained",
    title: "A Will with Will Retain 1 is published as a retained message",
    protocols: BOTH,
    statements: &[v311("MQTT-3.1.2-17"), v5("MQTT-3.1.2-15")],
    requires: &[Retain, Qos1],
    body: |t| Box::pin(will_retained(t)),
};

async fn will_retained(t: &mut Test) -> Verdict {
    let topic = t.topic("will");
    let mut w = t
        .client("w")
        .will(&topic, "gone")
        .will_qos(Q1)
        .will_retain()
        .connect()
        .await?;
    let mut watcher = t.client("watcher").connect().await?;
    watcher.subscribe(&topic, Q1).granted().await?;
    w.close().await;
    let m = watcher.expect(publish(&topic).payload("gone")).await?;
    watcher.ack(&m).await?;
    let mut later = t.client("later").connect().await?;
    later.subscribe(&topic, Q1).granted().await?;
    let m = later
        .expect(publish(&topic).retain(true).payload("gone"))
        .because(&cite(t, "MQTT-3.1.2-17", "MQTT-3.1.2-15"))
        .await?;
    later.ack(&m).await
}

/// 3.1.1: a connection without the Will Flag has no Will, even when an earlier connection of
/// the same session had one (discarded by its DISCONNECT).
const NO_WILL_FLAG: Case = Case {
    id: "conn-session.no-will-flag-no-will",
    title: "Without the Will Flag no Will is published when the connection ends",
    protocols: V311,
    statements: &[v311("MQTT-3.1.2-12")],
    requires: &[],
    body: |t| Box::pin(no_will_flag(t)),
};

async fn no_will_flag(t: &mut Test) -> Verdict {
    let topic = t.topic("will");
    let mut watcher = t.client("watcher").connect().await?;
    watcher.subscribe(&topic, Q0).granted().await?;
    let mut w = t
        .client("w")
        .persistent_session()
        .will(&topic, "old will")
        .connect()
        .await?;
    w.disconnect().await?;
    // Let the server finish with that connection: a CONNECT racing ahead of its DISCONNECT
    // would be a takeover, which publishes the Will.
    t.sleep(t.quiet()).await;
    let mut w = t.client("w").persistent_session().connect().await?;
    w.close().await;
    watcher
        .expect_nothing(t.quiet())
        .await
        .map_err(|e| e.because(&[v311("MQTT-3.1.2-12")]))?;
    // Control: with the Will Flag, the same abrupt close publishes it.
    let mut w = t
        .client("w")
        .persistent_session()
        .will(&topic, "old will")
        .connect()
        .await?;
    w.close().await;
    watcher.expect(publish(&topic).payload("old will")).await?;
    Ok(())
}

/// 5.0: a Will with a Will Delay Interval is not published if the session gets a new connection
/// before the delay passes; without that reconnect, it is published after the delay (the Will
/// is stored with the session).
const WILL_DELAY_RECONNECT: Case = Case {
    id: "conn-session.will-delay-cancelled-by-reconnect",
    title: "Reconnecting before the Will Delay Interval passes cancels the Will",
    protocols: V5,
    statements: &[v5("MQTT-3.1.3-9"), v5("MQTT-3.1.2-7")],
    requires: &[],
    body: |t| Box::pin(will_delay_reconnect(t)),
};

async fn will_delay_reconnect(t: &mut Test) -> Verdict {
    let topic = t.topic("will");
    let delay = 2u32;
    let mut watcher = t.client("watcher").connect().await?;
    watcher.subscribe(&topic, Q0).granted().await?;
    let builder = t
        .client("w")
        .persistent_session()
        .will(&topic, "delayed")
        .will_properties(|p| p.will_delay_interval = Some(delay));
    let mut w = builder.clone().connect().await?;
    w.close().await;
    // Back before the delay passes: no Will.
    let mut w = builder.clone().connect().await?;
    watcher
        .expect_nothing(Duration::from_secs(u64::from(delay)) + t.slack() + t.quiet())
        .await
        .map_err(|e| e.because(&[v5("MQTT-3.1.3-9")]))?;
    // Control: gone for good, the Will comes after the delay.
    w.close().await;
    watcher
        .expect(publish(&topic).payload("delayed"))
        .within(Duration::from_secs(u64::from(delay)) + t.slack() + t.timeout())
        .because(&[v5("MQTT-3.1.2-7")])
        .await
        .map_err(|e| timer_failure(t, e, format!("the Will Delay Interval is {delay} s")))?;
    Ok(())
}

/// 5.0: the Will's User Properties are published in the order they were given.
const WILL_USER_PROPERTIES: Case = Case {
    id: "conn-session.will-user-properties-in-order",
    title: "The Will is published with its User Properties in order",
    protocols: V5,
    statements: &[v5("MQTT-3.1.3-10")],
    requires: &[],
    body: |t| Box::pin(will_user_properties(t)),
};

async fn will_user_properties(t: &mut Test) -> Verdict {
    let topic = t.topic("will");
    let pairs = [("k", "2"), ("a", "1"), ("k", "1")];
    let mut watcher = t.client("watcher").connect().await?;
    watcher.subscribe(&topic, Q0).granted().await?;
    let mut w = t
        .client("w")
        .will(&topic, "gone")
        .will_properties(|p| {
            p.user_properties = touchstone_codec::UserProperties::from_pairs(pairs);
        })
        .connect()
        .await?;
    w.close().await;
    watcher
        .expect(publish(&topic).payload("gone").user_properties(&pairs))
        .because(&[v5("MQTT-3.1.3-10")])
        .await?;
    Ok(())
}
