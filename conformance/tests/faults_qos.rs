//! The `flows` and `retain_handling` cases can fail: against the in-process reference broker,
//! with a fault switched on or through a proxy that breaks one rule, each fails citing the
//! statement it checks; with neither, each passes.

mod common;

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use common::proxy::{self, alter, rewrite, Dir};
use common::{assert_fails, port, run_cases, show};
use touchstone_broker::server::{RunningServer, Server, ServerConfig};
use touchstone_broker::Faults;
use touchstone_codec::{Packet, Protocol, QoS, RetainHandling};
use touchstone_conformance::run::outcome::{CaseResult, Outcome};

const V3: Protocol = Protocol::V3_1_1;
const V5: Protocol = Protocol::V5;

const REDELIVER_QOS1: &str = "retry.qos1-redelivered-with-dup-after-reconnect";
const REDELIVER_QOS2: &str = "retry.qos2-publish-then-pubrel-redelivered";
const DUP_NOT_COPIED: &str = "qos.incoming-dup-not-forwarded";
const QOS3: &str = "qos.qos3-publish-closes";
const ORDER: &str = "ordering.qos1-order-kept";
const IDS: &str = "qos.server-packet-ids-unique-in-flight";
const NEW_AFTER_PUBACK: &str = "qos.same-id-after-puback-is-new-message";
const QOS2_REPEATED: &str = "qos.qos2-duplicate-before-pubrel-delivered-once";
const FAILED_PUBACK: &str = "retry.failed-puback-not-redelivered";
const OVERLAP: &str = "subscribe.overlapping-subscriptions-highest-qos";
const INFLIGHT_NOT_EXPIRED: &str = "retry.qos2-in-flight-not-expired";
const COMPLETES_EXPIRED: &str = "retry.qos2-handshake-completed-after-expiry";
const PUBREL_UNKNOWN: &str = "qos.pubrel-unknown-id-answered";
const RH1: &str = "retain-handling.rh1-only-for-new-subscription";
const RH2: &str = "retain-handling.rh2-sends-none";
const RAP: &str = "retain-handling.rap-forwards-publisher-retain";
const QOS0_REPLACES: &str = "retain-handling.qos0-retained-replaces-earlier";

const ALL: &[&str] = &[
    REDELIVER_QOS1,
    REDELIVER_QOS2,
    DUP_NOT_COPIED,
    QOS3,
    ORDER,
    IDS,
    NEW_AFTER_PUBACK,
    QOS2_REPEATED,
    FAILED_PUBACK,
    OVERLAP,
    INFLIGHT_NOT_EXPIRED,
    COMPLETES_EXPIRED,
    PUBREL_UNKNOWN,
    RH1,
    RH2,
    RAP,
    QOS0_REPLACES,
];

async fn broker() -> RunningServer {
    Server::start(ServerConfig::default())
        .await
        .expect("start the reference broker")
}

fn is_publish(b: &[u8]) -> bool {
    b[0] >> 4 == 3
}

