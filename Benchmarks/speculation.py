#!/usr/bin/env python3
"""Decode speed of `slm generate` with and without prompt-lookup speculation, on a copy-heavy task set
(data/speculation-copy.jsonl: extract fields from a given text, reformat a given list, repeat-and-edit a paragraph)
and a free-form chat set (data/speculation-chat.jsonl).

For each model, R rounds; each round runs every prompt once with speculation (default) and once with
--no-speculate, the order of the two modes alternating between rounds so that machine noise hits both alike. A
round's figure for a set and mode is its decode tok/s over the whole set (tokens after the first / decode time, from
--stats-file); the table gives the median over rounds of each mode and their ratio, and the range of the rounds' own
ratios. Every run's text is compared between the two modes: speculation must change nothing (a mismatch is an
error, exit 1).

With --draft-model, the speculating runs take their drafts from that model (`slm generate --draft-model`) as well as
from the prompt; a model may also be given as a path (e.g. an F16 rewrite of SmolLM2 with its Q4_1 file drafting).

Usage: Benchmarks/speculation.py [--models smollm2-135m gemma3-270m|PATH ...] [--threads 2] [--rounds 3] [-n 128]
       [--temp 0] [--seed 1] [--draft-max N] [--draft-min-match N] [--draft-model NAME|PATH]
"""
import argparse, json, os, statistics, subprocess, sys, tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "Benchmarks" / "data"
FILES = {"smollm2-135m": "SmolLM2-135M-Instruct.Q4_1.gguf", "gemma3-270m": "gemma-3-270m-q4_k_m.gguf"}
SETS = {"copy-heavy": DATA / "speculation-copy.jsonl", "free-form": DATA / "speculation-chat.jsonl"}


def log(*a):
    print(*a, file=sys.stderr, flush=True)


def model_path(name):
    if os.path.exists(name):
        return Path(name)
    home = Path(os.environ.get("SLM_HOME", Path.home() / ".cache" / "slm"))
    return home / "models" / FILES[name]


def run(slm, model, prompt, args, speculate, stats_path):
    cmd = [str(slm), "generate", "-m", str(model), "-t", str(args.threads), "-n", str(args.max_tokens),
           "--temp", str(args.temp), "--seed", str(args.seed), "--no-cache", "--no-escape", "--stats-file", stats_path,
           "-p", prompt]
    if not speculate:
        cmd.append("--no-speculate")
    else:
        if args.draft_max:
            cmd += ["--draft-max", str(args.draft_max)]
        if args.draft_min_match:
            cmd += ["--draft-min-match", str(args.draft_min_match)]
        if args.draft_model:
            cmd += ["--draft-model", str(model_path(args.draft_model))]
    out = subprocess.run(cmd, capture_output=True, text=True)
    if out.returncode != 0:
        sys.exit(f"error: {' '.join(cmd[:6])}...: {out.stderr.strip()}")
    with open(stats_path) as f:
        return out.stdout, json.load(f)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--models", nargs="+", default=list(FILES))
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("-n", "--max-tokens", type=int, default=128)
    ap.add_argument("--temp", type=float, default=0.0)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--draft-max", type=int, default=0)
    ap.add_argument("--draft-min-match", type=int, default=0)
    ap.add_argument("--draft-model", help="a smaller model sharing the tokenizer, drafting beside prompt lookup")
    ap.add_argument("--json", help="also write every round's figures here")
    args = ap.parse_args()
    slm = Path(os.environ.get("SLM_BIN", ROOT / ".build" / "release" / "slm"))
    sets = {k: [json.loads(l) for l in open(p) if l.strip()] for k, p in SETS.items()}
    log(f"load average before: {os.getloadavg()[0]:.2f}")
    rows, record, mismatches = [], {}, 0
    with tempfile.TemporaryDirectory() as tmp:
        stats_path = os.path.join(tmp, "stats.json")
        for name in args.models:
            model = model_path(name)
            # figures[set][mode] = per-round (tokens, ms, drafted, accepted)
            figures = {s: {True: [], False: []} for s in sets}
            texts = {}
            for r in range(args.rounds):
                modes = [True, False] if r % 2 == 0 else [False, True]
                for mode in modes:
                    for s, tasks in sets.items():
                        tok = ms = drafted = accepted = 0
                        for t in tasks:
                            text, st = run(slm, model, t["prompt"], args, mode, stats_path)
                            key = (s, t["id"])
                            if key in texts and texts[key] != text:
                                mismatches += 1
                                log(f"MISMATCH {name} {t['id']} (speculate={mode})")
                            texts.setdefault(key, text)
                            tok += max(st["generated_tokens"] - 1, 0)
                            ms += st["decode_ms"]
                            drafted += st.get("drafted_tokens", 0)
                            accepted += st.get("accepted_tokens", 0)
                        figures[s][mode].append((tok, ms, drafted, accepted))
                log(f"{name} round {r + 1}/{args.rounds} done (load {os.getloadavg()[0]:.2f})")
            for s in sets:
                on = [t / (m / 1000) for t, m, _, _ in figures[s][True]]
                off = [t / (m / 1000) for t, m, _, _ in figures[s][False]]
                ratios = [a / b for a, b in zip(on, off)]
                _, _, d, a = figures[s][True][0]
                rows.append((name, s, statistics.median(off), statistics.median(on),
                             statistics.median(on) / statistics.median(off), min(ratios), max(ratios), d, a))
                record[f"{name}/{s}"] = {"speculate_tok_s": on, "no_speculate_tok_s": off, "drafted": d,
                                         "accepted": a}
    log(f"load average after: {os.getloadavg()[0]:.2f}")
    print(f"| model{' (draft ' + Path(args.draft_model).name + ')' if args.draft_model else ''} | set | --no-speculate tok/s | speculate tok/s | ratio | rounds' ratios | drafted | accepted |")
    print("|---|---|---:|---:|---:|---|---:|---:|")
    for n, s, off, on, ratio, lo, hi, d, a in rows:
        print(f"| {n} | {s} | {off:.1f} | {on:.1f} | {ratio:.2f}x | {lo:.2f}-{hi:.2f}x | {d} | {a} |")
    print(f"\noutputs identical with and without speculation: {'yes' if mismatches == 0 else f'NO ({mismatches})'}")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(record, f, indent=1)
    sys.exit(1 if mismatches else 0)


if __name__ == "__main__":
    main()
