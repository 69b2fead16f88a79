//! `touchstone mutate`: the mutation score of the catalogue against the reference broker.

use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::Duration;

use clap::Args;
use serde_json::json;
use touchstone_codec::Protocol;

use super::run::parse_protocols;
use super::{fail, output_error, Io, Status};
use crate::mutate::equivalent::Equivalents;
use crate::mutate::mutant::{self, id_matches};
use crate::mutate::score::{self, Fate, MutantResult, MutationProgress, Options, VersionScore};
use crate::run::runner::{Stop, StopReason};

/// The equivalents file read when `--equivalent` is not given and it exists.
pub const DEFAULT_EQUIVALENTS: &str = "mutation/equivalent.toml";

/// After the help of `touchstone mutate`.
pub const MUTATE_AFTER_HELP: &str = "\
Each mutant is one operator applied to one packet type going one way (`drop:PUBACK:to-client`), \
in a proxy in front of the embedded reference broker. The cases that exchange that packet that \
way run through it, fastest first, until one fails: the mutant is killed. One that no case \
fails survives, unless the equivalents file argues it changes nothing the specification fixes. \
The score is killed / (killed + survived), per version.

Exit status: 0 done (and every version at or above --min-score), 1 a version below \
--min-score, 2 usage error, 3 the reference broker or a proxy could not start, 130 interrupted.

Examples:
  touchstone mutate --list --protocol 5
  touchstone mutate --protocol 3.1.1 --mutant 'drop:*:to-client'
  touchstone mutate --sample 40 --seed 7 --min-score 95 --json mutation.json";

/// Arguments of `touchstone mutate`.
#[derive(Debug, Clone, Args)]
pub struct MutateArgs {
    /// MQTT version: 3.1.1, 5 or all.
    #[arg(long, default_value = "all")]
    pub protocol: String,

    /// Only the mutants matching this id or pattern (`operator:PACKET:way`, each part may be
    /// `*`; `drop` is `drop:*:*`). Repeatable.
    #[arg(long = "mutant", value_name = "PATTERN")]
    pub mutants: Vec<String>,

    /// At most N mutants per version, drawn with --seed (CI runs a sample; all by default).
    #[arg(long, value_name = "N")]
    pub sample: Option<usize>,

    /// The seed of --sample.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,

    /// How many cases run at once.
    #[arg(long, short = 'j', default_value_t = 8)]
    pub jobs: usize,

    /// The equivalent mutants, with their arguments (TOML). Default: mutation/equivalent.toml
    /// when it exists.
    #[arg(long, value_name = "FILE")]
    pub equivalent: Option<PathBuf>,

    /// Also write the results as JSON to FILE.
    #[arg(long, value_name = "FILE")]
    pub json: Option<PathBuf>,

    /// Exit 1 when a version's score is below this percentage.
    #[arg(long, value_name = "PERCENT")]
    pub min_score: Option<f64>,

    /// Do not run the mutants the equivalents file argues equivalent (they count as
    /// equivalent without checking that no case kills them: quicker, for CI's sample).
    #[arg(long)]
    pub skip_equivalent: bool,

    /// Print the mutants (with the selection applied) and stop.
    #[arg(long)]
    pub list: bool,
}

