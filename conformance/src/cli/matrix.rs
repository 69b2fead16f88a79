//! `touchstone matrix`: JSON reports of several brokers side by side, as Markdown and HTML.

use std::path::PathBuf;

use clap::Args;

use super::{fail, output_error, Io, Status};
use crate::report::matrix::{self, Matrix, RenderOptions};

/// Arguments of `touchstone matrix`.
#[derive(Debug, Clone, Args)]
pub struct MatrixArgs {
    /// Write the Markdown matrix to FILE (default: standard output, unless --html is given).
    #[arg(long, value_name = "FILE")]
    pub markdown: Option<PathBuf>,

    /// Write the HTML page (self-contained: inline CSS and JavaScript) to FILE.
    #[arg(long, value_name = "FILE")]
    pub html: Option<PathBuf>,

    /// The title of the Markdown and the HTML page.
    #[arg(
        long,
        value_name = "TEXT",
        default_value = "Touchstone conformance matrix"
    )]
    pub title: String,

    /// JSON reports of `touchstone run --format json` (reports of the same broker name are
    /// merged into one column).
    #[arg(value_name = "REPORT.json", required = true)]
    pub reports: Vec<PathBuf>,
}

/// Long help of `touchstone matrix`.
pub const MATRIX_AFTER_HELP: &str = "\
Each broker is a column (its name and version come from the report's \"broker\", written by
`touchstone run --broker-name NAME --broker-version VERSION`; older reports are named by their
profile or target). Each case and MQTT version is a row, grouped by area. Cells: pass, fail,
error, expected fail (a deviation the profile lists), unexpected pass, skip, not run.

Exit status:
  0  the matrix was written
  2  usage error, or a report that is missing, unreadable, not JSON or not a Touchstone report,
     or two reports of the same broker with the same case and version

Examples:
  touchstone matrix target/matrix/*.json
  touchstone matrix target/matrix/*.json --markdown matrix.md --html matrix.html";

/// Now, as `2026-11-22 01:15 UTC`.
fn now() -> String {
    let ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0);
    matrix::utc_date(ms)
}

/// Runs `touchstone matrix`.
pub fn run(args: &MatrixArgs, io: &mut Io<'_>) -> Status {
    if args.reports.is_empty() {
        return fail(io, format_args!("give at least one JSON report"));
    }
    let m = match Matrix::load(&args.reports) {
        Ok(m) => m,
        Err(e) => return fail(io, format_args!("{e}")),
    };
    let opts = RenderOptions {
        title: args.title.clone(),
        generated: now(),
    };
    let markdown = matrix::markdown::render(&m, &opts);
    if let Some(path) = &args.html {
        let html = matrix::html::render(&m, &opts);
        if let Err(e) = std::fs::write(path, html) {
            return fail(io, format_args!("cannot write {}: {e}", path.display()));
        }
    }
    match &args.markdown {
        Some(path) => {
            if let Err(e) = std::fs::write(path, &markdown) {
                return fail(io, format_args!("cannot write {}: {e}", path.display()));
            }
        }
        None if args.html.is_some() => {}
        None => {
            if let Err(e) = io.stdout.write_all(markdown.as_bytes()) {
                return output_error(io, &e, Status::Success);
            }
        }
    }
    for (what, path) in [("Markdown", &args.markdown), ("HTML", &args.html)] {
        if let Some(p) = path {
            let _ = writeln!(io.stderr, "{what} matrix written to {}", p.display());
        }
    }
    Status::Success
}
