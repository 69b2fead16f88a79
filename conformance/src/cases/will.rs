//! The Will Message.

use super::prelude::*;

pub(crate) const CASES: &[Case] = &[ON_ABRUPT_CLOSE, NOT_AFTER_DISCONNECT, ON_KEEP_ALIVE_EXPIRY];

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
