#!/usr/bin/env bash
# Runs the whole Touchstone catalogue, MQTT 3.1.1 and 5.0, against Eclipse Mosquitto from the
# distribution's packages, with profiles/mosquitto.toml.
#
#   scripts/mosquitto-run.sh [--install-only] [--output FILE] [--websockets]
#
# Installs the Debian package `mosquitto` if it is missing (apt-get update first), writes a
# configuration with an anonymous listener and a listener that requires a password (for the
# authentication cases), starts the broker on free loopback ports, runs
#   touchstone run --protocol all --profile profiles/mosquitto.toml --target mqtt://127.0.0.1:PORT
#                  --auth-target mqtt://127.0.0.1:PORT2 --format json --output FILE
# which also prints the pretty view, stops the broker, and exits non-zero on anything unexpected
# (a failure, an error, or an unexpected pass). The JSON report goes to FILE (default
# target/conformance/mosquitto.json).
#
# --websockets adds Mosquitto's websockets listener and passes it as --ws-target, enabling the
# `websocket` cases. It is off by default (and in CI), where those cases skip: Debian's
# Mosquitto 2.0.11 (libwebsockets) binds its websockets listener to ALL interfaces even when
# the configuration says `listener PORT 127.0.0.1` (seen with `ss -ltn`: `*:PORT`), and the
# runs must stay on loopback.
set -euo pipefail
cd "$(dirname "$0")/.."

install_only=0
websockets=0
output="${TOUCHSTONE_REPORT:-target/conformance/mosquitto.json}"
while [ $# -gt 0 ]; do
  case "$1" in
    --install-only) install_only=1 ;;
    --websockets) websockets=1 ;;
    --output) shift; output="${1:?--output needs a file}" ;;
    -h|--help) sed -n '2,22p' "$0"; exit 0 ;;
    *) echo "unknown argument: $1 (see --help)" >&2; exit 2 ;;
  esac
  shift
done

mosquitto_bin() {
  command -v mosquitto 2>/dev/null || { [ -x /usr/sbin/mosquitto ] && echo /usr/sbin/mosquitto; } || true
}

if [ -z "$(mosquitto_bin)" ]; then
  echo "mosquitto is not installed: installing the Debian package" >&2
  sudo=""
  if [ "$(id -u)" -ne 0 ]; then sudo="sudo"; fi
  timeout 300 $sudo apt-get update -q
  DEBIAN_FRONTEND=noninteractive timeout 300 $sudo apt-get install -y -q --no-install-recommends mosquitto
fi
bin="$(mosquitto_bin)"
[ -n "$bin" ] || { echo "mosquitto is still not installed" >&2; exit 1; }
passwd_tool="$(dirname "$bin")/mosquitto_passwd"
command -v mosquitto_passwd >/dev/null 2>&1 && passwd_tool="$(command -v mosquitto_passwd)"
"$bin" -h 2>/dev/null | head -n 1 >&2 || true
if [ "$install_only" = 1 ]; then exit 0; fi

# Two free loopback ports.
port_free() { ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
pick_port() {
  local p
  for _ in $(seq 1 50); do
    p=$(( 20000 + RANDOM % 30000 ))
    if port_free "$p"; then echo "$p"; return 0; fi
  done
  echo "no free port found" >&2; return 1
}
port=$(pick_port)
auth_port=$(pick_port)
while [ "$auth_port" = "$port" ]; do auth_port=$(pick_port); done
ws_port=$(pick_port)
while [ "$ws_port" = "$port" ] || [ "$ws_port" = "$auth_port" ]; do ws_port=$(pick_port); done

work="$(mktemp -d /tmp/touchstone-mosquitto.XXXXXX)"
chmod 755 "$work"
user="touchstone"
password="ts-$(date +%s)-$RANDOM"
"$passwd_tool" -c -b "$work/passwd" "$user" "$password" >/dev/null
cat > "$work/mosquitto.conf" <<CONF
per_listener_settings true
log_dest file $work/mosquitto.log
listener $port 127.0.0.1
allow_anonymous true
listener $auth_port 127.0.0.1
allow_anonymous false
password_file $work/passwd
CONF
ws_args=()
if [ "$websockets" = 1 ]; then
  # Binds to all interfaces whatever the address (see --websockets above).
  cat >> "$work/mosquitto.conf" <<CONF
listener $ws_port 127.0.0.1
protocol websockets
allow_anonymous true
CONF
  ws_args=(--ws-target "ws://127.0.0.1:$ws_port/mqtt")
fi
# Mosquitto started as root drops to its own user: let it read and write its files.
chmod 644 "$work/passwd" "$work/mosquitto.conf"
touch "$work/mosquitto.log" && chmod 666 "$work/mosquitto.log"

"$bin" -c "$work/mosquitto.conf" &
broker=$!
cleanup() {
  kill "$broker" 2>/dev/null || true
  wait "$broker" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

for _ in $(seq 1 100); do
  if ! port_free "$port" && ! port_free "$auth_port"; then break; fi
  if ! kill -0 "$broker" 2>/dev/null; then
    echo "mosquitto exited at start:" >&2; cat "$work/mosquitto.log" >&2; exit 1
  fi
  sleep 0.1
done
echo "mosquitto on 127.0.0.1:$port (anonymous) and 127.0.0.1:$auth_port (password)" >&2

mkdir -p "$(dirname "$output")"
status=0
TOUCHSTONE_USERNAME="$user" TOUCHSTONE_PASSWORD="$password" \
  timeout 600 cargo run -q --release -p touchstone-conformance --bin touchstone -- run \
    --protocol all \
    --profile profiles/mosquitto.toml \
    --target "mqtt://127.0.0.1:$port" \
    --auth-target "mqtt://127.0.0.1:$auth_port" \
    "${ws_args[@]}" \
    --format json --output "$output" || status=$?

if [ "$status" -ne 0 ]; then
  echo "touchstone run against Mosquitto: something unexpected (exit status $status); report in $output" >&2
  echo "--- mosquitto log (last 40 lines)" >&2
  tail -n 40 "$work/mosquitto.log" >&2 || true
fi
exit "$status"
