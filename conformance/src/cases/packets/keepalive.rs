//! Keep Alive and PINGREQ / PINGRESP.

use crate::cases::prelude::*;

pub(crate) const CASES: &[Case] = &[
    EXPIRY,
    PING_KEEPS_ALIVE,
];

/// A client that sends nothing for one and a half times its Keep Alive is disconnected.
const EXPIRY: Case = Case {
    id: "keepalive.silent-client-disconnected",
    title: "The server closes a connection silent for 1.5 times the Keep Alive",
    protocols: BOTH,
    statements: &[
        v311("MQTT-3.1.2-24"),
        v5("MQTT-3.1.2-22"),
        v5("MQTT-3.2.2-22"),
    ],
    requires: &[],
    body: |t| Box::pin(expiry(t)),
};

/// The Keep Alive of the silent-client cases: long enough that a server whose lateness grows
/// with the Keep Alive (RabbitMQ closes at 3 x Keep Alive) is later than the timer slack allows,
/// short enough for the case's deadline (1.5 x 8 s + 10 s of default slack).
pub(super) const SILENT_KEEP_ALIVE: u16 = 8;

async fn expiry(t: &mut Test) -> Verdict {
    let mut c = t
        .client("c")
        .keep_alive(SILENT_KEEP_ALIVE)
        .connect()
        .await?;
    let ka = effective_keep_alive(&c, SILENT_KEEP_ALIVE);
    if ka == 0 || ka > 10 {
        return Err(skip(format!(
            "the server imposes Server Keep Alive {ka}, too long (or off) for a quick check"
        )));
    }
    if ka != SILENT_KEEP_ALIVE {
        t.observe(format!("the server set Server Keep Alive {ka}"));
    }
    let limit = keep_alive_limit(t, ka);
    let due = 1.5 * f64::from(ka);
    let closed = c
        .expect_closed()
        .within(limit)
        .because(&cite_all(
            t,
            &["MQTT-3.1.2-24"],
            &["MQTT-3.1.2-22", "MQTT-3.2.2-22"],
        ))
        .await
        .map_err(|e| timer_failure(t, e, format!("1.5 x Keep Alive is {due:.1} s")))?;
    // The specification fixes when the connection is due to close, not how promptly the
    // server notices: lateness within the slack is reported, not judged.
    let after = closed.after.as_secs_f64();
    t.observe(format!(
        "Keep Alive {ka} s: closed {after:.2} s after the last packet (1.5 x Keep Alive is {due:.1} s: {}; timer slack {:.1} s)",
        if after > due {
            format!("{:.2} s late", after - due)
        } else {
            "on time".to_string()
        },
        t.slack().as_secs_f64()
    ));
    Ok(())
}

/// PINGREQ at half the Keep Alive keeps the connection open well past 1.5 times it, and each
/// gets a PINGRESP.
const PING_KEEPS_ALIVE: Case = Case {
    id: "keepalive.pingreq-answered-and-keeps-alive",
    title: "Every PINGREQ gets a PINGRESP, and PINGREQs keep the connection open",
    protocols: BOTH,
    statements: &[
        v311("MQTT-3.12.4-1"),
        v311("MQTT-3.1.2-24"),
        v5("MQTT-3.12.4-1"),
        v5("MQTT-3.1.2-22"),
    ],
    requires: &[],
    body: |t| Box::pin(ping_keeps_alive(t)),
};

async fn ping_keeps_alive(t: &mut Test) -> Verdict {
    let mut c = t.client("c").keep_alive(1).connect().await?;
    let ka = effective_keep_alive(&c, 1);
    if ka == 0 || ka > 5 {
        return Err(skip(format!(
            "the server imposes Server Keep Alive {ka}, too long (or off) for a quick check"
        )));
    }
    // Longer than the server could wait before closing a silent connection.
    let span = keep_alive_limit(t, ka) + Duration::from_secs(1);
    let every = Duration::from_millis(u64::from(ka) * 500);
    let start = tokio::time::Instant::now();
    let mut pings = 0;
    while start.elapsed() < span {
        t.sleep(every).await;
        c.ping().await?;
        pings += 1;
    }
    t.observe(format!(
        "{pings} PINGREQ over {:.1} s, each answered",
        start.elapsed().as_secs_f64()
    ));
    c.disconnect().await
}
