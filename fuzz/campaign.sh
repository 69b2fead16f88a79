#!/usr/bin/env bash
# A long fuzzing campaign on this machine, without sanitizer: every target for MINUTES, and
# broker_core until EXECUTIONS, then a Markdown table of what ran (for the README).
#
#   bash fuzz/campaign.sh [MINUTES] [EXECUTIONS]      (defaults: 10, 10000000)
#   TARGETS="broker_core topic_match" bash fuzz/campaign.sh ...   (a subset; default all)
#
# Corpora and crashes as fuzz/run-all.sh keeps them (fuzz/corpus/, fuzz/artifacts/). Exit 1 if
# any target found a crash. Bounded: each target stops at its time (broker_core at its
# executions, or at 4 x MINUTES, whichever comes first).
set -uo pipefail
minutes="${1:-10}"
execs="${2:-10000000}"
case "$minutes$execs" in *[!0-9]*) echo "usage: $0 [MINUTES] [EXECUTIONS]" >&2; exit 2 ;; esac
fuzz_dir="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cd "$(dirname "$fuzz_dir")" || exit 2
export PATH="$HOME/.cargo/bin:$PATH" RUSTC_BOOTSTRAP=1
cargo fuzz --version >/dev/null 2>&1 || cargo install cargo-fuzz --locked || exit 2
mkdir -p "$fuzz_dir/artifacts"
targets="${TARGETS:-$(sed -n 's/^name = "\([a-z_0-9]*\)"$/\1/p' "$fuzz_dir/Cargo.toml")}"
# broker_core without the trace-compares hooks (as in fuzz/ci.sh), the others with them.
flags_for() {
  if [ "$1" = broker_core ]; then echo "-s none --no-trace-compares --target-dir $fuzz_dir/target-none-notc"
  else echo "-s none --target-dir $fuzz_dir/target-none"; fi
}
for t in $targets; do
  # shellcheck disable=SC2046
  cargo fuzz build $(flags_for "$t") "$t" >>"$fuzz_dir/artifacts/campaign-build.log" 2>&1 \
    || { tail -30 "$fuzz_dir/artifacts/campaign-build.log" >&2; exit 2; }
done
# shellcheck source=fuzz/options.sh
. "$fuzz_dir/options.sh"

rows=()
failed=0
for t in $targets; do
  corpus="$fuzz_dir/corpus/$t"; artifacts="$fuzz_dir/artifacts/$t"
  mkdir -p "$corpus" "$artifacts"
  [ -d "$fuzz_dir/seeds/$t" ] && cp -n "$fuzz_dir/seeds/$t"/* "$corpus"/ 2>/dev/null
  limit=(-max_total_time=$((minutes * 60)))
  [ "$t" = broker_core ] && limit=(-runs="$execs" -max_total_time=$((minutes * 240)))
  log="$fuzz_dir/artifacts/$t-campaign.log"
  echo "== $t: ${limit[*]}"
  mapfile -t extra < <(libfuzzer_options "$t")
  # shellcheck disable=SC2046
  cargo fuzz run $(flags_for "$t") "$t" "$corpus" -- "${extra[@]}" "${limit[@]}" \
    -dict="$fuzz_dir/mqtt.dict" -rss_limit_mb=1024 -timeout=10 -artifact_prefix="$artifacts/" \
    -print_final_stats=1 >"$log" 2>&1
  rc=$?
  n="$(awk '/^stat::number_of_executed_units/ {print $2}' "$log")"
  rate="$(awk '/^stat::average_exec_per_sec/ {print $2}' "$log")"
  secs="$(awk -v n="${n:-0}" -v r="${rate:-0}" 'BEGIN { if (r > 0) printf "%.0f", n / r; else print "?" }')"
  verdict="no crash"
  if [ $rc -ne 0 ] || grep -qE '^(==[0-9]+==ERROR|SUMMARY: libFuzzer|thread .* panicked)' "$log"; then
    verdict="CRASH (fuzz/artifacts/$t)"; failed=1
  fi
  rows+=("| $t | ${n:-?} | ${secs} s | ${rate:-?} | $verdict |")
  echo "   ${n:-?} executions, ${rate:-?}/s: $verdict"
done
echo
echo "Campaign of $(date -u +%Y-%m-%d), no sanitizer, $(nproc) cores:"
echo
echo "| target | executions | time | exec/s | result |"
echo "|---|---:|---:|---:|---|"
printf '%s\n' "${rows[@]}"
exit "$failed"
