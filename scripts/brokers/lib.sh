# Shared helpers for the broker scripts in scripts/brokers/ (sourced, not run).
#
# Every broker script NAME.sh implements the same interface:
#
#   scripts/brokers/NAME.sh install   install idempotently (apt, npm, pip or cargo); print the version
#   scripts/brokers/NAME.sh start     write a configuration into $work (target/brokers/NAME), start the
#                                     broker on free 127.0.0.1 ports, wait until it accepts connections,
#                                     print its PID and write $work/env (see broker_env below)
#   scripts/brokers/NAME.sh stop      stop it cleanly (and whatever it left behind, e.g. epmd)
#   scripts/brokers/NAME.sh version   print the installed version on one line
#
# $work/env holds shell assignments that scripts/brokers/run.sh reads:
#   NAME=...           display name (also the profile's `name`)
#   VERSION=...        broker version
#   PID=...            broker process id
#   PROTOCOLS="3.1.1 5" protocol versions the broker supports
#   TARGET=mqtt://127.0.0.1:PORT        the main listener
#   TARGET_5=...       optional: a separate listener for 5.0 (rumqttd has one per version)
#   AUTH_TARGET=...    optional: a listener that requires MQTT_USERNAME/MQTT_PASSWORD
#   WS_TARGET=...      optional: a WebSocket listener
#   MQTT_USERNAME=... MQTT_PASSWORD=...   optional credentials sent by every client (and to AUTH_TARGET)
#   JOBS=N             optional: run at most N cases at a time (touchstone run --jobs N), for a
#                      broker that breaks under concurrent clients (amqtt)
set -euo pipefail

BROKERS_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$BROKERS_DIR/../.." && pwd)"

# die MESSAGE: print to stderr and exit 1.
die() { echo "$*" >&2; exit 1; }

# as_root CMD...: run CMD as root (sudo when not root).
as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }

# apt_install PACKAGE...: install Debian packages if any is missing (apt-get update first).
apt_install() {
  local missing=()
  # `dpkg -s` also succeeds for a removed package whose configuration files remain.
  for p in "$@"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  echo "installing Debian packages: ${missing[*]}" >&2
  # Wait for the dpkg lock instead of failing when another apt-get runs at the same time.
  local lock=(-o DPkg::Lock::Timeout=600)
  as_root timeout 900 apt-get "${lock[@]}" update -q >&2
  as_root env DEBIAN_FRONTEND=noninteractive timeout 1500 apt-get "${lock[@]}" install -y -q --no-install-recommends "${missing[@]}" >&2
}

# disable_service NAME USER: stop the distribution's service NAME if it runs (systemd, or
# init.d when a process of its system user USER runs) and keep it from starting at boot; the
# broker scripts start their own instance. The init.d script is not run when nothing of USER
# runs: RabbitMQ's "stop" starts an epmd on 0.0.0.0:4369 just to find the node.
disable_service() {
  local name="$1" user="$2"
  if command -v systemctl >/dev/null 2>&1; then
    if [ -d /run/systemd/system ]; then
      as_root systemctl disable --now "$name" >/dev/null 2>&1 || true
    else
      as_root systemctl disable "$name" >/dev/null 2>&1 || true
    fi
  fi
  if [ -x "/etc/init.d/$name" ]; then
    if [ ! -d /run/systemd/system ] && id -u "$user" >/dev/null 2>&1 && pgrep -u "$user" >/dev/null 2>&1; then
      as_root "/etc/init.d/$name" stop >/dev/null 2>&1 || true
    fi
    command -v update-rc.d >/dev/null 2>&1 && { as_root update-rc.d "$name" disable >/dev/null 2>&1 || true; }
  fi
}

# port_free PORT: true if nothing listens on 127.0.0.1:PORT.
port_free() { ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# port_unused PORT: true if no TCP socket at all (listening, connected or in TIME_WAIT) has
# local port PORT; without ss, only listeners are checked.
port_unused() {
  if command -v ss >/dev/null 2>&1; then
    [ -z "$(ss -Htan "( sport = :$1 )" 2>/dev/null)" ]
  else
    port_free "$1"
  fi
}

# pick_port: print a free loopback port (distinct from those picked before in this shell),
# below the kernel's ephemeral range so that no outgoing connection takes it meanwhile.
PICKED_PORTS=" "
pick_port() {
  local p lo=20000 hi=32767 eph_lo eph_hi
  if read -r eph_lo eph_hi < /proc/sys/net/ipv4/ip_local_port_range 2>/dev/null; then
    if [ "$eph_lo" -gt $(( lo + 1000 )) ]; then hi=$(( eph_lo - 1 )); else lo=$(( eph_hi + 1 )); hi=65535; fi
  fi
  for _ in $(seq 1 100); do
    p=$(( lo + RANDOM % (hi - lo + 1) ))
    case "$PICKED_PORTS" in *" $p "*) continue ;; esac
    if port_unused "$p" && port_free "$p"; then PICKED_PORTS="$PICKED_PORTS$p "; echo "$p"; return 0; fi
  done
  die "no free port found"
}

# wait_port PORT PID SECONDS [LOG]: wait until PORT accepts connections; fail if PID dies or
# the time runs out (printing the tail of LOG).
wait_port() {
  local port="$1" pid="$2" secs="$3" log="${4:-}"
  local deadline=$(( $(date +%s) + secs ))
  while port_free "$port"; do
    if ! kill -0 "$pid" 2>/dev/null; then
      echo "the broker (pid $pid) exited before listening on $port" >&2
      [ -n "$log" ] && tail -n 40 "$log" >&2
      return 1
    fi
    if [ "$(date +%s)" -ge "$deadline" ]; then
      echo "the broker did not listen on $port within ${secs}s" >&2
      [ -n "$log" ] && tail -n 40 "$log" >&2
      return 1
    fi
    sleep 0.2
  done
}

# broker_work NAME: the working directory of broker NAME (created).
broker_work() { local d="$ROOT/target/brokers/$1"; mkdir -p "$d"; echo "$d"; }

# stop_pid PID [SECONDS]: TERM, wait up to SECONDS (default 10), then KILL.
stop_pid() {
  local pid="$1" secs="${2:-10}"
  kill -0 "$pid" 2>/dev/null || return 0
  kill -TERM "$pid" 2>/dev/null || true
  for _ in $(seq 1 $(( secs * 5 ))); do kill -0 "$pid" 2>/dev/null || return 0; sleep 0.2; done
  echo "pid $pid did not stop on TERM within ${secs}s: KILL" >&2
  kill -KILL "$pid" 2>/dev/null || true
}

# stop_from_env WORK [SECONDS]: stop the broker whose env file is in WORK (KILL after SECONDS,
# default 10).
stop_from_env() {
  local work="$1" secs="${2:-10}"
  [ -f "$work/env" ] || return 0
  local PID=""
  # shellcheck disable=SC1091
  PID="$(. "$work/env"; echo "${PID:-}")"
  [ -n "$PID" ] && stop_pid "$PID" "$secs"
  rm -f "$work/env"
}

# dispatch NAME: run the subcommand "$1" of a broker script whose functions are
# do_install, do_start, do_stop and do_version.
dispatch() {
  local name="$1"; shift
  case "${1:-}" in
    install) do_install ;;
    start) do_start ;;
    stop) do_stop ;;
    version) do_version ;;
    *) echo "usage: scripts/brokers/$name.sh install|start|stop|version" >&2; exit 2 ;;
  esac
}
