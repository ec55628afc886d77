#!/usr/bin/env bash
# Cluster benchmark on this machine, in one run: a throw-away PostgreSQL, what it does alone
# (pgbench), durable HTTP ingest into one SQLite node and into 1, 2 and 3 nodes sharing that
# PostgreSQL, and how long an update taken by one node takes to show on another.
#
# From a clean clone:
#   swift build -c release --product spendboard
#   scripts/bench-cluster.sh
#
# Needs python3, curl and PostgreSQL 15+ (server binaries as scripts/postgres-test-server.sh
# finds them, plus psql and pgbench on PATH). SPENDBOARD_BIN overrides the binary
# (default .build/release/spendboard); BENCH_UPDATES, PGBENCH_SECONDS and VISIBILITY_SAMPLES
# shrink a run for a quick check of the script itself (defaults 300000, 20, 200).
#
# Steps (each on fresh state; every node runs `serve --no-simulator --archive-every 0` on a
# free port, and is loaded only after its /api/health answers):
#   a. pgbench on a database of its own: `-i -s 10`, then `-c 4 -j 2 -T 20` (TPC-B-like) and
#      the same with -N (simple update); tps without initial connection time.
#   b. SQLite: one node with --data on a fresh folder; bench-ingest.py 300000 1000 4.
#   c. PostgreSQL: for N in 1 2 3, a fresh database (CREATE DATABASE), N nodes with --store on
#      it, bench-ingest.py with the N URLs (connection i posts to node i % N), 300000 1000 4;
#      and with `recent` for N=1 and N=3. After each run: the rows in the database, whether
#      every node followed the log to its end (cluster.position), and whether every node
#      answers the same /api/stats for one fixed range; and the transactions the database
#      committed meanwhile (the batches plus every read the nodes made).
#   d. Two nodes on a fresh database: bench-visibility.py A B 200 (p50/p99 in ms).
# A summary table ends the output. On exit (also on failure or Ctrl-C) every node is killed
# (kill -9) and the PostgreSQL folder destroyed; the node logs are kept when a step failed.
# Exit status 1 when any step failed (the table says which and why).
set -uo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
bin=${SPENDBOARD_BIN:-$root/.build/release/spendboard}
updates=${BENCH_UPDATES:-300000}
batch=1000
connections=4
visibility_samples=${VISIBILITY_SAMPLES:-200}
pgbench_seconds=${PGBENCH_SECONDS:-20}

say() { echo "bench-cluster: $*" >&2; }
die() { say "$*"; exit 1; }

[ -x "$bin" ] || die "no binary at $bin: run 'swift build -c release --product spendboard' first (or set SPENDBOARD_BIN)"
for tool in python3 curl psql pgbench; do
  command -v "$tool" >/dev/null || die "$tool is not on PATH"
done

work=$(mktemp -d /tmp/bench-cluster.XXXXXX) || die "cannot create a folder under /tmp"
chmod 755 "$work"  # as root the PostgreSQL server runs as `postgres` and must get through
mkdir -p "$work/logs"
pgdir=$work/pg
node_pids=()
failed=0
summary=()  # "label|result|notes" rows

cleanup() {
  local pid
  for pid in "${node_pids[@]}"; do kill -9 "$pid" 2>/dev/null; done
  for pid in "${node_pids[@]}"; do wait "$pid" 2>/dev/null; done
  "$root/scripts/postgres-test-server.sh" destroy "$pgdir" >/dev/null 2>&1 || say "could not destroy $pgdir"
  if [ "$failed" -eq 0 ]; then
    rm -rf "$work"
  else
    rm -rf "$work"/node-*/data "$work"/node-*/out
    say "logs kept in $work/logs"
  fi
}
trap cleanup EXIT
trap 'failed=1; exit 130' INT TERM

row() { summary+=("$1|$2|$3"); }

# Free TCP ports on 127.0.0.1, all held open at once so that they differ.
free_ports() {
  python3 - "$1" <<'EOF'
import socket, sys
held = []
for _ in range(int(sys.argv[1])):
    s = socket.socket(); s.bind(("127.0.0.1", 0)); held.append(s)
print(" ".join(str(s.getsockname()[1]) for s in held))
EOF
}

