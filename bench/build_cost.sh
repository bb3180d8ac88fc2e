#!/usr/bin/env bash
# What the fixture costs a user's build: a scratch app that already sends mail
# with lettre (tokio + rustls), with one test file, built clean three ways:
#
#   without   the app alone
#   default   + smtp-fixture as a dev-dependency, default features (tls)
#   no-tls    + smtp-fixture as a dev-dependency, default-features = false
#
# For each: the crates `cargo test --no-run` compiles (its "Compiling" lines,
# the app itself not counted, so smtp-fixture counts as one of the crates it
# adds) and the wall time of that clean build.
#
#   bench/build_cost.sh              # 3 rounds
#   ROUNDS=1 bench/build_cost.sh     # quicker
#   TIMINGS=1 bench/build_cost.sh    # also keep cargo's --timings report of
#                                    # the last round of each build
#
# Why it is built this way:
# * Shared nothing: every build has a fresh CARGO_TARGET_DIR (under the
#   repository's target/, removed at the end). Only the download cache is
#   shared, and everything is fetched before the first timed build.
# * The machine is shared and noisy: the three builds run in paired rounds,
#   in a rotating order, and the table shows medians (and each round's
#   figures); `uptime` before and after says how loaded the machine was.
# * The fixture is a path dependency here, but a crate from the registry is
#   built without incremental compilation: CARGO_INCREMENTAL=0 for every build
#   makes the path dependency cost what the published crate would.
# * The app is what a tokio program that mails needs: lettre with builder,
#   smtp-transport, hostname, tokio1 and tokio1-rustls-tls (rustls with ring
#   and webpki-roots), and tokio with macros and rt-multi-thread (for
#   `#[tokio::main]` and `#[tokio::test]`).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
ROUNDS="${ROUNDS:-3}"
TIMINGS="${TIMINGS:-0}"
WORK="$ROOT/target/build-cost"
KINDS=(without default no-tls)

command -v /usr/bin/time >/dev/null || { echo "bench/build_cost.sh needs GNU time (apt-get install time)" >&2; exit 1; }
rm -rf "$WORK"
mkdir -p "$WORK"
trap 'rm -rf "$WORK"' EXIT

log() { printf '== %s\n' "$*" >&2; }

make_app() {
    local kind=$1 dir="$WORK/app-$1"
    mkdir -p "$dir/src" "$dir/tests"
    cat >"$dir/Cargo.toml" <<EOF
[package]
name = "mailing-app"
version = "0.1.0"
edition = "2021"
publish = false

[workspace]

[dependencies]
lettre = { version = "0.11.23", default-features = false, features = ["builder", "smtp-transport", "hostname", "tokio1", "tokio1-rustls-tls"] }
tokio = { version = "1", features = ["macros", "rt-multi-thread"] }
EOF
    case $kind in
        default) printf '\n[dev-dependencies]\nsmtp-fixture = { path = "%s" }\n' "$ROOT" >>"$dir/Cargo.toml" ;;
        no-tls) printf '\n[dev-dependencies]\nsmtp-fixture = { path = "%s", default-features = false }\n' "$ROOT" >>"$dir/Cargo.toml" ;;
    esac
    cat >"$dir/src/lib.rs" <<'EOF'
//! The part of an app that mails.
use lettre::message::Mailbox;
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};

pub fn welcome(to: &str) -> Message {
    Message::builder()
        .from("shop@example.com".parse::<Mailbox>().unwrap())
        .to(to.parse::<Mailbox>().unwrap())
        .subject("Welcome")
        .body(String::from("Hello and welcome"))
        .unwrap()
}

pub async fn send_welcome(host: &str, port: u16, to: &str) -> Result<(), lettre::transport::smtp::Error> {
    let mailer = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(host).port(port).build();
    mailer.send(welcome(to)).await.map(|_| ())
}
EOF
    if [[ $kind == without ]]; then
        cat >"$dir/tests/mail.rs" <<'EOF'
#[tokio::test]
async fn welcome_is_addressed() {
    let message = mailing_app::welcome("ann@example.com");
    let text = String::from_utf8(message.formatted()).unwrap();
    assert!(text.contains("To: ann@example.com"));
}
EOF
    else
        cat >"$dir/tests/mail.rs" <<'EOF'
use smtp_fixture::TestSmtpServer;

#[tokio::test]
async fn welcome_is_sent() {
    let server = TestSmtpServer::start();
    mailing_app::send_welcome(&server.host(), server.port(), "ann@example.com").await.unwrap();
    let message = server.wait_for_messages_async(1).await.remove(0);
    assert_eq!(message.envelope.rcpt_to, ["ann@example.com"]);
}
EOF
    fi
}

for kind in "${KINDS[@]}"; do
    make_app "$kind"
    log "fetching for $kind"
    (cd "$WORK/app-$kind" && cargo fetch -q)
done

