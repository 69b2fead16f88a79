#!/usr/bin/env bash
# Interoperability of the reference broker with independent clients: Eclipse Mosquitto's
# mosquitto_pub and mosquitto_sub (Debian package mosquitto-clients), MQTT 3.1.1 and 5.0.
#
#   scripts/interop-mosquitto-clients.sh
#
# Starts `touchstone broker` on a free loopback port and checks, for each protocol version:
# publish/subscribe at QoS 0, 1 and 2, a retained message delivered to a later subscriber and
# cleared by an empty retained message, the Will published when a client dies, and (5.0) user
# properties and content type forwarded. Every client call is bounded by a timeout. Exits
# non-zero on the first mismatch.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v mosquitto_pub >/dev/null || ! command -v mosquitto_sub >/dev/null; then
  echo "installing the Debian package mosquitto-clients" >&2
  sudo=""; [ "$(id -u)" -ne 0 ] && sudo="sudo"
  timeout 300 $sudo apt-get update -q
  DEBIAN_FRONTEND=noninteractive timeout 300 $sudo apt-get install -y -q --no-install-recommends mosquitto-clients
fi

cargo build -q --release --bin touchstone
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
log=$(mktemp)
./target/release/touchstone broker --listen "127.0.0.1:$port" >"$log" 2>&1 &
broker=$!
cleanup() { kill "$broker" 2>/dev/null || true; wait "$broker" 2>/dev/null || true; rm -f "$log"; }
trap cleanup EXIT
for _ in $(seq 50); do grep -q listening "$log" && break; sleep 0.1; done
grep -q listening "$log" || { echo "the broker did not start:"; cat "$log"; exit 1; }

H=(-h 127.0.0.1 -p "$port")
fail() { echo "FAIL: $*" >&2; exit 1; }
pass() { echo "pass: $*"; }

for v in mqttv311 mqttv5; do
  t="interop/$v/$$"
  for q in 0 1 2; do
    out=$(mktemp)
    timeout 10 mosquitto_sub "${H[@]}" -V "$v" -q "$q" -t "$t/q$q" -C 3 -W 8 >"$out" &
    sub=$!
    sleep 0.5
    for i in 1 2 3; do timeout 5 mosquitto_pub "${H[@]}" -V "$v" -q "$q" -t "$t/q$q" -m "m$i"; done
    wait "$sub" || fail "$v QoS $q: the subscriber did not get 3 messages: $(cat "$out")"
    [ "$(cat "$out")" = $'m1\nm2\nm3' ] || fail "$v QoS $q: got $(cat "$out")"
    rm -f "$out"; pass "$v publish/subscribe at QoS $q"
  done

  timeout 5 mosquitto_pub "${H[@]}" -V "$v" -q 1 -r -t "$t/retained" -m kept
  got=$(timeout 10 mosquitto_sub "${H[@]}" -V "$v" -q 1 -t "$t/retained" -C 1 -W 5 -F '%r %p')
  [ "$got" = "1 kept" ] || fail "$v retained: got '$got'"
  timeout 5 mosquitto_pub "${H[@]}" -V "$v" -q 1 -r -t "$t/retained" -n
  if got=$(timeout 5 mosquitto_sub "${H[@]}" -V "$v" -t "$t/retained" -C 1 -W 2 2>/dev/null); then
    fail "$v retained: still delivered after an empty retained message: '$got'"
  fi
  pass "$v retained message stored, delivered and cleared"

  out=$(mktemp)
  timeout 15 mosquitto_sub "${H[@]}" -V "$v" -q 1 -t "$t/will" -C 1 -W 12 >"$out" &
  sub=$!
  sleep 0.5
  # A subscriber with a Will and keep alive 5 s, killed without DISCONNECT.
  mosquitto_sub "${H[@]}" -V "$v" -k 5 -t "$t/none" --will-topic "$t/will" --will-payload gone --will-qos 1 &
  victim=$!
  sleep 0.5
  kill -9 "$victim"; wait "$victim" 2>/dev/null || true
  wait "$sub" || fail "$v Will: not published after the client died"
  [ "$(cat "$out")" = gone ] || fail "$v Will: got $(cat "$out")"
  rm -f "$out"; pass "$v Will published when the client died"
done

out=$(mktemp)
timeout 10 mosquitto_sub "${H[@]}" -V mqttv5 -q 1 -t "interop/props/$$" -C 1 -W 8 -F '%P|%C|%p' >"$out" &
sub=$!
sleep 0.5
timeout 5 mosquitto_pub "${H[@]}" -V mqttv5 -q 1 -t "interop/props/$$" -m data \
  -D publish user-property k1 v1 -D publish user-property k2 v2 -D publish content-type text/plain
wait "$sub" || fail "5.0 properties: nothing delivered"
[ "$(cat "$out")" = "k1:v1 k2:v2|text/plain|data" ] || fail "5.0 properties: got $(cat "$out")"
rm -f "$out"; pass "5.0 user properties (in order) and content type forwarded"
echo "interop with mosquitto_pub/mosquitto_sub: all passed"