# CPU seconds (user + system) that the processes $@ and all their descendants have used,
# reaped children included.
cpu_seconds() {
  python3 - "$@" <<'EOF'
import os, sys
tick = os.sysconf("SC_CLK_TCK")
parents = {}
stats = {}
for entry in os.listdir("/proc"):
    if not entry.isdigit(): continue
    try:
        fields = open(f"/proc/{entry}/stat").read().rsplit(")", 1)[1].split()
    except OSError:
        continue
    pid = int(entry); parents.setdefault(int(fields[1]), []).append(pid)
    stats[pid] = sum(int(x) for x in fields[11:15])  # utime stime cutime cstime
todo = [int(p) for p in sys.argv[1:]]; total = 0; seen = set()
while todo:
    pid = todo.pop()
    if pid in seen or pid not in stats: continue
    seen.add(pid); total += stats[pid]; todo.extend(parents.get(pid, []))
print(f"{total / tick:.1f}")
EOF
}

postmaster_pid() { head -n 1 "$pgdir/data/postmaster.pid" 2>/dev/null; }

psql_on() {  # psql_on DATABASE SQL: runs SQL, prints unaligned tuples
  psql -X -q -tA -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$pg_port" -U spendboard -d "$1" -c "$2"
}

# A field of a JSON document on stdin, by a Python expression on `d` ("" when it fails).
json_field() {
  python3 -c 'import json,sys
try:
    d = json.load(sys.stdin); print(eval(sys.argv[1]))
except Exception:
    print("")' "$1"
}

# start_node NAME [serve flags...]: starts a node on a free port, waits up to 60 s for its
# /api/health to answer; sets node_url. Fails (with the log's tail) when it exits or never answers.
start_node() {
  local name=$1 port pid code waited=0
  shift
  port=$(free_ports 1)
  mkdir -p "$work/node-$name"
  "$bin" serve --port "$port" --no-simulator --archive-every 0 --data "$work/node-$name/data" \
    --output "$work/node-$name/out" "$@" >"$work/logs/$name.log" 2>&1 &
  pid=$!
  node_pids+=("$pid")
  node_url=http://127.0.0.1:$port
  while :; do
    if ! kill -0 "$pid" 2>/dev/null; then
      say "node $name (pid $pid, $node_url) exited before answering /api/health; last lines of its log:"
      tail -n 20 "$work/logs/$name.log" >&2
      return 1
    fi
    code=$(curl -s -o /dev/null -m 2 -w '%{http_code}' "$node_url/api/health" 2>/dev/null)
    [ "$code" = 000 ] || break
    if [ "$waited" -ge 600 ]; then
      say "node $name (pid $pid, $node_url) did not answer /api/health within 60 s; last lines of its log:"
      tail -n 20 "$work/logs/$name.log" >&2
      return 1
    fi
    sleep 0.1
    waited=$((waited + 1))
  done
  if [ "$code" != 200 ]; then
    say "node $name answers /api/health with $code: $(curl -s -m 2 "$node_url/api/health" | head -c 300)"
  fi
  say "node $name up on $node_url (pid $pid) after $((waited * 100)) ms"
}

stop_nodes() {
  local pid
  for pid in "${node_pids[@]}"; do kill -9 "$pid" 2>/dev/null; done
  for pid in "${node_pids[@]}"; do wait "$pid" 2>/dev/null; done
  node_pids=()
}

# Transactions committed in database $1 so far (pg_stat_database; each query a node sends
# outside a transaction counts as one). A busy backend reports its counts about once a second
# and an idle one within 10 s, so the count is exact only once the nodes' connections are gone.
db_transactions() {
  psql_on postgres "select xact_commit from pg_stat_database where datname = '$1'"
}
current_db=
tx_before=0

