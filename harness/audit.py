"""Second-grader audit: re-grade every sample of a run with independent checkers, list where they
disagree with the run's verdict.

Why: a rule-based grader can be wrong in ways its own tests never show; agreement with checkers
built differently turns "are the rules right?" into a number per suite (audit.json) and a list of
samples to read (audit.jsonl). The checkers never change a verdict.

Checkers (`--checker`, default all that apply to a suite's kind):
- `math-verify` (math): plain `verify(parse("$gold$"), parse(response))` on the FULL response,
  think block included, exactly as a user of the library would call it.
- `math-equiv` (math): MATH-style string equivalence (hendrycks `is_equiv` design): the last box,
  normalised (spaces, `\\left`/`\\right`, `\\dfrac`, trailing `\\text{units}` after a number,
  `\\text{}` wrappers, `$`, `\\%`, `x =` labels, a leading 0 on decimals, `a/b`), then equal
  strings or exactly equal decimal numbers. No sympy and no LaTeX
  parser, so it fails differently from math-verify. Written here because no maintained PyPI
  package provides it: `mathruler` (PRM800K's grader) has one 2025 release and undeclared
  dependencies (pylatexenc, tqdm), which would make the audit's result depend on what else
  happens to be installed.
- `letters` (choice): math-verify's own letter extraction (`StringExtractionConfig`, A-D) on the
  answer region; the run's letter grader is hand-written, so this is the independent reading.
Code suites are skipped (noted in audit.json): their verdicts come from executing tests, and a
second "checker" would be re-execution under the same tests, not a different reading.

Outputs go to the run directory (or `--out`): `audit.json` (per suite: samples, disagreements,
rate, per checker counts) and `audit.jsonl` (one line per disagreeing sample). Generations are
streamed through one killable grading pool (harness.grading), so runaway responses
cost at most the verdict timeout and memory stays flat.
"""
from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any, Callable

from harness.errors import HarnessError
from harness.graders.answer_region import answer_region
from harness.graders.math import last_boxed
from harness.grading import DEFAULT_VERDICT_TIMEOUT_S, grade_stream, graded_text
from harness.rundir import RunDir, iter_jsonl, sample_key, write_json_atomic
from harness.problems import Verdict

AUDIT_JSON, AUDIT_JSONL = "audit.json", "audit.jsonl"
CODE_NOTE = "skipped: code verdicts come from executing tests; re-execution is not an independent reading"


# ------------------------------------------------------------------------------------ checkers

def check_math_verify(response: str, gold: Any, think: str) -> tuple[bool, str | None]:
    from math_verify import parse, verify

    predicted = parse(response, parsing_timeout=5)
    correct = bool(predicted) and bool(verify(parse(f"${gold}$", parsing_timeout=5), predicted, timeout_seconds=5))
    return correct, str(predicted[-1]) if predicted else None


UNIT_TEXT = re.compile(r"(?<=\d)\s*\\(?:text|mbox|mathrm)\{\s*[a-zA-Z ]+\}\s*$")  # "10\text{ cm}"; never a whole answer
TEXT = re.compile(r"\\(?:text|textbf|mathrm|mbox)\{([^{}]*)\}")
LABEL = re.compile(r"^[a-zA-Z](?:_\{?\w+\}?)?\s*=\s*")
SIMPLE_FRAC = re.compile(r"\\frac(\d)(\d)")
SLASH = re.compile(r"^(-?\d+)/(\d+)$")


def normalise_answer(text: str) -> str:
    """MATH-style normal form of a short answer string (rules in the module docstring)."""
    text = text.strip().rstrip(".").strip()
    text = UNIT_TEXT.sub("", text)
    for old, new in (("\\left", ""), ("\\right", ""), ("\\!", ""), ("\\,", ""), ("\\;", ""), ("\\ ", ""),
                     ("\\dfrac", "\\frac"), ("\\tfrac", "\\frac"), ("\\%", ""), ("%", ""), ("\\$", ""),
                     ("$", ""), ("^{\\circ}", ""), ("^\\circ", ""), ("{,}", ","), ("\n", "")):
        text = text.replace(old, new)
    text = TEXT.sub(r"\1", text)
    text = LABEL.sub("", text)
    text = SIMPLE_FRAC.sub(r"\\frac{\1}{\2}", text)
    text = re.sub(r"\\sqrt(\w)", r"\\sqrt{\1}", text)
    text = "".join(text.split())
    text = re.sub(r"(^|[^\d])\.(\d)", r"\g<1>0.\2", text)
    slash = SLASH.match(text)
    if slash:
        text = f"\\frac{{{slash.group(1)}}}{{{slash.group(2)}}}"
    if re.fullmatch(r"-?\d{1,3}(,\d{3})+", text):
        text = text.replace(",", "")
    return text


