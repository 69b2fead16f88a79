//! The `auth` cases can fail: against the in-process reference broker (with a SCRAM user on a
//! second broker, as the embedded target has), through a proxy that breaks one rule of
//! enhanced authentication, each fails citing the statement it checks; with none, each passes.

mod common;

use std::sync::Arc;
use std::time::Duration;

use common::proxy::{self, alter, rewrite, Dir};
use common::{assert_fails, port, show};
use touchstone_broker::auth::Passwords;
use touchstone_broker::server::{RunningServer, Server, ServerConfig};
use touchstone_broker::Config;
use touchstone_codec::{Packet, Protocol, ReasonCode};
use touchstone_conformance::cases;
use touchstone_conformance::harness::context::{Credentials, Timing};
use touchstone_conformance::net::target::Target;
use touchstone_conformance::net::tls::TlsOptions;
use touchstone_conformance::net::transport::Connector;
use touchstone_conformance::run::outcome::{CaseResult, Outcome};
use touchstone_conformance::run::profile::Profile;
use touchstone_conformance::run::runner::{self, Quiet, RunConfig};

const V5: Protocol = Protocol::V5;
const USER: &str = "scramuser";
const PASSWORD: &str = "scram-password";

const UNSUPPORTED: &str = "auth.unsupported-method-refused";
const NO_METHOD: &str = "auth.no-method-no-auth";
const WITHOUT: &str = "auth.auth-without-method-closes";
const EXCHANGE: &str = "auth.scram-exchange";
const WRONG: &str = "auth.scram-wrong-password-refused";
const FLAGS: &str = "auth.reserved-flags-malformed";
const REAUTH: &str = "auth.reauth-failure-closes";
const ALL: &[&str] = &[
    UNSUPPORTED,
    NO_METHOD,
    WITHOUT,
    EXCHANGE,
    WRONG,
    FLAGS,
    REAUTH,
];

struct Brokers {
    open: RunningServer,
    auth: RunningServer,
}

async fn brokers() -> Brokers {
    let open = Server::start(ServerConfig::default())
        .await
        .expect("start the reference broker");
    let mut passwords = Passwords::default();
    passwords.insert(USER, PASSWORD);
    let auth = Server::start(ServerConfig::with_broker(Config {
        allow_anonymous: false,
        passwords: Some(passwords),
        ..Config::default()
    }))
    .await
    .expect("start the authenticating reference broker");
    Brokers { open, auth }
}

fn connector(port: u16) -> Connector {
    Connector::new(
        Target::parse(&format!("mqtt://127.0.0.1:{port}")).expect("target"),
        &TlsOptions::default(),
    )
    .expect("connector")
}

