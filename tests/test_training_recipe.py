"""The CPU recipe (cpu-smollm2.yaml) end to end on the embedded SmolLM2-135M with tiny sizes:
SFT -> probe -> merge -> math MGPO -> longer math MGPO -> code MGPO (sandboxed LCB grader) -> eval
-> report. Mechanics, not accuracy."""
import json

import pytest
import yaml

from conftest import REPO, run_harness
from harness.rundir import RunDir

RECIPE = REPO / "harness" / "training" / "recipes" / "cpu-smollm2.yaml"


def tiny_recipe() -> dict:
    """cpu-smollm2.yaml with every size shrunk; its phases kept in order, a few steps each."""
    config = yaml.safe_load(RECIPE.read_text())
    # SFT must show the model the code rows, or the code phase never reaches the sandbox: with 2 steps of 2
    # rows it had seen none of them and every rollout was truncated or had no code block (docs/training.md).
    config["tasks"].update(train=4, probe=1, rl=2, eval=1, code_train=8, code_rl=2)
    config["sft"].update(steps=16, batch_size=2, save_every=8, warmup_steps=0)
    config["probe"].update(n=2, k=2, max_tokens=24)
    config["mgpo"].update(prompts_per_step=2, group_size=2, save_every=1, micro_batch=4, lr=1.0e-6)
    tokens = {"math": 24, "math-long": 32, "code": 64}
    config["mgpo"]["phases"] = [{**phase, "max_new_tokens": tokens[phase["name"]], "steps": CODE_STEPS if phase["reward"] == "code" else 2}
                                for phase in config["mgpo"]["phases"]]
    # The code phase scores its whole fixed set every step (2 domains x 2 prompts, G = 4): its curve is
    # one prompt set's pass rate over steps, printed by the test and tabulated per prompt in report.md.
    config["mgpo"]["phases"][-1].update(prompts_per_step=CODE_PROMPTS, group_size=CODE_G, lr=1.0e-5)
    config["eval"].update(n=1, max_tokens=24, code_problems=1)
    config.pop("out")
    return config


CODE_PROMPTS, CODE_G, CODE_STEPS = 4, 4, 8
CODE_ROLLOUTS = CODE_PROMPTS * CODE_G
TINY = tiny_recipe()
PHASES = ["mgpo-math", "mgpo-math-long", "mgpo-code"]
LOG_KEYS = {"reward_mean", "frac_zero_std", "w_mean", "w_std", "clip_fraction", "entropy", "response_len_mean",
            "response_len_max", "truncation_rate", "grad_norm", "loss"}


@pytest.fixture(scope="module")
def recipe(tmp_path_factory):
    root = tmp_path_factory.mktemp("recipe")
    config = root / "tiny.yaml"
    config.write_text(yaml.safe_dump({**TINY, "out": str(root / "out")}))
    result = run_harness("train", "recipe", "--config", str(config), timeout=3600)
    assert result.returncode == 0, result.stderr[-2000:]
    return root / "out", config


