//! The `touchstone` command: see `touchstone --help`.

use std::process::ExitCode;

use clap::Parser;
use touchstone_conformance::cli::{self, Cli};

fn main() -> ExitCode {
    cli::run(Cli::parse())
}
