//! The `conn_session` and `disconnect` cases can fail: against the in-process reference
//! broker, with a fault switched on, a configuration that refuses, or through a proxy that
//! breaks one rule, each fails citing the statement it checks; with none, each passes.

mod common;

use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;
use std::time::Duration;

use common::proxy::{self, alter, rewrite, Dir};
use common::{assert_fails, port, show};
use touchstone_broker::server::{RunningServer, Server, ServerConfig};
use touchstone_broker::Faults;
use touchstone_codec::raw::Frame;
use touchstone_codec::{Packet, Protocol, ReasonCode};
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

const FIRST: &str = "connect.first-packet-not-connect-closes";
const NAME: &str = "connect.wrong-protocol-name";
const FLAG: &str = "connect.reserved-flag-refused";
const ID23: &str = "connect.client-id-23-alphanumerics-accepted";
const EMPTY: &str = "connect.empty-client-id";
const EMPTY0: &str = "connect.empty-client-id-clean-session-0-refused";
const TAKEOVER: &str = "session.takeover-closes-old-connection";
const EXPIRY: &str = "session.expires-after-interval";
const RETAINED: &str = "retain.survives-session-end";
const BOM: &str = "utf8.bom-in-topic-kept";
const UTF8: &str = "utf8.ill-formed-topic-closes";
const NUL: &str = "utf8.nul-in-topic-closes";
const WILL_RETAIN: &str = "will.retain-published-retained";
const NO_WILL: &str = "will.no-will-flag-no-will";
const WILL_DELAY: &str = "will.delay-cancelled-by-reconnect";
const WILL_PROPS: &str = "will.user-properties-in-order";
const DISCONNECT_FLAGS: &str = "disconnect.reserved-flags-malformed";

const ALL: &[&str] = &[
    FIRST,
    NAME,
    FLAG,
    ID23,
    EMPTY,
    EMPTY0,
    TAKEOVER,
    EXPIRY,
    RETAINED,
    BOM,
    UTF8,
    NUL,
    WILL_RETAIN,
    NO_WILL,
    WILL_DELAY,
    WILL_PROPS,
    DISCONNECT_FLAGS,
];

async fn broker_with(config: ServerConfig) -> RunningServer {
    Server::start(config)
        .await
        .expect("start the reference broker")
}

async fn broker() -> RunningServer {
    broker_with(ServerConfig::default()).await
}

async fn faulty(faults: Faults) -> RunningServer {
    let b = broker().await;
    b.set_faults(faults);
    b
}

