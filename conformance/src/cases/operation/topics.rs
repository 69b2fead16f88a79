//! Topic names and filters: `+`, `#`, and `$`-topics.

use std::collections::BTreeSet;

use crate::cases::prelude::*;

pub(crate) const CASES: &[Case] = &[
    SINGLE_LEVEL,
    MULTI_LEVEL,
    DOLLAR,
    GENERATED_MATRIX,
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

/// Filters x topic names generated from the grammar, judged against the codec's matcher
/// (`touchstone_codec::topic::topic_matches`): every match delivered, nothing else.
const GENERATED_MATRIX: Case = Case {
    id: "topics.generated-matching-matrix",
    title: "Generated filters x topic names: every match delivered and nothing else, as the codec's matcher says",
    protocols: BOTH,
    statements: &[
        v311("MQTT-3.3.2-3"),
        v311("MQTT-4.5.0-1"),
        v311("MQTT-4.7.1-2"),
        v311("MQTT-4.7.1-3"),
        v311("MQTT-4.7.2-1"),
        v311("MQTT-4.7.3-4"),
        v5("MQTT-3.3.2-3"),
        v5("MQTT-4.5.0-1"),
        v5("MQTT-4.7.1-1"),
        v5("MQTT-4.7.1-2"),
        v5("MQTT-4.7.2-1"),
        v5("MQTT-4.7.3-4"),
    ],
    requires: &[Wildcards],
    body: |t| Box::pin(generated_matrix(t)),
};

/// The generated filters and topic names of one run of the matrix.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct TopicMatrix {
    /// Topic filters (shared ones as `$share/{name}/{filter}`).
    pub(crate) filters: Vec<String>,
    /// Topic names; the `$`-topic is last.
    pub(crate) topics: Vec<String>,
}

impl TopicMatrix {
    /// The matrix under `prefix` (a topic of several levels unique to the run): `+` and `#` at
    /// every position, alone and at the ends, empty levels, leading and trailing `/`, a
    /// `$`-topic, non-ASCII levels and case; shared filters with `share` (a ShareName).
    pub(crate) fn generate(prefix: &str, share: Option<&str>) -> TopicMatrix {
        let p = prefix;
        let levels: Vec<&str> = p.split('/').collect();
        // `prefix` with level `i` replaced by `with`.
        let replace = |i: usize, with: &str| {
            let mut l = levels.clone();
            l[i] = with;
            l.join("/")
        };
        let topics = vec![
            p.to_string(),
            format!("{p}/a"),
            format!("{p}/a/b"),
            format!("{p}/a/b/c"),
            format!("{p}/a//c"),
            format!("{p}/a/"),
            format!("{p}//"),
            format!("{p}/A"),
            format!("{p}/A/b"),
            format!("{p}/ab"),
            format!("{p}/b/a"),
            format!("{p}/a b"),
            format!("{p}/é"),
            format!("{p}/é/ü"),
            format!("{p}/e\u{301}"),
            format!("/{p}/a"),
            format!("${p}/a"),
        ];
        let mut filters = vec![
            format!("{p}/a"),
            format!("{p}/A"),
            format!("{p}/a/"),
            format!("{p}/é/ü"),
            format!("{p}/e\u{301}"),
            format!("{p}/+"),
            format!("{p}/+/b"),
            format!("{p}/a/+"),
            format!("{p}/+/+"),
            format!("{p}/+/+/+"),
            format!("{p}/a/+/c"),
            format!("{p}/+/"),
            format!("{p}//+"),
            format!("{p}/é/+"),
            format!("{p}/+/ü"),
            format!("{p}/#"),
            format!("{p}/a/#"),
            format!("{p}/+/#"),
            format!("{p}/a/b/#"),
            format!("{p}/a/b/c/#"),
            format!("{p}/A/#"),
            format!("{}/a", replace(0, "+")),
            format!("{}/#", replace(levels.len() - 1, "+")),
            format!("+/{p}/a"),
            format!("/{p}/+"),
            format!("/{p}/#"),
            format!("${p}/#"),
            format!("${p}/+"),
            "#".to_string(),
            "+/#".to_string(),
        ];
        if let Some(name) = share {
            filters.push(format!("$share/{name}/{p}/+"));
            filters.push(format!("$share/{name}/{p}/a/#"));
        }
        TopicMatrix { filters, topics }
    }

