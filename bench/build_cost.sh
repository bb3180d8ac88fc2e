#!/usr/bin/env bash
# What the fixture costs a user's build: a scratch web app (axum) that sends
# mail with lettre, with one test file, in two flavours:
#
#   rustls    lettre with tokio1-rustls-tls (rustls with ring)
#   native    lettre's default features (native-tls, OpenSSL) + tokio1-native-tls
#
# each built clean three ways:
#
#   without   the app alone
#   default   + smtp-fixture as a dev-dependency, default features
#   no-tls    + smtp-fixture as a dev-dependency, default-features = false
#
# For each: the crates `cargo test --no-run` compiles (its "Compiling" lines,
# the app itself not counted, so smtp-fixture counts as one of the crates it
# adds), the wall time and the CPU time (user + system of cargo and every
# compiler it ran) of that clean build, and whether compiling smtp-fixture
# printed a warning (the app resolves the newest versions, e.g. of rustls:
# a deprecation our own lockfile hides shows here).
#
#   bench/build_cost.sh                   # 3 rounds, both flavours
#   ROUNDS=1 bench/build_cost.sh          # quicker
#   FLAVOURS=rustls bench/build_cost.sh   # one flavour
#   TIMINGS=1 bench/build_cost.sh         # also keep cargo's --timings report of
#                                         # the last round of each build
#
# Why it is built this way:
# * Shared nothing: every build has a fresh CARGO_TARGET_DIR (under the
#   repository's target/, removed at the end). Only the download cache is
#   shared, and everything is fetched before the first timed build.
# * The machine is shared and noisy: the builds of a flavour run in paired
#   rounds, in a rotating order, and the table shows medians (and each
#   round's figures); the "added" columns are medians of each round's own
#   ratio to the app alone. The load average before and after is printed.
# * The fixture is what a user downloads: `cargo package` of the work tree,
#   unpacked once (so editing the tree during a run changes nothing), used
#   as a path dependency. A crate from the registry is built without
#   incremental compilation: CARGO_INCREMENTAL=0 for every build makes the
#   path dependency cost what the published crate would.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
ROUNDS="${ROUNDS:-3}"
TIMINGS="${TIMINGS:-0}"
read -r -a FLAVOURS <<<"${FLAVOURS:-rustls native}"
WORK="$ROOT/target/build-cost"
KINDS=(without default no-tls)

command -v /usr/bin/time >/dev/null || { echo "bench/build_cost.sh needs GNU time (apt-get install time)" >&2; exit 1; }
rm -rf "$WORK"
mkdir -p "$WORK"
trap 'rm -rf "$WORK"' EXIT

log() { printf '== %s\n' "$*" >&2; }

log "packaging smtp-fixture"
(cd "$ROOT" && cargo package --allow-dirty --no-verify --quiet --target-dir "$WORK/package-target" 2>/dev/null)
tar -xzf "$WORK"/package-target/package/smtp-fixture-*.crate -C "$WORK"
FIXTURE=$(echo "$WORK"/smtp-fixture-*/)

make_app() {
    local flavour=$1 kind=$2 dir="$WORK/app-$1-$2" lettre
    mkdir -p "$dir/src" "$dir/tests"
    case $flavour in
        rustls) lettre='{ version = "0.11.23", default-features = false, features = ["builder", "smtp-transport", "hostname", "tokio1", "tokio1-rustls-tls"] }' ;;
        native) lettre='{ version = "0.11.23", features = ["tokio1", "tokio1-native-tls"] }' ;;
    esac
    cat >"$dir/Cargo.toml" <<EOF
[package]
name = "mailing-app"
version = "0.1.0"
edition = "2021"
publish = false

[workspace]

[dependencies]
axum = "0.8"
lettre = $lettre
tokio = { version = "1", features = ["macros", "rt-multi-thread"] }
EOF
    case $kind in
        default) printf '\n[dev-dependencies]\nsmtp-fixture = { path = "%s" }\n' "$FIXTURE" >>"$dir/Cargo.toml" ;;
        no-tls) printf '\n[dev-dependencies]\nsmtp-fixture = { path = "%s", default-features = false }\n' "$FIXTURE" >>"$dir/Cargo.toml" ;;
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

