"""`harness view --export DIR`: the viewer as a static folder that opens from file://.

Browsers block fetch on file://, so the data ships as script files (data/NAME.js, each calling
VIEW_DATA(name, payload)) that viewer.js loads on demand: the run summaries, one problem table
per suite, one file per problem with all its samples, the diff. `--max-bytes` bounds the total
response text: each response is cut in the middle to its share, with a visible marker saying how
much was left out (the served UI always shows the whole text).
"""
from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any, Sequence

from harness.errors import HarnessError
from reports.view.app import PLOTS, STATIC, page, plot
from reports.view.diff import diff
from reports.view.runview import RunView

DEFAULT_MAX_BYTES = 20_000_000
MIN_SHARE = 2000  # bytes per response, however many samples
DETAIL_CHARS = 4000  # a grader detail string (stdout, stderr) in an export


def omission(count: int) -> str:
    return f"\n[... {count:,} characters omitted by --max-bytes ...]\n"


def cut(text: str, limit: int) -> str:
    """At most about `limit` UTF-8 bytes: head and tail kept, the middle replaced by a marker."""
    size = len(text.encode("utf-8"))
    if size <= limit:
        return text
    keep = max(1, int(limit * len(text) / size))
    head = keep // 2
    tail = keep - head
    return text[:head] + omission(len(text) - keep) + text[len(text) - tail:]


def shorten_segments(segments: list[dict[str, Any]], limit: int) -> list[dict[str, Any]]:
    """The graded region first (up to half the share), the rest split in proportion to length."""
    total = sum(len(s["text"].encode("utf-8")) for s in segments)
    if total <= limit:
        return segments
    graded = sum(len(s["text"].encode("utf-8")) for s in segments if s["graded"] and s["kind"] == "text")
    graded_share = min(graded, limit // 2)
    rest = max(1, total - graded)
    out = []
    for s in segments:
        size = len(s["text"].encode("utf-8"))
        share = graded_share if s["graded"] and s["kind"] == "text" else max(200, (limit - graded_share) * size // rest)
        out.append(s | {"text": cut(s["text"], share)})
    return out


def capped(value: Any, limit: int = DETAIL_CHARS) -> Any:
    if isinstance(value, str):
        return cut(value, limit)
    if isinstance(value, list):
        return [capped(v, limit) for v in value]
    if isinstance(value, dict):
        return {k: capped(v, limit) for k, v in value.items()}
    return value


def write_data(out: Path, name: str, payload: Any) -> None:
    text = json.dumps(payload, ensure_ascii=False, separators=(",", ":"))
    # inside a script file, U+2028/2029 are fine since ES2019; escape them anyway for older engines
    text = text.replace("\u2028", "\\u2028").replace("\u2029", "\\u2029")
    (out / "data" / f"{name}.js").write_text(f"VIEW_DATA({json.dumps(name)}, {text});\n", encoding="utf-8")


def export_suite(view: RunView, run: int, suite: str, out: Path, share: int) -> None:
    rows = [dict(row) for row in view.problem_rows(suite)]
    for number, row in enumerate(rows):
        row["file"] = number
        samples, prompt = {}, None
        for item in row["samples"]:
            sample = view.sample(suite, row["id"], item["s"])
            prompt = prompt or sample.pop("prompt")
            sample.pop("prompt", None)
            sample["segments"] = shorten_segments(sample["segments"], share)
            sample["grade"] = capped(sample["grade"])
            samples[str(item["s"])] = sample
        write_data(out, f"p-{run}-{suite}-{number}", {"problem": view.problem(suite, row["id"], row),
                                                      "prompt": prompt, "samples": samples})
    write_data(out, f"problems-{run}-{suite}", {"suite": suite, "rows": rows})


def export(paths: Sequence[Path], out: Path, max_bytes: int = DEFAULT_MAX_BYTES) -> Path:
    if max_bytes < 1:
        raise HarnessError(f"--max-bytes {max_bytes}: must be >= 1")
    views = [RunView(path) for path in paths]
    if out.exists() and not out.is_dir():
        raise HarnessError(f"--export {out}: exists and is not a directory")
    for name in ("data", "plot"):
        shutil.rmtree(out / name, ignore_errors=True)
        (out / name).mkdir(parents=True, exist_ok=True)
    shutil.copytree(STATIC, out / "static", dirs_exist_ok=True)
    (out / "index.html").write_text(page("export", " vs ".join(v.path.name for v in views)), encoding="utf-8")
    share = max(MIN_SHARE, max_bytes // max(1, sum(len(v.samples) for v in views)))
    for run, view in enumerate(views):
        for suite in view.suite_names():
            export_suite(view, run, suite, out, share)
        for name in PLOTS:
            plot(view, name, out / "plot" / f"{run}-{name}.png")
    write_data(out, "runs", {"runs": [v.summary() for v in views], "diff": len(views) == 2, "mode": "export"})
    if len(views) == 2:
        write_data(out, "diff", diff(*views))
    return out / "index.html"
