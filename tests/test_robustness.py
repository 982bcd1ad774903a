"""Never lose a sample, never show a traceback (issue 13): one test per class of fault, each through
the real CLI in a subprocess on real files.

Classes: data lost (partial copy, disk full, two writers, duplicate suites, reports overwritten),
tracebacks (exit codes 2/3), blocked retries (a failed start leaves nothing in the way),
impossible input, unclear messages.
"""
from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

import pytest

from conftest import REPO, run_harness
from suites import get_suite

AIME = get_suite("aime24").load_problems()


def one_error_line(result, code: int = 2) -> str:
    assert result.returncode == code, (result.returncode, result.stderr[-2000:])
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr[-2000:]
    assert "Traceback" not in result.stderr
    return lines[0]


def write_generations(path: Path, n: int = 2, problems=AIME, pad: int = 0) -> int:
    """n samples of every problem, sample 0 right; returns the number of lines."""
    with open(path, "w") as handle:
        for problem in problems:
            for sample in range(n):
                answer = problem.answer if sample == 0 else "1"
                handle.write(json.dumps({"problem_id": problem.problem_id, "sample": sample,
                                         "response": "x" * pad + f"\\boxed{{{answer}}}"}) + "\n")
    return len(problems) * n


def lines(path: Path) -> int:
    return sum(1 for line in path.read_text().splitlines() if line.strip())


def grade(generations: Path, out: Path, *extra: str, **kwargs):
    return run_harness("grade", "--suite", "aime24", "--generations", str(generations), "--out", str(out),
                       *extra, **kwargs)


# ------------------------------------------------------------------------------ data lost

def test_a_partial_copy_of_the_generations_is_not_trusted_on_resume(tmp_path):
    source, out = tmp_path / "gens.jsonl", tmp_path / "run"
    total = write_generations(source, n=4)
    assert grade(source, out).returncode == 0
    copy = out / "generations.jsonl"
    copy.write_text("".join(copy.read_text().splitlines(keepends=True)[:17]))  # what a kill mid-copy left
    (out / "grades.jsonl").write_text("".join((out / "grades.jsonl").read_text().splitlines(keepends=True)[:5]))
    (out / "metrics.json").unlink()
    result = grade(source, out)
    assert result.returncode == 0, result.stderr
    assert lines(copy) == total and lines(out / "grades.jsonl") == total
    assert json.loads((out / "metrics.json").read_text())["num_samples"] == total


def test_disk_full_is_one_line_and_the_rerun_grades_every_sample(tmp_path):
    source, out = tmp_path / "gens.jsonl", tmp_path / "run"
    total = write_generations(source, n=8, pad=300)
    limit = source.stat().st_size + 4096  # the copy fits, the grades do not: "disk full" mid-stage

    def small_disk():
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    full = subprocess.run([sys.executable, "-m", "harness", "grade", "--suite", "aime24", "--generations",
                           str(source), "--out", str(out)], capture_output=True, text=True, cwd=REPO,
                          preexec_fn=small_disk, timeout=300)
    line = one_error_line(full)
    assert "File too large" in line and "re-run the same command to resume" in line
    assert not (out / "metrics.json").exists()
    result = grade(source, out)
    assert result.returncode == 0, result.stderr
    assert lines(out / "grades.jsonl") == total
    assert json.loads((out / "metrics.json").read_text())["num_samples"] == total


def test_a_second_writer_on_one_out_fails_at_once_naming_the_first(tmp_path):
    source, out = tmp_path / "gens.jsonl", tmp_path / "run"
    write_generations(source)
    holder = subprocess.Popen([sys.executable, "-c", "import sys, time; from harness.rundir import RunLock; "
                               f"RunLock({str(out)!r}).acquire(); print('held', flush=True); time.sleep(60)"],
                              stdout=subprocess.PIPE, text=True, cwd=REPO)
    try:
        assert holder.stdout.readline().strip() == "held"
        started = time.monotonic()
        line = one_error_line(grade(source, out))
        assert line == f"error: --out {out}: in use by another harness process (pid {holder.pid})"
        assert time.monotonic() - started < 20
        assert not (out / "manifest.json").exists()
    finally:
        holder.kill()
        holder.wait()
    assert grade(source, out).returncode == 0  # the lock went with its process


