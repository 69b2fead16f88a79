//! The `property_rules` cases can fail: against the in-process reference broker with the
//! `accept_malformed` fault (packets with a property not allowed in them are skipped instead
//! of closing the connection), or through a proxy that hides the bad property from the broker
//! or makes it refuse an allowed one, each fails citing the statement it checks; with none,
//! each passes.

mod common;

use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;
use std::time::Duration;

use common::proxy::{self, alter, Dir};
use common::{assert_fails, port, show};
use touchstone_broker::server::{RunningServer, Server, ServerConfig};
use touchstone_broker::Faults;
use touchstone_codec::raw::Frame;
use touchstone_codec::{decode_slice, Protocol};
use touchstone_conformance::cases;
use touchstone_conformance::harness::context::{Credentials, Timing};
use touchstone_conformance::net::target::Target;
use touchstone_conformance::net::tls::TlsOptions;
use touchstone_conformance::net::transport::Connector;
use touchstone_conformance::run::outcome::{CaseResult, Outcome};
use touchstone_conformance::run::profile::Profile;
use touchstone_conformance::run::runner::{self, Quiet, RunConfig};

const V5: Protocol = Protocol::V5;

const CONNECT: &str = "property-rules.connect-forbidden";
const WILL: &str = "property-rules.will-forbidden";
const DUPLICATED: &str = "property-rules.duplicated-closes";
const PUBLISH_SUB_ID: &str = "property-rules.publish-subscription-identifier-closes";
const ALLOWED: &str = "property-rules.allowed-accepted";
/// The cases the `accept_malformed` fault breaks (packets after CONNECT).
const AFTER_CONNECT: &[&str] = &[
    "property-rules.publish-forbidden",
    "property-rules.puback-forbidden",
    "property-rules.pubrec-forbidden",
    "property-rules.pubrel-forbidden",
    "property-rules.pubcomp-forbidden",
    "property-rules.subscribe-forbidden",
    "property-rules.unsubscribe-forbidden",
    "property-rules.disconnect-forbidden",
];

async fn broker() -> RunningServer {
    Server::start(ServerConfig::default())
        .await
        .expect("start the reference broker")
}

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
        protocols: vec![V5],
        explicit_protocols: false,
        filters: ids.iter().map(|s| s.to_string()).collect(),
        exact: true,
        profile: Profile::default(),
        jobs: 8,
        timing: Timing {
            timer_slack: Duration::ZERO,
            quiet: Duration::from_millis(500),
            expect: Duration::from_secs(2),
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
async fn without_faults_the_property_cases_pass() {
    let b = broker().await;
    let mut all = vec![CONNECT, WILL, DUPLICATED, PUBLISH_SUB_ID, ALLOWED];
    all.extend_from_slice(AFTER_CONNECT);
    let results = run(port(&b), &all).await;
    assert_eq!(results.len(), all.len());
    for r in &results {
        assert_eq!(r.outcome, Outcome::Pass, "{}", show(r));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_broker_skipping_packets_with_forbidden_properties_fails() {
    let b = broker().await;
    b.set_faults(Faults {
        accept_malformed: true,
        ..Faults::default()
    });
    let mut ids = AFTER_CONNECT.to_vec();
    ids.push(DUPLICATED);
    let results = run(port(&b), &ids).await;
    for id in ids {
        assert_fails(&results, id, V5, "MQTT-4.13.1-1");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_broker_accepting_any_connect_property_fails() {
    let b = broker().await;
    // A CONNECT the codec rejects is replaced by a plain one: the broker accepts it.
    let n = Arc::new(AtomicU32::new(0));
    let p = proxy::start(
        port(&b),
        alter(move |dir, v, bytes| {
            if dir == Dir::ToBroker && bytes[0] == 0x10 && decode_slice(v, bytes).is_err() {
                let id = format!("tsprop{}", n.fetch_add(1, Ordering::SeqCst));
                let connect = Frame::new(0x10)
                    .string("MQTT")
                    .u8(5)
                    .u8(0x02)
                    .u16(60)
                    .u8(0)
                    .string(id)
                    .to_bytes();
                return vec![connect.to_vec()];
            }
            vec![bytes.to_vec()]
        }),
    )
    .await;
    let results = run(p.port, &[CONNECT, WILL, DUPLICATED]).await;
    for id in [CONNECT, WILL, DUPLICATED] {
        assert_fails(&results, id, V5, "MQTT-4.13.1-1");
        assert_fails(&results, id, V5, "MQTT-3.1.4-1");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_broker_accepting_a_client_subscription_identifier_fails() {
    let b = broker().await;
    // PUBLISH with a Subscription Identifier: the property is dropped on the way.
    let p = proxy::start(
        port(&b),
        alter(|dir, v, bytes| {
            if dir == Dir::ToBroker && bytes[0] >> 4 == 3 {
                if let Ok((touchstone_codec::Packet::Publish(mut m), _)) = decode_slice(v, bytes) {
                    m.properties.subscription_identifiers.clear();
                    let mut out = bytes::BytesMut::new();
                    touchstone_codec::Packet::Publish(m).encode_unchecked(v, &mut out);
                    return vec![out.to_vec()];
                }
            }
            vec![bytes.to_vec()]
        }),
    )
    .await;
    let results = run(p.port, &[PUBLISH_SUB_ID]).await;
    assert_fails(&results, PUBLISH_SUB_ID, V5, "MQTT-3.3.4-6");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_broker_refusing_an_allowed_property_fails() {
    let b = broker().await;
    // The User Property of UNSUBSCRIBE becomes a Payload Format Indicator (not allowed there),
    // as if the broker refused User Properties in UNSUBSCRIBE.
    let p = proxy::start(
        port(&b),
        alter(|dir, _, bytes| {
            let mut out = bytes.to_vec();
            if dir == Dir::ToBroker && out[0] == 0xA2 {
                // Fixed header (2), packet id (2), Property Length (1), then 0x26.
                if out.get(5) == Some(&0x26) {
                    out[5] = 0x01;
                }
            }
            vec![out]
        }),
    )
    .await;
    let results = run(p.port, &[ALLOWED]).await;
    assert_fails(&results, ALLOWED, V5, "MQTT-3.10.4-4");
}

/// A broker that closes the connection on a PUBACK with properties is blamed for the PUBACK
/// (5.0 MQTT-4.3.2-3), not for the PUBREC the next step expects (5.0 MQTT-4.3.3-8), as it was.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_broker_closing_on_puback_properties_is_blamed_for_the_puback_mqtt_4_3_2_3() {
    let mut config = ServerConfig::default();
    config.broker.faults.close_on_acknowledgement_properties = true;
    let b = Server::start(config)
        .await
        .expect("start the reference broker");
    let results = run(port(&b), &[ALLOWED]).await;
    assert_fails(&results, ALLOWED, V5, "MQTT-4.3.2-3");
    let r = results.iter().find(|r| r.id == ALLOWED).expect("ran");
    let f = r.failure.as_ref().expect("a failure");
    assert!(f.expected.contains("after the PUBACK"), "{}", show(r));
    assert!(
        !f.statements.iter().any(|s| s.id == "MQTT-4.3.3-8"),
        "{}",
        show(r)
    );
}
