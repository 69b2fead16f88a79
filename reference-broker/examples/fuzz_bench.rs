//! Executions per second of the `broker_core` fuzz target's runner and model, outside libFuzzer,
//! over a corpus (default: the committed seeds), for profiling:
//!
//! ```sh
//! cargo run --release -p touchstone-broker --no-default-features --features fuzzing \
//!     --example fuzz_bench -- [SECONDS] [DIR...]
//! ```
//!
//! Each input runs as the target runs it (`fuzzing::replay`), at least once (SECONDS 0: exactly
//! once, for `valgrind --tool=callgrind`); a violation is printed and ends the run with exit
//! status 1.

use std::time::{Duration, Instant};

fn main() -> std::process::ExitCode {
    let mut args = std::env::args().skip(1);
    let seconds: f64 = args.next().and_then(|s| s.parse().ok()).unwrap_or(10.0);
    let mut dirs: Vec<String> = args.collect();
    if dirs.is_empty() {
        dirs.push(concat!(env!("CARGO_MANIFEST_DIR"), "/../fuzz/seeds/broker_core").into());
    }
    let mut inputs = Vec::new();
    for d in &dirs {
        let Ok(entries) = std::fs::read_dir(d) else {
            eprintln!("cannot read {d}");
            return std::process::ExitCode::from(2);
        };
        for e in entries.flatten() {
            if let Ok(b) = std::fs::read(e.path()) {
                inputs.push(b);
            }
        }
    }
    if inputs.is_empty() {
        eprintln!("no inputs in {dirs:?}");
        return std::process::ExitCode::from(2);
    }
    let config = touchstone_broker::fuzzing::fuzz_config();
    let start = Instant::now();
    let budget = Duration::from_secs_f64(seconds);
    let mut execs = 0u64;
    // At least one pass over the inputs (`0` seconds: exactly one, for callgrind).
    loop {
        for input in &inputs {
            if let Err(v) = touchstone_broker::fuzzing::replay(config.clone(), input) {
                eprintln!("violation: {v}");
                return std::process::ExitCode::from(1);
            }
            execs += 1;
        }
        if start.elapsed() >= budget {
            break;
        }
    }
    let secs = start.elapsed().as_secs_f64();
    println!(
        "{execs} executions of {} inputs in {secs:.1} s: {:.0} exec/s",
        inputs.len(),
        execs as f64 / secs
    );
    std::process::ExitCode::SUCCESS
}
