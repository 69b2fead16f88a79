#!/usr/bin/env bash
# ejabberd 23.01 with mod_mqtt, from Debian's package `ejabberd` (MQTT 3.1.1 and 5.0; no shared
# subscriptions). See scripts/brokers/lib.sh for the interface.
#
# `start` writes target/brokers/ejabberd/ejabberd.yml: one virtual host `localhost`, anonymous
# authentication (auth_method [anonymous], anonymous_protocol login_anon: any user name and
# password are accepted, but every client must send a user name, which becomes its JID, and a
# password: a CONNECT without one is refused with 0x05 / 0x87 Not authorized), an
# MQTT listener and an HTTP listener with MQTT over WebSocket on /mqtt, both on 127.0.0.1, no
# XMPP listeners. The Erlang VM is started directly (not through ejabberdctl, which would su to
# the `ejabberd` user and use /var/lib/ejabberd): as the current user, with HOME (the Erlang
# cookie), the Mnesia spool and the logs under target/brokers/ejabberd, and without Erlang
# distribution (no node name), so no epmd daemon is started and no distribution port is opened
# (`ejabberdctl start` would leave one behind).
#
# Install time measured here (fresh, no Erlang installed: apt-get update + install of ejabberd
# and 42 Erlang packages, 32 MB, 2 cores shared with other builds): 47-50 s, twice.
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
work="$(broker_work ejabberd)"

libdir() { ls -d /usr/lib/x86_64-linux-gnu/ejabberd-* /usr/lib/*/ejabberd-* 2>/dev/null | head -n 1 || true; }

do_install() {
  [ -n "$(libdir)" ] && [ -x /usr/bin/erl ] || apt_install ejabberd
  [ -n "$(libdir)" ] || die "ejabberd is still not installed"
  # Debian's postinst enables (and, outside containers, starts) ejabberd.service and epmd.
  disable_service ejabberd ejabberd
  disable_service epmd epmd
  if command -v systemctl >/dev/null 2>&1; then as_root systemctl disable epmd.socket >/dev/null 2>&1 || true; fi
  do_version
}

do_version() { local d; d="$(libdir)"; [ -n "$d" ] && basename "$d" | sed 's/^ejabberd-\([0-9][0-9.]*\).*/\1/'; }

do_start() {
  do_stop
  local port ws_port dir
  port=$(pick_port); ws_port=$(pick_port)
  dir="$(dirname "$(libdir)")"
  # Fresh Mnesia spool every start: no sessions or retained messages from an earlier run.
  rm -rf "$work/spool" "$work/logs"
  mkdir -p "$work/spool" "$work/logs"
  cat > "$work/ejabberd.yml" <<CONF
hosts:
  - localhost
loglevel: info
log_rotate_count: 0
auth_method: [anonymous]
anonymous_protocol: login_anon
listen:
  -
    port: $port
    ip: "127.0.0.1"
    module: mod_mqtt
    backlog: 1000
  -
    port: $ws_port
    ip: "127.0.0.1"
    module: ejabberd_http
    request_handlers:
      /mqtt: mod_mqtt
acl:
  local:
    user_regexp: ""
access_rules:
  local:
    allow: all
modules:
  mod_mqtt: {}
CONF
  : > "$work/ejabberd.out"
  # What `ejabberdctl foreground` runs, minus the su and the node name.
  (
    cd "$work/spool"
    export HOME="$work" ERL_LIBS="$dir" \
      EJABBERD_CONFIG_PATH="$work/ejabberd.yml" EJABBERD_LOG_PATH="$work/logs/ejabberd.log" \
      ERL_CRASH_DUMP="$work/logs/erl_crash.dump" ERL_CRASH_DUMP_BYTES=0 \
      CONTRIB_MODULES_CONF_DIR="$work/modules.d" CONTRIB_MODULES_PATH="$work/modules"
    exec /usr/bin/erl +K true +P 250000 -noinput -mnesia dir "\"$work/spool\"" \
      -s ejabberd >>"$work/ejabberd.out" 2>&1
  ) &
  local pid=$!
  wait_port "$port" "$pid" 60 "$work/ejabberd.out"
  wait_port "$ws_port" "$pid" 20 "$work/ejabberd.out"
  # The listeners open before ejabberd has created its Mnesia tables; a TERM in that window
  # crashes Mnesia and the shutdown hangs. Ready means "ejabberd ... is started".
  local deadline=$(( $(date +%s) + 60 ))
  until grep -q "is started in the node" "$work/ejabberd.out"; do
    kill -0 "$pid" 2>/dev/null || { tail -n 40 "$work/ejabberd.out" >&2; die "ejabberd (pid $pid) exited while starting"; }
    [ "$(date +%s)" -lt "$deadline" ] || { tail -n 40 "$work/ejabberd.out" >&2; die "ejabberd did not finish starting within 60 s"; }
    sleep 0.2
  done
  # erl is a shell wrapper that execs beam.smp: the PID stays the VM's.
  cat > "$work/env" <<ENV
NAME="ejabberd mod_mqtt"
VERSION="$(do_version)"
PID=$pid
PROTOCOLS="3.1.1 5"
TARGET=mqtt://127.0.0.1:$port
WS_TARGET=ws://127.0.0.1:$ws_port/mqtt
MQTT_USERNAME=touchstone
MQTT_PASSWORD=anonymous
ENV
  echo "$pid"
}

# The VM runs without distribution, so it starts no epmd: nothing but the VM to stop (an epmd
# on the default port would belong to someone else and is left alone). Its clean shutdown took
# 4 s and once more than 10 s on the loaded 2-core machine: 30 s before KILL.
do_stop() { stop_from_env "$work" 30; }

dispatch ejabberd "$@"
