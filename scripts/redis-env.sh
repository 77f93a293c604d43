# Sourced by scripts/test.sh and scripts/check-floors.sh: starts every Redis topology the tests
# need (scripts/redis.sh: standalone, TLS with an ACL user, a 3-node cluster) and exports where
# they are. Each topology takes at most a few seconds; one already running is reused.
#
#   RESILIENT_REDIS_URL           redis://127.0.0.1:6379/
#   RESILIENT_REDIS_TLS_URL       rediss://user:password@127.0.0.1:6390/
#   RESILIENT_REDIS_TLS_CA        the CA certificate that signed the TLS server's
#   RESILIENT_REDIS_CLUSTER_URLS  the three cluster nodes' URLs, comma-separated
redis_scripts="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
export RESILIENT_REDIS_DIR="${RESILIENT_REDIS_DIR:-${TMPDIR:-/tmp}/resilient-redis-$(id -u)}"

RESILIENT_REDIS_URL="$("$redis_scripts/redis.sh")"
# scripts/redis.sh prints the URL and nothing else; stop here, once, if it printed anything more.
if ! [[ "$RESILIENT_REDIS_URL" =~ ^(redis|rediss|redis\+unix|unix)://[^[:space:]]+$ ]]; then
    printf 'scripts/redis.sh printed this on stdout instead of only a Redis URL:\n%s\n' \
        "$RESILIENT_REDIS_URL" >&2
    exit 1
fi
export RESILIENT_REDIS_URL
RESILIENT_REDIS_TLS_URL="$("$redis_scripts/redis.sh" tls)"
export RESILIENT_REDIS_TLS_URL
export RESILIENT_REDIS_TLS_CA="$RESILIENT_REDIS_DIR/tls/ca.crt"
RESILIENT_REDIS_CLUSTER_URLS="$("$redis_scripts/redis.sh" cluster)"
export RESILIENT_REDIS_CLUSTER_URLS
echo "redis: $RESILIENT_REDIS_URL; tls: ${RESILIENT_REDIS_TLS_URL%%://*}://***@${RESILIENT_REDIS_TLS_URL##*@}; cluster: $RESILIENT_REDIS_CLUSTER_URLS"
