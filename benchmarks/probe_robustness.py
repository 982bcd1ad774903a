"""Probe: bad inputs and faults against the real CLI, each in a subprocess, classified (issue 13).

    PYTHONPATH=$PWD python benchmarks/probe_robustness.py [--jobs 2] [--only SUBSTRING] [--json out.json]

Every case runs real `python -m harness ...` commands on real files in a fresh temp directory and
lands in one class: ok, traceback (a Python traceback, or an exit code other than 0/2 where no
verdict is due), data lost (a re-run finishes with samples missing or duplicated), blocked retry
(the corrected command is refused), silent acceptance (impossible input, exit 0), unclear message
(not one `error:` line naming the culprit). No model is loaded: the cases need none.
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
from suites import get_suite  # noqa: E402

AIME = get_suite("aime24").load_problems()
LCB_CUSTOM = get_suite("lcb_custom").load_problems()
ENV = {**os.environ, "PYTHONPATH": str(REPO), "HARNESS_PROGRESS": "off", "OMP_NUM_THREADS": "1",
       "HF_HUB_OFFLINE": "", "HF_ENDPOINT": "http://127.0.0.1:9"}  # the hub is unreachable by construction
CLASSES = ("ok", "traceback", "data lost", "blocked retry", "silent acceptance", "unclear message")


@dataclass
class Run:
    code: int
    out: str
    err: str


def harness(*args: str, cwd: Path, preexec=None, timeout: float = 300, env: dict | None = None) -> Run:
    done = subprocess.run([sys.executable, "-m", "harness", *map(str, args)], capture_output=True, text=True,
                          cwd=cwd, env={**ENV, **(env or {})}, preexec_fn=preexec, timeout=timeout)
    return Run(done.returncode, done.stdout, done.stderr)


def write_gens(path: Path, n: int = 2, problems=AIME, pad: int = 0, skip=()) -> int:
    count = 0
    with open(path, "w") as handle:
        for problem in problems:
            for sample in range(n):
                if (problem.problem_id, sample) in skip:
                    continue
                answer = problem.answer if sample == 0 else "1"
                handle.write(json.dumps({"problem_id": problem.problem_id, "sample": sample,
                                         "response": "y" * pad + f"\\boxed{{{answer}}}"}) + "\n")
                count += 1
    return count


def put(path: Path, text: str | bytes) -> None:
    """Write a file inside a lambda (write_text returns a count, which `or [...]` would swallow)."""
    path.write_bytes(text) if isinstance(text, bytes) else path.write_text(text)


def lines(path: Path) -> int:
    return sum(1 for line in path.read_text().splitlines() if line.strip()) if path.is_file() else 0


def judge_error(run: Run, *expect: str) -> tuple[str, str]:
    """A bad input must give exit 2 and exactly one `error:` line containing every `expect`."""
    if "Traceback" in run.err or run.code not in (0, 2):
        return "traceback", f"exit {run.code}: {run.err.strip().splitlines()[-1:] }"
    if run.code == 0:
        return "silent acceptance", "exit 0"
    text = [line for line in run.err.splitlines() if line.strip()]
    if len(text) != 1 or not text[0].startswith("error: ") or not all(e in text[0] for e in expect):
        return "unclear message", " | ".join(text)[:300]
    return "ok", text[0][:200]


def judge_complete(run: Run, out: Path, total: int) -> tuple[str, str]:
    if "Traceback" in run.err or run.code not in (0, 2):
        return "traceback", run.err.strip()[-200:]
    if run.code != 0:
        return "blocked retry", run.err.strip()[-200:]
    got = (lines(out / "generations.jsonl"), lines(out / "grades.jsonl"),
           json.loads((out / "metrics.json").read_text()).get("num_samples"))
    return ("ok", f"{got}") if got == (total, total, total) else ("data lost", f"{got} != {total}")


@dataclass
class Case:
    name: str
    family: str
    body: Callable[[Path], tuple[str, str]]


CASES: list[Case] = []


def case(name: str, family: str):
    def register(body):
        CASES.append(Case(name, family, body))
        return body
    return register


def bad_input(name: str, family: str, build: Callable[[Path], list], *expect: str, env: dict | None = None):
    """A one-command case whose input is impossible: it must be refused in one clear line."""
    def body(tmp: Path):
        return judge_error(harness(*build(tmp), cwd=tmp, env=env), *[e.format(tmp=tmp) for e in expect])
    CASES.append(Case(name, family, body))


def grade_args(gens, out="run", *extra, suite="aime24"):
    return ["grade", "--suite", suite, "--generations", gens, "--out", out, *extra]


# --------------------------------------------------------------------- generations files (A)

def gens_variant(lines_of: Callable[[list[dict]], list[bytes]]):
    def build(tmp: Path):
        records = [{"problem_id": p.problem_id, "sample": s, "response": f"\\boxed{{{p.answer}}}"}
                   for p in AIME[:5] for s in range(2)]
        (tmp / "g.jsonl").write_bytes(b"".join(lines_of(records)))
        return grade_args("g.jsonl")
    return build


def encoded(records):
    return [json.dumps(r).encode() + b"\n" for r in records]


for position in (0, 3, 9):
    for byte in (b"\xff", b"\xc3\x28", b"\x80"):
        def bad_bytes(records, position=position, byte=byte):
            data = encoded(records)
            data[position] = data[position].replace(b"boxed", b"box" + byte + b"ed")
            return data
        bad_input(f"non-utf8 {byte!r} on line {position + 1}", "tracebacks", gens_variant(bad_bytes),
                  f"g.jsonl:{position + 1}: not UTF-8")
for label, line in (("truncated JSON", b'{"problem_id": "aime24/I-01", "sam\n'), ("bare string", b'"hello"\n'),
                    ("array line", b"[1, 2]\n"), ("trailing comma", b'{"a": 1,}\n')):
    bad_input(f"generations {label}", "impossible input", gens_variant(lambda r, line=line: encoded(r)[:4] + [line]),
              "g.jsonl:5")
for field in ("problem_id", "sample", "response"):
    bad_input(f"generations missing {field}", "impossible input",
              gens_variant(lambda r, field=field: encoded([{k: v for k, v in x.items() if k != field} for x in r])),
              f"g.jsonl:1: missing field '{field}'")
for field, value in (("sample", "0"), ("sample", 1.5), ("sample", True), ("response", 7), ("problem_id", 3),
                     ("response", None)):
    bad_input(f"generations {field}={value!r}", "impossible input",
              gens_variant(lambda r, field=field, value=value: encoded([{**x, field: value} for x in r])),
              f"g.jsonl:1: field '{field}' must be")
for value in (-1, -7, -100):
    bad_input(f"sample {value}", "impossible input",
              gens_variant(lambda r, value=value: encoded(r[:3] + [{**r[3], "sample": value}])),
              f"g.jsonl:4: field 'sample' is {value}")
for gap in ((1,), (0,), (1, 2)):
    def gapped(records, gap=gap):
        first = records[0]["problem_id"]
        kept = [r for r in records if not (r["problem_id"] == first and r["sample"] in gap)]
        return encoded(kept + [{**records[0], "sample": 3}])
    bad_input(f"sample gap {gap}", "impossible input", gens_variant(gapped), "sample numbers must run 0..n-1")
for extra in (1, 2, 5):
    def ragged(records, extra=extra):
        return encoded(records + [{**records[0], "sample": 2 + i} for i in range(extra)])
    bad_input(f"ragged +{extra}", "impossible input", gens_variant(ragged), "unequal sample counts", "--allow-ragged")
bad_input("duplicate sample", "impossible input", gens_variant(lambda r: encoded(r + [r[4]])), "duplicate sample")
bad_input("unknown problem", "impossible input",
          gens_variant(lambda r: encoded(r + [{**r[0], "problem_id": "aime24/IX-99"}])), "is not in suite aime24")
bad_input("suite mismatch in file", "impossible input",
          gens_variant(lambda r: encoded([{**x, "suite": "math500"} for x in r])), "suite 'math500' but --suite aime24")
bad_input("empty generations file", "impossible input", gens_variant(lambda r: []), "no generations in file")
bad_input("blank-line generations file", "impossible input", gens_variant(lambda r: [b"\n", b"  \n"]),
          "no generations in file")
bad_input("generations is a directory", "unclear messages", lambda tmp: grade_args(str(tmp)), "is a directory")
bad_input("generations /dev/stdin", "unclear messages", lambda tmp: grade_args("/dev/stdin"), "not a regular file")
bad_input("generations /dev/null", "unclear messages", lambda tmp: grade_args("/dev/null"), "not a regular file")
bad_input("generations missing", "unclear messages", lambda tmp: grade_args("nope.jsonl"), "nope.jsonl: no such file")
bad_input("generations missing nested", "unclear messages", lambda tmp: grade_args("a/b/c.jsonl"), "no such file")


def fifo(tmp: Path):
    os.mkfifo(tmp / "pipe.jsonl")
    return grade_args("pipe.jsonl")


bad_input("generations fifo", "unclear messages", fifo, "not a regular file")


# ------------------------------------------------------------------------------ --out (B)

def with_file(name: str, args: Callable[[Path], list]):
    def build(tmp: Path):
        put(tmp / name, "x")
        write_gens(tmp / "g.jsonl")
        return args(tmp)
    return build


for command, args in (
        ("grade", lambda tmp: grade_args("g.jsonl", "afile")),
        ("eval", lambda tmp: ["eval", "--suite", "aime24", "--model", "smollm2-135m", "--out", "afile"]),
        ("report leaderboard", lambda tmp: ["report", "leaderboard", str(tmp), "--out", "afile"]),
        ("report paper", lambda tmp: ["report", "paper", str(tmp), "--out", "afile"])):
    bad_input(f"{command} --out is a file", "tracebacks", with_file("afile", args), "is a file, not a directory")
for command, args in (
        ("grade", lambda tmp: grade_args("g.jsonl", "afile/run")),
        ("eval", lambda tmp: ["eval", "--suite", "aime24", "--model", "smollm2-135m", "--out", "afile/run"]),
        ("import", lambda tmp: ["import", "qwen25-math", "g.jsonl", "--suite", "aime24", "--out", "afile/g.jsonl"])):
    bad_input(f"{command} --out below a file", "tracebacks", with_file("afile", args), "")


def foreign_dir(args):
    def build(tmp: Path):
        (tmp / "mine").mkdir()
        put(tmp / "mine" / "notes.txt", "keep")
        write_gens(tmp / "g.jsonl")
        return args(tmp)
    return build


bad_input("grade into a foreign non-empty dir", "data lost", foreign_dir(lambda tmp: grade_args("g.jsonl", "mine")),
          "is not empty and has no manifest.json")
bad_input("eval into a foreign non-empty dir", "data lost",
          foreign_dir(lambda tmp: ["eval", "--suite", "aime24", "--model", "smollm2-135m", "--out", "mine"]),
          "is not empty and has no manifest.json")


def held_lock(command: Callable[[Path], list], tag: str):
    def body(tmp: Path):
        write_gens(tmp / "g.jsonl")
        (tmp / "run").mkdir()
        holder = subprocess.Popen([sys.executable, "-c", "import time; from harness.rundir import RunLock; "
                                   "RunLock('run').acquire(); print('held', flush=True); time.sleep(120)"],
                                  stdout=subprocess.PIPE, text=True, cwd=tmp, env=ENV)
        try:
            holder.stdout.readline()
            started = time.monotonic()
            verdict = judge_error(harness(*command(tmp), cwd=tmp), f"in use by another harness process (pid {holder.pid})")
            if verdict[0] == "ok" and time.monotonic() - started > 30:
                return "unclear message", "refusal took more than 30 s"
            return verdict
        finally:
            holder.kill()
            holder.wait()
    CASES.append(Case(f"{tag} on a locked --out", "data lost", body))


held_lock(lambda tmp: grade_args("g.jsonl"), "grade")
held_lock(lambda tmp: ["eval", "--suite", "aime24", "--model", "smollm2-135m", "--limit", "1", "--out", "run"], "eval")
held_lock(lambda tmp: ["eval", "--suite", "aime24", "--model", "./missing", "--out", "run"], "eval with bad model")


# ---------------------------------------------------------------------------- data lost (C)

def partial_copy(keep: int, keep_grades: int):
    def body(tmp: Path):
        total = write_gens(tmp / "g.jsonl", n=4)
        first = harness(*grade_args("g.jsonl"), cwd=tmp)
        if first.code != 0:
            return "blocked retry", first.err[-200:]
        copy, grades = tmp / "run" / "generations.jsonl", tmp / "run" / "grades.jsonl"
        copy.write_text("".join(copy.read_text().splitlines(keepends=True)[:keep]))
        grades.write_text("".join(grades.read_text().splitlines(keepends=True)[:keep_grades]))
        (tmp / "run" / "metrics.json").unlink()
        return judge_complete(harness(*grade_args("g.jsonl"), cwd=tmp), tmp / "run", total)
    return body


for keep, keep_grades in ((0, 0), (1, 0), (17, 5), (60, 60), (119, 100)):
    CASES.append(Case(f"partial copy {keep} lines, {keep_grades} grades, re-run", "data lost",
                      partial_copy(keep, keep_grades)))


def partial_last_line(tmp: Path):
    total = write_gens(tmp / "g.jsonl", n=2)
    harness(*grade_args("g.jsonl"), cwd=tmp)
    grades = tmp / "run" / "grades.jsonl"
    data = grades.read_bytes()
    grades.write_bytes(data[: len(data) - 25])  # a kill mid-line
    (tmp / "run" / "metrics.json").unlink()
    return judge_complete(harness(*grade_args("g.jsonl"), cwd=tmp), tmp / "run", total)


CASES.append(Case("grades cut mid-line, re-run", "data lost", partial_last_line))


def disk_full(extra_bytes: int):
    def body(tmp: Path):
        total = write_gens(tmp / "g.jsonl", n=8, pad=300)
        limit = (tmp / "g.jsonl").stat().st_size + extra_bytes

        def small_disk():
            resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

        full = harness(*grade_args("g.jsonl"), cwd=tmp, preexec=small_disk)
        if "Traceback" in full.err or full.code not in (0, 2):
            return "traceback", full.err[-200:]
        if full.code == 0 and lines(tmp / "run" / "grades.jsonl") != total:
            return "data lost", "exit 0 with samples missing"
        return judge_complete(harness(*grade_args("g.jsonl"), cwd=tmp), tmp / "run", total)
    return body


for extra in (-100000, -1000, 0, 2000, 20000, 60000):
    CASES.append(Case(f"disk full at input size {extra:+d} bytes, then re-run", "data lost", disk_full(extra)))


def killed(after_s: float):
    def body(tmp: Path):
        total = write_gens(tmp / "g.jsonl", n=64)
        proc = subprocess.Popen([sys.executable, "-m", "harness", *grade_args("g.jsonl")], cwd=tmp, env=ENV,
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(after_s)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        return judge_complete(harness(*grade_args("g.jsonl"), cwd=tmp), tmp / "run", total)
    return body


for after in (0.3, 1.0, 1.8, 2.5):
    CASES.append(Case(f"SIGKILL after {after} s, re-run", "data lost", killed(after)))


def concurrent(count: int):
    def body(tmp: Path):
        total = write_gens(tmp / "g.jsonl", n=32)
        procs = [subprocess.Popen([sys.executable, "-m", "harness", *grade_args("g.jsonl")], cwd=tmp, env=ENV,
                                  stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True) for _ in range(count)]
        results = [(p.wait(), p.stderr.read()) for p in procs]
        if any("Traceback" in err or code not in (0, 2) for code, err in results):
            return "traceback", str(results)[:200]
        if any(code == 2 and "in use by another harness process" not in err for code, err in results):
            return "unclear message", str(results)[:200]
        got = (lines(tmp / "run" / "generations.jsonl"), lines(tmp / "run" / "grades.jsonl"))
        return ("ok", str(got)) if got == (total, total) else ("data lost", f"{got} != {total}")
    return body


for count in (2, 3):
    CASES.append(Case(f"{count} grades at once on one --out", "data lost", concurrent(count)))
for suites in ("aime24,aime24", "aime24, aime24", "aime24,math500,aime24", "math500,math500"):
    bad_input(f"--suite {suites}", "data lost",
              lambda tmp, suites=suites: ["eval", "--suite", suites, "--model", "smollm2-135m", "--out", "r"],
              "named more than once")


def report_overwrite(kind: str):
    def build(tmp: Path):
        write_gens(tmp / "g.jsonl")
        subprocess.run([sys.executable, "-m", "harness", *grade_args("g.jsonl")], cwd=tmp, env=ENV, capture_output=True)
        (tmp / "rep").mkdir()
        put(tmp / "rep" / f"{kind}.md", "mine")
        return ["report", kind, "run", "--out", "rep"]
    return build


for kind in ("leaderboard", "paper"):
    bad_input(f"report {kind} into a non-empty --out", "data lost", report_overwrite(kind), "pass --overwrite")


def import_existing(tmp: Path):
    put(tmp / "g.jsonl", "keep")
    put(tmp / "in.json", "[]")
    return ["import", "lcb-eval-all", "in.json", "--out", "g.jsonl"]


bad_input("import over an existing file", "data lost", import_existing, "already exists")


def decontam_existing(tmp: Path):
    put(tmp / "t.jsonl", '{"text": "words"}\n')
    put(tmp / "r.jsonl", "keep")
    return ["decontam", "--train", "t.jsonl", "--suites", "aime24", "--out", "r.jsonl"]


bad_input("decontam over an existing report", "data lost", decontam_existing, "already exists")


# ----------------------------------------------------------------------------- tracebacks (D)

def graded_run(tmp: Path) -> None:
    write_gens(tmp / "g.jsonl")
    subprocess.run([sys.executable, "-m", "harness", *grade_args("g.jsonl")], cwd=tmp, env=ENV, capture_output=True)


def gate_case(name: str, prepare: Callable[[Path], list], *expect: str):
    def build(tmp: Path):
        graded_run(tmp)
        return ["gate", "--baseline", "run", "--candidate", "run", *prepare(tmp)]
    bad_input(name, "tracebacks", build, *expect)


gate_case("gate --json into a missing dir", lambda tmp: ["--json", "no/dir/x.json"], "directory no/dir does not exist")
gate_case("gate --summary into a missing dir", lambda tmp: ["--summary", "no/dir/s.md"], "does not exist")
gate_case("gate --json is a directory", lambda tmp: ["--json", str(tmp)], "is a directory")
gate_case("gate on emptied grades", lambda tmp: put(tmp / "run" / "grades.jsonl", "") or [],
          "holds 0 graded samples")
gate_case("gate on truncated grades", lambda tmp: put(tmp / "run" / "grades.jsonl", 
    "".join((tmp / "run" / "grades.jsonl").read_text().splitlines(keepends=True)[:10])) or [], "holds 10 graded samples")
gate_case("gate on broken metrics.json", lambda tmp: put(tmp / "run" / "metrics.json", "{") or [],
          "metrics.json: not valid JSON")
gate_case("gate on non-UTF-8 grades", lambda tmp: put(tmp / "run" / "grades.jsonl",
    b"\xff\n" + (tmp / "run" / "grades.jsonl").read_bytes()) or [], "grades.jsonl:1: not UTF-8")
gate_case("gate on a missing manifest", lambda tmp: (tmp / "run" / "manifest.json").unlink() or [], "not a run directory")
bad_input("gate baseline missing", "tracebacks", lambda tmp: ["gate", "--baseline", "nope", "--candidate", "nope"],
          "nope: not a run directory")
bad_input("gate baseline is a file", "tracebacks",
          lambda tmp: put(tmp / "f", "x") or ["gate", "--baseline", "f", "--candidate", "f"], "f")
bad_input("report on a non-run dir", "tracebacks", lambda tmp: ["report", "leaderboard", str(tmp), "--out", "o"],
          "not a run directory")
bad_input("report on a missing dir", "tracebacks", lambda tmp: ["report", "paper", "nope", "--out", "o"],
          "nope: not a run directory")
bad_input("suites show unknown", "tracebacks", lambda tmp: ["suites", "show", "nope"], "unknown suite")
bad_input("suites show without a name", "tracebacks", lambda tmp: ["suites", "show"], "name a suite")
for k, expect in (("a,b", "expected comma-separated integers"), ("0", "every k must be >= 1"), ("5", "k <= n = 2"),
                  ("-1", "every k must be >= 1")):
    bad_input(f"grade --k {k}", "tracebacks",
              lambda tmp, k=k: write_gens(tmp / "g.jsonl") and grade_args("g.jsonl", "run", "--k", k), expect)
for flag, value in (("--limit", "0"), ("--limit", "-3"), ("-n", "0"), ("--max-tokens", "0"), ("-n", "-2")):
    bad_input(f"eval {flag} {value}", "tracebacks",
              lambda tmp, flag=flag, value=value: ["eval", "--suite", "aime24", "--model", "smollm2-135m", flag, value,
                                                   "--out", "r"], f"{flag} {value}")
bad_input("eval --k 4 with -n 2", "tracebacks",
          lambda tmp: ["eval", "--suite", "aime24", "--model", "smollm2-135m", "-n", "2", "--k", "4", "--out", "r"],
          "--k 4")
bad_input("eval --data missing", "tracebacks",
          lambda tmp: ["eval", "--suite", "math500", "--model", "smollm2-135m", "--data", "none.json", "--out", "r"],
          "none.json")
bad_input("eval option for another suite", "tracebacks",
          lambda tmp: ["eval", "--suite", "aime24", "--model", "smollm2-135m", "--grader", "fixed", "--out", "r"],
          "--grader: does not apply to aime24")
bad_input("grade --data is a directory of nothing", "tracebacks",
          lambda tmp: write_gens(tmp / "g.jsonl") and grade_args("g.jsonl", "run", "--data", str(tmp)), "")


def crash_case(tmp: Path):
    code = ("import sys, harness.cli.suites_cmd as s\ndef boom(*a): raise KeyError('boom')\ns.run = boom\n"
            "from harness.cli import main\nsys.exit(main(sys.argv[1:]))")
    done = subprocess.run([sys.executable, "-c", code, "suites"], capture_output=True, text=True, cwd=tmp, env=ENV)
    text = [line for line in done.stderr.splitlines() if line.strip()]
    if done.returncode != 3 or "Traceback" in done.stderr or len(text) != 1:
        return "traceback", done.stderr[-200:]
    log = text[0].rsplit("traceback in ", 1)[-1]
    ok = os.path.isfile(log) and "KeyError" in Path(log).read_text()
    if ok:
        os.unlink(log)
    return ("ok", text[0][:120]) if ok else ("unclear message", text[0])


CASES.append(Case("an internal bug exits 3 with a log", "tracebacks", crash_case))


# ------------------------------------------------------------------------ blocked retries (E)

def retry(first: Callable[[Path], list], second: Callable[[Path], list], total: int | None = None, name: str = ""):
    def body(tmp: Path):
        count = write_gens(tmp / "g.jsonl")
        bad = harness(*first(tmp), cwd=tmp)
        if "Traceback" in bad.err or bad.code not in (0, 2):
            return "traceback", bad.err[-200:]
        if bad.code == 0:
            return "silent acceptance", "the bad command succeeded"
        good = harness(*second(tmp), cwd=tmp)
        return judge_complete(good, tmp / "run", total or count)
    CASES.append(Case(name, "blocked retries", body))


retry(lambda tmp: grade_args("g.jsonl", "run", "--k", "9"), lambda tmp: grade_args("g.jsonl"), name="grade --k 9 then fixed")
retry(lambda tmp: grade_args("missing.jsonl"), lambda tmp: grade_args("g.jsonl"), name="grade missing file then fixed")
retry(lambda tmp: grade_args("g.jsonl", "run", suite="math500"), lambda tmp: grade_args("g.jsonl"),
      name="grade wrong suite then fixed")
retry(lambda tmp: put(tmp / "bad.jsonl", '{"x": 1}\n') or grade_args("bad.jsonl"), lambda tmp: grade_args("g.jsonl"),
      name="grade malformed file then fixed")
retry(lambda tmp: ["eval", "--suite", "aime24", "--model", "./nosuch-model", "--out", "run"], lambda tmp: grade_args("g.jsonl"),
      name="eval bad model path then grade into the same --out")
retry(lambda tmp: ["eval", "--suite", "aime24", "--model", "nosuch/model", "--out", "run"], lambda tmp: grade_args("g.jsonl"),
      name="eval unreachable hub model then grade into the same --out")
retry(lambda tmp: ["eval", "--suite", "aime24", "--model", "smollm2-135m", "-n", "2", "--k", "8", "--out", "run"],
      lambda tmp: grade_args("g.jsonl"), name="eval impossible --k then grade into the same --out")


def sandbox_retry(first_extra: list, name: str):
    def body(tmp: Path):
        total = write_gens(tmp / "g.jsonl", n=1, problems=LCB_CUSTOM)
        bad = harness(*grade_args("g.jsonl", "run", *first_extra, suite="lcb_custom"), cwd=tmp)
        if "Traceback" in bad.err or bad.code not in (0, 2):
            return "traceback", bad.err[-200:]
        good = harness(*grade_args("g.jsonl", "run", "--sandbox", "local", "--unsafe-local-sandbox", suite="lcb_custom"),
                       cwd=tmp)
        return judge_complete(good, tmp / "run", total)
    CASES.append(Case(name, "blocked retries", body))


sandbox_retry(["--sandbox", "local"], "grade --sandbox local then with --unsafe-local-sandbox")
sandbox_retry(["--sandbox", "local", "--k", "3"], "grade --sandbox local --k 3 then fixed")


def takeover(tmp: Path):
    write_gens(tmp / "a.jsonl", n=2)
    total = write_gens(tmp / "g.jsonl", n=3)
    harness(*grade_args("a.jsonl"), cwd=tmp)
    for name in ("grades.jsonl", "metrics.json"):
        (tmp / "run" / name).unlink()
    return judge_complete(harness(*grade_args("g.jsonl"), cwd=tmp), tmp / "run", total)


CASES.append(Case("run dir without finished samples is taken over", "blocked retries", takeover))


def ragged_retry(tmp: Path):
    total = write_gens(tmp / "g.jsonl", n=2)
    with open(tmp / "g.jsonl", "a") as handle:
        handle.write(json.dumps({"problem_id": AIME[0].problem_id, "sample": 2, "response": "1"}) + "\n")
    bad = harness(*grade_args("g.jsonl"), cwd=tmp)
    if bad.code != 2:
        return "silent acceptance", f"exit {bad.code}"
    good = harness(*grade_args("g.jsonl", "run", "--allow-ragged"), cwd=tmp)
    verdict = judge_complete(good, tmp / "run", total + 1)
    if verdict[0] == "ok" and "ragged" not in good.out + good.err:
        return "unclear message", "--allow-ragged result does not say ragged"
    return verdict


CASES.append(Case("ragged refused then --allow-ragged", "blocked retries", ragged_retry))


def failed_eval_dirs(model: str):
    def body(tmp: Path):
        bad = harness("eval", "--suite", "aime24", "--model", model, "--out", "fresh", cwd=tmp)
        verdict = judge_error(bad, model)
        if verdict[0] != "ok":
            return verdict
        if (tmp / "fresh" / "manifest.json").exists():
            return "blocked retry", "a failed start wrote a manifest"
        return verdict
    CASES.append(Case(f"eval --model {model} leaves no manifest", "blocked retries", body))


for model in ("./nosuch", "/no/such/dir", "missing.gguf", "nosuch-model", "org/nosuch", "~/nosuch"):
    failed_eval_dirs(model)


# ----------------------------------------------------------------------- impossible input (F)

def decontam_rows(name: str, rows: list[str], *expect: str, field: str = "text"):
    def build(tmp: Path):
        put(tmp / "t.jsonl", "".join(row + "\n" for row in rows))
        return ["decontam", "--train", "t.jsonl", "--suites", "aime24", "--out", "r.jsonl", "--field", field, "--jobs", "1"]
    bad_input(name, "impossible input", build, *expect)


for value, shown in (("null", "null"), ("42", "a number (42)"), ("1.5", "a number (1.5)"), ("false", "a boolean"),
                     ('{"x": 1}', "a dict without"), ("[1, 2]", "a number (1)"), ("[null]", "null")):
    decontam_rows(f"decontam text={value}", ['{"text": "fine"}', '{"text": ' + value + "}"], "row 1", shown)
decontam_rows("decontam missing field", ['{"body": "x"}'], "no field 'text'")
decontam_rows("decontam nested field null", ['{"a": {"b": null}}'], "field 'a.b' is null", field="a.b")
for name, content in (("empty jsonl", ""), ("blank jsonl", "\n\n")):
    decontam_rows(f"decontam {name}", [content] if content else [], "no rows to scan")


def decontam_file(name: str, filename: str, content: str, *expect: str):
    def build(tmp: Path):
        put(tmp / filename, content)
        return ["decontam", "--train", filename, "--suites", "aime24", "--out", "r.jsonl"]
    bad_input(name, "impossible input", build, *expect)


decontam_file("decontam empty json array", "t.json", "[]", "no rows to scan")
decontam_file("decontam csv header only", "t.csv", "text\n", "no rows to scan")
decontam_file("decontam unknown extension", "t.xyz", "x", "unknown file type")
for value in ("0", "-1"):
    bad_input(f"decontam --ngram {value}", "impossible input",
              lambda tmp, value=value: put(tmp / "t.jsonl", '{"text": "a"}\n') or
              ["decontam", "--train", "t.jsonl", "--suites", "aime24", "--out", "r.jsonl", "--ngram", value], "--ngram")
bad_input("decontam --min-coverage 2", "impossible input",
          lambda tmp: ["decontam", "--train", "t.jsonl", "--out", "r.jsonl", "--min-coverage", "2"], "--min-coverage 2")
bad_input("decontam --jobs 0", "impossible input",
          lambda tmp: ["decontam", "--train", "t.jsonl", "--out", "r.jsonl", "--jobs", "0"], "--jobs 0")
for suite in ("aime24", "math500", "gpqa_diamond"):
    bad_input(f"import lcb-eval-all --suite {suite}", "impossible input",
              lambda tmp, suite=suite: put(tmp / "in.json", "[]") or
              ["import", "lcb-eval-all", "in.json", "--suite", suite, "--out", "g.jsonl"], f"{suite} is a")
bad_input("import qwen25-math without --suite", "impossible input",
          lambda tmp: put(tmp / "in.jsonl", "{}\n") or ["import", "qwen25-math", "in.jsonl", "--out", "g.jsonl"],
          "--suite")
bad_input("import bad --start-date", "impossible input",
          lambda tmp: put(tmp / "in.json", "[]") or
          ["import", "lcb-eval-all", "in.json", "--start-date", "2024-13-01", "--out", "g.jsonl"], "--start-date")
bad_input("import missing file", "unclear messages",
          lambda tmp: ["import", "lcb-eval-all", "nope.json", "--out", "g.jsonl"], "nope.json: no such file")
bad_input("import a directory", "unclear messages",
          lambda tmp: ["import", "lcb-eval-all", str(tmp), "--out", "g.jsonl"], "is a directory")
bad_input("import empty lcb list", "impossible input",
          lambda tmp: put(tmp / "in.json", "[]") or ["import", "lcb-eval-all", "in.json", "--out", "g.jsonl"],
          "no samples left")
for text in ("", ",", " , "):
    bad_input(f"eval --suite {text!r}", "impossible input",
              lambda tmp, text=text: ["eval", "--suite", text, "--model", "smollm2-135m", "--out", "r"], "--suite")


def training_config(data_line: str, name: str):
    def build(tmp: Path):
        put(tmp / "train.jsonl", data_line)
        put(tmp / "recipe.yaml", f"out: {tmp / 'out'}\nsft:\n  data: {tmp / 'train.jsonl'}\n")
        return ["train", "sft", "--config", "recipe.yaml"]
    bad_input(name, "impossible input", build, "train.jsonl")


training_config("", "train sft on an empty training file")
training_config("\n\n", "train sft on a blank training file")
training_config('{"completion": "x"}\n', "train sft on rows without messages")


# ----------------------------------------------------------------------- unclear messages (G)

for model in ("./a-model", "../a-model", "/abs/no/model", "nomodel.gguf", "tests/no-model", "~/no-model"):
    def build(tmp: Path, model=model):
        (tmp / "tests").mkdir(exist_ok=True)
        return ["eval", "--suite", "aime24", "--model", model, "--out", "r"]
    expect = "GGUF file not found" if model.endswith(".gguf") else "no such file"
    bad_input(f"eval --model {model} (a path)", "unclear messages", build, f"--model {model}: {expect}")
for train in ("data/missing.jsonl", "./m.jsonl", "/nope/x.parquet", "m.csv", "sub/m.json"):
    def build(tmp: Path, train=train):
        (tmp / "data").mkdir(exist_ok=True)
        (tmp / "sub").mkdir(exist_ok=True)
        return ["decontam", "--train", train, "--suites", "aime24", "--out", "r.jsonl"]
    bad_input(f"decontam --train {train} (a path)", "unclear messages", build, f"--train {train}: no such file")
for model in ("someone/missing-model", "bare-model-name"):
    bad_input(f"eval hub id {model} with the hub unreachable", "unclear messages",
              lambda tmp, model=model: ["eval", "--suite", "aime24", "--model", model, "--out", "r"],
              "hub is unreachable")
bad_input("decontam hub dataset with the hub unreachable", "unclear messages",
          lambda tmp: ["decontam", "--train", "someone/dataset", "--suites", "aime24", "--out", "r.jsonl"],
          "hub is unreachable")
bad_input("eval hub id offline and uncached", "unclear messages",
          lambda tmp: ["eval", "--suite", "aime24", "--model", "someone/m", "--out", "r"], "HF_HUB_OFFLINE",
          env={"HF_HUB_OFFLINE": "1"})


def output_case(name: str, args: list, check: Callable[[Run], bool]):
    def body(tmp: Path):
        run = harness(*args, cwd=tmp)
        if "Traceback" in run.err or run.code != 0:
            return "traceback" if "Traceback" in run.err else "unclear message", run.err[-200:]
        return ("ok", "") if check(run) else ("unclear message", run.out[:200])
    CASES.append(Case(name, "unclear messages", body))


def jsonl_rows(run: Run) -> list[dict]:
    return [json.loads(line) for line in run.out.splitlines() if line.strip()]


output_case("suites --format jsonl is JSON", ["suites", "--format", "jsonl"], lambda r: len(jsonl_rows(r)) == 8)
output_case("suites lists lcb_v5 with 279", ["suites", "--format", "jsonl"],
            lambda r: {x["suite"]: x["problems"] for x in jsonl_rows(r)}["lcb_v5"] == 279)
output_case("suites table shows lcb_v5 279", ["suites"], lambda r: "279" in r.out and "needs --data (" not in r.out)
output_case("suites show --format table", ["suites", "show", "aime24", "--format", "table"],
            lambda r: "aime24/I-01" in r.out and not r.out.lstrip().startswith("{"))
output_case("suites show jsonl default", ["suites", "show", "hmmt25"], lambda r: len(jsonl_rows(r)) == 30)
output_case("suites show lcb_custom table", ["suites", "show", "lcb_custom", "--format", "table"], lambda r: "3 problems" in r.out)


def grade_subset_message(tmp: Path):
    write_gens(tmp / "g.jsonl", n=1, problems=AIME[:4])
    run = harness(*grade_args("g.jsonl"), cwd=tmp)
    text = run.out + run.err
    if run.code != 0:
        return "unclear message", run.err[-200:]
    return ("ok", "") if "--limit" not in text and "4 of 30 problems (in --generations)" in text else \
        ("unclear message", "deviation names a flag grade does not have")


CASES.append(Case("grade subset deviation names --generations", "unclear messages", grade_subset_message))


def grade_in_place(tmp: Path):
    """Grading a finished run's own generations file into a new --out: clear, and complete."""
    total = write_gens(tmp / "g.jsonl")
    harness(*grade_args("g.jsonl"), cwd=tmp)
    return judge_complete(harness(*grade_args("run/generations.jsonl", "run2"), cwd=tmp), tmp / "run2", total)