@pytest.mark.slow
def test_recipe_writes_every_stage_and_one_report(recipe):
    out, _ = recipe
    sft = json.loads((out / "sft" / "manifest.json").read_text())
    assert sft["finished_at"] and sft["decontamination"]["policy"] == "drop"
    assert sft["decontamination"]["rows_checked"] == 16 + 16  # 4 math domains x 4, 2 code domains x 8
    assert sorted(p.name for p in (out / "sft" / "checkpoints").iterdir()) == ["step-000008", "step-000016"]
    probe = {run.name: json.loads((run / "metrics.json").read_text()) for run in (out / "probe" / "runs").iterdir()}
    assert sorted(probe) == ["step-000008", "step-000016"]
    for metrics in probe.values():
        assert sorted(m["suite"] for m in metrics) == ["toy_algebra", "toy_calculus", "toy_geometry", "toy_statistics"]
        assert all(set(m["pass@k"]) == {"1", "2"} and m["options"]["truncated_wrong"] for m in metrics)
    assert (out / "probe" / "pass_at_k.png").stat().st_size > 1000
    selection = json.loads((out / "probe" / "selection.json").read_text())
    assert set(selection["specialists"]) == {"algebra", "geometry", "calculus", "statistics"}
    assert len(selection["merge_list"]) == 4
    merge = json.loads((out / "merge" / "manifest.json").read_text())["merge"]
    assert sum(merge["weights"]) == pytest.approx(1.0) and merge["tied_embeddings"]
    for phase, steps in zip(PHASES, (2, 2, CODE_STEPS)):
        log = [json.loads(line) for line in (out / phase / "log.jsonl").read_text().splitlines()]
        assert [r["step"] for r in log] == list(range(1, steps + 1)) and LOG_KEYS <= set(log[0])
        assert all(0.25 <= r["w_mean"] <= 1.0 for r in log)  # lambda = 1: w in [2^-1, 1]
        assert (out / phase / "curves.png").is_file()
    inits = [json.loads((out / phase / "manifest.json").read_text())["init"] for phase in PHASES]
    assert inits == [str(out / "merge" / "model"), str(out / "mgpo-math" / "checkpoints" / "step-000002"),
                     str(out / "mgpo-math-long" / "checkpoints" / "step-000002")]
    code = [json.loads(line) for line in (out / "mgpo-code" / "log.jsonl").read_text().splitlines()]
    code_manifest = json.loads((out / "mgpo-code" / "manifest.json").read_text())
    assert code_manifest["reward"]["grader"] == "fixed" and code_manifest["reward"]["sandbox"] in ("docker", "bwrap")
    assert code_manifest["reward"]["partial_credit"] is False  # so each rollout's reward is 0 or 1
    assert code_manifest["decontamination"]["rows_checked"] == 4 and "lcb_v5" in code_manifest["decontamination"]["suites"]
    assert_code_phase_mechanics(code)
    trained_on = [json.loads(line) for line in (out / "mgpo-code" / "data.jsonl").read_text().splitlines()]
    assert sorted(row["problem_id"] for row in trained_on) == sorted(code[0]["prompts"])  # what `harness eval --data` reads
    print("code phase reward curve:", [r["reward_mean"] for r in code], [r["verdicts"] for r in code],
          [dict(zip(r["prompts"], r["group_correct"])) for r in code])
    evaluation = sorted(run.name for run in (out / "eval" / "runs").iterdir() if (run / "metrics.json").is_file())
    assert evaluation == ["base", "merged", "mgpo-final", "sft-final"]
    for name in evaluation:  # held-out code problems graded in the sandbox beside the math subdomains
        metrics = {m["suite"]: m for m in RunDir(out / "eval" / "runs" / name).metrics()}
        assert {"toy_code_stdin", "toy_code_functional"} <= set(metrics)
        assert all(metrics[s]["num_problems"] == 1 and metrics[s]["options"]["grader"] == "fixed"
                   for s in ("toy_code_stdin", "toy_code_functional"))
    report = (out / "report.md").read_text()
    for section in ("## SFT", "## Probe", "## Merge", "## MGPO phase math\n", "## MGPO phase math-long",
                    "## MGPO phase code", "Reward curve", "## Eval"):
        assert section in report
    assert_code_phase_reported(code, report, json.loads((out / "report.json").read_text()))
    assert report.split("## Eval")[1].splitlines()[1] == ("| model | algebra | calculus | geometry | statistics | math mean "
                                                          "| code_functional | code_stdin | code mean |")
    timings = json.loads((out / "report.json").read_text())["timings"]
    assert set(timings) == {"sft", "probe", "merge", "eval", *PHASES}
    reported = json.loads((out / "report.json").read_text())["eval"]
    base = {m["suite"]: m["pass@1"] for m in json.loads((out / "eval" / "runs" / "base" / "metrics.json").read_text())}
    assert {r["domain"]: r["pass@1"] for r in reported if r["model"] == "base"} == \
        {suite.removeprefix("toy_"): value for suite, value in base.items()}
    board = run_harness("report", "leaderboard", *(str(out / "eval" / "runs" / name) for name in evaluation),
                        "--out", str(out / "board"))
    assert board.returncode == 0, board.stderr[-1000:]