def _number(text: str) -> Decimal | None:
    try:
        return Decimal(text)
    except (InvalidOperation, ValueError):
        return None


def is_equiv(gold: str, answer: str) -> bool:
    """Equal normal forms, or equal decimal numbers (exactly: "0.50" = "0.5", 110 != 100)."""
    left, right = normalise_answer(gold), normalise_answer(answer)
    if left == right:
        return True
    a, b = _number(left), _number(right)
    return a is not None and b is not None and a.is_finite() and a == b


def check_math_equiv(response: str, gold: Any, think: str) -> tuple[bool | None, str | None]:
    region = answer_region(response, think)
    boxed = last_boxed(region) if region is not None else None
    if boxed is None:
        return False, None
    return is_equiv(str(gold), boxed), boxed


def check_letters(response: str, answer: Any, think: str) -> tuple[bool | None, str | None]:
    from math_verify import StringExtractionConfig, parse

    region = answer_region(response, think)
    if region is None:
        return False, None
    found = parse(region, [StringExtractionConfig(lowercase=False)], parsing_timeout=5)
    letter = str(found[-1]) if found else None
    return letter == answer["letter"], letter


CHECKERS: dict[str, tuple[str, Callable[[str, Any, str], tuple[bool | None, str | None]]]] = {
    "math-verify": ("math", check_math_verify),
    "math-equiv": ("math", check_math_equiv),
    "letters": ("choice", check_letters),
}


def audit_sample(response: str, payload: tuple[tuple[str, ...], Any, str]) -> Verdict:
    """Every requested checker on one sample, as one picklable call for the killable pool."""
    names, reference, think = payload
    verdicts = {}
    for name in names:
        try:
            correct, extracted = CHECKERS[name][1](response, reference, think)
        except Exception as exc:  # a checker crash is that checker's "no verdict", not a failed audit
            correct, extracted = None, f"error: {exc.__class__.__name__}"
        verdicts[name] = {"correct": correct, "extracted": extracted}
    return Verdict(True, None, "audited", {"checkers": verdicts})


# ------------------------------------------------------------------------------------ the run

def open_audit_run(run_dir: Path) -> tuple[RunDir, dict[str, Any]]:
    run = RunDir(run_dir)
    if not run_dir.is_dir() or not (run_dir / "manifest.json").is_file():
        raise HarnessError(f"{run_dir}: not a run directory (no manifest.json)")
    for path in (run.generations_path, run_dir / "grades.jsonl"):
        if not path.is_file():
            raise HarnessError(f"{run_dir}: not a graded run directory (no {path.name})")
    return run, run.manifest()


def checkers_for(kind: str, requested: list[str] | None) -> list[str]:
    return [name for name, (applies, _) in CHECKERS.items()
            if applies == kind and (requested is None or name in requested)]


def suite_references(entry: dict[str, Any]):
    """(suite, {problem_id: reference}, think) for one manifest suite entry."""
    from suites import get_suite

    suite = get_suite(entry["name"])
    data = None  # the vendored file, wherever the run was made (its recorded path may be elsewhere)
    if entry.get("data_sha256") not in (None, suite.sha256):
        data = Path(entry["data_path"])
        if not data.exists():
            raise HarnessError(f"{entry['name']}: the run's --data {data} is not here; the audit needs its golds")
    options = entry.get("options") or {}
    problems = suite.load_problems(options, data)
    return suite, {p.problem_id: p.answer for p in problems}, suite.resolve_options(options).get("think", "strip")




