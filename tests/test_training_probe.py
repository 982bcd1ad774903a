"""docs/training.md 4.I: specialist selection with its tie-break, identical seeds per checkpoint, and the
probe/eval stages as ordinary eval runs (run directories that reports and the gate read)."""
import json

import pandas as pd
import pytest

from conftest import run_harness
from harness.backends.base import Generation
from harness.backends.hf import HFBackend
from harness.pipeline import EvalSpec, evaluate
from harness.rundir import RunDir
from harness.sampling import Sampling
from harness.training.config import TrainConfig
from harness.training.data import toy_splits
from harness.training.evaluation import evaluate_models, stage_plans, stage_runs, stage_table
from harness.training.probe import select_specialists
from harness.training.stages import run_probe
from harness.training.toy_tasks import generate_splits
from suites import get_suite, suite_names

STEPS = {"step-10": 10, "step-20": 20, "step-30": 30}


def table(rows):
    return pd.DataFrame(rows, columns=["model", "domain", "pass@1", "pass@4"])


def test_specialist_is_the_per_domain_argmax_and_a_double_winner_appears_twice():
    probe = table([("step-10", "algebra", 0.2, 0.5), ("step-20", "algebra", 0.3, 0.7), ("step-30", "algebra", 0.1, 0.6),
                   ("step-10", "geometry", 0.2, 0.4), ("step-20", "geometry", 0.4, 0.9), ("step-30", "geometry", 0.4, 0.8),
                   ("step-10", "calculus", 0.5, 0.8), ("step-20", "calculus", 0.1, 0.2), ("step-30", "calculus", 0.1, 0.3)])
    chosen = select_specialists(probe, 4, STEPS)
    assert chosen == {"algebra": "step-20", "geometry": "step-20", "calculus": "step-10"}
    assert [chosen[d] for d in ("algebra", "geometry", "calculus")].count("step-20") == 2


def test_ties_on_pass_at_k_go_to_higher_pass_at_1_then_to_the_earliest_step():
    probe = table([("step-30", "algebra", 0.5, 0.75), ("step-20", "algebra", 0.25, 0.75), ("step-10", "algebra", 0.5, 0.75),
                   ("step-30", "geometry", 0.0, 0.0), ("step-20", "geometry", 0.0, 0.0)])
    assert select_specialists(probe, 4, STEPS) == {"algebra": "step-10", "geometry": "step-20"}


class ScriptedBackend:
    """Answers toy problems from a script: `correct(sample)` says whether a sample gets the right box,
    `cut(sample)` whether it ends at the token budget (finish_reason length)."""

    def __init__(self, answers, correct, cut=lambda sample: False):
        self.answers, self.correct, self.cut = answers, correct, cut

    def describe(self):
        return {"backend": "scripted"}

    def generate(self, requests, sampling):
        for request in requests:
            answer = self.answers[request.problem_id] if self.correct(request.sample) else "-12345"
            finish = "length" if self.cut(request.sample) else "stop"
            yield Generation.for_request(request, f"So x = \\boxed{{{answer}}}.", finish, 8)

    def close(self):
        pass


def scripted(answers, by_model):
    """make_backend for the pipeline: the script of each model path."""
    return lambda name, model, **options: ScriptedBackend(answers, *by_model[model])


def tiny_config(tmp_path, **probe):
    return TrainConfig(out=str(tmp_path / "out"), tasks={"domains": ["algebra", "geometry"], "probe": 2},
                       probe={"n": 2, "k": 2, "max_tokens": 16, **probe})


def test_probe_writes_run_directories_that_the_leaderboard_and_the_gate_read(tmp_path):
    config = tiny_config(tmp_path)
    checkpoints = [config.stage_dir("sft") / "checkpoints" / name for name in ("step-000001", "step-000002")]
    for path in checkpoints:
        path.mkdir(parents=True)
    answers = {row["problem_id"]: row["answer"] for row in toy_splits(config.tasks)["probe"]}
    by_model = {str(checkpoints[0]): (lambda sample: sample == 0,), str(checkpoints[1]): (lambda sample: True,)}
    stage = run_probe(config, make_backend=scripted(answers, by_model))

    runs = stage_runs(stage)
    assert sorted(runs) == ["step-000001", "step-000002"]
    for run in runs.values():
        assert {p.name for p in run.iterdir()} >= {"manifest.json", "generations.jsonl", "grades.jsonl", "metrics.json"}
    metrics = {(label, m["suite"]): m for label, run in runs.items() for m in RunDir(run).metrics()}
    assert {key: m["pass@1"] for key, m in metrics.items()} == {
        ("step-000001", "toy_algebra"): 0.5, ("step-000001", "toy_geometry"): 0.5,
        ("step-000002", "toy_algebra"): 1.0, ("step-000002", "toy_geometry"): 1.0}
    assert metrics[("step-000001", "toy_algebra")]["pass@k"] == {"1": 0.5, "2": 1.0}
    selection = json.loads((stage / "selection.json").read_text())
    assert selection["specialists"] == {"algebra": "step-000002", "geometry": "step-000002"}

    board = run_harness("report", "leaderboard", *map(str, runs.values()), "--out", str(tmp_path / "board"))
    assert board.returncode == 0, board.stderr
    cells = pd.read_csv(tmp_path / "board" / "leaderboard.csv")
    assert len(cells) == 4 and not cells["incomparable"].any()
    labels = {str(checkpoints[0]): "step-000001", str(checkpoints[1]): "step-000002"}
    board_values = {(labels[c["model"]], c["suite"]): c["pass@1"] for c in cells.to_dict("records")}
    assert board_values == {key: m["pass@1"] for key, m in metrics.items()}
    gate = run_harness("gate", "--baseline", str(runs["step-000002"]), "--candidate", str(runs["step-000001"]))
    assert gate.returncode in (0, 1), gate.stderr  # 2 would mean "not comparable"