CASES.append(Case("re-grade a run's generations", "unclear messages", grade_in_place))


# ------------------------------------------------------------------------------------ main

def run_case(item: Case) -> tuple[Case, str, str, float]:
    tmp = Path(tempfile.mkdtemp(prefix="probe-"))
    started = time.monotonic()
    try:
        verdict, detail = item.body(tmp)
    except subprocess.TimeoutExpired:
        verdict, detail = "unclear message", "timed out"
    except Exception as exc:  # the probe's own failure is reported, not hidden
        verdict, detail = "traceback", f"probe: {exc!r}"
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return item, verdict, detail, time.monotonic() - started


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--only", help="run cases whose name contains this")
    parser.add_argument("--json", type=Path, help="write every case's verdict here")
    args = parser.parse_args()
    cases = [c for c in CASES if not args.only or args.only in c.name]
    counts: Counter = Counter()
    records = []
    with ThreadPoolExecutor(args.jobs) as pool:
        for item, verdict, detail, seconds in pool.map(run_case, cases):
            counts[verdict] += 1
            records.append({"case": item.name, "family": item.family, "verdict": verdict, "detail": detail,
                            "seconds": round(seconds, 1)})
            mark = "  " if verdict == "ok" else "!!"
            print(f"{mark} [{verdict}] {item.family}: {item.name} ({seconds:.1f}s) {'' if verdict == 'ok' else detail}",
                  flush=True)
    print(f"\n{len(cases)} cases: " + ", ".join(f"{name} {counts.get(name, 0)}" for name in CLASSES))
    if args.json:
        args.json.write_text(json.dumps({"counts": {c: counts.get(c, 0) for c in CLASSES}, "cases": records}, indent=2))
    return 0 if counts["ok"] == len(cases) else 1


if __name__ == "__main__":
    sys.exit(main())
