#!/usr/bin/env bash
# Writes docs/public-api.txt: the crate's public API, one line per item, under
# a header with the counts per audience (see tools/public_api.py for what
# counts; an item under two paths fails it).
# `tools/public-api.sh --check` fails when docs/public-api.txt is out of date.
#
# rustdoc's JSON output is unstable: the stable toolchain's rustdoc is let
# give it (RUSTC_BOOTSTRAP for rustdoc alone, through a wrapper, so that
# the dependencies are the ones `cargo clippy` and `cargo doc` checked with
# the same features, not a second build under nightly).
set -euo pipefail
cd "$(dirname "$0")/.."
target=${CARGO_TARGET_DIR:-target}
wrapper=$(mktemp)
trap 'rm -f "$wrapper"' EXIT
printf '#!/bin/sh\nRUSTC_BOOTSTRAP=1 exec rustdoc "$@"\n' > "$wrapper"
chmod +x "$wrapper"
RUSTDOC="$wrapper" cargo rustdoc -q --lib --features "$(bash tools/all-features.sh)" -- -Z unstable-options --output-format json
listing=$(python3 tools/public_api.py "$target/doc/smtp_fixture.json")
if [ "${1:-}" = "--check" ]; then
  if ! diff -u docs/public-api.txt <(printf '%s\n' "$listing"); then
    echo "public-api: docs/public-api.txt is out of date; run tools/public-api.sh" >&2
    exit 1
  fi
else
  printf '%s\n' "$listing" > docs/public-api.txt
  head -n 4 docs/public-api.txt
fi
