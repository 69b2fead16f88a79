//! JUnit XML for CI, as GitHub, GitLab and Jenkins read it: one test suite per protocol version
//! (named `MQTT 3.1.1` / `MQTT 5.0`, with the broker's name when one is given: never the port),
//! one test case per case (class `mqtt311.<area>` / `mqtt5.<area>`).
//!
//! * pass: a success (its observations as output, no transcript);
//! * fail, error: a failure or error with expected / got, the statements, the transcript and
//!   the rerun command;
//! * unexpected pass, flaky: failures (the profile is out of date; the verdict changed);
//! * should fail (every MUST held, a SHOULD did not): a success with the SHOULDs not followed
//!   as output and the property `outcome = should_fail`; with `--strict`, a failure;
//! * expected fail: `<skipped type="xfail">` with the deviation and its evidence (the xfail
//!   convention of pytest), and the property `outcome = expected_fail`;
//! * skip and not run: `<skipped>` with the reason.
//!
//! Suites carry their wall time and start (`time`, `timestamp`), and the count of skipped
//! cases as `skipped`.

use std::time::Duration;

use quick_junit::{NonSuccessKind, Property, Report, TestCase, TestCaseStatus, TestSuite};

use super::Rerun;
use crate::harness::transcript;
use crate::run::outcome::{CaseResult, Outcome};
use crate::run::runner::RunReport;

fn lines(r: &CaseResult, rerun: &Rerun, with_transcript: bool) -> String {
    let mut s = String::new();
    if let Some(f) = &r.failure {
        s += &format!("expected: {}\ngot:      {}\n", f.expected, f.got);
        if !f.statements.is_empty() {
            let ids: Vec<String> = f.statements.iter().map(|s| s.to_string()).collect();
            s += &format!("broken:   {}\n", ids.join(", "));
        }
    }
    if let Some(m) = &r.message {
        s += &format!("{m}\n");
    }
    if !r.verdicts.is_empty() {
        let v: Vec<&str> = r.verdicts.iter().map(|o| o.as_str()).collect();
        s += &format!("verdicts of the repeated runs: {}\n", v.join(", "));
    }
    if let Some(d) = &r.deviation {
        s += &format!(
            "known deviation from {}: {} (evidence: {})\n",
            d.statement, d.reason, d.evidence
        );
    }
    for f in &r.shortfalls {
        s += &format!(
            "SHOULD not followed ({}): expected {}; got {}\n",
            f.should, f.expected, f.got
        );
    }
    for o in &r.observations {
        s += &format!("observed: {o}\n");
    }
    let ids: Vec<String> = r.statements.iter().map(|s| s.to_string()).collect();
    s += &format!("statements: {}\n", ids.join(", "));
    s += &format!("rerun: {}\n", rerun.command(r));
    if with_transcript && !r.transcript.is_empty() {
        s += "transcript:\n";
        s += &transcript::render(&r.transcript, "  ");
    }
    s
}

fn status(r: &CaseResult, rerun: &Rerun, strict: bool) -> TestCaseStatus {
    let message = || match (&r.failure, &r.message, r.shortfalls.first()) {
        (Some(f), _, _) => format!("expected {}; got {}", f.expected, f.got),
        (None, Some(m), _) => m.clone(),
        (None, None, Some(f)) => format!(
            "SHOULD not followed ({}): expected {}; got {}",
            f.should, f.expected, f.got
        ),
        (None, None, None) => r.outcome.to_string(),
    };
    match r.outcome {
        Outcome::Pass => TestCaseStatus::success(),
        Outcome::ShouldFail if !strict => TestCaseStatus::success(),
        Outcome::ShouldFail => {
            let mut s = TestCaseStatus::non_success(NonSuccessKind::Failure);
            s.set_message(message());
            s.set_type(r.outcome.as_str());
            s.set_description(lines(r, rerun, true));
            s
        }
        Outcome::Skip | Outcome::NotRun => {
            let mut s = TestCaseStatus::skipped();
            s.set_message(r.message.clone().unwrap_or_default());
            if r.outcome == Outcome::NotRun {
                s.set_type("not_run");
            }
            s
        }
        Outcome::ExpectedFail => {
            let mut s = TestCaseStatus::skipped();
            s.set_type("xfail");
            s.set_message(match &r.deviation {
                Some(d) => format!("known deviation from {}: {}", d.statement, d.reason),
                None => "known deviation".to_string(),
            });
            s.set_description(lines(r, rerun, true));
            s
        }
        Outcome::Fail | Outcome::UnexpectedPass | Outcome::Flaky => {
            let mut s = TestCaseStatus::non_success(NonSuccessKind::Failure);
            s.set_message(message());
            s.set_type(r.outcome.as_str());
            s.set_description(lines(r, rerun, true));
            s
        }
        Outcome::Error => {
            let mut s = TestCaseStatus::non_success(NonSuccessKind::Error);
            s.set_message(message());
            s.set_type("error");
            s.set_description(lines(r, rerun, true));
            s
        }
    }
}

