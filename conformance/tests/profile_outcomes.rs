//! How a profile's deviations and knock-ons turn case results into outcomes, on real runs
//! against the reference broker: with a fault that breaks 5.0 [MQTT-4.3.3-11] (it closes the
//! connection on a PUBREL for an unknown packet id), and without.

mod common;

use common::{port, run_cases_with, show};
use touchstone_broker::server::{RunningServer, Server, ServerConfig};
use touchstone_broker::Faults;
use touchstone_codec::Protocol;
use touchstone_conformance::cases;
use touchstone_conformance::run::outcome::{CaseResult, Outcome};
use touchstone_conformance::run::profile::Profile;

const CASE: &str = "qos.pubrel-unknown-id-answered";

async fn broker(faulty: bool) -> RunningServer {
    let b = Server::start(ServerConfig::default())
        .await
        .expect("start the reference broker");
    b.set_faults(Faults {
        close_on_unknown_pubrel: faulty,
        ..Faults::default()
    });
    b
}

fn profile(text: &str) -> Profile {
    Profile::parse(text, &cases::catalogue()).expect("a valid profile")
}

/// A deviation of the case itself.
fn deviation(intermittent: bool) -> Profile {
    profile(&format!(
        r#"
[[deviation]]
case = "{CASE}"
protocol = "5"
statement = "5.0 MQTT-4.3.3-11"
reason = "closes the connection on a PUBREL for an unknown packet id"
evidence = "PUBREL id 4242, then the connection closed"
intermittent = {intermittent}
"#
    ))
}

/// The case as a knock-on of a finding, bound to the failure text `failure`.
fn knock_on(failure: &str, intermittent: bool) -> Profile {
    profile(&format!(
        r#"
[[finding]]
summary = "closes the connection on a PUBREL for an unknown packet id"
statement = "5.0 MQTT-4.3.3-11"
reproducer = "findings/test-only.md"
protocol = "5"

[[knock-on]]
case = "{CASE}"
protocol = "5"
cause = "findings/test-only.md"
failure = "{failure}"
reason = "the close is the finding's"
evidence = "PUBREL id 4242, then the connection closed"
intermittent = {intermittent}
"#
    ))
}

async fn run(faulty: bool, profile: Profile) -> CaseResult {
    let b = broker(faulty).await;
    let results = run_cases_with(port(&b), &[CASE], None, profile).await;
    b.shutdown().await;
    results
        .into_iter()
        .find(|r| r.id == CASE && r.protocol == Protocol::V5)
        .expect("the case ran for 5.0")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_deviation_that_shows_is_an_expected_fail_and_one_that_does_not_an_unexpected_pass() {
    let r = run(true, deviation(false)).await;
    assert_eq!(r.outcome, Outcome::ExpectedFail, "{}", show(&r));
    let r = run(false, deviation(false)).await;
    assert_eq!(r.outcome, Outcome::UnexpectedPass, "{}", show(&r));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_intermittent_deviation_that_does_not_show_is_a_pass_with_an_observation() {
    let r = run(false, deviation(true)).await;
    assert_eq!(r.outcome, Outcome::Pass, "{}", show(&r));
    assert!(
        r.observations.iter().any(|o| o.contains("did not show")),
        "{:?}",
        r.observations
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_knock_on_holds_only_for_its_own_failure_text() {
    let r = run(true, knock_on("PUBCOMP", false)).await;
    assert_eq!(r.outcome, Outcome::ExpectedFail, "{}", show(&r));
    // Any other failure of the case still fails the run, and says why.
    let r = run(true, knock_on("no such failure text", false)).await;
    assert_eq!(r.outcome, Outcome::Fail, "{}", show(&r));
    assert!(
        r.message
            .as_deref()
            .is_some_and(|m| m.contains("attributes failures of this case")),
        "{}",
        show(&r)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_knock_on_that_does_not_happen_is_an_unexpected_pass_unless_intermittent() {
    let r = run(false, knock_on("PUBCOMP", false)).await;
    assert_eq!(r.outcome, Outcome::UnexpectedPass, "{}", show(&r));
    let r = run(false, knock_on("PUBCOMP", true)).await;
    assert_eq!(r.outcome, Outcome::Pass, "{}", show(&r));
    assert!(
        r.observations
            .iter()
            .any(|o| o.contains("did not happen in this run")),
        "{:?}",
        r.observations
    );
}