# One clean build; prints "CRATES WALL_SECONDS CPU_SECONDS" (CPU: user +
# system of cargo and every compiler it ran).
build() {
    local kind=$1 round=$2 dir="$WORK/app-$1" target="$WORK/target-$1"
    local extra=()
    [[ $TIMINGS == 1 && $round == "$ROUNDS" ]] && extra=(--timings)
    rm -rf "$target"
    local start end
    start=$(date +%s.%N)
    /usr/bin/time -f '%U %S' -o "$WORK/cpu-$kind" \
        env -C "$dir" CARGO_TARGET_DIR="$target" CARGO_INCREMENTAL=0 \
        cargo test --no-run --offline --color never "${extra[@]}" 2>"$WORK/log-$kind"
    end=$(date +%s.%N)
    if [[ $TIMINGS == 1 && $round == "$ROUNDS" ]]; then
        mkdir -p "$ROOT/target/build-cost-timings"
        cp "$target"/cargo-timings/cargo-timing.html "$ROOT/target/build-cost-timings/$kind.html"
    fi
    local crates
    crates=$(grep -E '^\s*Compiling ' "$WORK/log-$kind" | awk '{print $2, $3}' | grep -v '^mailing-app ' | sort -u | wc -l)
    grep -E '^\s*Compiling ' "$WORK/log-$kind" | awk '{print $2, $3}' | grep -v '^mailing-app ' | sort -u >"$WORK/crates-$kind"
    rm -rf "$target"
    echo "$crates $(echo "$end - $start" | bc) $(awk '{print $1 + $2}' "$WORK/cpu-$kind")"
}

declare -A SECONDS_OF CPU_OF CRATES_OF
LOAD_BEFORE=$(uptime)
for ((round = 1; round <= ROUNDS; round++)); do
    # Rotate the order: each kind runs first, second and third in turn.
    order=()
    for ((i = 0; i < ${#KINDS[@]}; i++)); do
        order+=("${KINDS[$(((i + round - 1) % ${#KINDS[@]}))]}")
    done
    for kind in "${order[@]}"; do
        log "round $round: $kind ($(cut -d, -f3- /proc/loadavg 2>/dev/null || uptime))"
        read -r crates secs cpu < <(build "$kind" "$round")
        CRATES_OF[$kind]=$crates
        SECONDS_OF[$kind]="${SECONDS_OF[$kind]:-} $secs"
        CPU_OF[$kind]="${CPU_OF[$kind]:-} $cpu"
        log "round $round: $kind: $crates crates, $secs s wall, $cpu s CPU"
    done
done
LOAD_AFTER=$(uptime)

median() { tr ' ' '\n' | grep -v '^$' | sort -g | awk '{a[NR]=$1} END {if (NR % 2) print a[(NR+1)/2]; else print (a[NR/2]+a[NR/2+1])/2}'; }
# What the fixture adds, in per cent: the median over the rounds of each
# round's own ratio to the app alone (a round's builds ran back to back, so
# a slow minute slows both sides of its ratio).
added_percent() {
    paste -d' ' <(echo "$1" | tr ' ' '\n' | grep -v '^$') <(echo "$2" | tr ' ' '\n' | grep -v '^$') |
        awk '{print ($1 - $2) * 100 / $2}' | tr '\n' ' ' | median
}
each() { for s in $1; do printf '%.0f ' "$s"; done | sed 's/ $//'; }
base_crates=${CRATES_OF[without]}

echo
echo "Clean \`cargo test --no-run\` of a lettre (tokio + rustls) app with one test file, $(date -u '+%Y-%m-%d %H:%M') UTC, $ROUNDS rounds: median (each round)."
echo "\"Added\": the median of the rounds' own ratios to the app alone."
echo
echo "| build | crates compiled | added by the fixture | wall time | added | CPU time (user + system) | added |"
echo "|---|---:|---:|---:|---:|---:|---:|"
for kind in "${KINDS[@]}"; do
    secs=$(echo "${SECONDS_OF[$kind]}" | median)
    cpu=$(echo "${CPU_OF[$kind]}" | median)
    case $kind in
        without) label="the app alone" ;;
        default) label="+ smtp-fixture (default features)" ;;
        no-tls) label="+ smtp-fixture, \`default-features = false\`" ;;
    esac
    if [[ $kind == without ]]; then
        printf '| %s | %d | | %.0f s (%s) | | %.0f s (%s) | |\n' "$label" "${CRATES_OF[$kind]}" \
            "$secs" "$(each "${SECONDS_OF[$kind]}")" "$cpu" "$(each "${CPU_OF[$kind]}")"
    else
        printf '| %s | %d | %+d | %.0f s (%s) | %+.0f %% | %.0f s (%s) | %+.0f %% |\n' "$label" "${CRATES_OF[$kind]}" \
            $((CRATES_OF[$kind] - base_crates)) \
            "$secs" "$(each "${SECONDS_OF[$kind]}")" "$(added_percent "${SECONDS_OF[$kind]}" "${SECONDS_OF[without]}")" \
            "$cpu" "$(each "${CPU_OF[$kind]}")" "$(added_percent "${CPU_OF[$kind]}" "${CPU_OF[without]}")"
    fi
done
echo
echo "Load: before: ${LOAD_BEFORE#*load average: }; after: ${LOAD_AFTER#*load average: } (load average, 2 cores)."
for kind in default no-tls; do
    echo
    echo "Crates added with $kind: $(comm -13 "$WORK/crates-without" "$WORK/crates-$kind" | awk '{print $1}' | tr '\n' ' ')"
done
