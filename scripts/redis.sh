#!/usr/bin/env bash
# Makes sure a local redis-server answers on 127.0.0.1:${RESILIENT_REDIS_PORT:-6379} for the
# Redis idempotency tests, installing and starting it when needed. Safe to run any number of
# times: it does nothing when Redis already answers. Prints the URL the tests read from
# RESILIENT_REDIS_URL.
set -euo pipefail

port="${RESILIENT_REDIS_PORT:-6379}"
url="redis://127.0.0.1:${port}/"

answers() {
    redis-cli -h 127.0.0.1 -p "$port" ping 2>/dev/null | grep -q PONG
}

if ! command -v redis-server >/dev/null 2>&1 || ! command -v redis-cli >/dev/null 2>&1; then
    echo "redis-server not found; installing it with apt-get" >&2
    sudo=""
    if [ "$(id -u)" -ne 0 ]; then sudo="sudo"; fi
    $sudo apt-get update
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y redis-server
fi

if ! answers; then
    # No persistence: the tests only need a scratch server.
    redis-server --port "$port" --bind 127.0.0.1 --daemonize yes --save '' --appendonly no
    for _ in $(seq 1 100); do
        answers && break
        sleep 0.1
    done
fi

if ! answers; then
    echo "redis-server did not answer on 127.0.0.1:${port}" >&2
    exit 1
fi

echo "$url"
