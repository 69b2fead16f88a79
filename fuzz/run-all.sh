#!/usr/bin/env bash
# Runs every fuzz target (the codec's, the broker core's, topic matching) for a bounded time and
# fails if any finds a crash.
#
#   bash fuzz/run-all.sh [SECONDS_PER_TARGET]     (default 30; from any directory)
#
# Each target starts from a scratch corpus (fuzz/corpus/<target>, git-ignored, kept between runs
# so that later runs start where earlier ones stopped) plus the committed seeds
# (fuzz/seeds/<target>), with the dictionary fuzz/mqtt.dict. Allocations are capped
# (-malloc_limit_mb, -rss_limit_mb) so that memory reserved on the strength of a declared length
# is a crash. Crashes are saved in fuzz/artifacts/<target>/; reproduce one with
#   RUSTC_BOOTSTRAP=1 cargo fuzz run <target> fuzz/artifacts/<target>/<file>
# and minimise it with `cargo fuzz tmin <target> <file>`.
#
# Environment:
#   TARGETS="decode_v5 roundtrip"  run a subset
#   SANITIZER=none                 build without AddressSanitizer: several times the executions per
#                                  second, but -malloc_limit_mb is then not enforced (it needs the
#                                  sanitizer's malloc hooks; -rss_limit_mb still is). Default: address.
#   TRACE_COMPARES=0               build without -sanitizer-coverage-trace-compares: for the
#                                  stateful targets, whose inputs are structured step lists, the
#                                  comparison hooks cost ~40% of the time and found less in the
#                                  same time (see fuzz/README.md). Default: 1.
#   CARGO_FUZZ_TARGET_DIR          build directory (default fuzz/target; fuzz/target-<sanitizer>
#                                  for another sanitizer, with -notc without trace-compares, so
#                                  that switching does not rebuild)
set -uo pipefail

seconds="${1:-30}"
case "$seconds" in
    '' | *[!0-9]*) echo "usage: $0 [SECONDS_PER_TARGET]" >&2; exit 2 ;;
esac

fuzz_dir="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(dirname "$fuzz_dir")"
cd "$root" || exit 2
targets="${TARGETS:-decode_v31 decode_v311 decode_v5 roundtrip streaming fast_path decode_ref streaming_mixed topic_match broker_core}"
sanitizer="${SANITIZER:-address}"
build_flags=(-s "$sanitizer")
suffix=""
[ "$sanitizer" = address ] || suffix="-$sanitizer"
case "${TRACE_COMPARES:-1}" in
    1) ;;
    0) build_flags+=(--no-trace-compares); suffix="$suffix-notc" ;;
    *) echo "TRACE_COMPARES must be 0 or 1" >&2; exit 2 ;;
esac
target_dir="${CARGO_FUZZ_TARGET_DIR:-$fuzz_dir/target$suffix}"
# A small quarantine keeps ASan's memory and cache footprint down (the codec has no unsafe code
# of its own, so use-after-free detection matters less than throughput).
export ASAN_OPTIONS="${ASAN_OPTIONS:-quarantine_size_mb=16}"

# cargo-fuzz: use the installed one; wait for a `cargo install cargo-fuzz` already running;
# install it otherwise.
export PATH="$HOME/.cargo/bin:$PATH"
if ! cargo fuzz --version >/dev/null 2>&1; then
    while pgrep -f 'cargo install .*cargo-fuzz' >/dev/null 2>&1; do
        echo "waiting for a running 'cargo install cargo-fuzz'..."
        sleep 10
    done
    if ! cargo fuzz --version >/dev/null 2>&1; then
        echo "installing cargo-fuzz"
        cargo install cargo-fuzz --locked || { echo "cannot install cargo-fuzz" >&2; exit 2; }
    fi
fi

# cargo-fuzz needs nightly-only flags (-Zsanitizer); RUSTC_BOOTSTRAP lets the stable toolchain
# accept them.
export RUSTC_BOOTSTRAP=1

echo "== building fuzz targets (sanitizer: $sanitizer, trace-compares: ${TRACE_COMPARES:-1})"
mkdir -p "$fuzz_dir/artifacts"
: >"$fuzz_dir/artifacts/build.log"
for t in $targets; do # only the targets that run (each build flavour has its own directory)
    if ! cargo fuzz build "${build_flags[@]}" --target-dir "$target_dir" "$t" >>"$fuzz_dir/artifacts/build.log" 2>&1; then
        tail -40 "$fuzz_dir/artifacts/build.log" >&2
        echo "fuzz build of $t failed (full log: fuzz/artifacts/build.log)" >&2
        exit 2
    fi
done

# shellcheck source=fuzz/options.sh
. "$fuzz_dir/options.sh"

failed=()
summary=()
for t in $targets; do
    corpus="$fuzz_dir/corpus/$t"
    seeds="$fuzz_dir/seeds/$t"
    artifacts="$fuzz_dir/artifacts/$t"
    mkdir -p "$corpus" "$artifacts"
    if [ -d "$seeds" ]; then
        cp -n "$seeds"/* "$corpus"/ 2>/dev/null || true
    fi
    log="$fuzz_dir/artifacts/$t.log"
    echo "== $t: ${seconds}s"
    mapfile -t extra < <(libfuzzer_options "$t")
    [ ${#extra[@]} -eq 0 ] || echo "   options: ${extra[*]} (fuzz/options/$t.options)"
    cargo fuzz run "${build_flags[@]}" --target-dir "$target_dir" "$t" "$corpus" "$seeds" -- \
        "${extra[@]}" -max_total_time="$seconds" \
        -dict="$fuzz_dir/mqtt.dict" \
        -rss_limit_mb=512 -malloc_limit_mb=64 -timeout=10 \
        -artifact_prefix="$artifacts/" \
        -print_final_stats=1 >"$log" 2>&1
    rc=$?
    # The last status line, e.g. "#2914826 DONE cov: 1101 ft: 4312 corp: 602/21Kb exec/s: 97160 rss: 391Mb".
    last="$(grep -E '^#[0-9]+' "$log" | tail -1)"
    execs="$(grep -E '^stat::number_of_executed_units' "$log" | awk '{print $2}')"
    per_sec="$(grep -E '^stat::average_exec_per_sec' "$log" | awk '{print $2}')"
    if [ $rc -ne 0 ] || grep -qE '^(==[0-9]+==ERROR|SUMMARY: libFuzzer|thread .* panicked)' "$log"; then
        failed+=("$t")
        echo "!! $t FAILED (exit $rc); log: fuzz/artifacts/$t.log"
        grep -E 'panicked|ERROR|SUMMARY|Test unit written|^artifact_prefix|out-of-memory|malloc' "$log" | head -20
    fi
    echo "   $last"
    summary+=("$(printf '%-16s %10s execs  %8s exec/s' "$t" "${execs:-?}" "${per_sec:-?}")")
done

echo
echo "== summary (${seconds}s per target)"
printf '%s\n' "${summary[@]}"
if [ ${#failed[@]} -gt 0 ]; then
    echo "crashes found in: ${failed[*]} (inputs in fuzz/artifacts/)" >&2
    exit 1
fi
echo "no crashes"
