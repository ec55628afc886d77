#!/usr/bin/env bash
# /api/stats latency under load while a snapshot is rendered, validated and published (with
# fsync) every 100 ms: what the pipeline's blocking work takes away from request handling.
#
#   scripts/bench-stats-under-publishing.sh BINARY [BINARY ...] [-- ROUNDS]
#
# Each BINARY is a spendboard executable (for example this build and the build of an earlier
# commit); they are run one after another, alternating, ROUNDS times (default 3), each with a
# fresh data and output folder on the disk under /tmp, the simulator at the reference rate and
# archiving off. Needs wrk (apt-get install wrk). Prints one line per run: requests per second
# and the latency percentiles wrk reports.
#
# With SLOW_FSYNC_MS=50, the output folder is mounted through scripts/slowfs.py, whose fsync
# takes 50 ms more: a slow, busy or networked disk (this machine's virtio disk syncs in a few
# milliseconds, and a busy one only doubles that). Needs fuse3, libfuse2 and fusepy.
set -euo pipefail
binaries=()
rounds=3
while [ $# -gt 0 ]; do
  if [ "$1" = "--" ]; then rounds=$2; shift 2; continue; fi
  binaries+=("$1"); shift
done
[ ${#binaries[@]} -gt 0 ] || { echo "usage: $0 BINARY [BINARY ...] [-- ROUNDS]" >&2; exit 2; }
command -v wrk >/dev/null || { echo "wrk is missing: apt-get install wrk" >&2; exit 2; }
port=18097
for round in $(seq 1 "$rounds"); do
  for binary in "${binaries[@]}"; do
    work=$(mktemp -d /tmp/spendboard-bench-stats.XXXXXX)
    if [ -n "${SLOW_FSYNC_MS:-}" ]; then
      mkdir -p "$work/out-backing" "$work/out"
      python3 "$(dirname "$0")/slowfs.py" "$work/out-backing" "$work/out" "$SLOW_FSYNC_MS" 2>"$work/slowfs.log" &
      for _ in $(seq 1 50); do mountpoint -q "$work/out" && break; sleep 0.1; done
    fi
    "$binary" serve --port "$port" --render-interval 100ms --archive-every 0 --backfill 1h \
      --data "$work/data" --output "$work/out" --log-level warning 2>"$work/log" &
    pid=$!
    for _ in $(seq 1 300); do
      curl -fs "http://127.0.0.1:$port/api/health" >/dev/null 2>&1 && break
      sleep 0.1
    done
    result=$(wrk -t2 -c64 -d10s --latency "http://127.0.0.1:$port/api/stats")
    rps=$(awk '/Requests\/sec/ {print $2}' <<<"$result")
    p50=$(awk '$1=="50%" {print $2}' <<<"$result")
    p90=$(awk '$1=="90%" {print $2}' <<<"$result")
    p99=$(awk '$1=="99%" {print $2}' <<<"$result")
    slow=$(grep -c "took over half" "$work/log" || true)
    echo "round $round  $binary  req/s $rps  p50 $p50  p90 $p90  p99 $p99  slow-snapshot warnings $slow"
    kill "$pid"; wait "$pid" 2>/dev/null || true
    if mountpoint -q "$work/out"; then fusermount -u "$work/out"; fi
    rm -rf "$work"
  done
done
