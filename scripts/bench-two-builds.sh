#!/usr/bin/env bash
# Two builds of spendboard side by side: each serves its own empty data folder (no simulator),
# and wrk (-t2 -c64, 8 s) alternates between them on each path, ROUNDS times.
#
#   scripts/bench-two-builds.sh BEFORE_BINARY AFTER_BINARY [ROUNDS] PATH...
#
# A build of an earlier commit: git worktree add /tmp/before REV && (cd /tmp/before && swift build -c release --product spendboard)
set -euo pipefail
before=$1 after=$2; shift 2
rounds=3
if [[ ${1:-} =~ ^[0-9]+$ ]]; then rounds=$1; shift; fi
paths=("${@:-/index.html}")
command -v wrk > /dev/null || { echo "install wrk (apt-get install wrk)" >&2; exit 2; }
work=$(mktemp -d /tmp/spendboard-two-builds.XXXXXX)
start() { # binary name port
    mkdir -p "$work/$2"
    "$1" serve --port "$3" --output "$work/$2/Output" --data "$work/$2/data" --no-simulator --archive-every 0 > "$work/$2/log" 2>&1 &
    echo $!
}
a=$(start "$before" before 18511)
b=$(start "$after" after 18512)
trap 'kill -9 $a $b 2> /dev/null || true; rm -rf "$work"' EXIT
for port in 18511 18512; do
    for _ in $(seq 1 100); do curl -fs "http://127.0.0.1:$port/api/health" > /dev/null 2>&1 && break; sleep 0.1; done
done
printf '%-14s %-6s %5s %12s %10s %10s\n' path round build req/s "lat avg" "lat max"
for path in "${paths[@]}"; do
    for round in $(seq 1 "$rounds"); do
        for build in before after; do
            port=$([ $build = before ] && echo 18511 || echo 18512)
            wrk -t2 -c64 -d8s "http://127.0.0.1:$port$path" |
                awk -v p="$path" -v r="$round" -v b="$build" '/Latency/ {avg=$2; max=$4} /Requests\/sec/ {rps=$2} END {printf "%-14s %-6s %5s %12s %10s %10s\n", p, r, b, rps, avg, max}'
        done
    done
done
