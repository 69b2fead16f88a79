#!/usr/bin/env bash
# Runs the whole Touchstone catalogue against one third-party broker, with its profile.
#
#   scripts/brokers/run.sh NAME [--output FILE] [--no-install]
#
# Installs the broker (scripts/brokers/NAME.sh install), starts it on loopback ports, runs
#   touchstone run --protocol P --profile profiles/NAME.toml --target ... --format json --output FILE
# once for every listener (one run for all its protocol versions, or one per version when the
# broker has a listener per version), stops the broker, and exits non-zero on anything
# unexpected (a failure, an error, or an unexpected pass). Reports: FILE (default
# target/matrix/NAME.json; with a 5.0 listener of its own, the 5.0 run goes to NAME-5.json).
set -euo pipefail
cd "$(dirname "$0")/../.."

name="${1:-}"
case "$name" in ''|-h|--help) sed -n '2,13p' "$0"; exit 2 ;; esac
shift
output="target/matrix/$name.json"
install=1
while [ $# -gt 0 ]; do
  case "$1" in
    --output) shift; output="${1:?--output needs a file}" ;;
    --no-install) install=0 ;;
    *) echo "unknown argument: $1" >&2; exit 2 ;;
  esac
  shift
done
script="scripts/brokers/$name.sh"
[ -f "$script" ] || { echo "no broker script $script" >&2; exit 2; }
profile="profiles/$name.toml"
[ -f "$profile" ] || { echo "no profile $profile" >&2; exit 2; }

[ "$install" = 1 ] && bash "$script" install
cargo build -q --release -p touchstone-conformance --bin touchstone
work="target/brokers/$name"
bash "$script" start
trap 'bash "$script" stop || true' EXIT
# shellcheck disable=SC1090
. "$work/env"

mkdir -p "$(dirname "$output")"
status=0
run() { # run PROTOCOL TARGET OUTPUT
  local args=(--protocol "$1" --profile "$profile" --target "$2" --format json --output "$3"
    --broker-name "$NAME" --broker-version "${VERSION:-}")
  [ -n "${AUTH_TARGET:-}" ] && args+=(--auth-target "$AUTH_TARGET")
  [ -n "${WS_TARGET:-}" ] && args+=(--ws-target "$WS_TARGET")
  [ -n "${JOBS:-}" ] && args+=(--jobs "$JOBS")
  echo "touchstone run ${args[*]}" >&2
  TOUCHSTONE_USERNAME="${MQTT_USERNAME:-}" TOUCHSTONE_PASSWORD="${MQTT_PASSWORD:-}" \
    timeout 900 ./target/release/touchstone run "${args[@]}" || status=$?
  if ! kill -0 "$PID" 2>/dev/null; then
    echo "FINDING: $NAME (pid $PID) is no longer running after the $1 run" >&2
    status=1
  fi
}
if [ -n "${TARGET_5:-}" ]; then
  run 3.1.1 "$TARGET" "$output"
  run 5 "$TARGET_5" "${output%.json}-5.json"
else
  case "$PROTOCOLS" in
    *5*) run all "$TARGET" "$output" ;;
    *) run 3.1.1 "$TARGET" "$output" ;;
  esac
fi
[ "$status" -ne 0 ] && echo "touchstone run against $NAME: something unexpected (exit status $status)" >&2
exit "$status"
