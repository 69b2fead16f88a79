//! CONNECT and CONNACK (sections 3.1 and 3.2): the first packet, the protocol name and level,
//! reserved flags, client identifiers, credentials.

mod client_id;

use client_id::{CLIENT_ID_23_ALNUM, EMPTY_CLIENT_ID, EMPTY_CLIENT_ID_PERSISTENT};

use crate::cases::prelude::*;

pub(crate) const CASES: &[Case] = &[
    FIRST_NOT_CONNECT,
    WRONG_PROTOCOL_NAME,
    RESERVED_CONNECT_FLAG,
    CLIENT_ID_23_ALNUM,
    EMPTY_CLIENT_ID,
    EMPTY_CLIENT_ID_PERSISTENT,
    UNSUPPORTED_LEVEL,
    UNSUPPORTED_VERSION,
    SECOND_CONNECT,
    BAD_PASSWORD,
    BEFORE_CONNACK,
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
    id: "connect.first-packet-not-connect-closes",
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
    id: "connect.wrong-protocol-name",
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
    id: "connect.reserved-flag-refused",
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

/// A CONNECT with a protocol level the server does not support gets CONNACK 0x01, then the
/// close (or, from a server that also implements 5.0, the 5.0 CONNACK 0x84: see
/// [`expect_version_refusal`]).
const UNSUPPORTED_LEVEL: Case = Case {
    id: "connect.unsupported-protocol-level",
    title: "An unsupported protocol level gets CONNACK 0x01 and the close",
    protocols: V311,
    statements: &[
        v311("MQTT-3.1.2-2"),
        v311("MQTT-3.2.2-4"),
        v311("MQTT-3.2.2-5"),
    ],
    requires: &[],
    body: |t| Box::pin(unsupported_level(t)),
};

async fn unsupported_level(t: &mut Test) -> Verdict {
    let builder = t.client("c");
    let login = builder.connect_packet();
    let mut c = builder.open().await?;
    let id = c.client_id().to_string();
    // CONNECT as 3.1.1 lays it out, with Protocol Level 6 (no such version).
    let connect = with_login(
        Frame::new(0x10)
            .string("MQTT")
            .u8(6)
            .u8(0x02 | login_flags(&login))
            .u16(60)
            .string(&id),
        &login,
    );
    c.send_raw(connect.to_bytes()).await?;
    expect_version_refusal(
        t,
        &mut c,
        false,
        &[v311("MQTT-3.1.2-2"), v311("MQTT-3.2.2-4")],
        &[v311("MQTT-3.1.2-2"), v311("MQTT-3.2.2-5")],
    )
    .await
}

/// 5.0: a protocol version other than 5 that the server refuses gets an optional CONNACK 0x84
/// and the close.
///
/// Accepted answers: CONNACK 0x84 in the 5.0 format; no CONNACK; or the 3.1.1-format CONNACK
/// 0x01 — a server that also implements 3.1.1 is bound by 3.1.1 MQTT-3.1.2-2 to answer the very
/// same bytes that way, since it cannot tell which version's client sent level 6. Anything
/// else, or no close, fails.
const UNSUPPORTED_VERSION: Case = Case {
    id: "connect.unsupported-protocol-version",
    title: "An unsupported protocol version gets at most a refusing CONNACK, then the close",
    protocols: V5,
    statements: &[
        v5("MQTT-3.1.2-2"),
        v5("MQTT-3.2.2-6"),
        v5("MQTT-3.2.2-7"),
    ],
    requires: &[],
    body: |t| Box::pin(unsupported_version(t)),
};

async fn unsupported_version(t: &mut Test) -> Verdict {
    let builder = t.client("c");
    let login = builder.connect_packet();
    let mut c = builder.open().await?;
    let id = c.client_id().to_string();
    // CONNECT as 5.0 lays it out (Property Length 0), with Protocol Version 6.
    let connect = with_login(
        Frame::new(0x10)
            .string("MQTT")
            .u8(6)
            .u8(0x02 | login_flags(&login))
            .u16(60)
            .varint(0)
            .string(&id),
        &login,
    );
    c.send_raw(connect.to_bytes()).await?;
    expect_version_refusal(
        t,
        &mut c,
        true,
        &[v5("MQTT-3.1.2-2"), v5("MQTT-3.2.2-6")],
        &[v5("MQTT-3.1.2-2"), v5("MQTT-3.2.2-7")],
    )
    .await
}

/// The answer to a CONNECT with Protocol Level 6, read raw since it may come in either
/// version's format: the 3.1.1 CONNACK 0x01 or the 5.0 CONNACK 0x84, with Session Present 0
/// (or no CONNACK, where `none_allowed`), then the close. A server that speaks both versions
/// cannot tell which version's client sent level 6, and 3.1.1 [MQTT-3.1.2-2] asks for the
/// first answer while 5.0 [MQTT-3.1.2-2] allows the second: each version's case accepts both,
/// and records the one seen. `because_answer` and `because_close` are the running version's
/// statements.
async fn expect_version_refusal(
    t: &Test,
    c: &mut crate::harness::client::Client,
    none_allowed: bool,
    because_answer: &[touchstone_codec::Statement],
    because_close: &[touchstone_codec::Statement],
) -> Verdict {
    let read = c.read_until_closed(t.timeout()).await?;
    let whole_connack = |protocol, code| match decode_slice(protocol, &read.bytes) {
        Ok((Packet::ConnAck(a), n)) => {
            n == read.bytes.len() && a.reason_code == code && !a.session_present
        }
        _ => false,
    };
    let answer = if read.bytes.is_empty() && none_allowed {
        "no CONNACK"
    } else if whole_connack(Protocol::V3_1_1, ReasonCode::V3_UNACCEPTABLE_PROTOCOL_VERSION) {
        "CONNACK 0x01 unacceptable protocol version (3.1.1 format)"
    } else if whole_connack(Protocol::V5, ReasonCode::UNSUPPORTED_PROTOCOL_VERSION) {
        "CONNACK 0x84 Unsupported Protocol Version (5.0 format)"
    } else {
        let got = if read.bytes.is_empty() {
            "no CONNACK".to_string()
        } else {
            format!("bytes {}", summary::hex(&read.bytes, 32))
        };
        return Err(CaseError::fail(
            format!(
                "{}: CONNACK 0x01 (3.1.1 format) or 0x84 (5.0 format) with Session Present 0{}, then the close",
                c.label(),
                if none_allowed { ", or no CONNACK" } else { "" }
            ),
            got,
        )
        .because(because_answer));
    };
    if read.closed.is_none() {
        return Err(CaseError::fail(
            format!("{}: the server to close the connection", c.label()),
            format!("{answer}, and the connection stayed open"),
        )
        .because(because_close));
    }
    t.observe(format!("{answer}, then the close"));
    Ok(())
}

/// A second CONNECT on a connection is a protocol violation: the server closes the connection.
const SECOND_CONNECT: Case = Case {
    id: "connect.second-connect-closes",
    title: "A second CONNECT on the same connection makes the server close it",
    protocols: BOTH,
    statements: &[
        v311("MQTT-3.1.0-2"),
        v5("MQTT-3.1.0-2"),
        v5("MQTT-3.2.0-2"),
    ],
    requires: &[],
    body: |t| Box::pin(second_connect(t)),
};

async fn second_connect(t: &mut Test) -> Verdict {
    let builder = t.client("c");
    let again = builder.connect_packet();
    let mut c = builder.connect().await?;
    c.send(Packet::Connect(Box::new(again))).await?;
    c.expect_closed()
        .because(&cite(t, "MQTT-3.1.0-2", "MQTT-3.1.0-2"))
        .await?;
    // ... and never answers it with a second CONNACK.
    c.expect_no(connack(), Duration::ZERO)
        .await
        .map_err(|e| e.because(&cite(t, "MQTT-3.1.0-2", "MQTT-3.2.0-2")))
}

/// A wrong password on a listener that checks passwords: a refusing CONNACK (or none), then
/// the close. The right password is accepted there, so the refusal is the password's doing.
///
/// Passed: any refusing CONNACK with Session Present 0, or none, then the close. 3.1.1: a
/// return code other than 0x04 or 0x05, or no CONNACK, falls short of the SHOULD of 3.1.1
/// section 3.1.4; 5.0: every refusing code, or none, is allowed (recorded).
const BAD_PASSWORD: Case = Case {
    id: "connect.bad-password-refused",
    title: "A wrong password is refused and the connection closed",
    protocols: BOTH,
    statements: &[
        v311("MQTT-3.2.2-4"),
        v311("MQTT-3.2.2-5"),
        v5("MQTT-3.1.4-2"),
        v5("MQTT-3.2.2-6"),
        v5("MQTT-3.2.2-7"),
    ],
    requires: &[Authentication],
    body: |t| Box::pin(bad_password(t)),
};

async fn bad_password(t: &mut Test) -> Verdict {
    let mut good = t.client("good").auth_listener().connect().await?;
    good.disconnect().await?;

    let mut c = t
        .client("c")
        .auth_listener()
        .password("touchstone-wrong-password")
        .send_connect()
        .await?;
    let codes: &[ReasonCode] = if t.is_v5() {
        &[ReasonCode::BAD_USER_NAME_OR_PASSWORD, ReasonCode::NOT_AUTHORIZED]
    } else {
        &[
            ReasonCode::V3_BAD_USER_NAME_OR_PASSWORD,
            ReasonCode::V3_NOT_AUTHORIZED,
        ]
    };
    let named = codes
        .iter()
        .map(|c| summary::connack_code(*c))
        .collect::<Vec<_>>()
        .join(" or ");
    // 3.1.1 section 3.1.4: a failed check "SHOULD send an appropriate CONNACK response with a
    // non-zero return code" and MUST close. 5.0 section 3.1.4: it MUST close, and MAY send a
    // CONNACK with a Reason Code of 0x80 or more before; 5.0 MQTT-3.2.2-8 allows any code of
    // the table.
    const V311_SHOULD: &str = "3.1.1 section 3.1.4";
    match c.next_packet(t.timeout()).await? {
        None if t.is_v5() => {
            t.observe("closed without CONNACK");
            Ok(())
        }
        None => {
            t.short_of(
                V311_SHOULD,
                format!("c: CONNACK {named}, then the close"),
                "c: the close without CONNACK",
            );
            Ok(())
        }
        Some(Packet::ConnAck(a)) if a.reason_code.0 != 0 && !a.session_present => {
            let code = summary::connack_code(a.reason_code);
            if codes.contains(&a.reason_code) {
                t.observe(format!("CONNACK {code}"));
            } else if t.is_v5() {
                t.observe(format!(
                    "CONNACK {code} (allowed: 5.0 names {named} for this, and lets a server use any refusing code)"
                ));
            } else {
                t.short_of(
                    V311_SHOULD,
                    format!("c: CONNACK {named}, then the close"),
                    format!("c: CONNACK {code}"),
                );
            }
            c.expect_closed()
                .because(&cite(t, "MQTT-3.2.2-5", "MQTT-3.2.2-7"))
                .await?;
            Ok(())
        }
        Some(other) => Err(CaseError::fail(
            format!("c: a refusing CONNACK ({named}) with Session Present 0, or the close"),
            summary::packet(&other),
        )
        .because(&cite_all(
            t,
            &["MQTT-3.2.2-4"],
            &["MQTT-3.1.4-2", "MQTT-3.2.2-6"],
        ))),
    }
}

/// A packet sent right behind the CONNECT, before the CONNACK came, is processed: both
/// versions let a client send further packets at once (section 3.1.4, non-normative: "Clients
/// are allowed to send further Control Packets immediately after sending a CONNECT"), and the
/// server answers every SUBSCRIBE (MQTT-3.8.4-1 of both).
///
/// ```text
/// c -> CONNECT
/// c -> SUBSCRIBE id=1 "b" QoS 1     (at once, no wait for the CONNACK)
/// c <- CONNACK accepted
/// c <- SUBACK id=1
/// ```
const BEFORE_CONNACK: Case = Case {
    id: "connect.packets-before-connack-processed",
    title: "A SUBSCRIBE sent right behind the CONNECT, before the CONNACK, is answered after it",
    protocols: BOTH,
    statements: &[
        v311("MQTT-3.8.4-1"),
        v311("MQTT-3.8.4-2"),
        v5("MQTT-3.8.4-1"),
        v5("MQTT-3.8.4-2"),
    ],
    requires: &[],
    body: |t| Box::pin(before_connack(t)),
};

async fn before_connack(t: &mut Test) -> Verdict {
    let topic = t.topic("b");
    let mut c = t.client("c").send_connect().await?;
    let id = PacketId::new(1).unwrap_or(PacketId::MIN);
    c.send(Packet::Subscribe(touchstone_codec::Subscribe {
        packet_id: id,
        properties: Default::default(),
        filters: vec![touchstone_codec::Subscription::new(topic.as_str(), Q1)],
    }))
    .await?;
    c.expect(connack().accepted()).await?;
    c.expect(suback(id).codes(1))
        .because(&cite(t, "MQTT-3.8.4-1", "MQTT-3.8.4-1"))
        .await?;
    Ok(())
}
