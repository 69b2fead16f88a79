//! Markdown: a summary, a case-by-version matrix, and the details of everything that did not
//! pass.

use std::fmt::Write;

use super::{counts_line, outcome_label, Rerun};
use crate::harness::transcript;
use crate::run::outcome::Outcome;
use crate::run::runner::RunReport;

fn cell(s: &str) -> String {
    s.replace('|', "\\|").replace('\n', " ")
}

/// The report as Markdown.
pub fn render(report: &RunReport, rerun: &Rerun) -> String {
    let mut s = String::new();
    let _ = writeln!(s, "# Touchstone conformance report\n");
    let _ = writeln!(s, "- Target: `{}`", report.target);
    let broker = report.broker();
    let _ = writeln!(
        s,
        "- Broker: {}{}",
        cell(&broker.name),
        broker
            .version
            .as_ref()
            .map(|v| format!(" {}", cell(v)))
            .unwrap_or_default()
    );
    if let Some(name) = &report.profile.name {
        let _ = writeln!(s, "- Profile: {name}");
    }
    for f in &report.profile.findings {
        let _ = writeln!(
            s,
            "- Finding (MQTT {}): {}{}; reproducer `{}`",
            f.protocol,
            cell(&f.summary),
            f.statement.map(|st| format!(" ({st})")).unwrap_or_default(),
            cell(&f.reproducer)
        );
    }
    let _ = writeln!(s, "- Run id: `{}`", report.run_id);
    let status = report.status();
    let _ = writeln!(
        s,
        "- Status: **{}** (exit {})",
        status.as_str().replace('_', " "),
        status.exit_code()
    );
    if let Some(why) = &report.unavailable {
        let _ = writeln!(s, "- The target could not be tested: {}", cell(why));
    }
    for (p, why) in &report.not_spoken {
        let _ = writeln!(
            s,
            "- MQTT {p}: not spoken by the target ({}); its cases are skipped",
            cell(why)
        );
    }
    let _ = writeln!(
        s,
        "- {} in {:.1} s\n",
        counts_line(report),
        report.duration.as_secs_f64()
    );

    // Matrix: one row per case, one column per version.
    let _ = write!(s, "| Case |");
    for p in &report.protocols {
        let _ = write!(s, " MQTT {p} |");
    }
    let _ = write!(s, "\n|---|");
    for _ in &report.protocols {
        let _ = write!(s, "---|");
    }
    s.push('\n');
    let mut ids: Vec<&str> = Vec::new();
    for r in &report.results {
        if !ids.contains(&r.id) {
            ids.push(r.id);
        }
    }
    for id in ids {
        let _ = write!(s, "| `{id}` |");
        for p in &report.protocols {
            let o = report
                .results
                .iter()
                .find(|r| r.id == id && r.protocol == *p)
                .map(|r| outcome_label(r.outcome))
                .unwrap_or("–");
            let _ = write!(s, " {o} |");
        }
        s.push('\n');
    }

    let notable: Vec<_> = report
        .results
        .iter()
        .filter(|r| r.outcome != Outcome::Pass)
        .collect();
    if !notable.is_empty() {
        let _ = writeln!(s, "\n## Details\n");
    }
    for r in notable {
        let _ = writeln!(
            s,
            "### {} `{}` (MQTT {})\n\n{}\n",
            outcome_label(r.outcome),
            r.id,
            r.protocol,
            cell(r.title)
        );
        if let Some(f) = &r.failure {
            let _ = writeln!(s, "- Expected: {}", cell(&f.expected));
            let _ = writeln!(s, "- Got: {}", cell(&f.got));
            if !f.statements.is_empty() {
                let ids: Vec<String> = f.statements.iter().map(|s| s.to_string()).collect();
                let _ = writeln!(s, "- Broken: {}", ids.join(", "));
            }
        }
        if let Some(m) = &r.message {
            let _ = writeln!(s, "- {}", cell(m));
        }
        for f in &r.shortfalls {
            let _ = writeln!(
                s,
                "- SHOULD not followed ({}): expected {}; got {}",
                cell(&f.should),
                cell(&f.expected),
                cell(&f.got)
            );
        }
        if let Some(d) = &r.deviation {
            let _ = writeln!(
                s,
                "- Known deviation from {}: {} Evidence: {}{}",
                d.statement,
                cell(&d.reason),
                cell(&d.evidence),
                d.reference
                    .as_ref()
                    .map(|r| format!(" ({r})"))
                    .unwrap_or_default()
            );
        }
        let _ = writeln!(s, "- Rerun: `{}`", rerun.command(r));
        if !r.transcript.is_empty() && r.outcome != Outcome::Skip {
            let _ = writeln!(
                s,
                "\n<details><summary>Transcript</summary>\n\n```\n{}```\n</details>",
                transcript::render(&r.transcript, "")
            );
        }
        s.push('\n');
    }
    s
}
