//! The Will Message (section 3.1.2.5 and following, 3.1.3.2 and 3.1.3.3): published on an
//! abrupt close, not after DISCONNECT; its retain, delay and properties.

use crate::cases::prelude::*;

pub(crate) const CASES: &[Case] = &[
    WILL_RETAINED,
    NO_WILL_FLAG,
    WILL_DELAY_RECONNECT,
    WILL_USER_PROPERTIES,
    ON_ABRUPT_CLOSE,
    NOT_AFTER_DISCONNECT,
    ON_KEEP_ALIVE_EXPIRY,
];

/// Will Retain 1: the Will is published as a retained message (a later subscriber gets it with
/// RETAIN 1).
const WILL_RETAINED: Case = Case {
    id: "will.retain-published-retained",
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
    id: "will.no-will-flag-no-will",
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
    id: "will.delay-cancelled-by-reconnect",
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
    id: "will.user-properties-in-order",
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

/// A connection that ends without DISCONNECT has its Will published (not retained, as asked).
const ON_ABRUPT_CLOSE: Case = Case {
    id: "will.published-on-abrupt-close",
    title: "The Will is published when the connection closes without DISCONNECT",
    protocols: BOTH,
    statements: &[
        v311("MQTT-3.1.2-8"),
        v311("MQTT-3.1.2-16"),
        v5("MQTT-3.1.2-8"),
        v5("MQTT-3.1.2-14"),
    ],
    requires: &[],
    body: |t| Box::pin(on_abrupt_close(t)),
};

async fn on_abrupt_close(t: &mut Test) -> Verdict {
    let topic = t.topic("will");
    let mut watcher = t.client("watcher").connect().await?;
    watcher.subscribe(&topic, Q0).granted().await?;
    let mut w = t.client("w").will(&topic, "gone").connect().await?;
    w.close().await;
    watcher
        .expect(publish(&topic).retain(false).payload("gone"))
        .because(&cite_all(
            t,
            &["MQTT-3.1.2-8", "MQTT-3.1.2-16"],
            &["MQTT-3.1.2-8", "MQTT-3.1.2-14"],
        ))
        .await?;
    Ok(())
}

/// DISCONNECT (5.0: reason 0x00) discards the Will. The same Will on a connection that then
/// goes away abruptly is published, so the silence is the DISCONNECT's doing.
const NOT_AFTER_DISCONNECT: Case = Case {
    id: "will.not-published-after-disconnect",
    title: "No Will is published after a normal DISCONNECT",
    protocols: BOTH,
    statements: &[
        v311("MQTT-3.1.2-10"),
        v311("MQTT-3.14.4-3"),
        v5("MQTT-3.1.2-10"),
        v5("MQTT-3.14.4-3"),
    ],
    requires: &[],
    body: |t| Box::pin(not_after_disconnect(t)),
};

async fn not_after_disconnect(t: &mut Test) -> Verdict {
    let topic = t.topic("will");
    let mut watcher = t.client("watcher").connect().await?;
    watcher.subscribe(&topic, Q0).granted().await?;

    let mut w = t.client("w").will(&topic, "gone").connect().await?;
    w.disconnect().await?;
    watcher
        .expect_nothing(t.quiet())
        .await
        .map_err(|e| {
            e.because(&cite_all(
                t,
                &["MQTT-3.1.2-10", "MQTT-3.14.4-3"],
                &["MQTT-3.1.2-10", "MQTT-3.14.4-3"],
            ))
        })?;

    // Control: without the DISCONNECT the same Will is published.
    let mut w = t.client("w").will(&topic, "gone").connect().await?;
    w.close().await;
    watcher.expect(publish(&topic).payload("gone")).await?;
    Ok(())
}

/// A connection the server closes for Keep Alive expiry has its Will published.
const ON_KEEP_ALIVE_EXPIRY: Case = Case {
    id: "will.published-on-keep-alive-expiry",
    title: "The Will is published when the server closes a silent connection for Keep Alive",
    protocols: BOTH,
    statements: &[
        v311("MQTT-3.1.2-8"),
        v311("MQTT-3.1.2-24"),
        v5("MQTT-3.1.2-8"),
        v5("MQTT-3.1.2-22"),
    ],
    requires: &[],
    body: |t| Box::pin(on_keep_alive_expiry(t)),
};

async fn on_keep_alive_expiry(t: &mut Test) -> Verdict {
    let topic = t.topic("will");
    let mut watcher = t.client("watcher").connect().await?;
    watcher.subscribe(&topic, Q0).granted().await?;
    let ka_asked = super::keepalive::SILENT_KEEP_ALIVE;
    let w = t
        .client("w")
        .keep_alive(ka_asked)
        .will(&topic, "timed out")
        .connect()
        .await?;
    let ka = effective_keep_alive(&w, ka_asked);
    if ka == 0 || ka > 10 {
        return Err(skip(format!(
            "the server imposes Server Keep Alive {ka}, too long (or off) for a quick check"
        )));
    }
    // `w` stays connected and silent until the server gives up on it.
    watcher
        .expect(publish(&topic).payload("timed out"))
        .within(keep_alive_limit(t, ka) + Duration::from_millis(500))
        .because(&cite_all(
            t,
            &["MQTT-3.1.2-8", "MQTT-3.1.2-24"],
            &["MQTT-3.1.2-8", "MQTT-3.1.2-22"],
        ))
        .await
        .map_err(|e| {
            timer_failure(
                t,
                e,
                format!(
                    "the silent client's 1.5 x Keep Alive is {:.1} s",
                    1.5 * f64::from(ka)
                ),
            )
        })?;
    drop(w);
    Ok(())
}
