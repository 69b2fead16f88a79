//! The `reason_strings` cases can fail: against the in-process reference broker with the
//! `oversize_problem_info` fault (a long Reason String and User Property on every
//! acknowledgement, whatever the client's Maximum Packet Size), each fails citing the
//! statements it checks; without it, each passes.

mod common;

use std::sync::Arc;
use std::time::Duration;

use bytes::BytesMut;
use common::proxy::{self, Dir};
use common::{assert_fails, show};
use touchstone_broker::auth::Passwords;
use touchstone_broker::server::{RunningServer, Server, ServerConfig};
use touchstone_broker::{Config, Faults};
use touchstone_codec::{decode_slice, Packet, PacketType, Protocol};
use touchstone_conformance::cases;
use touchstone_conformance::harness::context::{Credentials, Timing};
use touchstone_conformance::net::target::Target;
use touchstone_conformance::net::tls::TlsOptions;
use touchstone_conformance::net::transport::Connector;
use touchstone_conformance::run::outcome::{CaseResult, Outcome};
use touchstone_conformance::run::profile::Profile;
use touchstone_conformance::run::runner::{self, Quiet, RunConfig};

const V5: Protocol = Protocol::V5;

/// Each case and the statements its failure must cite.
const CASES: &[(&str, &[&str])] = &[
    (
        "reason-strings.connack-fits-maximum-packet-size",
        &["MQTT-3.2.2-19", "MQTT-3.2.2-20"],
    ),
    (
        "reason-strings.publish-acks-fit-maximum-packet-size",
        &["MQTT-3.4.2-2", "MQTT-3.4.2-3"],
    ),
    (
        "reason-strings.subscribe-acks-fit-maximum-packet-size",
        &["MQTT-3.9.2-1", "MQTT-3.9.2-2"],
    ),
    (
        "reason-strings.disconnect-fits-maximum-packet-size",
        &["MQTT-3.14.2-3", "MQTT-3.14.2-4"],
    ),
    (
        "reason-strings.auth-fits-maximum-packet-size",
        &["MQTT-3.15.2-2", "MQTT-3.15.2-3"],
    ),
];

async fn brokers(faults: Faults) -> (RunningServer, RunningServer) {
    let open = Config {
        faults,
        ..Config::default()
    };
    let open = Server::start(ServerConfig::with_broker(open))
        .await
        .expect("start the reference broker");
    let mut passwords = Passwords::default();
    passwords.insert("scramuser", "scram-password");
    let auth = Server::start(ServerConfig::with_broker(Config {
        allow_anonymous: false,
        passwords: Some(passwords),
        faults,
        ..Config::default()
    }))
    .await
    .expect("start the authenticating reference broker");
    (open, auth)
}

fn tcp_port(s: &RunningServer) -> u16 {
    s.tcp_addr().expect("tcp listener").port()
}

fn connector(port: u16) -> Connector {
    Connector::new(
        Target::parse(&format!("mqtt://127.0.0.1:{port}")).expect("target"),
        &TlsOptions::default(),
    )
    .expect("connector")
}

async fn run(open: u16, auth: u16, ids: &[&str]) -> Vec<CaseResult> {
    let mut profile = Profile::default();
    profile.capabilities.auth_method = Some("SCRAM-SHA-256".into());
    let config = RunConfig {
        connector: connector(open),
        auth_connector: Some(connector(auth)),
        credentials: Credentials {
            username: Some("scramuser".into()),
            password: Some("scram-password".into()),
        },
        protocols: vec![V5],
        explicit_protocols: false,
        filters: ids.iter().map(|id| id.to_string()).collect(),
        exact: true,
        profile,
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
    assert_eq!(report.results.len(), ids.len());
    report.results
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_faults_the_reason_string_cases_pass() {
    let (open, auth) = brokers(Faults::default()).await;
    let ids: Vec<&str> = CASES.iter().map(|(id, _)| *id).collect();
    for r in &run(tcp_port(&open), tcp_port(&auth), &ids).await {
        assert_eq!(r.outcome, Outcome::Pass, "{}", show(r));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_broker_ignoring_the_maximum_packet_size_for_problem_information_fails() {
    let faults = Faults {
        oversize_problem_info: true,
        ..Faults::default()
    };
    let (open, auth) = brokers(faults).await;
    let ids: Vec<&str> = CASES.iter().map(|(id, _)| *id).collect();
    let results = run(tcp_port(&open), tcp_port(&auth), &ids).await;
    for (id, statements) in CASES {
        for s in *statements {
            assert_fails(&results, id, V5, s);
        }
    }
}

/// A proxy that strips the Reason String and User Properties of the packets of `kinds` from
/// the faulty broker, so the case gets past them to the next packet.
async fn stripping(upstream: u16, kinds: &'static [PacketType]) -> proxy::Proxy {
    proxy::start(
        upstream,
        Arc::new(move |dir, v, bytes: &[u8]| {
            let Ok((mut packet, _)) = decode_slice(v, bytes) else {
                return vec![bytes.to_vec()];
            };
            if dir != Dir::ToClient || !kinds.contains(&packet.packet_type()) {
                return vec![bytes.to_vec()];
            }
            match &mut packet {
                Packet::PubAck(a) => a.properties = Default::default(),
                Packet::PubRec(a) => a.properties = Default::default(),
                Packet::PubComp(a) => a.properties = Default::default(),
                Packet::SubAck(a) => a.properties = Default::default(),
                _ => {}
            }
            let mut out = BytesMut::new();
            packet.encode_unchecked(v, &mut out);
            vec![out.to_vec()]
        }),
    )
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_acknowledgement_is_checked() {
    let faults = Faults {
        oversize_problem_info: true,
        ..Faults::default()
    };
    let (open, auth) = brokers(faults).await;
    let acks = "reason-strings.publish-acks-fit-maximum-packet-size";
    let subs = "reason-strings.subscribe-acks-fit-maximum-packet-size";
    for (kinds, statements) in [
        (&[PacketType::PubAck][..], ["MQTT-3.5.2-2", "MQTT-3.5.2-3"]),
        (
            &[PacketType::PubAck, PacketType::PubRec][..],
            ["MQTT-3.7.2-2", "MQTT-3.7.2-3"],
        ),
        (
            &[PacketType::PubAck, PacketType::PubRec, PacketType::PubComp][..],
            ["MQTT-3.6.2-2", "MQTT-3.6.2-3"],
        ),
    ] {
        let p = stripping(tcp_port(&open), kinds).await;
        let results = run(p.port, tcp_port(&auth), &[acks]).await;
        for s in statements {
            assert_fails(&results, acks, V5, s);
        }
    }
    let p = stripping(tcp_port(&open), &[PacketType::SubAck]).await;
    let results = run(p.port, tcp_port(&auth), &[subs]).await;
    assert_fails(&results, subs, V5, "MQTT-3.11.2-1");
    assert_fails(&results, subs, V5, "MQTT-3.11.2-2");
}