def audit(run_dir: Path, requested: list[str] | None = None, out: Path | None = None,
          workers: int | None = None, timeout: float = DEFAULT_VERDICT_TIMEOUT_S) -> dict[str, Any]:
    """Audit a run directory; writes audit.json and audit.jsonl; returns the audit.json object."""
    if requested is not None:
        unknown = sorted(set(requested) - set(CHECKERS))
        if unknown:
            raise HarnessError(f"--checker {','.join(unknown)}: unknown (known: {', '.join(CHECKERS)})")
    run, manifest = open_audit_run(Path(run_dir))
    out_dir = Path(out) if out else Path(run_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    verdicts = {sample_key(record): {key: record.get(key) for key in ("correct", "extracted", "reason")}
                for _, record in iter_jsonl(Path(run_dir) / "grades.jsonl")}
    summary: dict[str, Any] = {"run": str(Path(run_dir).resolve()), "checkers": requested or list(CHECKERS),
                               "grader": manifest.get("grader", {}), "suites": {}}
    plans = {}
    for entry in manifest.get("suites", []):
        from suites import get_suite

        kind = get_suite(entry["name"]).kind
        names = checkers_for(kind, requested)
        if kind == "code" or not names:
            summary["suites"][entry["name"]] = {"skipped": CODE_NOTE if kind == "code"
                                                else f"skipped: no requested checker applies to {kind} suites"}
            continue
        suite, references, think = suite_references(entry)
        plans[suite.name] = (tuple(names), references, think)
        summary["suites"][suite.name] = {"samples": 0, "disagreements": 0, "rate": 0.0,
                                         "checkers": {name: {"disagree": 0, "no_verdict": 0} for name in names}}
    (out_dir / AUDIT_JSONL).unlink(missing_ok=True)  # a re-run replaces the list, never appends to it
    with RunDir(out_dir).writer(AUDIT_JSONL) as writer:
        work = ((g, plans[g["suite"]]) for _, g in iter_jsonl(run.generations_path)
                if g.get("suite") in plans and sample_key(g) in verdicts)
        items = (((g["suite"], g["problem_id"], g["sample"]), graded_text(g), (names, references[g["problem_id"]], think))
                 for g, (names, references, think) in work)
        # one pool for the whole run; grade_stream keeps only a bounded window of responses in flight
        for key, result in grade_stream(audit_sample, items, timeout=timeout, workers=workers):
            record = _compare(key, verdicts[key], result, plans[key[0]][0], summary["suites"][key[0]])
            if record:
                writer.write(record)
    for stats in summary["suites"].values():
        if stats.get("samples"):
            stats["rate"] = round(stats["disagreements"] / stats["samples"], 6)
    write_json_atomic(out_dir / AUDIT_JSON, summary)
    return summary


def _compare(key, graded: dict[str, Any], result: Verdict, names, stats: dict[str, Any]) -> dict[str, Any] | None:
    """Count one sample into stats; the audit.jsonl record when a checker disagrees, else None."""
    checkers = result.details.get("checkers") or {name: {"correct": None, "extracted": result.reason} for name in names}
    stats["samples"] += 1
    disagreeing = False
    for name, verdict in checkers.items():
        if verdict["correct"] is None:
            stats["checkers"][name]["no_verdict"] += 1
        elif verdict["correct"] != graded["correct"]:
            stats["checkers"][name]["disagree"] += 1
            disagreeing = True
    if not disagreeing:
        return None
    stats["disagreements"] += 1
    suite, problem_id, sample = key
    return {"suite": suite, "problem_id": problem_id, "sample": sample,
            "run": {"correct": graded["correct"], "extracted": graded.get("extracted"), "reason": graded.get("reason")},
            "checkers": checkers}


def summary_lines(summary: dict[str, Any]) -> list[str]:
    lines = []
    for name, stats in summary["suites"].items():
        if "skipped" in stats:
            lines.append(f"{name}: {stats['skipped']}")
            continue
        per = ", ".join(f"{checker} {c['disagree']}" for checker, c in stats["checkers"].items())
        lines.append(f"{name}: grader disagreement {stats['disagreements']}/{stats['samples']} samples "
                     f"= {100 * stats['rate']:.1f}% ({per})")
    return lines
