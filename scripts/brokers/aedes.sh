#!/usr/bin/env bash
# aedes 1.2.0 (npm; MQTT 3.1.1 only: aedes does not implement 5.0), started by a few lines of
# Node (scripts/brokers/aedes/server.js) with aedes' default options (in-memory persistence),
# one TCP listener on 127.0.0.1. package.json and package-lock.json are committed; `npm ci`
# installs node_modules into target/brokers/aedes/ (git-ignored). Needs Node.js >= 20.
# See scripts/brokers/lib.sh for the interface.
# Install time measured here: ~31 s (npm ci of 27 packages, fresh, machine busy with builds).
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"
work="$(broker_work aedes)"
src="$BROKERS_DIR/aedes"

installed() { [ -f "$work/node_modules/aedes/package.json" ] && cmp -s "$src/package-lock.json" "$work/package-lock.json"; }

do_install() {
  command -v node >/dev/null 2>&1 || apt_install nodejs npm
  command -v npm >/dev/null 2>&1 || apt_install npm
  if ! installed; then
    cp "$src/package.json" "$src/package-lock.json" "$work/"
    (cd "$work" && timeout 600 npm ci --no-audit --no-fund --loglevel=error >&2)
  fi
  installed || die "aedes is still not installed in $work"
  do_version
}

do_version() { node -p "require('$work/node_modules/aedes/package.json').version" 2>/dev/null || true; }

do_start() {
  do_stop
  installed || die "aedes is not installed: run scripts/brokers/aedes.sh install"
  local port; port=$(pick_port)
  # server.js imports 'aedes', which Node resolves from the script's own directory upwards.
  cp "$src/server.js" "$work/server.js"
  : > "$work/aedes.log"
  node "$work/server.js" "$port" >> "$work/aedes.log" 2>&1 &
  local pid=$!
  wait_port "$port" "$pid" 20 "$work/aedes.log"
  cat > "$work/env" <<ENV
NAME="aedes"
VERSION="$(do_version)"
PID=$pid
PROTOCOLS="3.1.1"
TARGET=mqtt://127.0.0.1:$port
ENV
  echo "$pid"
}

do_stop() { stop_from_env "$work"; }

dispatch aedes "$@"
