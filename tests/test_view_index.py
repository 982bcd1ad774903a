"""The viewer's byte-offset index: offsets read back the right line, the cache is reused while the
files are unchanged, extended when they only grow, rebuilt when rewritten; bad lines are entries."""
from __future__ import annotations

import json
import os

from reports.run_index import CACHE_NAME, RunIndex, read_line


def write_lines(path, records, mode="w"):
    with open(path, mode, encoding="utf-8") as handle:
        for record in records:
            handle.write(record if isinstance(record, str) else json.dumps(record, ensure_ascii=False) + "\n")


def generation(problem, sample, response="ok", **extra):
    return {"suite": "aime24", "problem_id": problem, "sample": sample, "response": response, **extra}


def test_offsets_read_back_each_line(tmp_path):
    records = [generation("a/1", 0, "é" * 1000, finish_reason="length", num_tokens=7),
               generation("a/1", 1, "<think>no close"), generation("b/2", 0, "<think>x</think> 5")]
    write_lines(tmp_path / "generations.jsonl", records)
    index = RunIndex(tmp_path)
    entries = index.generations.entries
    assert [e["line"] for e in entries] == [1, 2, 3]
    assert [read_line(index.generations.path, e) for e in entries] == records
    assert entries[0]["chars"] == 1000 and entries[0]["finish_reason"] == "length" and entries[0]["num_tokens"] == 7
    assert (entries[1]["think_open"], entries[1]["think_close"]) == (True, False)
    assert (entries[2]["think_open"], entries[2]["think_close"]) == (True, True)
    assert "response" not in entries[0]


def test_corrupt_lines_are_error_entries_and_partial_tail_waits(tmp_path):
    write_lines(tmp_path / "generations.jsonl", [generation("a", 0), "{not json\n", "[1, 2]\n",
                                                 json.dumps({"sample": 0}) + "\n", '{"suite": "aime24", "prob'])
    entries = RunIndex(tmp_path).generations.entries
    assert [e.get("error", "") for e in entries] == [
        "", "line 2: not valid JSON (Expecting property name enclosed in double quotes)",
        "line 3: expected a JSON object", "line 4: missing field 'problem_id'"]


def test_cache_reused_extended_and_invalidated(tmp_path):
    path = tmp_path / "generations.jsonl"
    write_lines(path, [generation("a", 0), generation("a", 1)])
    first = RunIndex(tmp_path)
    assert first.generations.fresh and (tmp_path / CACHE_NAME).exists()
    again = RunIndex(tmp_path)
    assert not again.generations.fresh and again.generations.entries == first.generations.entries

    write_lines(path, [generation("b", 0, "appended")], mode="a")  # a run in progress appends
    assert again.stale()
    grown = RunIndex(tmp_path)
    assert [e["problem_id"] for e in grown.generations.entries] == ["a", "a", "b"]
    assert grown.generations.entries[2]["line"] == 3
    assert read_line(path, grown.generations.entries[2])["response"] == "appended"

    write_lines(path, [generation("c", 0, "rewritten, longer than before " * 20)])  # rewritten: rescan
    rebuilt = RunIndex(tmp_path)
    assert [e["problem_id"] for e in rebuilt.generations.entries] == ["c"]


def test_same_size_rewrite_is_noticed_through_mtime(tmp_path):
    path = tmp_path / "generations.jsonl"
    write_lines(path, [generation("a", 0, "xx")])
    RunIndex(tmp_path)
    write_lines(path, [generation("b", 0, "yy")])
    os.utime(path, ns=(1, 1))
    assert [e["problem_id"] for e in RunIndex(tmp_path).generations.entries] == ["b"]


def test_read_only_run_caches_elsewhere(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    run = tmp_path / "run"
    run.mkdir()
    write_lines(run / "generations.jsonl", [generation("a", 0)])
    os.chmod(run, 0o555)
    try:
        if os.access(run, os.W_OK):  # root ignores the mode: nothing to test
            return
        RunIndex(run)
        assert not (run / CACHE_NAME).exists()
        assert list((tmp_path / "cache").rglob("*.json"))
        assert not RunIndex(run).generations.fresh
    finally:
        os.chmod(run, 0o755)
