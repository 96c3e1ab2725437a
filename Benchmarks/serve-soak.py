#!/usr/bin/env python3
"""Soak: many clients send `slm serve` a random mix of requests for a while, and the server must keep serving.

The mix: plain and streamed chats (greedy and sampled), the long shared system prompt, a prompt beyond the context,
json_object and json_schema answers, a GBNF grammar, stop strings, logprobs, reasoning budgets, /v1/completions with
text and with token ids, /tokenize, /detokenize, /metrics, /v1/models, clients that drop the connection mid-stream, and hostile bodies (malformed JSON,
invalid UTF-8, numbers out of range, wrong types, impossible grammars).

Fails (exit 1) on any 5xx, any unexpected client exception, a server that exits, or a /health that does not answer
200 at the end. Prints the count of each (kind, status).

Usage: Benchmarks/serve-soak.py [--model smollm2-135m] [--threads 2] [--parallel 8] [--ctx 2048]
       [--seconds 240] [--clients 12] [--seed 0] [--port PORT]
With --port it drives a server already running there (and leaves it running) instead of starting one.
"""
import argparse, http.client, importlib.util, json, random, socket, sys, tempfile, threading, time
from pathlib import Path

_spec = importlib.util.spec_from_file_location("serve_load", Path(__file__).resolve().parent / "serve-load.py")
sl = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(sl)

FACTS = " ".join(f"Fact {i}: the value of item {i} is {i * 7 % 101}." for i in range(220))  # beyond a 2048 context
SCHEMA = {"type": "object", "properties": {"a": {"type": "integer"}, "b": {"type": "string", "maxLength": 8}},
          "required": ["a", "b"], "additionalProperties": False}
KINDS = ["chat", "chat", "stream", "shared", "long", "json", "schema", "grammar", "stop", "logprobs", "reasoning",
         "drop", "completion", "ids", "tokenize", "detokenize", "metrics", "models", "hostile"]


def post(port, path, body):
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=300)
    c.request("POST", path, body if isinstance(body, bytes) else json.dumps(body), {"Content-Type": "application/json"})
    r = c.getresponse()
    r.read()
    c.close()
    return r.status


def get(port, path):
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=300)
    c.request("GET", path)
    r = c.getresponse()
    r.read()
    c.close()
    return r.status


def drop(port, body, after):
    """Sends a streaming request, reads `after` bytes of the answer, and closes the connection."""
    data = json.dumps(body).encode()
    s = socket.create_connection(("127.0.0.1", port), timeout=300)
    s.sendall(b"POST /v1/chat/completions HTTP/1.1\r\nHost: soak\r\nContent-Type: application/json\r\n"
              b"Content-Length: %d\r\n\r\n%s" % (len(data), data))
    got = s.recv(after)
    s.close()
    return int(got[9:12]) if got.startswith(b"HTTP/1.1 ") and len(got) >= 12 else "cut"


