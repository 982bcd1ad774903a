import json
import shutil

import pytest

from harness.errors import HarnessError
from suites import get_suite, suite_names
from suites.base import verify_sha256

EXPECTED = {"aime24": 30, "aime25": 30, "hmmt25": 30, "math500": 500}


@pytest.mark.parametrize("name,count", EXPECTED.items())
def test_suite_loads_all_problems_with_unique_ids(name, count):
    problems = get_suite(name).load_problems()
    assert len(problems) == count
    assert len({p.problem_id for p in problems}) == count
    assert all(p.problem_id.startswith(name + "/") for p in problems)


def test_stable_problem_ids_and_golds():
    aime24 = {p.problem_id: p for p in get_suite("aime24").load_problems()}
    assert aime24["aime24/I-01"].answer == "204"
    assert aime24["aime24/I-02"].answer == "025"  # zero-padded gold kept as published
    assert aime24["aime24/II-01"].answer == "073"
    hmmt = {p.problem_id: p for p in get_suite("hmmt25").load_problems()}
    assert hmmt["hmmt25/P17"].answer == r"2^{25} \cdot 26!"
    math500 = {p.problem_id: p for p in get_suite("math500").load_problems()}
    first = math500["math500/test/precalculus/807"]
    assert first.metadata == {"level": 2, "subject": "precalculus"}


def test_prompts_are_the_published_ones():
    aime = get_suite("aime24").load_problems()[0]
    assert aime.messages[0]["role"] == "user"
    assert aime.messages[0]["content"].endswith(
        "Let's think step by step and output the final answer within \\boxed{}.")
    math = get_suite("math500").load_problems()[0]
    assert math.messages[0]["content"] == (
        math.text + " Let's think step by step and output the final answer within \\boxed{}.")


def test_aime25_form_feeds_kept_by_default_and_repaired_on_request():
    suite = get_suite("aime25")
    kept = {p.problem_id: p for p in suite.load_problems()}
    noted = sorted(pid for pid, p in kept.items() if "prompt_note" in p.metadata)
    assert len(noted) == 2
    assert all("\x0c" in kept[pid].messages[0]["content"] for pid in noted)
    repaired = {p.problem_id: p for p in suite.load_problems({"repair_prompts": True})}
    for pid in noted:
        text = repaired[pid].messages[0]["content"]
        assert "\x0c" not in text and "\\frac" in text


def test_sha256_mismatch_is_a_clear_error(tmp_path):
    original = get_suite("aime24").data_path
    copy = tmp_path / "aime24.parquet"
    shutil.copy(original, copy)
    with open(copy, "ab") as handle:
        handle.write(b"tampered")
    with pytest.raises(HarnessError, match="sha256 mismatch"):
        verify_sha256(copy, get_suite("aime24").sha256)


def test_unknown_suite_names_the_flag():
    with pytest.raises(HarnessError, match="--suite nope: unknown suite"):
        get_suite("nope")


def test_math500_accepts_the_official_prm800k_format(tmp_path):
    record = {"problem": "What is $1+1$?", "solution": "2", "answer": "2", "subject": "Prealgebra",
              "level": 1, "unique_id": "test/prealgebra/1.json"}
    path = tmp_path / "test.jsonl"
    path.write_text(json.dumps(record) + "\n")
    problems = get_suite("math500").load_problems(data=path)
    assert problems[0].problem_id == "math500/test/prealgebra/1"
    assert problems[0].metadata == {"level": 1, "subject": "prealgebra"}


def test_every_suite_carries_protocol_and_paper_reference():
    from suites.papers import suite_reference

    for name in EXPECTED:
        suite = get_suite(name)
        assert (suite.protocol.temperature, suite.protocol.top_p, suite.protocol.max_tokens, suite.protocol.n) == (1.0, 0.95, 40960, 64)
        assert set(suite_reference(name)) == {"VibeThinker-1.5B", "Base Model (Qwen2.5-Math-1.5B)"}
    assert suite_reference("aime24")["VibeThinker-1.5B"] == 80.3
    assert set(EXPECTED) <= set(suite_names())
