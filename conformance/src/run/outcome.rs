//! Outcomes: what one run of one case for one protocol version gave.

use std::time::Duration;

use serde::{Deserialize, Serialize};
use touchstone_codec::{Protocol, Statement};

use crate::harness::capability::Capability;
use crate::harness::transcript::Entry;
use crate::harness::verdict::{Failure, Shortfall};
use crate::run::profile::Deviation;

/// The verdict of a case run.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    Serialize,
    Deserialize,
    schemars::JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// The target did what the specification requires.
    Pass,
    /// The target kept every MUST the case checks but fell short of a SHOULD (see
    /// `shortfalls`): shown apart, and a failure of the run only with `--strict`.
    ShouldFail,
    /// The target broke a rule.
    Fail,
    /// The case does not apply (the reason says why).
    Skip,
    /// The harness or the target had trouble (could not connect, hung, a case bug).
    Error,
    /// Failed, as the profile says this target does (a known deviation).
    ExpectedFail,
    /// Passed although the profile lists a deviation (the profile is out of date).
    UnexpectedPass,
    /// The verdict changed between repetitions of the run (`--repeat`): a race in the target,
    /// or a case that depends on timing.
    Flaky,
    /// Not run: the run was interrupted, or the target stopped answering before the case.
    NotRun,
}

impl Outcome {
    /// Every outcome, in report order.
    pub const ALL: [Outcome; 9] = [
        Outcome::Pass,
        Outcome::ShouldFail,
        Outcome::Fail,
        Outcome::Error,
        Outcome::ExpectedFail,
        Outcome::UnexpectedPass,
        Outcome::Flaky,
        Outcome::Skip,
        Outcome::NotRun,
    ];

    /// The snake-case name, as in JSON.
    pub const fn as_str(self) -> &'static str {
        match self {
            Outcome::Pass => "pass",
            Outcome::ShouldFail => "should_fail",
            Outcome::Fail => "fail",
            Outcome::Skip => "skip",
            Outcome::Error => "error",
            Outcome::ExpectedFail => "expected_fail",
            Outcome::UnexpectedPass => "unexpected_pass",
            Outcome::Flaky => "flaky",
            Outcome::NotRun => "not_run",
        }
    }

    /// True for the outcomes that make the run fail (exit status 1) without `--strict`.
    pub const fn is_bad(self) -> bool {
        matches!(
            self,
            Outcome::Fail | Outcome::Error | Outcome::UnexpectedPass | Outcome::Flaky
        )
    }

    /// True for the outcomes that make the run fail: with `strict`, a SHOULD not followed too.
    pub const fn fails_run(self, strict: bool) -> bool {
        self.is_bad() || (strict && matches!(self, Outcome::ShouldFail))
    }

    /// True for a pass, with or without SHOULDs not followed: every MUST the case checks held.
    pub const fn is_pass(self) -> bool {
        matches!(self, Outcome::Pass | Outcome::ShouldFail)
    }
}

impl std::fmt::Display for Outcome {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The full record of one case run.
#[derive(Debug, Clone)]
pub struct CaseResult {
    /// Case id.
    pub id: &'static str,
    /// Case title.
    pub title: &'static str,
    /// Protocol version of this run.
    pub protocol: Protocol,
    /// The verdict.
    pub outcome: Outcome,
    /// With `--repeat`: the verdict of each repetition (empty for a single run).
    pub verdicts: Vec<Outcome>,
    /// When it started, from the start of the run.
    pub started: Duration,
    /// The statements checked (those of this version).
    pub statements: Vec<Statement>,
    /// The capabilities the case needs.
    pub requires: Vec<Capability>,
    /// How long it took.
    pub duration: Duration,
    /// For fail / expected-fail: what was expected and what came.
    pub failure: Option<Failure>,
    /// For skip and error: why; for unexpected-pass: what to do.
    pub message: Option<String>,
    /// The allowed behaviours seen (MAY choices, and SHOULDs followed).
    pub observations: Vec<String>,
    /// The SHOULDs not followed (outcome `should_fail`).
    pub shortfalls: Vec<Shortfall>,
    /// The profile's deviation for this case and version, if any.
    pub deviation: Option<Deviation>,
    /// Every packet each way.
    pub transcript: Vec<Entry>,
}

impl CaseResult {
    /// A case run that did not happen: `outcome` (skip, error or not run) and why.
    pub fn without_run(
        case: &crate::harness::case::Case,
        protocol: Protocol,
        outcome: Outcome,
        message: String,
    ) -> CaseResult {
        CaseResult {
            id: case.id,
            title: case.title,
            protocol,
            outcome,
            verdicts: Vec::new(),
            started: Duration::ZERO,
            statements: case.statements_for(protocol),
            requires: case.requires.to_vec(),
            duration: Duration::ZERO,
            failure: None,
            message: Some(message),
            observations: Vec::new(),
            shortfalls: Vec::new(),
            deviation: None,
            transcript: Vec::new(),
        }
    }
}
