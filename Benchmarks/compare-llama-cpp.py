#!/usr/bin/env python3
"""Side-by-side speed of slm and llama.cpp's llama-bench on the same GGUF files, thread counts and machine.

Runs the two tools alternately (one repetition each, R rounds) so that machine noise hits both alike, then prints
medians, the ratio slm / llama.cpp (with the lowest and highest of the rounds' own ratios: how far the machine's
noise moves the comparison), and decode throughput x bytes per token as a fraction of the measured memory read
bandwidth (decoding reads every weight once per token, the tied output matrix included, so bytes per token ~= the
file size). llama.cpp is only a yardstick: it is built from the llama-cpp-python source distribution (PyPI) into
Benchmarks/llama.cpp-build/ (gitignored) by --build-llama, or found via $LLAMA_BENCH.

Usage: Benchmarks/compare-llama-cpp.py [--models smollm2-135m gemma3-270m|PATH ...] [--threads 2 1] [--rounds 5]
       [-p 512] [-n 128] [-d 0] [--build-llama]
"""
import argparse, json, os, shutil, statistics, subprocess, sys, tarfile, tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BUILD = ROOT / "Benchmarks" / "llama.cpp-build"
FILES = {"smollm2-135m": "SmolLM2-135M-Instruct.Q4_1.gguf", "gemma3-270m": "gemma-3-270m-q4_k_m.gguf"}


def log(*a):
    print(*a, file=sys.stderr, flush=True)


def model_path(name):
    if os.path.exists(name):  # a GGUF file given by path (e.g. tools/make-arch-models.py --shape ...)
        return Path(name)
    home = Path(os.environ.get("SLM_HOME", Path.home() / ".cache" / "slm"))
    p = home / "models" / FILES[name]
    if not p.exists():
        subprocess.run([str(slm_binary()), "pull", name], check=True, stdout=subprocess.DEVNULL)
    return p


def slm_binary():
    b = ROOT / ".build" / "release" / "slm"
    if not b.exists():
        log("building slm (release)...")
        subprocess.run(["swift", "build", "-c", "release", "--product", "slm"], cwd=ROOT, check=True)
    return b


def llama_bench(build):
    if os.environ.get("LLAMA_BENCH"):
        return Path(os.environ["LLAMA_BENCH"])
    exe = BUILD / "build" / "bin" / "llama-bench"
    if exe.exists():
        return exe
    if not build:
        sys.exit("error: llama-bench not found: pass --build-llama (builds it from the llama-cpp-python sdist) "
                 "or set LLAMA_BENCH")
    with tempfile.TemporaryDirectory() as tmp:
        log("downloading the llama-cpp-python source distribution...")
        subprocess.run([sys.executable, "-m", "pip", "download", "--no-deps", "--no-binary", ":all:", "-d", tmp,
                        "llama-cpp-python"], check=True, stdout=sys.stderr)
        sdist = next(Path(tmp).glob("llama_cpp_python-*.tar.gz"))
        with tarfile.open(sdist) as t:
            t.extractall(tmp)
        src = next(Path(tmp).glob("llama_cpp_python-*/vendor/llama.cpp"))
        if BUILD.exists():
            shutil.rmtree(BUILD)
        shutil.copytree(src, BUILD)
    log("building llama-bench (cmake, Release, native)...")
    subprocess.run(["cmake", "-B", "build", "-DCMAKE_BUILD_TYPE=Release", "-DGGML_NATIVE=ON", "-DLLAMA_CURL=OFF",
                    "-DLLAMA_BUILD_TESTS=OFF", "-DLLAMA_BUILD_SERVER=OFF"], cwd=BUILD, check=True, stdout=sys.stderr)
    subprocess.run(["cmake", "--build", "build", "-j", str(os.cpu_count() or 2), "--target", "llama-bench"],
                   cwd=BUILD, check=True, stdout=sys.stderr)
    return exe


def bandwidth(threads):
    exe = ROOT / ".build" / "membw"
    if not exe.exists():
        subprocess.run(["cc", "-O2", "-mavx2", "-pthread", str(ROOT / "Benchmarks" / "membw.c"), "-o", str(exe)],
                       check=True)
    return float(subprocess.run([str(exe), str(threads)], capture_output=True, text=True, check=True).stdout)


def run_json(cmd):
    out = subprocess.run(cmd, capture_output=True, text=True)
    if out.returncode != 0:
        sys.exit(f"error: {' '.join(map(str, cmd))} failed: {out.stderr.strip().splitlines()[-1:]}")
    return json.loads(out.stdout)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--models", nargs="+", default=["smollm2-135m", "gemma3-270m"],
                    help="names (" + ", ".join(FILES) + ") or GGUF file paths")
    ap.add_argument("--threads", nargs="+", type=int, default=[2])
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("-p", type=int, default=512)
    ap.add_argument("-n", type=int, default=128)
    ap.add_argument("-d", type=int, default=0)
    ap.add_argument("--build-llama", action="store_true")
    a = ap.parse_args()
    slm, lb = slm_binary(), llama_bench(a.build_llama)
    rows = []
    for name in a.models:
        path = model_path(name)
        size = path.stat().st_size
        for t in a.threads:
            bw = bandwidth(t)
            samples = {("slm", "pp"): [], ("slm", "tg"): [], ("llama", "pp"): [], ("llama", "tg"): []}
            for r in range(a.rounds):
                log(f"{name} t={t} round {r + 1}/{a.rounds}")
                for tool in ("llama", "slm"):
                    if tool == "slm":
                        cmd = [slm, "bench", "--model", path, "-t", t, "-p", a.p, "-n", a.n, "-r", 1, "-d", a.d,
                               "-o", "json", "--quiet"]
                    else:
                        cmd = [lb, "-m", path, "-t", t, "-p", a.p, "-n", a.n, "-r", 1, "-d", a.d, "-o", "json"]
                    for obj in run_json([str(c) for c in cmd]):
                        kind = "pp" if obj["n_prompt"] > 0 else "tg"
                        samples[(tool, kind)].append(obj["avg_ts"])
            for kind, n in (("pp", a.p), ("tg", a.n)):
                if n == 0:
                    continue
                ours, theirs = statistics.median(samples[("slm", kind)]), statistics.median(samples[("llama", kind)])
                frac = f"{ours * size / 1e9 / bw:.0%}" if kind == "tg" else "-"
                test = f"{kind}{n}" + (f" @ d{a.d}" if a.d else "")
                # Each round's two runs are minutes apart at most: their ratio shows how far the machine's noise
                # moves the comparison (the table's ratio is of the two medians).
                per_round = sorted(x / y for x, y in zip(samples[("slm", kind)], samples[("llama", kind)]))
                rows.append((name, t, test, ours, theirs, ours / theirs, per_round[0], per_round[-1], frac, bw))
    print("| model | threads | test | slm tok/s | llama.cpp tok/s | ratio | per-round ratios | "
          "decode bytes/s of measured bandwidth |")
    print("| --- | ---: | --- | ---: | ---: | ---: | ---: | ---: |")
    for name, t, test, ours, theirs, ratio, lo, hi, frac, bw in rows:
        print(f"| {name} | {t} | {test} | {ours:.1f} | {theirs:.1f} | {ratio:.2f}x | {lo:.2f}-{hi:.2f}x | "
              f"{frac} (of {bw:.1f} GB/s) |")
    print(f"\nmedians of {a.rounds} alternating rounds; load average at end: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
