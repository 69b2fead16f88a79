//! The JSON report's schema: the serde types `touchstone run --format json` writes and every
//! reader (`touchstone matrix`, the tests) reads. `conformance/report.schema.json` is the JSON
//! Schema generated from them (a test keeps it current: `TOUCHSTONE_UPDATE_SCHEMA=1 cargo test
//! -p touchstone-conformance --test report_schema` rewrites it).
//!
//! Fields added after the first reports are optional when read, so that older reports still
//! load (they name the broker by the profile or the target).

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::harness::capability::{Capabilities, Capability};
use crate::harness::redact::Masked;
use crate::harness::transcript::Direction;
use crate::report::forms::StatementJson;
use crate::run::outcome::Outcome;
use crate::run::runner::{BrokerIdentity, RunStatus};

/// The format tag of the reports this version writes (`/3` added the `should_fail` outcome,
/// the case's `shortfalls`, and `strict`).
pub const FORMAT: &str = "touchstone-report/3";

/// A whole run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct JsonReport {
    /// [`FORMAT`] (absent in reports of Touchstone 0.1 before it existed).
    #[serde(default)]
    pub format: Option<String>,
    /// The Touchstone version that wrote it.
    #[serde(default)]
    pub touchstone: Option<String>,
    /// The run id (in client ids and topics).
    #[serde(default)]
    pub run_id: Option<String>,
    /// The target URL (without credentials).
    pub target: String,
    /// The broker tested.
    #[serde(default)]
    pub broker: Option<BrokerIdentity>,
    /// When the run started (Unix time, ms).
    #[serde(default)]
    pub started_unix_ms: Option<u64>,
    /// How long it took (ms).
    #[serde(default)]
    pub duration_ms: Option<f64>,
    /// The versions selected: `3.1.1`, `5`.
    #[serde(default)]
    pub protocols: Vec<String>,
    /// How the run ended, and its exit status.
    #[serde(default)]
    pub status: Option<RunStatus>,
    /// Why the run could not test the target (the preflight failed, or the target stopped
    /// answering), when it could not.
    #[serde(default)]
    pub unavailable: Option<String>,
    /// Versions whose cases were skipped because the target does not speak them, with why.
    #[serde(default)]
    pub versions_not_spoken: BTreeMap<String, String>,
    /// How many times the catalogue ran (`--repeat`).
    #[serde(default = "one")]
    pub repeat: u32,
    /// `--strict`: a SHOULD not followed (`should_fail`) fails the run.
    #[serde(default)]
    pub strict: bool,
    /// What the preflight found about the set-up.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
    /// The profile used.
    #[serde(default)]
    pub profile: ProfileRecord,
    /// Timers used.
    #[serde(default)]
    pub timing: Option<TimingRecord>,
    /// What each version's target supports, or why it is not known.
    #[serde(default)]
    pub capabilities: BTreeMap<String, CapabilitiesRecord>,
    /// Counts by outcome.
    #[serde(default)]
    pub summary: Option<Summary>,
    /// One record per case and version, in catalogue order, 3.1.1 first.
    pub cases: Vec<CaseRecord>,
}

fn one() -> u32 {
    1
}

/// The profile as the report records it.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct ProfileRecord {
    /// Where it was read from.
    #[serde(default)]
    pub path: Option<String>,
    /// The broker it describes.
    #[serde(default)]
    pub name: Option<String>,
    /// Its known deviations and knock-ons.
    #[serde(default)]
    pub deviations: Vec<DeviationRecord>,
    /// Its findings.
    #[serde(default)]
    pub findings: Vec<FindingRecord>,
}

/// A known deviation (or knock-on) of the profile.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct DeviationRecord {
    /// The case.
    pub case: String,
    /// `3.1.1` or `5`.
    pub protocol: String,
    /// The statement the broker breaks.
    pub statement: StatementJson,
    /// What the broker does instead.
    pub reason: String,
    /// What it sent.
    pub evidence: String,
    /// Where it is documented.
    #[serde(default)]
    pub reference: Option<String>,
    /// For a knock-on: the deviation (case id) or finding (reproducer) that causes it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cause: Option<String>,
    /// For a knock-on: text the failure must contain.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failure_contains: Option<String>,
    /// A race in the broker: a pass is a pass.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub intermittent: bool,
}

/// A finding of the profile: a bug that crashes or hangs the broker.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct FindingRecord {
    /// What happens.
    pub summary: String,
    /// The statement it breaks, if one does.
    #[serde(default)]
    pub statement: Option<StatementJson>,
    /// A reproducer (path from the repository root).
    pub reproducer: String,
    /// `3.1.1`, `5` or `all`.
    pub protocol: String,
    /// Cases not run because they trigger it.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub skip_cases: Vec<String>,
}

/// Timers used.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct TimingRecord {
    /// Extra seconds allowed on every timer the specification sets.
    pub timer_slack_s: f64,
    /// How long "nothing arrives" is watched for (s).
    pub quiet_s: f64,
    /// How long an expected packet is waited for (s).
    pub expect_s: f64,
}

/// A version's capabilities, or why they are unknown.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(untagged)]
pub enum CapabilitiesRecord {
    /// Discovered (and overridden by the profile).
    Discovered(Capabilities),
    /// Not discovered.
    Unknown {
        /// Why.
        error: String,
    },
}

