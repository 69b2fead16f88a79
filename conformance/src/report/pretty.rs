//! The terminal view of a finished run: the header (target, broker, profile, capabilities,
//! versions not spoken), one line per case run, for each failure what was expected, what came,
//! the transcript in hex and decoded and the command that reruns just that case; then the list
//! of what did not pass, and the verdict with its exit status. (Progress while the run goes is
//! [`super::live`].)

use std::fmt::Write;

use super::{counts_line, outcome_label, Rerun};
use crate::harness::capability::Capabilities;
use crate::harness::transcript;
use crate::run::outcome::{CaseResult, Outcome};
use crate::run::runner::{RunReport, RunStatus};

/// How much the view shows.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct View {
    /// Observations on passing cases too (`-v`).
    pub verbose: bool,
    /// No line per case: the header, the failures and the verdict (`--quiet`).
    pub quiet: bool,
    /// ANSI colours (standard output is a terminal, and NO_COLOR is not set).
    pub color: bool,
}

/// The outcome's label, padded to a column and painted.
fn label(view: View, o: Outcome) -> String {
    paint(view, o, &format!("{:<15}", outcome_label(o)))
}

/// Transcript entries a failure block shows at each end (the JSON report has them all).
const TRANSCRIPT_ENDS: usize = 16;

