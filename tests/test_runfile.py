"""issue 17.4/17.5: run files (`--config RUN.yaml` for eval, report leaderboard, gate) and the Python API.

The fast tests check validation (every error names the file, line and key) and drive the report
and the gate from a run file over synthetic runs placed where the file puts its runs; the slow
one runs the shipped CPU smoke file for real, resumes it, and validates what it wrote.
"""
import json
import shutil
from pathlib import Path

import pytest

import harness
from conftest import REPO, run_harness
from harness.errors import HarnessError
from harness.runfile import BUILTIN_SETTINGS, load_run_file
from harness.synthetic import problem_ids, write_run
from schema_validation import validate_run_dir

CONFIGS = REPO / "configs"
HEAD = "out: runs/x\nmodels: [smollm2-135m]\n"


def cli(capsys, *args):
    """The CLI in this process (a subprocess per call costs seconds here): (exit code, stdout, stderr)."""
    from harness.cli import main

    code = main([str(arg) for arg in args])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def write(tmp_path, text, name="run.yaml"):
    path = tmp_path / name
    path.write_text(text)
    return path


@pytest.mark.parametrize("text, line, message", [
    (HEAD + "suites:\n  - name: aime24\n    thnk: full\n", 5, "suites[0].thnk: unknown key"),
    (HEAD + "suites: [aime24]\nsetings: [cpu-smoke]\n", 4, "setings: unknown key"),
    (HEAD + "suites: [aime24]\nsettings:\n  - name: s\n    n: '4'\n", 6, "settings[0].n: Input should be a valid integer"),
    (HEAD + "suites: [aime24]\nsettings:\n  - name: s\n    temperature: -1\n", 6, "settings[0].temperature: got -1.0: must be >= 0"),
    (HEAD + "suites: {aime24: {option_order: shuffled}}\n", 3, "suites[0].option_order: does not apply to aime24"),
    (HEAD + "suites: [aime24, gpqa_diamond]\nsettings:\n  - name: s\n    extends: cpu-smoke\n    suites:\n"
     "      aime24:\n        bogus: 1\n", 9, "settings[0].suites.aime24.bogus: unknown key"),
    (HEAD + "suites: [aime24]\nsettings:\n  - name: s\n    option_order: published\n", 6,
     "settings[0].option_order: does not apply to aime24"),
    ("out: x\nmodels:\n  - model: m\n    concurrency: 3\nsuites: [aime24]\n", 4, "models[0].concurrency: does not apply to backend hf"),
    ("out: x\nmodels:\n  - {model: m, backend: openai, api_key: sk-1}\nsuites: [aime24]\n", 3, "a secret does not belong"),
    (HEAD + "suites: [aime24]\nsettings: [fast]\n", 4, "unknown named setting 'fast'"),
    (HEAD + "suites: [aime24]\nout: y\n", 4, "out: given twice (first on line 1)"),
    (HEAD + "suites: [aime42]\n", 3, "suites[0].name: unknown suite 'aime42' (known: aime24"),
    ("models: [m]\nsuites: [aime24]\n", 1, "out: required key missing"),
    (HEAD + "suites: [aime24]\nk: [2]\nsettings: [cpu-smoke]\n", 4, "k: 2: each k must be in 1..n"),
    (HEAD + "suites: [aime24]\ngate: {baseline: {model: nope}, candidate: r}\n", 4, "gate.baseline.model: 'nope' is not a model"),
    (HEAD + "suites: [aime24]\nsettings: [{name: a, extends: faster, n: 2}]\n", 4, "settings[0].extends: unknown named setting"),
    ("out: x\nmodels:\n  - {name: ../up, model: m}\nsuites: [aime24]\n", 3, "models[0]: '../up': a run directory name"),
])
def test_every_error_names_the_key_and_its_line(tmp_path, text, line, message):
    path = write(tmp_path, text)
    with pytest.raises(HarnessError) as caught:
        load_run_file(path)
    assert str(caught.value).startswith(f"{path}:{line}: "), str(caught.value)
    assert message in str(caught.value)