/// Counts by outcome.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Summary {
    /// Runs (cases x versions).
    pub total: usize,
    /// True if the run is conformant.
    pub ok: bool,
    /// Passes.
    pub pass: usize,
    /// Passes of every MUST that fell short of a SHOULD.
    #[serde(default)]
    pub should_fail: usize,
    /// Failures.
    pub fail: usize,
    /// Errors.
    pub error: usize,
    /// Expected failures.
    pub expected_fail: usize,
    /// Unexpected passes.
    pub unexpected_pass: usize,
    /// Verdicts that changed between repeats.
    #[serde(default)]
    pub flaky: usize,
    /// Skips.
    pub skip: usize,
    /// Cases not run (the run was interrupted or the target stopped answering).
    #[serde(default)]
    pub not_run: usize,
}

impl Summary {
    /// The count of `o`.
    pub fn count(&self, o: Outcome) -> usize {
        match o {
            Outcome::Pass => self.pass,
            Outcome::ShouldFail => self.should_fail,
            Outcome::Fail => self.fail,
            Outcome::Error => self.error,
            Outcome::ExpectedFail => self.expected_fail,
            Outcome::UnexpectedPass => self.unexpected_pass,
            Outcome::Flaky => self.flaky,
            Outcome::Skip => self.skip,
            Outcome::NotRun => self.not_run,
        }
    }

    /// Adds one of `o`.
    pub fn add(&mut self, o: Outcome) {
        self.total += 1;
        *match o {
            Outcome::Pass => &mut self.pass,
            Outcome::ShouldFail => &mut self.should_fail,
            Outcome::Fail => &mut self.fail,
            Outcome::Error => &mut self.error,
            Outcome::ExpectedFail => &mut self.expected_fail,
            Outcome::UnexpectedPass => &mut self.unexpected_pass,
            Outcome::Flaky => &mut self.flaky,
            Outcome::Skip => &mut self.skip,
            Outcome::NotRun => &mut self.not_run,
        } += 1;
    }
}

/// A SHOULD a case run did not follow.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct ShortfallRecord {
    /// Where the text says it (`5.0 section 4.13.1`, or a statement).
    pub should: String,
    /// What it asks for.
    pub expected: String,
    /// What came.
    pub got: String,
}

/// The failure of a case run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct FailureRecord {
    /// What was expected.
    pub expected: String,
    /// What came.
    pub got: String,
    /// Statements this expectation checks besides the case's.
    #[serde(default)]
    pub statements: Vec<StatementJson>,
}

/// One case run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct CaseRecord {
    /// Case id.
    pub id: String,
    /// Case title.
    #[serde(default)]
    pub title: String,
    /// `3.1.1` or `5`.
    pub protocol: String,
    /// The verdict.
    pub outcome: Outcome,
    /// With `--repeat`: the verdict of each repetition.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub verdicts: Vec<Outcome>,
    /// How long it took (ms).
    #[serde(default)]
    pub duration_ms: Option<f64>,
    /// Statements checked (of this version).
    #[serde(default)]
    pub statements: Vec<StatementJson>,
    /// Capabilities the case needs.
    #[serde(default)]
    pub requires: Vec<Capability>,
    /// Expected and got, for fail and expected_fail.
    #[serde(default)]
    pub failure: Option<FailureRecord>,
    /// Why, for skip, error, not_run, flaky and unexpected_pass.
    #[serde(default)]
    pub message: Option<String>,
    /// MAY choices seen, SHOULDs followed, and timings measured.
    #[serde(default)]
    pub observations: Vec<String>,
    /// For should_fail: the SHOULDs not followed.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub shortfalls: Vec<ShortfallRecord>,
    /// The profile's deviation for the case and version.
    #[serde(default)]
    pub deviation: Option<DeviationRecord>,
    /// The command that reruns it.
    #[serde(default)]
    pub rerun: Option<String>,
    /// Every packet each way (secrets masked).
    #[serde(default)]
    pub transcript: Vec<EntryRecord>,
}

/// One line of a transcript.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct EntryRecord {
    /// Time since the case started (ms).
    pub t_ms: f64,
    /// The client's name in the case (`sub`, `sub#2` for its second connection).
    pub client: String,
    /// Which way.
    pub dir: Direction,
    /// The bytes, in hex (the first 16 KiB of longer ones: see `omitted_bytes`).
    pub hex: String,
    /// The decoded packet, as `touchstone decode` prints it, when the bytes are one valid
    /// packet (absent for entries over 16 KiB).
    #[serde(default)]
    pub packet: Option<serde_json::Value>,
    /// The decoded form as one line.
    pub summary: String,
    /// Why the bytes do not decode, or what the event was.
    #[serde(default)]
    pub note: Option<String>,
    /// Bytes left out of `hex`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub omitted_bytes: Option<usize>,
    /// Secrets masked in the bytes (each byte replaced by `*`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub masked: Vec<Masked>,
}

/// The JSON Schema of [`JsonReport`], as pretty JSON.
pub fn json_schema() -> String {
    let schema = schemars::schema_for!(JsonReport);
    let mut s = serde_json::to_string_pretty(&schema).unwrap_or_default();
    s.push('\n');
    s
}
