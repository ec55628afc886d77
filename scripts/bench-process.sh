#!/usr/bin/env bash
# Whole-process figures of the release server: start-up time and resident memory with 24 hours
# of history, first with a backfill into a fresh data folder, then restarting on the stored data.
# Usage: scripts/bench-process.sh [BACKFILL] [LOAD]   (defaults: 24h 1)
set -euo pipefail
cd "$(dirname "$0")/.."
backfill=${1:-24h}
load=${2:-1}
swift build -c release --product spendboard >/dev/null 2>&1
work=$(mktemp -d)
trap 'kill $pid 2>/dev/null || true; wait $pid 2>/dev/null || true; rm -rf "$work"' EXIT

start_server() {  # $1: label
  : >"$work/log"
  local started ready
  started=$(date +%s%N)
  .build/release/spendboard serve --port 0 --backfill "$backfill" --load "$load" \
    --data "$work/data" --output "$work/output" 2>"$work/log" &
  pid=$!
  until grep -q "listening on" "$work/log"; do
    kill -0 $pid 2>/dev/null || { cat "$work/log"; exit 1; }
    sleep 0.05
  done
  ready=$(date +%s%N)
  port=$(grep -o 'listening on 127.0.0.1:[0-9]*' "$work/log" | grep -o '[0-9]*$')
  echo "$1: listening after $(( (ready - started) / 1000000 )) ms"
}

report() {
  sleep 12  # two snapshots and a dozen live seconds
  curl -s "http://127.0.0.1:$port/api/health" | python3 -c '
import json, sys
h = json.load(sys.stdin); s = h["store"]
print("  raw updates %d, rollups %.2f MB, series %d, status %s" % (s["rawUpdates"], s["rollupBytes"] / 1048576, s["series"], h["status"]))'
  grep -E 'VmRSS|VmHWM' "/proc/$pid/status" | sed 's/^/  /'
}

start_server "first start, $backfill backfill at ${load}x into a new data folder"
report
kill -TERM $pid; wait $pid || true
du -sh "$work/data" | sed 's/^/  data folder: /'
start_server "restart on the stored data"
report