/// Runs `touchstone mutate`.
pub fn run(args: &MutateArgs, io: &mut Io<'_>) -> Status {
    let protocols = match parse_protocols(&args.protocol) {
        Ok(p) => p,
        Err(e) => return fail(io, format_args!("{e}")),
    };
    if !(1..=64).contains(&args.jobs) {
        return fail(io, format_args!("--jobs {}: give 1 to 64", args.jobs));
    }
    if args.sample == Some(0) {
        return fail(io, format_args!("--sample 0 runs nothing: give at least 1"));
    }
    if let Some(m) = args.min_score {
        if !(0.0..=100.0).contains(&m) {
            return fail(
                io,
                format_args!("--min-score {m}: give a percentage from 0 to 100"),
            );
        }
    }
    for p in &args.mutants {
        let known = protocols
            .iter()
            .flat_map(|&v| mutant::catalogue(v))
            .any(|m| id_matches(p, &m.id()));
        if !known {
            return fail(
                io,
                format_args!(
                    "--mutant {p:?} matches no mutant: see `touchstone mutate --list` (ids are operator:PACKET:way)"
                ),
            );
        }
    }
    if args.list {
        return list(args, &protocols, io);
    }
    let equivalents = match &args.equivalent {
        Some(path) => Equivalents::load(path),
        None if Path::new(DEFAULT_EQUIVALENTS).exists() => {
            Equivalents::load(Path::new(DEFAULT_EQUIVALENTS))
        }
        None => Ok(Equivalents::default()),
    };
    let equivalents = match equivalents {
        Ok(e) => e,
        Err(e) => return fail(io, format_args!("{e}")),
    };
    let options = Options {
        protocols,
        patterns: args.mutants.clone(),
        sample: args.sample,
        seed: args.seed,
        jobs: args.jobs,
        equivalents,
        skip_equivalent: args.skip_equivalent,
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => return fail(io, format_args!("cannot start the async runtime: {e}")),
    };
    let stop = Stop::new();
    let watch = stop.clone();
    runtime.spawn(async move {
        if tokio::signal::ctrl_c().await.is_ok() {
            eprintln!("touchstone: interrupted: stopping after the current mutant");
            watch.stop(StopReason::Interrupted);
        }
    });
    let _ = match &options.equivalents.path {
        Some(path) => writeln!(
            io.stderr,
            "equivalent mutants argued in {} ({} entries)",
            path.display(),
            options.equivalents.entries.len()
        ),
        None => writeln!(
            io.stderr,
            "no {DEFAULT_EQUIVALENTS} here and no --equivalent: every mutant that survives counts against the score"
        ),
    };
    let progress = Lines(Mutex::new(()));
    let scores = match runtime.block_on(score::run(&options, &progress, &stop)) {
        Ok(s) => s,
        Err(e) => {
            let _ = writeln!(io.stderr, "error: {e}");
            return Status::Unavailable;
        }
    };
    if let Some(path) = &args.json {
        let text = serde_json::to_string_pretty(&to_json(&scores, &options)).unwrap_or_default();
        if let Err(e) = std::fs::write(path, text + "\n") {
            return fail(io, format_args!("cannot write {}: {e}", path.display()));
        }
    }
    let text = render(&scores);
    if let Err(e) = io.stdout.write_all(text.as_bytes()) {
        return output_error(io, &e, Status::Success);
    }
    if stop.reason().is_some() {
        return Status::Interrupted;
    }
    if let Some(min) = args.min_score {
        let below: Vec<String> = scores
            .iter()
            .filter(|s| s.score().is_some_and(|v| v < min))
            .map(|s| format!("{} {:.1}%", s.protocol, s.score().unwrap_or(0.0)))
            .collect();
        if !below.is_empty() {
            let _ = writeln!(
                io.stderr,
                "mutation score below {min}%: {}",
                below.join(", ")
            );
            return Status::Invalid;
        }
    }
    Status::Success
}

fn list(args: &MutateArgs, protocols: &[Protocol], io: &mut Io<'_>) -> Status {
    let mut out = String::new();
    for &p in protocols {
        let all: Vec<_> = mutant::catalogue(p)
            .into_iter()
            .filter(|m| {
                args.mutants.is_empty() || args.mutants.iter().any(|x| id_matches(x, &m.id()))
            })
            .collect();
        out += &format!("MQTT {p}: {} mutants\n", all.len());
        for m in all {
            out += &format!("  {m}\n");
        }
    }
    match io.stdout.write_all(out.as_bytes()) {
        Ok(()) => Status::Success,
        Err(e) => output_error(io, &e, Status::Success),
    }
}

/// One line per mutant on standard error.
struct Lines(Mutex<()>);

impl MutationProgress for Lines {
    fn baseline(&self, protocol: Protocol, usable: usize, trouble: usize, took: Duration) {
        let _guard = self.0.lock();
        eprintln!(
            "MQTT {protocol}: baseline through an unchanging proxy: {usable} cases usable, {trouble} did not pass ({:.1} s)",
            took.as_secs_f64()
        );
    }

    fn mutant(&self, protocol: Protocol, done: usize, total: usize, r: &MutantResult) {
        let _guard = self.0.lock();
        eprintln!(
            "[{protocol} {done}/{total}] {:<40} {} ({} case runs, {:.1} s)",
            r.mutant.id(),
            fate_line(&r.fate),
            r.cases_run,
            r.duration.as_secs_f64()
        );
    }
}

