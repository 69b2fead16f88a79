//! Replays `broker_core` fuzz inputs against the reference broker, outside libFuzzer:
//!
//! ```sh
//! TOUCHSTONE_FUZZ_TRACE=1 cargo run -p touchstone-broker --features fuzzing \
//!     --example fuzz_replay -- fuzz/artifacts/broker_core/crash-...
//! ```
//!
//! `TOUCHSTONE_FUZZ_TRACE` prints every step and packet; `TOUCHSTONE_FUZZ_FAULTS` switches
//! faults on as in the fuzz target. Exit status 1 if any input violates the model.

use std::process::ExitCode;

fn main() -> ExitCode {
    let config = match touchstone_broker::fuzzing::config_from_env() {
        Ok(c) => c,
        Err(e) => {
            eprintln!("TOUCHSTONE_FUZZ_FAULTS: {e}");
            return ExitCode::from(2);
        }
    };
    let mut failed = false;
    let paths: Vec<String> = std::env::args().skip(1).collect();
    if paths.is_empty() {
        eprintln!("usage: fuzz_replay FILE...");
        return ExitCode::from(2);
    }
    for path in paths {
        match std::fs::read(&path) {
            Ok(bytes) => match touchstone_broker::fuzzing::replay(config.clone(), &bytes) {
                Ok(()) => println!("{path}: ok"),
                Err(v) => {
                    println!("{path}: {v}");
                    failed = true;
                }
            },
            Err(e) => {
                eprintln!("{path}: {e}");
                failed = true;
            }
        }
    }
    if failed {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}
