//! The generated checks, proven: each passes against the reference broker, and fails, naming
//! the combination, against one that breaks the rule it judges (a test-only fault, or a proxy
//! that alters packets).

mod common;

use common::proxy::{self, alter, rewrite, Dir};
use common::{assert_fails, port, run_cases, show};
use touchstone_broker::server::{Server, ServerConfig};
use touchstone_codec::{Packet, Protocol};
use touchstone_conformance::run::outcome::{CaseResult, Outcome};

const TOPICS: &str = "topics.generated-matching-matrix";

async fn start(
    configure: impl FnOnce(&mut ServerConfig),
) -> touchstone_broker::server::RunningServer {
    let mut config = ServerConfig::default();
    configure(&mut config);
    Server::start(config)
        .await
        .expect("start the reference broker")
}

/// A proxy in front of `port` that lets `change` alter each subscription of every SUBSCRIBE
/// on its way to the broker (returning true when it did).
async fn altering_subscriptions(
    port: u16,
    change: fn(&mut touchstone_codec::Subscription) -> bool,
) -> proxy::Proxy {
    proxy::start(
        port,
        alter(move |dir, v, bytes| {
            rewrite(v, bytes, |packet| match packet {
                Packet::Subscribe(s) if dir == Dir::ToBroker => {
                    s.filters.iter_mut().map(change).fold(false, |a, b| a | b)
                }
                _ => false,
            })
        }),
    )
    .await
}

