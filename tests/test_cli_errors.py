"""Bad input: one line naming the culprit, exit code 2, nothing written over."""
import json

from conftest import run_harness


def error_line(result) -> str:
    assert result.returncode == 2, result.stderr
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    return lines[0]


def test_unknown_suite():
    line = error_line(run_harness("eval", "--suite", "aime24,nope", "--model", "smollm2-135m", "--out", "/tmp/x-never"))
    assert "--suite nope: unknown suite" in line


def test_missing_generations_file(tmp_path):
    line = error_line(run_harness("grade", "--suite", "aime24", "--generations", str(tmp_path / "missing.jsonl"),
                                  "--out", str(tmp_path / "run")))
    assert "missing.jsonl: no such file" in line


def test_malformed_generations_line_names_file_and_line(tmp_path):
    path = tmp_path / "gens.jsonl"
    good = {"problem_id": "aime24/I-01", "sample": 0, "response": "\\boxed{204}"}
    path.write_text(json.dumps(good) + "\n{not json\n")
    line = error_line(run_harness("grade", "--suite", "aime24", "--generations", str(path), "--out", str(tmp_path / "r")))
    assert f"{path}:2: not valid JSON" in line
    path.write_text(json.dumps(good) + "\n" + json.dumps({"problem_id": "aime24/I-02", "sample": 0}) + "\n")
    line = error_line(run_harness("grade", "--suite", "aime24", "--generations", str(path), "--out", str(tmp_path / "r")))
    assert f"{path}:2: missing field 'response'" in line
    path.write_text(json.dumps({**good, "problem_id": "aime24/III-01"}) + "\n")
    line = error_line(run_harness("grade", "--suite", "aime24", "--generations", str(path), "--out", str(tmp_path / "r")))
    assert "problem_id 'aime24/III-01' is not in suite aime24" in line


def test_missing_data_file_and_bad_flags(tmp_path):
    line = error_line(run_harness("eval", "--suite", "math500", "--model", "smollm2-135m", "--data",
                                  str(tmp_path / "none.json"), "--out", str(tmp_path / "r")))
    assert "none.json: no such file" in line
    line = error_line(run_harness("eval", "--suite", "aime24", "--model", "smollm2-135m", "-n", "2", "--k", "1,4",
                                  "--out", str(tmp_path / "r2")))
    assert "--k 4" in line and "n = 2" in line
    line = error_line(run_harness("eval", "--suite", "aime24", "--model", str(tmp_path / "nomodel.gguf"),
                                  "--out", str(tmp_path / "r3")))
    assert "nomodel.gguf: GGUF file not found" in line


def test_changed_settings_on_an_existing_run_are_refused(tmp_path):
    path = tmp_path / "gens.jsonl"
    path.write_text(json.dumps({"problem_id": "aime24/I-01", "sample": 0, "response": "\\boxed{204}"}) + "\n")
    out = tmp_path / "run"
    assert run_harness("grade", "--suite", "aime24", "--generations", str(path), "--out", str(out)).returncode == 0
    before = (out / "grades.jsonl").read_text()
    line = error_line(run_harness("grade", "--suite", "aime24", "--think", "full", "--generations", str(path),
                                  "--out", str(out)))
    assert "think" in line and "use a new --out" in line
    assert (out / "grades.jsonl").read_text() == before


def test_option_that_applies_to_no_chosen_suite(tmp_path):
    line = error_line(run_harness("eval", "--suite", "aime24", "--model", "smollm2-135m", "--option-order",
                                  "shuffled", "--out", str(tmp_path / "r")))
    assert "--option-order: does not apply to aime24" in line
