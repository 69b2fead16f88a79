//! The conformance matrix: JSON reports of several brokers side by side, as Markdown and as a
//! self-contained HTML page.
//!
//! Reports are read with the report's own types ([`super::schema`]); reports written before
//! `"broker"` existed name the broker by the profile's name, else the target URL.
//! Reports of the same broker name are merged into one column (e.g. a 3.1.1 run and a 5.0
//! run on separate listeners); the same case and version twice for one broker is an error.

pub mod html;
mod load;
pub mod markdown;
pub mod view;

pub use load::{CaseJson, DeviationJson, FindingJson, MatrixError, Report, StatementRef};

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;

use touchstone_codec::SpecVersion;

use crate::run::outcome::Outcome;
use crate::spec;

/// What a cell shows: an outcome, or that the case did not run for that broker and version.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Mark {
    /// The case ran with this outcome.
    Ran(Outcome),
    /// No report of the broker has the case for that version.
    NotRun,
}

impl Mark {
    /// Every mark, in legend order.
    pub const ALL: [Mark; 9] = [
        Mark::Ran(Outcome::Pass),
        Mark::Ran(Outcome::ShouldFail),
        Mark::Ran(Outcome::Fail),
        Mark::Ran(Outcome::Error),
        Mark::Ran(Outcome::ExpectedFail),
        Mark::Ran(Outcome::UnexpectedPass),
        Mark::Ran(Outcome::Flaky),
        Mark::Ran(Outcome::Skip),
        Mark::NotRun,
    ];

    /// The marks of case runs that ran (every mark but not run), as the count columns show them.
    pub fn counted() -> impl Iterator<Item = Mark> {
        Mark::ALL.into_iter().filter(|m| *m != Mark::NotRun)
    }

    /// The name used as CSS class suffix and in JSON: `pass`, ..., `not_run`.
    pub fn key(self) -> &'static str {
        match self {
            Mark::Ran(o) => o.as_str(),
            Mark::NotRun => "not_run",
        }
    }

    /// The Markdown symbol.
    pub fn symbol(self) -> &'static str {
        match self {
            Mark::Ran(Outcome::Pass) => "✅",
            Mark::Ran(Outcome::ShouldFail) => "🟨",
            Mark::Ran(Outcome::Fail) => "❌",
            Mark::Ran(Outcome::Error) => "💥",
            Mark::Ran(Outcome::ExpectedFail) => "🔶",
            Mark::Ran(Outcome::UnexpectedPass) => "❕",
            Mark::Ran(Outcome::Flaky) => "🔀",
            Mark::Ran(Outcome::Skip) => "⏭️",
            Mark::NotRun | Mark::Ran(Outcome::NotRun) => "·",
        }
    }

    /// What it means, for the legend.
    pub fn meaning(self) -> &'static str {
        match self {
            Mark::Ran(Outcome::Pass) => "pass",
            Mark::Ran(Outcome::ShouldFail) => {
                "should fail: every MUST held, a SHOULD was not followed (a failure only with --strict)"
            }
            Mark::Ran(Outcome::Fail) => "fail: the broker broke a rule the specification fixes",
            Mark::Ran(Outcome::Error) => {
                "error: the run could not judge (could not connect, the broker hung or closed)"
            }
            Mark::Ran(Outcome::ExpectedFail) => {
                "expected fail: a known deviation listed in the broker's profile"
            }
            Mark::Ran(Outcome::UnexpectedPass) => {
                "unexpected pass: passed although the profile lists a deviation"
            }
            Mark::Ran(Outcome::Flaky) => {
                "flaky: the verdict changed between repeated runs (a race in the broker)"
            }
            Mark::Ran(Outcome::Skip) => {
                "skip: the broker lacks a capability the case needs (or an optional feature)"
            }
            Mark::NotRun | Mark::Ran(Outcome::NotRun) => {
                "not run: no report of this broker has the case for this version"
            }
        }
    }

    /// The short label (`pass`, `expected fail`, ...).
    pub fn label(self) -> &'static str {
        match self {
            Mark::Ran(Outcome::Pass) => "pass",
            Mark::Ran(Outcome::ShouldFail) => "should fail",
            Mark::Ran(Outcome::Fail) => "fail",
            Mark::Ran(Outcome::Error) => "error",
            Mark::Ran(Outcome::ExpectedFail) => "expected fail",
            Mark::Ran(Outcome::UnexpectedPass) => "unexpected pass",
            Mark::Ran(Outcome::Flaky) => "flaky",
            Mark::Ran(Outcome::Skip) => "skip",
            Mark::NotRun | Mark::Ran(Outcome::NotRun) => "not run",
        }
    }
}

