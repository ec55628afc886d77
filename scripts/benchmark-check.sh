#!/usr/bin/env bash
# The micro-benchmarks' regression check: fails when a benchmark's p90 is more than 10 % off the
# p90 stored in Thresholds/ in three runs in a row (compactNames-* wall clock: 100 %).
#
# Usage: scripts/benchmark-check.sh [ATTEMPTS] [PAUSE_SECONDS]   (defaults 3 and 60)
#
# It runs `swift package benchmark thresholds check` over every benchmark, then, after a pause,
# again over the benchmarks that deviated only, up to ATTEMPTS runs in all. On a shared machine
# a benchmark whose code did not change deviates now and then (another tenant's burst); a real
# regression deviates every time. See docs/benchmarks.md, "The regression check".
# Exit status 0: every benchmark within its tolerance in one of the runs. 1: some benchmark
# deviated in every run; the last run's table says which metric, and whether it is worse
# (a regression) or better (store the new figures: docs/benchmarks.md, "The regression check").
set -uo pipefail
cd "$(dirname "$0")/.."
attempts=${1:-3}
pause=${2:-60}
filters=()
for attempt in $(seq "$attempts"); do
  log=$(mktemp)
  swift package benchmark thresholds check --no-progress "${filters[@]}" >"$log" 2>&1
  status=$?
  if grep -a -q '^Running Benchmarks' "$log"; then sed -n '/^Running Benchmarks/,$p' "$log"; else cat "$log"; fi
  deviating=$(grep -a -o 'than threshold for SpendboardBenchmarks:[A-Za-z0-9_.-]*' "$log" | sed 's/.*://' | sort -u)
  rm -f "$log"
  if [ "$status" -eq 0 ]; then
    echo "benchmark-check: within the thresholds (run $attempt of at most $attempts)"
    exit 0
  fi
  if [ -z "$deviating" ]; then
    echo "benchmark-check: the check failed without a deviation (build or run error)" >&2
    exit 1
  fi
  echo "benchmark-check: run $attempt: off the thresholds: $(echo $deviating)"
  [ "$attempt" -lt "$attempts" ] && sleep "$pause"
  filters=()
  for name in $deviating; do filters+=(--filter "$name"); done
done
echo "benchmark-check: off the thresholds in $attempts runs in a row: $(echo $deviating)" >&2
exit 1