/// Runs the cases with these exact ids against `127.0.0.1:port`, both versions, with the
/// reference broker's exact timers (no slack).
async fn run(port: u16, ids: &[&str]) -> Vec<CaseResult> {
    let connector = Connector::new(
        Target::parse(&format!("mqtt://127.0.0.1:{port}")).expect("target"),
        &TlsOptions::default(),
    )
    .expect("connector");
    let config = RunConfig {
        connector,
        auth_connector: None,
        credentials: Credentials::default(),
        protocols: vec![V3, V5],
        explicit_protocols: false,
        filters: ids.iter().map(|s| s.to_string()).collect(),
        exact: true,
        profile: Profile::default(),
        jobs: 8,
        timing: Timing {
            timer_slack: Duration::ZERO,
            quiet: Duration::from_millis(500),
            expect: Duration::from_secs(3),
            connect: Duration::from_secs(3),
        },
        case_deadline: Duration::from_secs(30),
        strict: false,
    };
    let catalogue = cases::catalogue();
    let report = runner::run(config, &catalogue, Arc::new(Quiet), runner::Stop::new()).await;
    assert!(!report.results.is_empty(), "no case ran for {ids:?}");
    report.results
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_faults_the_cases_pass() {
    let b = broker().await;
    let results = run(port(&b), ALL).await;
    for r in &results {
        assert_eq!(r.outcome, Outcome::Pass, "{}", show(r));
    }
    // Through an unaltered proxy too (the proxy tests below rely on it).
    let p = proxy::start(port(&b), proxy::unchanged()).await;
    let results = run(
        p.port,
        &[FIRST, NAME, FLAG, EMPTY, EMPTY0, BOM, DISCONNECT_FLAGS],
    )
    .await;
    for r in &results {
        assert_eq!(r.outcome, Outcome::Pass, "{}", show(r));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_broker_accepting_a_first_pingreq_fails() {
    let b = broker().await;
    // A PINGREQ gets a valid CONNECT slipped in front of it, so the broker sees a proper start.
    let n = Arc::new(AtomicU32::new(0));
    let p = proxy::start(
        port(&b),
        alter(move |dir, _, packet| {
            if dir == Dir::ToBroker && packet[0] == 0xC0 {
                let id = format!("tsproxy{}", n.fetch_add(1, Ordering::SeqCst));
                let connect = Frame::new(0x10)
                    .string("MQTT")
                    .u8(4)
                    .u8(0x02)
                    .u16(60)
                    .string(id)
                    .to_bytes();
                return vec![connect.to_vec(), packet.to_vec()];
            }
            vec![packet.to_vec()]
        }),
    )
    .await;
    let results = run(p.port, &[FIRST]).await;
    assert_fails(&results, FIRST, V3, "MQTT-3.1.0-1");
    assert_fails(&results, FIRST, V5, "MQTT-3.1.0-1");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_broker_accepting_any_protocol_name_fails() {
    let b = broker().await;
    let p = proxy::start(
        port(&b),
        alter(|dir, _, packet| {
            let mut out = packet.to_vec();
            if dir == Dir::ToBroker && packet[0] == 0x10 {
                if let Some(i) = out.windows(6).position(|w| w == b"\x00\x04MQTX") {
                    out[i + 5] = b'T';
                }
            }
            vec![out]
        }),
    )
    .await;
    let results = run(p.port, &[NAME]).await;
    assert_fails(&results, NAME, V3, "MQTT-3.1.2-1");
    assert_fails(&results, NAME, V5, "MQTT-3.1.2-1");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_broker_ignoring_the_reserved_connect_flag_fails() {
    let b = broker().await;
    let p = proxy::start(
        port(&b),
        alter(|dir, _, packet| {
            let mut out = packet.to_vec();
            if dir == Dir::ToBroker && packet[0] == 0x10 {
                // Fixed header (1 byte + remaining length), then "MQTT" (6) and the level (1).
                let len_bytes = out[1..].iter().position(|b| b & 0x80 == 0).unwrap_or(0) + 1;
                let flags = 1 + len_bytes + 7;
                if flags < out.len() {
                    out[flags] &= !0x01;
                }
            }
            vec![out]
        }),
    )
    .await;
    let results = run(p.port, &[FLAG]).await;
    assert_fails(&results, FLAG, V3, "MQTT-3.1.2-3");
    assert_fails(&results, FLAG, V5, "MQTT-3.1.2-3");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_broker_refusing_short_client_ids_fails() {
    let mut config = ServerConfig::default();
    config.broker.max_client_id_length = Some(16);
    let b = broker_with(config).await;
    let results = run(port(&b), &[ID23]).await;
    assert_fails(&results, ID23, V3, "MQTT-3.1.3-5");
    assert_fails(&results, ID23, V5, "MQTT-3.1.3-5");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn assigned_client_identifier_missing_or_not_unique_fails() {
    let b = broker().await;
    // 5.0: no Assigned Client Identifier; 3.1.1: every empty identifier becomes the same one.
    let p = proxy::start(
        port(&b),
        alter(|dir, p, packet| {
            rewrite(p, packet, |packet| match packet {
                Packet::ConnAck(a) if dir == Dir::ToClient && p.is_v5() => {
                    a.properties.assigned_client_identifier.take().is_some()
                }
                Packet::Connect(c)
                    if dir == Dir::ToBroker && !p.is_v5() && c.client_id.is_empty() =>
                {
                    c.client_id = "tsconnsessionsame".into();
                    true
                }
                _ => false,
            })
        }),
    )
    .await;
    let results = run(p.port, &[EMPTY]).await;
    assert_fails(&results, EMPTY, V5, "MQTT-3.1.3-7");
    assert_fails(&results, EMPTY, V3, "MQTT-3.1.3-6");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn accepting_an_empty_id_with_clean_session_0_fails() {
    let b = broker().await;
    let p = proxy::start(
        port(&b),
        alter(|dir, p, packet| {
            if dir != Dir::ToClient {
                return vec![packet.to_vec()];
            }
            rewrite(p, packet, |packet| match packet {
                Packet::ConnAck(a) => {
                    a.reason_code = ReasonCode::SUCCESS;
                    true
                }
                _ => false,
            })
        }),
    )
    .await;
    let results = run(p.port, &[EMPTY0]).await;
    assert_fails(&results, EMPTY0, V3, "MQTT-3.1.3-8");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn takeover_faults_fail() {
    // The old connection stays open.
    let b = faulty(Faults {
        no_takeover_close: true,
        ..Faults::default()
    })
    .await;
    let results = run(port(&b), &[TAKEOVER]).await;
    assert_fails(&results, TAKEOVER, V3, "MQTT-3.1.4-2");
    assert_fails(&results, TAKEOVER, V5, "MQTT-3.1.4-3");

    // The session is not resumed as asked.
    b.set_faults(Faults {
        wrong_session_present: true,
        ..Faults::default()
    });
    let results = run(port(&b), &[TAKEOVER]).await;
    assert_fails(&results, TAKEOVER, V3, "MQTT-3.1.4-3");
    assert_fails(&results, TAKEOVER, V5, "MQTT-3.1.4-4");

    // The server's DISCONNECT 0x8E carries a Session Expiry Interval.
    b.set_faults(Faults::default());
    let p = proxy::start(
        port(&b),
        alter(|dir, p, packet| {
            if dir != Dir::ToClient || !p.is_v5() {
                return vec![packet.to_vec()];
            }
            rewrite(p, packet, |packet| match packet {
                Packet::Disconnect(d) => {
                    d.properties.session_expiry_interval = Some(10);
                    true
                }
                _ => false,
            })
        }),
    )
    .await;
    let results = run(p.port, &[TAKEOVER]).await;
    assert_fails(&results, TAKEOVER, V5, "MQTT-3.14.2-2");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sessions_that_never_expire_fail() {
    let b = faulty(Faults {
        sessions_never_expire: true,
        ..Faults::default()
    })
    .await;
    let results = run(port(&b), &[EXPIRY]).await;
    assert_fails(&results, EXPIRY, V5, "MQTT-4.1.0-2");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_broker_not_storing_retained_messages_fails() {
    let b = faulty(Faults {
        no_retain_store: true,
        ..Faults::default()
    })
    .await;
    let results = run(port(&b), &[RETAINED, WILL_RETAIN]).await;
    assert_fails(&results, RETAINED, V3, "MQTT-3.1.2-7");
    assert_fails(&results, WILL_RETAIN, V3, "MQTT-3.1.2-17");
    assert_fails(&results, WILL_RETAIN, V5, "MQTT-3.1.2-15");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_broker_stripping_the_bom_fails() {
    let b = broker().await;
    let p = proxy::start(
        port(&b),
        alter(|dir, p, packet| {
            if dir != Dir::ToClient {
                return vec![packet.to_vec()];
            }
            rewrite(p, packet, |packet| match packet {
                Packet::Publish(m) if m.topic.contains('\u{FEFF}') => {
                    m.topic = m.topic.replace('\u{FEFF}', "").into();
                    true
                }
                _ => false,
            })
        }),
    )
    .await;
    let results = run(p.port, &[BOM]).await;
    assert_fails(&results, BOM, V3, "MQTT-1.5.3-3");
    assert_fails(&results, BOM, V5, "MQTT-1.5.4-3");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_broker_skipping_bad_utf8_fails() {
    let b = faulty(Faults {
        accept_malformed: true,
        ..Faults::default()
    })
    .await;
    let results = run(port(&b), &[UTF8, NUL]).await;
    assert_fails(&results, UTF8, V3, "MQTT-1.5.3-1");
    assert_fails(&results, NUL, V3, "MQTT-1.5.3-2");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn will_faults_fail() {
    let b = faulty(Faults {
        will_after_disconnect: true,
        ..Faults::default()
    })
    .await;
    let results = run(port(&b), &[NO_WILL]).await;
    assert_fails(&results, NO_WILL, V3, "MQTT-3.1.2-12");

    b.set_faults(Faults {
        ignore_will_delay: true,
        ..Faults::default()
    });
    let results = run(port(&b), &[WILL_DELAY]).await;
    assert_fails(&results, WILL_DELAY, V5, "MQTT-3.1.3-9");

    b.set_faults(Faults {
        reorder_user_properties: true,
        ..Faults::default()
    });
    let results = run(port(&b), &[WILL_PROPS]).await;
    assert_fails(&results, WILL_PROPS, V5, "MQTT-3.1.3-10");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_broker_ignoring_disconnect_flags_fails() {
    let b = broker().await;
    let p = proxy::start(
        port(&b),
        alter(|dir, _, packet| {
            let mut out = packet.to_vec();
            if dir == Dir::ToBroker && packet[0] == 0xE1 {
                out[0] = 0xE0;
            }
            vec![out]
        }),
    )
    .await;
    let results = run(p.port, &[DISCONNECT_FLAGS]).await;
    assert_fails(&results, DISCONNECT_FLAGS, V3, "MQTT-3.14.1-1");
    assert_fails(&results, DISCONNECT_FLAGS, V5, "MQTT-3.14.1-1");
}
