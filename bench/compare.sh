#!/usr/bin/env bash
# Compare smtp-fixture (sink mode) with Postfix's smtp-sink and a raw
# loopback TCP sink, using the shared harness ../shared/bench/smtpbench.py
# (beside the repository; HARNESS=path overrides it). Postfix's smtp-source
# is the load generator for every server.
#
#   bench/compare.sh                      # defaults below
#   RUNS=1 ROUNDS=3 TIMEOUT=20 bench/compare.sh    # quicker
#   ONLY=tput bench/compare.sh            # only the 1 KiB throughput scenarios
#   ROUNDS=5                              # paired throughput rounds (each: both servers, every scenario once)
#   DEBUG_SERVER=1 bench/compare.sh       # also the DebuggingServer (stdout to /dev/null)
#   BIG_RUNS=5                            # runs of the loadgen 32 MiB measurement
#   FLOOR=0 bench/compare.sh              # without the minimal floor (bench/minimal_sink.c)
#
# The throughput rounds also measure bench/minimal_sink.c, built here with
# gcc: canned replies and nothing else, the least CPU any sink can spend on
# smtp-source's lockstep dialogue. Its ratio to smtp-sink shows which of the
# issue's CPU ceilings a server can reach on this machine at all.
#
# The report ends with bench/ratios.py (ours / smtp-sink per scenario, the
# issue's floors marked) and bench/big_message.py --report (one 32 MiB
# message by loadgen against the raw loopback rate of the same run).
#
# Why:
# * Every server runs in the same invocation, on the same machine, one after
#   the other, so the ratios between them mean something even on a shared,
#   noisy machine; absolute figures do not travel.
# * Every load run is bounded by a message count (MESSAGES) and a time cap
#   per run (TIMEOUT, seconds); a capped run is marked '*' in the report.
# * Only 127.0.0.1 is used.
# * If the script had to install postfix and the package started its master
#   daemon, the script stops it again: we need the two tools, not a mail
#   system.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
HARNESS="${HARNESS:-$ROOT/../shared/bench/smtpbench.py}"
OUT="${OUT:-$ROOT/bench/results/$(date +%Y%m%d-%H%M%S)}"
RUNS="${RUNS:-3}"
TIMEOUT="${TIMEOUT:-30}"
MESSAGES="${MESSAGES:-20000}"
ONLY="${ONLY:-}"
TARGET="${CARGO_TARGET_DIR:-$ROOT/target}"

log() { printf '== %s\n' "$*" >&2; }

master_pids() {
    # The postfix master daemon, if any (by its pid file, not by name).
    local pidfile=/var/spool/postfix/pid/master.pid
    if [[ -r $pidfile ]]; then
        local pid
        pid="$(tr -dc '0-9' <"$pidfile")"
        if [[ -n $pid ]] && kill -0 "$pid" 2>/dev/null; then
            echo "$pid"
        fi
    fi
}

find_tool() {
    command -v "$1" 2>/dev/null || { [[ -x /usr/sbin/$1 ]] && echo "/usr/sbin/$1"; } || true
}

install_tools() {
    local before
    before="$(master_pids)"
    log "installing postfix (for smtp-sink/smtp-source) and socat"
    echo "postfix postfix/main_mailer_type select No configuration" | debconf-set-selections
    if ! DEBIAN_FRONTEND=noninteractive apt-get install -y -q postfix socat; then
        log "apt-get install failed; trying again after apt-get update"
        apt-get update -q || true
        if ! DEBIAN_FRONTEND=noninteractive apt-get install -y -q postfix socat; then
            log "apt cannot install postfix/socat: no smtp-source, so no comparison"
            exit 1
        fi
    fi
    local after
    after="$(master_pids)"
    if [[ -n $after && -z $before ]]; then
        log "stopping the postfix master the package started (pid $after)"
        postfix stop >/dev/null 2>&1 || kill "$after" 2>/dev/null || true
    fi
}

SOURCE="$(find_tool smtp-source)"
SINK="$(find_tool smtp-sink)"
SOCAT="$(find_tool socat)"
if [[ -z $SOURCE || -z $SINK || -z $SOCAT ]]; then
    install_tools
    SOURCE="$(find_tool smtp-source)"
    SINK="$(find_tool smtp-sink)"
    SOCAT="$(find_tool socat)"
fi
[[ -n $SOURCE && -n $SINK && -n $SOCAT ]] || { log "smtp-source/smtp-sink/socat still missing"; exit 1; }
export SMTP_SOURCE="$SOURCE"

