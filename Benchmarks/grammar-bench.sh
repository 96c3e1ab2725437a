#!/usr/bin/env bash
# Constrained vs free decoding speed, both reference models (not a timed test; the machine is shared, so the two
# runs of a pair go back to back and the result is their ratio).
#   Benchmarks/grammar-bench.sh [path/to/slm]   (default .build/release/slm)
# For each model: a schema forcing a long output (an array of exactly 60 integers 0..999) is run with --json-schema;
# then the same prompt runs free with --ignore-eos for the same number of tokens. Prints decode tok/s of both, the
# ratio, and the grammar compile time slm reports on stderr.
set -euo pipefail
SLM=${1:-.build/release/slm}
STORE=${SLM_HOME:-$HOME/.cache/slm}/models
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
cat > "$TMP/long.json" <<'JSON'
{"type":"array","items":{"type":"integer","minimum":0,"maximum":999},"minItems":60,"maxItems":60}
JSON
cat > "$TMP/wide.json" <<'JSON'
{"type":"object","properties":{"title":{"type":"string","maxLength":200},"tags":{"type":"array","items":{"type":"string","maxLength":20},"maxItems":8},"when":{"type":"string","format":"date-time"},"id":{"type":"string","format":"uuid"},"score":{"type":"integer","minimum":-1000,"maximum":1000}},"required":["title","tags","when","id","score"]}
JSON
PROMPT="List sixty random numbers between 0 and 999 as a JSON array."
field() { python3 -c "import json,sys; print(json.load(open(sys.argv[1]))[sys.argv[2]])" "$1" "$2"; }
for model in SmolLM2-135M-Instruct.Q4_1.gguf gemma-3-270m-q4_k_m.gguf; do
  for schema in long wide; do
    # Three alternating pairs; the best rate of each side (least disturbed by other load) is compared.
    c=0; f=0; compile=""
    for rep in 1 2 3; do
      "$SLM" generate --model "$STORE/$model" --json-schema "$TMP/$schema.json" --temperature 0.8 --seed 1 --max-tokens 400 \
        --stats-file "$TMP/c.json" "$PROMPT" > "$TMP/out.txt" 2> "$TMP/err.txt"
      n=$(field "$TMP/c.json" generated_tokens)
      compile=$(grep -o 'compiled in [0-9.]* ms' "$TMP/err.txt" || true)
      "$SLM" generate --model "$STORE/$model" --ignore-eos --temperature 0.8 --seed 1 --max-tokens "$n" \
        --stats-file "$TMP/f.json" "$PROMPT" > /dev/null 2>&1
      c=$(python3 -c "print(max($c, $(field "$TMP/c.json" decode_tokens_per_s)))")
      f=$(python3 -c "print(max($f, $(field "$TMP/f.json" decode_tokens_per_s)))")
    done
    python3 -c "import sys; c,f=float(sys.argv[1]),float(sys.argv[2]); print(f'{sys.argv[3]:34s} {sys.argv[4]:5s} tokens={sys.argv[5]:>4s} constrained={c:7.1f} tok/s free={f:7.1f} tok/s ratio={c/f:5.3f} | {sys.argv[6]}')" \
      "$c" "$f" "$model" "$schema" "$n" "$compile"
  done
done
