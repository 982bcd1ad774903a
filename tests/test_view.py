"""harness view without a browser: run data, filters' flags, the diff's gate verdict, the export's
files and --max-bytes marker, in-progress and corrupt runs, and the command's errors and ports."""
from __future__ import annotations

import json
import re
import socket
import subprocess
import sys
import time

import pytest

from harness.cli import main
from reports.gate import gate, pair_suites, to_json
from reports.runs import load_run
from reports.view.diff import diff, suite_runs
from reports.view.export import cut, export
from reports.view.runview import RunView, segments
from view_fixtures import HOSTILE, make_pair


@pytest.fixture(scope="module")
def pair(tmp_path_factory):
    return make_pair(tmp_path_factory.mktemp("runs"))


def test_problem_rows_carry_verdicts_and_flags(pair):
    rows = {row["id"]: row for row in RunView(pair[0]).problem_rows("aime24")}
    first = rows["aime24/I-01"]
    assert (first["correct"], first["graded"], first["rate"]) == (4, 4, 1.0)
    assert first["samples"][1]["flags"] == ["truncated", "unclosed_think", "publisher"]
    assert first["flags"] == {"truncated": 1, "unclosed_think": 1, "publisher": 4}
    assert rows["aime24/I-02"]["flags"]["wrong"] == 3
    assert rows["aime24/I-02"]["reasons"] == {"passed": 1, "wrong_answer": 3}


def test_sample_has_prompt_gold_and_graded_region(pair):
    sample = RunView(pair[0]).sample("aime24", "aime24/I-01", 0)
    assert sample["prompt"]["answer"] == "204"
    assert sample["prompt"]["messages"][-1]["content"].startswith("Every morning Aya")
    assert [(s["kind"], s["graded"]) for s in sample["segments"]] == [("think", False), ("text", True)]
    assert "".join(s["text"] for s in sample["segments"]) == HOSTILE
    assert sample["grade"]["extracted"] == "1" and sample["generation"]["finish_reason"] == "stop"


def test_segments_follow_the_think_policy():
    assert segments("a<think>b</think>c", "strip") == [
        {"kind": "text", "text": "a", "graded": False}, {"kind": "think", "text": "<think>b</think>", "graded": False},
        {"kind": "text", "text": "c", "graded": True}]
    assert segments("<think>never closed", "strip") == [{"kind": "think", "text": "<think>never closed", "graded": False}]
    assert segments("<think>b</think>c", "full")[0]["graded"] is True
    assert segments("plain", "strip") == [{"kind": "text", "text": "plain", "graded": True}]


def test_search_reads_responses_through_the_index(pair):
    view = RunView(pair[0])
    assert view.search("aime24", "WINDOW.__PWNED")["problems"] == ["aime24/I-01"]
    assert view.search("aime24", "coffee shop")["problems"] == ["aime24/I-01"]  # the statement
    assert len(view.search("aime24", "long reasoning")["samples"]) == 6


def test_diff_orders_changes_and_matches_the_gate(pair):
    base, cand = RunView(pair[0]), RunView(pair[1])
    result = diff(base, cand)
    changed = result["suites"][0]["changed"]
    assert [c["id"] for c in changed] == ["aime24/I-01", "aime24/I-02"]
    assert (changed[0]["base"], changed[0]["cand"], len(changed[0]["flipped"])) == (1.0, 0.0, 4)
    settings = result["gate"]["settings"]
    expected = to_json(gate(pair_suites(load_run(pair[0]), load_run(pair[1])), 1.0, 0.05), settings)
    assert json.loads(json.dumps(result["gate"])) == json.loads(json.dumps(expected))
    assert suite_runs(base)[0].counts == load_run(pair[0])[0].counts


def test_in_progress_and_corrupt_lines(pair, tmp_path):
    import shutil

    run = tmp_path / "partial"
    shutil.copytree(pair[0], run)
    (run / "metrics.json").unlink()
    with open(run / "generations.jsonl", "a", encoding="utf-8") as handle:
        handle.write("{this is not json\n")
    view = RunView(run)
    summary = view.summary()
    assert summary["in_progress"] is True
    assert summary["errors"] == [{"file": "generations.jsonl", "line": 25,
                                  "error": "line 25: not valid JSON (Expecting property name enclosed in double quotes)"}]
    assert len(view.problem_rows("aime24")) == 6
    assert diff(view, RunView(pair[1]))["gate"]["status"] == "incomparable"


