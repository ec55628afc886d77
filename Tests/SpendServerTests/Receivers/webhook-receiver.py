#!/usr/bin/env python3
"""A Standard Webhooks receiver for the end-to-end tests, written apart from Spendboard's own
signer so that it checks the signature independently.

    webhook-receiver.py PORT SECRET LOG [FAIL_FIRST]

Listens on 127.0.0.1:PORT (0: a free port) and prints the port; for each POST it appends one JSON line to LOG: the webhook id,
timestamp and type, the incident id, and whether the signature verifies with SECRET
(whsec_<base64>). It answers 503 to the first FAIL_FIRST requests and 204 afterwards.
"""
import base64
import hashlib
import hmac
import json
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

port, secret, log = int(sys.argv[1]), sys.argv[2], sys.argv[3]
fail_first = int(sys.argv[4]) if len(sys.argv) > 4 else 0
key = base64.b64decode(secret[len("whsec_"):] if secret.startswith("whsec_") else secret)
seen = 0


class Handler(BaseHTTPRequestHandler):
    def do_POST(self):
        global seen
        body = self.rfile.read(int(self.headers.get("content-length", "0")))
        msg_id = self.headers.get("webhook-id", "")
        timestamp = self.headers.get("webhook-timestamp", "")
        signed = f"{msg_id}.{timestamp}.".encode() + body
        expected = base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()
        signatures = [s.split(",", 1)[1] for s in self.headers.get("webhook-signature", "").split() if s.startswith("v1,")]
        verified = any(hmac.compare_digest(expected, s) for s in signatures)
        payload = json.loads(body)
        seen += 1
        status = 503 if seen <= fail_first else 204
        with open(log, "a") as f:
            f.write(json.dumps({
                "id": msg_id, "timestamp": timestamp, "verified": verified, "type": payload.get("type"),
                "incident": payload.get("data", {}).get("id"), "status": status,
            }) + "\n")
        self.send_response(status)
        self.send_header("content-length", "0")
        self.end_headers()

    def log_message(self, *args):
        pass


server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
print(server.server_address[1], flush=True)
server.serve_forever()
