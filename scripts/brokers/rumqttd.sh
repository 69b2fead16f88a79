#!/usr/bin/env bash
# rumqttd 0.20.0 (crates.io; MQTT 3.1.1 and 5.0 on separate listeners), built with
#   cargo install rumqttd --version 0.20.0 --root target/brokers/rumqttd/install
# (without --locked: the crate's own Cargo.lock does not build on this toolchain). rumqttd's
# shipped configuration listens on 0.0.0.0 (MQTT, WebSocket, console on 3030) and caps payloads
# at 20 KB, so start writes its own: the router section as shipped, one 3.1.1 listener (v4.1)
# and one 5.0 listener (v5.1) on 127.0.0.1, max_payload_size 1 MiB, no WebSocket listener, no
# console, no Prometheus exporter. The env file sets TARGET (3.1.1) and TARGET_5 (5.0), so
# run.sh runs twice. See scripts/brokers/lib.sh for the interface.
# Install time measured here: 52.9 min (fresh cargo install on 2 cores while five other engineers
# were building, load 12-16); a repeated install is a no-op (~0.2 s).
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
work="$(broker_work rumqttd)"
VERSION_PIN=0.20.0
bin="$work/install/bin/rumqttd"

do_install() {
  if [ "$(do_version)" != "$VERSION_PIN" ]; then
    command -v cargo >/dev/null 2>&1 || die "cargo is needed to build rumqttd"
    # Not --locked: rumqttd 0.20.0's Cargo.lock fails to build with current Rust.
    timeout 3000 cargo install -q rumqttd --version "$VERSION_PIN" --root "$work/install" --force >&2
  fi
  [ "$(do_version)" = "$VERSION_PIN" ] || die "rumqttd $VERSION_PIN is still not installed in $work/install"
  do_version
}

do_version() { [ -x "$bin" ] && { "$bin" --version 2>/dev/null | awk '{print $2}'; } || true; }

do_start() {
  do_stop
  [ -x "$bin" ] || die "rumqttd is not installed: run scripts/brokers/rumqttd.sh install"
  local port port5; port=$(pick_port); port5=$(pick_port)
  cat > "$work/rumqttd.toml" <<CONF
id = 0

[router]
id = 0
max_connections = 10010
max_outgoing_packet_count = 200
max_segment_size = 104857600
max_segment_count = 10

[v4.1]
name = "v4-1"
listen = "127.0.0.1:$port"
next_connection_delay_ms = 1
    [v4.1.connections]
    connection_timeout_ms = 60000
    max_payload_size = 1048576
    max_inflight_count = 100
    dynamic_filters = true

[v5.1]
name = "v5-1"
listen = "127.0.0.1:$port5"
next_connection_delay_ms = 1
    [v5.1.connections]
    connection_timeout_ms = 60000
    max_payload_size = 1048576
    max_inflight_count = 100
    dynamic_filters = true
CONF
  : > "$work/rumqttd.log"
  "$bin" --quiet -c "$work/rumqttd.toml" >> "$work/rumqttd.log" 2>&1 &
  local pid=$!
  wait_port "$port" "$pid" 30 "$work/rumqttd.log"
  wait_port "$port5" "$pid" 30 "$work/rumqttd.log"
  cat > "$work/env" <<ENV
NAME="rumqttd"
VERSION="$(do_version)"
PID=$pid
PROTOCOLS="3.1.1 5"
TARGET=mqtt://127.0.0.1:$port
TARGET_5=mqtt://127.0.0.1:$port5
ENV
  echo "$pid"
}

do_stop() { stop_from_env "$work"; }

dispatch rumqttd "$@"
