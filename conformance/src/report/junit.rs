//! JUnit XML for CI: one test suite per protocol version, one test case per case.
//! Expected failures are successes (with the deviation in the output); unexpected passes are
//! failures.

use quick_junit::{NonSuccessKind, Report, TestCase, TestCaseStatus, TestSuite};

use super::Rerun;
use crate::outcome::{CaseResult, Outcome};
use crate::runner::RunReport;
use crate::transcript;

fn details(r: &CaseResult, rerun: &Rerun) -> String {
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
    if let Some(d) = &r.deviation {
        s += &format!(
            "known deviation from {}: {} (evidence: {})\n",
            d.statement, d.reason, d.evidence
        );
    }
    for o in &r.observations {
        s += &format!("observed: {o}\n");
    }
    let ids: Vec<String> = r.statements.iter().map(|s| s.to_string()).collect();
    s += &format!("statements: {}\n", ids.join(", "));
    s += &format!("rerun: {}\n", rerun.command(r));
    if !r.transcript.is_empty() {
        s += "transcript:\n";
        s += &transcript::render(&r.transcript, "  ");
    }
    s
}

/// The report as JUnit XML.
pub fn render(report: &RunReport, rerun: &Rerun) -> Result<String, String> {
    let mut junit = Report::new("touchstone");
    junit.set_time(report.duration);
    for &p in &report.protocols {
        let mut suite = TestSuite::new(format!("MQTT {p} against {}", report.target));
        for r in report.results.iter().filter(|r| r.protocol == p) {
            let status = match r.outcome {
                Outcome::Pass | Outcome::ExpectedFail => TestCaseStatus::success(),
                Outcome::Skip => {
                    let mut s = TestCaseStatus::skipped();
                    if let Some(m) = &r.message {
                        s.set_message(m.as_str());
                    }
                    s
                }
                Outcome::Fail | Outcome::UnexpectedPass => {
                    let mut s = TestCaseStatus::non_success(NonSuccessKind::Failure);
                    let msg = match (&r.failure, &r.message) {
                        (Some(f), _) => format!("expected {}; got {}", f.expected, f.got),
                        (None, Some(m)) => m.clone(),
                        (None, None) => r.outcome.to_string(),
                    };
                    s.set_message(msg);
                    s.set_type(r.outcome.as_str());
                    s.set_description(details(r, rerun));
                    s
                }
                Outcome::Error => {
                    let mut s = TestCaseStatus::non_success(NonSuccessKind::Error);
                    s.set_message(r.message.clone().unwrap_or_else(|| "error".into()));
                    s.set_description(details(r, rerun));
                    s
                }
            };
            let mut tc = TestCase::new(r.id, status);
            tc.set_classname(format!(
                "mqtt{}.{}",
                p.as_str(),
                r.id.split('.').next().unwrap_or("")
            ));
            tc.set_time(r.duration);
            if matches!(r.outcome, Outcome::Pass | Outcome::ExpectedFail) {
                tc.set_system_out(details(r, rerun));
            }
            suite.add_test_case(tc);
        }
        junit.add_test_suite(suite);
    }
    junit
        .to_string()
        .map_err(|e| format!("cannot write JUnit XML: {e}"))
}
