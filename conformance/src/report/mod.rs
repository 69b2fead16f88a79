//! Reports of a run: the pretty terminal view (with live progress), JSON (the full record),
//! JUnit XML and Markdown.

pub mod coverage;
pub mod forms;
pub mod json;
pub mod junit;
pub mod live;
pub mod markdown;
pub mod matrix;
pub mod pretty;
pub mod schema;
#[cfg(test)]
mod should_tests;

use touchstone_codec::Protocol;

use crate::run::outcome::{CaseResult, Outcome};
use crate::run::runner::RunReport;

/// The command line that reruns one case: the run's own options plus the case.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rerun {
    /// `touchstone run --target ... [--profile ...]`, shell-quoted.
    pub base: String,
    /// A shell comment after the command: what the environment must hold (the credentials are
    /// never written out: reruns name the variables that carry them).
    pub needs: Option<String>,
}

impl Rerun {
    /// The command for `result`.
    pub fn command(&self, result: &CaseResult) -> String {
        format!(
            "{} --protocol {} --filter {} --exact{}",
            self.base,
            result.protocol.as_str(),
            shell_quote(result.id),
            self.needs
                .as_ref()
                .map(|n| format!("  # {n}"))
                .unwrap_or_default()
        )
    }
}

/// Quotes `s` for a POSIX shell when it needs it.
pub fn shell_quote(s: &str) -> String {
    if !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_./:=@%+,".contains(c))
    {
        s.to_string()
    } else {
        format!("'{}'", s.replace('\'', r"'\''"))
    }
}

/// The outcome name as people read it (`expected-fail`).
pub fn outcome_label(o: Outcome) -> &'static str {
    match o {
        Outcome::Pass => "pass",
        Outcome::ShouldFail => "should-fail",
        Outcome::Fail => "FAIL",
        Outcome::Skip => "skip",
        Outcome::Error => "ERROR",
        Outcome::ExpectedFail => "expected-fail",
        Outcome::UnexpectedPass => "UNEXPECTED-PASS",
        Outcome::Flaky => "FLAKY",
        Outcome::NotRun => "not-run",
    }
}

/// "3.1.1" / "5".
pub fn protocol_label(p: Protocol) -> &'static str {
    p.as_str()
}

/// One line of counts: `54 runs: 50 pass, 1 expected-fail, 3 skip`.
pub fn counts_line(report: &RunReport) -> String {
    let counts = report.counts();
    let mut parts = Vec::new();
    for o in Outcome::ALL {
        if let Some(n) = counts.get(&o) {
            parts.push(format!("{n} {}", outcome_label(o).to_lowercase()));
        }
    }
    format!(
        "{} run{}: {}",
        report.results.len(),
        if report.results.len() == 1 { "" } else { "s" },
        if parts.is_empty() {
            "nothing selected".to_string()
        } else {
            parts.join(", ")
        }
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoting() {
        assert_eq!(
            shell_quote("mqtt://127.0.0.1:1883"),
            "mqtt://127.0.0.1:1883"
        );
        assert_eq!(shell_quote("a b"), "'a b'");
        assert_eq!(shell_quote("it's"), r"'it'\''s'");
        assert_eq!(shell_quote(""), "''");
    }
}
