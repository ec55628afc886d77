#!/usr/bin/env python3
"""Cross-node visibility latency of a cluster (several `spendboard serve --store postgres://…`
nodes on one database): how long after node A answers 200 to a POST does node B's
GET /api/metrics return that update.

Usage: scripts/bench-visibility.py URL_A URL_B [SAMPLES]
  default 200 samples, about 50 ms apart. Each sample POSTs one update (reference wire format,
  as scripts/usage-events.py writes it, stamped now) with a customerId and an eventId unique to
  the run and the sample to node A, notes when the 200 arrived, then polls node B's
  GET /api/metrics?since=<the update's timestamp - 1 ms> (milliseconds since the epoch, see
  docs/api.md) every ~2 ms until the update appears there. Latency = the answer from B that
  first holds it minus the 200 from A; both on this machine's monotonic clock, over kept-alive
  connections. A sample B does not show within 10 s counts as missed (exit status 1).
Prints p50, p90, p99 and max in ms and the sample count.
"""
import datetime, http.client, json, sys, time, urllib.parse, uuid

if len(sys.argv) < 3:
    sys.exit(__doc__)
node_a = urllib.parse.urlparse(sys.argv[1])
node_b = urllib.parse.urlparse(sys.argv[2])
samples = int(sys.argv[3]) if len(sys.argv) > 3 else 200
spacing = 0.050
poll_sleep = 0.002
give_up = 10.0
run = uuid.uuid4().hex[:8]
conn_a = http.client.HTTPConnection(node_a.hostname, node_a.port, timeout=30)
conn_b = http.client.HTTPConnection(node_b.hostname, node_b.port, timeout=30)


def request(conn, method, path, body=None, headers={}):
    """One request on a kept-alive connection; reconnects once if the server closed it."""
    for attempt in (0, 1):
        try:
            conn.request(method, path, body, headers)
            response = conn.getresponse()
            return response.status, response.read()
        except (http.client.HTTPException, ConnectionError):
            conn.close()
            if attempt:
                raise


def percentile(sorted_values, p):
    """Nearest-rank percentile."""
    rank = max(1, -(-len(sorted_values) * p // 100))
    return sorted_values[int(rank) - 1]


latencies = []
missed = []
polls = 0
for i in range(samples):
    started = time.perf_counter()
    now = datetime.datetime.now(datetime.timezone.utc)
    stamp_ms = int(now.timestamp() * 1000)
    customer = f"vis-{run}-{i:05d}"
    update = {"eventId": f"vis-{run}-{i}", "timestamp": now.isoformat(timespec="milliseconds").replace("+00:00", "Z"),
              "tenantId": "tenant-visibility", "customerId": customer, "model": "gpt-4",
              "metrics": {"totalCalls": 1, "totalTokens": 1000, "totalCost": 0.042, "avgLatencyMs": 100}}
    status, data = request(conn_a, "POST", "/api/metrics", json.dumps(update, separators=(",", ":")).encode(),
                           {"Content-Type": "application/x-ndjson"})
    acknowledged = time.perf_counter()
    if status != 200:
        sys.exit(f"bench-visibility: node A answered {status} to sample {i}: {data[:200]!r}")
    # Updates stamped strictly after `since`; the update's own millisecond minus one holds it.
    path = f"/api/metrics?since={stamp_ms - 1}"
    seen = None
    while seen is None:
        status, data = request(conn_b, "GET", path)
        answered = time.perf_counter()
        polls += 1
        if status != 200:
            sys.exit(f"bench-visibility: node B answered {status} to {path}: {data[:200]!r}")
        if any(m.get("customerId") == customer for m in json.loads(data)["metrics"]):
            seen = answered
        elif answered - acknowledged > give_up:
            missed.append(i)
            break
        else:
            time.sleep(poll_sleep)
    if seen is not None:
        latencies.append((seen - acknowledged) * 1000)
    pause = spacing - (time.perf_counter() - started)
    if pause > 0:
        time.sleep(pause)

if latencies:
    ordered = sorted(latencies)
    print(f"visibility A->B over {len(ordered)} samples ({polls} polls of B): "
          f"p50 {percentile(ordered, 50):.1f} ms, p90 {percentile(ordered, 90):.1f} ms, "
          f"p99 {percentile(ordered, 99):.1f} ms, max {ordered[-1]:.1f} ms")
if missed:
    print(f"bench-visibility: {len(missed)} of {samples} updates never showed on node B within {give_up:.0f} s "
          f"(samples {missed[:10]})")
    sys.exit(1)
