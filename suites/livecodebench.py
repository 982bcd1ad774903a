"""LiveCodeBench code generation: official rows, release/date windows, prompts, offline data.

Why our own loader: the official `livecodebench/code_generation_lite` loading script no longer
runs under datasets>=4 and needs the hub; we read its raw `test*.jsonl` (or parquet) files from
`--data DIR` and apply its rules ourselves (lcb_runner@28fef95 `benchmarks/code_generation.py`):
- release_vN reads test.jsonl, test2.jsonl ... testN.jsonl (the script's ALLOWED_FILES);
- the window keeps `start <= contest_date` (and `contest_date <= end`, dates at midnight), then
  problems are sorted by question_id;
- tests = public + private, public first; private tests are a JSON string or
  base64(zlib(pickle(JSON string))), unpickled by an unpickler that refuses every class.
Prompt: lcb_runner's generic template as one user turn (SYSTEM_MESSAGE_GENERIC + "\\n\\n" +
question template, the OpenAIReason style VibeThinker's protocol uses), stop=[].
"""
from __future__ import annotations

import base64
import functools
import hashlib
import io
import json
import pickle
import zlib
from datetime import datetime
from pathlib import Path
from typing import Any, Iterator

from harness.errors import HarnessError
from harness.rundir import iter_jsonl
from harness.sampling import Sampling
from harness.settings import Role, Setting
from suites.base import DATA_DIR, THINK, Problem, sha256_of, verify_sha256

PROTOCOL = Sampling(n=8, temperature=0.6, top_p=0.95, max_tokens=40960)
TIMEOUT_S = 6
HF_HINT = ("Download test*.jsonl of the Hugging Face dataset livecodebench/code_generation_lite "
           "(v5 window: test.jsonl..test5.jsonl, at least test4+test5; v6: test6.jsonl as well) into one "
           "directory and pass --data DIR; see docs/livecodebench.md.")
SYSTEM_MESSAGE_GENERIC = ("You are an expert Python programmer. You will be given a question (problem specification) "
                          "and will generate a correct Python program that matches the specification and passes "
                          "all tests.")
FORMAT_WITH_STARTER = ("You will use the following starter code to write the solution to the problem and enclose "
                       "your code within delimiters.")
FORMAT_STDIN = ("Read the inputs from stdin solve the problem and write the answer to stdout (do not directly test "
                "on the sample inputs). Enclose your code within delimiters as follows. Ensure that when the python "
                "program runs, it reads the inputs, runs the algorithm and writes output to STDOUT.")
# LiveCodeBench ERRATA.md: kept for parity, tagged in metadata
ERRATA = {
    "multiple_solutions": {"abc311_c", "abc326_d", "abc327_b", "abc333_e", "abc343_e", "abc362_c", "abc343_a",
                           "arc185_c", "find-words-containing-character", "find-the-peaks",
                           "generate-binary-strings-without-adjacent-zeros"},
    "interactive": {"abc337_e", "abc355_e"},
    "erroneous_tests": {"abc350_c", "apply-operations-to-make-string-empty", "most-frequent-ids", "arc189_a"},
}


def release_files(release: str) -> list[str]:
    number = int(release.removeprefix("release_v"))
    return ["test.jsonl"] + [f"test{i}.jsonl" for i in range(2, number + 1)]


def prompt(question: str, starter_code: str) -> str:
    text = f"### Question:\n{question}\n\n"
    if starter_code:
        text += f"### Format: {FORMAT_WITH_STARTER}\n```python\n{starter_code}\n```\n\n"
    else:
        text += f"### Format: {FORMAT_STDIN}\n```python\n# YOUR CODE HERE\n```\n\n"
    return SYSTEM_MESSAGE_GENERIC + "\n\n" + text + "### Answer: (use the provided format with backticks)\n\n"


class _NoClasses(pickle.Unpickler):
    def find_class(self, module: str, name: str):
        raise pickle.UnpicklingError(f"refusing to load {module}.{name}: private tests must be plain data")


