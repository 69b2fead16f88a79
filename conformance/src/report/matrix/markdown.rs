//! The matrix as Markdown: legend, per-broker summary, per-area rates, findings, deviations,
//! failures, then one table per area with a symbol per broker and case version.

use std::fmt::Write;

use super::{statements_text, utc_date, BrokerColumn, Mark, Matrix, RenderOptions};
use crate::run::outcome::Outcome;

fn cell(s: &str) -> String {
    s.replace('|', "\\|")
        .replace(['\n', '\r'], " ")
        .replace('<', "&lt;")
}

/// The column header of a broker: its name, and a mark when it has findings.
fn header(b: &BrokerColumn) -> String {
    let mut s = cell(&b.name);
    if !b.findings.is_empty() {
        let _ = write!(s, " 🐞{}", b.findings.len());
    }
    s
}

/// The matrix as Markdown.
pub fn render(m: &Matrix, opts: &RenderOptions) -> String {
    let mut s = String::new();
    let _ = writeln!(s, "# {}\n", cell(&opts.title));
    let _ = write!(s, "Generated {}", cell(&opts.generated));
    if let Some((first, last)) = m.run_dates() {
        if first == last {
            let _ = write!(s, " from runs of {first}");
        } else {
            let _ = write!(s, " from runs of {first} to {last}");
        }
    }
    let _ = writeln!(
        s,
        ": {} broker{}, {} case run{} (case × MQTT version).\n",
        m.brokers.len(),
        if m.brokers.len() == 1 { "" } else { "s" },
        m.rows.len(),
        if m.rows.len() == 1 { "" } else { "s" },
    );

    // Legend.
    let legend: Vec<String> = Mark::ALL
        .iter()
        .map(|mk| format!("{} {}", mk.symbol(), mk.label()))
        .collect();
    let _ = writeln!(
        s,
        "Legend: {}; 🐞 findings (the broker crashed or hung). Pass rate: pass and unexpected \
         pass over every run that gave a verdict or an error (skips and runs not made left out).\n",
        legend.join(", ")
    );

    // Per broker.
    let _ = writeln!(s, "## Brokers\n");
    let _ = write!(s, "| Broker | Version | Runs |");
    for mk in Mark::counted() {
        let _ = write!(s, " {} |", mk.symbol());
    }
    let _ = writeln!(s, " Pass rate | 3.1.1 statements | 5.0 statements | Run |");
    let _ = write!(s, "|---|---|--:|");
    for _ in Mark::counted() {
        let _ = write!(s, "--:|");
    }
    let _ = writeln!(s, "--:|---|---|---|");
    for b in &m.brokers {
        let t = m.tally(b, m.rows.iter());
        let _ = write!(
            s,
            "| {} | {} | {} |",
            header(b),
            if b.versions.is_empty() {
                "?".to_string()
            } else {
                cell(&b.versions.join(" / "))
            },
            t.ran()
        );
        for mk in Mark::counted() {
            let _ = write!(s, " {} |", t.count(mk));
        }
        let _ = write!(s, " {} |", t.rate_text());
        let cov = b.coverage();
        for v in ["3.1.1", "5.0"] {
            match cov.iter().find(|c| c.version.as_str() == v) {
                Some(c) => {
                    let _ = write!(
                        s,
                        " {}/{} checked, {} passed |",
                        c.checked, c.total, c.passed
                    );
                }
                None => s.push_str(" – |"),
            }
        }
        let dates: Vec<String> = {
            let mut d: Vec<String> = b.started_unix_ms.iter().map(|ms| utc_date(*ms)).collect();
            d.dedup();
            d
        };
        let _ = writeln!(s, " {} |", cell(&dates.join(", ")));
    }
    s.push('\n');
    let _ = writeln!(
        s,
        "Statements: broker-wire statements of the specification index (as `touchstone coverage` \
         counts them) cited by a case that ran for the broker (not skipped); passed: every such \
         run passed.\n"
    );

    // Per area.
    let _ = writeln!(s, "## By area\n");
    let _ = write!(s, "| Area | Case runs |");
    for b in &m.brokers {
        let _ = write!(s, " {} |", header(b));
    }
    let _ = write!(s, "\n|---|--:|");
    for _ in &m.brokers {
        let _ = write!(s, "--:|");
    }
    s.push('\n');
    for area in m.areas() {
        let n = m.rows_of(area).count();
        let _ = write!(s, "| {} | {n} |", cell(area));
        for b in &m.brokers {
            let _ = write!(s, " {} |", m.tally(b, m.rows_of(area)).rate_text());
        }
        s.push('\n');
    }
    s.push('\n');

    // Findings.
    if m.brokers.iter().any(|b| !b.findings.is_empty()) {
        let _ = writeln!(s, "## Findings\n");
        for b in &m.brokers {
            for f in &b.findings {
                let _ = writeln!(
                    s,
                    "- 🐞 **{}** (MQTT {}): {}{}. Reproducer: `{}`",
                    cell(&b.name),
                    cell(&f.protocol),
                    cell(&f.summary),
                    f.statement
                        .as_ref()
                        .map(|st| format!(" ({} {})", st.version, st.id))
                        .unwrap_or_default(),
                    cell(&f.reproducer)
                );
            }
        }
        s.push('\n');
    }

    // Deviations.
    if m.brokers.iter().any(|b| !b.deviations.is_empty()) {
        let _ = writeln!(s, "## Known deviations\n");
        let _ = writeln!(
            s,
            "| Broker | Case | MQTT | Statement | Result | What the broker does | Evidence |"
        );
        let _ = writeln!(s, "|---|---|---|---|---|---|---|");
        for b in &m.brokers {
            for d in &b.deviations {
                let mark = b
                    .results
                    .get(&(d.case.clone(), d.protocol.clone()))
                    .map(|r| Mark::Ran(r.outcome))
                    .unwrap_or(Mark::NotRun);
                let _ = writeln!(
                    s,
                    "| {} | `{}` | {} | {} {} | {} | {}{} | {} |",
                    cell(&b.name),
                    cell(&d.case),
                    cell(&d.protocol),
                    d.statement.version,
                    cell(&d.statement.id),
                    mark.symbol(),
                    cell(&d.reason),
                    d.reference
                        .as_ref()
                        .map(|r| format!(" ({})", cell(r)))
                        .unwrap_or_default(),
                    cell(&d.evidence)
                );
            }
        }
        s.push('\n');
    }

    // Failures, errors and unexpected passes.
    let bad: Vec<(&BrokerColumn, &super::CaseJson)> = m
        .brokers
        .iter()
        .flat_map(|b| {
            m.rows
                .iter()
                .filter_map(move |r| b.result(r).map(|c| (b, c)))
                .filter(|(_, c)| {
                    matches!(
                        c.outcome,
                        Outcome::Fail | Outcome::Error | Outcome::UnexpectedPass
                    )
                })
        })
        .collect();
    if !bad.is_empty() {
        let _ = writeln!(s, "## Failures and errors\n");
        for (b, c) in bad {
            let mut line = format!(
                "- {} **{}** `{}` (MQTT {})",
                Mark::Ran(c.outcome).symbol(),
                cell(&b.name),
                cell(&c.id),
                cell(&c.protocol)
            );
            if let Some(f) = &c.failure {
                let _ = write!(
                    line,
                    ": expected {}; got {}",
                    cell(&f.expected),
                    cell(&f.got)
                );
                let mut st = c.statements.clone();
                for x in &f.statements {
                    if !st.contains(x) {
                        st.push(x.clone());
                    }
                }
                if !st.is_empty() {
                    let _ = write!(line, " ({})", statements_text(&st));
                }
            }
            if let Some(msg) = &c.message {
                let _ = write!(line, ": {}", cell(msg));
            }
            let _ = writeln!(s, "{line}");
        }
        s.push('\n');
    }

    // The cases, per area.
    let _ = writeln!(s, "## Cases\n");
    for area in m.areas() {
        let ids: Vec<&str> = {
            let mut v: Vec<&str> = Vec::new();
            for r in m.rows_of(area) {
                if !v.contains(&r.id.as_str()) {
                    v.push(&r.id);
                }
            }
            v
        };
        let _ = writeln!(
            s,
            "### {} ({} case{})\n",
            cell(area),
            ids.len(),
            if ids.len() == 1 { "" } else { "s" }
        );
        let _ = write!(s, "| Case | MQTT |");
        for b in &m.brokers {
            let _ = write!(s, " {} |", header(b));
        }
        let _ = write!(s, "\n|---|---|");
        for _ in &m.brokers {
            let _ = write!(s, ":-:|");
        }
        s.push('\n');
        for r in m.rows_of(area) {
            let _ = write!(s, "| `{}` | {} |", cell(&r.id), r.protocol);
            for b in &m.brokers {
                let _ = write!(s, " {} |", b.mark(r).symbol());
            }
            s.push('\n');
        }
        s.push('\n');
    }

    // Sources.
    let _ = writeln!(s, "## Reports\n");
    for b in &m.brokers {
        let _ = writeln!(
            s,
            "- {}: {} (target {}{})",
            cell(&b.display()),
            b.sources
                .iter()
                .map(|p| format!("`{}`", cell(p)))
                .collect::<Vec<_>>()
                .join(", "),
            b.targets
                .iter()
                .map(|t| format!("`{}`", cell(t)))
                .collect::<Vec<_>>()
                .join(", "),
            if b.touchstone.is_empty() {
                String::new()
            } else {
                format!("; Touchstone {}", cell(&b.touchstone.join(", ")))
            }
        );
    }
    s
}
