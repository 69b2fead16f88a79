//! The JSON report: the full record of a run, from which every other view can be made, in the
//! typed form of [`super::schema`].

use std::collections::BTreeMap;

use super::schema::{
    CapabilitiesRecord, CaseRecord, DeviationRecord, EntryRecord, FailureRecord, FindingRecord,
    JsonReport, ProfileRecord, ShortfallRecord, Summary, TimingRecord, FORMAT,
};
use super::Rerun;
use crate::harness::transcript::{Entry, JSON_MAX_BYTES};
use crate::report::forms::StatementJson;
use crate::run::outcome::CaseResult;
use crate::run::profile::{Deviation, Finding};
use crate::run::runner::RunReport;

fn ms(d: std::time::Duration) -> f64 {
    (d.as_secs_f64() * 1000.0 * 10.0).round() / 10.0
}

fn deviation(d: &Deviation) -> DeviationRecord {
    DeviationRecord {
        case: d.case.clone(),
        protocol: d.protocol.as_str().into(),
        statement: StatementJson::from(&d.statement),
        reason: d.reason.clone(),
        evidence: d.evidence.clone(),
        reference: d.reference.clone(),
        cause: d.cause.clone(),
        failure_contains: d.failure_contains.clone(),
        intermittent: d.intermittent,
    }
}

fn finding(f: &Finding) -> FindingRecord {
    FindingRecord {
        summary: f.summary.clone(),
        statement: f.statement.as_ref().map(StatementJson::from),
        reproducer: f.reproducer.clone(),
        protocol: f.protocol.clone(),
        skip_cases: f.skip_cases.clone(),
    }
}

/// One transcript entry. Entries longer than [`JSON_MAX_BYTES`] keep only their first bytes
/// in `hex` (with `omitted_bytes`) and no decoded `packet`: one case sends a 16 MiB PUBLISH.
pub fn entry(e: &Entry) -> EntryRecord {
    let long = e.bytes.len() > JSON_MAX_BYTES;
    let shown = &e.bytes[..e.bytes.len().min(JSON_MAX_BYTES)];
    EntryRecord {
        t_ms: ms(e.at),
        client: e.client.clone(),
        dir: e.direction,
        hex: touchstone_codec::hex::encode(shown),
        packet: if long {
            None
        } else {
            e.packet.as_ref().and_then(|p| serde_json::to_value(p).ok())
        },
        summary: e.describe(),
        note: e.note.clone(),
        omitted_bytes: long.then(|| e.bytes.len() - JSON_MAX_BYTES),
        masked: e.masked.clone(),
    }
}

/// One case run.
pub fn case_record(r: &CaseResult, rerun: &Rerun) -> CaseRecord {
    CaseRecord {
        id: r.id.into(),
        title: r.title.into(),
        protocol: r.protocol.as_str().into(),
        outcome: r.outcome,
        verdicts: r.verdicts.clone(),
        duration_ms: Some(ms(r.duration)),
        statements: r.statements.iter().map(StatementJson::from).collect(),
        requires: r.requires.clone(),
        failure: r.failure.as_ref().map(|f| FailureRecord {
            expected: f.expected.clone(),
            got: f.got.clone(),
            statements: f.statements.iter().map(StatementJson::from).collect(),
        }),
        message: r.message.clone(),
        observations: r.observations.clone(),
        shortfalls: r
            .shortfalls
            .iter()
            .map(|s| ShortfallRecord {
                should: s.should.clone(),
                expected: s.expected.clone(),
                got: s.got.clone(),
            })
            .collect(),
        deviation: r.deviation.as_ref().map(deviation),
        rerun: Some(rerun.command(r)),
        transcript: r.transcript.iter().map(entry).collect(),
    }
}

/// The whole report.
pub fn report_record(report: &RunReport, rerun: &Rerun) -> JsonReport {
    let mut summary = Summary::default();
    for r in &report.results {
        summary.add(r.outcome);
    }
    summary.ok = report.ok();
    let capabilities = report
        .capabilities
        .iter()
        .map(|(p, caps)| {
            (
                p.as_str().to_string(),
                match caps {
                    Ok(c) => CapabilitiesRecord::Discovered(c.clone()),
                    Err(e) => CapabilitiesRecord::Unknown { error: e.clone() },
                },
            )
        })
        .collect::<BTreeMap<_, _>>();
    let started = report
        .started
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0);
    JsonReport {
        format: Some(FORMAT.into()),
        touchstone: Some(env!("CARGO_PKG_VERSION").into()),
        run_id: Some(report.run_id.clone()),
        target: report.target.clone(),
        broker: Some(report.broker()),
        started_unix_ms: Some(started),
        duration_ms: Some(ms(report.duration)),
        protocols: report
            .protocols
            .iter()
            .map(|p| p.as_str().to_string())
            .collect(),
        status: Some(report.status()),
        unavailable: report.unavailable.clone(),
        versions_not_spoken: report
            .not_spoken
            .iter()
            .map(|(p, why)| (p.as_str().to_string(), why.clone()))
            .collect(),
        repeat: report.repeat,
        strict: report.strict,
        notes: report.notes.clone(),
        profile: ProfileRecord {
            path: report
                .profile
                .path
                .as_ref()
                .map(|p| p.display().to_string()),
            name: report.profile.name.clone(),
            deviations: report.profile.deviations.iter().map(deviation).collect(),
            findings: report.profile.findings.iter().map(finding).collect(),
        },
        timing: Some(TimingRecord {
            timer_slack_s: report.timing.timer_slack.as_secs_f64(),
            quiet_s: report.timing.quiet.as_secs_f64(),
            expect_s: report.timing.expect.as_secs_f64(),
        }),
        capabilities,
        summary: Some(summary),
        cases: report
            .results
            .iter()
            .map(|r| case_record(r, rerun))
            .collect(),
    }
}

/// The report as pretty-printed JSON text.
pub fn render(report: &RunReport, rerun: &Rerun) -> String {
    let mut s = serde_json::to_string_pretty(&report_record(report, rerun))
        .unwrap_or_else(|e| format!("{{\"error\": \"cannot serialize the report: {e}\"}}"));
    s.push('\n');
    s
}
