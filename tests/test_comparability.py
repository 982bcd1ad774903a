"""One answer to "are these two runs comparable?" from resume, leaderboard, gate and paper report.

For every declared suite option and sampling setting, a run made with a changed value is put
beside a run made with the defaults, and each of the four consumers is asked. Their answers must
follow the setting's declared role (MEASURE: all refuse; SAMPLE: only resume refuses; PLACE: none),
and the declared roles of a few settings are pinned so a wrong declaration fails too.
"""
from __future__ import annotations

import pytest

from harness.errors import HarnessError
from harness.pipeline import open_run
from harness.rundir import RunDir
from harness.prompting import PROMPT_SETTINGS
from harness.sampling import SAMPLING_SETTINGS
from harness.settings import Role, Setting
from reports.gate import IncomparableRuns, check_comparable
from reports.leaderboard import build_leaderboard
from reports.paper import run_differences
from reports.runs import load_run
from harness.synthetic import planned, problem_ids, write_run
from suites import get_suite

SUITE_FOR_OPTION = {"repair_prompts": "aime25", "option_order": "gpqa_diamond", "option_seed": "gpqa_diamond",
                    "grader": "lcb_custom", "public_tests_only": "lcb_custom", "sandbox": "lcb_custom",
                    "unsafe_local": "lcb_custom", "think": "aime24", "truncated_wrong": "aime24"}
CHANGED_PROMPT = {"system_prompt": "Think hard.", "chat_template": "sha256:" + "ab" * 32,
                  "chat_template_kwargs": {"enable_thinking": True}, "assistant_prefill": "<think>\n",
                  "stop": ["</answer>"], "think_budget": 64, "min_think": 8}
CHANGED_SAMPLING = {"temperature": 0.5, "top_p": 0.9, "top_k": 20, "max_tokens": 128, "seed": 7}
PINNED_ROLES = {"think": Role.MEASURE, "truncated_wrong": Role.MEASURE, "option_order": Role.MEASURE, "option_seed": Role.MEASURE,
                "repair_prompts": Role.MEASURE, "grader": Role.MEASURE, "public_tests_only": Role.MEASURE,
                "sandbox": Role.PLACE, "unsafe_local": Role.PLACE, "seed": Role.SAMPLE, "max_tokens": Role.MEASURE,
                "temperature": Role.MEASURE, "n": Role.MEASURE}


def other_value(setting: Setting):
    if setting.choices:
        return next(choice for choice in setting.choices if choice != setting.default)
    if setting.kind is bool:
        return not setting.default
    return setting.default + 1


def option_cases():
    for name, suite in SUITE_FOR_OPTION.items():
        setting = get_suite(suite).settings.get(name)
        yield pytest.param(suite, setting.role, {"options": {name: other_value(setting)}}, id=f"option-{name}")


def sampling_cases():
    for setting in SAMPLING_SETTINGS:
        change = {"samples": 2} if setting.name == "n" else {"sampling": {setting.name: CHANGED_SAMPLING[setting.name]}}
        yield pytest.param("aime24", setting.role, change, id=f"sampling-{setting.name}")


def prompt_cases():
    for setting in PROMPT_SETTINGS:
        yield pytest.param("aime24", setting.role, {"prompt": {setting.name: CHANGED_PROMPT[setting.name]}},
                           id=f"prompt-{setting.name}")


def make_run(path, suite, samples=1, options=None, sampling=None, prompt=None):
    outcomes = {pid: [i % 2 == 0] * samples for i, pid in enumerate(problem_ids(suite, 3))}
    write_run(path, {suite: outcomes}, options=options, sampling=sampling, prompt=prompt)
    return load_run(path)[0]


def resume_refused(run_path, suite, samples=1, options=None, sampling=None, prompt=None) -> bool:
    outcomes = {pid: [True] * samples for pid in problem_ids(suite, 3)}
    plan = planned(suite, outcomes, {"max_tokens": 40960, "temperature": 1.0, "seed": 0, **(sampling or {})},
                   options or {}, prompt)
    identity = {"kind": "eval", "model": "synthetic", "backend": "synthetic", "suites": [plan.identity()]}
    try:
        open_run(RunDir(run_path), "eval", identity, [plan])
    except HarnessError:
        return True
    return False


def gate_refuses(base, cand) -> bool:
    try:
        check_comparable(base, cand)
    except IncomparableRuns:
        return True
    return False


@pytest.mark.parametrize("suite, role, change", [*option_cases(), *sampling_cases(), *prompt_cases()])
def test_every_consumer_follows_the_declared_role(tmp_path, suite, role, change):
    base = make_run(tmp_path / "base", suite)
    cand = make_run(tmp_path / "cand", suite, change.get("samples", 1), change.get("options"), change.get("sampling"),
                    change.get("prompt"))

    expected_refusal = role is Role.MEASURE
    assert resume_refused(tmp_path / "base", suite, change.get("samples", 1), change.get("options"),
                          change.get("sampling"), change.get("prompt")) == (role in (Role.MEASURE, Role.SAMPLE))
    assert gate_refuses(base, cand) == expected_refusal
    cell = {row.label: row for row in build_leaderboard([base, cand]).rows}
    assert any(c.incomparable for row in cell.values() for c in row.cells.values()) == expected_refusal
    assert (run_differences(cand, "vibethinker-1.5b") != run_differences(base, "vibethinker-1.5b")) == expected_refusal


@pytest.mark.parametrize("name, role", PINNED_ROLES.items())
def test_pinned_roles(name, role):
    suite = get_suite(SUITE_FOR_OPTION.get(name, "aime24"))
    declared = suite.settings.get(name) or SAMPLING_SETTINGS.get(name)
    assert declared.role is role


def test_every_declared_option_is_covered():
    from suites import suite_names

    declared = {item.name for name in suite_names() for item in get_suite(name).settings}
    assert declared == set(SUITE_FOR_OPTION)
    assert set(PROMPT_SETTINGS.names()) == set(CHANGED_PROMPT)
    assert all(item.role is Role.MEASURE for item in PROMPT_SETTINGS)


def test_refusal_names_the_field_with_both_values(tmp_path):
    make_run(tmp_path / "run", "aime24")
    plan = planned("aime24", {pid: [True] for pid in problem_ids("aime24", 3)},
                   {"max_tokens": 40960, "temperature": 1.0, "seed": 7}, {})
    identity = {"kind": "eval", "model": "synthetic", "backend": "synthetic", "suites": [plan.identity()]}
    with pytest.raises(HarnessError) as error:
        open_run(RunDir(tmp_path / "run"), "eval", identity, [plan])
    message = str(error.value)
    assert message == f"--out {tmp_path / 'run'} was made with suites[aime24].sampling.seed=0; this command asks 7 (use a new --out)"
    assert len(message) < 300 + len(str(tmp_path))
