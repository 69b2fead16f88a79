//! The `limits`, `aliases`, `flow_control` and `expiry` cases can fail: run them against the
//! reference broker in-process with a fault that breaks their rule and check they fail citing
//! it; without faults they pass (or skip for a capability the broker has), and with the
//! broker's capabilities lowered the capability-driven cases run and pass.

mod common;

use common::{assert_fails, run_cases, show};
use touchstone_broker::server::{Server, ServerConfig};
use touchstone_broker::Faults;
use touchstone_codec::{Protocol, QoS};
use touchstone_conformance::run::outcome::{CaseResult, Outcome};

const V5: Protocol = Protocol::V5;

const CLIENT_MAX_PACKET: &str = "limits.client-maximum-packet-size-respected";
const SERVER_MAX_PACKET: &str = "limits.server-maximum-packet-size-enforced";
const NO_RESPONSE_INFO: &str = "limits.no-response-information-unrequested";
const NO_PROBLEM_INFO: &str = "limits.no-problem-information-unrequested";
const PUBLISH_MAX_QOS: &str = "limits.publish-above-maximum-qos";
const WILL_MAX_QOS: &str = "limits.will-above-maximum-qos-refused";
const RETAINED_PUBLISH: &str = "limits.retained-publish-refused-without-retain";
const RETAINED_WILL: &str = "limits.retained-will-refused-without-retain";
const ALIAS_RANGE: &str = "aliases.client-alias-range-accepted";
const ALIAS_ABOVE: &str = "aliases.client-alias-above-maximum";
const ALIAS_NOT_CARRIED: &str = "aliases.not-carried-over-to-new-connection";
const SERVER_NO_ALIASES: &str = "aliases.server-sends-none-when-client-allows-none";
const SERVER_ALIASES: &str = "aliases.server-aliases-within-client-maximum";
const CLIENT_RECEIVE_MAX: &str = "flow-control.server-respects-client-receive-maximum";
const SERVER_RECEIVE_MAX: &str = "flow-control.client-exceeds-server-receive-maximum";
const EXPIRED: &str = "expiry.expired-message-not-delivered";
const REDUCED: &str = "expiry.interval-reduced-by-waiting-time";

/// The capability-driven cases, which skip on a broker with every capability.
const CAPABILITY_DRIVEN: &[&str] = &[
    SERVER_MAX_PACKET,
    PUBLISH_MAX_QOS,
    WILL_MAX_QOS,
    RETAINED_PUBLISH,
    RETAINED_WILL,
];

/// Runs `ids` (both versions) against a reference broker configured by `configure`.
async fn run(configure: impl FnOnce(&mut ServerConfig), ids: &[&str]) -> Vec<CaseResult> {
    let mut config = ServerConfig::default();
    configure(&mut config);
    let server = Server::start(config)
        .await
        .expect("start the reference broker");
    let port = server.tcp_addr().expect("a TCP listener").port();
    let results = run_cases(port, ids, None).await;
    server.shutdown().await;
    results
}

/// Runs `ids` with the faults `f` switches on.
async fn run_faulty(f: impl FnOnce(&mut Faults), ids: &[&str]) -> Vec<CaseResult> {
    run(|c| f(&mut c.broker.faults), ids).await
}

/// The broker with its capabilities lowered: Maximum QoS 1, no retain, Maximum Packet Size
/// 2048, no Topic Aliases.
fn lowered(c: &mut ServerConfig) {
    c.broker.maximum_qos = QoS::AtLeastOnce;
    c.broker.retain_available = false;
    c.broker.maximum_packet_size = Some(2048);
    c.broker.topic_alias_maximum = 0;
}