def assert_code_phase_mechanics(code: list[dict]) -> None:
    """Each step scores the same 4 prompts x G = 4 rollouts, one verdict class each; rewards are 0/1 (no
    partial credit), so the step's reward mean is its passed share; and the phase reached the sandbox."""
    from harness.training.code_reward import VERDICT_CLASSES, step_budget_s

    prompts = sorted(code[0]["prompts"])
    for record in code:
        verdicts, groups = record["verdicts"], record["group_correct"]
        assert sorted(record["prompts"]) == prompts and len(prompts) == CODE_PROMPTS  # a fixed prompt set
        assert list(verdicts) == list(VERDICT_CLASSES) and sum(verdicts.values()) == CODE_ROLLOUTS
        assert sum(groups) == verdicts["passed"] and all(0 <= g <= CODE_G for g in groups)
        assert record["reward_mean"] == record["correct_mean"] == record["pass_rate"] == verdicts["passed"] / CODE_ROLLOUTS
        assert record["truncation_rate"] == verdicts["truncated"] / CODE_ROLLOUTS
        # with 0/1 rewards a group has zero reward std iff all or none of its G rollouts passed
        assert record["frac_zero_std"] == sum(g in (0, CODE_G) for g in groups) / CODE_PROMPTS
        assert record["reward_seconds"] < step_budget_s(CODE_ROLLOUTS, 2, 2, 3)  # 8 waves of 2 within budget
    graded = sum(r["verdicts"][name] for r in code for name in ("passed", "wrong_answer", "runtime_error", "timeout"))
    assert graded >= 1, f"no code rollout reached the sandbox: {[r['verdicts'] for r in code]}"


def assert_code_phase_reported(code: list[dict], report: str, report_json: dict) -> None:
    """report.md and report.json carry the code phase's reward curve and verdict mix, as logged."""
    curve = ", ".join(f"{r['reward_mean']:.2f}" for r in code)
    section = report.split("## MGPO phase code")[1].split("\n## ")[0]
    totals = {name: sum(r["verdicts"][name] for r in code) for name in code[0]["verdicts"]}
    assert f"Reward curve (mean per step): {curve}." in section
    assert f"Verdicts over the phase ({CODE_ROLLOUTS * len(code)} rollouts): {', '.join(f'{k}={v}' for k, v in totals.items())}." in section
    assert report_json["code_verdicts"] == {"mgpo-code": totals}
    steps = report_json["mgpo"]["mgpo-code"]
    assert [r["reward_mean"] for r in steps] == [r["reward_mean"] for r in code]
    assert [r["verdicts"] for r in steps] == [" ".join(f"{k}={v}" for k, v in r["verdicts"].items() if v) for r in code]
    assert "verdicts" not in report_json["mgpo"]["mgpo-math"][0] and set(report_json["code_verdicts"]) == {"mgpo-code"}
    table = section.split(f"Correct rollouts per prompt (of G = {CODE_G}) by step (columns):")[1]
    for prompt in code[0]["prompts"]:  # one row per prompt: its correct rollouts at every step
        row = [str(dict(zip(r["prompts"], r["group_correct"]))[prompt]) for r in code]
        assert f"| {prompt} | {' | '.join(row)} |" in table


@pytest.mark.slow
def test_merged_and_trained_models_load_tied_and_generate(recipe):
    from transformers import AutoModelForCausalLM, AutoTokenizer

    out, _ = recipe
    for path in (out / "merge" / "model", out / "mgpo-code" / "checkpoints" / f"step-{CODE_STEPS:06d}"):
        model = AutoModelForCausalLM.from_pretrained(path)
        tokenizer = AutoTokenizer.from_pretrained(path)
        assert model.lm_head.weight.data_ptr() == model.model.embed_tokens.weight.data_ptr()
        ids = tokenizer("2+2=", return_tensors="pt")
        generated = model.generate(**ids, max_new_tokens=3, do_sample=False, pad_token_id=tokenizer.pad_token_id)
        assert generated.shape[1] == ids["input_ids"].shape[1] + 3


@pytest.mark.slow
def test_rerunning_reuses_finished_stages_and_another_config_is_refused(recipe):
    out, config = recipe
    again = run_harness("train", "recipe", "--config", str(config), timeout=600)
    assert again.returncode == 0, again.stderr[-1000:]
    changed = config.with_name("changed.yaml")
    changed.write_text(yaml.safe_dump({**TINY, "out": str(out), "sft": {**TINY["sft"], "lr": 1.0e-4}}))
    refused = run_harness("train", "sft", "--config", str(changed))
    assert refused.returncode == 2 and "different config" in refused.stderr


