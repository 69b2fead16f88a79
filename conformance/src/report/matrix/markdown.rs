//! The matrix as Markdown: legend, per-broker summary, per-area rates, findings, deviations,
//! failures, then one table per area with a symbol per broker and case version. Written from
//! the [`MatrixView`], the same model the HTML page is a template over.

use std::fmt::Write;

use super::view::{BrokerView, MatrixView};
use super::{Matrix, RenderOptions};

fn cell(s: &str) -> String {
    s.replace('|', "\\|")
        .replace(['\n', '\r'], " ")
        .replace('<', "&lt;")
}

/// The column header of a broker: its name, and a mark when it has findings.
fn header(b: &BrokerView) -> String {
    let mut s = cell(&b.name);
    if b.findings > 0 {
        let _ = write!(s, " 🐞{}", b.findings);
    }
    s
}

fn plural(n: usize) -> &'static str {
    if n == 1 {
        ""
    } else {
        "s"
    }
}

/// The matrix as Markdown.
pub fn render(m: &Matrix, opts: &RenderOptions) -> String {
    render_view(&MatrixView::new(m, opts))
}

/// The Markdown of a view model.
pub fn render_view(v: &MatrixView) -> String {
    let mut s = String::new();
    let _ = writeln!(s, "# {}\n", cell(&v.title));
    let _ = write!(s, "Generated {}", cell(&v.generated));
    if let Some((first, last)) = &v.run_dates {
        if first == last {
            let _ = write!(s, " from runs of {first}");
        } else {
            let _ = write!(s, " from runs of {first} to {last}");
        }
    }
    let _ = writeln!(
        s,
        ": {} broker{}, {} case run{} (case × MQTT version).\n",
        v.brokers.len(),
        plural(v.brokers.len()),
        v.runs,
        plural(v.runs),
    );

    // Legend.
    let legend: Vec<String> = v
        .legend
        .iter()
        .map(|mk| format!("{} {}", mk.symbol, mk.label))
        .collect();
    let _ = writeln!(
        s,
        "Legend: {}; 🐞 findings (the broker crashed or hung). Pass rate: pass, should fail and \
         unexpected pass (every MUST held) over every run that gave a verdict or an error (skips and runs not made left out).\n",
        legend.join(", ")
    );

    // Per broker.
    let _ = writeln!(s, "## Brokers\n");
    let _ = write!(s, "| Broker | Version | Runs |");
    for mk in &v.counted {
        let _ = write!(s, " {} |", mk.symbol);
    }
    let _ = writeln!(s, " Pass rate | 3.1.1 statements | 5.0 statements | Run |");
    let _ = write!(s, "|---|---|--:|");
    for _ in &v.counted {
        let _ = write!(s, "--:|");
    }
    let _ = writeln!(s, "--:|---|---|---|");
    for b in &v.brokers {
        let version = if b.has_versions {
            cell(&b.versions)
        } else {
            b.versions.clone()
        };
        let _ = write!(s, "| {} | {} | {} |", header(b), version, b.ran);
        for n in &b.counts {
            let _ = write!(s, " {n} |");
        }
        let _ = write!(s, " {} |", b.rate.text);
        for c in &b.coverage {
            match c {
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
        let _ = writeln!(s, " {} |", cell(&b.dates));
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
    for b in &v.brokers {
        let _ = write!(s, " {} |", header(b));
    }
    let _ = write!(s, "\n|---|--:|");
    for _ in &v.brokers {
        let _ = write!(s, "--:|");
    }
    s.push('\n');
    for a in &v.areas {
        let _ = write!(s, "| {} | {} |", cell(&a.name), a.runs);
        for r in &a.rates {
            let _ = write!(s, " {} |", r.text);
        }
        s.push('\n');
    }
    s.push('\n');

    // Findings.
    if !v.findings.is_empty() {
        let _ = writeln!(s, "## Findings\n");
        for f in &v.findings {
            let _ = writeln!(
                s,
                "- 🐞 **{}** (MQTT {}): {}{}. Reproducer: `{}`",
                cell(&f.broker),
                cell(&f.protocol),
                cell(&f.summary),
                f.statement
                    .as_ref()
                    .map(|st| format!(" ({st})"))
                    .unwrap_or_default(),
                cell(&f.reproducer)
            );
        }
        s.push('\n');
    }

    // Deviations.
    if !v.deviations.is_empty() {
        let _ = writeln!(s, "## Known deviations\n");
        let _ = writeln!(
            s,
            "| Broker | Case | MQTT | Statement | Result | What the broker does | Evidence |"
        );
        let _ = writeln!(s, "|---|---|---|---|---|---|---|");
        for d in &v.deviations {
            let _ = writeln!(
                s,
                "| {} | `{}` | {} | {} {} | {} | {}{} | {} |",
                cell(&d.broker),
                cell(&d.case),
                cell(&d.protocol),
                d.statement_version,
                cell(&d.statement_id),
                d.mark.symbol,
                cell(&d.reason),
                d.reference
                    .as_ref()
                    .map(|r| format!(" ({})", cell(r)))
                    .unwrap_or_default(),
                cell(&d.evidence)
            );
        }
        s.push('\n');
    }

    // Failures, errors and unexpected passes.
    if !v.problems.is_empty() {
        let _ = writeln!(s, "## Failures and errors\n");
        for p in &v.problems {
            let mut line = format!(
                "- {} **{}** `{}` (MQTT {})",
                p.mark.symbol,
                cell(&p.broker),
                cell(&p.case),
                cell(&p.protocol)
            );
            if let (Some(expected), Some(got)) = (&p.expected, &p.got) {
                let _ = write!(line, ": expected {}; got {}", cell(expected), cell(got));
                if let Some(st) = &p.statements {
                    let _ = write!(line, " ({st})");
                }
            }
            if let Some(msg) = &p.message {
                let _ = write!(line, ": {}", cell(msg));
            }
            let _ = writeln!(s, "{line}");
        }
        s.push('\n');
    }

    // The cases, per area.
    let _ = writeln!(s, "## Cases\n");
    for a in &v.areas {
        let _ = writeln!(
            s,
            "### {} ({} case{})\n",
            cell(&a.name),
            a.cases,
            plural(a.cases)
        );
        let _ = write!(s, "| Case | MQTT |");
        for b in &v.brokers {
            let _ = write!(s, " {} |", header(b));
        }
        let _ = write!(s, "\n|---|---|");
        for _ in &v.brokers {
            let _ = write!(s, ":-:|");
        }
        s.push('\n');
        for r in &a.rows {
            let _ = write!(s, "| `{}` | {} |", cell(&r.id), r.protocol);
            for c in &r.cells {
                let _ = write!(s, " {} |", c.mark.symbol);
            }
            s.push('\n');
        }
        s.push('\n');
    }

    // Sources.
    let _ = writeln!(s, "## Reports\n");
    for b in &v.brokers {
        let _ = writeln!(
            s,
            "- {}: {} (target {}{})",
            cell(&b.display),
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
                format!("; Touchstone {}", cell(&b.touchstone))
            }
        );
    }
    s
}