def test_two_grades_started_together_write_every_sample_once(tmp_path):
    source, out = tmp_path / "gens.jsonl", tmp_path / "run"
    total = write_generations(source, n=16)
    command = [sys.executable, "-m", "harness", "grade", "--suite", "aime24", "--generations", str(source),
               "--out", str(out)]
    procs = [subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=REPO)
             for _ in range(2)]
    results = [(p.wait(timeout=300), p.stderr.read()) for p in procs]
    codes = sorted(code for code, _ in results)
    assert codes in ([0, 0], [0, 2]), results  # either one waited its turn (then resumed) or it was refused
    assert any("in use by another harness process" in err for code, err in results if code == 2) or codes == [0, 0]
    assert lines(out / "grades.jsonl") == total and lines(out / "generations.jsonl") == total


def test_a_suite_named_twice_is_a_usage_error(tmp_path):
    line = one_error_line(run_harness("eval", "--suite", "aime24,math500, aime24", "--model", "smollm2-135m",
                                      "--out", str(tmp_path / "r")))
    assert line == "error: --suite aime24,math500, aime24: aime24 named more than once"
    assert not (tmp_path / "r").exists()


def test_reports_refuse_a_non_empty_out_without_overwrite(tmp_path):
    source, run = tmp_path / "gens.jsonl", tmp_path / "run"
    write_generations(source)
    assert grade(source, run).returncode == 0
    board = tmp_path / "board"
    board.mkdir()
    (board / "keep.txt").write_text("mine")
    line = one_error_line(run_harness("report", "leaderboard", str(run), "--out", str(board)))
    assert line == f"error: --out {board}: exists and is not empty; pass --overwrite to replace its reports"
    line = one_error_line(run_harness("report", "paper", str(run), "--out", str(board)))
    assert "pass --overwrite" in line
    assert run_harness("report", "leaderboard", str(run), "--out", str(board), "--overwrite").returncode == 0
    assert (board / "keep.txt").read_text() == "mine" and (board / "leaderboard.md").is_file()


# ----------------------------------------------------------------------------- tracebacks

def test_out_naming_a_file_is_one_error_line_for_every_writer(tmp_path):
    source, afile = tmp_path / "gens.jsonl", tmp_path / "afile"
    write_generations(source)
    afile.write_text("x")
    for args in (["grade", "--suite", "aime24", "--generations", str(source), "--out", str(afile)],
                 ["eval", "--suite", "aime24", "--model", "smollm2-135m", "--limit", "1", "-n", "1",
                  "--max-tokens", "16", "--out", str(afile)],
                 ["report", "leaderboard", str(tmp_path), "--out", str(afile)]):
        assert one_error_line(run_harness(*args)) == f"error: --out {afile}: is a file, not a directory"
    assert afile.read_text() == "x"


def test_a_non_utf8_byte_names_file_and_line(tmp_path):
    source = tmp_path / "gens.jsonl"
    write_generations(source)
    data = source.read_bytes().splitlines(keepends=True)
    data[2] = data[2].replace(b"boxed", b"box\xffed")
    source.write_bytes(b"".join(data))
    line = one_error_line(grade(source, tmp_path / "run"))
    assert line == f"error: {source}:3: not UTF-8 (byte 0xff at column {data[2].index(bytes([255])) + 1})"


def test_gate_outputs_into_a_missing_directory_are_usage_errors(tmp_path):
    source, run = tmp_path / "gens.jsonl", tmp_path / "run"
    write_generations(source)
    assert grade(source, run).returncode == 0
    for flag in ("--json", "--summary"):
        line = one_error_line(run_harness("gate", "--baseline", str(run), "--candidate", str(run), flag,
                                          str(tmp_path / "nodir" / "out.json")))
        assert line == f"error: {flag} {tmp_path / 'nodir' / 'out.json'}: directory {tmp_path / 'nodir'} does not exist"


def test_an_unexpected_exception_exits_3_with_one_line_and_a_log(tmp_path):
    code = ("import sys, harness.cli.suites_cmd as s\n"
            "def boom(*a): raise ZeroDivisionError('boom')\n"
            "s.run = boom\nfrom harness.cli import main\nsys.exit(main(sys.argv[1:]))")
    result = subprocess.run([sys.executable, "-c", code, "suites"], capture_output=True, text=True, cwd=REPO)
    line = one_error_line(result, code=3)
    assert "internal error (a harness bug" in line and "ZeroDivisionError: boom" in line
    log = Path(line.rsplit("traceback in ", 1)[1])
    assert "Traceback" in log.read_text() and "boom" in log.read_text()
    log.unlink()
    debug = subprocess.run([sys.executable, "-c", code, "--debug", "suites"], capture_output=True, text=True, cwd=REPO)
    assert debug.returncode == 3 and "Traceback" in debug.stderr


