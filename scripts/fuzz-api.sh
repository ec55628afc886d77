#!/usr/bin/env bash
# Fuzzes a live server against the OpenAPI document with schemathesis: every operation of
# docs/openapi.json, generated requests (POST /api/metrics bodies included), every answer
# checked against the document, and no 5xx. Bounded: FUZZ_MAX_EXAMPLES per operation (default
# 100) and FUZZ_SECONDS in all (default 300).
#
#   scripts/fuzz-api.sh [BINARY]        # default .build/debug/spendboard (swift build first)
#
# The server runs the simulator with anomaly scenarios and a 30-second archive, so incidents,
# archived snapshots and window pages exist for the generated requests to find. Exit status:
# schemathesis' (0 when nothing was found), or 1 when the server died or logged a failure.
set -euo pipefail
cd "$(dirname "$0")/.."
binary=${1:-.build/debug/spendboard}
examples=${FUZZ_MAX_EXAMPLES:-100}
seconds=${FUZZ_SECONDS:-300}
command -v schemathesis > /dev/null || { echo "install schemathesis: pip install schemathesis" >&2; exit 2; }
[ -x "$binary" ] || { echo "no executable at $binary; run swift build first" >&2; exit 2; }

work=$(mktemp -d /tmp/spendboard-fuzz.XXXXXX)
port=18400
while (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; do port=$((port + 1)); done
"$binary" serve --port "$port" --output "$work/Output" --data "$work/data" --backfill 10m \
    --archive-every 30s --scenario runaway-customer --scenario tenant-outage --scenario-start 0s \
    --anomaly-open-after 10s > "$work/server.log" 2>&1 &
server=$!
disown $server  # no "Killed" line from the shell when the trap ends it
trap 'kill -9 $server 2> /dev/null || true; rm -rf "$work"' EXIT

for _ in $(seq 1 600); do
    curl -fs "http://127.0.0.1:$port/api/health" > /dev/null 2>&1 && break
    kill -0 $server 2> /dev/null || { echo "the server did not start:" >&2; cat "$work/server.log" >&2; exit 1; }
    sleep 0.1
done
# Until an archived snapshot and an incident exist (the scenarios open one within a minute),
# then their names go into the run's configuration, so generated requests reach real ones.
folder="" incident=""
for _ in $(seq 1 180); do
    folder=$(curl -fs "http://127.0.0.1:$port/api/archive?limit=1" | python3 -c 'import json, sys; s = json.load(sys.stdin)["snapshots"]; print(s[0]["folder"] if s else "")')
    incident=$(curl -fs "http://127.0.0.1:$port/api/anomalies?limit=1" | python3 -c 'import json, sys; a = json.load(sys.stdin)["anomalies"]; print(a[0]["id"] if a else "")')
    [ -n "$folder" ] && [ -n "$incident" ] && break
    sleep 1
done
[ -n "$folder" ] && [ -n "$incident" ] || { echo "no archived snapshot or incident after 3 minutes" >&2; exit 1; }
config="$work/schemathesis.toml"
{
    cat scripts/schemathesis.toml
    printf '\n[[operations]]\ninclude-path-regex = "^/archive/"\nparameters = { "path.folder" = "%s", "path.day" = "%s" }\n' "$folder" "${folder:0:10}"
    printf '\n[[operations]]\ninclude-path-regex = "^/api/anomalies/"\nparameters = { "path.id" = "%s" }\n' "$incident"
} > "$config"
echo "fuzzing with archived snapshot $folder and incident $incident"

status=0
# One worker: with two, hypothesis' threads both parse lambdas' source with ast.parse, and
# CPython 3.11 keeps the AST constructor's recursion depth per interpreter, not per thread, so
# a run can die with "SystemError: AST constructor recursion depth mismatch" (CI saw it once;
# cpython#106905). The run is CPU-bound in Python anyway: one worker took 131 s, two 140 s.
timeout "$seconds" schemathesis --no-color --config-file "$config" run docs/openapi.json --url "http://127.0.0.1:$port" \
    --checks all --max-examples "$examples" --seed "${FUZZ_SEED:-20261203}" \
    --request-timeout 10 --workers 1 --suppress-health-check all \
    || status=$?

if ! kill -0 $server 2> /dev/null; then
    echo "the server died during the run:" >&2
    tail -50 "$work/server.log" >&2
    exit 1
fi
if grep -E '"request failed"|request failed|critical' "$work/server.log" > /dev/null; then
    echo "the server logged failures:" >&2
    grep -E 'request failed|critical' "$work/server.log" | head -20 >&2
    exit 1
fi
if [ "$status" = 124 ]; then echo "schemathesis did not finish within ${seconds}s" >&2; fi
exit "$status"
