#!/usr/bin/env bash
# Makes sure a Redis answers for the Redis idempotency tests and prints its URL, which the tests
# read from RESILIENT_REDIS_URL:
#
#   RESILIENT_REDIS_URL="$(scripts/redis.sh)"    # standalone on 127.0.0.1:${RESILIENT_REDIS_PORT:-6379}
#
# Installs redis-server with apt-get when it is missing and starts a scratch server when nothing
# answers on the port; does nothing else when Redis already answers, so it is safe to run any
# number of times. stdout carries the URL and nothing else, whatever had to be installed: every
# command runs with its stdout sent to stderr (`main "$@" >&2` below), and the URL is printed
# last, once Redis answers. `.ci/run` checks this on every run (scripts/check-redis-fresh.sh).
#
# Topologies are functions named `topology_<name>` that leave the URL in $url; the first argument
# picks one (only `standalone` today).
set -euo pipefail

port="${RESILIENT_REDIS_PORT:-6379}"
url=""

# Installs redis-server (with redis-tools) from the distribution's packages.
install_redis() {
    if ! command -v apt-get >/dev/null 2>&1; then
        echo "redis-server is not installed and apt-get is not available: install Redis, or point" \
            "RESILIENT_REDIS_URL at a running one" >&2
        exit 1
    fi
    echo "redis-server not found; installing it with apt-get" >&2
    local sudo=""
    if [ "$(id -u)" -ne 0 ]; then sudo="sudo"; fi
    $sudo apt-get update
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y redis-server
    if ! command -v redis-server >/dev/null 2>&1; then
        echo "apt-get install redis-server succeeded but redis-server is still not on PATH" >&2
        exit 1
    fi
}

# Whether a Redis answers PING on 127.0.0.1:$1 (bash's /dev/tcp, so no redis-cli is needed).
answers() {
    local reply=""
    # In a subshell, so the connection closes whatever happens.
    reply="$(
        exec 2>/dev/null
        exec 4<>"/dev/tcp/127.0.0.1/$1" || exit 0
        printf 'PING\r\n' >&4
        IFS= read -r -t 2 line <&4 && printf '%s' "$line"
    )" || true
    [ "${reply%$'\r'}" = "+PONG" ]
}

# Waits up to ten seconds for a Redis to answer on 127.0.0.1:$1.
wait_until_answers() {
    local i
    for ((i = 0; i < 100; i++)); do
        answers "$1" && return 0
        sleep 0.1
    done
    echo "redis-server did not answer on 127.0.0.1:$1" >&2
    exit 1
}

# One redis-server on 127.0.0.1:$port, started as a scratch daemon when nothing answers there.
topology_standalone() {
    if ! answers "$port"; then
        command -v redis-server >/dev/null 2>&1 || install_redis
        # The package may have started its own service on the default port.
        if ! answers "$port"; then
            # No persistence: the tests only need a scratch server.
            redis-server --port "$port" --bind 127.0.0.1 --daemonize yes --save '' --appendonly no
        fi
        wait_until_answers "$port"
    fi
    url="redis://127.0.0.1:${port}/"
}

main() {
    local topology="${1:-standalone}"
    if ! declare -F "topology_${topology}" >/dev/null; then
        echo "unknown Redis topology '${topology}' (known: standalone)" >&2
        exit 2
    fi
    "topology_${topology}"
}

main "$@" >&2
printf '%s\n' "$url"
