//! CONNECT's Client Identifier (section 3.1.3.1): 23 alphanumerics accepted, an empty one
//! assigned (5.0) or refused with a persistent session (3.1.1).

use crate::cases::prelude::*;

/// A Client Identifier of 23 characters from 0-9, a-z, A-Z is accepted: CONNACK 0 as the first
/// packet.
pub(super) const CLIENT_ID_23_ALNUM: Case = Case {
    id: "connect.client-id-23-alphanumerics-accepted",
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
pub(super) const EMPTY_CLIENT_ID: Case = Case {
    id: "connect.empty-client-id",
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
pub(super) const EMPTY_CLIENT_ID_PERSISTENT: Case = Case {
    id: "connect.empty-client-id-clean-session-0-refused",
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
