//! The JSON report: the full record of a run, from which every other view can be made.
//!
//! `{"touchstone", "run_id", "target", "broker": {"name", "version"}, "started_unix_ms",
//! "duration_ms", "protocols", "profile": {"path", "name", "deviations", "findings"}, "timing", "capabilities", "summary", "cases": [{"id", "title", "protocol",
//! "outcome", "duration_ms", "statements", "requires", "failure", "message", "observations",
//! "deviation", "rerun", "transcript"}]}`

use serde_json::{json, Map, Value};

use super::Rerun;
use crate::json::StatementJson;
use crate::outcome::{CaseResult, Outcome};
use crate::runner::RunReport;

fn ms(d: std::time::Duration) -> f64 {
    (d.as_secs_f64() * 1000.0 * 10.0).round() / 10.0
}

/// One case run as JSON.
pub fn case_json(r: &CaseResult, rerun: &Rerun) -> Value {
    json!({
        "id": r.id,
        "title": r.title,
        "protocol": r.protocol.as_str(),
        "outcome": r.outcome,
        "duration_ms": ms(r.duration),
        "statements": r.statements.iter().map(StatementJson::from).collect::<Vec<_>>(),
        "requires": r.requires,
        "failure": r.failure.as_ref().map(|f| json!({
            "expected": f.expected,
            "got": f.got,
            "statements": f.statements.iter().map(StatementJson::from).collect::<Vec<_>>(),
        })),
        "message": r.message,
        "observations": r.observations,
        "deviation": r.deviation,
        "rerun": rerun.command(r),
        "transcript": r.transcript.iter().map(|e| e.to_json()).collect::<Vec<_>>(),
    })
}

/// The whole report as JSON.
pub fn report_json(report: &RunReport, rerun: &Rerun) -> Value {
    let mut summary = Map::new();
    let counts = report.counts();
    for o in Outcome::ALL {
        summary.insert(
            o.as_str().into(),
            json!(counts.get(&o).copied().unwrap_or(0)),
        );
    }
    summary.insert("total".into(), json!(report.results.len()));
    summary.insert("ok".into(), json!(report.ok()));
    let mut capabilities = Map::new();
    for (p, caps) in &report.capabilities {
        capabilities.insert(
            p.as_str().into(),
            match caps {
                Ok(c) => serde_json::to_value(c).unwrap_or(Value::Null),
                Err(e) => json!({ "error": e }),
            },
        );
    }
    let started = report
        .started
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0);
    json!({
        "touchstone": env!("CARGO_PKG_VERSION"),
        "run_id": report.run_id,
        "target": report.target,
        "broker": report.broker(),
        "started_unix_ms": started,
        "duration_ms": ms(report.duration),
        "protocols": report.protocols.iter().map(|p| p.as_str()).collect::<Vec<_>>(),
        "profile": {
            "path": report.profile.path.as_ref().map(|p| p.display().to_string()),
            "name": report.profile.name,
            "deviations": report.profile.deviations,
            "findings": report.profile.findings,
        },
        "timing": {
            "timer_slack_s": report.timing.timer_slack.as_secs_f64(),
            "quiet_s": report.timing.quiet.as_secs_f64(),
            "expect_s": report.timing.expect.as_secs_f64(),
        },
        "capabilities": capabilities,
        "summary": summary,
        "cases": report.results.iter().map(|r| case_json(r, rerun)).collect::<Vec<_>>(),
    })
}

/// The report as pretty-printed JSON text.
pub fn render(report: &RunReport, rerun: &Rerun) -> String {
    let mut s = serde_json::to_string_pretty(&report_json(report, rerun))
        .unwrap_or_else(|e| format!("{{\"error\": \"cannot serialize the report: {e}\"}}"));
    s.push('\n');
    s
}
