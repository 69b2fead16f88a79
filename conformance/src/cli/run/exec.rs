//! Running `touchstone run`: the embedded target when none is given, Ctrl-C and SIGTERM (a
//! partial report, exit 130), `--repeat`, and the report written where it was asked for.

use std::io::IsTerminal;
use std::sync::Arc;

use super::{broker_identity, config, prepare_output, RunArgs, RunFormat};
use crate::cases;
use crate::cli::{fail, output_error, Io, Status};
use crate::report::{self, pretty::View, Rerun};
use crate::run::embedded::{self, Embedded};
use crate::run::plan::{Action, Planned, PlannedJson};
use crate::run::runner::{self, repeat, Progress, Quiet, RunReport, Stop, StopReason};

/// Runs `touchstone run`.
pub fn run(args: &RunArgs, io: &mut Io<'_>) -> Status {
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => return fail(io, format_args!("cannot start the async runtime: {e}")),
    };
    // No --target: the embedded reference broker is the target (and the authentication
    // target), started here and stopped when the run is over.
    if args.target.is_none() {
        let embedded = match runtime.block_on(Embedded::start()) {
            Ok(e) => e,
            Err(e) => return fail(io, format_args!("{e}")),
        };
        let mut with_target = args.clone();
        with_target.target = Some(embedded.target());
        with_target.embedded = true;
        if with_target.ws_target.is_none() {
            with_target.ws_target = embedded.ws_target();
        }
        if with_target.auth_target.is_none() && with_target.username.is_none() {
            with_target.auth_target = Some(embedded.auth_target());
            with_target.username = Some(embedded::USER.to_string());
            with_target.password = Some(embedded::PASSWORD.to_string());
        }
        let status = run_against(&with_target, io, &runtime);
        runtime.block_on(embedded.shutdown());
        return status;
    }
    run_against(args, io, &runtime)
}

/// Stops `stop` on the first Ctrl-C or SIGTERM; a second one ends the process at once.
fn watch_signals(runtime: &tokio::runtime::Runtime, stop: Stop) {
    runtime.spawn(async move {
        let mut signals = 0;
        loop {
            if !signal().await {
                return;
            }
            signals += 1;
            if signals > 1 {
                eprintln!("touchstone: interrupted again: quitting without a report");
                std::process::exit(130);
            }
            eprintln!(
                "touchstone: interrupted: stopping; the cases finished so far are reported \
                 (interrupt again to quit at once)"
            );
            stop.stop(StopReason::Interrupted);
        }
    });
}

/// Waits for Ctrl-C or SIGTERM; false if signals cannot be watched.
async fn signal() -> bool {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        let Ok(mut term) = signal(SignalKind::terminate()) else {
            return tokio::signal::ctrl_c().await.is_ok();
        };
        tokio::select! {
            r = tokio::signal::ctrl_c() => r.is_ok(),
            r = term.recv() => r.is_some(),
        }
    }
    #[cfg(not(unix))]
    {
        tokio::signal::ctrl_c().await.is_ok()
    }
}

