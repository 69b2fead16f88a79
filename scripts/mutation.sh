#!/usr/bin/env bash
# The whole mutation score: every mutant of both versions against the embedded reference
# broker (about an hour on 2 cores), written to target/mutation.json; exit 1 if a version is
# below 95%. CI runs a sample (.ci/run); extra arguments go to `touchstone mutate`
# (e.g. --protocol 5, --mutant 'drop:*').
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build -q --release --bin touchstone
mkdir -p target
exec ./target/release/touchstone mutate --min-score 95 --json target/mutation.json "$@"
