#!/usr/bin/env python3
"""A Hugging Face-like HTTP server on loopback for the model-store tests (no network is used).

argv: ROOT [LOGFILE]. Serves files under ROOT; GET /api/models/ORG/REPO answers the hub's file listing
({"siblings": [{"rfilename", "size", "lfs": {"sha256", "size"}}]}) from ROOT/api.json, a JSON object mapping "ORG/REPO"
to a list of {"rfilename", "size", "sha256"}; GET /ORG/REPO/resolve/main/FILE serves ROOT/ORG/REPO/FILE. Honours
"Range: bytes=N-" with 206 and Content-Range. Behaviour for the next requests comes from ROOT/control.json, read on
every request:
  "drop_after": N   close the connection after N body bytes of a file (once: the key is then removed)
  "stall_after": N  after N body bytes, send nothing more for 60 s (once)
  "chunk_delay": S  sleep S seconds between 16 KiB chunks (a slow server)
  "ignore_range": true  answer 200 with the whole file even when a range is asked for
Each request is appended to LOGFILE as one line: "METHOD PATH RANGE". Prints "PORT <n>" once listening.
"""
import json, os, sys, time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

ROOT = os.path.abspath(sys.argv[1])
LOG = sys.argv[2] if len(sys.argv) > 2 else None
CHUNK = 16384


def control():
    try:
        with open(os.path.join(ROOT, "control.json")) as f:
            return json.load(f)
    except (OSError, ValueError):
        return {}


def consume(key):
    c = control()
    value = c.pop(key, None)
    if value is not None:
        with open(os.path.join(ROOT, "control.json"), "w") as f:
            json.dump(c, f)
    return value


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def send_bytes(self, status, body, content_type="application/octet-stream"):
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        rng = self.headers.get("Range", "-")
        if LOG:
            with open(LOG, "a") as f:
                f.write("GET %s %s\n" % (self.path, rng))
        path = self.path.split("?")[0]
        if path.startswith("/api/models/"):
            repo = path[len("/api/models/"):]
            try:
                with open(os.path.join(ROOT, "api.json")) as f:
                    listing = json.load(f).get(repo)
            except (OSError, ValueError):
                listing = None
            if listing is None:
                return self.send_bytes(404, b'{"error": "Repository not found"}', "application/json")
            siblings = [{"rfilename": e["rfilename"], "size": e.get("size"),
                         "lfs": {"sha256": e.get("sha256"), "size": e.get("size")}} for e in listing]
            return self.send_bytes(200, json.dumps({"id": repo, "siblings": siblings}).encode(), "application/json")
        parts = path.strip("/").split("/")
        if len(parts) >= 5 and parts[2] == "resolve":
            rel = os.path.join(parts[0], parts[1], *parts[4:])
        else:
            rel = os.path.join(*parts) if parts != [""] else ""
        full = os.path.normpath(os.path.join(ROOT, rel))
        if not full.startswith(ROOT) or not os.path.isfile(full):
            return self.send_bytes(404, b"not found", "text/plain")
        size = os.path.getsize(full)
        start = 0
        c = control()
        if rng.startswith("bytes=") and not c.get("ignore_range"):
            start = int(rng[6:].split("-")[0])
            if start >= size:
                self.send_response(416)
                self.send_header("Content-Range", "bytes */%d" % size)
                self.send_header("Content-Length", "0")
                self.send_header("Connection", "close")
                self.end_headers()
                return
            self.send_response(206)
            self.send_header("Content-Range", "bytes %d-%d/%d" % (start, size - 1, size))
        else:
            self.send_response(200)
        self.send_header("Content-Type", "application/octet-stream")
        self.send_header("Content-Length", str(size - start))
        self.send_header("Connection", "close")
        self.end_headers()
        drop = consume("drop_after")
        stall = consume("stall_after")
        delay = c.get("chunk_delay", 0)
        sent = 0
        with open(full, "rb") as f:
            f.seek(start)
            while True:
                block = f.read(CHUNK)
                if not block:
                    break
                if drop is not None and sent + len(block) > drop:
                    self.wfile.write(block[: max(0, drop - sent)])
                    self.wfile.flush()
                    self.connection.shutdown(2)
                    return
                if stall is not None and sent + len(block) > stall:
                    self.wfile.write(block[: max(0, stall - sent)])
                    self.wfile.flush()
                    time.sleep(60)
                    return
                self.wfile.write(block)
                sent += len(block)
                if delay:
                    self.wfile.flush()
                    time.sleep(delay)


server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
server.daemon_threads = True
print("PORT %d" % server.server_address[1], flush=True)
server.serve_forever()
