"""Stages stream their inputs: the grading pool takes a bounded window, work lists hold offsets."""
import json

from harness.grading import WINDOW, grade_stream
from harness.problems import Verdict
from harness.rundir import LinesAt, iter_jsonl_offsets


def _echo(response, reference):
    return Verdict(response == reference, response, "ok", {})


def test_grade_stream_pulls_only_a_window_of_responses_ahead():
    pulled = []

    def items():
        for i in range(400):
            pulled.append(i)
            yield i, str(i), str(i)

    stream = grade_stream(_echo, items(), timeout=10, workers=2)
    key, verdict = next(stream)
    assert key == 0 and verdict.correct
    assert len(pulled) <= WINDOW * 2 + 1
    assert [k for k, _ in stream] == list(range(1, 400))


def test_lines_at_reads_back_exactly_the_indexed_lines(tmp_path):
    path = tmp_path / "g.jsonl"
    path.write_text("".join(json.dumps({"i": i, "response": "x" * i}) + "\n" for i in range(20)))
    spans = [(offset, length) for _, offset, length, record in iter_jsonl_offsets(path) if record["i"] % 3 == 0]
    assert [r["i"] for r in LinesAt(path, spans)] == [0, 3, 6, 9, 12, 15, 18]
    assert [r["i"] for _, _, _, r in iter_jsonl_offsets(path, contains=b'"i": 1')] == [1] + list(range(10, 20))