fn paint(view: View, o: Outcome, text: &str) -> String {
    if !view.color {
        return text.to_string();
    }
    let code = match o {
        Outcome::Pass => "32",
        Outcome::ShouldFail => "35",
        Outcome::Fail | Outcome::Error | Outcome::UnexpectedPass | Outcome::Flaky => "1;31",
        Outcome::ExpectedFail => "33",
        Outcome::Skip | Outcome::NotRun => "2",
    };
    format!("\x1b[{code}m{text}\x1b[0m")
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
pub fn details(r: &CaseResult, rerun: &Rerun, view: View) -> String {
    let mut s = String::new();
    let _ = writeln!(
        s,
        "── {} {} [MQTT {}] — {}",
        paint(view, r.outcome, outcome_label(r.outcome)),
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
    for f in &r.shortfalls {
        let _ = writeln!(s, "   SHOULD not followed ({}):", f.should);
        let _ = writeln!(s, "     expected: {}", f.expected);
        let _ = writeln!(s, "     got:      {}", f.got);
    }
    if crate::cases::is_timed(r.id) && r.outcome.is_bad() {
        let _ = writeln!(
            s,
            "   timed:    this case waits on one of the server's timers; a broker whose timers are coarse needs more --timer-slack"
        );
    }
    if !r.verdicts.is_empty() {
        let v: Vec<&str> = r.verdicts.iter().map(|o| o.as_str()).collect();
        let _ = writeln!(s, "   verdicts: {}", v.join(", "));
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
        let n = r.transcript.len();
        if n <= 2 * TRANSCRIPT_ENDS + 1 {
            s += &transcript::render(&r.transcript, "   ");
        } else {
            s += &transcript::render(&r.transcript[..TRANSCRIPT_ENDS], "   ");
            let _ = writeln!(
                s,
                "   {:>8} … {} entries left out (--format json has them all)",
                "",
                n - 2 * TRANSCRIPT_ENDS
            );
            s += &transcript::render(&r.transcript[n - TRANSCRIPT_ENDS..], "   ");
        }
    }
    let _ = writeln!(s, "   rerun:    {}", rerun.command(r));
    s
}

/// The header: what was tested, with what, and what the preflight found.
pub fn header(report: &RunReport) -> String {
    let mut s = String::new();
    let _ = writeln!(
        s,
        "Touchstone {} — target {} — run {}",
        env!("CARGO_PKG_VERSION"),
        report.target,
        report.run_id
    );
    if let Some(b) = report.broker.as_ref().filter(|b| b.name != report.target) {
        let _ = writeln!(
            s,
            "broker {}{}",
            b.name,
            b.version
                .as_ref()
                .filter(|v| !b.name.contains(v.as_str()))
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
    for n in &report.notes {
        let _ = writeln!(s, "note: {n}");
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
    for (p, why) in &report.not_spoken {
        let n = report.results.iter().filter(|r| r.protocol == *p).count();
        let _ = writeln!(
            s,
            "MQTT {p}: not spoken by the target ({why}): its {n} case runs are skipped"
        );
    }
    if report.repeat > 1 {
        let _ = writeln!(
            s,
            "repeat: the catalogue ran {} times; a case whose verdict changed is FLAKY",
            report.repeat
        );
    }
    s
}

/// The verdict line, with the exit status.
pub fn verdict_line(report: &RunReport, view: View) -> String {
    let (word, outcome) = match report.status() {
        RunStatus::Conformant => {
            let shortfalls = report
                .results
                .iter()
                .filter(|r| r.outcome == Outcome::ShouldFail)
                .count();
            if shortfalls > 0 {
                (
                    format!(
                        "OK ({shortfalls} SHOULD{} not followed: --strict fails them)",
                        if shortfalls == 1 { "" } else { "s" }
                    ),
                    Outcome::Pass,
                )
            } else {
                ("OK".to_string(), Outcome::Pass)
            }
        }
        RunStatus::NonConformant if report.strict => (
            "NOT OK (failures, errors, unexpected passes, flaky verdicts, or SHOULDs not followed under --strict): exit 1".to_string(),
            Outcome::Fail,
        ),
        RunStatus::NonConformant => (
            "NOT OK (failures, errors, unexpected passes or flaky verdicts): exit 1".to_string(),
            Outcome::Fail,
        ),
        RunStatus::TargetUnavailable => (
            "TARGET UNAVAILABLE: exit 3 (the set-up, not conformance)".to_string(),
            Outcome::Error,
        ),
        RunStatus::Interrupted => (
            "INTERRUPTED: exit 130 (the cases that finished are reported)".to_string(),
            Outcome::NotRun,
        ),
    };
    format!(
        "{} in {:.1} s — {}",
        counts_line(report),
        report.duration.as_secs_f64(),
        paint(view, outcome, &word)
    )
}

/// The final view of a run.
pub fn render(report: &RunReport, rerun: &Rerun, view: View) -> String {
    let mut s = header(report);
    s.push('\n');
    if let Some(why) = &report.unavailable {
        let _ = writeln!(s, "The target could not be tested: {why}");
    }
    let not_run_only = report.results.iter().all(|r| r.outcome == Outcome::NotRun);
    let not_spoken = |r: &CaseResult| report.not_spoken.iter().any(|(p, _)| *p == r.protocol);
    if !view.quiet && !not_run_only {
        for r in report.results.iter().filter(|r| !not_spoken(r)) {
            let _ = writeln!(
                s,
                "{} {:<6} {:<50} {:>6.2} s",
                label(view, r.outcome),
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
                Outcome::Pass if view.verbose => {
                    for o in &r.observations {
                        let _ = writeln!(s, "{:>22}observed: {o}", "");
                    }
                }
                _ => {}
            }
        }
    }
    let notable: Vec<&CaseResult> = report
        .results
        .iter()
        .filter(|r| r.outcome.fails_run(report.strict) || r.outcome == Outcome::ExpectedFail)
        .collect();
    if !notable.is_empty() {
        s.push('\n');
        for r in &notable {
            s += &details(r, rerun, view);
            s.push('\n');
        }
    }
    // SHOULDs not followed: shown apart from the failures (among them only with --strict).
    let short: Vec<&CaseResult> = report
        .results
        .iter()
        .filter(|r| r.outcome == Outcome::ShouldFail)
        .collect();
    if !short.is_empty() && !report.strict {
        let _ = writeln!(
            s,
            "\nSHOULD not followed ({}; every MUST held; --strict makes these fail the run):",
            short.len()
        );
        for r in &short {
            for f in &r.shortfalls {
                let _ = writeln!(
                    s,
                    "  {:<6} {} ({})\n      expected {}; got {}",
                    r.protocol.as_str(),
                    r.id,
                    f.should,
                    f.expected,
                    f.got
                );
            }
        }
        s.push('\n');
    }
    let bad: Vec<&&CaseResult> = notable
        .iter()
        .filter(|r| r.outcome.fails_run(report.strict))
        .collect();
    if !bad.is_empty() {
        let _ = writeln!(s, "Did not pass ({}):", bad.len());
        for r in bad {
            let _ = writeln!(
                s,
                "  {} {:<6} {}\n      {}",
                label(view, r.outcome),
                r.protocol.as_str(),
                r.id,
                rerun.command(r)
            );
        }
    }
    let _ = writeln!(s, "\n{}", verdict_line(report, view));
    s
}
