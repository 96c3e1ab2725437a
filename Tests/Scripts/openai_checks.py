#!/usr/bin/env python3
"""Drives a running `slm serve` with the official `openai` Python package (and `jsonschema`), as a user's client
would. Usage: openai_checks.py BASE_URL API_KEY. Prints one "ok <check>" line per passed check; exits 1 at the first
failure with the reason."""
import json
import sys

import jsonschema
import openai

base, key = sys.argv[1], sys.argv[2]
client = openai.OpenAI(base_url=base, api_key=key, max_retries=0, timeout=120)
MSG = [{"role": "system", "content": "You are brief."}, {"role": "user", "content": "Name three colours."}]


def check(name, cond, detail=""):
    if not cond:
        print(f"FAIL {name}: {detail}", flush=True)
        sys.exit(1)
    print(f"ok {name}", flush=True)


models = client.models.list()
check("models.list", len(models.data) == 1 and models.data[0].object == "model", models)

r = client.chat.completions.create(model="gpt-4o-mini", messages=MSG, max_tokens=16, temperature=0)
check("chat non-stream", r.object == "chat.completion" and r.choices[0].message.role == "assistant"
      and r.choices[0].message.content and r.choices[0].finish_reason in ("stop", "length"), r)
u = r.usage
check("usage", u.total_tokens == u.prompt_tokens + u.completion_tokens and u.prompt_tokens_details.cached_tokens >= 0
      and u.completion_tokens_details.reasoning_tokens == 0, u)

chunks = list(client.chat.completions.create(model="x", messages=MSG, max_tokens=16, temperature=0, stream=True,
                                             stream_options={"include_usage": True}))
text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
check("stream text equals non-stream", text == r.choices[0].message.content, (text, r.choices[0].message.content))
check("stream usage chunk", chunks[-1].usage is not None and not chunks[-1].choices
      and chunks[-1].usage.completion_tokens == u.completion_tokens, chunks[-1])

schema = {"type": "object", "properties": {"city": {"type": "string"}, "population": {"type": "integer"},
                                           "tags": {"type": "array", "items": {"type": "string"}, "maxItems": 3}},
          "required": ["city", "population"], "additionalProperties": False}
for seed in range(3):
    s = client.chat.completions.create(
        model="x", messages=[{"role": "user", "content": "Describe a city as JSON."}], max_tokens=120, seed=seed,
        temperature=0.8, response_format={"type": "json_schema", "json_schema": {"name": "city", "schema": schema,
                                                                                 "strict": True}})
    try:
        value = json.loads(s.choices[0].message.content)
        jsonschema.validate(value, schema)
        valid = True
    except Exception as e:  # noqa: BLE001
        valid, value = False, (e, s.choices[0].message.content)
    check(f"json_schema answer validates (seed {seed})", valid, value)

full = client.chat.completions.create(model="x", messages=MSG, max_tokens=30, seed=11, temperature=0.7)
words = full.choices[0].message.content.split(" ")
if len(words) > 3:
    stop = " " + words[2]
    st = client.chat.completions.create(model="x", messages=MSG, max_tokens=30, seed=11, temperature=0.7, stop=[stop])
    check("stop", st.choices[0].message.content == full.choices[0].message.content.split(stop)[0]
          and st.choices[0].finish_reason == "stop", (st.choices[0].message.content, stop))

a = client.chat.completions.create(model="x", messages=MSG, max_tokens=24, seed=99, temperature=1.0)
b = client.chat.completions.create(model="x", messages=MSG, max_tokens=24, seed=99, temperature=1.0)
check("seed reproducibility", a.choices[0].message.content == b.choices[0].message.content)

t = client.chat.completions.create(model="x", messages=[{"role": "user", "content": "Is 91 prime?"}], max_tokens=40,
                                   seed=1, extra_body={"reasoning_budget": 8})
reasoning = (t.choices[0].message.model_extra or {}).get("reasoning_content", "")
check("reasoning budget", reasoning and t.usage.completion_tokens_details.reasoning_tokens == 8
      and "</think>" not in (t.choices[0].message.content or ""), t)

c = client.completions.create(model="x", prompt="The capital of France is", max_tokens=5, temperature=0)
check("completions", c.object == "text_completion" and c.choices[0].text, c)

lp = client.chat.completions.create(model="x", messages=MSG, max_tokens=5, temperature=0, logprobs=True, top_logprobs=2)
check("logprobs", len(lp.choices[0].logprobs.content) == lp.usage.completion_tokens
      and all(len(e.top_logprobs) == 2 and e.logprob <= 0 for e in lp.choices[0].logprobs.content), lp)

try:
    client.chat.completions.create(model="x", messages=MSG, n=2)
    check("n=2 refused", False, "no error")
except openai.BadRequestError as e:
    check("n=2 refused", e.status_code == 400 and e.body.get("param") == "n", e.body)

bad = openai.OpenAI(base_url=base, api_key="wrong-key", max_retries=0)
try:
    bad.models.list()
    check("wrong key refused", False, "no error")
except openai.AuthenticationError as e:
    check("wrong key refused", e.status_code == 401, e)
print("all checks passed", flush=True)