# ingest LABEL URLS [recent]: runs bench-ingest.py; sets rate (updates/s with commas) and
# ingest_line, or fails with the output shown.
ingest() {
  local label=$1 urls=$2 out pg_before node_before pg_after node_after
  shift 2
  rate= ingest_error="no figure in bench-ingest.py's output" cpu_note=
  pg_before=$(cpu_seconds "$(postmaster_pid)")
  node_before=$(cpu_seconds "${node_pids[@]}")
  [ -z "$current_db" ] || tx_before=$(db_transactions "$current_db")
  if ! out=$(python3 "$root/scripts/bench-ingest.py" "$urls" "$updates" "$batch" "$connections" "$@" 2>&1); then
    say "$label: bench-ingest.py failed:"
    echo "$out" | tail -n 5 >&2
    rate=
    ingest_error=$(echo "$out" | tail -n 1 | cut -c1-160)
    return 1
  fi
  pg_after=$(cpu_seconds "$(postmaster_pid)")
  node_after=$(cpu_seconds "${node_pids[@]}")
  ingest_line=$(echo "$out" | tail -n 1)
  rate=$(echo "$ingest_line" | grep -oE '[0-9,]+ updates/s$' | cut -d' ' -f1)
  cpu_note="cpu: nodes $(python3 -c "print(f'{$node_after-$node_before:.1f}')") s, postgres $(python3 -c "print(f'{$pg_after-$pg_before:.1f}')") s"
  echo "  $label: $ingest_line ($cpu_note)"
}

# check_cluster DATABASE URL...: the rows the database holds, whether every node followed the
# log to its end within 30 s, and whether all nodes answer the same /api/stats for one range.
# Sets check_note; fails when something is off.
check_cluster() {
  local db=$1 rows
  shift
  rows=$(psql_on "$db" "select count(*) || ' ' || coalesce(max(seq), 0) || ' ' || (select coalesce(sum(updates), 0) from spendboard.rollup_hour) from spendboard.updates") || {
    check_note="cannot read the database"
    return 1
  }
  check_note=$(python3 - "$updates" $rows "$@" <<'EOF'
import json, sys, time, urllib.request
expected, count, top, rollup = (int(x) for x in sys.argv[1:5])
urls = sys.argv[5:]
problems = []
if count != expected or rollup != expected:
    problems.append(f"database holds {count} raw rows and {rollup} in rollup_hour, expected {expected}")
def get(url, path):
    with urllib.request.urlopen(url + path, timeout=10) as r:
        return r.status, r.read()
start = time.monotonic(); positions = {}
while True:
    positions = {}
    for url in urls:
        try:
            status, body = get(url, "/api/health")
            positions[url] = json.loads(body).get("cluster", {}).get("position")
        except Exception as e:
            positions[url] = f"error {e}"
    if all(p == top for p in positions.values()) or time.monotonic() - start > 30:
        break
    time.sleep(0.05)
converged = time.monotonic() - start
if not all(p == top for p in positions.values()):
    problems.append(f"nodes did not reach log position {top} within 30 s: {positions}")
# One fixed range for every node, from 25 h ago to now (ms since the epoch): it holds every
# update of the run. Asked twice when the answers differ (one may have been cut at another
# instant), and reported only when they differ both times.
now = int(time.time() * 1000)
path = f"/api/stats?from={now - 25 * 3600 * 1000}&to={now}"
def strip(d):
    return {k: v for k, v in d.items() if k != "generatedAt"} if isinstance(d, dict) else d
def ask():
    answers = {}
    for url in urls:
        try:
            answers[url] = strip(json.loads(get(url, path)[1]))
        except Exception as e:
            answers[url] = {"error": str(e)}
    return answers
def differences(answers):
    first = answers[urls[0]]
    found = []
    for url in urls[1:]:
        other = answers[url]
        if other != first:
            keys = sorted(k for k in set(first) | set(other) if first.get(k) != other.get(k))
            found.append(f"/api/stats of {url} differs from {urls[0]} in {keys}: "
                         + "; ".join(f"{k}: {json.dumps(first.get(k))[:150]} vs {json.dumps(other.get(k))[:150]}" for k in keys[:3]))
    return found
answers = ask()
if differences(answers):
    time.sleep(1)
    answers = ask()
problems += differences(answers)
def counted(answer):
    try: return answer["current"]["totals"]["updates"]
    except Exception: return None
counts = [counted(answers[u]) for u in urls]
if any(c != expected for c in counts):
    problems.append(f"/api/stats counts {counts} updates, expected {expected}")
note = (f"db {count} rows; {len(urls)} node(s) at position {top} after {converged:.2f} s; "
        f"/api/stats {'equal on every node' if len(urls) > 1 else 'checked'}, {counts[0]} updates")
print(("PROBLEM: " + "; ".join(problems)) if problems else note)
EOF
)
  case "$check_note" in PROBLEM:*) return 1 ;; esac
}

