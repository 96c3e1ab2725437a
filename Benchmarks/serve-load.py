#!/usr/bin/env python3
"""Load generator: N concurrent streaming chat clients against `slm serve` and llama.cpp's `llama-server`, started on
the same GGUF file with the same threads and `--parallel N`, alternately in one run (round by round), so that machine
noise hits both alike.

Workloads:
  decode  a one-line system prompt, distinct user turns, 256-token answers (ignore_eos), temperature 0.8 with seeds.
  shared  the same ~850-token system prompt on every request, distinct user turns, 64-token answers.
  burst   the decode workload at N = 4 while a new ~2,000-token prompt arrives 1 s in (chunked prefill must keep the
          running streams moving): inter-token latency of the running streams.
  ttft    time to first token of a request whose system prompt is cold, then warm (another user turn), then warm from
          the disk tier after a server restart (slm only).
  rss     idle RSS, then RSS after each of 10 blocks of 100 short requests (slm only).

Per N it prints aggregate generated tok/s (all completion tokens / wall time of the batch), time to first token
p50/p99, inter-token latency p50/p99 (gaps between streamed content chunks), and the ratios slm / llama-server.
llama-server is a yardstick only (built from the llama-cpp-python source distribution; see
../shared/reference/README.md); its path comes from --llama-server or $LLAMA_SERVER.

Usage: Benchmarks/serve-load.py [--model smollm2-135m] [--threads 2] [--n 1,2,4,8] [--rounds 3]
       [--workloads decode,shared,burst,ttft,rss] [--llama-server PATH] [--requests-per-client 2] [--json FILE]
"""
import argparse, http.client, json, os, re, signal, statistics, subprocess, sys, tempfile, threading, time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FILES = {"smollm2-135m": "SmolLM2-135M-Instruct.Q4_1.gguf", "gemma3-270m": "gemma-3-270m-q4_k_m.gguf"}
TOPICS = ["owls", "volcanoes", "bread", "the moon", "rivers", "chess", "glass", "bees", "trains", "copper", "rain",
          "maps", "salt", "clocks", "whales", "paper"]
LONG_SYSTEM = ("You are the support assistant of Northwind Outfitters, a retailer of outdoor equipment. " +
               "Answer politely and precisely; quote order numbers exactly; never invent policies. " * 2 +
               " ".join(f"Policy {i}: items of category {i} may be returned within {20 + i} days if unused, with the "
                        f"receipt, and refunds go to the original payment method within {3 + i % 5} business days."
                        for i in range(22)))


def log(*a):
    print(*a, file=sys.stderr, flush=True)


def pct(xs, p):
    if not xs:
        return float("nan")
    xs = sorted(xs)
    k = (len(xs) - 1) * p / 100
    lo, hi = int(k), min(int(k) + 1, len(xs) - 1)
    return xs[lo] + (xs[hi] - xs[lo]) * (k - lo)


def model_path(name):
    if os.path.exists(name):
        return name
    home = Path(os.environ.get("SLM_HOME", Path.home() / ".cache" / "slm"))
    return str(home / "models" / FILES[name])


class Server:
    """A server process on a free port; `base` is http://127.0.0.1:PORT."""

    def __init__(self, kind, model, threads, parallel, ctx, cache_dir=None, llama_server=None):
        self.kind = kind
        port = free_port()
        if kind == "slm":
            exe = ROOT / ".build" / "release" / "slm"
            cmd = [str(exe), "serve", "--model", model, "--threads", str(threads), "--parallel", str(parallel),
                   "--ctx", str(ctx), "--port", str(port), "--quiet"]
            cmd += ["--cache-dir", cache_dir] if cache_dir else ["--no-cache"]
        else:
            # llama-server splits -c across its slots: give each slot the same context as slm's.
            cmd = [llama_server, "-m", model, "-t", str(threads), "-tb", str(threads), "-np", str(parallel),
                   "-c", str(ctx * parallel), "--port", str(port), "--host", "127.0.0.1", "-fa", "on"]
        self.proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.base = f"http://127.0.0.1:{port}"
        self.port = port
        deadline = time.time() + 120
        while time.time() < deadline:
            try:
                c = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
                c.request("GET", "/health")
                if c.getresponse().status == 200:
                    return
            except OSError:
                pass
            time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"{kind} did not start: {' '.join(cmd)}")

    def rss_mb(self):
        with open(f"/proc/{self.proc.pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
        return float("nan")

    def stop(self):
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


def free_port():
    import socket
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


def stream_chat(port, system, user, max_tokens, seed, ignore_eos=True):
    """One streaming request: (completion tokens, time to first content chunk, gaps between chunks, wall time)."""
    body = {"messages": [{"role": "system", "content": system}, {"role": "user", "content": user}],
            "max_tokens": max_tokens, "temperature": 0.8, "seed": seed, "stream": True,
            "stream_options": {"include_usage": True}, "ignore_eos": ignore_eos}
    t0 = time.perf_counter()
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=600)
    c.request("POST", "/v1/chat/completions", json.dumps(body), {"Content-Type": "application/json"})
    r = c.getresponse()
    if r.status != 200:
        raise RuntimeError(f"HTTP {r.status}: {r.read()[:300]}")
    first, last, gaps, chunks, usage = None, None, [], 0, None
    buf = b""
    while True:
        data = r.read1(65536)
        if not data:
            break
        buf += data
        while b"\n\n" in buf:
            event, buf = buf.split(b"\n\n", 1)
            if not event.startswith(b"data: "):
                continue
            payload = event[6:]
            if payload == b"[DONE]":
                continue
            obj = json.loads(payload)
            if obj.get("usage"):
                usage = obj["usage"]
            for ch in obj.get("choices") or []:
                delta = ch.get("delta") or {}
                if delta.get("content") or delta.get("reasoning_content"):
                    now = time.perf_counter()
                    if first is None:
                        first = now - t0
                    else:
                        gaps.append(now - last)
                    last = now
                    chunks += 1
    c.close()
    tokens = usage["completion_tokens"] if usage else chunks
    return tokens, first, gaps, time.perf_counter() - t0


