//! Sessions: Clean Session (3.1.1) / Clean Start (5.0), Session Present, resumed sessions.

use super::prelude::*;

pub(crate) const CASES: &[Case] = &[CLEAN_DISCARDS, RESUMED, QUEUED_QOS1];

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
