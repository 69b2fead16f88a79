#!/usr/bin/env bash
# RabbitMQ 3.10 with its MQTT plugin (rabbitmq_mqtt, and rabbitmq_web_mqtt for MQTT over
# WebSocket), from Debian's package `rabbitmq-server` (MQTT 3.1.1 only; a QoS 2 subscription is
# granted QoS 1). See scripts/brokers/lib.sh for the interface.
#
# `start` runs the server as the current user (not through /usr/sbin/rabbitmq-server, which
# would su to the `rabbitmq` user and use /var/lib/rabbitmq) with everything under
# target/brokers/rabbitmq: rabbitmq.conf, enabled_plugins, the Mnesia directory, the logs, HOME
# (the Erlang cookie) and an empty rabbitmq-env.conf (so /etc/rabbitmq/rabbitmq-env.conf is not
# read). Listeners, all on 127.0.0.1: MQTT, MQTT over WebSocket (/ws), and the Erlang
# distribution port; no AMQP listener, no management plugin. RabbitMQ needs Erlang distribution
# (a node name), hence an epmd: a private one on a free 127.0.0.1 port (ERL_EPMD_ADDRESS,
# ERL_EPMD_PORT), killed by `stop`. Anonymous MQTT clients log in as guest/guest (allowed from
# loopback only, RabbitMQ's default).
#
# Install time measured here (fresh, no Erlang installed: apt-get update + install of
# rabbitmq-server and 17 Erlang and other packages, 34 MB, 2 cores shared with other builds): 57 s.
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
work="$(broker_work rabbitmq)"

server() { ls /usr/lib/rabbitmq/lib/rabbitmq_server-*/sbin/rabbitmq-server 2>/dev/null | sort -V | tail -n 1 || true; }

do_install() {
  [ -n "$(server)" ] || apt_install rabbitmq-server
  [ -n "$(server)" ] || die "rabbitmq-server is still not installed"
  # Debian's postinst enables (and, outside containers, starts) rabbitmq-server.service, whose
  # Erlang node also starts the system epmd.
  disable_service rabbitmq-server rabbitmq
  disable_service epmd epmd
  if command -v systemctl >/dev/null 2>&1; then as_root systemctl disable epmd.socket >/dev/null 2>&1 || true; fi
  do_version
}

do_version() { local s; s="$(server)"; [ -n "$s" ] && basename "$(dirname "$(dirname "$s")")" | sed 's/^rabbitmq_server-//'; }

do_start() {
  do_stop
  local port ws_port dist_port epmd_port
  port=$(pick_port); ws_port=$(pick_port); dist_port=$(pick_port); epmd_port=$(pick_port)
  # Fresh database every start: no sessions, queues or retained messages from an earlier run.
  rm -rf "$work/mnesia" "$work/log"
  mkdir -p "$work/mnesia" "$work/log"
  cat > "$work/rabbitmq.conf" <<CONF
listeners.tcp = none
loopback_users.guest = true
log.file = $work/log/rabbit.log
log.console = false
log.file.level = info
mqtt.listeners.tcp.1 = 127.0.0.1:$port
mqtt.allow_anonymous = true
mqtt.default_user = guest
mqtt.default_pass = guest
mqtt.vhost = /
mqtt.exchange = amq.topic
web_mqtt.tcp.ip = 127.0.0.1
web_mqtt.tcp.port = $ws_port
CONF
  echo '[rabbitmq_mqtt,rabbitmq_web_mqtt].' > "$work/enabled_plugins"
  : > "$work/rabbitmq-env.conf"
  : > "$work/rabbitmq.out"
  (
    export HOME="$work" \
      RABBITMQ_CONF_ENV_FILE="$work/rabbitmq-env.conf" \
      RABBITMQ_CONFIG_FILE="$work/rabbitmq.conf" \
      RABBITMQ_ENABLED_PLUGINS_FILE="$work/enabled_plugins" \
      RABBITMQ_MNESIA_BASE="$work/mnesia" RABBITMQ_LOG_BASE="$work/log" \
      RABBITMQ_PID_FILE="$work/rabbitmq.pid" \
      RABBITMQ_NODENAME="touchstone@localhost" RABBITMQ_USE_LONGNAME=false \
      RABBITMQ_NODE_IP_ADDRESS=127.0.0.1 RABBITMQ_DIST_PORT="$dist_port" \
      RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS="-kernel inet_dist_use_interface {127,0,0,1}" \
      ERL_EPMD_ADDRESS=127.0.0.1 ERL_EPMD_PORT="$epmd_port"
    exec "$(server)" >>"$work/rabbitmq.out" 2>&1
  ) &
  local pid=$!
  echo "$epmd_port" > "$work/epmd_port"
  wait_port "$port" "$pid" 120 "$work/rabbitmq.out"
  wait_port "$ws_port" "$pid" 30 "$work/rabbitmq.out"
  cat > "$work/env" <<ENV
NAME="RabbitMQ MQTT plugin"
VERSION="$(do_version)"
PID=$pid
PROTOCOLS="3.1.1"
TARGET=mqtt://127.0.0.1:$port
WS_TARGET=ws://127.0.0.1:$ws_port/ws
ENV
  echo "$pid"
}

do_stop() {
  # The server script forwards TERM to the VM, which shuts down cleanly (3 s measured).
  stop_from_env "$work" 30
  # The private epmd the node started.
  if [ -f "$work/epmd_port" ]; then
    ERL_EPMD_PORT="$(cat "$work/epmd_port")" epmd -kill >/dev/null 2>&1 || true
    rm -f "$work/epmd_port"
  fi
}

dispatch rabbitmq "$@"
