#!/usr/bin/env bash
# Makes sure a Redis answers for the Redis idempotency tests and prints its URL, which the tests
# read from RESILIENT_REDIS_URL:
#
#   RESILIENT_REDIS_URL="$(scripts/redis.sh)"    # standalone on 127.0.0.1:${RESILIENT_REDIS_PORT:-6379}
#   RESILIENT_REDIS_TLS_URL="$(scripts/redis.sh tls)"
#       # TLS only, on 127.0.0.1:${RESILIENT_REDIS_TLS_PORT:-6390}, AUTH as an ACL user named in
#       # the URL; its CA certificate is $RESILIENT_REDIS_DIR/tls/ca.crt
#   RESILIENT_REDIS_CLUSTER_URLS="$(scripts/redis.sh cluster)"
#       # a 3-primary Redis Cluster on 127.0.0.1:${RESILIENT_REDIS_CLUSTER_PORT:-7001} and the two
#       # ports after it; prints the three URLs on one line, comma-separated
#
# Installs redis-server with apt-get when it is missing and starts a scratch server when nothing
# answers on the port; does nothing else when Redis already answers, so it is safe to run any
# number of times. stdout carries the URL and nothing else, whatever had to be installed: every
# command runs with its stdout sent to stderr (`main "$@" >&2` below), and the URL is printed
# last, once Redis answers. `.ci/run` checks this on every run (scripts/check-redis-fresh.sh).
#
# Topologies are functions named `topology_<name>` that leave the URL in $url; the first argument
# picks one. The TLS and cluster servers keep their files (certificates, generated here with
# openssl and never committed; cluster state) in ${RESILIENT_REDIS_DIR:-/tmp/resilient-redis-<uid>}.
set -euo pipefail

port="${RESILIENT_REDIS_PORT:-6379}"
url=""
# One place per machine user, not per checkout: the servers answer on fixed ports, so every
# checkout must find the CA of the TLS server that is already running.
dir="${RESILIENT_REDIS_DIR:-${TMPDIR:-/tmp}/resilient-redis-$(id -u)}"

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

# A CA and a certificate for 127.0.0.1 signed by it, in $dir/tls (made once, kept for reruns).
make_certificates() {
    local tls="$dir/tls"
    [ -s "$tls/server.crt" ] && [ -s "$tls/ca.crt" ] && return 0
    if ! command -v openssl >/dev/null 2>&1; then
        echo "openssl not found; installing it with apt-get" >&2
        local sudo=""
        if [ "$(id -u)" -ne 0 ]; then sudo="sudo"; fi
        $sudo apt-get update
        DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y openssl
    fi
    mkdir -p "$tls"
    openssl req -x509 -newkey rsa:2048 -nodes -days 3650 -subj "/CN=resilient test CA" \
        -keyout "$tls/ca.key" -out "$tls/ca.crt" 2>/dev/null
    openssl req -newkey rsa:2048 -nodes -subj "/CN=127.0.0.1" \
        -keyout "$tls/server.key" -out "$tls/server.csr" 2>/dev/null
    printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\nbasicConstraints=CA:FALSE\nkeyUsage=digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\n' \
        >"$tls/server.ext"
    openssl x509 -req -in "$tls/server.csr" -CA "$tls/ca.crt" -CAkey "$tls/ca.key" \
        -CAcreateserial -days 3650 -extfile "$tls/server.ext" -out "$tls/server.crt" 2>/dev/null
    chmod 600 "$tls/ca.key" "$tls/server.key"
}

# The ACL user and password of the TLS server (a scratch server on loopback: not a secret).
tls_user="resilient"
tls_password="resilient-test-password"

# Whether the TLS server answers PING as the ACL user.
answers_tls() {
    [ "$(redis-cli --tls --cacert "$dir/tls/ca.crt" -h 127.0.0.1 -p "$1" \
        --user "$tls_user" --pass "$tls_password" --no-auth-warning ping 2>/dev/null)" = "PONG" ]
}

