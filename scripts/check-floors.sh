#!/usr/bin/env bash
# Builds and tests the published crates (resilient, resilient-macros, resilient-runtime,
# resilient-spec) and the behaviour tests against the lowest dependency versions their Cargo.toml
# files declare, pinned in
# ci/Cargo.floors.lock, and checks that every registry dependency of the published crates is
# locked there at exactly its declared floor (so a floor that nothing tests cannot sneak in).
#
#   scripts/check-floors.sh            # the check (`.ci/run` runs it)
#   scripts/check-floors.sh --update   # regenerate ci/Cargo.floors.lock after changing a floor
#
# It works on a copy of the tree under the target directory, so Cargo.lock is never touched, and
# builds into its own target directory (`$CARGO_TARGET_DIR/floors`), keeping the main build cached.
# The Redis tests run too: scripts/redis-env.sh starts the topologies they need.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
base="${CARGO_TARGET_DIR:-$root/target}"
src="$base/floors-src"
lock="$root/ci/Cargo.floors.lock"
published=(resilient resilient-macros resilient-runtime resilient-spec)

# The tree as committed plus local changes, at a fixed path (unchanged files keep their mtimes,
# so the floors build stays incremental).
rm -rf "$src"
mkdir -p "$src"
(cd "$root" && git ls-files -z --cached --others --exclude-standard |
    tar --null --ignore-failed-read -T - -cf - 2>/dev/null) | tar -xf - -C "$src"
cd "$src"

if [ "${1:-}" = "--update" ]; then
    # Direct dependencies at their declared minimum, the others at the newest they allow.
    rm -f Cargo.lock
    RUSTC_BOOTSTRAP=1 cargo update -Z direct-minimal-versions
    cp Cargo.lock "$lock"
    echo "wrote $lock"
    exit 0
fi

cp "$lock" Cargo.lock
export CARGO_TARGET_DIR="$base/floors"

# Every registry dependency of a published crate is locked at the minimum its requirement allows.
cargo metadata --locked --all-features --format-version 1 | python3 -c '
import json, re, sys
published = set(sys.argv[1:])
meta = json.load(sys.stdin)
by_id = {p["id"]: p for p in meta["packages"]}
nodes = {n["id"]: n for n in meta["resolve"]["nodes"]}
bad = []
for p in meta["packages"]:
    if p["name"] not in published:
        continue
    locked = {}
    for d in nodes[p["id"]]["deps"]:
        q = by_id[d["pkg"]]
        locked[q["name"]] = q["version"]
    for dep in p["dependencies"]:
        if dep["source"] is None or dep.get("target"):
            continue  # path dependencies, and loom (only under --cfg resilient_loom)
        parts = re.sub(r"^[\^=~]", "", dep["req"]).split(".")
        floor = ".".join((parts + ["0", "0"])[:3])
        crate, dep_name, req = p["name"], dep["name"], dep["req"]
        got = locked.get(dep_name)
        if got != floor:
            bad.append(f"{crate}: {dep_name} {req} is locked at {got}, not {floor}")
if bad:
    print("ci/Cargo.floors.lock does not test the declared floors:", *bad, sep="\n  ", file=sys.stderr)
    print("Raise the requirement to what the lockfile holds, or run scripts/check-floors.sh --update.", file=sys.stderr)
    sys.exit(1)
' "${published[@]}"

# shellcheck source=scripts/redis-env.sh
source "$root/scripts/redis-env.sh"
cargo test --locked --all-features -p resilient -p resilient-macros -p resilient-runtime -p resilient-spec -p resilient-tests
echo "check-floors: the declared floors build and pass the tests"