/// Counts of marks, and the pass rate they give.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Tally {
    /// How many cells have each mark.
    pub counts: BTreeMap<Mark, usize>,
}

impl Tally {
    /// Adds one cell.
    pub fn add(&mut self, m: Mark) {
        *self.counts.entry(m).or_insert(0) += 1;
    }

    /// Cells with mark `m`.
    pub fn count(&self, m: Mark) -> usize {
        self.counts.get(&m).copied().unwrap_or(0)
    }

    /// Runs where the broker did what the specification requires: pass (with or without a
    /// SHOULD not followed) and unexpected pass.
    pub fn passed(&self) -> usize {
        self.count(Mark::Ran(Outcome::Pass))
            + self.count(Mark::Ran(Outcome::ShouldFail))
            + self.count(Mark::Ran(Outcome::UnexpectedPass))
    }

    /// Runs that gave a verdict or an error: everything but skip and not run.
    pub fn judged(&self) -> usize {
        self.passed()
            + self.count(Mark::Ran(Outcome::Fail))
            + self.count(Mark::Ran(Outcome::ExpectedFail))
            + self.count(Mark::Ran(Outcome::Error))
            + self.count(Mark::Ran(Outcome::Flaky))
    }

    /// Runs with any outcome (skips included).
    pub fn ran(&self) -> usize {
        self.counts
            .iter()
            .filter(|(m, _)| **m != Mark::NotRun)
            .map(|(_, n)| n)
            .sum()
    }

    /// `passed / judged`, in percent; `None` when nothing was judged.
    pub fn rate(&self) -> Option<f64> {
        let j = self.judged();
        (j > 0).then(|| 100.0 * self.passed() as f64 / j as f64)
    }

    /// `41/45 (91.1%)`, or `–` when nothing was judged.
    pub fn rate_text(&self) -> String {
        match self.rate() {
            Some(r) => format!("{}/{} ({r:.1}%)", self.passed(), self.judged()),
            None => "–".to_string(),
        }
    }
}

/// Statement coverage of one broker for one specification version.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatementCoverage {
    /// The specification.
    pub version: SpecVersion,
    /// Broker-wire statements of the index (as `touchstone coverage` counts them).
    pub total: usize,
    /// Broker-wire statements checked by at least one case that ran (not skipped).
    pub checked: usize,
    /// Of those, the statements every run citing them passed.
    pub passed: usize,
    /// The checked statements not passed, each with the cases (and outcomes) that did not pass.
    pub not_passed: Vec<(String, Vec<String>)>,
}

/// One broker column: its reports merged.
#[derive(Debug, Clone)]
pub struct BrokerColumn {
    /// The broker name (the merge key).
    pub name: String,
    /// Its versions as the reports give them (several when the reports disagree).
    pub versions: Vec<String>,
    /// Targets tested.
    pub targets: Vec<String>,
    /// The report files.
    pub sources: Vec<String>,
    /// When the runs started.
    pub started_unix_ms: Vec<u64>,
    /// The Touchstone versions that wrote the reports.
    pub touchstone: Vec<String>,
    /// Results by case id and version (`3.1.1` / `5`).
    pub results: BTreeMap<(String, String), CaseJson>,
    /// Known deviations of the profile(s), for the versions run.
    pub deviations: Vec<DeviationJson>,
    /// Findings of the profile(s).
    pub findings: Vec<FindingJson>,
}