fn outcome(results: &[CaseResult], id: &str) -> Outcome {
    let r = results
        .iter()
        .find(|r| r.id == id && r.protocol == V5)
        .unwrap_or_else(|| panic!("{id} did not run for 5.0"));
    r.outcome
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_faults_the_cases_pass() {
    let ids = [
        CLIENT_MAX_PACKET,
        SERVER_MAX_PACKET,
        NO_RESPONSE_INFO,
        NO_PROBLEM_INFO,
        PUBLISH_MAX_QOS,
        WILL_MAX_QOS,
        RETAINED_PUBLISH,
        RETAINED_WILL,
        ALIAS_RANGE,
        ALIAS_ABOVE,
        ALIAS_NOT_CARRIED,
        SERVER_NO_ALIASES,
        SERVER_ALIASES,
        CLIENT_RECEIVE_MAX,
        SERVER_RECEIVE_MAX,
        EXPIRED,
        REDUCED,
    ];
    let results = run(|_| {}, &ids).await;
    for r in &results {
        let want = if CAPABILITY_DRIVEN.contains(&r.id) && r.id != SERVER_MAX_PACKET {
            Outcome::Skip
        } else {
            Outcome::Pass
        };
        assert_eq!(r.outcome, want, "{}", show(r));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_lowered_capabilities_the_capability_cases_run_and_pass() {
    let mut ids = CAPABILITY_DRIVEN.to_vec();
    ids.push(ALIAS_ABOVE);
    let results = run(lowered, &ids).await;
    for r in &results {
        assert_eq!(r.outcome, Outcome::Pass, "{}", show(r));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_broker_ignoring_its_own_limits_fails_the_capability_cases() {
    let results = run(
        |c| {
            lowered(c);
            c.broker.faults.ignore_own_limits = true;
        },
        CAPABILITY_DRIVEN,
    )
    .await;
    assert_fails(&results, PUBLISH_MAX_QOS, V5, "MQTT-3.2.2-11");
    assert_fails(&results, WILL_MAX_QOS, V5, "MQTT-3.2.2-12");
    assert_fails(&results, RETAINED_PUBLISH, V5, "MQTT-3.2.2-14");
    assert_fails(&results, RETAINED_WILL, V5, "MQTT-3.2.2-13");
    assert_fails(&results, SERVER_MAX_PACKET, V5, "MQTT-3.2.2-15");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_broker_granting_above_its_maximum_qos_fails() {
    let results = run(
        |c| {
            lowered(c);
            c.broker.faults.grant_higher_qos = true;
        },
        &[PUBLISH_MAX_QOS],
    )
    .await;
    assert_fails(&results, PUBLISH_MAX_QOS, V5, "MQTT-3.2.2-10");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_broker_breaking_client_limits_fails() {
    let results = run_faulty(
        |f| {
            f.ignore_client_maximum_packet_size = true;
            f.aliases_beyond_client_maximum = true;
            f.unrequested_response_information = true;
        },
        &[
            CLIENT_MAX_PACKET,
            SERVER_NO_ALIASES,
            SERVER_ALIASES,
            NO_RESPONSE_INFO,
        ],
    )
    .await;
    assert_fails(&results, CLIENT_MAX_PACKET, V5, "MQTT-3.1.2-24");
    assert_fails(&results, SERVER_NO_ALIASES, V5, "MQTT-3.1.2-27");
    assert_fails(&results, SERVER_ALIASES, V5, "MQTT-3.1.2-26");
    assert_fails(&results, SERVER_ALIASES, V5, "MQTT-3.3.2-11");
    assert_fails(&results, NO_RESPONSE_INFO, V5, "MQTT-3.1.2-28");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_broker_with_an_off_by_one_alias_maximum_fails() {
    let results = run_faulty(
        |f| f.alias_maximum_off_by_one = true,
        &[ALIAS_RANGE, ALIAS_ABOVE],
    )
    .await;
    assert_fails(&results, ALIAS_RANGE, V5, "MQTT-3.3.2-12");
    assert_fails(&results, ALIAS_ABOVE, V5, "MQTT-3.2.2-17");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_broker_breaking_flow_control_fails() {
    let results = run_faulty(
        |f| {
            f.ignore_client_receive_maximum = true;
            f.ignore_server_receive_maximum = true;
        },
        &[CLIENT_RECEIVE_MAX, SERVER_RECEIVE_MAX],
    )
    .await;
    assert_fails(&results, CLIENT_RECEIVE_MAX, V5, "MQTT-3.3.4-9");
    assert_fails(&results, SERVER_RECEIVE_MAX, V5, "MQTT-3.3.4-7");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_broker_not_answering_at_the_receive_maximum_fails() {
    let results = run_faulty(|f| f.no_pingresp = true, &[CLIENT_RECEIVE_MAX]).await;
    assert_fails(&results, CLIENT_RECEIVE_MAX, V5, "MQTT-3.3.4-10");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_broker_breaking_message_expiry_fails() {
    let results = run_faulty(
        |f| {
            f.deliver_expired = true;
            f.no_message_expiry_decrement = true;
        },
        &[EXPIRED, REDUCED],
    )
    .await;
    assert_fails(&results, EXPIRED, V5, "MQTT-3.3.2-5");
    assert_fails(&results, REDUCED, V5, "MQTT-3.3.2-6");
    assert_eq!(outcome(&results, EXPIRED), Outcome::Fail);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_broker_sending_problem_information_unasked_fails() {
    let results = run_faulty(|f| f.oversize_problem_info = true, &[NO_PROBLEM_INFO]).await;
    assert_fails(&results, NO_PROBLEM_INFO, V5, "MQTT-3.1.2-29");
}

/// A proxy in front of the broker remembers the client's Topic Alias mappings across
/// connections and fills in the Topic Name of an alias-only PUBLISH: together they behave like
/// a broker that carries mappings over to a new connection.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_broker_carrying_aliases_over_fails() {
    use std::collections::HashMap;
    use std::sync::{Arc, Mutex};

    use bytes::BytesMut;
    use common::proxy::{self, Dir};
    use touchstone_codec::{decode_slice, Packet, Str};

    let server = Server::start(ServerConfig::default())
        .await
        .expect("start the reference broker");
    let upstream = server.tcp_addr().expect("a TCP listener").port();
    let mappings: Arc<Mutex<HashMap<u16, Str>>> = Arc::default();
    let alter: proxy::Alter = Arc::new(move |dir, p, bytes: &[u8]| {
        if dir == Dir::ToBroker {
            if let Ok((Packet::Publish(mut publish), _)) = decode_slice(p, bytes) {
                if let Some(alias) = publish.properties.topic_alias {
                    let mut map = mappings.lock().expect("mappings");
                    if publish.topic.is_empty() {
                        if let Some(topic) = map.get(&alias) {
                            publish.topic = topic.clone();
                            publish.properties.topic_alias = None;
                            let mut out = BytesMut::new();
                            Packet::Publish(publish).encode_unchecked(p, &mut out);
                            return vec![out.to_vec()];
                        }
                    } else {
                        map.insert(alias, publish.topic.clone());
                    }
                }
            }
        }
        vec![bytes.to_vec()]
    });
    let proxy = proxy::start(upstream, alter).await;
    let results = run_cases(proxy.port, &[ALIAS_NOT_CARRIED], None).await;
    assert_fails(&results, ALIAS_NOT_CARRIED, V5, "MQTT-3.3.2-7");
    drop(proxy);
    server.shutdown().await;
}

/// A proxy turns the broker's Topic Alias 1 into Topic Alias 0 on the way to the client: the
/// case's strict decoder rejects it, citing 5.0 MQTT-3.3.2-8.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_broker_sending_topic_alias_zero_fails() {
    use std::sync::Arc;

    use bytes::BytesMut;
    use common::proxy::{self, Dir};
    use touchstone_codec::{decode_slice, Packet};

    let server = Server::start(ServerConfig::default())
        .await
        .expect("start the reference broker");
    let upstream = server.tcp_addr().expect("a TCP listener").port();
    let alter: proxy::Alter = Arc::new(move |dir, p, bytes: &[u8]| {
        if dir == Dir::ToClient {
            if let Ok((Packet::Publish(mut publish), _)) = decode_slice(p, bytes) {
                if publish.properties.topic_alias == Some(1) {
                    publish.properties.topic_alias = Some(0);
                    let mut out = BytesMut::new();
                    Packet::Publish(publish).encode_unchecked(p, &mut out);
                    return vec![out.to_vec()];
                }
            }
        }
        vec![bytes.to_vec()]
    });
    let proxy = proxy::start(upstream, alter).await;
    let results = run_cases(proxy.port, &[SERVER_ALIASES], None).await;
    assert_fails(&results, SERVER_ALIASES, V5, "MQTT-3.3.2-8");
    drop(proxy);
    server.shutdown().await;
}

/// 5.0 [MQTT-3.2.2-15] binds the test client too: against a server whose Maximum Packet Size
/// (256) is below the 300-byte message the case would send, it sends the largest PUBLISH the
/// server accepts, passes on a correct broker and still fails one that ignores the client's
/// Maximum Packet Size; a server maximum that leaves no room above the client's 128 bytes is a
/// skip with the reason.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn client_maximum_packet_size_case_fits_the_servers_maximum_mqtt_3_2_2_15() {
    let small = |c: &mut ServerConfig| c.broker.maximum_packet_size = Some(256);
    let results = run(small, &[CLIENT_MAX_PACKET]).await;
    assert_eq!(
        outcome(&results, CLIENT_MAX_PACKET),
        Outcome::Pass,
        "{}",
        dump(&results)
    );
    let results = run(
        |c| {
            small(c);
            c.broker.faults.ignore_client_maximum_packet_size = true;
        },
        &[CLIENT_MAX_PACKET],
    )
    .await;
    assert_fails(&results, CLIENT_MAX_PACKET, V5, "MQTT-3.1.2-24");
    let results = run(
        |c| c.broker.maximum_packet_size = Some(150),
        &[CLIENT_MAX_PACKET],
    )
    .await;
    let r = results
        .iter()
        .find(|r| r.id == CLIENT_MAX_PACKET)
        .expect("ran");
    assert_eq!(r.outcome, Outcome::Skip, "{}", show(r));
    assert!(show(r).contains("leaves no room"), "{}", show(r));
}

fn dump(results: &[CaseResult]) -> String {
    results.iter().map(show).collect::<Vec<_>>().join("\n")
}

/// A server that drops the QoS 1 messages beyond the client's Receive Maximum (here: the
/// reference broker with room for one queued message per session) loses messages it took:
/// the Receive Maximum case fails citing delivery (5.0 MQTT-4.5.0-1), not flow control.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn messages_dropped_beyond_the_receive_maximum_cite_delivery_mqtt_4_5_0_1() {
    let results = run(|c| c.broker.max_queued_messages = 1, &[CLIENT_RECEIVE_MAX]).await;
    assert_fails(&results, CLIENT_RECEIVE_MAX, V5, "MQTT-4.5.0-1");
    let r = results
        .iter()
        .find(|r| r.id == CLIENT_RECEIVE_MAX)
        .expect("ran");
    assert!(
        !r.failure
            .as_ref()
            .is_some_and(|f| f.statements.iter().any(|s| s.id == "MQTT-4.9.0-2")),
        "{}",
        show(r)
    );
}