def decode_tests(field: Any, where: str) -> list[dict[str, str]]:
    """Test cases from a row field: a list, a JSON string, or base64(zlib(pickle(JSON string)))."""
    if isinstance(field, list):
        return field
    if not isinstance(field, str):
        raise HarnessError(f"{where}: expected a JSON string or encoded tests, got {type(field).__name__}")
    try:
        return json.loads(field)
    except json.JSONDecodeError:
        pass
    try:
        value = _NoClasses(io.BytesIO(zlib.decompress(base64.b64decode(field.encode())))).load()
        return json.loads(value) if isinstance(value, str) else value
    except Exception as exc:
        raise HarnessError(f"{where}: cannot decode tests ({exc.__class__.__name__}: {exc})") from exc


def tests_answer(public: list[dict], private: list[dict], metadata: dict, public_only: bool) -> dict[str, Any]:
    tests = public if public_only else public + private
    return {"inputs": [t["input"] for t in tests], "outputs": [t["output"] for t in tests],
            "fn_name": metadata.get("func_name"), "num_public": len(public), "timeout": TIMEOUT_S}


def problem_from_row(row: dict[str, Any], public_only: bool, where: str) -> Problem:
    try:
        qid = str(row["question_id"])
        public = decode_tests(row["public_test_cases"], f"{where} {qid} public_test_cases")
        private = [] if public_only else decode_tests(row.get("private_test_cases") or "[]",
                                                      f"{where} {qid} private_test_cases")
        metadata = row.get("metadata") or "{}"
        metadata = json.loads(metadata) if isinstance(metadata, str) else metadata
        tags = [tag for tag, ids in ERRATA.items() if qid in ids]
        return Problem(
            problem_id=qid,
            messages=[{"role": "user", "content": prompt(row["question_content"], row.get("starter_code") or "")}],
            answer=tests_answer(public, private, metadata, public_only),
            metadata={"difficulty": row.get("difficulty"), "platform": row.get("platform"),
                      "contest_date": str(row.get("contest_date")), "question_title": row.get("question_title"),
                      "errata": tags},
            text=row["question_content"],
        )
    except KeyError as exc:
        raise HarnessError(f"{where}: row without field {exc}") from None


# ------------------------------------------------------------------------------ reading files
def data_files(path: Path, release: str | None) -> list[Path]:
    """The files a load reads: one file as given, or the release's jsonl files (or all parquet) in a dir."""
    if path.is_file():
        return [path]
    if release is not None:
        chosen = [path / name for name in release_files(release) if (path / name).is_file()]
    else:
        chosen = sorted(path.glob("test*.jsonl")) or sorted(path.glob("*.jsonl"))
    chosen = chosen or sorted(path.rglob("*.parquet"))
    if not chosen:
        wanted = ", ".join(release_files(release)) if release else "*.jsonl or *.parquet"
        raise HarnessError(f"--data {path}: none of {wanted} found. {HF_HINT}")
    return chosen


def iter_rows(path: Path) -> Iterator[tuple[str, dict[str, Any]]]:
    if path.suffix == ".parquet":
        import pyarrow.parquet as pq

        for number, row in enumerate(pq.read_table(path).to_pylist(), 1):
            yield f"{path}:row {number}", row
        return
    for number, row in iter_jsonl(path):
        yield f"{path}:{number}", row


def contest_date(row: dict[str, Any], where: str) -> datetime:
    value = row.get("contest_date")
    try:
        return value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
    except ValueError:
        raise HarnessError(f"{where}: field 'contest_date' {value!r} is not an ISO date") from None


def parse_day(text: str | None, flag: str = "date") -> datetime | None:
    if text is None:
        return None
    try:
        return datetime.strptime(text, "%Y-%m-%d")
    except ValueError:
        raise HarnessError(f"{flag} {text}: expected YYYY-MM-DD") from None


def in_window(when: datetime, first: datetime | None, last: datetime | None) -> bool:
    """LCB's window rule: start <= contest_date <= end, both dates at midnight (lcb_runner)."""
    return not ((first and when < first) or (last and when > last))


def load_official(path: Path, public_only: bool, release: str | None = None, start: str | None = None,
                  end: str | None = None) -> list[Problem]:
    first, last = parse_day(start), parse_day(end)
    problems: dict[str, Problem] = {}
    for file in data_files(path, release):
        for where, row in iter_rows(file):
            if not in_window(contest_date(row, where), first, last):
                continue  # skipped before decoding: private tests are most of the bytes
            problem = problem_from_row(row, public_only, where)
            problems[problem.problem_id] = problem
    return [problems[key] for key in sorted(problems)]


