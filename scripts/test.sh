#!/usr/bin/env bash
# The whole test suite, in one command: starts the services the tests need (a local
# redis-server, installed from Debian's packages when missing, plus a TLS one and a 3-node
# cluster), runs every test of the
# workspace with every feature, then the loom models of the circuit breaker and the bulkhead.
#
#   scripts/test.sh            # everything
#   scripts/test.sh --no-loom  # skip the loom model (it builds the crate a second time)
set -euo pipefail
cd "$(dirname "$0")/.."

# shellcheck source=scripts/redis-env.sh
source scripts/redis-env.sh

cargo test --workspace --all-features
# Recognising "no recorder installed" compares vtables, which only optimised builds merge.
cargo test -p resilient-runtime --release --features metrics --lib observe::metrics

if [ "${1:-}" != "--no-loom" ]; then
    # loom explores every interleaving of the breaker's and the bulkhead's atomics; it needs its own cfg, so its
    # own target directory keeps the main build cached.
    RUSTFLAGS="--cfg resilient_loom" CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-target}/loom" \
        cargo test -p resilient-runtime --release --lib loom
fi