/// The suite name of a version: stable from run to run (no address or port).
pub fn suite_name(report: &RunReport, p: touchstone_codec::Protocol) -> String {
    let version = if p.is_v5() { "5.0" } else { p.as_str() };
    let broker = report.broker();
    if broker.name == report.target {
        format!("MQTT {version}")
    } else {
        format!("{} MQTT {version}", broker.name)
    }
}

/// The report as JUnit XML.
pub fn render(report: &RunReport, rerun: &Rerun) -> Result<String, JunitError> {
    let mut junit = Report::new("touchstone");
    junit.set_time(report.duration);
    let started = chrono::DateTime::<chrono::Utc>::from(report.started).fixed_offset();
    junit.set_timestamp(started);
    for &p in &report.protocols {
        let results: Vec<&CaseResult> = report.results.iter().filter(|r| r.protocol == p).collect();
        let mut suite = TestSuite::new(suite_name(report, p));
        // The suite's wall time: from its first case's start to its last case's end.
        let first = results.iter().map(|r| r.started).min().unwrap_or_default();
        let last = results
            .iter()
            .map(|r| r.started + r.duration)
            .max()
            .unwrap_or_default();
        suite.set_time(last.saturating_sub(first).max(Duration::from_millis(1)));
        suite.set_timestamp(
            chrono::DateTime::<chrono::Utc>::from(report.started + first).fixed_offset(),
        );
        let broker = report.broker();
        for (k, v) in [
            ("target", Some(report.target.clone())),
            ("broker", Some(broker.name.clone())),
            ("broker_version", broker.version.clone()),
            ("touchstone", Some(env!("CARGO_PKG_VERSION").to_string())),
            ("run_id", Some(report.run_id.clone())),
            ("status", Some(report.status().as_str().to_string())),
            (
                "profile",
                report
                    .profile
                    .path
                    .as_ref()
                    .map(|p| p.display().to_string()),
            ),
            (
                "not_spoken",
                report
                    .not_spoken
                    .iter()
                    .find(|(q, _)| *q == p)
                    .map(|(_, w)| w.clone()),
            ),
            ("unavailable", report.unavailable.clone()),
        ] {
            if let Some(v) = v {
                suite.add_property(Property::new(k, v));
            }
        }
        let mut skipped = 0;
        for r in results {
            let mut tc = TestCase::new(r.id, status(r, rerun, report.strict));
            tc.set_classname(format!(
                "mqtt{}.{}",
                if p.is_v5() { "5" } else { "311" },
                r.id.split('.').next().unwrap_or("")
            ));
            tc.set_time(r.duration);
            tc.add_property(Property::new("outcome", r.outcome.as_str()));
            match r.outcome {
                Outcome::Pass => {
                    tc.set_system_out(lines(r, rerun, false));
                }
                Outcome::ShouldFail if !report.strict => {
                    tc.set_system_out(lines(r, rerun, false));
                }
                Outcome::Skip | Outcome::NotRun | Outcome::ExpectedFail => skipped += 1,
                _ => {}
            }
            suite.add_test_case(tc);
        }
        // quick-junit counts skips as `disabled`; readers count `skipped`.
        suite.disabled = 0;
        suite
            .extra
            .insert("skipped".into(), skipped.to_string().into());
        junit.add_test_suite(suite);
    }
    junit.to_string().map_err(JunitError)
}

/// The JUnit XML could not be written (quick-junit's serializer failed).
#[derive(Debug, thiserror::Error)]
#[error("cannot write JUnit XML: {0}")]
pub struct JunitError(#[source] pub quick_junit::SerializeError);
