"""issue 17.6: schema_version in manifest.json and metrics.json, JSON Schemas in docs/schema/.

Files written here (a grade run, an audit, a training stage manifest, a pipeline-written run)
validate against their schemas; tests/test_runfile.py does the same for a real CPU eval run. A run
written by a newer harness is a clear error in load_run, gate and view; an older one (no
schema_version = 1) is read, and a resume rewrites it in the current shape.
"""
import json
import subprocess
import sys

import pytest

import harness
from conftest import REPO, run_harness
from harness.errors import HarnessError
from harness.schema import SCHEMA_FILES, SCHEMA_VERSION, check_schema_version, schema_path
from harness.synthetic import problem_ids, write_run
from schema_validation import validate, validate_run_dir


@pytest.fixture(scope="module")
def synthetic(tmp_path_factory):
    out = tmp_path_factory.mktemp("schema") / "run"
    ids = problem_ids("aime24", 3)
    write_run(out, {"aime24": {pid: [True, False] for pid in ids},
                    "math500": {pid: [False, False] for pid in problem_ids("math500", 2)}})
    return out


def edit_json(path, change):
    value = json.loads(path.read_text())
    change(value)
    path.write_text(json.dumps(value))


def test_every_schema_is_a_valid_json_schema():
    from schema_validation import validator

    for name in SCHEMA_FILES:
        assert schema_path(name).is_file(), name
        validator(name)  # check_schema: a valid draft 2020-12 schema


def test_manifest_and_metrics_carry_the_schema_version(synthetic):
    manifest = json.loads((synthetic / "manifest.json").read_text())
    metrics = json.loads((synthetic / "metrics.json").read_text())
    assert manifest["schema_version"] == SCHEMA_VERSION
    assert [m["schema_version"] for m in metrics] == [SCHEMA_VERSION, SCHEMA_VERSION]
    assert validate_run_dir(synthetic) == ["manifest.json", "metrics.json", "generations.jsonl", "grades.jsonl"]


def test_a_grade_run_and_an_audit_validate(tmp_path):
    from harness.audit import audit

    source = tmp_path / "source"
    write_run(source, {"aime24": {pid: [True, False] for pid in problem_ids("aime24", 3)}})
    out = tmp_path / "graded"
    metrics = harness.grade(source / "generations.jsonl", "aime24", out, model="regraded")
    assert metrics[0]["schema_version"] == SCHEMA_VERSION and metrics[0]["model"] == "regraded"
    assert json.loads((out / "manifest.json").read_text())["kind"] == "grade"
    assert validate_run_dir(out) == ["manifest.json", "metrics.json", "generations.jsonl", "grades.jsonl"]
    audit(out)
    assert {"audit.json", "audit.jsonl"} <= set(validate_run_dir(out))
    audit(source, out=tmp_path / "audit")  # planted verdicts: the checkers disagree with every correct one
    assert len((tmp_path / "audit" / "audit.jsonl").read_text().splitlines()) == 3
    assert set(validate_run_dir(tmp_path / "audit")) == {"audit.json", "audit.jsonl"}


def test_a_training_stage_manifest_validates(tmp_path):
    from harness.training.stage import StageDir

    stage = StageDir(tmp_path / "merge", "merge", {"checkpoints": ["a", "b"], "weights": [0.5, 0.5]})
    stage.finish(stage.start(config={"weights": [0.5, 0.5]}), output="merged")
    manifest = json.loads((tmp_path / "merge" / "manifest.json").read_text())
    assert manifest["kind"] == "train-merge" and manifest["schema_version"] == SCHEMA_VERSION
    validate("manifest", manifest, "stage manifest")


def test_a_file_that_breaks_its_schema_is_caught(synthetic):
    manifest = json.loads((synthetic / "manifest.json").read_text())
    del manifest["suites"]
    with pytest.raises(AssertionError, match="suites"):
        validate("manifest", manifest)
    with pytest.raises(AssertionError, match="correct"):
        validate("grade", {"suite": "aime24", "problem_id": "x", "sample": 0, "reason": "passed"})


@pytest.mark.parametrize("file_name", ["manifest.json", "metrics.json"])
def test_a_run_from_a_newer_harness_is_a_clear_error(synthetic, tmp_path, file_name):
    import shutil

    from reports.view.runview import RunView

    newer = tmp_path / "newer"
    shutil.copytree(synthetic, newer)

    def bump(value):
        for item in value if isinstance(value, list) else [value]:
            item["schema_version"] = SCHEMA_VERSION + 1

    edit_json(newer / file_name, bump)
    expected = f"schema_version {SCHEMA_VERSION + 1}, but this harness reads up to {SCHEMA_VERSION}"
    with pytest.raises(HarnessError, match=expected):
        harness.load_run(newer)
    with pytest.raises(HarnessError, match=expected):
        RunView(newer)
    result = run_harness("gate", "--baseline", str(synthetic), "--candidate", str(newer))
    assert result.returncode == 2 and expected in result.stderr and "upgrade ssp-harness" in result.stderr
    assert "Traceback" not in result.stderr


def test_an_older_run_without_schema_version_is_read_and_resumed_in_the_current_shape(synthetic, tmp_path):
    import shutil

    older = tmp_path / "older"
    shutil.copytree(synthetic, older)
    edit_json(older / "manifest.json", lambda m: m.pop("schema_version"))
    edit_json(older / "metrics.json", lambda ms: [m.pop("schema_version") for m in ms])
    runs = harness.load_run(older)
    assert [run.suite for run in runs] == ["aime24", "math500"]
    harness.grade(older / "generations.jsonl", "aime24", older)  # finish in place: a new session
    assert json.loads((older / "manifest.json").read_text())["schema_version"] == SCHEMA_VERSION
    assert validate_run_dir(older)


def test_check_schema_version_refuses_a_malformed_version():
    assert check_schema_version({"a": 1}, "f") == {"a": 1}
    with pytest.raises(HarnessError, match="must be an integer"):
        check_schema_version({"schema_version": "2"}, "f")


def test_import_harness_stays_cheap_and_the_api_is_lazy():
    code = ("import sys, harness; heavy = [m for m in ('harness.api', 'harness.pipeline', 'torch', 'pydantic', "
            "'numpy', 'reports.runs') if m in sys.modules]; assert not heavy, heavy; "
            "from harness.api import evaluate, grade, load_run; "
            "assert (harness.evaluate, harness.grade, harness.load_run) == (evaluate, grade, load_run)")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO, timeout=120)
    assert result.returncode == 0, result.stderr