    /// The topic indices filter `f` matches, as the codec's matcher says.
    pub(crate) fn expected(&self, f: usize) -> BTreeSet<usize> {
        let filter = plain_filter(&self.filters[f]);
        (0..self.topics.len())
            .filter(|&t| touchstone_codec::topic::topic_matches(filter, &self.topics[t]))
            .collect()
    }

    /// [`TopicMatrix::expected`], among the topics the server took (`taken`).
    pub(crate) fn expected_of(&self, f: usize, taken: &[bool]) -> BTreeSet<usize> {
        self.expected(f)
            .into_iter()
            .filter(|&t| taken.get(t).copied().unwrap_or(false))
            .collect()
    }

    /// How many (filter, topic) combinations the matrix judges.
    pub(crate) fn size(&self) -> usize {
        self.filters.len() * self.topics.len()
    }
}

/// The filter without its `$share/{name}/` part.
fn plain_filter(f: &str) -> &str {
    match touchstone_codec::topic::split_shared(f) {
        Ok(Some((_, inner))) => inner,
        _ => f,
    }
}

/// At most this many subscriber connections at once when each filter needs its own.
const WAVE: usize = 16;

async fn generated_matrix(t: &mut Test) -> Verdict {
    let t: &Test = t;
    let share = t
        .capabilities()
        .shared_subscriptions
        .then(|| t.share_name());
    let m = TopicMatrix::generate(&t.prefix(), share.as_deref());
    let by_ids = t.is_v5() && t.capabilities().subscription_identifiers;
    let mut got: Vec<Option<BTreeSet<usize>>> = vec![None; m.filters.len()];
    let mut refused = Vec::new();
    if by_ids {
        // One subscriber: filter i has Subscription Identifier i + 1, and each delivery says
        // which subscriptions it is for (5.0 MQTT-3.3.4-3 to -5).
        let mut sub = t.client("sub").connect().await?;
        for (i, f) in m.filters.iter().enumerate() {
            let id = u32::try_from(i + 1).unwrap_or(u32::MAX);
            match subscribe_one(&mut sub, f, Some(id)).await? {
                true => got[i] = Some(BTreeSet::new()),
                false => refused.push(f.clone()),
            }
        }
        let taken = publish_all(t, &m).await?;
        let expected = |i: usize| {
            if got[i].is_some() {
                m.expected_of(i, &taken)
            } else {
                BTreeSet::new()
            }
        };
        let want: Vec<BTreeSet<usize>> = (0..m.filters.len()).map(expected).collect();
        collect(t, &mut sub, &m, &want, &mut got, true).await?;
        judge(t, &m, &got, &refused, &taken, "one connection, a Subscription Identifier per filter")
    } else {
        // A connection per filter, at most WAVE at once.
        let mut wanted = Vec::new();
        let mut waves = 0;
        for start in (0..m.filters.len()).step_by(WAVE) {
            waves += 1;
            let end = (start + WAVE).min(m.filters.len());
            let mut subs = Vec::new();
            for (i, filter) in m.filters.iter().enumerate().take(end).skip(start) {
                let mut s = t.client(&format!("sub{i}")).connect().await?;
                if subscribe_one(&mut s, filter, None).await? {
                    got[i] = Some(BTreeSet::new());
                    subs.push((i, s));
                } else {
                    refused.push(filter.clone());
                }
            }
            let taken = publish_all(t, &m).await?;
            let runs = subs.into_iter().map(|(i, mut s)| {
                let want: Vec<BTreeSet<usize>> = (0..m.filters.len())
                    .map(|j| {
                        if j == i {
                            m.expected_of(i, &taken)
                        } else {
                            BTreeSet::new()
                        }
                    })
                    .collect();
                let mut mine: Vec<Option<BTreeSet<usize>>> = vec![None; m.filters.len()];
                mine[i] = Some(BTreeSet::new());
                let m = &m;
                async move {
                    let r = collect(t, &mut s, m, &want, &mut mine, false).await;
                    s.close().await;
                    r.map(|()| (i, mine[i].take()))
                }
            });
            for r in futures_util::future::join_all(runs).await {
                let (i, seen) = r?;
                got[i] = seen;
            }
            wanted.push(taken);
        }
        // A topic counts as taken when every wave's publisher got it through.
        let taken: Vec<bool> = (0..m.topics.len())
            .map(|i| wanted.iter().all(|w: &Vec<bool>| w[i]))
            .collect();
        judge(
            t,
            &m,
            &got,
            &refused,
            &taken,
            &format!("a connection per filter, in {waves} waves of at most {WAVE}"),
        )
    }
}