@pytest.mark.slow
def test_mgpo_resumes_after_its_latest_checkpoint(recipe):
    out, config = recipe
    manifest_path = out / "mgpo-math" / "manifest.json"
    manifest = json.loads(manifest_path.read_text())
    manifest["finished_at"] = None  # as if killed after step 1
    manifest_path.write_text(json.dumps(manifest))
    import shutil

    shutil.rmtree(out / "mgpo-math" / "checkpoints" / "step-000002")
    first = json.loads((out / "mgpo-math" / "log.jsonl").read_text().splitlines()[0])
    result = run_harness("train", "mgpo", "--config", str(config), timeout=1800)
    assert result.returncode == 0, result.stderr[-2000:]
    log = [json.loads(line) for line in (out / "mgpo-math" / "log.jsonl").read_text().splitlines()]
    assert [r["step"] for r in log] == [1, 2] and log[0] == first
    resumed = json.loads(manifest_path.read_text())
    assert resumed["resumed_from"].endswith("step-000001") and (out / "mgpo-math" / "checkpoints" / "step-000002").is_dir()
    # the later phases start from that same checkpoint path, so they are reused, not retrained
    assert json.loads((out / "mgpo-code" / "manifest.json").read_text())["sessions"].__len__() == 1


def test_a_config_with_an_unknown_key_is_a_one_line_error(tmp_path):
    config = tmp_path / "bad.yaml"
    config.write_text(yaml.safe_dump({"out": str(tmp_path / "o"), "mgpo": {"lamda": 1.0}}))
    result = run_harness("train", "mgpo", "--config", str(config))
    assert result.returncode == 2 and "mgpo.lamda" in result.stderr and len(result.stderr.strip().splitlines()) == 1


def test_probe_without_sft_checkpoints_names_the_missing_directory(tmp_path):
    config = tmp_path / "c.yaml"
    config.write_text(yaml.safe_dump({"out": str(tmp_path / "o")}))
    result = run_harness("train", "probe", "--config", str(config))
    assert result.returncode == 2 and "run `harness train sft` first" in result.stderr


def test_n_below_k_is_refused(tmp_path):
    config = tmp_path / "c.yaml"
    config.write_text(yaml.safe_dump({"out": str(tmp_path / "o"), "probe": {"n": 2, "k": 4}}))
    result = run_harness("train", "probe", "--config", str(config))
    assert result.returncode == 2 and "n = 2 < k = 4" in result.stderr


@pytest.mark.parametrize("phases, message", [
    ([{"name": "a", "max_new_tokens": 8, "steps": 1}, {"name": "a", "max_new_tokens": 8, "steps": 1}], "unique"),
    ([{"name": "c", "data": "toy_code", "max_new_tokens": 8, "steps": 1}], "needs reward code"),
    ([{"name": "Bad Name", "max_new_tokens": 8, "steps": 1}], "mgpo.phases.0.name"),
    ([{"name": "c", "max_new_tokens": 8, "steps": 1, "group_size": 1}], "mgpo.phases.0.group_size"),
    ([{"name": "c", "max_new_tokens": 8, "steps": 1, "lr": 0}], "mgpo.phases.0.lr"),
])
def test_bad_phases_are_one_line_errors(tmp_path, phases, message):
    from harness.errors import HarnessError
    from harness.training.config import load_config

    config = tmp_path / "c.yaml"
    config.write_text(yaml.safe_dump({"out": str(tmp_path / "o"), "mgpo": {"phases": phases}}))
    with pytest.raises(HarnessError, match=message):
        load_config(config)


def test_phases_are_stage_directories_in_order_and_eval_takes_the_last(tmp_path):
    from harness.training.config import TrainConfig
    from harness.training.stages import eval_models

    config = TrainConfig.model_validate({"out": str(tmp_path), "mgpo": {"phases": TINY["mgpo"]["phases"]}})
    names = [name for name, _ in config.mgpo.phase_configs()]
    assert names == PHASES
    assert [(c.reward, c.data, c.max_new_tokens, c.steps) for _, c in config.mgpo.phase_configs()] == \
        [("math", "toy", 24, 2), ("math", "toy", 32, 2), ("code", "toy_code", 64, CODE_STEPS)]
    (tmp_path / "mgpo-code" / "checkpoints" / "step-000003").mkdir(parents=True)
    (tmp_path / "mgpo-math" / "checkpoints" / "step-000009").mkdir(parents=True)
    assert eval_models(config)["mgpo-final"].endswith("mgpo-code/checkpoints/step-000003")
    single = TrainConfig.model_validate({"out": str(tmp_path)})
    assert [name for name, _ in single.mgpo.phase_configs()] == ["mgpo"]


