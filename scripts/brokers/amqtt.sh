#!/usr/bin/env bash
# amqtt 0.12.1 (PyPI; MQTT 3.1.1 only), in a virtualenv under target/brokers/amqtt/venv, run as
# `amqtt -c amqtt.yaml` with amqtt's default configuration (default_broker.yaml: anonymous
# access allowed, event logger, $SYS every 20 s) except that the one TCP listener binds
# 127.0.0.1 on a free port. amqtt keeps the session (subscriptions, queued messages) only of
# clients that send a user name ("anonymous" sessions are dropped at disconnect), so the env file
# sets MQTT_USERNAME: every Touchstone client sends it (no password; anonymous access allows it).
# Needs python3 >= 3.10 with venv. See scripts/brokers/lib.sh for the interface.
# Install time measured here: ~300 s (python -m venv + pip install amqtt==0.12.1, fresh, with the
# machine very busy: load average 16 on 2 cores; expect ~20-30 s on an idle machine).
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
work="$(broker_work amqtt)"
venv="$work/venv"
VERSION_PIN=0.12.1

installed() { [ -x "$venv/bin/amqtt" ] && [ "$(do_version)" = "$VERSION_PIN" ]; }

do_install() {
  if ! installed; then
    command -v python3 >/dev/null 2>&1 || apt_install python3 python3-venv
    [ -x "$venv/bin/pip" ] || python3 -m venv "$venv" || { apt_install python3-venv; python3 -m venv "$venv"; }
    timeout 900 "$venv/bin/pip" install -q --disable-pip-version-check "amqtt==$VERSION_PIN" >&2
  fi
  installed || die "amqtt $VERSION_PIN is still not installed in $venv"
  do_version
}

do_version() { "$venv/bin/python" -c 'import amqtt; print(amqtt.__version__)' 2>/dev/null || true; }

do_start() {
  do_stop
  installed || die "amqtt is not installed: run scripts/brokers/amqtt.sh install"
  local port; port=$(pick_port)
  cat > "$work/amqtt.yaml" <<CONF
---
listeners:
  default:
    type: tcp
    bind: 127.0.0.1:$port
plugins:
  amqtt.plugins.logging_amqtt.EventLoggerPlugin:
  amqtt.plugins.logging_amqtt.PacketLoggerPlugin:
  amqtt.plugins.authentication.AnonymousAuthPlugin:
    allow_anonymous: true
  amqtt.plugins.sys.broker.BrokerSysPlugin:
    sys_interval: 20
CONF
  : > "$work/amqtt.log"
  "$venv/bin/amqtt" -c "$work/amqtt.yaml" >> "$work/amqtt.log" 2>&1 &
  local pid=$!
  wait_port "$port" "$pid" 60 "$work/amqtt.log"
  cat > "$work/env" <<ENV
NAME="amqtt"
VERSION="$(do_version)"
PID=$pid
PROTOCOLS="3.1.1"
TARGET=mqtt://127.0.0.1:$port
MQTT_USERNAME=touchstone
# One case at a time: amqtt's session-task race (findings/amqtt-connect-race-and-retained-leak.md,
# part 1) kills a connecting client's session when another client subscribes meanwhile.
JOBS=1
ENV
  echo "$pid"
}

do_stop() { stop_from_env "$work"; }

dispatch amqtt "$@"