echo "== bench-cluster on $(hostname): nproc $(nproc), load $(cut -d' ' -f1-3 /proc/loadavg), tree $(git -C "$root" rev-parse --short HEAD 2>/dev/null || echo '?')$(git -C "$root" diff --quiet HEAD 2>/dev/null || echo '+changes'), binary built $(date -u -r "$bin" +%FT%TZ), $(date -u +%FT%TZ)"

# --- PostgreSQL ---
pg_port=$(free_ports 1)
if ! pg_url=$("$root/scripts/postgres-test-server.sh" start "$pgdir" "$pg_port" 2>"$work/logs/postgres-start.log"); then
  cat "$work/logs/postgres-start.log" >&2
  failed=1
  die "the throw-away PostgreSQL did not start"
fi
pg_base=${pg_url%/*}
pg_version=$(psql_on postgres "show server_version")
echo "PostgreSQL $pg_version at $pg_url (folder $pgdir; fsync on, synchronous_commit on)"

# --- a. pgbench ---
echo "-- a. pgbench baseline (scale 10, 4 clients, 2 threads, ${pgbench_seconds} s)"
pgbench_run() {  # LABEL ARGS...: prints and records the tps line
  local label=$1 out tps
  shift
  if out=$(pgbench -h 127.0.0.1 -p "$pg_port" -U spendboard -c 4 -j 2 -T "$pgbench_seconds" "$@" pgbench 2>&1); then
    tps=$(echo "$out" | grep -E '^tps = ' | tail -n 1)
    echo "  $label: $tps"
    echo "$out" | grep -E 'latency average' | sed 's/^/    /'
    row "pgbench $label" "$(echo "$tps" | grep -oE '[0-9]+\.[0-9]+' | head -n 1 | xargs printf '%.0f') tps" \
      "$(echo "$out" | grep -oE 'latency average = [0-9.]+ ms' | sed 's/ = / /')"
  else
    echo "$out" | tail -n 5 >&2
    row "pgbench $label" FAILED "$(echo "$out" | tail -n 1 | cut -c1-100)"
    failed=1
  fi
}
if psql_on postgres "create database pgbench" >/dev/null \
  && pgbench -h 127.0.0.1 -p "$pg_port" -U spendboard -i -s 10 -q pgbench >"$work/logs/pgbench-init.log" 2>&1; then
  pgbench_run "TPC-B-like (-c4 -j2)"
  pgbench_run "simple update (-N)" -N
  psql_on postgres "drop database pgbench" >/dev/null || true
else
  cat "$work/logs/pgbench-init.log" >&2
  row "pgbench" FAILED "initialisation failed"
  failed=1
fi

# --- b. SQLite baseline ---
echo "-- b. SQLite, 1 node ($updates updates, batches of $batch, $connections connections, spread over 23 h)"
if start_node sqlite; then
  if ingest "SQLite 1 node" "$node_url"; then
    row "SQLite, 1 node, spread" "$rate updates/s" "$cpu_note"
  else
    row "SQLite, 1 node, spread" FAILED "$ingest_error"
    failed=1
  fi
else
  row "SQLite, 1 node, spread" FAILED "node did not start"
  failed=1
fi
stop_nodes

# --- c. PostgreSQL, 1 to 3 nodes ---
cluster_run() {  # N [recent]
  local n=$1 mode=${2:-spread} db urls="" i label
  db=bench_n${n}_$mode
  label="PostgreSQL, $n node$([ "$n" -gt 1 ] && echo s), $mode"
  echo "-- c. $label (database $db)"
  if ! psql_on postgres "create database $db" >/dev/null; then
    row "$label" FAILED "create database failed"
    failed=1
    return
  fi
  current_db=$db
  for i in $(seq 1 "$n"); do
    if ! start_node "pg-$mode-$n-$i" --store "$pg_base/$db"; then
      row "$label" FAILED "node $i did not start"
      failed=1
      stop_nodes
      return
    fi
    urls+=${urls:+,}$node_url
  done
  if [ "$mode" = recent ]; then
    ingest "$label" "$urls" recent
  else
    ingest "$label" "$urls"
  fi
  if [ -z "$rate" ]; then
    row "$label" FAILED "$ingest_error"
    failed=1
    stop_nodes
    return
  fi
  local checked=0 transactions
  check_cluster "$db" ${urls//,/ } && checked=1
  echo "  check: $check_note"
  stop_nodes
  sleep 1  # the nodes' backends report their counts as they exit
  # From just before the load to the nodes' end: the batches, plus every read the nodes made.
  transactions=$(( $(db_transactions "$db") - tx_before ))
  echo "  database transactions during the run: $transactions (the batches: $((updates / batch)))"
  cpu_note+=", $transactions db transactions"
  if [ "$checked" = 1 ]; then
    row "$label" "$rate updates/s" "$cpu_note; $check_note"
  else
    row "$label" "$rate updates/s (CHECK FAILED)" "$cpu_note; $check_note"
    failed=1
  fi
  current_db=
  psql_on postgres "drop database $db" >/dev/null || say "could not drop $db"
}
cluster_run 1
cluster_run 2
cluster_run 3
cluster_run 1 recent
cluster_run 3 recent

# --- d. visibility ---
echo "-- d. cross-node visibility, 2 nodes ($visibility_samples samples)"
if psql_on postgres "create database bench_visibility" >/dev/null \
  && start_node vis-a --store "$pg_base/bench_visibility" && url_a=$node_url \
  && start_node vis-b --store "$pg_base/bench_visibility" && url_b=$node_url; then
  if out=$(python3 "$root/scripts/bench-visibility.py" "$url_a" "$url_b" "$visibility_samples" 2>&1); then
    echo "  $out"
    row "visibility A->B, 2 nodes" "$(echo "$out" | grep -oE 'p50 [0-9.]+ ms'), $(echo "$out" | grep -oE 'p99 [0-9.]+ ms')" \
      "$(echo "$out" | grep -oE 'p90 [0-9.]+ ms'), $(echo "$out" | grep -oE 'max [0-9.]+ ms'), $(echo "$out" | grep -oE 'over [0-9]+ samples' | cut -d' ' -f2) samples"
  else
    echo "$out" | tail -n 5 >&2
    row "visibility A->B, 2 nodes" FAILED "$(echo "$out" | tail -n 1 | cut -c1-120)"
    failed=1
  fi
else
  row "visibility A->B, 2 nodes" FAILED "setup failed"
  failed=1
fi
stop_nodes

# --- summary ---
echo
echo "== Summary: nproc $(nproc), load at the end $(cut -d' ' -f1-3 /proc/loadavg), PostgreSQL $pg_version, $updates updates in batches of $batch over $connections connections"
{
  echo "test|result|notes"
  printf '%s\n' "${summary[@]}"
} | python3 -c '
import sys
rows = [l.rstrip("\n").split("|", 2) for l in sys.stdin if l.strip()]
w0 = max(len(r[0]) for r in rows); w1 = max(len(r[1]) for r in rows)
for i, r in enumerate(rows):
    print(f"{r[0]:<{w0}}  {r[1]:>{w1}}  {r[2]}")
    if i == 0: print("-" * w0 + "  " + "-" * w1 + "  " + "-" * 5)
'
[ "$failed" -eq 0 ] || exit 1
