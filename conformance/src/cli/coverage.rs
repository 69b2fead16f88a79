//! `touchstone coverage`: which broker-wire statements the cases check.

use clap::{Args, ValueEnum};

use super::{output_error, Io, Status};
use crate::cases;
use crate::report::coverage;

/// Formats of `touchstone coverage`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum CoverageFormat {
    /// Tables and the unchecked statements.
    Pretty,
    /// JSON: per version, counts, sections, unchecked statements.
    Json,
}

/// Arguments of `touchstone coverage`.
#[derive(Debug, Clone, Args)]
pub struct CoverageArgs {
    /// Output format.
    #[arg(long, value_enum, default_value = "pretty")]
    pub format: CoverageFormat,

    /// Leave out the list of statements not yet checked.
    #[arg(long)]
    pub summary: bool,
}

/// Runs `touchstone coverage`.
pub fn run(args: &CoverageArgs, io: &mut Io<'_>) -> Status {
    let cov = coverage::compute(&cases::catalogue());
    let text = match args.format {
        CoverageFormat::Pretty => coverage::render_text(&cov, !args.summary),
        CoverageFormat::Json => {
            let mut s = serde_json::to_string_pretty(&cov).unwrap_or_else(|_| "[]".into());
            s.push('\n');
            s
        }
    };
    match io.stdout.write_all(text.as_bytes()) {
        Ok(()) => Status::Success,
        Err(e) => output_error(io, &e, Status::Success),
    }
}
