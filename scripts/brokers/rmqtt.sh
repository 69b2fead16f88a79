#!/usr/bin/env bash
# rmqtt 0.24.0 (crates.io; MQTT 3.1.1 and 5.0), as a small host binary on the `rmqtt` library:
# scripts/brokers/rmqtt-host/ (its own cargo workspace, Cargo.lock committed), with the
# rmqtt-retainer 0.24.0 plugin (RAM storage) and the rmqtt-shared-subscription 0.24.0 plugin
# (without it rmqtt's CONNACK says Shared Subscription Available 0). (The full `rmqttd` server
# takes ~25 min to build and needs protobuf-compiler and cmake.) Built by install with
#   CARGO_TARGET_DIR=target/brokers/rmqtt/build cargo build --release --locked
# One TCP listener on 127.0.0.1 with rmqtt's default listener settings, except Maximum Packet
# Size 16 MiB and Topic Alias Maximum 32 (the value rmqttd ships); no HTTP API, no WebSocket.
# See scripts/brokers/lib.sh for the interface.
# Install time measured here: 55.6 min (fresh release build on 2 cores while five other engineers
# were building, load 12-16; 3.9 min more to add the shared-subscription plugin); a repeated
# install is a no-op cargo build (~2.5 s).
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
work="$(broker_work rmqtt)"
host="$BROKERS_DIR/rmqtt-host"
bin="$work/build/release/touchstone-rmqtt-host"

do_install() {
  command -v cargo >/dev/null 2>&1 || die "cargo is needed to build the rmqtt host"
  # cargo decides itself whether anything changed (a no-op build takes a second).
  (cd "$host" && CARGO_TARGET_DIR="$work/build" timeout 3000 cargo build -q --release --locked >&2)
  [ -x "$bin" ] || die "the rmqtt host was not built ($bin)"
  do_version
}

# The rmqtt version the host is locked to.
do_version() { awk '/^name = "rmqtt"$/ { getline; gsub(/[^0-9.]/, ""); print; exit }' "$host/Cargo.lock"; }

do_start() {
  do_stop
  [ -x "$bin" ] || die "the rmqtt host is not built: run scripts/brokers/rmqtt.sh install"
  local port; port=$(pick_port)
  : > "$work/rmqtt.log"
  "$bin" "127.0.0.1:$port" >> "$work/rmqtt.log" 2>&1 &
  local pid=$!
  wait_port "$port" "$pid" 30 "$work/rmqtt.log"
  cat > "$work/env" <<ENV
NAME="rmqtt"
VERSION="$(do_version)"
PID=$pid
PROTOCOLS="3.1.1 5"
TARGET=mqtt://127.0.0.1:$port
ENV
  echo "$pid"
}

do_stop() { stop_from_env "$work"; }

dispatch rmqtt "$@"
