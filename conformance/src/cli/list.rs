//! `touchstone list`: the case catalogue.

use clap::{Args, ValueEnum};
use serde_json::json;

use super::{output_error, Io, Status};
use crate::cases;
use crate::report::forms::StatementJson;
use crate::run::runner;

/// Formats of `touchstone list`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ListFormat {
    /// One case per line.
    Pretty,
    /// A JSON array of cases.
    Json,
}

/// Arguments of `touchstone list`.
#[derive(Debug, Clone, Args)]
pub struct ListArgs {
    /// Output format.
    #[arg(long, value_enum, default_value = "pretty")]
    pub format: ListFormat,

    /// Only the cases whose id contains PATTERN or matches it as a glob; repeatable.
    #[arg(long, value_name = "PATTERN")]
    pub filter: Vec<String>,
}

/// Runs `touchstone list`.
pub fn run(args: &ListArgs, io: &mut Io<'_>) -> Status {
    let catalogue = cases::catalogue();
    let selected: Vec<_> = catalogue
        .iter()
        .filter(|c| {
            args.filter.is_empty() || args.filter.iter().any(|f| runner::matches(f, c.id, false))
        })
        .collect();
    let text = match args.format {
        ListFormat::Json => {
            let cases: Vec<_> = selected
                .iter()
                .map(|c| {
                    json!({
                        "id": c.id,
                        "title": c.title,
                        "protocols": c.protocols.iter().map(|p| p.as_str()).collect::<Vec<_>>(),
                        "requires": c.requires,
                        "timed": cases::is_timed(c.id),
                        "statements": c.statements.iter().map(StatementJson::from).collect::<Vec<_>>(),
                    })
                })
                .collect();
            let mut s = serde_json::to_string_pretty(&cases).unwrap_or_else(|_| "[]".into());
            s.push('\n');
            s
        }
        ListFormat::Pretty => {
            let mut s = String::new();
            for c in &selected {
                let protocols: Vec<&str> = c.protocols.iter().map(|p| p.as_str()).collect();
                s += &format!("{:<50} [{}] {}\n", c.id, protocols.join(", "), c.title);
                if cases::is_timed(c.id) {
                    s += &format!(
                        "{:<50} timed: waits on a server timer (--timer-slack)\n",
                        ""
                    );
                }
                let ids: Vec<String> = c.statements.iter().map(|s| s.to_string()).collect();
                s += &format!("{:<50} checks {}\n", "", ids.join(", "));
                if !c.requires.is_empty() {
                    let req: Vec<&str> = c.requires.iter().map(|r| r.name()).collect();
                    s += &format!("{:<50} needs {}\n", "", req.join(", "));
                }
            }
            s += &format!("{} cases\n", selected.len());
            s
        }
    };
    if let Err(e) = io.stdout.write_all(text.as_bytes()) {
        return output_error(io, &e, Status::Success);
    }
    // As `run` does: a filter that selects nothing is a mistake worth an exit status.
    if !args.filter.is_empty() && selected.is_empty() {
        return super::fail(
            io,
            format_args!("no case matches --filter {:?}", args.filter),
        );
    }
    Status::Success
}
