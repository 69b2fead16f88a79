//! Cases can fail: run them against Mosquitto through a proxy that breaks one rule each, and
//! check they fail citing that rule; through an unaltered proxy they pass.
//!
//! Needs the `mosquitto` binary: without it each test prints a skip message and passes, unless
//! `TOUCHSTONE_REQUIRE_MOSQUITTO` is set (CI sets it).

mod common;

use common::proxy::{self, alter, rewrite, Dir};
use common::{assert_fails, mosquitto, run_cases, show};
use touchstone_codec::{Packet, Protocol, UserProperties};
use touchstone_conformance::run::outcome::Outcome;

const V3: Protocol = Protocol::V3_1_1;
const V5: Protocol = Protocol::V5;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn through_an_unaltered_proxy_the_cases_pass() {
    let Some(m) = mosquitto::start("unaltered") else {
        return;
    };
    let p = proxy::start(m.port, proxy::unchanged()).await;
    let results = run_cases(
        p.port,
        &[
            "retain.store-and-deliver",
            "qos.qos1-round-trip",
            "connect.unsupported-protocol-level",
            "connect.unsupported-protocol-version",
            "will.published-on-abrupt-close",
            "malformed.pubrel-reserved-flags",
            "properties.user-properties-forwarded-in-order",
            "topics.dollar-topics-not-matched-by-wildcards",
            "connect.bad-password-refused",
        ],
        Some(m.auth_port),
    )
    .await;
    for r in &results {
        assert_eq!(r.outcome, Outcome::Pass, "{}", show(r));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_broker_that_drops_the_retain_flag_fails_retain_store() {
    let Some(m) = mosquitto::start("retain") else {
        return;
    };
    // RETAIN cleared on every PUBLISH to clients.
    let p = proxy::start(
        m.port,
        alter(|dir, _, b| {
            let mut b = b.to_vec();
            if dir == Dir::ToClient && b[0] >> 4 == 3 {
                b[0] &= !0x01;
            }
            vec![b]
        }),
    )
    .await;
    let results = run_cases(p.port, &["retain.store-and-deliver"], None).await;
    assert_fails(&results, "retain.store-and-deliver", V3, "MQTT-3.3.1-8");
    assert_fails(&results, "retain.store-and-deliver", V5, "MQTT-3.3.1-9");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_broker_that_loses_pubacks_fails_qos1() {
    let Some(m) = mosquitto::start("puback") else {
        return;
    };
    let p = proxy::start(
        m.port,
        alter(|dir, _, b| {
            if dir == Dir::ToClient && b[0] >> 4 == 4 {
                vec![]
            } else {
                vec![b.to_vec()]
            }
        }),
    )
    .await;
    let results = run_cases(p.port, &["qos.qos1-round-trip"], None).await;
    assert_fails(&results, "qos.qos1-round-trip", V3, "MQTT-2.3.1-6");
    assert_fails(&results, "qos.qos1-round-trip", V5, "MQTT-2.2.1-5");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_broker_with_the_wrong_connack_code_fails_the_protocol_level_cases() {
    let Some(m) = mosquitto::start("connack") else {
        return;
    };
    // 0x01 (unacceptable protocol version) becomes 0x05 (not authorized).
    let p = proxy::start(
        m.port,
        alter(|dir, _, b| {
            let mut b = b.to_vec();
            if dir == Dir::ToClient && b == [0x20, 0x02, 0x00, 0x01] {
                b[3] = 0x05;
            }
            vec![b]
        }),
    )
    .await;
    let results = run_cases(
        p.port,
        &[
            "connect.unsupported-protocol-level",
            "connect.unsupported-protocol-version",
        ],
        None,
    )
    .await;
    assert_fails(
        &results,
        "connect.unsupported-protocol-level",
        V3,
        "MQTT-3.1.2-2",
    );
    assert_fails(
        &results,
        "connect.unsupported-protocol-version",
        V5,
        "MQTT-3.1.2-2",
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_broker_that_swallows_the_will_fails_the_will_case() {
    let Some(m) = mosquitto::start("will") else {
        return;
    };
    // The Will is taken out of every CONNECT.
    let p = proxy::start(
        m.port,
        alter(|dir, protocol, b| {
            if dir != Dir::ToBroker || b[0] >> 4 != 1 {
                return vec![b.to_vec()];
            }
            rewrite(protocol, b, |packet| match packet {
                Packet::Connect(c) if c.will.is_some() => {
                    c.will = None;
                    true
                }
                _ => false,
            })
        }),
    )
    .await;
    let results = run_cases(p.port, &["will.published-on-abrupt-close"], None).await;
    assert_fails(
        &results,
        "will.published-on-abrupt-close",
        V3,
        "MQTT-3.1.2-8",
    );
    assert_fails(
        &results,
        "will.published-on-abrupt-close",
        V5,
        "MQTT-3.1.2-8",
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_broker_that_ignores_keep_alive_fails_the_keep_alive_case() {
    let Some(m) = mosquitto::start("keepalive") else {
        return;
    };
    // Stands for a broker that does not enforce Keep Alive within the case's time: the broker
    // is told 60 s where the client asked for 8 s.
    let p = proxy::start(
        m.port,
        alter(|dir, protocol, b| {
            if dir != Dir::ToBroker || b[0] >> 4 != 1 {
                return vec![b.to_vec()];
            }
            rewrite(protocol, b, |packet| match packet {
                Packet::Connect(c) if c.keep_alive == 8 => {
                    c.keep_alive = 60;
                    true
                }
                _ => false,
            })
        }),
    )
    .await;
    let results = run_cases(p.port, &["keepalive.silent-client-disconnected"], None).await;
    assert_fails(
        &results,
        "keepalive.silent-client-disconnected",
        V3,
        "MQTT-3.1.2-24",
    );
    assert_fails(
        &results,
        "keepalive.silent-client-disconnected",
        V5,
        "MQTT-3.1.2-22",
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_broker_that_accepts_a_malformed_pubrel_fails_the_malformed_case() {
    let Some(m) = mosquitto::start("pubrel") else {
        return;
    };
    // Stands for a broker that does not check PUBREL's reserved flags: the proxy repairs them,
    // so the broker sees a valid PUBREL and keeps the connection open.
    let p = proxy::start(
        m.port,
        alter(|dir, _, b| {
            let mut b = b.to_vec();
            if dir == Dir::ToBroker && b[0] == 0x60 {
                b[0] = 0x62;
            }
            vec![b]
        }),
    )
    .await;
    let results = run_cases(p.port, &["malformed.pubrel-reserved-flags"], None).await;
    assert_fails(
        &results,
        "malformed.pubrel-reserved-flags",
        V3,
        "MQTT-2.2.2-2",
    );
    assert_fails(
        &results,
        "malformed.pubrel-reserved-flags",
        V5,
        "MQTT-3.6.1-1",
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_broker_that_reorders_user_properties_fails_the_passthrough_case() {
    let Some(m) = mosquitto::start("userprops") else {
        return;
    };
    let p = proxy::start(
        m.port,
        alter(|dir, protocol, b| {
            if dir != Dir::ToClient || b[0] >> 4 != 3 || !protocol.is_v5() {
                return vec![b.to_vec()];
            }
            rewrite(protocol, b, |packet| match packet {
                Packet::Publish(m) if m.properties.user_properties.len() > 1 => {
                    let mut pairs: Vec<(String, String)> = m
                        .properties
                        .user_properties
                        .iter()
                        .map(|(k, v)| (k.to_string(), v.to_string()))
                        .collect();
                    pairs.reverse();
                    m.properties.user_properties = UserProperties::from_pairs(pairs);
                    true
                }
                _ => false,
            })
        }),
    )
    .await;
    let results = run_cases(
        p.port,
        &["properties.user-properties-forwarded-in-order"],
        None,
    )
    .await;
    assert_fails(
        &results,
        "properties.user-properties-forwarded-in-order",
        V5,
        "MQTT-3.3.2-18",
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_broker_whose_hash_matches_dollar_topics_fails_the_dollar_case() {
    let Some(m) = mosquitto::start("dollar") else {
        return;
    };
    // Stands for a broker whose `#` also matches `$` topics: the proxy turns a subscription to
    // `#` into one to `$SYS/#`, so `$SYS` messages reach the `#` subscriber.
    let p = proxy::start(
        m.port,
        alter(|dir, protocol, b| {
            if dir != Dir::ToBroker || b[0] >> 4 != 8 {
                return vec![b.to_vec()];
            }
            rewrite(protocol, b, |packet| match packet {
                Packet::Subscribe(s) if s.filters.iter().any(|f| f.filter.as_str() == "#") => {
                    for f in &mut s.filters {
                        if f.filter.as_str() == "#" {
                            f.filter = "$SYS/#".into();
                        }
                    }
                    true
                }
                _ => false,
            })
        }),
    )
    .await;
    let results = run_cases(
        p.port,
        &["topics.dollar-topics-not-matched-by-wildcards"],
        None,
    )
    .await;
    assert_fails(
        &results,
        "topics.dollar-topics-not-matched-by-wildcards",
        V3,
        "MQTT-4.7.2-1",
    );
    assert_fails(
        &results,
        "topics.dollar-topics-not-matched-by-wildcards",
        V5,
        "MQTT-4.7.2-1",
    );
}
