"""LiveCodeBench grader: extract code as lcb_runner does, run sandbox/grade_one.py on it in the
sandbox, and turn upstream's result codes into a Verdict.

Modes (suite option `grader`): `compat` reproduces LiveCodeBench@28fef95's `run_test` bug for
bug; `fixed` repairs its documented false negatives. The mode and grader version are in every
verdict. A sample is correct iff every result is > 0 (upstream's `np.all(results > 0)`). When the
program yields no result (outer budget `(timeout+1)*tests+5` s exceeded, or the process died),
upstream means to count every test -1, but its `check_correctness` then raises on the empty
metadata list and `evaluate_generations_by_problem` records results [-2] with error code -5
("TestRunnerError"); we record exactly that (measured, tests/data/lcb/official-verdicts.json).
"""
from __future__ import annotations

import json
import secrets
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, Iterable, Iterator

import sandbox
from harness.graders.answer_region import answer_region
from harness.grading import default_workers as grading_workers
from harness.problems import Verdict

GRADER_VERSIONS = {"compat": "lcb-compat@28fef95", "fixed": "lcb-fixed@28fef95.1"}
PROGRAM = (Path(sandbox.__file__).parent / "grade_one.py").read_text()
REASONS = {-2: "wrong_answer", -3: "timeout", -4: "runtime_error", -5: "no_result"}
MEMORY_MB = 4096


def extract_code(response: str) -> str:
    """lcb_runner `extract_code` (generic styles): the lines between the last two lines holding ```."""
    lines = response.split("\n")
    fences = [index for index, line in enumerate(lines) if "```" in line]
    if len(fences) < 2:
        return ""
    return "\n".join(lines[fences[-2] + 1: fences[-1]])


def outer_budget(timeout: int, num_tests: int) -> float:
    return (timeout + 1) * num_tests + 5


def default_workers() -> int:
    return grading_workers("SSP_SANDBOX_WORKERS")


def parse_result(run: sandbox.RunResult, nonce: str) -> dict[str, Any] | None:
    for line in reversed(run.text().splitlines()):
        if line.startswith(nonce + " "):
            try:
                return json.loads(line[len(nonce) + 1:])
            except json.JSONDecodeError:
                return None
    return None


def verdict_from(results: list | None, metadata: dict[str, Any], code: str, num_tests: int,
                 base: dict[str, Any]) -> Verdict:
    if results is None:  # what upstream records when its child process returned nothing
        results, metadata = [-2], {"error_code": -5, "error_message": "TestRunnerError", **metadata}
    correct = all(r is True or (not isinstance(r, bool) and isinstance(r, (int, float)) and r > 0) for r in results)
    error_code = None if correct else metadata.get("error_code", -2)
    details = {**base, "error_code": error_code, "tests_passed": sum(r is True for r in results),
               "num_tests": num_tests}
    if not correct:
        details["error_message"] = str(metadata.get("error_message", ""))[:300]
        if "error" in metadata:
            details["error"] = str(metadata["error"])[:300]
    reason = "passed" if correct else REASONS.get(error_code, "wrong_answer")
    if error_code == -5 and "outer budget" in details["error_message"]:
        reason = "global_timeout"
    return Verdict(correct, code, reason, details)


class CodeGrader:
    """(response, tests) -> Verdict; `grade_many` runs samples concurrently over the sandbox pool."""

    def __init__(self, mode: str = "compat", sandbox_name: str | None = None, unsafe_local: bool = False,
                 think: str = "full", workers: int | None = None, memory_mb: int = MEMORY_MB):
        if mode not in GRADER_VERSIONS:
            raise ValueError(f"grader mode {mode!r} not in {sorted(GRADER_VERSIONS)}")
        self.mode, self.think, self.memory_mb = mode, think, memory_mb
        self.workers = workers or default_workers()
        self.backend = sandbox.get_backend(None if sandbox_name in (None, "auto") else sandbox_name,
                                           unsafe_local, workers=self.workers)

    def __call__(self, response: str, tests: dict[str, Any]) -> Verdict:
        base = {"grader": GRADER_VERSIONS[self.mode], "sandbox": self.backend.name}
        region = answer_region(response, self.think)
        code = extract_code(region) if region is not None else ""
        num_tests = len(tests["inputs"])
        if not code:  # upstream runs "" too; it always ends as a compile error, [-4]
            return verdict_from([-4], {"error_code": -4, "error_message": "no code block in the response"}, None, num_tests,
                                base) if region is not None else Verdict(False, None, "unclosed_think", base)
        nonce = secrets.token_hex(8)
        job = {"code": code, "inputs": tests["inputs"], "outputs": tests["outputs"], "fn_name": tests.get("fn_name"),
               "timeout": int(tests.get("timeout", 6)), "mode": self.mode, "memory_bytes": self.memory_mb << 20,
               "nonce": nonce}
        limits = sandbox.Limits(wall_s=outer_budget(job["timeout"], num_tests), memory_mb=self.memory_mb + 256)
        run = self.backend.run(PROGRAM, json.dumps(job).encode(), limits)
        payload = parse_result(run, nonce)
        base["run_s"] = round(run.duration_s, 3)
        if payload is None:
            why = "outer budget exceeded" if run.timed_out else "out of memory" if run.oom else \
                f"no result (exit {run.exit_code}): {run.stderr.decode(errors='replace')[-200:]}"
            return verdict_from(None, {"error_message": why}, code, num_tests, base)
        return verdict_from(payload["results"], payload.get("metadata") or {}, code, num_tests, base)

    def grade_many(self, pairs: Iterable[tuple[str, Any]]) -> Iterator[Verdict]:
        """Verdicts in input order, computed `workers` at a time."""
        with ThreadPoolExecutor(self.workers) as pool:
            yield from pool.map(lambda pair: self(*pair), pairs)


def code_grader(options: dict[str, Any]) -> CodeGrader:
    return CodeGrader(mode=options.get("grader", "compat"), sandbox_name=options.get("sandbox"),
                      unsafe_local=bool(options.get("unsafe_local")), think=options.get("think", "full"))