def test_a_phase_may_set_its_own_batch_shape_and_lr(tmp_path):
    from harness.training.config import TrainConfig

    phases = [{"name": "math", "max_new_tokens": 8, "steps": 1},
              {"name": "code", "data": "toy_code", "reward": "code", "max_new_tokens": 8, "steps": 2,
               "prompts_per_step": 4, "group_size": 8, "lr": 1.0e-5}]
    config = TrainConfig.model_validate({"out": str(tmp_path), "mgpo": {"prompts_per_step": 2, "group_size": 2,
                                                                         "lr": 1.0e-6, "phases": phases}})
    shapes = [(c.prompts_per_step, c.group_size, c.lr, c.steps) for _, c in config.mgpo.phase_configs()]
    assert shapes == [(2, 2, 1.0e-6, 1), (4, 8, 1.0e-5, 2)]
    assert [c.sampling().n for _, c in config.mgpo.phase_configs()] == [2, 8]


def test_the_report_tabulates_each_prompts_correct_rollouts_by_step():
    from harness.training.recipe import markdown, prompt_table

    log = [{"step": 1, "prompts": ["p1", "p2"], "group_correct": [1, 0]},
           {"step": 2, "prompts": ["p2", "p1"], "group_correct": [3, 2]}]  # the same set, drawn in another order
    assert markdown(prompt_table(log)) == "| prompt | 1 | 2 |\n|---|---|---|\n| p1 | 1 | 2 |\n| p2 | 0 | 3 |\n"
    drawn_anew = log + [{"step": 3, "prompts": ["p3", "p1"], "group_correct": [4, 0]}]
    assert prompt_table(drawn_anew).empty  # not one fixed set: single draws, no curve per prompt
    many = [{"step": 1, "prompts": [f"p{i}" for i in range(17)], "group_correct": [0] * 17}]
    assert prompt_table(many).empty and prompt_table(many, limit=17).shape == (17, 2)
    assert prompt_table([{"step": 1, "reward_mean": 0.5}]).empty  # a log from before per-prompt counts


def test_the_eval_table_never_averages_math_and_code_together():
    import pandas as pd

    from harness.training.recipe import eval_pivot

    rows = [("base", "algebra", 0.0), ("base", "geometry", 0.5), ("base", "code_stdin", 1.0),
            ("tuned", "algebra", 0.5), ("tuned", "geometry", 0.5), ("tuned", "code_stdin", 0.0)]
    frame = pd.DataFrame(rows, columns=["model", "domain", "pass@1"])
    table = eval_pivot(frame, "pass@1", ["base", "tuned"])
    assert list(table.columns) == ["algebra", "geometry", "math mean", "code_stdin", "code mean"]
    assert table["math mean"].tolist() == [0.25, 0.5] and table["code mean"].tolist() == [1.0, 0.0]
    maths = eval_pivot(frame[frame.domain != "code_stdin"], "pass@1", ["base", "tuned"])
    assert list(maths.columns) == ["algebra", "geometry", "mean"]


def test_a_negative_eval_code_problems_is_a_one_line_error(tmp_path):
    config = tmp_path / "c.yaml"
    config.write_text(yaml.safe_dump({"out": str(tmp_path / "o"), "eval": {"code_problems": -1}}))
    result = run_harness("train", "eval", "--config", str(config))
    assert result.returncode == 2 and "eval.code_problems" in result.stderr and len(result.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "o").exists()


@pytest.mark.parametrize("suite, missing", [("toy_algebra", "messages, answer"), ("toy_code_x", "messages, tests")])
def test_a_toy_data_row_without_a_field_is_a_one_line_error(tmp_path, suite, missing):
    data = tmp_path / "rows.jsonl"
    data.write_text('{"problem_id": "a"}\n')
    result = run_harness("eval", "--model", "smollm2-135m", "--suite", suite, "--data", str(data), "-n", "1",
                         "--out", str(tmp_path / "run"))
    assert result.returncode == 2, result.stderr[-1000:]
    assert result.stderr.strip() == f"error: {data}:1: row without field(s) {missing}"
    assert not (tmp_path / "run").exists()
