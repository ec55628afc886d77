#!/usr/bin/env python3
"""Durable HTTP ingest throughput: POSTs NDJSON batches of usage updates to a running
spendboard (started with --no-simulator on a fresh --data folder, or with --store on a fresh
PostgreSQL database) from several connections, and reports accepted updates per second (the
server answers 200 only once a batch is committed: to SQLite with synchronous=FULL, or as one
PostgreSQL transaction).

Usage: scripts/bench-ingest.py URL[,URL...] [UPDATES] [BATCH] [CONNECTIONS] [recent]
  defaults: 300000 updates, batches of 1000, 4 connections. With "recent", timestamps are
  moved into the last 50 minutes, so every update is also kept as a raw row.
  Several comma-separated URLs (the nodes of a cluster on one database): connection i posts
  to node i % (number of URLs); with more than one, the report line names how many nodes.
A connection that fails (an answer other than 200, or a broken connection) stops, and the
run ends with exit status 1 instead of a figure.
Updates come from scripts/usage-events.py (reference wire format, last 23 hours), with
event ids unique to the run so nothing is a duplicate.
"""
import http.client, os, subprocess, sys, threading, time, urllib.parse, uuid, json

urls = [urllib.parse.urlparse(u.strip()) for u in sys.argv[1].split(",") if u.strip()]
if not urls:
    sys.exit("bench-ingest: no URL given")
total = int(sys.argv[2]) if len(sys.argv) > 2 else 300_000
batch = int(sys.argv[3]) if len(sys.argv) > 3 else 1000
connections = int(sys.argv[4]) if len(sys.argv) > 4 else 4
generator = os.path.join(os.path.dirname(os.path.abspath(__file__)), "usage-events.py")
lines = subprocess.run([sys.executable, generator, str(total)], capture_output=True, text=True, check=True).stdout.splitlines()
run = uuid.uuid4().hex[:8]
lines = [l.replace('"eventId":"e', f'"eventId":"{run}-e', 1) for l in lines]
if len(sys.argv) > 5 and sys.argv[5] == "recent":
    import datetime
    end = datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(seconds=30)
    def moved(i, line):
        t = end - datetime.timedelta(milliseconds=(len(lines) - i) * 3000 * 1000 // len(lines))
        stamp = t.isoformat(timespec="milliseconds").replace("+00:00", "Z")
        start = line.index('"timestamp":"') + 13
        return line[:start] + stamp + line[line.index('"', start):]
    lines = [moved(i, l) for i, l in enumerate(lines)]
bodies = ["\n".join(lines[i:i + batch]).encode() for i in range(0, len(lines), batch)]
accepted = 0
lock = threading.Lock()
errors = []

def failed(url, *details):
    # A single URL keeps the original (status, body) shape; with several, the node comes first.
    errors.append(details if len(urls) == 1 else (url.netloc, *details))

def worker(url, chunks):
    global accepted
    try:
        conn = http.client.HTTPConnection(url.hostname, url.port)
        for body in chunks:
            conn.request("POST", "/api/metrics", body, {"Content-Type": "application/x-ndjson"})
            response = conn.getresponse()
            data = response.read()
            if response.status != 200:
                failed(url, response.status, data[:200])
                return
            with lock:
                accepted += json.loads(data)["accepted"]
    except Exception as error:  # a refused or broken connection must not pass for a short run
        failed(url, f"{type(error).__name__}: {error}"[:200])

threads = [threading.Thread(target=worker, args=(urls[i % len(urls)], bodies[i::connections])) for i in range(connections)]
start = time.perf_counter()
for t in threads: t.start()
for t in threads: t.join()
elapsed = time.perf_counter() - start
if errors:
    print("errors:", errors[:3]); sys.exit(1)
nodes = f" to {len(urls)} nodes" if len(urls) > 1 else ""
print(f"{accepted} updates in {len(bodies)} batches of {batch} over {connections} connections{nodes}: "
      f"{elapsed:.2f} s, {accepted / elapsed:,.0f} updates/s")
