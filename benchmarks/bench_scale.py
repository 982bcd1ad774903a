"""bench_scale: time and peak memory of every reading command on a full-protocol-size run.

Builds (once per scale, kept in --out) an eval run directory of the VibeThinker protocol's math
and GPQA part: aime24, aime25, hmmt25 and math500 at n=64, gpqa_diamond at n=16 (40,928 samples at
--scale 1; --scale multiplies n). Every response is a real long chain of thought from SkyThought's
published Sky-T1 outputs (/work/shared/data/golden/skythought, responses of >= 20,000 characters,
~60,000 on average) behind a distinct prefix, its own boxes neutralised and a final answer
planted: the gold (letter for GPQA) for a known share of samples (--correct, default 0.6), a wrong
value otherwise. At --scale 1 generations.jsonl is ~2.5 GB (LiveCodeBench's 3,280 samples are left
out: grading them executes code in a sandbox, which is not what this measures).

Then it runs the real CLI in subprocesses and samples the RSS of each command's process tree
(grading workers included) every 0.1 s:
  grade       `harness grade --generations RUN/generations.jsonl --out RUN` (grades in place)
  resume      the same on a copy whose grades.jsonl holds the first half of the grades
  leaderboard `harness report leaderboard RUN`
  paper       `harness report paper RUN`
  gate        `harness gate --baseline RUN --candidate RESUMED`
  audit       `harness audit RUN --checker math-equiv,letters` (--audit-checkers; math-verify on
              the full 60,000-character responses is a different, much slower measurement)
  view        `harness view RUN --no-browser` until the first page's data is served (cold index)
and prints one table per scale (seconds, peak RSS of the tree and of the main process) plus
pass@1 as graded against the planted share.

    PYTHONPATH=$PWD python benchmarks/bench_scale.py --scale 0.2,0.4,1 --out /tmp/bench-scale
"""
from __future__ import annotations

import argparse
import json
import os
import random
import re
import shutil
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

import psutil

SKYTHOUGHT = Path("/work/shared/data/golden/skythought")
PROTOCOL = {"aime24": 64, "aime25": 64, "hmmt25": 64, "math500": 64, "gpqa_diamond": 16}
MIN_CHARS = 20_000
MAX_CHARS = 70_000
BOX = re.compile(r"\\boxed\b")


def long_responses() -> list[str]:
    out = []
    for path in sorted(SKYTHOUGHT.glob("*.jsonl")):
        for line in path.read_text(encoding="utf-8").splitlines():
            record = json.loads(line)
            out += [BOX.sub(r"\\mathbf", text[:MAX_CHARS]) for text in record.get("code") or []
                    if isinstance(text, str) and len(text) >= MIN_CHARS]
    if not out:
        raise SystemExit(f"no response of >= {MIN_CHARS} characters under {SKYTHOUGHT}")
    return out


def wrong_answer(gold: str) -> str:
    return "A" if gold == "B" else "B" if len(gold) == 1 and gold.isalpha() else "-987654321"


def build(run: Path, scale: float, share: float) -> tuple[int, float]:
    """The run directory (manifest + generations.jsonl, nothing graded); returns (samples, planted pass@1)."""
    from harness.pipeline import open_run, plan_suite
    from harness.rundir import GENERATIONS, RunDir
    from suites import get_suite

    marker = run / "planted.json"
    if marker.is_file():
        value = json.loads(marker.read_text())
        return value["samples"], value["share"]
    shutil.rmtree(run, ignore_errors=True)
    plans = []
    for name, n in PROTOCOL.items():
        suite = get_suite(name)
        plans.append(plan_suite(suite, {}, suite.protocol.override(n=max(1, round(n * scale))), None))
    identity = {"kind": "eval", "model": "skythought-replay", "backend": "synthetic",
                "suites": [plan.identity() for plan in plans]}
    rundir = RunDir(run)
    manifest = open_run(rundir, "eval", identity, plans)
    manifest.update(model={"spec": "skythought-replay"}, backend_name="synthetic")
    rundir.write_manifest(manifest)
    texts, rng = long_responses(), random.Random(0)
    samples = correct = 0
    with rundir.writer(GENERATIONS) as writer:
        for plan in plans:
            for problem in plan.problems:
                gold = problem.answer["letter"] if plan.suite.kind == "choice" else str(problem.answer)
                for sample in range(plan.sampling.n):
                    right = rng.random() < share
                    text = texts[samples % len(texts)]
                    response = (f"[{plan.suite.name} {problem.problem_id} sample {sample}]\n{text}\n\n"
                                f"The final answer is $\\boxed{{{gold if right else wrong_answer(gold)}}}$.")
                    writer.write({"suite": plan.suite.name, "problem_id": problem.problem_id, "sample": sample,
                                  "response": response, "finish_reason": "stop", "num_tokens": len(response) // 3,
                                  "seed": sample})
                    samples += 1
                    correct += right
    marker.write_text(json.dumps({"samples": samples, "share": correct / samples}))
    return samples, correct / samples


def tree_rss(process: psutil.Process) -> tuple[int, int]:
    try:
        members = [process, *process.children(recursive=True)]
    except psutil.Error:
        return 0, 0
    total = main = 0
    for member in members:
        try:
            rss = member.memory_info().rss
        except psutil.Error:
            continue
        total += rss
        main = rss if member is process else main
    return total, main


