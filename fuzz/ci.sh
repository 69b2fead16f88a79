#!/usr/bin/env bash
# CI's fuzz step: a time budget spent where bugs are found.
#
#   bash fuzz/ci.sh [SECONDS]       (default 250: the total, builds not counted)
#
# The stateful targets run without a sanitizer, several times faster: broker_core (40% of the
# budget: its model check is where the bugs of the reference broker show; also without the
# trace-compares hooks, which cost it ~40% of its time and found less in the same time, and
# without hit counters, fuzz/options/broker_core.options: 2.5 times the speed, faults found
# sooner),
# streaming_mixed and topic_match (10% each). The codec targets, which parse untrusted bytes,
# share the remaining 40% under AddressSanitizer (decode_v31, decode_v311, decode_v5, roundtrip, streaming, fast_path,
# decode_ref). Each pass is fuzz/run-all.sh, with its corpus, seeds, dictionary, limits and
# crash reporting; the step fails if either finds a crash.
set -uo pipefail
budget="${1:-250}"
case "$budget" in '' | *[!0-9]*) echo "usage: $0 [SECONDS]" >&2; exit 2 ;; esac
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
codec="decode_v31 decode_v311 decode_v5 roundtrip streaming fast_path decode_ref"
share() { # share PERCENT COUNT: seconds per target, at least 5
  local s=$(( budget * $1 / 100 / $2 ))
  [ "$s" -lt 5 ] && s=5
  echo "$s"
}
status=0
echo "== stateful targets, no sanitizer"
SANITIZER=none TRACE_COMPARES=0 TARGETS="broker_core" bash "$here/run-all.sh" "$(share 40 1)" || status=1
SANITIZER=none TARGETS="streaming_mixed topic_match" bash "$here/run-all.sh" "$(share 20 2)" || status=1
echo "== codec targets, AddressSanitizer"
SANITIZER=address TARGETS="$codec" bash "$here/run-all.sh" "$(share 40 7)" || status=1
exit "$status"
