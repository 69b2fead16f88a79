//! `touchstone replay`: replays saved findings against a target and says which reproduce.

use super::{exec_config, fail, runtime, FuzzFormat, Io, ReplayArgs, Status};
use crate::fuzz;
use crate::fuzz::finding::{self, FindingFile};
use crate::fuzz::semantic::SemanticFile;
use crate::run::embedded::Embedded;

/// Runs `touchstone replay`.
pub fn replay(args: &ReplayArgs, io: &mut Io<'_>) -> Status {
    let mut files = Vec::new();
    let mut semantic_files = Vec::new();
    for path in &args.files {
        match SemanticFile::load(path) {
            Ok(Some(f)) => {
                semantic_files.push((path.clone(), f));
                continue;
            }
            Ok(None) => {}
            Err(e) => return fail(io, format_args!("{e}")),
        }
        match FindingFile::load(path) {
            Ok(f) => files.push((path.clone(), f)),
            Err(e) => return fail(io, format_args!("{e}")),
        }
    }
    if let Some(t) = &args.conn.target {
        if let Err(e) = exec_config(&args.conn, t, 0) {
            return fail(io, format_args!("{e}"));
        }
    }
    let limits = match super::semantic::limits(args.conn.profile.as_deref()) {
        Ok(l) => l,
        Err(e) => return fail(io, format_args!("{e}")),
    };
    let rt = match runtime(io) {
        Ok(r) => r,
        Err(s) => return s,
    };
    let (target, embedded) = match &args.conn.target {
        Some(t) => (t.clone(), None),
        None => match rt.block_on(Embedded::start()) {
            Ok(e) => (e.target(), Some(e)),
            Err(e) => return fail(io, format_args!("{e}")),
        },
    };
    let mut reproduced = 0;
    let mut results = Vec::new();
    let mut out = String::new();
    for (path, f) in &files {
        let mut exec = match exec_config(&args.conn, &target, f.found.seed) {
            Ok(e) => e,
            Err(e) => return fail(io, format_args!("{e}")),
        };
        exec.prefix = fuzz::prefix(f.found.seed);
        let (fires, ex) = rt.block_on(finding::replay(&exec, f));
        reproduced += usize::from(fires);
        let verdict = if fires {
            "REPRODUCES"
        } else {
            "does not reproduce"
        };
        out += &format!(
            "{}: {} [{}] MQTT {}: {verdict}\n",
            path.display(),
            f.oracle,
            f.statements
                .iter()
                .map(|c| format!("{} {}", c.version, c.id))
                .collect::<Vec<_>>()
                .join(", "),
            f.protocol
        );
        for l in &ex.transcript {
            out += &format!("  {l}\n");
        }
        for h in &ex.hits {
            out += &format!("  => {}: {}\n", h.oracle, h.message);
        }
        results.push(serde_json::json!({
            "file": path.display().to_string(),
            "oracle": f.oracle,
            "reproduces": fires,
            "hits": ex.hits.iter().map(|h| serde_json::json!({
                "oracle": h.oracle,
                "statements": h.statements.iter().map(|s| s.to_string()).collect::<Vec<_>>(),
                "message": h.message,
            })).collect::<Vec<_>>(),
            "transcript": ex.transcript,
        }));
    }
    if !semantic_files.is_empty() {
        match exec_config(&args.conn, &target, 0) {
            Ok(exec) => {
                reproduced += super::semantic::replay(
                    &rt,
                    &exec,
                    limits,
                    &semantic_files,
                    &mut out,
                    &mut results,
                )
            }
            Err(e) => return fail(io, format_args!("{e}")),
        }
    }
    if let Some(e) = embedded {
        rt.block_on(e.shutdown());
    }
    let total = files.len() + semantic_files.len();
    let text = match args.format {
        FuzzFormat::Pretty => {
            out += &format!("{reproduced} of {total} reproduce\n");
            out
        }
        FuzzFormat::Json => format!(
            "{}\n",
            serde_json::json!({"target": target, "reproduced": reproduced, "results": results})
        ),
    };
    if let Err(e) = io.stdout.write_all(text.as_bytes()) {
        return crate::cli::output_error(io, &e, Status::Failure);
    }
    if reproduced > 0 {
        Status::Invalid
    } else {
        Status::Success
    }
}
