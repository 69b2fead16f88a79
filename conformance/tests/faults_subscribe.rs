//! The `subscribe` and `shared` cases can fail: against the in-process reference broker, with a
//! fault switched on or through a proxy that breaks one rule, each fails citing the statement
//! it checks; with neither, each passes.

mod common;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use bytes::BytesMut;
use common::proxy::{self, Dir};
use common::{assert_fails, run_cases, show};
use std::time::Duration;
use touchstone_broker::server::{RunningServer, Server, ServerConfig};
use touchstone_broker::Faults;
use touchstone_codec::{decode_slice, Packet, Protocol};

use touchstone_conformance::cases;
use touchstone_conformance::harness::context::{Credentials, Timing};
use touchstone_conformance::net::target::Target;
use touchstone_conformance::net::tls::TlsOptions;
use touchstone_conformance::net::transport::Connector;
use touchstone_conformance::run::outcome::{CaseResult, Outcome};
use touchstone_conformance::run::profile::Profile;
use touchstone_conformance::run::runner::{self, Quiet, RunConfig};

const V3: Protocol = Protocol::V3_1_1;
const V5: Protocol = Protocol::V5;

const MULTI: &str = "subscribe.multi-filter-one-suback";
const RESUB: &str = "subscribe.resubscribe-replaces";
const OPTIONS: &str = "subscribe.options-reserved-bits";
const NO_LOCAL: &str = "subscribe.no-local";
const IDS: &str = "subscribe.overlapping-subscription-identifiers";
const UNSUB_FLAGS: &str = "unsubscribe.reserved-flags";
const UNSUB_MULTI: &str = "unsubscribe.multiple-filters";
const UNSUB_INFLIGHT: &str = "unsubscribe.completes-started-delivery";
const NO_WILDCARDS: &str = "subscribe.wildcards-refused-when-unsupported";
const SHARED_NO_LOCAL: &str = "shared.no-local-protocol-error";
const SHARED_QOS: &str = "shared.granted-qos-honoured";
const SHARED_RESUMED: &str = "shared.qos2-resumed-by-same-member";

const ALL: &[&str] = &[
    MULTI,
    RESUB,
    OPTIONS,
    NO_LOCAL,
    IDS,
    UNSUB_FLAGS,
    UNSUB_MULTI,
    UNSUB_INFLIGHT,
    SHARED_NO_LOCAL,
    SHARED_QOS,
    SHARED_RESUMED,
];

async fn broker() -> RunningServer {
    Server::start(ServerConfig::default())
        .await
        .expect("start the reference broker")
}

async fn broker_with(faults: Faults) -> RunningServer {
    let b = broker().await;
    b.set_faults(faults);
    b
}