/// Subscribes `c` to `filter` at QoS 0 (with Subscription Identifier `id`); false if the
/// server refused it (allowed: section 3.9.3 of both versions).
async fn subscribe_one(
    c: &mut crate::harness::client::Client,
    filter: &str,
    id: Option<u32>,
) -> Result<bool, CaseError> {
    let mut s = c.subscribe(filter, Q0);
    if let Some(id) = id {
        s = s.id(id);
    }
    let ack = s.suback().await?;
    Ok(ack.reason_codes.iter().all(|c| c.is_success()))
}

/// Publishes every topic of the matrix once at QoS 1 from a new connection, its index as the
/// payload, the `$`-topic last. Returns which topics the server took: a server may refuse a
/// PUBLISH it does not authorise or cannot route (5.0: a PUBACK of 0x80 or more; 3.1.1
/// [MQTT-3.3.5-2] and 5.0: the close), and then the publisher connects again for the next.
async fn publish_all(t: &Test, m: &TopicMatrix) -> Result<Vec<bool>, CaseError> {
    let mut taken = Vec::with_capacity(m.topics.len());
    let mut publ = t.client("pub").connect().await?;
    for (i, topic) in m.topics.iter().enumerate() {
        match publ.publish(topic).qos(Q1).payload(i.to_string()).acked().await {
            Ok(code) => taken.push(code.0 < 0x80),
            Err(CaseError::Fail(_)) => {
                taken.push(false);
                if publ.is_closed() {
                    publ = t.client("pub").connect().await?;
                }
            }
            Err(e) => return Err(e),
        }
    }
    publ.close().await;
    Ok(taken)
}

/// Reads deliveries on `c` until every wanted (filter, topic) came and then nothing more for
/// the quiet time, or the wait for the wanted ones runs out. With `by_ids` a delivery counts
/// for each filter whose Subscription Identifier it carries; else for the one filter `got`
/// holds. Deliveries of topics outside the matrix (other cases' traffic, for `#`) are ignored.
async fn collect(
    t: &Test,
    c: &mut crate::harness::client::Client,
    m: &TopicMatrix,
    want: &[BTreeSet<usize>],
    got: &mut [Option<BTreeSet<usize>>],
    by_ids: bool,
) -> Verdict {
    let index: std::collections::HashMap<&str, usize> = m
        .topics
        .iter()
        .enumerate()
        .map(|(i, s)| (s.as_str(), i))
        .collect();
    let mine = got.iter().position(Option::is_some);
    // The wait for the wanted deliveries slides with each one that comes: a broker (or a
    // machine) that is slow but still delivering is waited for; only a whole expectation
    // timeout without any delivery ends it (found by the mutation score: 250 ms more per
    // delivery made 43 combinations "not delivered").
    let mut deadline = tokio::time::Instant::now() + t.timeout();
    let mut quiet_until: Option<tokio::time::Instant> = None;
    loop {
        let complete = want.iter().enumerate().all(|(f, w)| {
            got[f]
                .as_ref()
                .is_none_or(|g| w.is_subset(g))
        });
        let now = tokio::time::Instant::now();
        let until = if complete {
            *quiet_until.get_or_insert(now + t.quiet())
        } else {
            deadline
        };
        if now >= until {
            return Ok(());
        }
        let Some(packet) = c.poll_packet(until - now).await? else {
            continue;
        };
        let Packet::Publish(p) = packet else { continue };
        let Some(&topic) = index.get(p.topic.as_str()) else {
            continue;
        };
        deadline = tokio::time::Instant::now() + t.timeout();
        if by_ids {
            for id in &p.properties.subscription_identifiers {
                let f = (*id as usize).wrapping_sub(1);
                match got.get_mut(f) {
                    Some(Some(g)) => {
                        g.insert(topic);
                    }
                    _ => {
                        return Err(CaseError::fail(
                            "Subscription Identifiers of the subscriptions made",
                            format!("{} with Subscription Identifier {id}", summary::packet(&Packet::Publish(p.clone()))),
                        )
                        .because(&[v5("MQTT-3.3.4-3")]))
                    }
                }
            }
        } else if let Some(f) = mine {
            if let Some(g) = got[f].as_mut() {
                g.insert(topic);
            }
        }
    }
}