/// The web side: a sign-up form that mails.
pub fn app() -> axum::Router {
    axum::Router::new().route("/signup", axum::routing::post(|| async { "ok" }))
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

for flavour in "${FLAVOURS[@]}"; do
    for kind in "${KINDS[@]}"; do
        make_app "$flavour" "$kind"
        log "fetching for $flavour $kind"
        # No lockfile: the newest versions, as a new app gets them.
        (cd "$WORK/app-$flavour-$kind" && cargo generate-lockfile -q && cargo fetch -q)
    done
done

# One clean build of app $1 (flavour-kind); prints "CRATES WALL_SECONDS
# CPU_SECONDS WARNINGS" (CPU: user + system of cargo and every compiler it
# ran; WARNINGS: warnings compiling smtp-fixture).
build() {
    local app=$1 round=$2 dir="$WORK/app-$1" target="$WORK/target-$1"
    local extra=()
    [[ $TIMINGS == 1 && $round == "$ROUNDS" ]] && extra=(--timings)
    rm -rf "$target"
    local start end
    start=$(date +%s.%N)
    /usr/bin/time -f '%U %S' -o "$WORK/cpu-$app" \
        env -C "$dir" CARGO_TARGET_DIR="$target" CARGO_INCREMENTAL=0 \
        cargo test --no-run --offline --color never "${extra[@]}" 2>"$WORK/log-$app"
    end=$(date +%s.%N)
    if [[ $TIMINGS == 1 && $round == "$ROUNDS" ]]; then
        mkdir -p "$ROOT/target/build-cost-timings"
        cp "$target"/cargo-timings/cargo-timing.html "$ROOT/target/build-cost-timings/$app.html"
    fi
    grep -E '^\s*Compiling ' "$WORK/log-$app" | awk '{print $2, $3}' | grep -v '^mailing-app ' | sort -u >"$WORK/crates-$app"
    local warnings
    warnings=$(grep -cE '^warning: `smtp-fixture`|^warning: use of deprecated' "$WORK/log-$app" || true)
    rm -rf "$target"
    echo "$(wc -l <"$WORK/crates-$app") $(echo "$end - $start" | bc) $(awk '{print $1 + $2}' "$WORK/cpu-$app") $warnings"
}

declare -A SECONDS_OF CPU_OF CRATES_OF WARNINGS_OF
LOAD_BEFORE=$(cut -d' ' -f1-3 /proc/loadavg)
for ((round = 1; round <= ROUNDS; round++)); do
    for flavour in "${FLAVOURS[@]}"; do
        # Rotate the order: each kind runs first, second and third in turn.
        order=()
        for ((i = 0; i < ${#KINDS[@]}; i++)); do
            order+=("${KINDS[$(((i + round - 1) % ${#KINDS[@]}))]}")
        done
        for kind in "${order[@]}"; do
            app="$flavour-$kind"
            log "round $round: $app (load $(cut -d' ' -f1-3 /proc/loadavg))"
            read -r crates secs cpu warnings < <(build "$app" "$round")
            CRATES_OF[$app]=$crates
            WARNINGS_OF[$app]=$warnings
            SECONDS_OF[$app]="${SECONDS_OF[$app]:-} $secs"
            CPU_OF[$app]="${CPU_OF[$app]:-} $cpu"
            log "round $round: $app: $crates crates, $secs s wall, $cpu s CPU, $warnings smtp-fixture warnings"
        done
    done
done
LOAD_AFTER=$(cut -d' ' -f1-3 /proc/loadavg)

median() { tr ' ' '\n' | grep -v '^$' | sort -g | awk '{a[NR]=$1} END {if (NR % 2) print a[(NR+1)/2]; else print (a[NR/2]+a[NR/2+1])/2}'; }
# What the fixture adds, in per cent: the median over the rounds of each
# round's own ratio to the app alone (a round's builds ran back to back, so
# a slow minute slows both sides of its ratio).
added_percent() {
    paste -d' ' <(echo "$1" | tr ' ' '\n' | grep -v '^$') <(echo "$2" | tr ' ' '\n' | grep -v '^$') |
        awk '{print ($1 - $2) * 100 / $2}' | tr '\n' ' ' | median
}
each() { for s in $1; do printf '%.0f ' "$s"; done | sed 's/ $//'; }

echo
echo "Clean \`cargo test --no-run\` of an axum + lettre app with one test file, $(date -u '+%Y-%m-%d %H:%M') UTC, $ROUNDS rounds: median (each round)."
echo "\"Added\": the median of the rounds' own ratios to the app alone. Load average (2 cores): before $LOAD_BEFORE, after $LOAD_AFTER."
echo
echo "| app | build | crates compiled | added by the fixture | wall time | added | CPU time (user + system) | added | smtp-fixture warnings |"
echo "|---|---|---:|---:|---:|---:|---:|---:|---:|"
for flavour in "${FLAVOURS[@]}"; do
    base="$flavour-without"
    case $flavour in
        rustls) app_label="lettre + rustls (ring)" ;;
        native) app_label="lettre defaults (native-tls)" ;;
    esac
    for kind in "${KINDS[@]}"; do
        app="$flavour-$kind"
        secs=$(echo "${SECONDS_OF[$app]}" | median)
        cpu=$(echo "${CPU_OF[$app]}" | median)
        case $kind in
            without) label="the app alone" ;;
            default) label="+ smtp-fixture (default features)" ;;
            no-tls) label="+ smtp-fixture, \`default-features = false\`" ;;
        esac
        if [[ $kind == without ]]; then
            printf '| %s | %s | %d | | %.0f s (%s) | | %.0f s (%s) | | |\n' "$app_label" "$label" "${CRATES_OF[$app]}" \
                "$secs" "$(each "${SECONDS_OF[$app]}")" "$cpu" "$(each "${CPU_OF[$app]}")"
        else
            printf '| %s | %s | %d | **%+d** | %.0f s (%s) | %+.0f %% | %.0f s (%s) | **%+.0f %%** | %d |\n' "$app_label" "$label" "${CRATES_OF[$app]}" \
                $((CRATES_OF[$app] - CRATES_OF[$base])) \
                "$secs" "$(each "${SECONDS_OF[$app]}")" "$(added_percent "${SECONDS_OF[$app]}" "${SECONDS_OF[$base]}")" \
                "$cpu" "$(each "${CPU_OF[$app]}")" "$(added_percent "${CPU_OF[$app]}" "${CPU_OF[$base]}")" \
                "${WARNINGS_OF[$app]}"
        fi
    done
done
for flavour in "${FLAVOURS[@]}"; do
    for kind in default no-tls; do
        echo
        echo "Crates added to the $flavour app with $kind: $(comm -13 "$WORK/crates-$flavour-without" "$WORK/crates-$flavour-$kind" | awk '{print $1}' | tr '\n' ' ')"
    done
done
