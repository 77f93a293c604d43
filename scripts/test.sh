#!/usr/bin/env bash
# The whole test suite, in one command: starts the services the tests need (a local
# redis-server, installed from Debian's packages when missing, plus a TLS one and a 3-node
# cluster), runs every test of the
# workspace with every feature, then the loom model of the circuit breaker.
#
#   scripts/test.sh            # everything
#   scripts/test.sh --no-loom  # skip the loom model (it builds the crate a second time)
set -euo pipefail
cd "$(dirname "$0")/.."

RESILIENT_REDIS_URL="$(scripts/redis.sh)"
# scripts/redis.sh prints the URL and nothing else; stop here, once, if it printed anything more.
if ! [[ "$RESILIENT_REDIS_URL" =~ ^(redis|rediss|redis\+unix|unix)://[^[:space:]]+$ ]]; then
    printf 'scripts/redis.sh printed this on stdout instead of only a Redis URL:\n%s\n' \
        "$RESILIENT_REDIS_URL" >&2
    exit 1
fi
export RESILIENT_REDIS_URL
echo "redis: $RESILIENT_REDIS_URL"
# The other topologies the Redis tests need: a TLS server with an ACL user (its CA certificate
# beside the files scripts/redis.sh keeps) and a 3-node Redis Cluster. Both take seconds.
export RESILIENT_REDIS_DIR="${RESILIENT_REDIS_DIR:-$PWD/target/redis}"
RESILIENT_REDIS_TLS_URL="$(scripts/redis.sh tls)"
export RESILIENT_REDIS_TLS_URL
export RESILIENT_REDIS_TLS_CA="$RESILIENT_REDIS_DIR/tls/ca.crt"
RESILIENT_REDIS_CLUSTER_URLS="$(scripts/redis.sh cluster)"
export RESILIENT_REDIS_CLUSTER_URLS
echo "redis tls: ${RESILIENT_REDIS_TLS_URL/:*@/:***@}, cluster: $RESILIENT_REDIS_CLUSTER_URLS"

cargo test --workspace --all-features

if [ "${1:-}" != "--no-loom" ]; then
    # loom explores every interleaving of the breaker's atomics; it needs its own cfg, so its
    # own target directory keeps the main build cached.
    RUSTFLAGS="--cfg resilient_loom" CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-target}/loom" \
        cargo test -p resilient-runtime --release --lib breaker::loom
fi
