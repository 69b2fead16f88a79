//! Topic names and filters: `+`, `#`, and `$`-topics.

use crate::cases::prelude::*;

pub(crate) const CASES: &[Case] = &[
    SINGLE_LEVEL,
    MULTI_LEVEL,
    DOLLAR,
];

/// `+` matches exactly one level, including an empty one.
const SINGLE_LEVEL: Case = Case {
    id: "topics.single-level-wildcard",
    title: "`+` matches exactly one topic level (an empty level too)",
    protocols: BOTH,
    statements: &[
        v311("MQTT-3.3.2-3"),
        v311("MQTT-4.5.0-1"),
        v5("MQTT-3.3.2-3"),
        v5("MQTT-4.5.0-1"),
    ],
    requires: &[Wildcards],
    body: |t| Box::pin(single_level(t)),
};

async fn single_level(t: &mut Test) -> Verdict {
    let p = t.prefix();
    let because = cite_all(t, &["MQTT-3.3.2-3", "MQTT-4.5.0-1"], &["MQTT-3.3.2-3", "MQTT-4.5.0-1"]);
    let mut sub = t.client("sub").connect().await?;
    sub.subscribe(&format!("{p}/+/x"), Q0).granted().await?;
    let mut publ = t.client("pub").connect().await?;
    for (topic, _matches) in [
        (format!("{p}/a/x"), true),
        (format!("{p}/a/b/x"), false),
        (format!("{p}/x"), false),
        (format!("{p}//x"), true),
        (format!("{p}/a/x/y"), false),
    ] {
        publ.publish(&topic).payload(&topic).send().await?;
    }
    sub.expect(publish(format!("{p}/a/x")))
        .because(&because)
        .await?;
    sub.expect(publish(format!("{p}//x")))
        .because(&because)
        .await?;
    // None of the others.
    sub.expect_nothing(t.quiet())
        .await
        .map_err(|e| e.because(&because))
}

/// `#` matches the parent level and any number of child levels; matching is exact
/// (no case folding or normalisation).
const MULTI_LEVEL: Case = Case {
    id: "topics.multi-level-wildcard",
    title: "`#` matches the parent and every child level, and nothing else",
    protocols: BOTH,
    statements: &[
        v311("MQTT-3.3.2-3"),
        v311("MQTT-4.7.3-4"),
        v5("MQTT-3.3.2-3"),
        v5("MQTT-4.7.3-4"),
    ],
    requires: &[Wildcards],
    body: |t| Box::pin(multi_level(t)),
};

async fn multi_level(t: &mut Test) -> Verdict {
    let p = t.prefix();
    let because = cite_all(t, &["MQTT-3.3.2-3", "MQTT-4.7.3-4"], &["MQTT-3.3.2-3", "MQTT-4.7.3-4"]);
    let mut sub = t.client("sub").connect().await?;
    sub.subscribe(&format!("{p}/a/#"), Q0).granted().await?;
    let mut publ = t.client("pub").connect().await?;
    let matching = [format!("{p}/a"), format!("{p}/a/b"), format!("{p}/a/b/c")];
    let other = [format!("{p}/ab"), format!("{p}/b/a"), format!("{p}/A/b")];
    for topic in matching.iter().chain(&other) {
        publ.publish(topic).payload(topic).send().await?;
    }
    for topic in &matching {
        sub.expect(publish(topic.as_str()).payload(topic))
            .because(&because)
            .await?;
    }
    sub.expect_nothing(t.quiet())
        .await
        .map_err(|e| e.because(&because))
}

/// Filters starting with a wildcard do not match topics starting with `$`.
///
/// Uses the target's own `$`-topics (such as `$SYS/...`): a probe subscribes to `$SYS/#` to find
/// one; if the target refuses that subscription (a failure code, or closing the connection,
/// which other cases judge) or shows no `$`-topic within 2 s, the case is skipped, since there
/// is then nothing to check. A client then subscribes to `#` and to `+/<second level>/#`: no
/// `$` topic may reach it. Other cases' traffic does, and is ignored, even invalid packets a
/// lenient server forwards (the cases that sent them judge them).
const DOLLAR: Case = Case {
    id: "topics.dollar-topics-not-matched-by-wildcards",
    title: "`#` and `+/...` do not match topics that start with `$`",
    protocols: BOTH,
    statements: &[v311("MQTT-4.7.2-1"), v5("MQTT-4.7.2-1")],
    requires: &[Wildcards],
    body: |t| Box::pin(dollar(t)),
};

async fn dollar(t: &mut Test) -> Verdict {
    let mut probe = t.client("probe").connect().await?;
    let (id, _) = probe.subscribe("$SYS/#", Q0).send().await?;
    if !probe.arrives(&suback(id), t.timeout()).await? && probe.is_closed() {
        return Err(skip("the target closed the connection on a SUBSCRIBE to $SYS/# (judged by the subscribe cases), so no $-topic can be observed"));
    }
    // Already there, or already waited for: no second wait.
    let ack = probe.expect(suback(id)).within(Duration::ZERO).await?;
    if !ack.reason_codes.iter().all(|c| c.is_success()) {
        return Err(skip("the target refused a subscription to $SYS/#, so no $-topic can be observed"));
    }
    let seen = match probe
        .expect(publish_under("$"))
        .within(Duration::from_secs(2))
        .await
    {
        Ok(m) => m.topic.to_string(),
        Err(CaseError::Fail(_)) => {
            return Err(skip("the target published no $-topic within 2 s, so there is nothing to check"))
        }
        Err(e) => return Err(e),
    };
    probe.disconnect().await?;
    t.observe(format!("the target publishes $-topics such as {seen}"));
    let second = seen.split('/').nth(1).unwrap_or("#");
    let plus_filter = if second == "#" || second.is_empty() {
        "+/#".to_string()
    } else {
        format!("+/{second}/#")
    };
    let mut sub = t.client("sub").connect().await?;
    sub.skip_invalid_packets_except_under("$");
    let ack = sub
        .subscribe("#", Q0)
        .also(&plus_filter, Q0)
        .suback()
        .await?;
    if !ack.reason_codes.iter().all(|c| c.is_success()) {
        return Err(skip(format!(
            "the target refused the subscription to # or {plus_filter} (codes {:?})",
            ack.reason_codes.iter().map(|c| c.0).collect::<Vec<_>>()
        )));
    }
    let wait = t.quiet() + Duration::from_secs(1);
    sub.expect_no(publish_under("$"), wait)
        .await
        .map_err(|e| e.because(&cite(t, "MQTT-4.7.2-1", "MQTT-4.7.2-1")))
}