fn failure_of(results: &[CaseResult], id: &str, p: Protocol) -> String {
    let r = results
        .iter()
        .find(|r| r.id == id && r.protocol == p)
        .unwrap_or_else(|| panic!("{id} did not run for {p}"));
    r.failure
        .as_ref()
        .map(|f| f.got.clone())
        .unwrap_or_else(|| panic!("{id} [{p}] did not fail: {}", show(r)))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_topic_matrix_passes_against_the_reference_broker_with_and_without_subscription_ids() {
    for ids in [true, false] {
        let b = start(|c| c.broker.subscription_identifiers = ids).await;
        let results = run_cases(port(&b), &[TOPICS], None).await;
        assert_eq!(results.len(), 2);
        for r in &results {
            assert_eq!(r.outcome, Outcome::Pass, "{}", show(r));
            assert!(
                r.observations
                    .iter()
                    .any(|o| o.contains("filters x 17 topic names")),
                "{:?}",
                r.observations
            );
        }
        let p = proxy::start(port(&b), proxy::unchanged()).await;
        for r in &run_cases(p.port, &[TOPICS], None).await {
            assert_eq!(r.outcome, Outcome::Pass, "{}", show(r));
        }
    }
}

/// A broker whose wildcards match `$`-topics: 3.1.1 and 5.0 [MQTT-4.7.2-1].
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_topic_matrix_fails_a_broker_matching_dollar_topics_with_wildcards_mqtt_4_7_2_1() {
    let b = start(|c| c.broker.faults.dollar_topics_match_wildcards = true).await;
    let results = run_cases(port(&b), &[TOPICS], None).await;
    for p in [Protocol::V3_1_1, Protocol::V5] {
        assert_fails(&results, TOPICS, p, "MQTT-4.7.2-1");
        let got = failure_of(&results, TOPICS, p);
        assert!(got.contains(r##""#" x "$P/a""##), "{got}");
    }
}

/// A broker whose `#` is a `+` (no parent level, no deeper levels): the filters are rewritten
/// on the way in. 3.1.1 and 5.0 [MQTT-4.5.0-1].
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_topic_matrix_fails_a_broker_whose_multi_level_wildcard_is_one_level_mqtt_4_5_0_1() {
    let b = start(|_| {}).await;
    let p = altering_subscriptions(port(&b), |f| {
        if !f.filter.ends_with("/a/#") {
            return false;
        }
        let plus = format!("{}+", &f.filter[..f.filter.len() - 1]);
        f.filter = plus.as_str().into();
        true
    })
    .await;
    let results = run_cases(p.port, &[TOPICS], None).await;
    for v in [Protocol::V3_1_1, Protocol::V5] {
        assert_fails(&results, TOPICS, v, "MQTT-4.5.0-1");
        let got = failure_of(&results, TOPICS, v);
        assert!(got.contains("not delivered"), "{got}");
        assert!(got.contains(r##""P/a/#" x "P/a""##), "{got}");
    }
}

/// A broker that folds case in topic filters (here: the proxy lowercases the filters with an
/// upper-case level): 3.1.1 and 5.0 [MQTT-4.7.3-4], seen as deliveries to the wrong filters
/// ([MQTT-3.3.2-3]) and none to the right ones ([MQTT-4.5.0-1]).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_topic_matrix_fails_a_broker_folding_case_mqtt_3_3_2_3() {
    let b = start(|_| {}).await;
    let p = altering_subscriptions(port(&b), |f| {
        if !f.filter.contains("/A") {
            return false;
        }
        let lower = f.filter.to_lowercase();
        f.filter = lower.as_str().into();
        true
    })
    .await;
    let results = run_cases(p.port, &[TOPICS], None).await;
    for v in [Protocol::V3_1_1, Protocol::V5] {
        assert_fails(&results, TOPICS, v, "MQTT-3.3.2-3");
        assert_fails(&results, TOPICS, v, "MQTT-4.5.0-1");
        let got = failure_of(&results, TOPICS, v);
        assert!(got.contains("non-matching combinations delivered"), "{got}");
        assert!(got.contains(r#""P/A" x "P/a""#), "{got}");
        assert!(got.contains(r#""P/A" x "P/A""#), "{got}");
    }
}

const OPTIONS: &str = "subscribe.generated-options-matrix";

/// Switches a fault on.
type Configure = fn(&mut ServerConfig);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_options_matrix_passes_against_the_reference_broker() {
    let b = start(|_| {}).await;
    let results = run_cases(port(&b), &[OPTIONS], None).await;
    assert_eq!(results.len(), 1, "5.0 only");
    let r = &results[0];
    assert_eq!(r.outcome, Outcome::Pass, "{}", show(r));
    assert!(
        r.observations
            .iter()
            .any(|o| o == "144 combinations, 144 judged"),
        "{:?}",
        r.observations
    );
}

/// Each fault breaks one option; the matrix fails citing its statement, naming a combination
/// with the option set.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_options_matrix_fails_a_broker_breaking_any_option() {
    let faults: [(Configure, &str, &str); 4] = [
        (
            |c| c.broker.faults.ignore_no_local = true,
            "MQTT-3.8.3-3",
            "NL 1",
        ),
        (
            |c| c.broker.faults.forward_retain_flag = true,
            "MQTT-3.3.1-12",
            "RAP 0",
        ),
        (
            |c| c.broker.faults.resubscribe_ignored = true,
            "MQTT-3.8.4-3",
            "existing subscription",
        ),
        (
            |c| c.broker.faults.deliver_at_publish_qos = true,
            "MQTT-3.8.4-8",
            "QoS 0",
        ),
    ];
    for (fault, statement, combination) in faults {
        let b = start(fault).await;
        let results = run_cases(port(&b), &[OPTIONS], None).await;
        assert_fails(&results, OPTIONS, Protocol::V5, statement);
        let got = failure_of(&results, OPTIONS, Protocol::V5);
        assert!(got.contains(combination), "{statement}: {got}");
    }
}

/// A broker that treats Retain Handling 1 as 0 (the proxy rewrites it on the way in): the
/// retained message comes again for an existing subscription, 5.0 [MQTT-3.3.1-10].
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_options_matrix_fails_a_broker_ignoring_retain_handling_1_mqtt_3_3_1_10() {
    let b = start(|_| {}).await;
    let p = altering_subscriptions(port(&b), |f| {
        if f.options.retain_handling != touchstone_codec::RetainHandling::SendAtSubscribeIfNew {
            return false;
        }
        f.options.retain_handling = touchstone_codec::RetainHandling::SendAtSubscribe;
        true
    })
    .await;
    let results = run_cases(p.port, &[OPTIONS], None).await;
    assert_fails(&results, OPTIONS, Protocol::V5, "MQTT-3.3.1-10");
    let got = failure_of(&results, OPTIONS, Protocol::V5);
    assert!(
        got.contains("RH 1, retained message, existing subscription] an extra retained"),
        "{got}"
    );
}

const CODES: &str = "reason-codes.provoked-codes-allowed";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_reason_code_case_passes_against_the_reference_broker() {
    let b = start(|_| {}).await;
    let results = run_cases(port(&b), &[CODES], None).await;
    assert_eq!(results.len(), 2);
    for r in &results {
        assert_eq!(r.outcome, Outcome::Pass, "{}", show(r));
        assert!(
            r.observations
                .iter()
                .any(|o| o.starts_with("codes seen: CONNACK 0x00")),
            "{:?}",
            r.observations
        );
    }
}

/// A server whose PUBACK carries a code of another packet's table (0x8F, Topic Filter
/// invalid), or whose 3.1.1 SUBACK a code 3.1.1 does not define (0x03): the proxy rewrites it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_reason_code_case_fails_a_code_the_packet_does_not_allow_mqtt_3_4_2_1_mqtt_3_9_3_2() {
    let b = start(|_| {}).await;
    let p = proxy::start(
        port(&b),
        alter(|dir, v, bytes| {
            rewrite(v, bytes, |packet| match packet {
                Packet::PubAck(a) if dir == Dir::ToClient && v == Protocol::V5 => {
                    a.reason_code = touchstone_codec::ReasonCode(0x8F);
                    true
                }
                // The case's SUBACK (three filters), not the capability probe's.
                Packet::SubAck(a)
                    if dir == Dir::ToClient
                        && v == Protocol::V3_1_1
                        && a.reason_codes.len() == 3 =>
                {
                    a.reason_codes[0] = touchstone_codec::ReasonCode(0x03);
                    true
                }
                _ => false,
            })
        }),
    )
    .await;
    let results = run_cases(p.port, &[CODES], None).await;
    assert_fails(&results, CODES, Protocol::V5, "MQTT-3.4.2-1");
    assert_fails(&results, CODES, Protocol::V3_1_1, "MQTT-3.9.3-2");
}
