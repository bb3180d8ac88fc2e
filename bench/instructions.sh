#!/usr/bin/env bash
# User-space instructions per message, counted by valgrind's callgrind, for
# smtp-fixture (sink mode), the test fixture (a TestSmtpServer recording
# every message and transcript: examples/fixture_sink.rs), Postfix's
# smtp-sink and the minimal floor (bench/minimal_sink.c), with smtp-source
# as the load.
#
#   bench/instructions.sh              # 500 and 2 500 messages, one session
#   FEW=200 MANY=1200 bench/instructions.sh
#   ROWS='smtp-fixture|fixture' bench/instructions.sh   # only rows whose name matches
#
# Why: CPU seconds on a shared machine drift by ±30 % from one minute to the
# next; instruction counts do not (the same binary and input give the same
# count). They only see user space, though: the kernel's share (most of a
# sink's CPU, see the README) is not in them.
#
# Each server runs twice, with FEW and with MANY messages; the difference
# divided by MANY - FEW is the cost of one message without the start-up.
# Run bench/compare.sh first (or have postfix installed): it needs
# smtp-source and smtp-sink. Only 127.0.0.1 is used.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
TARGET="${CARGO_TARGET_DIR:-$ROOT/target}"
FEW="${FEW:-500}"
ROWS="${ROWS:-.}"
MANY="${MANY:-2500}"
SOURCE="$(command -v smtp-source || echo /usr/sbin/smtp-source)"
SINK="$(command -v smtp-sink || echo /usr/sbin/smtp-sink)"
[[ -x $SOURCE && -x $SINK ]] || { echo "smtp-source/smtp-sink missing: run bench/compare.sh once" >&2; exit 1; }
command -v valgrind >/dev/null || { echo "valgrind missing" >&2; exit 1; }

# The binary is built alone: built in one command with an example, it would get
# the dev-dependencies' features (tokio's test-util) that a user's
# `cargo run --release --features cli` does not. Profile `profiling` is
# release with line tables, so that callgrind's output names functions and
# lines (plain release, what `cargo install` builds, has no debug info).
(cd "$ROOT" && cargo build --profile profiling --features cli --bin smtp-fixture >&2 && cargo build --profile profiling --example fixture_sink >&2)
mkdir -p "$TARGET/release"
FLOOR_BIN="$TARGET/release/minimal_sink"
gcc -O2 -Wall -o "$FLOOR_BIN" "$ROOT/bench/minimal_sink.c"

# smtp-sink drops to the user 'nobody' after binding; callgrind writes its
# file at exit, so the file must be writable by that user.
WORK="$(mktemp -d)"
chmod 1777 "$WORK"
trap 'rm -rf "$WORK"' EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

# instructions NAME MODE COUNT COMMAND... ({port} in COMMAND is replaced)
instructions() {
    local name=$1 mode=$2 count=$3
    shift 3
    local port out pid
    port="$(free_port)"
    out="$WORK/$name-$mode-$count.out"
    touch "$out"
    chmod 666 "$out"
    valgrind --tool=callgrind --callgrind-out-file="$out" "${@//\{port\}/$port}" >/dev/null 2>&1 &
    pid=$!
    for _ in $(seq 600); do
        (echo >"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break
        sleep 0.05
    done
    local keep=()
    [[ $mode == keep ]] && keep=(-d)
    timeout 300 "$SOURCE" "${keep[@]}" -s 1 -m "$count" -l 1024 -f a@example.com -t b@example.com \
        -M bench.local "127.0.0.1:$port"
    sleep 0.5
    kill -TERM "$pid"
    wait "$pid" 2>/dev/null || true
    awk '/^(summary|totals):/ {print $2; exit}' "$out"
}

printf '| user-space instructions per message (callgrind, %s - %s messages) | kept connection | new connection per message |\n|---|---|---|\n' "$MANY" "$FEW"
for entry in "smtp-fixture|$TARGET/profiling/smtp-fixture -c SmtpServer 127.0.0.1:{port}" \
             "smtp-fixture (fixture: recorder + transcript)|$TARGET/profiling/examples/fixture_sink {port}" \
             "smtp-sink|$SINK -u nobody 127.0.0.1:{port} 1024" \
             "minimal floor|$FLOOR_BIN 127.0.0.1 {port}"; do
    name="${entry%%|*}"
    [[ $name =~ $ROWS ]] || continue
    read -ra command <<<"${entry#*|}"
    cells=()
    for mode in keep conn; do
        few="$(instructions "${name//[^a-z-]/-}" "$mode" "$FEW" "${command[@]}")"
        many="$(instructions "${name//[^a-z-]/-}" "$mode" "$MANY" "${command[@]}")"
        cells+=("$(( (many - few) / (MANY - FEW) ))")
    done
    printf '| %s | %s | %s |\n' "$name" "${cells[0]}" "${cells[1]}"
done
