"""LiveCodeBench suites: official-format loading, windows and counts, prompts, options, errors."""
from __future__ import annotations

import base64
import json
import pickle
import shutil
import zlib
from pathlib import Path

import pytest

from harness.errors import HarnessError
from suites import get_suite
from suites import livecodebench as lcb

FIXTURE = Path(__file__).parent / "data" / "lcb" / "official-format.jsonl"


def official_dir(tmp_path: Path, files: dict[str, list[str]]) -> Path:
    """A directory of official-format jsonl files; rows are copies of the fixture rows."""
    rows = {json.loads(line)["question_id"]: json.loads(line) for line in FIXTURE.read_text().splitlines()}
    for name, ids in files.items():
        with open(tmp_path / name, "w") as handle:
            for spec in ids:  # "qid@date" re-dates a copy under a new id
                qid, _, date = spec.partition("@")
                base = rows[qid.split("#")[0]]
                handle.write(json.dumps({**base, "question_id": qid, "contest_date": date or base["contest_date"]}) + "\n")
    return tmp_path


def test_official_rows_with_compressed_private_tests_load_public_first(tmp_path):
    problems = get_suite("lcb_custom").load_problems({}, FIXTURE)
    by_id = {p.problem_id: p for p in problems}
    assert [p.problem_id for p in problems] == ["1873_A", "2727", "abc301_a"]  # sorted by question_id
    assert len(by_id["2727"].answer["inputs"]) == 14 and by_id["2727"].answer["num_public"] == 1
    assert by_id["2727"].answer["fn_name"] == "countSeniors"
    vendored = {p.problem_id: p for p in get_suite("lcb_custom").load_problems()}
    assert by_id["abc301_a"].answer["inputs"] == vendored["abc301_a"].answer["inputs"]  # same tests, same order
    assert by_id["1873_A"].text.startswith("There are three cards")
    public_only = get_suite("lcb_custom").load_problems({"public_tests_only": True}, FIXTURE)
    assert [len(p.answer["inputs"]) for p in public_only] == [1, 1, 1]


def test_private_tests_with_a_pickled_class_are_refused():
    class Evil:
        def __reduce__(self):
            return (print, ("pwned",))

    payload = base64.b64encode(zlib.compress(pickle.dumps(Evil()))).decode()
    with pytest.raises(HarnessError, match="refusing to load builtins.print"):
        lcb.decode_tests(payload, "row x")


def test_release_selection_and_window_follow_lcb_runner(tmp_path):
    data = official_dir(tmp_path, {
        "test.jsonl": ["1873_A#old@2023-05-01T00:00:00"],
        "test4.jsonl": ["1873_A#jul31@2024-07-31T23:59:00", "2727#aug1@2024-08-01T00:00:00"],
        "test5.jsonl": ["abc301_a#dec@2024-12-30T12:00:00"],
        "test6.jsonl": ["abc301_a#feb@2025-02-03T12:00:00"],
    })
    v5 = lcb.load_official(data, False, "release_v5", "2024-08-01")
    assert [p.problem_id for p in v5] == ["2727#aug1", "abc301_a#dec"]  # start inclusive at midnight; test6 unread
    v6 = lcb.load_official(data, False, "release_v6", "2025-02-01")
    assert [p.problem_id for p in v6] == ["abc301_a#feb"]
    upto = lcb.load_official(data, False, "release_v6", "2024-08-01", "2024-12-30")
    assert [p.problem_id for p in upto] == ["2727#aug1"]  # end date is midnight: effectively exclusive


def test_window_count_mismatch_is_an_error_that_says_what_was_found(tmp_path):
    data = official_dir(tmp_path, {"test5.jsonl": ["2727@2024-09-01T00:00:00"]})
    with pytest.raises(HarnessError, match=r"release_v5 from 2024-08-01 window holds 1 problems, expected 279"):
        get_suite("lcb_v5").load_problems({}, data)
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(HarnessError, match=r"none of test.jsonl, test2.jsonl.*test6.jsonl found"):
        get_suite("lcb_v6").load_problems({}, empty)


def test_lcb_v6_without_data_says_where_to_get_it():
    with pytest.raises(HarnessError, match="lcb_v6: no data ships.*livecodebench/code_generation_lite"):
        get_suite("lcb_v6").load_problems()


def test_shipped_v5_needs_public_tests_only_and_then_has_279_problems_with_ids():
    with pytest.raises(HarnessError, match="--public-tests-only"):
        get_suite("lcb_v5").load_problems()
    problems = get_suite("lcb_v5").load_problems({"public_tests_only": True})
    assert len(problems) == 279
    difficulties = [p.metadata["difficulty"] for p in problems]
    assert (difficulties.count("easy"), difficulties.count("medium"), difficulties.count("hard")) == (67, 89, 123)
    assert sum(p.answer["fn_name"] is not None for p in problems) == 104
    assert {p.problem_id for p in problems if "erroneous_tests" in p.metadata["errata"]} == {"arc189_a"}


def test_prompt_is_lcb_runner_generic_template_in_one_user_turn():
    problem = {p.problem_id: p for p in get_suite("lcb_custom").load_problems()}["2727"]
    [message] = problem.messages
    assert message["role"] == "user"
    assert message["content"].startswith(lcb.SYSTEM_MESSAGE_GENERIC + "\n\n### Question:\n" + problem.text + "\n\n")
    assert "### Format: You will use the following starter code" in message["content"]
    assert message["content"].endswith("```python\nclass Solution:\n    def countSeniors(self, details: List[str]) -> int:\n"
                                       "        \n```\n\n### Answer: (use the provided format with backticks)\n\n")


def test_public_tests_only_and_fixed_mode_are_recorded_as_deviations():
    suite = get_suite("lcb_v5")
    notes = suite.option_deviations(suite.resolve_options({"public_tests_only": True, "grader": "fixed"}))
    assert any("public tests only" in note for note in notes) and any("grader=fixed" in note for note in notes)
    assert suite.option_deviations(suite.resolve_options({})) == []


def test_identity_of_a_data_directory_hashes_every_file_read(tmp_path):
    data = official_dir(tmp_path, {"test.jsonl": ["2727"], "test6.jsonl": ["abc301_a"]})
    identity = get_suite("lcb_v5").identity({}, data)
    assert set(identity["data_files"]) == {"test.jsonl"}  # release_v5 never reads test6
    shutil.copy(FIXTURE, tmp_path / "test2.jsonl")
    assert get_suite("lcb_v5").identity({}, data)["data_sha256"] != identity["data_sha256"]
