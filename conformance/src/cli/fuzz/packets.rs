//! The packet-level part of `touchstone fuzz`: bursts of generated packets judged by the
//! oracles, with live progress and a summary.

use std::io::IsTerminal;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use super::{summary_json, FuzzArgs, FuzzFormat, Part, Status};
use crate::fuzz::{self, Found, FuzzConfig, FuzzProgress, Summary};

/// The packet-level fuzzing (after the preflight).
pub(super) fn packets(
    args: &FuzzArgs,
    rt: &tokio::runtime::Runtime,
    cfg: &FuzzConfig,
    label: &str,
    rerun: &str,
) -> Part {
    let versions: Vec<&str> = cfg.protocols.iter().map(|p| p.as_str()).collect();
    let header = format!(
        "fuzzing {label}, MQTT {}, seed {}, for {:.0} s{}",
        versions.join(" and "),
        cfg.seed,
        cfg.duration.as_secs_f64(),
        args.bursts
            .map(|b| format!(" or {b} bursts"))
            .unwrap_or_default()
    );
    let progress = Live::new(args.format == FuzzFormat::Pretty, &header);
    let summary = rt.block_on(fuzz::run(cfg, &progress));
    progress.finish();
    let json = summary_json(
        &summary,
        label,
        "packets",
        &[
            ("bursts_per_second", summary.bursts_per_second()),
            ("packets_per_second", summary.packets_per_second()),
        ],
    );
    Part {
        status: if summary.findings.is_empty() {
            Status::Success
        } else {
            Status::Invalid
        },
        text: pretty(&summary, label, rerun),
        json,
    }
}

/// The command that runs the same bursts or scenarios: the seed, the versions and how long
/// (the credentials are named, not written).
pub(super) fn rerun_line(
    args: &FuzzArgs,
    (target, embedded): (&str, bool),
    seed: u64,
    password: bool,
) -> String {
    let mut rerun = if embedded {
        format!("touchstone fuzz --seed {seed}")
    } else {
        format!(
            "touchstone fuzz --target {} --seed {seed}",
            crate::report::shell_quote(target)
        )
    };
    if args.semantic {
        rerun += " --semantic";
    } else if args.packets {
        rerun += " --packets";
    }
    if let Some(p) = &args.conn.profile {
        rerun += &format!(
            " --profile {}",
            crate::report::shell_quote(&p.display().to_string())
        );
    }
    rerun += &format!(" --protocol {} --duration {}", args.protocol, args.duration);
    if args.parallel != 64 {
        rerun += &format!(" --parallel {}", args.parallel);
    }
    if let Some(b) = args.bursts {
        rerun += &format!(" --bursts {b}");
    }
    if !embedded && password {
        rerun += "  # with TOUCHSTONE_USERNAME and TOUCHSTONE_PASSWORD set";
    }
    rerun
}

pub(super) fn pretty(s: &Summary, label: &str, rerun: &str) -> String {
    let mut out = String::new();
    out += &format!(
        "{} bursts, {} packets ({} bytes) in {:.1} s against {label}: {:.0} bursts/s, {:.0} packets/s; seed {}\n",
        s.bursts,
        s.packets,
        s.bytes,
        s.seconds,
        s.bursts_per_second(),
        s.packets_per_second(),
        s.seed
    );
    if let Some(why) = &s.stopped {
        out += &format!("stopped early: {why}\n");
    }
    if !s.observations.is_empty() {
        out += &format!(
            "{} kinds of observation (allowed behaviour; --format json lists them), e.g.:\n",
            s.observations.len()
        );
        let mut top: Vec<_> = s.observations.iter().collect();
        top.sort_by(|a, b| b.1.cmp(a.1));
        for (o, n) in top.iter().take(5) {
            out += &format!("  x{n} {o}\n");
        }
    }
    for (k, n) in &s.known {
        out += &format!("known (--known): x{n} {k}\n");
    }
    if s.findings.is_empty() {
        out += "no new findings\n";
    } else {
        out += &format!(
            "{} finding(s) ({:.1} s spent shrinking):\n",
            s.findings.len(),
            s.shrink_seconds
        );
        for f in &s.findings {
            out += &line(f);
        }
        out += &format!("rerun: {rerun}\n");
    }
    out
}

pub(super) fn line(f: &Found) -> String {
    format!(
        "  {} [{}] burst {} (x{}): {}\n    reproducer: {} ({} of {} writes after {} shrink runs)\n",
        f.oracle,
        if f.statements.is_empty() {
            "no single statement".to_string()
        } else {
            f.statements.join(", ")
        },
        f.burst,
        f.count,
        f.message,
        f.file
            .as_ref()
            .map(|p| p.display().to_string())
            .unwrap_or_else(|| "(not saved)".into()),
        f.writes.0,
        f.writes.1,
        f.shrink_attempts
    )
}

/// Progress: an indicatif spinner on a terminal, plain lines otherwise.
pub(super) struct Live {
    bar: Option<ProgressBar>,
    plain: bool,
    last: Mutex<Instant>,
}

impl Live {
    fn new(pretty: bool, header: &str) -> Live {
        let terminal = std::io::stderr().is_terminal();
        if pretty {
            eprintln!("{header}");
        }
        let bar = (pretty && terminal).then(|| {
            let bar = ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr());
            if let Ok(style) =
                ProgressStyle::with_template("{spinner} [{elapsed_precise}] {wide_msg}")
            {
                bar.set_style(style);
            }
            bar.enable_steady_tick(Duration::from_millis(120));
            bar
        });
        Live {
            bar,
            plain: pretty && !terminal,
            last: Mutex::new(Instant::now()),
        }
    }

    fn finish(&self) {
        if let Some(b) = &self.bar {
            b.finish_and_clear();
        }
    }

    fn say(&self, text: String) {
        match &self.bar {
            Some(b) => b.println(text),
            None if self.plain => eprintln!("{text}"),
            None => {}
        }
    }
}

impl FuzzProgress for Live {
    fn burst(&self, s: &Summary) {
        let msg = format!(
            "bursts {} | packets {} | {:.0} bursts/s, {:.0} packets/s | findings {}",
            s.bursts,
            s.packets,
            s.bursts_per_second(),
            s.packets_per_second(),
            s.findings.len()
        );
        if let Some(b) = &self.bar {
            b.set_message(msg);
        } else if self.plain {
            let mut last = self.last.lock().unwrap_or_else(|e| e.into_inner());
            if last.elapsed() >= Duration::from_secs(5) {
                *last = Instant::now();
                eprintln!("{msg}");
            }
        }
    }

    fn finding(&self, f: &Found) {
        self.say(format!("finding: {}", line(f).trim_end()));
    }

    fn note(&self, text: &str) {
        self.say(text.to_string());
    }
}