fn run_against(args: &RunArgs, io: &mut Io<'_>, runtime: &tokio::runtime::Runtime) -> Status {
    let (config, rerun) = match config(args) {
        Ok(c) => c,
        Err(e) => return fail(io, format_args!("{e}")),
    };
    let catalogue = cases::catalogue();
    let selected = runner::select(&catalogue, &config.protocols, &config.filters, config.exact);
    if selected.is_empty() {
        return fail(
            io,
            format_args!(
                "no case matches --filter {:?} for MQTT {}: see `touchstone list`",
                config.filters,
                config
                    .protocols
                    .iter()
                    .map(|p| p.as_str())
                    .collect::<Vec<_>>()
                    .join(" and ")
            ),
        );
    }
    if args.plan {
        if matches!(args.format, RunFormat::Junit | RunFormat::Markdown) {
            return fail(
                io,
                format_args!(
                    "--plan prints the plan as text or, with --format json, as JSON; not as {}",
                    args.format.name()
                ),
            );
        }
        return print_plan(args, io, runtime, &config, &catalogue);
    }
    // The report files: their folders are made and the files opened now, so that a path that
    // cannot be written fails before the run, not after it.
    for (flag, path) in report_files(args) {
        if let Err(e) = prepare_output(path) {
            return fail(io, format_args!("{flag} {}: {e}", path.display()));
        }
    }
    let progress: Arc<dyn Progress> = if args.quiet {
        Arc::new(Quiet)
    } else {
        Arc::new(report::live::Live::new())
    };
    let stop = Stop::new();
    watch_signals(runtime, stop.clone());
    let mut runs: Vec<RunReport> = Vec::new();
    for i in 0..args.repeat {
        if args.repeat > 1 && !args.quiet {
            eprintln!("touchstone: run {} of {}", i + 1, args.repeat);
        }
        let report = runtime.block_on(runner::run(
            config.clone(),
            &catalogue,
            progress.clone(),
            stop.clone(),
        ));
        let done = report.status() == runner::RunStatus::TargetUnavailable || report.interrupted;
        runs.push(report);
        if done {
            break;
        }
    }
    let mut report = repeat::merge(runs, args.repeat);
    report.broker = Some(broker_identity(args, &report));
    write_report(args, io, &report, &rerun)
}

/// The report files asked for, with their flags.
fn report_files(args: &RunArgs) -> Vec<(&'static str, &std::path::PathBuf)> {
    [
        ("--output", &args.output),
        ("--json", &args.json),
        ("--junit", &args.junit),
        ("--markdown", &args.markdown),
    ]
    .into_iter()
    .filter_map(|(f, p)| p.as_ref().map(|p| (f, p)))
    .collect()
}

/// Writes the extra report files (`--json`, `--junit`, `--markdown`).
fn write_extra(args: &RunArgs, report: &RunReport, rerun: &Rerun) -> Result<(), String> {
    let extra = [
        (&args.json, RunFormat::Json),
        (&args.junit, RunFormat::Junit),
        (&args.markdown, RunFormat::Markdown),
    ];
    for (path, format) in extra {
        let Some(path) = path else { continue };
        let text = render(format, report, rerun, View::default()).map_err(|e| e.to_string())?;
        std::fs::write(path, text).map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    }
    Ok(())
}

fn render(
    format: RunFormat,
    report: &RunReport,
    rerun: &Rerun,
    view: View,
) -> Result<String, report::junit::JunitError> {
    match format {
        RunFormat::Pretty => Ok(report::pretty::render(report, rerun, view)),
        RunFormat::Json => Ok(report::json::render(report, rerun)),
        RunFormat::Junit => report::junit::render(report, rerun),
        RunFormat::Markdown => Ok(report::markdown::render(report, rerun)),
    }
}

/// Writes the report: the chosen format to `--output` or standard output, the pretty view to
/// standard output when the report goes to a file, and the verdict line to standard error when
/// standard output carries a machine format.
fn write_report(args: &RunArgs, io: &mut Io<'_>, report: &RunReport, rerun: &Rerun) -> Status {
    let view = View {
        verbose: args.verbose,
        quiet: args.quiet,
        color: std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none(),
    };
    let rendered = render(args.format, report, rerun, view);
    let status = Status::from(report.status());
    let rendered = match rendered {
        Ok(r) => r,
        Err(e) => return fail(io, format_args!("{e}")),
    };
    match &args.output {
        Some(path) => {
            let pretty = report::pretty::render(report, rerun, view);
            if let Err(e) = io.stdout.write_all(pretty.as_bytes()) {
                return output_error(io, &e, status);
            }
            if let Err(e) = std::fs::write(path, rendered.as_bytes()) {
                return fail(io, format_args!("cannot write {}: {e}", path.display()));
            }
            let _ = writeln!(
                io.stdout,
                "{} report written to {}",
                args.format.name(),
                path.display()
            );
        }
        None => {
            if let Err(e) = io.stdout.write_all(rendered.as_bytes()) {
                return output_error(io, &e, status);
            }
            if args.format != RunFormat::Pretty {
                // The log still says how it went.
                let mut line = report::pretty::header(report);
                if let Some(why) = &report.unavailable {
                    line += &format!("The target could not be tested: {why}\n");
                }
                line += &report::pretty::verdict_line(report, View::default());
                let _ = writeln!(io.stderr, "{line}");
            }
        }
    }
    if let Err(e) = write_extra(args, report, rerun) {
        return fail(io, format_args!("{e}"));
    }
    status
}

