#!/usr/bin/env bash
# Start-up time and resident memory of the real server after a backfill (default: 24 hours at
# the reference rate). Usage: scripts/bench-rss.sh [BACKFILL] [LOAD]
set -euo pipefail
cd "$(dirname "$0")/.."
backfill=${1:-24h}
load=${2:-1}
swift build -c release --product spendboard >/dev/null
log=$(mktemp)
started=$(date +%s%N)
.build/release/spendboard serve --port 0 --backfill "$backfill" --load "$load" 2>"$log" &
pid=$!
trap 'kill $pid 2>/dev/null; wait $pid 2>/dev/null; rm -f "$log"' EXIT
until grep -q "listening on" "$log"; do
  kill -0 $pid 2>/dev/null || { cat "$log"; exit 1; }
  sleep 0.1
done
ready=$(date +%s%N)
port=$(grep -o 'listening on 127.0.0.1:[0-9]*' "$log" | grep -o '[0-9]*$')
echo "ready after $(( (ready - started) / 1000000 )) ms with $backfill of history at ${load}x"
sleep 12  # two snapshots and a dozen live seconds
curl -s "http://127.0.0.1:$port/api/health" | python3 -c '
import json, sys
s = json.load(sys.stdin)["store"]
print(f"raw updates {s[\"rawUpdates\"]}, rollups {s[\"rollupBytes\"] / 1048576:.2f} MB, series {s[\"series\"]}")'
grep -E 'VmRSS|VmHWM' "/proc/$pid/status"
