"""bench_view: does `harness view` stay fast and small on a VibeThinker-sized run?

Builds a synthetic math500 run through the real pipeline (harness.synthetic.write_run: manifest,
grades, metrics) whose generations.jsonl holds real long responses from SkyThought's published
outputs (/work/shared/data/golden/skythought), about 44,000 samples of ~60,000 characters at
--scale 1 (a 2.6 GB file). Then starts `harness view --no-browser` in a subprocess, cold (no
index cache) and warm (cached index), and prints the time from process start to the first page's
data (run summary + first suite's problem table), the mean time of a sample page, and the
server's peak resident memory (VmHWM).

    PYTHONPATH=$PWD python benchmarks/bench_view.py --scale 0.05 --out /tmp/bench-view
"""
from __future__ import annotations

import argparse
import json
import os
import random
import re
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from pathlib import Path

SKYTHOUGHT = Path("/work/shared/data/golden/skythought")
FULL_SAMPLES = 44_000
PROBLEMS = 500
MIN_CHARS = 20_000
MAX_CHARS = 70_000  # cut the longest so the mean is ~60,000 characters, as in the VibeThinker protocol


def long_responses() -> list[str]:
    out = []
    for path in sorted(SKYTHOUGHT.glob("*.jsonl")):
        for line in path.read_text(encoding="utf-8").splitlines():
            record = json.loads(line)
            out += [text for text in record.get("code") or [] if isinstance(text, str) and len(text) >= MIN_CHARS]
    if not out:
        raise SystemExit(f"no response of >= {MIN_CHARS} characters under {SKYTHOUGHT}")
    return out


def build(out: Path, scale: float) -> Path:
    from harness.synthetic import problem_ids, write_run

    run = out / "run"
    if (run / "metrics.json").exists():
        return run
    n = max(1, round(FULL_SAMPLES * scale / PROBLEMS))
    rng = random.Random(0)
    ids = problem_ids("math500")[:PROBLEMS]
    outcomes = {pid: [rng.random() < 0.6 for _ in range(n)] for pid in ids}
    write_run(run, {"math500": outcomes}, max_tokens=32768)
    texts = long_responses()
    path = run / "generations.jsonl"
    records = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
    with open(path, "w", encoding="utf-8") as handle:
        for number, record in enumerate(records):
            text = texts[number % len(texts)][:MAX_CHARS]
            tokens = len(text) // 3
            record.update(response=text, num_tokens=tokens, finish_reason="length" if tokens > 30000 else "stop")
            handle.write(json.dumps(record, ensure_ascii=False) + "\n")
    return run


def get(url: str) -> dict:
    with urllib.request.urlopen(url, timeout=120) as response:
        return json.load(response)


def peak_rss_mb(pid: int) -> float:
    status = Path(f"/proc/{pid}/status").read_text()
    return int(re.search(r"VmHWM:\s+(\d+) kB", status).group(1)) / 1024


def measure(run: Path, samples: int) -> dict:
    env = dict(os.environ, OMP_NUM_THREADS="1")
    start = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-m", "harness", "view", str(run), "--no-browser", "--port", "0"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    try:
        line = proc.stdout.readline()
        url = re.search(r"http://\S+/", line).group(0)
        started = time.perf_counter() - start
        with urllib.request.urlopen(url, timeout=120) as response:
            response.read()
        runs = get(url + "api/runs")
        suite = runs["runs"][0]["suites"][0]["suite"]
        rows = get(url + "api/problems?" + urllib.parse.urlencode({"run": 0, "suite": suite}))["rows"]
        first_page = time.perf_counter() - start - started
        rng = random.Random(1)
        picks = [(row["id"], rng.choice(row["samples"])["s"]) for row in rng.sample(rows, min(samples, len(rows)))]
        began = time.perf_counter()
        for pid, sample in picks:
            get(url + "api/sample?" + urllib.parse.urlencode({"run": 0, "suite": suite, "pid": pid, "sample": sample}))
        per_sample = (time.perf_counter() - began) / len(picks)
        return {"startup_s": started, "first_page_s": first_page, "sample_page_s": per_sample, "peak_rss_mb": peak_rss_mb(proc.pid)}
    finally:
        proc.terminate()
        proc.communicate(timeout=30)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=1.0, help="fraction of the 44,000-sample run (default 1)")
    parser.add_argument("--out", type=Path, default=Path("/tmp/bench-view"))
    parser.add_argument("--samples", type=int, default=50, help="sample pages to time")
    args = parser.parse_args()
    began = time.perf_counter()
    run = build(args.out, args.scale)
    size = (run / "generations.jsonl").stat().st_size
    lines = sum(1 for _ in open(run / "grades.jsonl", "rb"))
    print(f"run: {run} ({lines} samples, generations.jsonl {size / 1e9:.2f} GB, built in {time.perf_counter() - began:.0f} s)")
    for cache in [run / ".view-index.json"]:
        cache.unlink(missing_ok=True)
    for label in ("cold (index built)", "warm (index cached)"):
        figures = measure(run, args.samples)
        print(f"{label}: start-up (URL printed) {figures['startup_s']:.2f} s, then first page "
              f"{figures['first_page_s']:.2f} s, sample page "
              f"{1000 * figures['sample_page_s']:.0f} ms, peak RSS {figures['peak_rss_mb']:.0f} MB")


if __name__ == "__main__":
    main()