fn passed(results: &[CaseResult], id: &str) {
    for r in results.iter().filter(|r| r.id == id) {
        assert_eq!(r.outcome, Outcome::Pass, "{}", show(r));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_faults_the_cases_pass() {
    let b = broker().await;
    let p = proxy::start(port(&b), proxy::unchanged()).await;
    let results = run_cases(p.port, ALL, None).await;
    for r in &results {
        assert_eq!(r.outcome, Outcome::Pass, "{}", show(r));
    }
    assert_eq!(results.len(), 25, "every case ran for its versions");
    b.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redelivery_without_dup_fails() {
    let b = broker().await;
    b.set_faults(Faults {
        no_dup_on_redelivery: true,
        ..Faults::default()
    });
    let results = run_cases(port(&b), &[REDELIVER_QOS1, REDELIVER_QOS2], None).await;
    for id in [REDELIVER_QOS1, REDELIVER_QOS2] {
        assert_fails(&results, id, V3, "MQTT-3.3.1-1");
        assert_fails(&results, id, V5, "MQTT-3.3.1-1");
    }
    b.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_redelivery_fails() {
    let b = broker().await;
    // Redelivered PUBLISHes (DUP 1) never reach the client.
    let p = proxy::start(
        port(&b),
        alter(|dir, _, b| {
            if dir == Dir::ToClient && is_publish(b) && b[0] & 0x08 != 0 {
                vec![]
            } else {
                vec![b.to_vec()]
            }
        }),
    )
    .await;
    let results = run_cases(
        p.port,
        &[
            REDELIVER_QOS1,
            REDELIVER_QOS2,
            FAILED_PUBACK,
            INFLIGHT_NOT_EXPIRED,
        ],
        None,
    )
    .await;
    assert_fails(&results, INFLIGHT_NOT_EXPIRED, V5, "MQTT-4.3.3-7");
    for id in [REDELIVER_QOS1, REDELIVER_QOS2] {
        assert_fails(&results, id, V3, "MQTT-4.4.0-1");
        assert_fails(&results, id, V5, "MQTT-4.4.0-1");
    }
    assert_fails(&results, REDELIVER_QOS1, V5, "MQTT-4.3.2-3");
    assert_fails(&results, REDELIVER_QOS2, V5, "MQTT-4.3.3-3");
    assert_fails(&results, FAILED_PUBACK, V5, "MQTT-4.4.0-1");
    b.shutdown().await;
}

/// Counts packets of one kind per protocol version (3.1.1 and 5.0 runs share a proxy).
#[derive(Default)]
struct PerVersion([AtomicUsize; 2]);

impl PerVersion {
    fn bump(&self, p: Protocol) -> usize {
        self.0[usize::from(p.is_v5())].fetch_add(1, Ordering::SeqCst) + 1
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pubrel_not_resent_or_publish_resent_after_pubrel_fails() {
    let b = broker().await;
    // The second PUBREL to a client (the re-sent one) is dropped.
    let count = Arc::new(PerVersion::default());
    let c = count.clone();
    let p = proxy::start(
        port(&b),
        alter(move |dir, protocol, b| {
            if dir == Dir::ToClient && b[0] == 0x62 && c.bump(protocol) == 2 {
                vec![]
            } else {
                vec![b.to_vec()]
            }
        }),
    )
    .await;
    let results = run_cases(p.port, &[REDELIVER_QOS2], None).await;
    assert_fails(&results, REDELIVER_QOS2, V3, "MQTT-4.4.0-1");
    assert_fails(&results, REDELIVER_QOS2, V5, "MQTT-4.3.3-5");
    drop(p);

    // The re-sent PUBREL comes with the PUBLISH again in front of it.
    let count = Arc::new(PerVersion::default());
    let last: Arc<Mutex<HashMap<bool, Vec<u8>>>> = Arc::default();
    let (c, l) = (count.clone(), last.clone());
    let p = proxy::start(
        port(&b),
        alter(move |dir, protocol, b| {
            if dir != Dir::ToClient {
                return vec![b.to_vec()];
            }
            if is_publish(b) && (b[0] >> 1) & 3 == 2 {
                let mut dup = b.to_vec();
                dup[0] |= 0x08;
                l.lock().unwrap().insert(protocol.is_v5(), dup);
            }
            if b[0] == 0x62 && c.bump(protocol) == 2 {
                if let Some(publish) = l.lock().unwrap().get(&protocol.is_v5()) {
                    return vec![publish.clone(), b.to_vec()];
                }
            }
            vec![b.to_vec()]
        }),
    )
    .await;
    let results = run_cases(p.port, &[REDELIVER_QOS2], None).await;
    assert_fails(&results, REDELIVER_QOS2, V3, "MQTT-4.3.3-1");
    assert_fails(&results, REDELIVER_QOS2, V5, "MQTT-4.3.3-6");
    b.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn undefined_ack_reason_codes_fail() {
    let b = broker().await;
    // (packet type byte, case whose client receives it, statement).
    for (first, id, statement) in [
        (0x40u8, REDELIVER_QOS1, "MQTT-3.4.2-1"),
        (0x50, REDELIVER_QOS2, "MQTT-3.5.2-1"),
        (0x62, REDELIVER_QOS2, "MQTT-3.6.2-1"),
        (0x70, REDELIVER_QOS2, "MQTT-3.7.2-1"),
    ] {
        // 5.0 acknowledgements of this type get reason code 0x01, defined for none of them.
        let p = proxy::start(
            port(&b),
            alter(move |dir, protocol, b| {
                if dir == Dir::ToClient && protocol == V5 && b[0] == first && b.len() >= 4 {
                    vec![vec![first, 0x03, b[2], b[3], 0x01]]
                } else {
                    vec![b.to_vec()]
                }
            }),
        )
        .await;
        let results = run_cases(p.port, &[id], None).await;
        assert_fails(&results, id, V5, statement);
        passed(
            &results
                .into_iter()
                .filter(|r| r.protocol == V3)
                .collect::<Vec<_>>(),
            id,
        );
    }
    b.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn copying_the_incoming_dup_fails() {
    let b = broker().await;
    let p = proxy::start(
        port(&b),
        alter(|dir, _, b| {
            let mut b = b.to_vec();
            if dir == Dir::ToClient && is_publish(&b) && (b[0] >> 1) & 3 != 0 {
                b[0] |= 0x08;
            }
            vec![b]
        }),
    )
    .await;
    let results = run_cases(p.port, &[DUP_NOT_COPIED], None).await;
    assert_fails(&results, DUP_NOT_COPIED, V3, "MQTT-3.3.1-3");
    assert_fails(&results, DUP_NOT_COPIED, V5, "MQTT-3.3.1-3");
    b.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn closing_on_an_unknown_pubrel_fails_mqtt_4_3_3_11() {
    let b = broker().await;
    b.set_faults(Faults {
        close_on_unknown_pubrel: true,
        ..Faults::default()
    });
    let results = run_cases(port(&b), &[PUBREL_UNKNOWN], None).await;
    assert_fails(&results, PUBREL_UNKNOWN, V5, "MQTT-4.3.3-11");
    b.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn accepting_qos3_fails() {
    let b = broker().await;
    b.set_faults(Faults {
        accept_malformed: true,
        ..Faults::default()
    });
    let results = run_cases(port(&b), &[QOS3], None).await;
    assert_fails(&results, QOS3, V3, "MQTT-3.3.1-4");
    b.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reordering_fails() {
    let b = broker().await;
    // "m2" is held back and sent after the next PUBLISH.
    let held: Arc<Mutex<HashMap<bool, Vec<u8>>>> = Arc::default();
    let h = held.clone();
    let p = proxy::start(
        port(&b),
        alter(move |dir, protocol, b| {
            if dir != Dir::ToClient || !is_publish(b) {
                return vec![b.to_vec()];
            }
            let mut held = h.lock().unwrap();
            if b.ends_with(b"m2") {
                held.insert(protocol.is_v5(), b.to_vec());
                return vec![];
            }
            match held.remove(&protocol.is_v5()) {
                Some(m2) => vec![b.to_vec(), m2],
                None => vec![b.to_vec()],
            }
        }),
    )
    .await;
    let results = run_cases(p.port, &[ORDER], None).await;
    assert_fails(&results, ORDER, V3, "MQTT-4.6.0-6");
    assert_fails(&results, ORDER, V5, "MQTT-4.6.0-5");
    b.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reusing_packet_ids_in_flight_fails() {
    let b = broker().await;
    let p = proxy::start(
        port(&b),
        alter(|dir, protocol, b| {
            if dir != Dir::ToClient || !is_publish(b) {
                return vec![b.to_vec()];
            }
            rewrite(protocol, b, |packet| match packet {
                Packet::Publish(m) if m.packet_id.is_some() => {
                    m.packet_id = touchstone_codec::PacketId::new(1);
                    true
                }
                _ => false,
            })
        }),
    )
    .await;
    let results = run_cases(p.port, &[IDS], None).await;
    assert_fails(&results, IDS, V3, "MQTT-2.3.1-4");
    assert_fails(&results, IDS, V5, "MQTT-2.2.1-4");
    b.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn treating_reused_ids_as_duplicates_fails() {
    let b = broker().await;
    // Stands for a broker that takes a reused id for a duplicate: the second message is lost.
    let p = proxy::start(
        port(&b),
        alter(|dir, _, b| {
            if dir == Dir::ToClient
                && is_publish(b)
                && (b.ends_with(b"second") || b.ends_with(b"new"))
            {
                vec![]
            } else {
                vec![b.to_vec()]
            }
        }),
    )
    .await;
    let results = run_cases(p.port, &[NEW_AFTER_PUBACK, QOS2_REPEATED], None).await;
    assert_fails(&results, NEW_AFTER_PUBACK, V3, "MQTT-4.3.2-2");
    assert_fails(&results, NEW_AFTER_PUBACK, V5, "MQTT-4.3.2-5");
    assert_fails(&results, QOS2_REPEATED, V3, "MQTT-4.3.3-2");
    assert_fails(&results, QOS2_REPEATED, V5, "MQTT-4.3.3-12");
    b.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn delivering_a_qos2_duplicate_twice_fails() {
    let b = broker().await;
    // Stands for a broker that forwards the repeated QoS 2 PUBLISH again.
    let p = proxy::start(
        port(&b),
        alter(|dir, _, b| {
            if dir == Dir::ToClient && is_publish(b) && b.ends_with(b"once") {
                vec![b.to_vec(), b.to_vec()]
            } else {
                vec![b.to_vec()]
            }
        }),
    )
    .await;
    let results = run_cases(p.port, &[QOS2_REPEATED], None).await;
    assert_fails(&results, QOS2_REPEATED, V3, "MQTT-4.3.3-2");
    assert_fails(&results, QOS2_REPEATED, V5, "MQTT-4.3.3-10");
    b.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn resending_after_a_failed_puback_fails() {
    let b = broker().await;
    // The refusing PUBACK never reaches the broker, which then re-sends the message.
    let p = proxy::start(
        port(&b),
        alter(|dir, _, b| {
            if dir == Dir::ToBroker && b[0] == 0x40 && b.len() >= 5 && b[4] >= 0x80 {
                vec![]
            } else {
                vec![b.to_vec()]
            }
        }),
    )
    .await;
    let results = run_cases(p.port, &[FAILED_PUBACK], None).await;
    assert_fails(&results, FAILED_PUBACK, V5, "MQTT-4.4.0-2");
    b.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn delivering_below_the_highest_overlapping_qos_fails() {
    let b = broker().await;
    // Every QoS 1 delivery becomes QoS 0.
    let p = proxy::start(
        port(&b),
        alter(|dir, protocol, b| {
            if dir != Dir::ToClient || !is_publish(b) {
                return vec![b.to_vec()];
            }
            rewrite(protocol, b, |packet| match packet {
                Packet::Publish(m) if m.qos == QoS::AtLeastOnce => {
                    m.qos = QoS::AtMostOnce;
                    m.packet_id = None;
                    m.dup = false;
                    true
                }
                _ => false,
            })
        }),
    )
    .await;
    let results = run_cases(p.port, &[OVERLAP], None).await;
    assert_fails(&results, OVERLAP, V3, "MQTT-3.3.5-1");
    assert_fails(&results, OVERLAP, V5, "MQTT-3.3.4-2");
    b.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ignoring_the_subscription_options_fails() {
    let b = broker().await;
    // Retain Handling 0 and Retain As Published 0 on every subscription.
    let p = proxy::start(
        port(&b),
        alter(|dir, protocol, b| {
            if dir != Dir::ToBroker || b[0] >> 4 != 8 {
                return vec![b.to_vec()];
            }
            rewrite(protocol, b, |packet| match packet {
                Packet::Subscribe(s) => {
                    for f in &mut s.filters {
                        f.options.retain_handling = RetainHandling::SendAtSubscribe;
                        f.options.retain_as_published = false;
                    }
                    true
                }
                _ => false,
            })
        }),
    )
    .await;
    let results = run_cases(p.port, &[RH1, RH2, RAP], None).await;
    assert_fails(&results, RH1, V5, "MQTT-3.3.1-10");
    assert_fails(&results, RH2, V5, "MQTT-3.3.1-11");
    assert_fails(&results, RAP, V5, "MQTT-3.3.1-13");
    b.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_retained_qos0_publish_that_does_not_replace_fails() {
    let b = broker().await;
    // The retained QoS 0 PUBLISH reaches the broker without RETAIN: the old message stays.
    let p = proxy::start(
        port(&b),
        alter(|dir, _, b| {
            let mut b = b.to_vec();
            if dir == Dir::ToBroker && b[0] == 0x31 {
                b[0] = 0x30;
            }
            vec![b]
        }),
    )
    .await;
    let results = run_cases(p.port, &[QOS0_REPLACES], None).await;
    assert_fails(&results, QOS0_REPLACES, V3, "MQTT-3.3.1-7");
    b.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refusing_to_complete_an_expired_qos2_exchange_fails() {
    let b = broker().await;
    // 5.0 PUBCOMP 0x92 (Packet Identifier not found), as from a broker that forgot the expired
    // message's exchange.
    let p = proxy::start(
        port(&b),
        alter(|dir, protocol, b| {
            if dir == Dir::ToClient && protocol == V5 && b[0] == 0x70 && b.len() >= 4 {
                vec![vec![0x70, 0x03, b[2], b[3], 0x92]]
            } else {
                vec![b.to_vec()]
            }
        }),
    )
    .await;
    let results = run_cases(p.port, &[COMPLETES_EXPIRED], None).await;
    assert_fails(&results, COMPLETES_EXPIRED, V5, "MQTT-4.3.3-13");
    b.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn skipping_malformed_pingreq_and_puback_fails() {
    let b = broker().await;
    b.set_faults(Faults {
        accept_malformed: true,
        ..Faults::default()
    });
    let cases = [
        "malformed.pingreq-reserved-flags",
        "malformed.puback-reserved-flags",
    ];
    let results = run_cases(port(&b), &cases, None).await;
    for case in cases {
        assert_fails(&results, case, V3, "MQTT-2.2.2-2");
        assert_fails(&results, case, V5, "MQTT-4.13.1-1");
    }
    b.shutdown().await;
}