/// `touchstone run --plan`: the preflight, the discovery and the plan, printed; no case runs.
fn print_plan(
    args: &RunArgs,
    io: &mut Io<'_>,
    runtime: &tokio::runtime::Runtime,
    config: &runner::RunConfig,
    catalogue: &[crate::harness::case::Case],
) -> Status {
    let stop = Stop::new();
    watch_signals(runtime, stop.clone());
    let (report, plan) = match runtime.block_on(runner::plan_only(config, catalogue, &stop)) {
        Ok(p) => p,
        Err(report) => {
            let why = report
                .unavailable
                .unwrap_or_else(|| "the run was interrupted".into());
            let status = if report.interrupted {
                Status::Interrupted
            } else {
                Status::Unavailable
            };
            let _ = writeln!(io.stderr, "touchstone: no plan: {why}");
            return status;
        }
    };
    let text = match args.format {
        RunFormat::Json => {
            let json = serde_json::json!({
                "target": report.target,
                "capabilities": report.capabilities.iter().map(|(p, c)| (p.as_str().to_string(), match c {
                    Ok(c) => serde_json::to_value(c).unwrap_or_default(),
                    Err(e) => serde_json::json!({ "error": e }),
                })).collect::<serde_json::Map<_, _>>(),
                "not_spoken": report.not_spoken.iter().map(|(p, why)| serde_json::json!({"protocol": p.as_str(), "why": why})).collect::<Vec<_>>(),
                "cases": plan.iter().map(PlannedJson::from).collect::<Vec<_>>(),
            });
            format!(
                "{}\n",
                serde_json::to_string_pretty(&json).unwrap_or_default()
            )
        }
        RunFormat::Pretty | RunFormat::Junit | RunFormat::Markdown => plan_text(&report, &plan),
    };
    if let Err(e) = io.stdout.write_all(text.as_bytes()) {
        return output_error(io, &e, Status::Failure);
    }
    Status::Success
}

/// The plan for people: one line per case run, then the counts.
fn plan_text(report: &RunReport, plan: &[Planned]) -> String {
    let mut out = format!("plan of the run against {}\n", report.target);
    for (p, why) in &report.not_spoken {
        out += &format!("MQTT {p}: not spoken ({why})\n");
    }
    for (p, c) in &report.capabilities {
        if let Err(e) = c {
            out += &format!("MQTT {p}: capabilities unknown ({e})\n");
        }
    }
    let width = plan.iter().map(|p| p.case.id.len()).max().unwrap_or(0);
    let (mut run, mut skip, mut error, mut xfail) = (0, 0, 0, 0);
    for p in plan {
        let (word, why) = match &p.action {
            Action::Run => {
                run += 1;
                ("run ", String::new())
            }
            Action::Skip(why) => {
                skip += 1;
                ("skip", format!("  {why}"))
            }
            Action::Error(why) => {
                error += 1;
                ("err ", format!("  {why}"))
            }
        };
        let mut notes = Vec::new();
        if let (Action::Run, Some(d)) = (&p.action, &p.deviation) {
            xfail += 1;
            notes.push(format!("expected to fail: {}", d.statement));
        }
        if let Some(s) = p.timer_slack {
            notes.push(format!("timer slack {:.1} s", s.as_secs_f64()));
        }
        let notes = if notes.is_empty() {
            String::new()
        } else {
            format!("  ({})", notes.join("; "))
        };
        let line = format!(
            "{word}  {:<width$}  {:<5}{why}{notes}",
            p.case.id,
            p.protocol.as_str()
        );
        out += line.trim_end();
        out += "\n";
    }
    out += &format!(
        "{} case runs: {run} to run ({xfail} expected to fail), {skip} to skip, {error} that cannot run\n",
        plan.len()
    );
    out
}