def toy_plan_run(tmp_path, name, truncated_wrong):
    """One toy suite, 2 problems x 2 samples: every answer right, sample 1 cut at the budget."""
    rows = generate_splits({"eval": 2}, ["algebra"])["eval"]
    options = {} if truncated_wrong is None else {"truncated_wrong": truncated_wrong}
    plans = stage_plans(rows, tmp_path / "data", Sampling(n=2, temperature=1.0, top_p=1.0, max_tokens=8), options)
    answers = {row["problem_id"]: row["answer"] for row in rows}
    make = lambda *args, **kwargs: ScriptedBackend(answers, lambda s: True, cut=lambda s: s == 1)  # noqa: E731
    evaluate(EvalSpec(plans, "scripted", "scripted", tmp_path / name, [1]), make, log=lambda text: None)
    return RunDir(tmp_path / name)


@pytest.mark.parametrize("truncated_wrong, pass_at_1", [(None, 1.0), (False, 1.0), (True, 0.5)])
def test_a_truncated_sample_is_wrong_only_when_the_option_says_so(tmp_path, truncated_wrong, pass_at_1):
    run = toy_plan_run(tmp_path, "run", truncated_wrong)
    assert run.metrics()[0]["pass@1"] == pass_at_1
    assert run.manifest()["suites"][0]["options"]["truncated_wrong"] is bool(truncated_wrong)
    cut = [g for g in run.grades() if g["sample"] == 1]
    if truncated_wrong:
        assert {(g["correct"], g["reason"], g["graded_correct"]) for g in cut} == {(False, "truncated", True)}
        assert "truncated_wrong=True (published: False)" in run.manifest()["deviations"]["toy_algebra"]
    else:
        assert all(g["correct"] and "graded_correct" not in g for g in cut)


def test_benchmarks_grade_truncated_samples_on_what_was_written_and_toy_suites_are_not_listed():
    assert {name: get_suite(name).resolve_options({})["truncated_wrong"] for name in suite_names()} == \
        {name: False for name in suite_names()}
    assert get_suite("toy_algebra").settings.get("truncated_wrong").role.value == "measure"
    assert not any(name.startswith("toy_") for name in suite_names())


class RecordingHF(HFBackend):
    """The real hf backend; records the seeds it was asked to use."""
    seen: list = []

    def generate(self, requests, sampling):
        RecordingHF.seen.append([(r.problem_id, r.sample, r.seed) for r in requests])
        yield from super().generate(requests, sampling)


def test_every_checkpoint_is_probed_with_the_same_per_sample_seeds(tmp_path):
    problems = generate_splits({"probe": 1}, ["algebra", "statistics"])["probe"]
    plans = stage_plans(problems, tmp_path / "data", Sampling(n=2, temperature=1.0, top_p=1.0, max_tokens=4, seed=7), {})
    RecordingHF.seen = []
    runs = evaluate_models({"step-1": "smollm2-135m", "step-2": "smollm2-135m"}, plans, tmp_path / "runs", [1],
                           lambda name, model, **options: RecordingHF(model, batch_size=4), {})
    # one request list per model (the two suites sample alike), the same seeds for both checkpoints
    assert len(RecordingHF.seen) == 2 and RecordingHF.seen[0] == RecordingHF.seen[1]
    assert len({seed for _, _, seed in RecordingHF.seen[0]}) == 4
    responses = {label: {(g["suite"], g["problem_id"], g["sample"]): g["response"] for g in RunDir(run).generations()}
                 for label, run in runs.items()}
    assert responses["step-1"] == responses["step-2"]  # same weights + same seeds = same samples
    assert set(stage_table(runs)["domain"]) == {"algebra", "statistics"}
