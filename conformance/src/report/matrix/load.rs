//! Reading the JSON reports a matrix is made of, with clear errors for a file that is not one.

use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::report::forms::StatementJson;
use crate::report::schema::{self, JsonReport};
use crate::run::runner::BrokerIdentity;

/// A report that cannot be read, and why.
#[derive(Debug, thiserror::Error)]
pub enum MatrixError {
    /// The file cannot be read.
    #[error("cannot read {path}: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The file is not JSON.
    #[error("{path} is not JSON: {source}")]
    NotJson {
        /// The file.
        path: PathBuf,
        /// The parse error (with line and column).
        source: serde_json::Error,
    },
    /// The file is JSON but not a Touchstone report (`touchstone run --format json`).
    #[error("{path} is not a Touchstone JSON report (touchstone run --format json): {message}")]
    NotReport {
        /// The file.
        path: PathBuf,
        /// What is wrong with it.
        message: String,
    },
    /// Two reports of the same broker hold the same case and version.
    #[error("{broker}: case `{case}` for MQTT {protocol} is in both {first} and {second}; give one report per broker and version")]
    Duplicate {
        /// The broker.
        broker: String,
        /// The case.
        case: String,
        /// The version.
        protocol: String,
        /// The first file.
        first: String,
        /// The second file.
        second: String,
    },
    /// No report was given.
    #[error("no report given")]
    Empty,
}

/// A normative statement cited in a report.
pub type StatementRef = StatementJson;
/// A known deviation as the report records it.
pub type DeviationJson = schema::DeviationRecord;
/// A finding as the report records it.
pub type FindingJson = schema::FindingRecord;
/// One case run as the report records it.
pub type CaseJson = schema::CaseRecord;

/// One JSON report, read.
#[derive(Debug, Clone)]
pub struct Report {
    /// Where it was read from.
    pub path: String,
    /// The Touchstone version that wrote it.
    pub touchstone: Option<String>,
    /// The target URL.
    pub target: String,
    /// The broker (given, or guessed from the profile or target for older reports).
    pub broker: BrokerIdentity,
    /// When the run started.
    pub started_unix_ms: Option<u64>,
    /// The profile's deviations.
    pub deviations: Vec<DeviationJson>,
    /// The profile's findings.
    pub findings: Vec<FindingJson>,
    /// The case runs.
    pub cases: Vec<CaseJson>,
}

fn is_version(p: &str) -> bool {
    matches!(p, "3.1.1" | "5")
}

impl Report {
    /// Reads the report at `path`.
    pub fn load(path: &Path) -> Result<Report, MatrixError> {
        let text = std::fs::read_to_string(path).map_err(|source| MatrixError::Read {
            path: path.to_path_buf(),
            source,
        })?;
        Report::parse(&text, &path.display().to_string())
    }

    /// Parses a report's text; `path` names it in errors.
    pub fn parse(text: &str, path: &str) -> Result<Report, MatrixError> {
        let not_report = |message: String| MatrixError::NotReport {
            path: PathBuf::from(path),
            message,
        };
        let value: serde_json::Value =
            serde_json::from_str(text).map_err(|source| MatrixError::NotJson {
                path: PathBuf::from(path),
                source,
            })?;
        let Some(object) = value.as_object() else {
            return Err(not_report("the top level is not an object".into()));
        };
        let Some(cases) = object.get("cases").and_then(|c| c.as_array()) else {
            return Err(not_report("no \"cases\" list".into()));
        };
        // Name the case at fault, if one is.
        for (i, c) in cases.iter().enumerate() {
            if let Err(e) = CaseJson::deserialize(c) {
                let at = match c.get("id").and_then(|v| v.as_str()) {
                    Some(id) => format!("case #{} (`{id}`)", i + 1),
                    None => format!("case #{}", i + 1),
                };
                return Err(not_report(format!("{at}: {e}")));
            }
        }
        let report: JsonReport =
            serde_json::from_value(value).map_err(|e| not_report(e.to_string()))?;
        for (i, c) in report.cases.iter().enumerate() {
            if !is_version(&c.protocol) {
                return Err(not_report(format!(
                    "case #{} (`{}`): protocol `{}` is not 3.1.1 or 5",
                    i + 1,
                    c.id,
                    c.protocol
                )));
            }
        }
        let broker = match report.broker {
            Some(b) if !b.name.trim().is_empty() => b,
            _ => BrokerIdentity {
                name: report
                    .profile
                    .name
                    .clone()
                    .unwrap_or_else(|| report.target.clone()),
                version: None,
            },
        };
        // A report written before the areas were regrouped names some cases by their old ids.
        let mut cases = report.cases;
        for c in &mut cases {
            c.id = crate::cases::current_id(&c.id).to_string();
        }
        let mut deviations = report.profile.deviations;
        for d in &mut deviations {
            d.case = crate::cases::current_id(&d.case).to_string();
        }
        Ok(Report {
            path: path.to_string(),
            touchstone: report.touchstone,
            target: report.target,
            broker,
            started_unix_ms: report.started_unix_ms,
            deviations,
            findings: report.profile.findings,
            cases,
        })
    }
}