/// Runs the cases with these exact ids (5.0) against `port`, with `auth_port` as the
/// authentication listener doing SCRAM-SHA-256 for [`USER`].
async fn run(port: u16, auth_port: u16, ids: &[&str]) -> Vec<CaseResult> {
    let mut profile = Profile::default();
    profile.capabilities.auth_method = Some("SCRAM-SHA-256".into());
    let config = RunConfig {
        connector: connector(port),
        auth_connector: Some(connector(auth_port)),
        credentials: Credentials {
            username: Some(USER.into()),
            password: Some(PASSWORD.into()),
        },
        protocols: vec![V5],
        explicit_protocols: false,
        filters: ids.iter().map(|s| s.to_string()).collect(),
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
    assert!(!report.results.is_empty(), "no case ran for {ids:?}");
    report.results
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_faults_the_auth_cases_pass() {
    let b = brokers().await;
    let results = run(port(&b.open), port(&b.auth), ALL).await;
    assert_eq!(results.len(), ALL.len());
    for r in &results {
        assert_eq!(r.outcome, Outcome::Pass, "{}", show(r));
    }
    // Through unaltered proxies too.
    let p = proxy::start(port(&b.open), proxy::unchanged()).await;
    let a = proxy::start(port(&b.auth), proxy::unchanged()).await;
    for r in &run(p.port, a.port, ALL).await {
        assert_eq!(r.outcome, Outcome::Pass, "{}", show(r));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_broker_ignoring_an_unknown_method_fails() {
    let b = brokers().await;
    // The method is removed from CONNECT: the broker accepts the connection.
    let p = proxy::start(
        port(&b.open),
        alter(|dir, v, bytes| {
            rewrite(v, bytes, |packet| match packet {
                Packet::Connect(c) if dir == Dir::ToBroker => {
                    c.properties.authentication_method = None;
                    true
                }
                _ => false,
            })
        }),
    )
    .await;
    let results = run(p.port, port(&b.auth), &[UNSUPPORTED]).await;
    assert_fails(&results, UNSUPPORTED, V5, "MQTT-4.12.0-1");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_broker_naming_a_method_nobody_asked_for_fails() {
    let b = brokers().await;
    let p = proxy::start(
        port(&b.open),
        alter(|dir, v, bytes| {
            rewrite(v, bytes, |packet| match packet {
                Packet::ConnAck(c) if dir == Dir::ToClient => {
                    c.properties.authentication_method = Some("SCRAM-SHA-256".into());
                    true
                }
                _ => false,
            })
        }),
    )
    .await;
    let results = run(p.port, port(&b.auth), &[NO_METHOD]).await;
    assert_fails(&results, NO_METHOD, V5, "MQTT-4.12.0-6");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_broker_tolerating_auth_without_a_method_fails() {
    let b = brokers().await;
    // The broker never sees the AUTH, as if it ignored it.
    let p = proxy::start(
        port(&b.open),
        alter(|dir, _, bytes| {
            if dir == Dir::ToBroker && bytes[0] >> 4 == 15 {
                return vec![];
            }
            vec![bytes.to_vec()]
        }),
    )
    .await;
    let results = run(p.port, port(&b.auth), &[WITHOUT]).await;
    assert_fails(&results, WITHOUT, V5, "MQTT-4.12.0-7");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_broker_dropping_the_method_from_auth_fails() {
    let b = brokers().await;
    let a = proxy::start(
        port(&b.auth),
        alter(|dir, v, bytes| {
            rewrite(v, bytes, |packet| match packet {
                Packet::Auth(a) if dir == Dir::ToClient => {
                    a.properties.authentication_method = None;
                    true
                }
                _ => false,
            })
        }),
    )
    .await;
    let results = run(port(&b.open), a.port, &[EXCHANGE]).await;
    assert_fails(&results, EXCHANGE, V5, "MQTT-4.12.0-5");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_broker_answering_auth_with_success_too_early_fails() {
    let b = brokers().await;
    // The server-first AUTH comes with reason 0x00 instead of 0x18 (Continue authentication).
    let a = proxy::start(
        port(&b.auth),
        alter(|dir, v, bytes| {
            rewrite(v, bytes, |packet| match packet {
                Packet::Auth(a)
                    if dir == Dir::ToClient
                        && a.reason_code == ReasonCode::CONTINUE_AUTHENTICATION =>
                {
                    a.reason_code = ReasonCode::SUCCESS;
                    true
                }
                _ => false,
            })
        }),
    )
    .await;
    let results = run(port(&b.open), a.port, &[EXCHANGE]).await;
    assert_fails(&results, EXCHANGE, V5, "MQTT-4.12.0-2");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_broker_accepting_a_wrong_scram_proof_fails() {
    let b = brokers().await;
    let a = proxy::start(
        port(&b.auth),
        alter(|dir, v, bytes| {
            rewrite(v, bytes, |packet| match packet {
                Packet::ConnAck(c) if dir == Dir::ToClient && c.reason_code.0 >= 0x80 => {
                    c.reason_code = ReasonCode::SUCCESS;
                    true
                }
                _ => false,
            })
        }),
    )
    .await;
    let results = run(port(&b.open), a.port, &[WRONG]).await;
    assert_fails(&results, WRONG, V5, "MQTT-4.12.0-4");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_broker_ignoring_auth_flags_fails() {
    let b = brokers().await;
    // The reserved flag is cleared before the broker sees it.
    let a = proxy::start(
        port(&b.auth),
        alter(|dir, _, bytes| {
            let mut out = bytes.to_vec();
            if dir == Dir::ToBroker && out[0] == 0xF1 {
                out[0] = 0xF0;
            }
            vec![out]
        }),
    )
    .await;
    let results = run(port(&b.open), a.port, &[FLAGS]).await;
    assert_fails(&results, FLAGS, V5, "MQTT-3.15.1-1");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_broker_keeping_a_failed_reauthentication_fails() {
    let b = brokers().await;
    // The failing re-authentication's client-final message never reaches the broker, as if
    // it did not act on the failure.
    let a = proxy::start(
        port(&b.auth),
        alter(|dir, _, bytes| {
            let reauth_final = bytes.windows(17).any(|w| w == b"tsnonce5555555555")
                && bytes.windows(2).any(|w| w == b"p=");
            if dir == Dir::ToBroker && bytes[0] == 0xF0 && reauth_final {
                return vec![];
            }
            vec![bytes.to_vec()]
        }),
    )
    .await;
    let results = run(port(&b.open), a.port, &[REAUTH]).await;
    assert_fails(&results, REAUTH, V5, "MQTT-4.12.1-2");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_broker_sending_an_undefined_auth_reason_fails() {
    let b = brokers().await;
    // The server-first AUTH carries reason 0x01, which AUTH does not define.
    let a = proxy::start(
        port(&b.auth),
        alter(|dir, v, bytes| {
            rewrite(v, bytes, |packet| match packet {
                Packet::Auth(a) if dir == Dir::ToClient => {
                    a.reason_code = ReasonCode(0x01);
                    true
                }
                _ => false,
            })
        }),
    )
    .await;
    let results = run(port(&b.open), a.port, &[EXCHANGE]).await;
    assert_fails(&results, EXCHANGE, V5, "MQTT-3.15.2-1");
}