def test_os_errors_exit_2_not_1(tmp_path):
    source = tmp_path / "gens.jsonl"
    write_generations(source)
    locked = tmp_path / "ro"
    locked.mkdir()
    locked.chmod(0o500)
    if os.geteuid() == 0:  # root writes anywhere: use a path below a file instead
        locked = source / "sub"
    result = grade(source, locked / "run")
    assert result.returncode == 2 and "Traceback" not in result.stderr


# ------------------------------------------------------------------------ blocked retries

def test_a_failed_start_leaves_no_run_directory_in_the_way(tmp_path):
    out = tmp_path / "run"
    line = one_error_line(run_harness("eval", "--suite", "aime24", "--model", "./nosuch-model", "--out", str(out)))
    assert "no such file or directory" in line
    assert not out.exists()
    source = tmp_path / "gens.jsonl"
    write_generations(source, problems=get_suite("lcb_custom").load_problems())
    bad = run_harness("grade", "--suite", "lcb_custom", "--generations", str(source), "--out", str(out),
                      "--sandbox", "local")
    assert "--unsafe-local-sandbox" in one_error_line(bad)
    assert not (out / "manifest.json").exists()
    good = run_harness("grade", "--suite", "lcb_custom", "--generations", str(source), "--out", str(out),
                       "--sandbox", "local", "--unsafe-local-sandbox")
    assert good.returncode == 0, good.stderr


def test_a_run_directory_without_finished_samples_is_taken_over(tmp_path):
    first, second, out = tmp_path / "a.jsonl", tmp_path / "b.jsonl", tmp_path / "run"
    write_generations(first, n=2)
    total = write_generations(second, n=3)
    assert grade(first, out).returncode == 0
    for name in ("grades.jsonl", "metrics.json"):
        (out / name).unlink()  # as if it had died before its first grade
    result = grade(second, out)
    assert result.returncode == 0, result.stderr
    assert lines(out / "grades.jsonl") == total
    refused = grade(first, out)  # now it holds finished samples: a different input is refused
    assert refused.returncode == 2 and "use a new --out" in refused.stderr


# ----------------------------------------------------------------------- impossible input

def test_impossible_sample_numbers_are_errors(tmp_path):
    source, out = tmp_path / "gens.jsonl", tmp_path / "run"
    base = {"problem_id": AIME[0].problem_id, "response": "\\boxed{1}"}
    source.write_text(json.dumps({**base, "sample": -1}) + "\n")
    assert one_error_line(grade(source, out)) == f"error: {source}:1: field 'sample' is -1; sample numbers start at 0"
    source.write_text(json.dumps({**base, "sample": 0}) + "\n" + json.dumps({**base, "sample": 5}) + "\n")
    line = one_error_line(grade(source, out))
    assert f"problem {AIME[0].problem_id} has samples 0, 5 but not 1, 2, 3, 4" in line
    assert not out.exists()


def test_ragged_sample_counts_need_allow_ragged_which_says_so_on_every_result(tmp_path):
    source, out = tmp_path / "gens.jsonl", tmp_path / "run"
    write_generations(source, n=4)
    with open(source, "a") as handle:
        for sample in range(4, 6):
            handle.write(json.dumps({"problem_id": AIME[3].problem_id, "sample": sample, "response": "1"}) + "\n")
    line = one_error_line(grade(source, out))
    assert "unequal sample counts (n=4 for 29, n=6 for 1" in line and "--allow-ragged" in line
    result = grade(source, out, "--allow-ragged")
    assert result.returncode == 0, result.stderr
    assert "ragged: n per problem from 4 to 6" in result.stdout + result.stderr
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["n_range"] == [4, 6] and any(d.startswith("ragged") for d in metrics["deviations"])
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["samples_per_problem"][AIME[3].problem_id] == 6


def test_lcb_import_into_a_math_suite_is_refused(tmp_path):
    source = tmp_path / "eval_all.json"
    source.write_text("[]")
    line = one_error_line(run_harness("import", "lcb-eval-all", str(source), "--suite", "aime24",
                                      "--out", str(tmp_path / "g.jsonl")))
    assert "--suite aime24: lcb-eval-all files hold LiveCodeBench code samples; aime24 is a math suite" in line