impl BrokerColumn {
    /// `name version` (versions joined with ` / `).
    pub fn display(&self) -> String {
        // A profile's name often holds the version already ("Mosquitto 2.0.11 (Debian)").
        let versions: Vec<&str> = self
            .versions
            .iter()
            .map(String::as_str)
            .filter(|v| !self.name.contains(v))
            .collect();
        if versions.is_empty() {
            self.name.clone()
        } else {
            format!("{} {}", self.name, versions.join(" / "))
        }
    }

    /// The result for `row`, if the case ran for that version.
    pub fn result(&self, row: &Row) -> Option<&CaseJson> {
        self.results.get(&(row.id.clone(), row.protocol.clone()))
    }

    /// The mark for `row`.
    pub fn mark(&self, row: &Row) -> Mark {
        match self.result(row).map(|r| r.outcome) {
            Some(Outcome::NotRun) | None => Mark::NotRun,
            Some(o) => Mark::Ran(o),
        }
    }

    /// Versions run (`3.1.1`, `5`), in that order.
    pub fn protocols(&self) -> Vec<&'static str> {
        ["3.1.1", "5"]
            .into_iter()
            .filter(|p| self.results.keys().any(|(_, q)| q == p))
            .collect()
    }

    /// Statement coverage for the versions run.
    pub fn coverage(&self) -> Vec<StatementCoverage> {
        let mut out = Vec::new();
        for p in self.protocols() {
            let version = if p == "5" {
                SpecVersion::V5_0
            } else {
                SpecVersion::V3_1_1
            };
            let wire: BTreeSet<&str> = spec::statements()
                .iter()
                .filter(|s| s.version == version && s.is_broker_wire())
                .map(|s| s.id)
                .collect();
            // statement id -> the runs citing it that did not pass
            let mut checked: BTreeMap<&str, Vec<String>> = BTreeMap::new();
            for ((id, q), r) in &self.results {
                if q != p || r.outcome == Outcome::Skip {
                    continue;
                }
                for s in &r.statements {
                    if s.version != version {
                        continue;
                    }
                    let Some(w) = wire.get(s.id.as_str()) else {
                        continue;
                    };
                    let bad = checked.entry(w).or_default();
                    if !matches!(
                        r.outcome,
                        Outcome::Pass | Outcome::ShouldFail | Outcome::UnexpectedPass
                    ) {
                        bad.push(format!("{id} ({})", Mark::Ran(r.outcome).label()));
                    }
                }
            }
            let not_passed: Vec<(String, Vec<String>)> = checked
                .iter()
                .filter(|(_, bad)| !bad.is_empty())
                .map(|(s, bad)| (s.to_string(), bad.clone()))
                .collect();
            out.push(StatementCoverage {
                version,
                total: wire.len(),
                checked: checked.len(),
                passed: checked.len() - not_passed.len(),
                not_passed,
            });
        }
        out
    }
}

/// A row of the matrix: one case for one version.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Row {
    /// The area (the case id before the first `.`).
    pub area: String,
    /// The case id.
    pub id: String,
    /// Its title.
    pub title: String,
    /// `3.1.1` or `5`.
    pub protocol: String,
}

/// The matrix: broker columns and case rows, grouped by area.
#[derive(Debug, Clone)]
pub struct Matrix {
    /// The brokers, in the order their first report was given.
    pub brokers: Vec<BrokerColumn>,
    /// The rows, grouped by area (areas and cases in the order first seen; 3.1.1 before 5).
    pub rows: Vec<Row>,
}

/// The area of a case id: the part before the first `.`.
pub fn area_of(id: &str) -> &str {
    id.split('.').next().unwrap_or(id)
}

fn push_unique(v: &mut Vec<String>, s: &str) {
    if !v.iter().any(|x| x == s) {
        v.push(s.to_string());
    }
}

