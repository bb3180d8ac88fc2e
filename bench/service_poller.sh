#!/usr/bin/env bash
# SMTP throughput of service mode with and without an HTTP poller: the
# release binary with --http, examples/loadgen delivering MESSAGES messages,
# once alone and once while curl lists the messages 20 times a second (as a
# test suite's wait loop does). Runs alternate, ROUNDS pairs, and the
# ratio of the medians is printed: speed is reported, never asserted.
#
#   bench/service_poller.sh              # defaults below
#   ROUNDS=5 MESSAGES=50000 bench/service_poller.sh
#
# Only 127.0.0.1 is used; every run is bounded by its message count and
# loadgen's --duration-cap; the poller stops with its run.
set -euo pipefail
cd "$(dirname "$0")/.."
ROUNDS=${ROUNDS:-3}
MESSAGES=${MESSAGES:-20000}
SESSIONS=${SESSIONS:-10}
RATE=${RATE:-20}            # poller requests per second
SMTP_PORT=${SMTP_PORT:-18625}
HTTP_PORT=${HTTP_PORT:-18626}

# The binary is built alone: built in one command with an example, it would get
# the dev-dependencies' features (tokio's test-util) that a user's
# `cargo run --release --features cli` does not.
cargo build -q --release --features cli --bin smtp-fixture && cargo build -q --release --example loadgen
target/release/smtp-fixture -c SmtpServer --http "127.0.0.1:$HTTP_PORT" "127.0.0.1:$SMTP_PORT" >/dev/null &
server=$!
trap 'kill "$server" 2>/dev/null || true' EXIT
sleep 0.5

run() { # prints msg/s of one loadgen run
  target/release/examples/loadgen --addr "127.0.0.1:$SMTP_PORT" --sessions "$SESSIONS" \
    --messages "$MESSAGES" --size 1024 --mode keep --duration-cap 120s --server-pid "$server" |
    awk '/^throughput:/ { print $2 }'
}

poll() { # 20 requests/s until killed
  local pause
  pause=$(awk "BEGIN { print 1 / $RATE }")
  while :; do
    curl -s -o /dev/null "http://127.0.0.1:$HTTP_PORT/api/v1/messages?limit=50"
    sleep "$pause"
  done
}

alone=() polled=()
for round in $(seq "$ROUNDS"); do
  alone+=("$(run)")
  poll & poller=$!
  polled+=("$(run)")
  kill "$poller"; wait "$poller" 2>/dev/null || true
  echo "round $round: alone ${alone[-1]} msg/s, polled at ${RATE}/s ${polled[-1]} msg/s"
done
median() { printf '%s\n' "$@" | sort -g | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'; }
a=$(median "${alone[@]}") p=$(median "${polled[@]}")
echo "median: alone $a msg/s, polled $p msg/s, ratio $(awk "BEGIN { printf \"%.3f\", $p / $a }")"