def run_batch(port, n, workload, per_client, round_index):
    """n clients, each sending `per_client` requests back to back. Returns aggregate figures."""
    results, errors = [], []
    system = "You are a helpful assistant." if workload == "decode" else LONG_SYSTEM
    max_tokens = 256 if workload == "decode" else 64

    def client(i):
        for j in range(per_client):
            k = (round_index * 97 + i * per_client + j) % len(TOPICS)
            user = f"Write about {TOPICS[k]} (request {round_index}.{i}.{j})."
            try:
                results.append(stream_chat(port, system, user, max_tokens, seed=1000 * round_index + 10 * i + j))
            except Exception as e:  # noqa: BLE001
                errors.append(repr(e))

    t0 = time.perf_counter()
    threads = [threading.Thread(target=client, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.perf_counter() - t0
    if errors:
        raise RuntimeError(errors[0])
    tokens = sum(r[0] for r in results)
    ttft = [r[1] for r in results if r[1] is not None]
    gaps = [g for r in results for g in r[2]]
    return {"tok_s": tokens / wall, "ttft_p50": pct(ttft, 50), "ttft_p99": pct(ttft, 99), "itl_p50": pct(gaps, 50),
            "itl_p99": pct(gaps, 99), "tokens": tokens, "wall": wall}


def run_burst(port, round_index):
    """Decode workload at N = 4; a ~2,000-token prompt arrives 1 s in. ITL of the four running streams."""
    out = {}

    def long_request():
        time.sleep(1.0)
        big = "Summarise the following notes. " + " ".join(f"Note {i}: the shipment of crate {i} left dock "
                                                           f"{i % 7} at {i % 24}:00." for i in range(130))
        out["long"] = stream_chat(port, "You are a helpful assistant.", big, 8, seed=5)

    t = threading.Thread(target=long_request)
    t.start()
    r = run_batch(port, 4, "decode", 1, round_index)
    t.join()
    r["long_ttft"] = out["long"][1]
    return r


def median_dict(rows):
    keys = rows[0].keys()
    return {k: statistics.median(r[k] for r in rows) for k in keys}


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", default="smollm2-135m")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--n", default="1,2,4,8")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--requests-per-client", type=int, default=2)
    ap.add_argument("--workloads", default="decode,shared,burst,ttft,rss")
    ap.add_argument("--llama-server", default=os.environ.get("LLAMA_SERVER", "/work/llama/build/bin/llama-server"))
    ap.add_argument("--ctx", type=int, default=2048)
    ap.add_argument("--json")
    a = ap.parse_args()
    print("| workload | N | slm tok/s | llama-server tok/s | ratio | slm TTFT p50/p99 ms | llama TTFT p50/p99 ms | "
          "slm ITL p50/p99 ms | llama ITL p50/p99 ms |\n|---|---:|---:|---:|---:|---|---|---|---|", flush=True)
    model = model_path(a.model)
    ns = [int(x) for x in a.n.split(",")]
    workloads = a.workloads.split(",")
    have_llama = os.path.exists(a.llama_server)
    if not have_llama:
        log(f"llama-server not found at {a.llama_server}: slm only")
    report = {"model": a.model, "threads": a.threads, "cpu": cpu_name(), "results": {}}

    for workload in [w for w in ("decode", "shared") if w in workloads]:
        for n in ns:
            rows = {"slm": [], "llama": []}
            for rnd in range(a.rounds):
                for kind in ["slm", "llama"] if have_llama else ["slm"]:
                    cache = tempfile.mkdtemp(prefix="slm-load-") if kind == "slm" else None
                    s = Server(kind, model, a.threads, n, a.ctx, cache_dir=cache, llama_server=a.llama_server)
                    try:
                        rows[kind].append(run_batch(s.port, n, workload, a.requests_per_client, rnd))
                    finally:
                        s.stop()
                    log(f"{workload} N={n} round {rnd} {kind}: {rows[kind][-1]['tok_s']:.1f} tok/s")
            med = {k: median_dict(v) for k, v in rows.items() if v}
            report["results"][f"{workload}/N={n}"] = med
            print_row(workload, n, med)

    if "burst" in workloads:
        rows = {"slm": [], "llama": []}
        for rnd in range(a.rounds):
            for kind in ["slm", "llama"] if have_llama else ["slm"]:
                s = Server(kind, model, a.threads, 5, a.ctx * 2, llama_server=a.llama_server)
                try:
                    rows[kind].append(run_burst(s.port, rnd))
                finally:
                    s.stop()
        med = {k: median_dict(v) for k, v in rows.items() if v}
        report["results"]["burst/N=4"] = med
        print_row("burst", 4, med)

    if "ttft" in workloads:
        report["results"]["ttft"] = ttft_check(model, a)
    if "rss" in workloads:
        report["results"]["rss"] = rss_check(model, a)
    if a.json:
        Path(a.json).write_text(json.dumps(report, indent=1))


def print_row(workload, n, med):
    s, l = med.get("slm"), med.get("llama")
    def f(x, scale=1, fmt="{:.1f}"):
        return fmt.format(x * scale) if x == x else "-"
    line = (f"| {workload} | {n} | {f(s['tok_s'])} | {f(l['tok_s']) if l else '-'} | "
            f"{f(s['tok_s'] / l['tok_s'], fmt='{:.2f}x') if l else '-'} | "
            f"{f(s['ttft_p50'], 1000, '{:.0f}')}/{f(s['ttft_p99'], 1000, '{:.0f}')} | "
            f"{(f(l['ttft_p50'], 1000, '{:.0f}') + '/' + f(l['ttft_p99'], 1000, '{:.0f}')) if l else '-'} | "
            f"{f(s['itl_p50'], 1000)}/{f(s['itl_p99'], 1000)} | "
            f"{(f(l['itl_p50'], 1000) + '/' + f(l['itl_p99'], 1000)) if l else '-'} |")
    if "long_ttft" in s:
        line += f" long prompt TTFT slm {s['long_ttft'] * 1000:.0f} ms" + (
            f", llama {l['long_ttft'] * 1000:.0f} ms" if l else "")
    print(line, flush=True)


def ttft_check(model, a):
    """Cold, warm, and warm-after-restart time to first token with the long shared system prompt (slm)."""
    cache = tempfile.mkdtemp(prefix="slm-ttft-")
    out = {}
    s = Server("slm", model, a.threads, 1, a.ctx, cache_dir=cache)
    try:
        out["cold"] = stream_chat(s.port, LONG_SYSTEM, "Where is my order 1234?", 4, 1)[1]
        out["warm"] = stream_chat(s.port, LONG_SYSTEM, "Can I return a tent?", 4, 1)[1]
    finally:
        s.stop()
    s = Server("slm", model, a.threads, 1, a.ctx, cache_dir=cache)
    try:
        out["restart"] = stream_chat(s.port, LONG_SYSTEM, "Do you ship abroad?", 4, 1)[1]
    finally:
        s.stop()
    print(f"ttft cold {out['cold'] * 1000:.0f} ms, warm {out['warm'] * 1000:.0f} ms "
          f"({out['warm'] / out['cold'] * 100:.1f}%), after restart {out['restart'] * 1000:.0f} ms "
          f"({out['restart'] / out['cold'] * 100:.1f}%)", flush=True)
    return out


def rss_check(model, a):
    """Idle RSS against the model file; RSS after every 100 of 1,000 short requests (4 clients)."""
    s = Server("slm", model, a.threads, 4, a.ctx, cache_dir=tempfile.mkdtemp(prefix="slm-rss-"))
    out = {"file_mb": os.path.getsize(model) / 1048576}
    try:
        time.sleep(0.5)
        out["idle_mb"] = s.rss_mb()
        out["after"] = []
        for block in range(10):
            def client(i):
                for j in range(25):
                    stream_chat(s.port, "You are brief.", f"Say {block}.{i}.{j}", 8, seed=j, ignore_eos=True)
            ts = [threading.Thread(target=client, args=(i,)) for i in range(4)]
            for t in ts:
                t.start()
            for t in ts:
                t.join()
            out["after"].append(s.rss_mb())
    finally:
        s.stop()
    a100, a1000 = out["after"][0], out["after"][-1]
    print(f"rss: file {out['file_mb']:.1f} MB, idle {out['idle_mb']:.1f} MB (file + {out['idle_mb'] - out['file_mb']:.1f}), "
          f"after 100 requests {a100:.1f} MB, after 1,000 {a1000:.1f} MB ({(a1000 / a100 - 1) * 100:+.1f}%)", flush=True)
    return out


def cpu_name():
    flags = open("/proc/cpuinfo").read()
    isa = "AVX-512" if "avx512f" in flags else "AVX2"
    name = re.search(r"model name\s*:\s*(.*)", flags)
    return f"{name.group(1) if name else '?'} ({isa}, {os.cpu_count()} cores)"


if __name__ == "__main__":
    main()