impl Matrix {
    /// Builds the matrix from reports (merging those of the same broker name).
    pub fn build(reports: Vec<Report>) -> Result<Matrix, MatrixError> {
        if reports.is_empty() {
            return Err(MatrixError::Empty);
        }
        let mut brokers: Vec<BrokerColumn> = Vec::new();
        let mut sources: BTreeMap<(String, String, String), String> = BTreeMap::new();
        let mut areas: Vec<String> = Vec::new();
        // area -> case ids in order, and each case's title and versions
        let mut cases: BTreeMap<String, Vec<String>> = BTreeMap::new();
        let mut titles: BTreeMap<String, String> = BTreeMap::new();
        let mut versions: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
        for report in reports {
            let name = report.broker.name.trim().to_string();
            let i = match brokers.iter().position(|b| b.name == name) {
                Some(i) => i,
                None => {
                    brokers.push(BrokerColumn {
                        name: name.clone(),
                        versions: vec![],
                        targets: vec![],
                        sources: vec![],
                        started_unix_ms: vec![],
                        touchstone: vec![],
                        results: BTreeMap::new(),
                        deviations: vec![],
                        findings: vec![],
                    });
                    brokers.len() - 1
                }
            };
            let b = &mut brokers[i];
            if let Some(v) = report.broker.version.as_deref().map(str::trim) {
                if !v.is_empty() {
                    push_unique(&mut b.versions, v);
                }
            }
            push_unique(&mut b.targets, &report.target);
            push_unique(&mut b.sources, &report.path);
            if let Some(t) = &report.touchstone {
                push_unique(&mut b.touchstone, t);
            }
            if let Some(ms) = report.started_unix_ms {
                b.started_unix_ms.push(ms);
            }
            let ran: BTreeSet<&str> = report.cases.iter().map(|c| c.protocol.as_str()).collect();
            for d in &report.deviations {
                let dup = b
                    .deviations
                    .iter()
                    .any(|x| x.case == d.case && x.protocol == d.protocol);
                if ran.contains(d.protocol.as_str()) && !dup {
                    b.deviations.push(d.clone());
                }
            }
            for f in &report.findings {
                if !b.findings.contains(f) {
                    b.findings.push(f.clone());
                }
            }
            for c in report.cases {
                let key = (name.clone(), c.id.clone(), c.protocol.clone());
                if let Some(first) = sources.get(&key) {
                    return Err(MatrixError::Duplicate {
                        broker: name,
                        case: c.id,
                        protocol: c.protocol,
                        first: first.clone(),
                        second: report.path,
                    });
                }
                sources.insert(key, report.path.clone());
                let area = area_of(&c.id).to_string();
                if !areas.contains(&area) {
                    areas.push(area.clone());
                }
                let ids = cases.entry(area).or_default();
                if !ids.contains(&c.id) {
                    ids.push(c.id.clone());
                }
                if !c.title.is_empty() {
                    titles
                        .entry(c.id.clone())
                        .or_insert_with(|| c.title.clone());
                }
                versions
                    .entry(c.id.clone())
                    .or_default()
                    .insert(c.protocol.clone());
                b.results.insert((c.id.clone(), c.protocol.clone()), c);
            }
        }
        // Areas and cases in catalogue order (cases this build does not know, e.g. from a
        // newer report, after those of their area, as first seen).
        let catalogue = crate::cases::catalogue();
        let rank = |id: &str| {
            catalogue
                .iter()
                .position(|c| c.id == id)
                .unwrap_or(usize::MAX)
        };
        let area_rank: BTreeMap<String, usize> = areas
            .iter()
            .map(|a| {
                let r = cases
                    .get(a)
                    .into_iter()
                    .flatten()
                    .map(|id| rank(id))
                    .min()
                    .unwrap_or(usize::MAX);
                (a.clone(), r)
            })
            .collect();
        areas.sort_by_key(|a| area_rank.get(a).copied().unwrap_or(usize::MAX));
        for ids in cases.values_mut() {
            ids.sort_by_key(|id| rank(id));
        }
        let mut rows = Vec::new();
        for area in &areas {
            for id in cases.get(area).into_iter().flatten() {
                for p in ["3.1.1", "5"] {
                    if versions.get(id).is_some_and(|v| v.contains(p)) {
                        rows.push(Row {
                            area: area.clone(),
                            id: id.clone(),
                            title: titles.get(id).cloned().unwrap_or_default(),
                            protocol: p.to_string(),
                        });
                    }
                }
            }
        }
        Ok(Matrix { brokers, rows })
    }

