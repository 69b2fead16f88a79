//! CONNECT and CONNACK.

use super::prelude::*;

pub(crate) const CASES: &[Case] = &[
    UNSUPPORTED_LEVEL,
    UNSUPPORTED_VERSION,
    SECOND_CONNECT,
    BAD_PASSWORD,
];

/// A CONNECT with a protocol level the server does not support gets CONNACK 0x01, then the
/// close.
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
    c.expect(
        connack()
            .reason(ReasonCode::V3_UNACCEPTABLE_PROTOCOL_VERSION)
            .session_present(false),
    )
    .because(&[v311("MQTT-3.1.2-2"), v311("MQTT-3.2.2-4")])
    .await?;
    c.expect_closed()
        .because(&[v311("MQTT-3.1.2-2"), v311("MQTT-3.2.2-5")])
        .await?;
    Ok(())
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
    let read = c.read_until_closed(t.timeout()).await?;
    let answer = if read.bytes.is_empty() {
        "no CONNACK".to_string()
    } else {
        let v5_answer = decode_slice(Protocol::V5, &read.bytes);
        let v3_answer = decode_slice(Protocol::V3_1_1, &read.bytes);
        match (v5_answer, v3_answer) {
            (Ok((Packet::ConnAck(a), n)), _)
                if n == read.bytes.len()
                    && a.reason_code == ReasonCode::UNSUPPORTED_PROTOCOL_VERSION
                    && !a.session_present =>
            {
                "CONNACK 0x84 Unsupported Protocol Version (5.0 format)".to_string()
            }
            (_, Ok((Packet::ConnAck(a), n)))
                if n == read.bytes.len()
                    && a.reason_code == ReasonCode::V3_UNACCEPTABLE_PROTOCOL_VERSION
                    && !a.session_present =>
            {
                "CONNACK 0x01 in the 3.1.1 format (as 3.1.1 MQTT-3.1.2-2 asks of a server that also speaks 3.1.1)"
                    .to_string()
            }
            _ => {
                return Err(CaseError::fail(
                    "c: no CONNACK, or CONNACK 0x84 (5.0) / 0x01 (3.1.1 format) with Session Present 0, then the close",
                    format!("bytes {}", summary::hex(&read.bytes, 32)),
                )
                .because(&[v5("MQTT-3.1.2-2"), v5("MQTT-3.2.2-6")]))
            }
        }
    };
    if read.closed.is_none() {
        return Err(CaseError::fail(
            "c: the server to close the connection",
            format!("{answer}, and the connection stayed open"),
        )
        .because(&[v5("MQTT-3.1.2-2"), v5("MQTT-3.2.2-7")]));
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
/// Accepted: 3.1.1 return code 0x04 or 0x05 (the SHOULD of 3.1.1 section 3.2.2.3) or no
/// CONNACK; 5.0 reason code 0x86 or 0x87 or no CONNACK. Session Present is 0 on a refusal.
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
    match c.next_packet(t.timeout()).await? {
        None => {
            t.observe("closed without CONNACK");
            Ok(())
        }
        Some(Packet::ConnAck(a)) if codes.contains(&a.reason_code) && !a.session_present => {
            t.observe(format!("CONNACK {}", summary::connack_code(a.reason_code)));
            c.expect_closed()
                .because(&cite(t, "MQTT-3.2.2-5", "MQTT-3.2.2-7"))
                .await?;
            Ok(())
        }
        Some(other) => Err(CaseError::fail(
            format!(
                "c: CONNACK {} with Session Present 0, or the close",
                codes
                    .iter()
                    .map(|c| summary::connack_code(*c))
                    .collect::<Vec<_>>()
                    .join(" or ")
            ),
            summary::packet(&other),
        )
        .because(&cite_all(
            t,
            &["MQTT-3.2.2-4"],
            &["MQTT-3.1.4-2", "MQTT-3.2.2-6"],
        ))),
    }
}
