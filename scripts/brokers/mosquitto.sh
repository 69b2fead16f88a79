#!/usr/bin/env bash
# Eclipse Mosquitto 2.0.11 from Debian's package `mosquitto` (MQTT 3.1.1 and 5.0).
# An anonymous listener and a password listener (for the authentication cases), both on
# 127.0.0.1. See scripts/brokers/lib.sh for the interface.
# No WebSocket listener: Debian's Mosquitto 2.0.11 (libwebsockets) binds its websockets listener
# to ALL interfaces even when the configuration says `listener PORT 127.0.0.1` (seen with
# `ss -ltn`: `*:PORT`), and runs must stay on loopback, so the websocket cases skip here.
# Install time measured here: ~20 s (apt-get update + install).
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
work="$(broker_work mosquitto)"

bin() { command -v mosquitto 2>/dev/null || { [ -x /usr/sbin/mosquitto ] && echo /usr/sbin/mosquitto; } || true; }

do_install() {
  [ -n "$(bin)" ] || apt_install mosquitto
  [ -n "$(bin)" ] || die "mosquitto is still not installed"
  do_version
}

do_version() { { "$(bin)" -h 2>/dev/null || true; } | head -n 1 | sed 's/.*version \([0-9.]*\).*/\1/'; }

do_start() {
  do_stop
  local port auth_port user=touchstone password
  port=$(pick_port); auth_port=$(pick_port)
  password="ts-$(date +%s)-$RANDOM"
  local passwd_tool; passwd_tool="$(dirname "$(bin)")/mosquitto_passwd"
  command -v mosquitto_passwd >/dev/null 2>&1 && passwd_tool="$(command -v mosquitto_passwd)"
  rm -f "$work/passwd"
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
  # Mosquitto started as root drops to its own user: let it read and write its files.
  chmod 755 "$work"; chmod 644 "$work/passwd" "$work/mosquitto.conf"
  : > "$work/mosquitto.log"; chmod 666 "$work/mosquitto.log"
  "$(bin)" -c "$work/mosquitto.conf" >/dev/null 2>&1 &
  local pid=$!
  wait_port "$port" "$pid" 20 "$work/mosquitto.log"
  wait_port "$auth_port" "$pid" 20 "$work/mosquitto.log"
  cat > "$work/env" <<ENV
NAME="Eclipse Mosquitto"
VERSION="$(do_version)"
PID=$pid
PROTOCOLS="3.1.1 5"
TARGET=mqtt://127.0.0.1:$port
AUTH_TARGET=mqtt://127.0.0.1:$auth_port
MQTT_USERNAME=$user
MQTT_PASSWORD=$password
ENV
  echo "$pid"
}

do_stop() { stop_from_env "$work"; }

dispatch mosquitto "$@"
