#!/usr/bin/env python3
"""Validity of constrained output under token limits, run through the `slm` binary (not a timed test).

For every schema of Tests/Fixtures/json-schemas.jsonl (plus `--json`), both reference models, each --max-tokens of a
list and each seed, runs `slm generate --json-schema ...` and checks stdout with a strict parser (Python's json.loads:
no raw control characters in strings) and jsonschema (Draft 2020-12, formats checked). A run that exits non-zero
with a one-line `error:` is counted as refused, not invalid. Prints one summary line per (model, limit) and, with
--tokens, the mean generated tokens per answer (the whitespace measurement).

  Benchmarks/constrained-validity.py [--slm PATH] [--limits 5,10,20,40,80] [--seeds 1,2] [--think N] [--tokens]
"""
import argparse, json, os, subprocess, sys, tempfile

import jsonschema

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
MODELS = ["smollm2-135m", "gemma3-270m"]
PROMPT = "Give an example, as JSON."


def check(schema, text):
    """None when text is one JSON value valid under schema, else the reason."""
    try:
        value = json.loads(text)
    except Exception as e:  # strict: raw control characters in strings are errors
        return f"not JSON ({e})"
    if schema is None:
        return None
    v = jsonschema.Draft202012Validator(schema, format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER)
    errs = [e.message for e in v.iter_errors(value)]
    return errs[0] if errs else None


def answer_of(out, think):
    """The answer part of stdout: after the close marker when a reasoning section was asked for."""
    out = out[:-1] if out.endswith("\n") else out   # the newline slm prints at the end
    if think is None:
        return out, True
    k = out.find("</think>")
    rest = out[k + len("</think>"):]
    return (rest[1:] if rest.startswith("\n") else rest, True) if k >= 0 else (out, False)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--slm", default=os.path.join(ROOT, ".build/release/slm"))
    ap.add_argument("--limits", default="5,10,20,40,80")
    ap.add_argument("--seeds", default="1,2")
    ap.add_argument("--models", default=",".join(MODELS))
    ap.add_argument("--think", type=int, default=None, help="--think-budget N for every run")
    ap.add_argument("--extra", default="", help="extra slm arguments, space separated")
    ap.add_argument("--tokens", action="store_true", help="report mean generated tokens per answer")
    ap.add_argument("--log", default=None, help="append one JSON line per run here")
    a = ap.parse_args()
    schemas = [json.loads(l) for l in open(os.path.join(ROOT, "Tests/Fixtures/json-schemas.jsonl")) if l.strip()]
    cases = [(i, s) for i, s in enumerate(schemas)] + [("json", None)]
    tmp = tempfile.mkdtemp()
    log = open(a.log, "a") if a.log else None
    for model in a.models.split(","):
        for limit in [int(x) for x in a.limits.split(",")]:
            runs = invalid = refused = unclosed = tokens = 0
            examples = []
            for idx, schema in cases:
                for seed in a.seeds.split(","):
                    args = [a.slm, "generate", "--model", model, "--no-cache", "--temperature", "0.8", "--seed", seed,
                            "--max-tokens", str(limit), "--stats-file", os.path.join(tmp, "s.json")]
                    if schema is None:
                        args.append("--json")
                    else:
                        path = os.path.join(tmp, f"{idx}.json")
                        with open(path, "w") as f:
                            json.dump(schema, f)
                        args += ["--json-schema", path]
                    if a.think is not None:
                        args += ["--think-budget", str(a.think)]
                    args += [x for x in a.extra.split(" ") if x]
                    p = subprocess.run(args + [PROMPT], capture_output=True)
                    runs += 1
                    rec = {"model": model, "limit": limit, "schema": idx, "seed": seed, "exit": p.returncode}
                    if p.returncode != 0:
                        err = p.stderr.decode("utf-8", "replace").strip().splitlines()[-1:]
                        refused += 1
                        rec["error"] = err[0] if err else ""
                    else:
                        stats = json.load(open(os.path.join(tmp, "s.json")))
                        tokens += stats["generated_tokens"]
                        text, closed = answer_of(p.stdout.decode("utf-8", "replace"), a.think)
                        why = check(schema, text) if closed else "no close marker"
                        if not closed:
                            unclosed += 1
                        rec.update(stats=stats, text=text, invalid=why)
                        if why:
                            invalid += 1
                            if len(examples) < 3:
                                examples.append(f"schema {idx} seed {seed}: {why[:60]}: {text[-40:]!r}")
                    if log:
                        log.write(json.dumps(rec) + "\n")
            done = runs - refused
            line = f"{model:13s} max_tokens={limit:<4d} runs={runs} invalid={invalid} refused={refused}"
            if a.think is not None:
                line += f" no_close_marker={unclosed}"
            if a.tokens and done:
                line += f" mean_tokens={tokens / done:.1f}"
            print(line, flush=True)
            for e in examples:
                print("    " + e, flush=True)


if __name__ == "__main__":
    sys.exit(main())
