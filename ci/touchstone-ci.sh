#!/usr/bin/env bash
# Runs Touchstone in CI: the shell behind the GitHub Action (action.yml) and the GitLab CI
# template (ci/touchstone.gitlab-ci.yml). Exercised by .ci/run against the reference broker and
# Mosquitto.
#
# Environment (all optional):
#   TOUCHSTONE_TARGET      broker URL (mqtt://, mqtts://, ws://, wss://); empty: the embedded
#                          reference broker
#   TOUCHSTONE_PROTOCOL    3.1.1, 5 or all (default all)
#   TOUCHSTONE_PROFILE     broker profile (TOML)
#   TOUCHSTONE_ARGS        further `touchstone run` arguments (word-split)
#   TOUCHSTONE_OUTPUT_DIR  where the reports go (default touchstone-report)
#   TOUCHSTONE_BIN         the touchstone binary (default: `touchstone` on the PATH, else built
#                          from this repository with cargo into $TOUCHSTONE_OUTPUT_DIR/.bin)
#   TOUCHSTONE_USERNAME / TOUCHSTONE_PASSWORD   credentials (never written to any report)
#
# Writes report.json, junit.xml, summary.md and matrix.html (the HTML page of this run) into
# the output folder, appends the Markdown summary to $GITHUB_STEP_SUMMARY when it is set, and
# exits with touchstone's status: 0 conformant, 1 non-conformance, 2 usage error, 3 target
# unavailable, 130 interrupted.
set -uo pipefail

out="${TOUCHSTONE_OUTPUT_DIR:-touchstone-report}"
mkdir -p "$out"
here="$(cd "$(dirname "$0")/.." && pwd)"

bin="${TOUCHSTONE_BIN:-}"
if [ -z "$bin" ]; then
  if command -v touchstone >/dev/null 2>&1; then
    bin="$(command -v touchstone)"
  else
    echo "touchstone: not on the PATH; building it from $here (cargo install --locked)" >&2
    cargo install --locked --quiet --path "$here/conformance" --root "$out/.bin" >&2 || {
      echo "touchstone: the build failed" >&2; exit 2; }
    bin="$out/.bin/bin/touchstone"
  fi
fi
"$bin" --version >&2 || { echo "touchstone: $bin does not run" >&2; exit 2; }

args=(run --protocol "${TOUCHSTONE_PROTOCOL:-all}"
  --json "$out/report.json" --junit "$out/junit.xml" --markdown "$out/summary.md")
[ -n "${TOUCHSTONE_TARGET:-}" ] && args+=(--target "$TOUCHSTONE_TARGET")
[ -n "${TOUCHSTONE_PROFILE:-}" ] && args+=(--profile "$TOUCHSTONE_PROFILE")
# shellcheck disable=SC2206 # word splitting of the extra arguments is the point
[ -n "${TOUCHSTONE_ARGS:-}" ] && args+=(${TOUCHSTONE_ARGS})

echo "touchstone ${args[*]}" >&2
status=0
"$bin" "${args[@]}" || status=$?

if [ -s "$out/report.json" ]; then
  "$bin" matrix "$out/report.json" --html "$out/matrix.html" --markdown "$out/matrix.md" >/dev/null \
    || echo "touchstone: could not make the matrix page" >&2
fi
if [ -n "${GITHUB_STEP_SUMMARY:-}" ] && [ -s "$out/summary.md" ]; then
  cat "$out/summary.md" >> "$GITHUB_STEP_SUMMARY"
fi
echo "touchstone: exit status $status; reports in $out" >&2
exit "$status"