def measured(command: list[str], until=None) -> dict:
    """Run a CLI command; seconds, peak tree RSS and peak main-process RSS (MiB)."""
    env = {**os.environ, "HARNESS_PROGRESS": "off", "OMP_NUM_THREADS": "1"}
    started = time.monotonic()
    child = subprocess.Popen([sys.executable, "-m", "harness", *command], stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True, env=env)
    peak = [0, 0]
    watched, done = psutil.Process(child.pid), threading.Event()

    def sample():
        while not done.is_set():
            total, main = tree_rss(watched)
            peak[0], peak[1] = max(peak[0], total), max(peak[1], main)
            time.sleep(0.1)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    try:
        if until is not None:
            until(child)
            child.terminate()
        out, err = child.communicate()
    finally:
        done.set()
        sampler.join()
    if until is None and child.returncode not in (0, 1):  # gate exits 1 on a regression
        raise SystemExit(f"harness {' '.join(command)} failed ({child.returncode}):\n{err[-3000:]}")
    return {"seconds": time.monotonic() - started, "tree_mib": peak[0] / 2**20, "main_mib": peak[1] / 2**20,
            "stdout": out}


def first_page(child: subprocess.Popen) -> None:
    line = child.stdout.readline()
    found = re.search(r"http://\S+/", line)
    if not found:
        raise SystemExit(f"harness view printed no URL: {line!r} {child.stderr.read()[-2000:]}")
    url = found.group(0)
    for path in ("", "api/runs"):
        with urllib.request.urlopen(url + path, timeout=600) as response:
            body = response.read()
    suite = json.loads(body)["runs"][0]["suites"][0]["suite"]
    with urllib.request.urlopen(f"{url}api/problems?run=0&suite={suite}", timeout=600) as response:
        response.read()


def half_graded(run: Path, copy: Path) -> None:
    """A copy of `run` (generations hard-linked) whose grades.jsonl holds the first half of run's grades."""
    shutil.rmtree(copy, ignore_errors=True)
    copy.mkdir(parents=True)
    os.link(run / "generations.jsonl", copy / "generations.jsonl")
    manifest = json.loads((run / "manifest.json").read_text())
    manifest["sessions"] = manifest["sessions"][:1]
    (copy / "manifest.json").write_text(json.dumps(manifest))
    lines = (run / "grades.jsonl").read_bytes().splitlines(keepends=True)
    (copy / "grades.jsonl").write_bytes(b"".join(lines[: len(lines) // 2]))


def bench(out: Path, scale: float, share: float, checkers: str) -> list[tuple[str, dict]]:
    run, resumed = out / f"scale-{scale:g}" / "run", out / f"scale-{scale:g}" / "resumed"
    began = time.monotonic()
    samples, planted = build(run, scale, share)
    size = (run / "generations.jsonl").stat().st_size
    print(f"\nscale {scale:g}: {samples} samples, generations.jsonl {size / 1e9:.2f} GB, planted pass@1 "
          f"{100 * planted:.1f}% (built in {time.monotonic() - began:.0f} s), load {os.getloadavg()[0]:.2f}", flush=True)
    for name in ("grades.jsonl", "metrics.json", ".view-index.json", "audit.json", "audit.jsonl"):
        (run / name).unlink(missing_ok=True)
    grade = ["grade", "--suite", "aime24", "--generations", str(run / "generations.jsonl"), "--out", str(run)]
    rows = [("grade", measured(grade))]
    metrics = json.loads((run / "metrics.json").read_text())
    metrics = metrics if isinstance(metrics, list) else [metrics]
    graded = sum(m["pass@1"] * m["num_samples"] for m in metrics) / sum(m["num_samples"] for m in metrics)
    half_graded(run, resumed)
    rows.append(("resume (half graded)", measured(["grade", "--suite", "aime24", "--generations",
                                                   str(resumed / "generations.jsonl"), "--out", str(resumed)])))
    reports = out / f"scale-{scale:g}" / "reports"
    rows.append(("report leaderboard", measured(["report", "leaderboard", str(run), "--out", str(reports / "board"),
                                                 "--overwrite"])))
    rows.append(("report paper", measured(["report", "paper", str(run), "--out", str(reports / "paper"), "--overwrite"])))
    rows.append(("gate", measured(["gate", "--baseline", str(run), "--candidate", str(resumed)])))
    rows.append(("audit", measured(["audit", str(run), "--checker", checkers])))
    rows.append(("view (first page, cold)", measured(["view", str(run), "--no-browser", "--port", "0"], until=first_page)))
    print(f"| command | seconds | peak RSS, process tree (MiB) | peak RSS, main process (MiB) |")
    print("|---|---:|---:|---:|")
    for name, row in rows:
        print(f"| {name} | {row['seconds']:.1f} | {row['tree_mib']:.0f} | {row['main_mib']:.0f} |")
    rate = samples / rows[0][1]["seconds"]
    print(f"graded pass@1 {100 * graded:.2f}% vs planted {100 * planted:.2f}%; grade {rate:.0f} samples/s; "
          f"load after {os.getloadavg()[0]:.2f}", flush=True)
    shutil.rmtree(resumed, ignore_errors=True)
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", default="1", help="comma-separated fractions of the protocol's n (default 1)")
    parser.add_argument("--out", type=Path, default=Path("/tmp/bench-scale"))
    parser.add_argument("--correct", type=float, default=0.6, help="share of samples planted correct")
    parser.add_argument("--audit-checkers", default="math-equiv,letters")
    args = parser.parse_args()
    print(f"{os.cpu_count()} cores, load average {os.getloadavg()[0]:.2f}")
    for scale in (float(value) for value in args.scale.split(",")):
        bench(args.out, scale, args.correct, args.audit_checkers)


if __name__ == "__main__":
    main()