def check_count(problems: list[Problem], expected: int, window: str, path: Path) -> list[Problem]:
    if len(problems) != expected:
        raise HarnessError(f"--data {path}: the {window} window holds {len(problems)} problems, expected {expected}; "
                           f"check that the right release files are there (and only those). {HF_HINT}")
    return problems


@functools.lru_cache(maxsize=8)
def _digest(files: tuple[tuple[str, int, float], ...]) -> dict[str, Any]:
    shas = {name: sha256_of(Path(name)) for name, _, _ in files}
    combined = hashlib.sha256(json.dumps(sorted((Path(n).name, s) for n, s in shas.items())).encode()).hexdigest()
    return {"data_sha256": combined, "data_files": {Path(name).name: sha for name, sha in shas.items()}}


def digest_for(release: str | None):
    """A Suite.data_digest: sha256 of every file a load reads (and one over all of them)."""

    def digest(path: Path) -> dict[str, Any]:
        files = data_files(Path(path), release)
        return _digest(tuple((str(f), f.stat().st_size, f.stat().st_mtime) for f in files))

    return digest


# ------------------------------------------------------------------------ vendored offline data
VENDORED = DATA_DIR / "livecodebench"
V5_PUBLIC = "livecodebench/v5-window-public-tests.json"
V5_PUBLIC_SHA256 = "b94212d8c882d7ff99ebde702d0a3319e5c94440faed6ae8984cd850f29a6cd6"
V5_IDS_SHA256 = "66a6860a65033b6244df1c432cc96be886c9e921e1301c3f1bb4a77bc9485d5f"


def load_vendored_v5(path: Path) -> list[Problem]:
    """The rllm copy of the v5 window (public tests, no ids) joined with ids/dates recorded from the
    LiveCodeBench/submissions eval_all files (same statements, matched one to one)."""
    ids_path = VENDORED / "v5-window-ids.json"
    verify_sha256(ids_path, V5_IDS_SHA256)
    rows = json.loads(path.read_text())
    ids = json.loads(ids_path.read_text())
    problems = []
    for item, meta in zip(rows, ids, strict=True):
        row = {**meta, "question_content": item["problem"], "starter_code": item["starter_code"],
               "public_test_cases": item["tests"],
               "metadata": {"func_name": _function_name(item["starter_code"])} if item["starter_code"] else {}}
        problems.append(problem_from_row(row, True, f"{path}"))
    return sorted(problems, key=lambda problem: problem.problem_id)


def _function_name(starter_code: str) -> str | None:
    """LeetCode starter code `class Solution: def name(self, ...)`: the first method is the entry point."""
    import ast

    try:
        tree = ast.parse(starter_code + "\n        pass")
    except SyntaxError:
        return None
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef):
            return node.name
    return None


OPTIONS = (
    Setting("grader", "compat", "LiveCodeBench grader mode: compat (the official grader bug for bug) or fixed",
            choices=("compat", "fixed"),
            deviation=lambda mode, options: "grader=fixed (repairs the official grader's false negatives; not "
            "comparable to compat numbers)" if mode == "fixed" else None,
            label=lambda mode: f"grader {mode}"),
    Setting("public_tests_only", False, "LiveCodeBench: grade on public tests only (shown on every result)", kind=bool,
            deviation=lambda public, options: "public tests only (overstates pass@1 against the full hidden tests)"
            if public else None,
            label=lambda public: "PUBLIC TESTS ONLY"),
    Setting("sandbox", "auto", "where untrusted code runs (default: docker where a daemon answers, else bwrap)",
            choices=("auto", "docker", "bwrap", "local"), role=Role.PLACE),
    Setting("unsafe_local", False, "allow --sandbox local (no isolation)", kind=bool, role=Role.PLACE,
            flag_name="--unsafe-local-sandbox"),
    # lcb_runner extracts code from the whole output, reasoning included
    THINK.with_default("full", deviation=lambda think, options: None if think == "full" else
                       f"think={think} (lcb_runner extracts code from the full output)"),
)


def code_suite(**fields: Any):
    """A LiveCodeBench-format Suite: what lcb_v5, lcb_v6 and lcb_custom share, overridable."""
    from harness.graders.code import code_grader
    from suites.base import Suite

    shared = dict(version="1", grader_for=code_grader, protocol=PROTOCOL, kind="code",
                  breakdown_fields=("difficulty",), options=OPTIONS, verdict_timeout=None)
    return Suite(**(shared | fields))