def one(port, rng, vocab):
    kind = rng.choice(KINDS)
    msgs = [{"role": "system", "content": "You are a helpful assistant."},
            {"role": "user", "content": f"Say something about {rng.choice(sl.TOPICS)}."}]
    b = {"messages": msgs, "max_tokens": rng.choice([1, 8, 32, 96]), "temperature": rng.choice([0, 0.7, 1.3]),
         "seed": rng.randrange(1 << 31), "top_k": rng.choice([0, 1, 40]), "top_p": rng.choice([1, 0.9])}
    chat = "/v1/chat/completions"
    if kind == "stream":
        b.update(stream=True, stream_options={"include_usage": True})
    elif kind == "shared":
        msgs[0]["content"] = sl.LONG_SYSTEM
    elif kind == "long":
        msgs[1]["content"] = FACTS + " Summarize."
    elif kind == "json":
        b["response_format"] = {"type": "json_object"}
    elif kind == "schema":
        b["response_format"] = {"type": "json_schema", "json_schema": {"name": "x", "strict": True, "schema": SCHEMA}}
    elif kind == "grammar":
        b["grammar"] = 'root ::= ("yes" | "no") " " [a-z]{1,10}'
    elif kind == "stop":
        b["stop"] = [".", "\n", "the"]
    elif kind == "logprobs":
        b.update(logprobs=True, top_logprobs=rng.choice([0, 5, 20]))
    elif kind == "reasoning":
        b["reasoning_budget"] = rng.choice([0, 4, 16])
    elif kind == "drop":
        b.update(stream=True, max_tokens=200)
        return kind, drop(port, b, rng.choice([1, 200, 2000]))
    elif kind == "completion":
        return kind, post(port, "/v1/completions", {"prompt": "Once upon a time", "max_tokens": 16, "seed": 3})
    elif kind == "ids":
        ids = [rng.randrange(vocab) for _ in range(rng.randrange(1, 300))]
        return kind, post(port, "/v1/completions", {"prompt": ids, "max_tokens": 8})
    elif kind == "tokenize":
        return kind, post(port, "/tokenize", {"content": "héllo wörld 你好"})
    elif kind == "detokenize":
        return kind, post(port, "/detokenize", {"tokens": [rng.randrange(vocab) for _ in range(rng.randrange(0, 50))]})
    elif kind == "metrics":
        return kind, get(port, "/metrics")
    elif kind == "models":
        return kind, get(port, "/v1/models")
    elif kind == "hostile":
        bad = rng.choice([b"{", b"\xff\xfe", json.dumps({"messages": msgs, "max_tokens": 10**19}).encode(),
                          json.dumps({"messages": msgs, "temperature": "hot"}).encode(),
                          json.dumps({"messages": msgs, "max_tokens": 5000}).encode(),
                          json.dumps({"messages": msgs, "grammar": "root ::= x"}).encode(),
                          json.dumps({"messages": [{"role": "user", "content": "\ud800"}]}).encode()])
        return kind, post(port, chat, bad)
    return kind, post(port, chat, b)


def port_open(port):
    try:
        socket.create_connection(("127.0.0.1", port), timeout=5).close()
        return True
    except OSError:
        return False


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", default="smollm2-135m")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--parallel", type=int, default=8)
    ap.add_argument("--ctx", type=int, default=2048)
    ap.add_argument("--seconds", type=float, default=240)
    ap.add_argument("--clients", type=int, default=12)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--port", type=int, help="a running server's port (127.0.0.1)")
    a = ap.parse_args()
    server = None if a.port else sl.Server("slm", sl.model_path(a.model), a.threads, a.parallel, a.ctx,
                                           cache_dir=tempfile.mkdtemp())
    port = a.port or server.port

    def alive():  # a server started by someone else: alive while its port accepts connections
        return server.proc.poll() is None if server else port_open(port)

    counts, failures, lock = {}, [], threading.Lock()
    vocab = 49152 if a.model == "smollm2-135m" else 262144

    def client(i):
        rng = random.Random(a.seed * 1000 + i)
        end = time.time() + a.seconds
        while time.time() < end and alive():
            try:
                kind, status = one(port, rng, vocab)
            except Exception as e:  # noqa: BLE001
                kind, status = "exception", type(e).__name__
            with lock:
                counts[(kind, status)] = counts.get((kind, status), 0) + 1
                if kind == "exception" or (isinstance(status, int) and status >= 500):
                    failures.append(f"{kind} {status}")

    sl.log(f"soak: {a.clients} clients for {a.seconds:.0f} s against slm serve --parallel {a.parallel}")
    threads = [threading.Thread(target=client, args=(i,)) for i in range(a.clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    up = alive()
    healthy = False
    if up:
        try:
            c = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
            c.request("GET", "/health")
            healthy = c.getresponse().status == 200
        except OSError:
            pass
        if server:
            server.stop()
    for (kind, status), n in sorted(counts.items(), key=lambda kv: (kv[0][0], str(kv[0][1]))):
        print(f"{kind:10} {status!s:6} {n}")
    total = sum(counts.values())
    print(f"{total} requests; server {'alive' if up else 'EXITED'}, /health {'200' if healthy else 'FAILED'}, "
          f"{len(failures)} failures")
    sys.exit(0 if up and healthy and not failures else 1)


if __name__ == "__main__":
    main()
