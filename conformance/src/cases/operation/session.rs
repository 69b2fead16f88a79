//! Session state (section 4.1, and Clean Session / Clean Start of 3.1.2.4): Session Present,
//! resumed and discarded sessions, take-over by a second connection, Session Expiry.

use crate::cases::prelude::*;

pub(crate) const CASES: &[Case] = &[
    TAKEOVER,
    SESSION_EXPIRY,
    CLEAN_DISCARDS,
    RESUMED,
    QUEUED_QOS1,
];

/// A second connection with the same Client Identifier takes the session over: the old
/// connection is closed (5.0: after an optional DISCONNECT 0x8E without Session Expiry
/// Interval, and nothing after it), the new one resumes the session with its subscription.
const TAKEOVER: Case = Case {
    id: "session.takeover-closes-old-connection",
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

/// Where 5.0 describes the DISCONNECT 0x8E before a take-over close.
const TAKEOVER_SHOULD: &str = "5.0 MQTT-3.1.4-3 and section 4.13.1";

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
            // 5.0 section 3.1.4: the Server "sends a DISCONNECT packet to the existing
            // Client with Reason Code of 0x8E (Session taken over) as described in section
            // 4.13" and MUST close: the close is the MUST, the DISCONNECT the 4.13 SHOULD.
            Ok(None) => note_disconnect_code(
                t,
                "a",
                None,
                &[ReasonCode::SESSION_TAKEN_OVER],
                TAKEOVER_SHOULD,
            ),
            Ok(Some(Packet::Disconnect(d))) => {
                note_disconnect_code(
                    t,
                    "a",
                    Some(d.reason_code),
                    &[ReasonCode::SESSION_TAKEN_OVER],
                    TAKEOVER_SHOULD,
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
    id: "session.expires-after-interval",
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

/// Clean Start 1 discards an existing session: Session Present 0, and nothing of the old
/// session (its subscription) is left for a later Clean Start 0.
const CLEAN_DISCARDS: Case = Case {
    id: "session.clean-start-discards-session",
    title: "Clean Session/Start 1 gives Session Present 0 and discards the stored session",
    protocols: BOTH,
    statements: &[
        v311("MQTT-3.1.2-6"),
        v311("MQTT-3.2.2-1"),
        v311("MQTT-3.2.2-3"),
        v5("MQTT-3.1.2-4"),
        v5("MQTT-3.1.2-6"),
        v5("MQTT-3.2.2-2"),
        v5("MQTT-3.2.2-3"),
    ],
    requires: &[],
    body: |t| Box::pin(clean_discards(t)),
};

async fn clean_discards(t: &mut Test) -> Verdict {
    let topic = t.topic("s");
    // A session with a subscription in it.
    let mut a = t.client("a").persistent_session().connect().await?;
    a.subscribe(&topic, Q0).granted().await?;
    a.disconnect().await?;

    // Clean Start 1: the server discards it.
    let mut a = t.client("a").clean_start(true).send_connect().await?;
    a.expect(connack().accepted().session_present(false))
        .because(&cite(t, "MQTT-3.2.2-1", "MQTT-3.2.2-2"))
        .await?;
    a.disconnect().await?;

    // Clean Start 0 now finds no session: Session Present 0 and no subscription.
    let mut a = t.client("a").persistent_session().send_connect().await?;
    a.expect(connack().accepted().session_present(false))
        .because(&cite_all(
            t,
            &["MQTT-3.1.2-6", "MQTT-3.2.2-3"],
            &["MQTT-3.1.2-4", "MQTT-3.1.2-6", "MQTT-3.2.2-3"],
        ))
        .await?;
    let mut b = t.client("b").connect().await?;
    b.publish(&topic).payload("for the old session").send().await?;
    a.expect_nothing(t.quiet())
        .await
        .map_err(|e| e.because(&cite(t, "MQTT-3.1.2-6", "MQTT-3.1.2-4")))
}

/// Clean Start 0 on a stored session resumes it: Session Present 1, and its subscription is
/// still there.
const RESUMED: Case = Case {
    id: "session.resumed-with-session-present",
    title: "Clean Session/Start 0 resumes a stored session with Session Present 1",
    protocols: BOTH,
    statements: &[
        v311("MQTT-3.1.2-4"),
        v311("MQTT-3.2.2-2"),
        v311("MQTT-3.2.2-3"),
        v311("MQTT-3.1.3-2"),
        v5("MQTT-3.1.2-5"),
        v5("MQTT-3.1.2-6"),
        v5("MQTT-3.1.2-23"),
        v5("MQTT-3.2.2-3"),
        v5("MQTT-3.1.3-2"),
    ],
    requires: &[],
    body: |t| Box::pin(resumed(t)),
};

async fn resumed(t: &mut Test) -> Verdict {
    let topic = t.topic("s");
    // A new client id: no session yet, so Session Present 0.
    let mut a = t.client("a").persistent_session().send_connect().await?;
    a.expect(connack().accepted().session_present(false))
        .because(&cite_all(t, &["MQTT-3.2.2-3"], &["MQTT-3.1.2-6", "MQTT-3.2.2-3"]))
        .await?;
    a.subscribe(&topic, Q0).granted().await?;
    a.disconnect().await?;

    // The same client id again: the session is there.
    let mut a = a.reconnect().send_connect().await?;
    a.expect(connack().accepted().session_present(true))
        .because(&cite_all(
            t,
            &["MQTT-3.1.2-4", "MQTT-3.2.2-2"],
            &["MQTT-3.1.2-5", "MQTT-3.1.2-23", "MQTT-3.2.2-3"],
        ))
        .await?;
    let mut b = t.client("b").connect().await?;
    b.publish(&topic).payload("still subscribed").send().await?;
    a.expect(publish(&topic).payload("still subscribed"))
        .because(&cite_all(
            t,
            &["MQTT-3.1.2-4", "MQTT-3.1.3-2"],
            &["MQTT-3.1.2-5", "MQTT-3.1.3-2"],
        ))
        .await?;
    Ok(())
}

/// QoS 1 messages published while a persistent session's client is away are queued and
/// delivered when it comes back.
const QUEUED_QOS1: Case = Case {
    id: "session.queued-qos1-delivered-on-resume",
    title: "QoS 1 messages for an absent client are queued in its session and delivered on resume",
    protocols: BOTH,
    statements: &[
        v311("MQTT-3.1.2-5"),
        v311("MQTT-3.2.2-2"),
        v311("MQTT-4.5.0-1"),
        v5("MQTT-3.1.2-23"),
        v5("MQTT-3.2.2-3"),
        v5("MQTT-4.5.0-1"),
    ],
    requires: &[Qos1],
    body: |t| Box::pin(queued_qos1(t)),
};

async fn queued_qos1(t: &mut Test) -> Verdict {
    let topic = t.topic("q");
    let mut a = t.client("a").persistent_session().connect().await?;
    let granted = a.subscribe(&topic, Q1).granted().await?;
    need_granted(&granted, Q1)?;
    a.disconnect().await?;

    let mut b = t.client("b").connect().await?;
    b.publish(&topic).qos(Q1).payload("queued").acked().await?;

    let mut a = a.reconnect().send_connect().await?;
    a.expect(connack().accepted().session_present(true))
        .because(&cite(t, "MQTT-3.2.2-2", "MQTT-3.2.2-3"))
        .await?;
    let m = a
        .expect(publish(&topic).qos(Q1).payload("queued"))
        .because(&cite_all(
            t,
            &["MQTT-3.1.2-5", "MQTT-4.5.0-1"],
            &["MQTT-3.1.2-23", "MQTT-4.5.0-1"],
        ))
        .await?;
    a.ack(&m).await?;
    Ok(())
}
