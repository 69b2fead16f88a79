//! The terminal view: live progress while the run goes (on standard error, only on a
//! terminal), then one line per case run and, for each failure, what was expected, what came,
//! the transcript in hex and decoded, and the command that reruns just that case.

use std::fmt::Write;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use super::{counts_line, outcome_label, Rerun};
use crate::capabilities::Capabilities;
use crate::outcome::{CaseResult, Outcome};
use crate::runner::{Progress, RunReport};
use crate::transcript;

/// Live progress on standard error (hidden when it is not a terminal).
#[derive(Debug)]
pub struct Live {
    bar: ProgressBar,
}

impl Live {
    /// A progress bar on standard error.
    pub fn new() -> Self {
        let bar = ProgressBar::with_draw_target(Some(0), ProgressDrawTarget::stderr());
        if let Ok(style) = ProgressStyle::with_template(
            "{spinner} [{elapsed_precise}] {bar:32} {pos}/{len} {wide_msg}",
        ) {
            bar.set_style(style);
        }
        bar.enable_steady_tick(std::time::Duration::from_millis(120));
        Live { bar }
    }
}

impl Default for Live {
    fn default() -> Self {
        Live::new()
    }
}

impl Progress for Live {
    fn start(&self, total: usize) {
        self.bar.set_length(total as u64);
    }

    fn finished(&self, r: &CaseResult) {
        self.bar.inc(1);
        self.bar
            .set_message(format!("{} [MQTT {}]", r.id, r.protocol));
        if r.outcome.is_bad() || r.outcome == Outcome::ExpectedFail {
            self.bar.println(format!(
                "{:<15} {:<6} {}",
                outcome_label(r.outcome),
                r.protocol.as_str(),
                r.id
            ));
        }
    }

    fn done(&self) {
        self.bar.finish_and_clear();
    }
}

fn capabilities_line(c: &Capabilities) -> String {
    let src = |f: &str| {
        c.sources
            .get(f)
            .filter(|s| s.as_str() != "default")
            .map(|s| format!(" ({s})"))
            .unwrap_or_default()
    };
    let flag = |on: bool, name: &str, field: &str| {
        format!("{}{name}{}", if on { "" } else { "no " }, src(field))
    };
    let mut parts = vec![
        format!("max QoS {}{}", c.max_qos, src("max_qos")),
        flag(c.retain, "retain", "retain"),
        flag(c.wildcards, "wildcards", "wildcards"),
        flag(
            c.shared_subscriptions,
            "shared subscriptions",
            "shared_subscriptions",
        ),
        flag(
            c.subscription_identifiers,
            "subscription ids",
            "subscription_identifiers",
        ),
        format!(
            "topic alias max {}{}",
            c.topic_alias_maximum,
            src("topic_alias_maximum")
        ),
        format!(
            "receive max {}{}",
            c.receive_maximum,
            src("receive_maximum")
        ),
    ];
    if let Some(m) = c.maximum_packet_size {
        parts.push(format!("max packet size {m}"));
    }
    if let Some(k) = c.server_keep_alive {
        parts.push(format!("server keep alive {k}"));
    }
    parts.push(flag(
        c.authentication,
        "authentication listener",
        "authentication",
    ));
    parts.join(", ")
}

/// Everything about one case run that did not pass.
pub fn details(r: &CaseResult, rerun: &Rerun) -> String {
    let mut s = String::new();
    let _ = writeln!(
        s,
        "── {} {} [MQTT {}] — {}",
        outcome_label(r.outcome),
        r.id,
        r.protocol,
        r.title
    );
    let ids: Vec<String> = r.statements.iter().map(|s| s.to_string()).collect();
    let _ = writeln!(s, "   checks:   {}", ids.join(", "));
    if let Some(f) = &r.failure {
        let _ = writeln!(s, "   expected: {}", f.expected);
        let _ = writeln!(s, "   got:      {}", f.got);
        if !f.statements.is_empty() {
            let ids: Vec<String> = f.statements.iter().map(|s| s.to_string()).collect();
            let _ = writeln!(s, "   broken:   {}", ids.join(", "));
        }
    }
    if let Some(m) = &r.message {
        let _ = writeln!(s, "   {m}");
    }
    if let Some(d) = &r.deviation {
        let _ = writeln!(
            s,
            "   deviation: {} — {} (evidence: {}){}",
            d.statement,
            d.reason,
            d.evidence,
            d.reference
                .as_ref()
                .map(|r| format!(" [{r}]"))
                .unwrap_or_default()
        );
    }
    for o in &r.observations {
        let _ = writeln!(s, "   observed: {o}");
    }
    if !r.transcript.is_empty() {
        let _ = writeln!(s, "   transcript:");
        s += &transcript::render(&r.transcript, "   ");
    }
    let _ = writeln!(s, "   rerun:    {}", rerun.command(r));
    s
}

/// The final view of a run.
pub fn render(report: &RunReport, rerun: &Rerun) -> String {
    let mut s = String::new();
    let _ = writeln!(
        s,
        "Touchstone {} — target {} — run {}",
        env!("CARGO_PKG_VERSION"),
        report.target,
        report.run_id
    );
    if let Some(b) = &report.broker {
        let _ = writeln!(
            s,
            "broker {}{}",
            b.name,
            b.version
                .as_ref()
                .map(|v| format!(" {v}"))
                .unwrap_or_default()
        );
    }
    if let Some(p) = &report.profile.path {
        let _ = writeln!(
            s,
            "profile {}{}",
            p.display(),
            report
                .profile
                .name
                .as_ref()
                .map(|n| format!(" ({n})"))
                .unwrap_or_default()
        );
    }
    for f in &report.profile.findings {
        let _ = writeln!(
            s,
            "finding (MQTT {}): {}{}; reproducer {}",
            f.protocol,
            f.summary,
            f.statement.map(|st| format!(" ({st})")).unwrap_or_default(),
            f.reproducer
        );
    }
    for (p, caps) in &report.capabilities {
        match caps {
            Ok(c) => {
                let _ = writeln!(s, "MQTT {p}: {}", capabilities_line(c));
            }
            Err(e) => {
                let _ = writeln!(s, "MQTT {p}: {e}");
            }
        }
    }
    s.push('\n');
    for r in &report.results {
        let _ = writeln!(
            s,
            "{:<15} {:<6} {:<50} {:>6.2} s",
            outcome_label(r.outcome),
            r.protocol.as_str(),
            r.id,
            r.duration.as_secs_f64()
        );
        match r.outcome {
            Outcome::Skip => {
                if let Some(m) = &r.message {
                    let _ = writeln!(s, "{:>22}{m}", "");
                }
            }
            Outcome::Pass => {
                for o in &r.observations {
                    let _ = writeln!(s, "{:>22}observed: {o}", "");
                }
            }
            _ => {}
        }
    }
    let notable: Vec<&CaseResult> = report
        .results
        .iter()
        .filter(|r| r.outcome.is_bad() || r.outcome == Outcome::ExpectedFail)
        .collect();
    if !notable.is_empty() {
        s.push('\n');
        for r in notable {
            s += &details(r, rerun);
            s.push('\n');
        }
    }
    let _ = writeln!(
        s,
        "\n{} in {:.1} s — {}",
        counts_line(report),
        report.duration.as_secs_f64(),
        if report.ok() {
            "OK"
        } else {
            "NOT OK (failures, errors or unexpected passes)"
        }
    );
    s
}
