"""Math grading throughput and agreement on published per-sample outputs.

Reads SkyThought's greedy MATH500 responses (4 models x 500, ../shared/data/golden/skythought),
grades them with harness's grader (final box group first, killable 2-worker pool) and with a plain
`math_verify.parse` + `verify` loop over the full responses, in the same run, and prints:
responses/s for both and their ratio, every sample whose verdict differs between the two (with
our reason and extracted answer), and agreement of each with the publisher's labels.

    python benchmarks/bench_math_grading.py [--shared ../shared] [--limit N] [--workers 2]

`--limit N` takes the first N responses of *each* model, so both loops always span all four
models: the slow cases plain math-verify stalls on (long runaway responses) are concentrated in
some models' files, and timing one file would understate the speed-up or overstate it.
"""
from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path

from math_verify import parse, verify

from harness.graders.math import grade_math
from harness.grading import grade_stream


def load_samples(shared: Path, limit: int | None) -> list[dict]:
    samples = []
    for path in sorted((shared / "data/golden/skythought").glob("*__math500.jsonl")):
        model = path.name.split("__")[0]
        for line in path.read_text().splitlines()[:limit]:  # per model, never just the first file
            row = json.loads(line)
            samples.append({"id": f"{model}/{row['idx']}", "response": row["code"][0], "gold": row["answer"],
                            "publisher": bool(row["score"][0])})
    return samples


def plain_verdict(response: str, gold: str) -> bool:
    try:
        return bool(verify(parse(f"${gold}$"), parse(response)))
    except Exception:
        return False


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shared", type=Path, default=Path(__file__).resolve().parents[2] / "shared")
    parser.add_argument("--limit", type=int)
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    args = parser.parse_args()
    samples = load_samples(args.shared, args.limit)
    models = len({s["id"].split("/")[0] for s in samples})
    print(f"{len(samples)} responses of {models} models; load average {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores")

    started = time.perf_counter()
    ours = dict(grade_stream(grade_math, [(s["id"], s["response"], s["gold"]) for s in samples],
                             timeout=30, workers=args.workers))
    ours_seconds = time.perf_counter() - started

    started = time.perf_counter()
    plain = {s["id"]: plain_verdict(s["response"], s["gold"]) for s in samples}
    plain_seconds = time.perf_counter() - started

    ours_rate, plain_rate = len(samples) / ours_seconds, len(samples) / plain_seconds
    print(f"harness grader ({args.workers} workers): {ours_rate:.1f} responses/s ({ours_seconds:.1f} s)")
    print(f"plain math-verify loop (1 core):  {plain_rate:.1f} responses/s ({plain_seconds:.1f} s)")
    print(f"speed-up: {ours_rate / plain_rate:.2f}x")

    by_id = {s["id"]: s for s in samples}
    differ = [i for i in by_id if ours[i].correct != plain[i]]
    print(f"\nverdicts differing from the plain loop: {len(differ)}")
    for i in differ:
        v = ours[i]
        print(f"  {i}: ours={v.correct} ({v.reason}, extracted={v.extracted!r}) plain={plain[i]} gold={by_id[i]['gold']!r}")
    for name, verdicts in (("harness", {i: v.correct for i, v in ours.items()}), ("plain", plain)):
        agree = sum(verdicts[i] == by_id[i]["publisher"] for i in by_id)
        print(f"agreement with publisher labels ({name}): {agree}/{len(samples)} = {100 * agree / len(samples):.2f}%")
    print("\nsamples where the harness disagrees with the publisher:")
    for i, sample in by_id.items():
        if ours[i].correct != sample["publisher"]:
            print(f"  {i}: ours={ours[i].correct} ({ours[i].reason}, extracted={str(ours[i].extracted)[:60]!r}) "
                  f"publisher={sample['publisher']} gold={sample['gold']!r}")
    timeouts = sum(v.reason == "timeout" for v in ours.values())
    print(f"timeouts (harness): {timeouts}")


if __name__ == "__main__":
    main()
