#!/usr/bin/env bash
# Runs every fuzz target for a bounded time: fuzz/run.sh [SECONDS] (30 each
# by default). Needs a nightly toolchain; installs cargo-fuzz when missing.
# New inputs go to a scratch corpus, so fuzz/corpus/ (the committed seeds)
# stays as it is. A crash stops the script with libFuzzer's report and the
# input under fuzz/artifacts/<target>/. A long campaign: docs/fuzzing.md.
set -euo pipefail
cd "$(dirname "$0")"
SECONDS_EACH="${1:-30}"
CARGO_FUZZ_VERSION=0.13.2
TARGETS=(session auth address_params reply_command bdat proxy_header search_query)

if ! cargo +nightly --version >/dev/null 2>&1; then
  echo "fuzz: SKIPPED: no nightly toolchain (rustup toolchain install nightly)" >&2
  exit 0
fi
if ! cargo fuzz --version >/dev/null 2>&1; then
  echo "fuzz: installing cargo-fuzz $CARGO_FUZZ_VERSION" >&2
  if ! cargo install cargo-fuzz --version "$CARGO_FUZZ_VERSION" --locked >/dev/null 2>&1; then
    echo "fuzz: SKIPPED: cargo-fuzz $CARGO_FUZZ_VERSION could not be installed" >&2
    exit 0
  fi
fi

# The crate forbids unsafe code, so no sanitizer: more executions per second.
# Debug assertions stay on (overflow checks). FUZZ_SANITIZER=address to change.
SANITIZER="${FUZZ_SANITIZER:-none}"
# FUZZ_PROFILE=dev builds without optimizations: a third of the build's
# time, for many fewer executions a second; what .ci/run's short runs use
# (they replay the committed corpus and mutate it for seconds). A
# campaign keeps the optimized default.
PROFILE_FLAG=()
if [ "${FUZZ_PROFILE:-release}" = dev ]; then
  PROFILE_FLAG=(--dev)
fi
cargo +nightly fuzz build "${PROFILE_FLAG[@]}" -s "$SANITIZER"

SCRATCH="$(mktemp -d)"
trap 'rm -rf "$SCRATCH"' EXIT
for target in "${TARGETS[@]}"; do
  mkdir -p "$SCRATCH/$target" "corpus/$target"
  echo "fuzz: $target for ${SECONDS_EACH}s" >&2
  cargo +nightly fuzz run "${PROFILE_FLAG[@]}" -s "$SANITIZER" "$target" "$SCRATCH/$target" "corpus/$target" -- \
    -max_total_time="$SECONDS_EACH" -timeout=10 -rss_limit_mb=4096 -max_len=16384 \
    -dict=smtp.dict -print_final_stats=1 2>"$SCRATCH/$target.log" || {
    tail -n 80 "$SCRATCH/$target.log" >&2
    echo "fuzz: $target FAILED (input saved under fuzz/artifacts/$target/)" >&2
    exit 1
  }
  grep -E '^stat::(number_of_executed_units|peak_rss_mb)|^#[0-9]+.*DONE' "$SCRATCH/$target.log" | sed "s/^/fuzz: $target: /" >&2
done
echo "fuzz: all ${#TARGETS[@]} targets ran ${SECONDS_EACH}s each without a failure" >&2
