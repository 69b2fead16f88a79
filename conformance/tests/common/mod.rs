//! Helpers shared by the integration tests: a private Mosquitto, an altering proxy, and a way
//! to run cases through the library.

#![allow(dead_code)]

pub mod mosquitto;
pub mod proxy;

use std::sync::Arc;
use std::time::Duration;

use touchstone_codec::Protocol;
use touchstone_conformance::cases;
use touchstone_conformance::harness::context::{Credentials, Timing};
use touchstone_conformance::harness::verdict::Failure;
use touchstone_conformance::net::target::Target;
use touchstone_conformance::net::tls::TlsOptions;
use touchstone_conformance::net::transport::Connector;
use touchstone_conformance::run::outcome::{CaseResult, Outcome};
use touchstone_conformance::run::profile::Profile;
use touchstone_conformance::run::runner::{self, Quiet, RunConfig};

/// The TCP port of a reference broker started by a test.
pub fn port(s: &touchstone_broker::server::RunningServer) -> u16 {
    s.tcp_addr().expect("tcp listener").port()
}

/// The timer slack for Mosquitto 2.0.11 (which closes a silent Keep Alive 8 s connection about
/// 5 s late): the default one.
pub const MOSQUITTO_SLACK: Duration = touchstone_conformance::harness::context::DEFAULT_TIMER_SLACK;

/// Runs the cases with these exact ids against `127.0.0.1:port`, for both versions.
pub async fn run_cases(port: u16, ids: &[&str], auth_port: Option<u16>) -> Vec<CaseResult> {
    run_cases_with(port, ids, auth_port, Profile::default()).await
}

/// [`run_cases`] with a profile.
pub async fn run_cases_with(
    port: u16,
    ids: &[&str],
    auth_port: Option<u16>,
    profile: Profile,
) -> Vec<CaseResult> {
    let connector = |p: u16| {
        Connector::new(
            Target::parse(&format!("mqtt://127.0.0.1:{p}")).expect("target"),
            &TlsOptions::default(),
        )
        .expect("connector")
    };
    let config = RunConfig {
        connector: connector(port),
        auth_connector: auth_port.map(connector),
        credentials: if auth_port.is_some() {
            Credentials {
                username: Some(mosquitto::USER.into()),
                password: Some(mosquitto::PASSWORD.into()),
            }
        } else {
            Credentials::default()
        },
        protocols: vec![Protocol::V3_1_1, Protocol::V5],
        explicit_protocols: false,
        filters: ids.iter().map(|s| s.to_string()).collect(),
        exact: true,
        profile,
        jobs: 8,
        timing: Timing {
            timer_slack: MOSQUITTO_SLACK,
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

/// A result as text for assertion messages.
pub fn show(r: &CaseResult) -> String {
    let failure = r
        .failure
        .as_ref()
        .map(|f: &Failure| {
            format!(
                "expected {} / got {} / {:?}",
                f.expected, f.got, f.statements
            )
        })
        .unwrap_or_default();
    format!(
        "{} [{}] {}: {failure} {} {:?}",
        r.id,
        r.protocol,
        r.outcome,
        r.message.clone().unwrap_or_default(),
        r.shortfalls
    )
}

/// Asserts the run of `id` for `protocol` failed, citing `statement` among what broke.
pub fn assert_fails(results: &[CaseResult], id: &str, protocol: Protocol, statement: &str) {
    let r = results
        .iter()
        .find(|r| r.id == id && r.protocol == protocol)
        .unwrap_or_else(|| panic!("{id} did not run for {protocol}"));
    assert_eq!(r.outcome, Outcome::Fail, "{}", show(r));
    let f = r.failure.as_ref().expect("a failure record");
    assert!(
        f.statements
            .iter()
            .any(|s| s.id == statement && s.version == protocol.spec()),
        "{id} [{protocol}] failed without citing {} {statement}: {}",
        protocol.spec(),
        show(r)
    );
}