# A redis-server speaking only TLS on 127.0.0.1:$tls_port, with the default user off and one ACL
# user with a password: `rediss://user:password@127.0.0.1:port/`.
topology_tls() {
    local tls_port="${RESILIENT_REDIS_TLS_PORT:-6390}"
    command -v redis-server >/dev/null 2>&1 || install_redis
    make_certificates
    if ! answers_tls "$tls_port"; then
        redis-server --port 0 --tls-port "$tls_port" --bind 127.0.0.1 --daemonize yes \
            --save '' --appendonly no --dir "$dir/tls" --logfile "$dir/tls/redis.log" \
            --tls-cert-file "$dir/tls/server.crt" --tls-key-file "$dir/tls/server.key" \
            --tls-ca-cert-file "$dir/tls/ca.crt" --tls-auth-clients no \
            --user default off \
            --user "$tls_user" on ">$tls_password" '~*' '&*' '+@all'
        local i
        for ((i = 0; i < 100; i++)); do
            answers_tls "$tls_port" && break
            sleep 0.1
        done
        answers_tls "$tls_port" || {
            echo "the TLS redis-server did not answer on 127.0.0.1:$tls_port; its log:" >&2
            cat "$dir/tls/redis.log" >&2 || true
            exit 1
        }
    fi
    url="rediss://${tls_user}:${tls_password}@127.0.0.1:${tls_port}/"
}

# Whether the cluster on these ports says cluster_state:ok.
cluster_ok() {
    redis-cli -h 127.0.0.1 -p "$1" cluster info 2>/dev/null | grep -q '^cluster_state:ok'
}

# Three primaries in cluster mode on $base, $base+1, $base+2, joined with
# `redis-cli --cluster create` (slots split evenly, no replicas).
topology_cluster() {
    local base="${RESILIENT_REDIS_CLUSTER_PORT:-7001}"
    local ports=("$base" "$((base + 1))" "$((base + 2))")
    command -v redis-server >/dev/null 2>&1 || install_redis
    local p
    if ! cluster_ok "$base"; then
        for p in "${ports[@]}"; do
            if answers "$p"; then
                # A node left from an earlier run that did not form a cluster: start it over.
                redis-cli -p "$p" flushall >/dev/null 2>&1 || true
                redis-cli -p "$p" cluster reset hard >/dev/null
            else
                rm -rf "$dir/cluster/$p"
                mkdir -p "$dir/cluster/$p"
                redis-server --port "$p" --bind 127.0.0.1 --daemonize yes --cluster-enabled yes \
                    --cluster-config-file nodes.conf --cluster-node-timeout 5000 \
                    --save '' --appendonly no --dir "$dir/cluster/$p" \
                    --logfile "$dir/cluster/$p/redis.log"
            fi
        done
        for p in "${ports[@]}"; do wait_until_answers "$p"; done
        redis-cli --cluster create "${ports[@]/#/127.0.0.1:}" --cluster-replicas 0 --cluster-yes
        local i
        for ((i = 0; i < 100; i++)); do
            cluster_ok "$base" && cluster_ok "${ports[1]}" && cluster_ok "${ports[2]}" && break
            sleep 0.1
        done
        cluster_ok "$base" || {
            echo "the Redis Cluster on ${ports[*]} did not reach cluster_state:ok" >&2
            exit 1
        }
    fi
    url=""
    for p in "${ports[@]}"; do url="${url:+$url,}redis://127.0.0.1:$p/"; done
}

main() {
    local topology="${1:-standalone}"
    if ! declare -F "topology_${topology}" >/dev/null; then
        echo "unknown Redis topology '${topology}' (known: standalone, tls, cluster)" >&2
        exit 2
    fi
    "topology_${topology}"
}

main "$@" >&2
printf '%s\n' "$url"