log "building smtp-fixture and examples/loadgen (release) into $TARGET"
# The binary is built alone: built in one command with an example, it would get
# the dev-dependencies' features (tokio's test-util) that a user's
# `cargo run --release --features cli` does not.
(cd "$ROOT" && cargo build --release --features cli --bin smtp-fixture && cargo build --release --example loadgen)
OURS="$TARGET/release/smtp-fixture"
LOADGEN="$TARGET/release/examples/loadgen"
FLOOR_BIN=""
if [[ ${FLOOR:-1} != 0 ]]; then
    if command -v gcc >/dev/null; then
        FLOOR_BIN="$TARGET/release/minimal_sink"
        gcc -O2 -Wall -o "$FLOOR_BIN" "$ROOT/bench/minimal_sink.c"
    else
        log "no gcc: the rounds run without the minimal floor"
    fi
fi

mkdir -p "$OUT"
ROUNDS="${ROUNDS:-5}"
log "results in $OUT (runs $RUNS, throughput rounds $ROUNDS, time cap ${TIMEOUT}s per run, $MESSAGES messages per run)"
# Which scenarios go where: start-up and large messages run once per server
# (RUNS runs each); the 1 KiB throughput scenarios run in paired rounds.
main_only="startup,big" tput_only="tput"
if [[ -n $ONLY ]]; then
    main_only="" tput_only=""
    IFS=, read -ra wanted <<<"$ONLY"
    for item in "${wanted[@]}"; do
        case $item in
            tput|conn-*|keep-*) tput_only+="${tput_only:+,}$item" ;;
            *) main_only+="${main_only:+,}$item" ;;
        esac
    done
fi
common=(--runs "$RUNS" --timeout "$TIMEOUT" --messages "$MESSAGES")

if [[ -n $main_only ]]; then
    python3 "$HARNESS" "${common[@]}" --out "$OUT" --only "$main_only" smtp-fixture "$OURS -c SmtpServer 127.0.0.1:{port}" >/dev/null
    python3 "$HARNESS" "${common[@]}" --out "$OUT" --only "$main_only" smtp-sink "$SINK -u nobody 127.0.0.1:{port} 1024" >/dev/null
    # The raw anchor only runs the large-message scenarios (and startup).
    python3 "$HARNESS" "${common[@]}" --out "$OUT" --only "$main_only" --raw loopback \
        "$SOCAT -u TCP-LISTEN:{port},bind=127.0.0.1,reuseaddr,fork OPEN:/dev/null" >/dev/null
fi

# Throughput in paired rounds: each round runs every scenario once against
# each server, back to back, the order rotated every round. The machine's
# speed drifts (it is shared) by more than the differences we measure; a
# ratio taken within one round compares the two servers under the same
# conditions, and the median of the rounds' ratios is what bench/ratios.py
# reports.
if [[ -n $tput_only ]]; then
    servers=("smtp-fixture|$OURS -c SmtpServer 127.0.0.1:{port}" "smtp-sink|$SINK -u nobody 127.0.0.1:{port} 1024")
    if [[ -n $FLOOR_BIN ]]; then
        servers+=("minimal-floor|$FLOOR_BIN 127.0.0.1 {port}")
    fi
    if [[ -n ${DEBUG_SERVER:-} ]]; then
        servers+=("smtp-fixture-debug|$OURS -c DebuggingServer 127.0.0.1:{port}")
    fi
    for ((round = 1; round <= ROUNDS; round++)); do
        # Rotate the order every round, so no server always runs first.
        order=()
        for ((i = 0; i < ${#servers[@]}; i++)); do
            order+=("${servers[(i + round - 1) % ${#servers[@]}]}")
        done
        log "throughput round $round of $ROUNDS"
        for entry in "${order[@]}"; do
            python3 "$HARNESS" --runs 1 --timeout "$TIMEOUT" --messages "$MESSAGES" \
                --out "$OUT/rounds/$round" --only "$tput_only" "${entry%%|*}" "${entry#*|}" >/dev/null
        done
    done
fi

# One 32 MiB message again, with a client whose message is ready before the
# clock starts, as the raw anchor's is (smtp-source builds its 32 MiB after it
# starts, before it connects: see bench/big_message.py).
if [[ -z $ONLY || ,$ONLY, == *,big,* || ,$ONLY, == *,big-1x32MiB,* ]]; then
    big=(--out "$OUT" --runs "${BIG_RUNS:-5}" --loadgen "$LOADGEN")
    python3 "$ROOT/bench/big_message.py" "${big[@]}" smtp-fixture "$OURS -c SmtpServer 127.0.0.1:{port}"
    python3 "$ROOT/bench/big_message.py" "${big[@]}" smtp-sink "$SINK -u nobody 127.0.0.1:{port} 1024"
fi

{
    python3 "$HARNESS" --report "$OUT"
    python3 "$ROOT/bench/ratios.py" "$OUT"
    if compgen -G "$OUT/big-loadgen-*.json" >/dev/null; then
        python3 "$ROOT/bench/big_message.py" --report "$OUT" --raw "$OUT"
    fi
} | tee "$OUT/report.md"
