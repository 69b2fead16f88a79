#!/usr/bin/env bash
# NATS server 2.9 with its MQTT gateway, from Debian's package `nats-server` (MQTT 3.1.1 only;
# QoS 2 subscriptions are refused, QoS 2 PUBLISHes close the connection).
# The MQTT gateway needs JetStream (for sessions and retained messages) and a server_name.
# Configuration written by `start` into target/brokers/nats/nats.conf: the NATS client port, the
# MQTT port, all on 127.0.0.1, JetStream stored in target/brokers/nats/jetstream, no monitoring,
# cluster or leaf-node ports, no authentication.
# See scripts/brokers/lib.sh for the interface.
# Install time measured here (fresh, apt-get update + install of one 3.6 MB package, 2 cores
# shared with other builds): 35-38 s, twice.
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
work="$(broker_work nats)"

bin() { command -v nats-server 2>/dev/null || { [ -x /usr/sbin/nats-server ] && echo /usr/sbin/nats-server; } || true; }

do_install() {
  [ -n "$(bin)" ] || apt_install nats-server
  [ -n "$(bin)" ] || die "nats-server is still not installed"
  # The package enables a systemd unit (nats-server.service, /etc/nats-server.conf, port 4222 on
  # all interfaces): stop and disable it so that only the broker `start` runs is there.
  disable_service nats-server nats
  do_version
}

do_version() { { "$(bin)" --version 2>/dev/null || true; } | head -n 1 | sed 's/.*v\([0-9][0-9.]*\).*/\1/'; }

do_start() {
  do_stop
  local port mqtt_port
  port=$(pick_port); mqtt_port=$(pick_port)
  # A fresh JetStream store every start: no sessions or retained messages from an earlier run.
  rm -rf "$work/jetstream"
  mkdir -p "$work/jetstream"
  cat > "$work/nats.conf" <<CONF
server_name: touchstone
listen: 127.0.0.1:$port
jetstream {
  store_dir: "$work/jetstream"
  max_memory_store: 256MB
  max_file_store: 1GB
}
mqtt {
  host: 127.0.0.1
  port: $mqtt_port
}
CONF
  : > "$work/nats.log"
  "$(bin)" -c "$work/nats.conf" -l "$work/nats.log" >/dev/null 2>&1 &
  local pid=$!
  wait_port "$port" "$pid" 20 "$work/nats.log"
  wait_port "$mqtt_port" "$pid" 20 "$work/nats.log"
  cat > "$work/env" <<ENV
NAME="NATS server (MQTT)"
VERSION="$(do_version)"
PID=$pid
PROTOCOLS="3.1.1"
TARGET=mqtt://127.0.0.1:$mqtt_port
ENV
  echo "$pid"
}

do_stop() { stop_from_env "$work"; }

dispatch nats "$@"
