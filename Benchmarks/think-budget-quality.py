#!/usr/bin/env python3
"""Does the budget message (--think-message) or the soft budget (--think-soft) help? Runs the schema tasks of
Benchmarks/data/think-tasks.jsonl (short factual questions with a known answer and a one-field schema) with a
reasoning budget on both reference models, once per configuration and seed, and prints per configuration: valid
answers (strict json.loads + jsonschema), correct answers, who ended the reasoning (model / think budget / max
tokens), and mean reasoning and generated tokens. Not a timed test.

  Benchmarks/think-budget-quality.py [--slm PATH] [--budget 32] [--max-tokens 96] [--seeds 1,2,3]
"""
import argparse, json, os, subprocess, sys, tempfile
from collections import Counter

import jsonschema

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CONFIGS = {
    "plain": [],
    "message": ["--think-message", "Time is up; answering now."],
    "soft 0.5": ["--think-soft", "0.5"],
    "message + soft 0.5": ["--think-message", "Time is up; answering now.", "--think-soft", "0.5"],
}


def correct(value, field, accept):
    v = value.get(field) if isinstance(value, dict) else None
    for a in accept:
        if isinstance(a, str) and isinstance(v, str) and a in v.lower():
            return True
        if not isinstance(a, str) and v == a and type(v) == type(a):
            return True
    return False


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--slm", default=os.path.join(ROOT, ".build/release/slm"))
    ap.add_argument("--models", default="smollm2-135m,gemma3-270m")
    ap.add_argument("--budget", default="32")
    ap.add_argument("--max-tokens", default="96")
    ap.add_argument("--seeds", default="1,2,3")
    ap.add_argument("--configs", default=",".join(CONFIGS))
    ap.add_argument("--log", default=None)
    a = ap.parse_args()
    tasks = [json.loads(l) for l in open(os.path.join(ROOT, "Benchmarks/data/think-tasks.jsonl")) if l.strip()]
    tmp = tempfile.mkdtemp()
    log = open(a.log, "a") if a.log else None
    for model in a.models.split(","):
        for name in a.configs.split(","):
            runs = valid = right = 0
            ends, reasoning, generated = Counter(), 0, 0
            for i, t in enumerate(tasks):
                schema = os.path.join(tmp, f"{i}.json")
                json.dump(t["schema"], open(schema, "w"))
                for seed in a.seeds.split(","):
                    stats = os.path.join(tmp, "s.json")
                    args = [a.slm, "generate", "--model", model, "--no-cache", "--quiet", "--seed", seed,
                            "--json-schema", schema, "--think-budget", a.budget, "--max-tokens", a.max_tokens,
                            "--stats-file", stats] + CONFIGS[name] + [t["question"] + " Think first, then answer as JSON."]
                    p = subprocess.run(args, capture_output=True)
                    runs += 1
                    if p.returncode != 0:
                        print("error:", p.stderr.decode()[-200:], file=sys.stderr)
                        continue
                    out = p.stdout.decode("utf-8", "replace")[:-1]
                    k = out.find("</think>")
                    answer = out[k + len("</think>"):].lstrip("\n") if k >= 0 else None
                    s = json.load(open(stats))
                    ends[s["reasoning_end"]] += 1
                    reasoning += s["reasoning_tokens"]
                    generated += s["generated_tokens"]
                    ok = good = False
                    try:
                        value = json.loads(answer)
                        jsonschema.validate(value, t["schema"])
                        ok = True
                        good = correct(value, t["field"], t["accept"])
                    except Exception:
                        pass
                    valid += ok
                    right += good
                    if log:
                        log.write(json.dumps({"model": model, "config": name, "task": i, "seed": seed, "out": out,
                                              "valid": ok, "correct": good, "stats": s}) + "\n")
            print(f"{model:13s} {name:20s} runs={runs} valid={valid} correct={right} "
                  f"ended_by={dict(ends)} mean_reasoning={reasoning / runs:.1f} mean_generated={generated / runs:.1f}",
                  flush=True)


if __name__ == "__main__":
    sys.exit(main())