def test_cut_marks_the_omission():
    text = "a" * 500 + "b" * 500
    short = cut(text, 100)
    assert short.startswith("a" * 50) and short.endswith("b" * 50)
    assert "[... 900 characters omitted by --max-bytes ...]" in short
    assert cut("short", 100) == "short"


def test_export_writes_script_data_and_caps_responses(pair, tmp_path):
    index = export(list(pair), tmp_path / "site", max_bytes=1)
    site = tmp_path / "site"
    assert index == site / "index.html" and (site / "static" / "viewer.js").exists()
    names = sorted(p.name for p in (site / "data").iterdir())
    assert {"runs.js", "diff.js", "problems-0-aime24.js", "p-0-aime24-0.js", "p-1-aime24-5.js"} <= set(names)
    text = (site / "data" / "p-0-aime24-0.js").read_text(encoding="utf-8")
    assert text.startswith('VIEW_DATA("p-0-aime24-0", ')
    payload = json.loads(text[len('VIEW_DATA("p-0-aime24-0", '):-3])
    long_think = payload["samples"]["1"]["segments"][0]["text"]
    assert "characters omitted by --max-bytes" in long_think and len(long_think) < 2100
    assert payload["prompt"]["answer"] == "204"
    assert sorted(p.name for p in (site / "plot").iterdir()) == [
        "0-budget.png", "0-histogram.png", "0-truncation.png", "1-budget.png", "1-histogram.png", "1-truncation.png"]


def test_cli_errors_are_one_line(tmp_path, capsys):
    assert main(["view", str(tmp_path / "missing"), "--no-browser"]) == 2
    assert capsys.readouterr().err.strip() == f"error: {tmp_path / 'missing'}: no such run directory"
    assert main(["view", str(tmp_path), "--no-browser"]) == 2
    assert "not a run directory (no manifest.json)" in capsys.readouterr().err
    assert main(["view", "a", "b", "c"]) == 2
    assert "at most two runs" in capsys.readouterr().err
    assert main(["view", str(tmp_path), "--max-bytes", "10"]) == 2
    assert "only with --export" in capsys.readouterr().err


def served_cli(args, env):
    proc = subprocess.Popen([sys.executable, "-m", "harness", "view", *args, "--no-browser"], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    return proc


def test_port_in_use_picks_another_and_warns_off_loopback(pair):
    import os
    import urllib.request

    env = dict(os.environ)
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen(1)
        port = busy.getsockname()[1]
        proc = served_cli([str(pair[0]), "--port", str(port), "--host", "0.0.0.0"], env)
        try:
            line = ""
            deadline = time.time() + 60
            while "harness view: http" not in line and time.time() < deadline:
                line = proc.stdout.readline()
            url = re.search(r"http://\S+/", line).group(0)
            assert not url.endswith(f":{port}/")
            got = json.load(urllib.request.urlopen(url.replace("0.0.0.0", "127.0.0.1") + "api/runs", timeout=20))
            assert got["runs"][0]["name"] == "base"
        finally:
            proc.terminate()
            _, err = proc.communicate(timeout=20)
    assert f"port {port} is in use; using a free port instead" in err
    assert "warning: serving on 0.0.0.0" in err and "no authentication" in err


def test_reasoning_returned_apart_is_shown_as_the_think_block_it_was_graded_as(tmp_path):
    import json as _json

    from harness.rundir import RunDir
    from harness.synthetic import problem_ids, write_run
    from reports.view.runview import RunView

    run = tmp_path / "run"
    write_run(run, {"aime24": {pid: [False] for pid in problem_ids("aime24", 1)}})
    path = RunDir(run).generations_path
    record = _json.loads(path.read_text().splitlines()[0])
    record.update(reasoning="let me think: 2+2", response="\\boxed{4}")
    path.write_text(_json.dumps(record) + "\n")
    sample = RunView(run).sample("aime24", record["problem_id"], 0)
    kinds = [(seg["kind"], seg["text"]) for seg in sample["segments"] if seg["text"]]
    assert ("text", "\\boxed{4}") in kinds
    assert any(kind == "think" and "let me think: 2+2" in text for kind, text in kinds)
    assert "reasoning" not in sample["generation"]
