#!/usr/bin/env bash
# The conformance matrix, locally: the whole catalogue against each third-party broker and the
# embedded reference broker, then one Markdown table and one self-contained HTML page.
#
#   scripts/matrix.sh [--brokers a,b,...] [--timeout SECONDS] [--no-install] [--title TEXT]
#
#   --brokers    which brokers (default: mosquitto ejabberd rmqtt rumqttd aedes amqtt nats rabbitmq)
#   --timeout    the most one broker may take, install and runs included (default 1800)
#   --no-install do not install the brokers (scripts/brokers/run.sh --no-install)
#   --title      title of the matrix
#
# For each broker: scripts/brokers/run.sh NAME (installs and starts it, runs the catalogue with
# profiles/NAME.toml, stops it), writing target/matrix/NAME.json (and NAME-5.json when 5.0 has a
# listener of its own). A broker without scripts/brokers/NAME.sh or profiles/NAME.toml yet is
# skipped with a message; a broker whose run fails or times out is recorded and the others still
# run. The reference broker goes to target/matrix/reference.json. Then
#   touchstone matrix ... --markdown target/matrix/matrix.md --html target/matrix/matrix.html
# with the reference broker first and the reports of every known broker found in target/matrix
# (those of earlier runs too: each column shows when it was run).
#
# Exit status: 0 when the matrix was written and every broker tried gave its report (failing
# cases are results, not errors); 1 when a broker run gave no report; 2 on usage errors.
set -uo pipefail
cd "$(dirname "$0")/.."

all="mosquitto ejabberd rmqtt rumqttd aedes amqtt nats rabbitmq"
brokers="$all"
limit=1800
install_flag=()
title="Touchstone conformance matrix"
usage() { sed -n '2,24p' "$0" | sed 's/^# \{0,1\}//'; }
while [ $# -gt 0 ]; do
  case "$1" in
    --brokers) shift; brokers="$(echo "${1:?--brokers needs a list}" | tr ',' ' ')" ;;
    --timeout) shift; limit="${1:?--timeout needs seconds}" ;;
    --no-install) install_flag=(--no-install) ;;
    --title) shift; title="${1:?--title needs a text}" ;;
    -h|--help) usage; exit 0 ;;
    *) echo "unknown argument: $1" >&2; usage >&2; exit 2 ;;
  esac
  shift
done
case "$limit" in ''|*[!0-9]*) echo "--timeout must be a number of seconds" >&2; exit 2 ;; esac
for b in $brokers; do
  case " $all " in *" $b "*) ;; *) echo "unknown broker: $b (known: $all)" >&2; exit 2 ;; esac
done

out=target/matrix
mkdir -p "$out"
echo "== building touchstone (release)"
cargo build -q --release -p touchstone-conformance --bin touchstone || exit 2
bin=./target/release/touchstone

declare -A status
failed=0

echo "== Touchstone reference broker (embedded)"
start=$(date +%s)
if timeout -k 30 900 "$bin" run --broker-name "Touchstone reference broker" \
    --format json --output "$out/reference.json" >"$out/reference.log" 2>&1; then
  status[reference]="ok"
else
  rc=$?
  if [ -s "$out/reference.json" ]; then status[reference]="unexpected results (exit $rc)"; else status[reference]="no report (exit $rc)"; failed=1; fi
fi
echo "   ${status[reference]} in $(( $(date +%s) - start )) s; log $out/reference.log"

for b in $brokers; do
  echo "== $b"
  if [ ! -f "scripts/brokers/$b.sh" ]; then
    status[$b]="skipped: no scripts/brokers/$b.sh yet"
    echo "   ${status[$b]}"
    continue
  fi
  if [ ! -f "profiles/$b.toml" ]; then
    status[$b]="skipped: no profiles/$b.toml yet"
    echo "   ${status[$b]}"
    continue
  fi
  rm -f "$out/$b.json" "$out/$b-5.json"
  start=$(date +%s)
  # timeout signals the whole process group: run.sh, touchstone and the broker it started.
  timeout -k 30 "$limit" bash scripts/brokers/run.sh "$b" "${install_flag[@]}" >"$out/$b.log" 2>&1
  rc=$?
  if [ "$rc" -eq 124 ] || [ "$rc" -eq 137 ]; then
    bash "scripts/brokers/$b.sh" stop >>"$out/$b.log" 2>&1 || true
    why="timed out after ${limit} s"
  else
    why="exit $rc"
  fi
  if [ -s "$out/$b.json" ]; then
    if [ "$rc" -eq 0 ]; then status[$b]="ok"; else status[$b]="report written; unexpected results or trouble ($why): see $out/$b.log"; fi
  else
    status[$b]="FAILED, no report ($why): see $out/$b.log"
    failed=1
  fi
  echo "   ${status[$b]} in $(( $(date +%s) - start )) s"
done

reports=()
[ -s "$out/reference.json" ] && reports+=("$out/reference.json")
for b in $all; do
  for f in "$out/$b.json" "$out/$b-5.json"; do
    [ -s "$f" ] && reports+=("$f")
  done
done
if [ ${#reports[@]} -eq 0 ]; then
  echo "no report to put in the matrix" >&2
  exit 1
fi

echo "== matrix"
"$bin" matrix --title "$title" --markdown "$out/matrix.md" --html "$out/matrix.html" "${reports[@]}" || exit 1

echo
echo "Runs:"
echo "  reference: ${status[reference]}"
for b in $brokers; do echo "  $b: ${status[$b]}"; done
echo "Reports in the matrix: ${reports[*]}"
echo "Markdown: $out/matrix.md"
echo "HTML:     $out/matrix.html"
exit "$failed"