fn fate_line(f: &Fate) -> String {
    match f {
        Fate::Killed { case, outcome, .. } => format!("killed by {case} ({})", outcome.as_str()),
        Fate::KilledAtPreflight { .. } => "killed: the target was unavailable through it".into(),
        Fate::Survived => "SURVIVED".into(),
        Fate::Equivalent { .. } => "equivalent (argued)".into(),
        Fate::Unexercised => "unexercised: no case exchanges that packet that way".into(),
        Fate::NotApplied => "not applied: no packet had what it changes".into(),
    }
}

fn render(scores: &[VersionScore]) -> String {
    let mut out = String::new();
    for s in scores {
        out += &format!(
            "\nMQTT {}: {} mutants run of {} in the catalogue\n",
            s.protocol,
            s.results.len(),
            s.catalogue
        );
        out += &format!(
            "  killed {} ({} by a failed verdict, the rest by an error or an unavailable target), survived {}, equivalent {}, unexercised {}, not applied {}\n",
            s.count("killed"),
            s.killed_by_verdict(),
            s.count("survived"),
            s.count("equivalent"),
            s.count("unexercised"),
            s.count("not-applied")
        );
        match s.score() {
            Some(v) => out += &format!("  score: {v:.1}% of the non-equivalent mutants killed\n"),
            None => out += "  score: none (no mutant was judged)\n",
        }
        if !s.baseline_trouble.is_empty() {
            out += &format!(
                "  left out (did not pass through the unchanging proxy): {}\n",
                s.baseline_trouble.join(", ")
            );
        }
        for (name, title) in [
            ("survived", "survivors"),
            ("unexercised", "unexercised"),
            ("not-applied", "not applied"),
        ] {
            let ids: Vec<String> = s
                .results
                .iter()
                .filter(|r| r.fate.name() == name)
                .map(|r| r.mutant.id())
                .collect();
            if !ids.is_empty() {
                out += &format!("  {title}:\n");
                for id in ids {
                    out += &format!("    {id}\n");
                }
            }
        }
        let stale: Vec<String> = s
            .results
            .iter()
            .filter(|r| r.stale_equivalence)
            .map(|r| r.mutant.id())
            .collect();
        if !stale.is_empty() {
            out += &format!(
                "  argued equivalent but killed (remove the entry): {}\n",
                stale.join(", ")
            );
        }
    }
    out
}

fn to_json(scores: &[VersionScore], options: &Options) -> serde_json::Value {
    let versions: Vec<serde_json::Value> = scores
        .iter()
        .map(|s| {
            let mutants: Vec<serde_json::Value> = s
                .results
                .iter()
                .map(|r| {
                    let mut m = json!({
                        "id": r.mutant.id(),
                        "fate": r.fate.name(),
                        "case_runs": r.cases_run,
                        "applied": r.applied,
                        "seconds": r.duration.as_secs_f64(),
                    });
                    match &r.fate {
                        Fate::Killed {
                            case,
                            outcome,
                            detail,
                        } => {
                            m["killed_by"] = json!(case);
                            m["outcome"] = json!(outcome.as_str());
                            m["detail"] = json!(detail);
                        }
                        Fate::KilledAtPreflight { detail } => {
                            m["killed_by"] = json!("preflight");
                            m["detail"] = json!(detail);
                        }
                        Fate::Equivalent { argument } => m["argument"] = json!(argument),
                        _ => {}
                    }
                    if r.stale_equivalence {
                        m["stale_equivalence"] = json!(true);
                    }
                    m
                })
                .collect();
            json!({
                "protocol": s.protocol.as_str(),
                "catalogue": s.catalogue,
                "run": s.results.len(),
                "killed": s.count("killed"),
                "killed_by_verdict": s.killed_by_verdict(),
                "survived": s.count("survived"),
                "equivalent": s.count("equivalent"),
                "unexercised": s.count("unexercised"),
                "not_applied": s.count("not-applied"),
                "score": s.score(),
                "baseline_cases": s.baseline_cases,
                "baseline_seconds": s.baseline_duration.as_secs_f64(),
                "baseline_trouble": s.baseline_trouble,
                "mutants": mutants,
            })
        })
        .collect();
    json!({
        "format": "touchstone-mutation/1",
        "sample": options.sample,
        "seed": options.seed,
        "equivalents": options.equivalents.path.as_ref().map(|p| p.display().to_string()),
        "versions": versions,
    })
}