fn port(s: &RunningServer) -> u16 {
    s.tcp_addr().expect("tcp listener").port()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_faults_the_cases_pass() {
    let b = broker().await;
    let results = run_cases(port(&b), ALL, None).await;
    for r in &results {
        assert_eq!(r.outcome, Outcome::Pass, "{}", show(r));
    }
    // 6 cases for both versions, 5 for 5.0 only.
    assert_eq!(results.len(), 17, "every case ran for its versions");
    b.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reversed_ack_codes_fail() {
    let b = broker().await;
    // SUBACK and UNSUBACK with three codes or more carry them in reverse order.
    let p = proxy::start(
        port(&b),
        Arc::new(|dir, p, bytes: &[u8]| {
            if dir != Dir::ToClient {
                return vec![bytes.to_vec()];
            }
            match decode_slice(p, bytes) {
                Ok((mut packet, _)) => {
                    let codes = match &mut packet {
                        Packet::SubAck(a) => &mut a.reason_codes,
                        Packet::UnsubAck(a) => &mut a.reason_codes,
                        _ => return vec![bytes.to_vec()],
                    };
                    if codes.len() < 3 {
                        return vec![bytes.to_vec()];
                    }
                    codes.reverse();
                    let mut out = BytesMut::new();
                    packet.encode_unchecked(p, &mut out);
                    vec![out.to_vec()]
                }
                Err(_) => vec![bytes.to_vec()],
            }
        }),
    )
    .await;
    let results = run_cases(p.port, &[MULTI, UNSUB_MULTI], None).await;
    assert_fails(&results, MULTI, V3, "MQTT-3.9.3-1");
    assert_fails(&results, MULTI, V5, "MQTT-3.9.3-1");
    assert_fails(&results, UNSUB_MULTI, V5, "MQTT-3.11.3-1");
    b.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn acting_on_the_first_filter_only_fails() {
    let b = broker_with(Faults {
        first_filter_only: true,
        ..Faults::default()
    })
    .await;
    let results = run_cases(port(&b), &[MULTI, UNSUB_MULTI], None).await;
    assert_fails(&results, MULTI, V3, "MQTT-3.8.4-4");
    assert_fails(&results, MULTI, V5, "MQTT-3.8.4-5");
    assert_fails(&results, UNSUB_MULTI, V3, "MQTT-3.10.4-6");
    assert_fails(&results, UNSUB_MULTI, V5, "MQTT-3.10.4-6");
    b.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_resubscription_that_keeps_the_old_options_fails() {
    let b = broker_with(Faults {
        resubscribe_ignored: true,
        ..Faults::default()
    })
    .await;
    let results = run_cases(port(&b), &[RESUB], None).await;
    assert_fails(&results, RESUB, V3, "MQTT-3.8.4-3");
    assert_fails(&results, RESUB, V5, "MQTT-3.8.4-3");
    b.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_resubscription_without_the_retained_message_fails() {
    let b = broker().await;
    // The second retained "kept" PUBLISH to a client (of each version) is dropped.
    let seen = Arc::new([AtomicUsize::new(0), AtomicUsize::new(0)]);
    let p = proxy::start(
        port(&b),
        Arc::new(move |dir, p, bytes: &[u8]| {
            let retained_kept = dir == Dir::ToClient
                && bytes[0] >> 4 == 3
                && bytes[0] & 0x01 != 0
                && bytes.ends_with(b"kept");
            let n = &seen[usize::from(p == V5)];
            if retained_kept && n.fetch_add(1, Ordering::SeqCst) == 1 {
                vec![]
            } else {
                vec![bytes.to_vec()]
            }
        }),
    )
    .await;
    let results = run_cases(p.port, &[RESUB], None).await;
    assert_fails(&results, RESUB, V3, "MQTT-3.8.4-3");
    assert_fails(&results, RESUB, V5, "MQTT-3.8.4-4");
    b.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn accepting_malformed_packets_fails() {
    let b = broker_with(Faults {
        accept_malformed: true,
        ..Faults::default()
    })
    .await;
    let results = run_cases(port(&b), &[OPTIONS, UNSUB_FLAGS, SHARED_NO_LOCAL], None).await;
    assert_fails(&results, OPTIONS, V3, "MQTT-3.8.3-4");
    assert_fails(&results, OPTIONS, V5, "MQTT-3.8.3-5");
    assert_fails(&results, UNSUB_FLAGS, V3, "MQTT-3.10.1-1");
    assert_fails(&results, UNSUB_FLAGS, V5, "MQTT-3.10.1-1");
    assert_fails(&results, SHARED_NO_LOCAL, V5, "MQTT-3.8.3-4");
    b.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ignoring_no_local_fails() {
    let b = broker_with(Faults {
        ignore_no_local: true,
        ..Faults::default()
    })
    .await;
    let results = run_cases(port(&b), &[NO_LOCAL], None).await;
    assert_fails(&results, NO_LOCAL, V5, "MQTT-3.8.3-3");
    b.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dropping_subscription_identifiers_fails() {
    let b = broker_with(Faults {
        drop_subscription_identifiers: true,
        ..Faults::default()
    })
    .await;
    let results = run_cases(port(&b), &[IDS], None).await;
    for s in ["MQTT-3.3.4-3", "MQTT-3.3.4-4", "MQTT-3.3.4-5"] {
        assert_fails(&results, IDS, V5, s);
    }
    b.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forgetting_started_deliveries_on_unsubscribe_fails() {
    let b = broker_with(Faults {
        forget_inflight_on_unsubscribe: true,
        ..Faults::default()
    })
    .await;
    let results = run_cases(port(&b), &[UNSUB_INFLIGHT], None).await;
    assert_fails(&results, UNSUB_INFLIGHT, V3, "MQTT-3.10.4-3");
    assert_fails(&results, UNSUB_INFLIGHT, V5, "MQTT-3.10.4-3");
    b.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shared_delivery_above_the_granted_qos_fails() {
    let b = broker_with(Faults {
        deliver_at_publish_qos: true,
        ..Faults::default()
    })
    .await;
    let results = run_cases(port(&b), &[SHARED_QOS], None).await;
    assert_fails(&results, SHARED_QOS, V5, "MQTT-4.8.2-3");
    b.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_shared_delivery_not_resumed_fails() {
    let b = broker().await;
    // Redelivered PUBLISHes (DUP 1) never reach the client.
    let p = proxy::start(
        port(&b),
        Arc::new(|dir, _, bytes: &[u8]| {
            if dir == Dir::ToClient && bytes[0] >> 4 == 3 && bytes[0] & 0x08 != 0 {
                vec![]
            } else {
                vec![bytes.to_vec()]
            }
        }),
    )
    .await;
    let results = run_cases(p.port, &[SHARED_RESUMED], None).await;
    assert_fails(&results, SHARED_RESUMED, V5, "MQTT-4.8.2-4");
    b.shutdown().await;
}

/// Runs `ids` for 3.1.1 against `port` with a profile stating no wildcard support.
async fn run_v311_without_wildcards(port: u16, ids: &[&str]) -> Vec<CaseResult> {
    let catalogue = cases::catalogue();
    let profile =
        Profile::parse("[capabilities]\nwildcards = false\n", &catalogue).expect("profile");
    let config = RunConfig {
        connector: Connector::new(
            Target::parse(&format!("mqtt://127.0.0.1:{port}")).expect("target"),
            &TlsOptions::default(),
        )
        .expect("connector"),
        auth_connector: None,
        credentials: Credentials::default(),
        protocols: vec![V3],
        explicit_protocols: false,
        filters: ids.iter().map(|s| s.to_string()).collect(),
        exact: true,
        profile,
        jobs: 2,
        timing: Timing {
            timer_slack: Duration::from_secs(1),
            quiet: Duration::from_millis(500),
            expect: Duration::from_secs(3),
            connect: Duration::from_secs(3),
        },
        case_deadline: Duration::from_secs(30),
        strict: false,
    };
    runner::run(config, &catalogue, Arc::new(Quiet), runner::Stop::new())
        .await
        .results
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_without_wildcards_refuses_them_and_one_granting_them_fails() {
    // Wildcards off in the broker: the probe finds it, the case runs and passes.
    let mut config = ServerConfig::default();
    config.broker.wildcard_subscriptions = false;
    let b = Server::start(config)
        .await
        .expect("start the reference broker");
    let results = run_cases(port(&b), &[NO_WILDCARDS], None).await;
    let r = results
        .iter()
        .find(|r| r.protocol == V3)
        .expect("ran for 3.1.1");
    assert_eq!(r.outcome, Outcome::Pass, "{}", show(r));
    b.shutdown().await;
    // A broker that grants wildcard filters, described as one without wildcard support.
    let b = broker().await;
    let results = run_v311_without_wildcards(port(&b), &[NO_WILDCARDS]).await;
    assert_fails(&results, NO_WILDCARDS, V3, "MQTT-3.8.3-2");
    b.shutdown().await;
}