def test_the_cli_reports_a_bad_run_file_in_one_line_and_refuses_contradicting_flags(tmp_path, capsys):
    path = write(tmp_path, HEAD + "suites:\n  - name: aime24\n    thnk: full\n")
    code, _, err = cli(capsys, "eval", "--config", path)
    assert code == 2 and err.strip() == f"error: {path}:5: suites[0].thnk: unknown key"
    code, _, err = cli(capsys, "eval", "--config", CONFIGS / "cpu-smoke.yaml", "-n", "3", "--think", "full")
    assert code == 2 and "-n, --think: set in the run file" in err
    code, _, err = cli(capsys, "eval", "--suite", "aime24")
    assert code == 2 and "--model, --out required (or --config RUN.yaml)" in err


def test_allowed_keys_come_from_the_declarations(tmp_path):
    """Every declared sampling field, suite option and backend option is a key, with no list here."""
    from harness.api import declared_suite_options
    from harness.backends import all_backend_info
    from harness.runfile import models
    from harness.sampling import SAMPLING_SETTINGS

    fields = models().model_fields
    suite_model = fields["suites"].annotation.__args__[0]
    model_model = fields["models"].annotation.__args__[0]
    declared = set(SAMPLING_SETTINGS.names()) | {item.name for item in declared_suite_options()}
    assert declared | {"name", "data", "limit"} == set(suite_model.model_fields)
    assert {item.name for info in all_backend_info() for item in info.options} | {"model", "name", "backend"} \
        == set(model_model.model_fields)


def test_the_shipped_run_files_are_valid():
    smoke = load_run_file(CONFIGS / "cpu-smoke.yaml")
    [(model, setting, path)] = list(smoke.runs())
    assert path == Path("runs/cpu-smoke/smollm2/cpu-smoke") and model.batch_size == 1
    assert smoke.suite_values(setting) == {s: BUILTIN_SETTINGS["cpu-smoke"] for s in ("aime24", "math500")}

    vibe = load_run_file(CONFIGS / "vibethinker-vllm.yaml")
    [(model, setting, path)] = list(vibe.runs())
    assert (model.backend, model.engine, setting.name) == ("vllm", "v0", "vibethinker-protocol")
    values = vibe.suite_values(setting)
    assert values["lcb_v6"] == {"data": "data/code_generation_lite"} and values["aime24"] == {}
    assert vibe.parsed.leaderboard.paper == ["vibethinker-1.5b"]

    gate = load_run_file(CONFIGS / "ci-gate.yaml", out="elsewhere")
    assert [p for _, _, p in gate.runs()] == [Path("elsewhere/baseline/ci"), Path("elsewhere/candidate/ci")]
    values = gate.suite_values(gate.parsed.settings[0])
    assert values["math500"] == {"limit": 2, "n": 1, "max_tokens": 32, "temperature": 0.0}
    assert values["aime24"]["max_tokens"] == 16
    assert gate.run_ref("candidate") == Path("elsewhere/candidate/ci")


def test_per_suite_overrides_apply_in_order_and_only_where_declared(tmp_path):
    path = write(tmp_path, HEAD + "suites:\n  - {name: gpqa_diamond, option_order: published, n: 2}\n  - aime24\n"
                 "settings:\n  - name: mine\n    extends: cpu-smoke\n    think: full\n    n: 3\n"
                 "    suites: {aime24: {n: 5}}\n")
    run_file = load_run_file(path)
    values = run_file.suite_values(run_file.parsed.settings[0])
    # suite entry < named setting < the setting's keys < the setting's per-suite keys
    assert values["gpqa_diamond"] == {"option_order": "published", "n": 3, "limit": 1, "max_tokens": 16, "think": "full"}
    assert values["aime24"] == {"n": 5, "limit": 1, "max_tokens": 16, "think": "full"}
    plans = __import__("harness.api", fromlist=["plan_suites"]).plan_suites(
        ["gpqa_diamond", "aime24"], suite_overrides=values)
    assert [(p.sampling.n, p.options["think"], len(p.problems)) for p in plans] == [(3, "full", 1), (5, "full", 1)]
    assert plans[0].options["option_order"] == "published"


@pytest.fixture
def placed_runs(tmp_path):
    """The ci-gate file's two runs, constructed where the file puts them (no model)."""
    root = tmp_path / "runs"
    ids = {"aime24": problem_ids("aime24", 2), "math500": problem_ids("math500", 2)}
    for name in ("baseline", "candidate"):
        write_run(root / name / "ci", {suite: {pid: [True] for pid in pids} for suite, pids in ids.items()},
                  model=name, temperature=0.0, max_tokens=16)
    return root