/// The verdict: each filter's deliveries against the codec's matcher, the failing
/// combinations named.
fn judge(
    t: &Test,
    m: &TopicMatrix,
    got: &[Option<BTreeSet<usize>>],
    refused: &[String],
    taken: &[bool],
    how: &str,
) -> Verdict {
    let dollar = m.topics.len() - 1;
    let judged = got.iter().filter(|g| g.is_some()).count();
    if judged == 0 {
        return Err(skip("the server refused every filter of the matrix"));
    }
    if !refused.is_empty() {
        t.observe(format!(
            "the server refused {} filter{} (allowed; not judged): {}",
            refused.len(),
            if refused.len() == 1 { "" } else { "s" },
            refused.join(", ")
        ));
    }
    // Topics the server refused are not judged (a refusal is allowed).
    let not_taken: Vec<&str> = (0..m.topics.len())
        .filter(|&i| !taken[i])
        .map(|i| m.topics[i].as_str())
        .collect();
    if !not_taken.is_empty() {
        t.observe(format!(
            "the server refused the PUBLISH of {} topic name{} (allowed: 3.1.1 MQTT-3.3.5-2, a 5.0 PUBACK of 0x80 or more; not judged): {}",
            not_taken.len(),
            if not_taken.len() == 1 { "" } else { "s" },
            not_taken.join(", ")
        ));
    }
    // Was the `$`-topic routed at all? Only then does its non-delivery to `#` mean anything
    // for delivery; its delivery to a wildcard-first filter is wrong either way.
    let dollar_routed = taken[dollar]
        && got.iter().enumerate().any(|(f, g)| {
            g.as_ref().is_some_and(|g| g.contains(&dollar)) && m.expected(f).contains(&dollar)
        });
    if taken[dollar] && !dollar_routed {
        t.observe(format!(
            "the server took the client's $-topic {} but routed it to no subscription that matches it (allowed: a server may keep $-topics for itself), so its deliveries are not required",
            m.topics[dollar]
        ));
    }
    // Names relative to the prefix, `P`, for short messages.
    let prefix = t.prefix();
    let short = |s: &str| format!("{:?}", s.replacen(&prefix, "P", 1));
    let mut missing = Vec::new();
    let mut extra = Vec::new();
    let mut cites: Vec<touchstone_codec::Statement> = Vec::new();
    let mut add = |ids: [touchstone_codec::Statement; 1]| {
        if !cites.contains(&ids[0]) {
            cites.push(ids[0]);
        }
    };
    for (f, g) in got.iter().enumerate() {
        let Some(g) = g else { continue };
        let want = m.expected(f);
        for &topic in want.difference(g) {
            if !taken[topic] || (topic == dollar && !dollar_routed) {
                continue;
            }
            missing.push(format!("{} x {}", short(&m.filters[f]), short(&m.topics[topic])));
            add(cite(t, "MQTT-4.5.0-1", "MQTT-4.5.0-1"));
        }
        for &topic in g.difference(&want) {
            if !taken[topic] {
                continue;
            }
            extra.push(format!("{} x {}", short(&m.filters[f]), short(&m.topics[topic])));
            if topic == dollar {
                add(cite(t, "MQTT-4.7.2-1", "MQTT-4.7.2-1"));
            } else {
                add(cite(t, "MQTT-3.3.2-3", "MQTT-3.3.2-3"));
            }
        }
    }
    t.observe(format!(
        "{} filters x {} topic names ({} combinations, {} judged) by {how}",
        m.filters.len(),
        m.topics.len(),
        m.size(),
        judged * m.topics.len()
    ));
    if missing.is_empty() && extra.is_empty() {
        return Ok(());
    }
    let list = |v: &[String]| {
        let shown: Vec<&str> = v.iter().take(8).map(String::as_str).collect();
        format!(
            "{}{}",
            shown.join(", "),
            if v.len() > 8 {
                format!(" and {} more", v.len() - 8)
            } else {
                String::new()
            }
        )
    };
    let mut got_text = Vec::new();
    if !missing.is_empty() {
        got_text.push(format!(
            "{} matching combination{} not delivered (filter x topic): {}",
            missing.len(),
            if missing.len() == 1 { "" } else { "s" },
            list(&missing)
        ));
    }
    if !extra.is_empty() {
        got_text.push(format!(
            "{} non-matching combination{} delivered (filter x topic): {}",
            extra.len(),
            if extra.len() == 1 { "" } else { "s" },
            list(&extra)
        ));
    }
    Err(CaseError::fail(
        "every (filter, topic name) the codec's matcher matches delivered, and no other",
        format!("{} (P = {prefix})", got_text.join("; ")),
    )
    .because(&cites))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_generated_matrix_covers_the_grammar() {
        let p = "touchstone/run/v5/case";
        let m = TopicMatrix::generate(p, Some("g"));
        assert_eq!((m.filters.len(), m.topics.len()), (32, 17));
        assert_eq!(m.size(), 544);
        let f = |s: &str| m.filters.iter().position(|x| x == s).expect(s);
        let t = |s: &str| m.topics.iter().position(|x| x == s).expect(s);
        // `#` matches every topic but the `$` one; `P/#` its parent too.
        assert_eq!(m.expected(f("#")).len(), m.topics.len() - 1);
        assert!(m.expected(f(&format!("{p}/#"))).contains(&t(p)));
        // `+` matches an empty level, and one level only.
        let plus = m.expected(f(&format!("{p}/+")));
        assert!(plus.contains(&t(&format!("{p}/a"))));
        assert!(!plus.contains(&t(&format!("{p}/a/b"))));
        assert!(m.expected(f(&format!("{p}//+"))).contains(&t(&format!("{p}//"))));
        // No normalisation: é (U+00E9) is not e + U+0301; case matters.
        assert_eq!(m.expected(f(&format!("{p}/e\u{301}"))).len(), 1);
        assert!(!m.expected(f(&format!("{p}/A"))).contains(&t(&format!("{p}/a"))));
        // Shared filters match as their inner filter.
        assert_eq!(m.expected(f(&format!("$share/g/{p}/+"))), plus);
        // The leading-slash topic: `+/P/a` and `/P/#` only.
        let lead = t(&format!("/{p}/a"));
        let by: Vec<&str> = (0..m.filters.len())
            .filter(|&i| m.expected(i).contains(&lead))
            .map(|i| m.filters[i].as_str())
            .collect();
        assert_eq!(by, ["+/touchstone/run/v5/case/a", "/touchstone/run/v5/case/+", "/touchstone/run/v5/case/#", "#", "+/#"]);
        // Every filter matches at least one topic name.
        assert!((0..m.filters.len()).all(|i| !m.expected(i).is_empty()));
    }
}