    /// Reads the reports at `paths` and builds the matrix.
    pub fn load(paths: &[PathBuf]) -> Result<Matrix, MatrixError> {
        let reports = paths
            .iter()
            .map(|p| Report::load(p))
            .collect::<Result<Vec<_>, _>>()?;
        Matrix::build(reports)
    }

    /// The areas, in row order.
    pub fn areas(&self) -> Vec<&str> {
        let mut out: Vec<&str> = Vec::new();
        for r in &self.rows {
            if !out.contains(&r.area.as_str()) {
                out.push(&r.area);
            }
        }
        out
    }

    /// The rows of `area`.
    pub fn rows_of<'a>(&'a self, area: &'a str) -> impl Iterator<Item = &'a Row> + 'a {
        self.rows.iter().filter(move |r| r.area == area)
    }

    /// The marks of broker `b` over `rows`.
    pub fn tally<'a>(&self, b: &BrokerColumn, rows: impl Iterator<Item = &'a Row>) -> Tally {
        let mut t = Tally::default();
        for r in rows {
            t.add(b.mark(r));
        }
        t
    }

    /// When the runs were made: the earliest and latest start (UTC dates).
    pub fn run_dates(&self) -> Option<(String, String)> {
        let all: Vec<u64> = self
            .brokers
            .iter()
            .flat_map(|b| b.started_unix_ms.iter().copied())
            .collect();
        let (min, max) = (all.iter().min()?, all.iter().max()?);
        Some((utc_date(*min), utc_date(*max)))
    }
}

/// Options of the rendered views.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RenderOptions {
    /// The page title.
    pub title: String,
    /// When the matrix was generated (shown in the header).
    pub generated: String,
}

/// `2026-11-22 01:15 UTC` for a Unix time in milliseconds.
pub fn utc_date(unix_ms: u64) -> String {
    let secs = unix_ms / 1000;
    let days = (secs / 86_400) as i64;
    let rem = secs % 86_400;
    // Days to civil date (H. Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!(
        "{y:04}-{m:02}-{d:02} {:02}:{:02} UTC",
        rem / 3600,
        (rem % 3600) / 60
    )
}

/// The detail of a cell as plain lines: outcome, expected / got, statements, message,
/// deviation, observations, rerun.
pub fn detail_lines(r: &CaseJson) -> Vec<String> {
    let mut out = vec![format!(
        "{} — {} (MQTT {}){}",
        Mark::Ran(r.outcome).label(),
        r.id,
        r.protocol,
        r.duration_ms
            .map(|d| format!(", {d:.0} ms"))
            .unwrap_or_default()
    )];
    if let Some(f) = &r.failure {
        out.push(format!("expected: {}", f.expected));
        out.push(format!("got: {}", f.got));
        if !f.statements.is_empty() {
            out.push(format!("broken: {}", statements_text(&f.statements)));
        }
    }
    if let Some(m) = &r.message {
        out.push(m.clone());
    }
    for f in &r.shortfalls {
        out.push(format!(
            "SHOULD not followed ({}): expected {}; got {}",
            f.should, f.expected, f.got
        ));
    }
    if let Some(d) = &r.deviation {
        out.push(format!(
            "known deviation from {} {}: {}",
            d.statement.version, d.statement.id, d.reason
        ));
        out.push(format!("evidence: {}", d.evidence));
        if let Some(reference) = &d.reference {
            out.push(format!("reference: {reference}"));
        }
    }
    if !r.statements.is_empty() {
        out.push(format!("checks: {}", statements_text(&r.statements)));
    }
    for o in &r.observations {
        out.push(format!("observed: {o}"));
    }
    if let Some(c) = &r.rerun {
        out.push(format!("rerun: {c}"));
    }
    out
}

/// `5.0 MQTT-3.3.1-6, 5.0 MQTT-3.3.1-7`.
pub fn statements_text(s: &[StatementRef]) -> String {
    s.iter()
        .map(|s| format!("{} {}", s.version, s.id))
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests;