def test_report_and_gate_read_the_same_file(placed_runs, tmp_path, capsys):
    config = CONFIGS / "ci-gate.yaml"
    board = tmp_path / "board"
    code, _, err = cli(capsys, "report", "leaderboard", "--config", config, "--runs-root", placed_runs, "--out", board)
    assert code == 0, err
    assert "baseline" in (board / "leaderboard.md").read_text() and "candidate" in (board / "leaderboard.md").read_text()
    gate_json = tmp_path / "gate.json"
    code, out, err = cli(capsys, "gate", "--config", config, "--runs-root", placed_runs, "--json", gate_json)
    assert code == 0, out + err
    verdict = json.loads(gate_json.read_text())
    assert verdict["status"] == "pass" and verdict["settings"]["baseline"].endswith("baseline/ci")
    assert {v["suite"] for v in verdict["suites"]} == {"aime24", "math500"}
    shutil.rmtree(placed_runs / "candidate")
    code, _, err = cli(capsys, "report", "leaderboard", "--config", config, "--runs-root", placed_runs, "--out", board,
                       "--overwrite")
    assert code == 2 and "1 of 2 runs not finished" in err


def test_the_api_refuses_what_the_cli_refuses(tmp_path):
    with pytest.raises(HarnessError, match="options option_order: does not apply to aime24"):
        harness.evaluate("smollm2-135m", "aime24", tmp_path / "r", options={"option_order": "published"})
    with pytest.raises(HarnessError, match="options thnk: unknown suite option"):
        harness.evaluate("smollm2-135m", ["aime24"], tmp_path / "r", options={"thnk": "full"})
    with pytest.raises(HarnessError, match="suite_overrides gpqa_diamond: not among the suites aime24"):
        harness.evaluate("smollm2-135m", ["aime24"], tmp_path / "r", suite_overrides={"gpqa_diamond": {"n": 1}})
    with pytest.raises(HarnessError, match="--temperature -1: must be >= 0"):
        harness.evaluate("smollm2-135m", ["aime24"], tmp_path / "r", temperature=-1)
    with pytest.raises(HarnessError, match="backend_options concurrency: not an option of backend hf"):
        harness.evaluate("smollm2-135m", ["aime24"], tmp_path / "r", backend_options={"concurrency": 2})
    assert not (tmp_path / "r").exists()


@pytest.mark.slow
def test_the_cpu_smoke_file_runs_resumes_reports_and_validates(tmp_path):
    """The shipped CPU run file for real (tiny: 2 suites x 1 problem x 1 sample x 16 tokens)."""
    config = str(CONFIGS / "cpu-smoke.yaml")
    out = tmp_path / "smoke"
    result = run_harness("eval", "--config", config, "--out", str(out), env={"OMP_NUM_THREADS": "1"})
    assert result.returncode == 0, result.stderr
    run = out / "smollm2" / "cpu-smoke"
    assert set(validate_run_dir(run)) == {"manifest.json", "metrics.json", "generations.jsonl", "grades.jsonl"}
    manifest = json.loads((run / "manifest.json").read_text())
    assert manifest["command"][-4:] == ["--config", config, "--out", str(out)]
    assert [s["sampling"]["max_tokens"] for s in manifest["suites"]] == [16, 16]
    assert manifest["backend"]["batch_size"] == 1
    # the API reads what the CLI wrote; a second run of the file regenerates nothing
    assert [(r.suite, r.model) for r in harness.load_run(run)] == [("aime24", "smollm2"), ("math500", "smollm2")]
    assert json.loads((run / "manifest.json").read_text())["identity"]["model"] == "smollm2-135m"
    generations = (run / "generations.jsonl").read_text()
    again = run_harness("eval", "--config", config, "--out", str(out), env={"OMP_NUM_THREADS": "1"})
    assert again.returncode == 0 and "all 2 samples already generated" in again.stdout
    assert (run / "generations.jsonl").read_text() == generations
    board = tmp_path / "board"
    result = run_harness("report", "leaderboard", "--config", config, "--runs-root", str(out), "--out", str(board))
    assert result.returncode == 0 and (board / "leaderboard.md").is_file()
    # an audit of the real run also writes valid files (grade runs: tests/test_schema.py)
    result = run_harness("audit", str(run))
    assert result.returncode == 0, result.stderr
    assert "audit.json" in validate_run_dir(run)
