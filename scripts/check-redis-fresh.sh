#!/usr/bin/env bash
# Proves scripts/redis.sh's fresh-machine path on any machine, Redis installed or not: runs it
# with a PATH on which redis-server is missing and `apt-get` is a stub that prints package-manager
# noise on stdout (as the real one does) and "installs" redis-server, a wrapper around the real
# binary. The script must install, start a server on a free port and print exactly its URL on
# stdout; run again, it must find the server answering and print only the URL, without installing.
#
# Needs a real redis-server somewhere (`.ci/run` runs it after scripts/test.sh, which installs one).
# Takes a second or two.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"

fail() {
    echo "check-redis-fresh: $*" >&2
    exit 1
}

real_server="$(command -v redis-server)" || fail "needs a real redis-server: run scripts/redis.sh first"

tmp="$(mktemp -d)"
port=""
cleanup() {
    if [ -n "$port" ]; then
        { printf 'SHUTDOWN NOSAVE\r\n' >"/dev/tcp/127.0.0.1/$port"; } 2>/dev/null || true
    fi
    rm -rf "$tmp"
}
trap cleanup EXIT

# A free port: nothing accepts connections on it.
for candidate in $(seq 16379 16479); do
    if ! { : >"/dev/tcp/127.0.0.1/$candidate"; } 2>/dev/null; then
        port="$candidate"
        break
    fi
done
[ -n "$port" ] || fail "no free port in 16379..16479"

# The fresh machine: only the tools scripts/redis.sh needs, no redis-server, a stub apt-get.
bin="$tmp/bin"
mkdir "$bin"
for tool in bash id sleep; do
    ln -s "$(command -v "$tool")" "$bin/$tool"
done
cat >"$bin/apt-get" <<EOF
#!$(command -v bash)
# What the real apt-get prints on stdout, which once ended up in RESILIENT_REDIS_URL.
echo "apt-get \$*" >>"$tmp/apt.log"
echo "Get:1 http://deb.debian.org/debian bookworm InRelease [151 kB]"
echo "Reading package lists... Done"
if [ "\$1" = install ]; then
    printf '#!%s\necho "stub redis-server: starting"\nexec %q "\$@"\n' "$(command -v bash)" \
        "$real_server" >"$bin/redis-server"
    $(command -v chmod) +x "$bin/redis-server"
    echo "Setting up redis-server ..."
fi
EOF
# In case the check runs as a user other than root.
printf '#!%s\nexec "$@"\n' "$(command -v bash)" >"$bin/sudo"
chmod +x "$bin/apt-get" "$bin/sudo"

expected="redis://127.0.0.1:$port/"

# Fresh: installs, starts, prints the URL and nothing else.
PATH="$bin" RESILIENT_REDIS_PORT="$port" "$root/scripts/redis.sh" >"$tmp/out" 2>"$tmp/err" ||
    fail "scripts/redis.sh failed on the fresh path; its stderr:
$(cat "$tmp/err")"
[ "$(cat "$tmp/apt.log" 2>/dev/null)" = "apt-get update
apt-get install -y redis-server" ] || fail "the install branch did not run apt-get update and install"
[ "$(cat "$tmp/out")" = "$expected" ] && [ "$(wc -l <"$tmp/out")" -eq 1 ] ||
    fail "on the fresh path, stdout was not only $expected but:
$(cat "$tmp/out")"

# Already running: prints the URL and nothing else, installs nothing.
: >"$tmp/apt.log"
PATH="$bin" RESILIENT_REDIS_PORT="$port" "$root/scripts/redis.sh" >"$tmp/out" 2>"$tmp/err" ||
    fail "scripts/redis.sh failed with Redis running; its stderr:
$(cat "$tmp/err")"
[ ! -s "$tmp/apt.log" ] || fail "scripts/redis.sh ran apt-get although Redis answered"
[ "$(cat "$tmp/out")" = "$expected" ] && [ "$(wc -l <"$tmp/out")" -eq 1 ] ||
    fail "with Redis running, stdout was not only $expected but:
$(cat "$tmp/out")"

echo "check-redis-fresh: scripts/redis.sh printed only $expected, installing and not"
