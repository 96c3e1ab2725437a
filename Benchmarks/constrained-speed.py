#!/usr/bin/env python3
"""Constrained decode speed of two slm binaries side by side (the machine is shared: rounds alternate which binary
goes first, and the result is the ratio of the medians of decode_tokens_per_s).

The workloads are GBNF grammars (the same grammar for both binaries, unlike JSON Schema, whose conversion may
differ between them), long enough that --max-tokens never binds, so the same seed gives the same tokens in both
(checked: a round whose outputs differ is reported).

  Benchmarks/constrained-speed.py OLD_SLM NEW_SLM [--rounds 5] [--threads 2]
"""
import argparse, json, os, statistics, subprocess, sys, tempfile

GRAMMARS = {
    # 60 integers in an array: many short tokens, the grammar state changes every token.
    "numbers": 'root ::= "[" num ("," num){59} "]"\nnum ::= [1-9] [0-9]{0,2}\n',
    # A long string: the state loops inside one class, the case the mask memo serves.
    "prose": 'root ::= "\\"" [^"\\\\\\x00-\\x1f]{1,400} "\\""\n',
}
PROMPTS = {
    "numbers": "List sixty random numbers between 1 and 999 as a JSON array.",
    "prose": "Write a long paragraph about the history of computing, as a JSON string.",
}


def run(slm, model, grammar, prompt, threads, tmp):
    stats = os.path.join(tmp, "s.json")
    p = subprocess.run([slm, "generate", "--model", model, "--no-cache", "--quiet", "--grammar", grammar,
                        "--temperature", "0.8", "--seed", "1", "--max-tokens", "600", "--threads", str(threads),
                        "--stats-file", stats, prompt], capture_output=True, check=True)
    s = json.load(open(stats))
    return s["decode_tokens_per_s"], s["generated_tokens"], p.stdout


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("old")
    ap.add_argument("new")
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--models", default="smollm2-135m,gemma3-270m")
    a = ap.parse_args()
    tmp = tempfile.mkdtemp()
    for model in a.models.split(","):
        for name, text in GRAMMARS.items():
            path = os.path.join(tmp, name + ".gbnf")
            open(path, "w").write(text)
            rates = {"old": [], "new": []}
            tokens, same = set(), True
            for r in range(a.rounds):
                order = ["old", "new"] if r % 2 == 0 else ["new", "old"]
                outs = {}
                for side in order:
                    rate, n, out = run(getattr(a, side), model, path, PROMPTS[name], a.threads, tmp)
                    rates[side].append(rate)
                    tokens.add(n)
                    outs[side] = out
                same = same and outs["old"] == outs["new"]
            mo, mn = statistics.median(rates["old"]), statistics.median(rates["new"])
            ratios = [n / o for o, n in zip(rates["old"], rates["new"])]
            print(f"{model:13s} {name:8s} tokens={sorted(tokens)} old={mo:6.1f} new={mn:6.1f} tok/s "
                  f"new/old={mn / mo:.3f} (per-round {min(ratios):.3f}-{max(ratios):.3f}) same_output={same}", flush=True)


if __name__ == "__main__":
    sys.exit(main())
