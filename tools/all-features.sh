#!/usr/bin/env bash
# Prints every Cargo feature but `default` and `tls-aws-lc`, comma-separated:
# "everything" for .ci/run and tools/public-api.sh. `tls-aws-lc` swaps
# ring's crypto provider for aws-lc-rs (a C build of aws-lc-sys) and adds
# no public item, so it is built and tested once, on its own (.ci/run).
set -euo pipefail
cd "$(dirname "$0")/.."
sed -n '/^\[features\]/,/^\[/s/^\([a-z0-9-]*\) = .*/\1/p' Cargo.toml | grep -vx -e default -e tls-aws-lc | paste -sd, -