@pytest.mark.parametrize("value, shown", [("null", "null"), ("5", "a number (5)"), ('{"a": 1}', "a dict without"),
                                          ("true", "a boolean (True)")])
def test_decontam_refuses_a_field_that_is_not_text(tmp_path, value, shown):
    source = tmp_path / "train.jsonl"
    source.write_text('{"text": "fine words"}\n{"text": ' + value + "}\n")
    line = one_error_line(run_harness("decontam", "--train", str(source), "--suites", "aime24",
                                      "--out", str(tmp_path / "rep.jsonl"), "--jobs", "1"))
    assert line.startswith(f"error: {source}: row 1: field 'text' is {shown}")
    assert not (tmp_path / "rep.jsonl").exists()


def test_an_empty_training_file_is_an_error(tmp_path):
    source = tmp_path / "train.jsonl"
    source.write_text("\n")
    line = one_error_line(run_harness("decontam", "--train", str(source), "--suites", "aime24",
                                      "--out", str(tmp_path / "rep.jsonl")))
    assert line == f"error: --train {source}: no rows to scan (empty input)"
    assert not (tmp_path / "rep.jsonl").exists()


# ------------------------------------------------------------------------ unclear messages

def test_missing_paths_are_no_such_file_at_once(tmp_path):
    started = time.monotonic()
    env = {"HF_HUB_OFFLINE": ""}
    line = one_error_line(run_harness("decontam", "--train", "data/missing.jsonl", "--suites", "aime24",
                                      "--out", str(tmp_path / "r.jsonl"), env=env))
    assert line == "error: --train data/missing.jsonl: no such file or directory (nor a hub dataset id)"
    line = one_error_line(run_harness("eval", "--suite", "aime24", "--model", "./nosuch", "--out",
                                      str(tmp_path / "r"), env=env))
    assert line.startswith("error: --model ./nosuch: no such file or directory")
    assert time.monotonic() - started < 30


def test_an_unreachable_hub_fails_in_one_line_after_one_attempt(tmp_path):
    env = {"HF_HUB_OFFLINE": "", "HF_ENDPOINT": "http://127.0.0.1:9"}  # nothing listens: no network needed
    started = time.monotonic()
    line = one_error_line(run_harness("eval", "--suite", "aime24", "--model", "someone/no-such-model",
                                      "--out", str(tmp_path / "r"), env=env))
    assert line.startswith("error: --model someone/no-such-model: not a local path, and the Hugging Face hub "
                           "is unreachable (127.0.0.1:9")
    assert time.monotonic() - started < 20 and not (tmp_path / "r").exists()


def test_suites_lists_lcb_v5_and_honours_format():
    listed = run_harness("suites", "--format", "jsonl")
    rows = {json.loads(line)["suite"]: json.loads(line) for line in listed.stdout.splitlines()}
    assert rows["lcb_v5"]["problems"] == 279 and rows["aime24"]["problems"] == 30
    table = run_harness("suites", "show", "aime24", "--format", "table")
    assert table.returncode == 0 and "aime24/I-01" in table.stdout and not table.stdout.startswith("{")
    jsonl = run_harness("suites", "show", "aime24")
    assert len(jsonl.stdout.splitlines()) == 30


def test_grade_messages_are_accurate(tmp_path):
    source, out = tmp_path / "gens.jsonl", tmp_path / "run"
    write_generations(source, n=1, problems=AIME[:3])
    result = grade(source, out)
    assert result.returncode == 0 and "--limit" not in result.stdout + result.stderr
    assert "3 of 30 problems (in --generations)" in result.stdout + result.stderr
    line = one_error_line(grade(tmp_path, tmp_path / "r2"))
    assert line == f"error: --generations {tmp_path}: is a directory; give the JSONL file in it " \
                   f"(e.g. {tmp_path / 'generations.jsonl'})"
    line = one_error_line(grade(Path("/dev/stdin"), tmp_path / "r3"))
    assert "not a regular file" in line and "save it to a file first" in line


def test_gate_on_an_emptied_grades_file_says_so(tmp_path):
    source, run = tmp_path / "gens.jsonl", tmp_path / "run"
    total = write_generations(source)
    assert grade(source, run).returncode == 0
    (run / "grades.jsonl").write_text("")
    line = one_error_line(run_harness("gate", "--baseline", str(run), "--candidate", str(run)))
    assert line == (f"error: {run / 'grades.jsonl'}: holds 0 graded samples of aime24, metrics.json counts {total}; "
                    "the file was emptied or edited (re-run the run's command)")
