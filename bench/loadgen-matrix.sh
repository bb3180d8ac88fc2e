#!/usr/bin/env bash
# Runs examples/loadgen against smtp-fixture (sink and DebuggingServer with
# stdout to /dev/null) and, when installed, Postfix's smtp-sink: 1, 10 and 50
# sessions, keep and new connections, a fresh server per scenario, RUNS runs
# each; prints a table of medians. Loopback only; every run is bounded by
# MESSAGES and CAP.
#
#   bench/loadgen-matrix.sh
#   RUNS=1 MESSAGES=5000 SESSIONS="1 10" bench/loadgen-matrix.sh
#   PIPELINE=1 bench/loadgen-matrix.sh      # loadgen --pipeline (used only where announced)
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
TARGET="${CARGO_TARGET_DIR:-$ROOT/target}"
OUT="${OUT:-$ROOT/bench/results/loadgen-$(date +%Y%m%d-%H%M%S)}"
RUNS="${RUNS:-3}"
MESSAGES="${MESSAGES:-20000}"
CAP="${CAP:-60s}"
SESSIONS="${SESSIONS:-1 10 50}"
MODES="${MODES:-keep new}"
SERVERS="${SERVERS:-ours-sink ours-debug smtp-sink}"
PIPELINE="${PIPELINE:-}"

# The binary is built alone: built in one command with an example, it would get
# the dev-dependencies' features (tokio's test-util) that a user's
# `cargo run --release --features cli` does not.
(cd "$ROOT" && cargo build -q --release --features cli --bin smtp-fixture && cargo build -q --release --example loadgen)
OURS="$TARGET/release/smtp-fixture"
LOADGEN="$TARGET/release/examples/loadgen"
SINK="$(command -v smtp-sink || echo /usr/sbin/smtp-sink)"
mkdir -p "$OUT"

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

start_server() { # name port -> sets PID
    case $1 in
        ours-sink) "$OURS" -c SmtpServer "127.0.0.1:$2" >/dev/null 2>>"$OUT/server.log" & ;;
        ours-debug) "$OURS" -c DebuggingServer "127.0.0.1:$2" >/dev/null 2>>"$OUT/server.log" & ;;
        smtp-sink) "$SINK" -u nobody "127.0.0.1:$2" 1024 >/dev/null 2>>"$OUT/server.log" & ;;
        *) echo "unknown server $1" >&2; exit 2 ;;
    esac
    PID=$!
    for _ in $(seq 1 3000); do
        if (exec 3<>"/dev/tcp/127.0.0.1/$2") 2>/dev/null; then return 0; fi
        kill -0 "$PID" 2>/dev/null || { echo "$1 exited" >&2; exit 1; }
        sleep 0.01
    done
    echo "$1: port $2 not open" >&2
    kill "$PID"
    exit 1
}

stop_server() {
    kill "$PID" 2>/dev/null || true
    wait "$PID" 2>/dev/null || true
}

status=0
for server in $SERVERS; do
    if [[ $server == smtp-sink && ! -x $SINK ]]; then
        echo "skipping smtp-sink: not installed (bench/compare.sh installs it)" >&2
        continue
    fi
    for mode in $MODES; do
        for sessions in $SESSIONS; do
            for run in $(seq 1 "$RUNS"); do
                port="$(free_port)"
                start_server "$server" "$port"
                # The probe connection above must not count: give it time to go.
                sleep 0.1
                set +e
                "$LOADGEN" --addr "127.0.0.1:$port" --sessions "$sessions" --messages "$MESSAGES" \
                    --mode "$mode" --duration-cap "$CAP" --server-pid "$PID" ${PIPELINE:+--pipeline} \
                    >"$OUT/$server-$mode-s$sessions-r$run.txt"
                rc=$?
                set -e
                stop_server
                line="$(grep '^RESULT' "$OUT/$server-$mode-s$sessions-r$run.txt")"
                echo "server=$server run=$run rc=$rc ${line#RESULT }" | tee -a "$OUT/results.txt" >&2
                [[ $rc == 0 ]] || status=1
            done
        done
    done
done

python3 - "$OUT/results.txt" <<'PY' | tee "$OUT/table.md"
import statistics, sys
rows = {}
for line in open(sys.argv[1]):
    kv = dict(f.split("=", 1) for f in line.split())
    rows.setdefault((kv["server"], kv["mode"], int(kv["sessions"])), []).append(kv)
def med(rs, key, spec):
    xs = [float(r[key]) for r in rs if r[key] not in ("-", "NaN")]
    return (spec.format(statistics.median(xs)) + (f" ({spec.format(min(xs))}–{spec.format(max(xs))})" if len(xs) > 1 else "")) if xs else "-"
print("| server | mode | sessions | msg/s | MB/s | p50 ms | p99 ms | max ms | server CPU s/10k | client CPU s/10k | failed runs |")
print("|---|---|---|---|---|---|---|---|---|---|---|")
for (server, mode, s), rs in rows.items():
    bad = sum(r["rc"] != "0" for r in rs)
    print(f"| {server} | {mode.lower()} | {s} | {med(rs,'msg_per_s','{:.0f}')} | {med(rs,'mb_per_s','{:.1f}')} | "
          f"{med(rs,'p50_ms','{:.3f}')} | {med(rs,'p99_ms','{:.3f}')} | {med(rs,'max_ms','{:.1f}')} | "
          f"{med(rs,'server_cpu_per_10k','{:.2f}')} | {med(rs,'client_cpu_per_10k','{:.2f}')} | {bad}/{len(rs)} |")
PY
exit $status
