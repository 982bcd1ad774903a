"""Planted copies of suite problems inside a real corpus are found, by exact row, and nothing else.

Background rows are real LiveCodeBench statements (tests/data/decontam/README.md); plants are made
here from the suites' own data, GPQA included (in memory only, never written or printed).
"""
import json
import re
from pathlib import Path

import numpy as np
import pytest

from harness.decontam import build_index, check_texts, filter_rows
from harness.decontam.index import MIN_SHORT_WORDS
from harness.decontam.normalize import normalize
from harness.errors import HarnessError
from suites import get_suite

DATA = Path(__file__).parent / "data" / "decontam"
SUITES = ["aime24", "aime25", "hmmt25", "math500", "gpqa_diamond"]
pytestmark = pytest.mark.usefixtures("private_cache")


@pytest.fixture(scope="module")
def index():
    return build_index(SUITES, 10)


@pytest.fixture(scope="module")
def background() -> list[str]:
    return [json.loads(line)["text"] for line in (DATA / "background.jsonl").read_text().splitlines()]


def problems(name):
    return get_suite(name).load_problems({"repair_prompts": True})


def variants(text: str) -> list[str]:
    """Case, punctuation, whitespace and LaTeX-spacing variants of a statement."""
    return [
        text,
        text.upper(),
        re.sub(r"\s+", "  \n ", text),
        re.sub(r"[.,;:!?]", " ", text),
        text.replace("\\frac", "\\dfrac").replace("{", "{ ").replace("}", " }").replace("=", " = "),
        text.replace("(", "\\left(").replace(")", "\\right)").replace("$", " $ "),
    ]


def corpus_with_plants(background, plants):
    """Background rows with each plant embedded in a background row at a known position."""
    rows, where = list(background[:3]), {}
    for number, (key, text) in enumerate(plants):
        host = background[number % len(background)]
        where[len(rows)] = key
        rows.append(host[:200] + "\n" + text + "\n" + host[200:400])
        rows.append(background[(number + 7) % len(background)])
    return rows, where


def test_every_planted_variant_of_every_suite_is_found_at_its_row(index, background):
    plants = []
    for name in SUITES:
        for problem in problems(name)[:4]:
            for kind, text in enumerate(variants(problem.statement)):
                plants.append(((name, problem.problem_id, kind), text))
    rows, where = corpus_with_plants(background, plants)
    found = dict(check_texts(rows, index=index))
    assert sorted(found) == sorted(where)
    for row, (name, problem_id, _) in where.items():
        assert (name, problem_id) in {(m["suite"], m["problem_id"]) for m in found[row]}


def test_every_problem_of_every_suite_is_found_when_copied(index):
    for name in SUITES:
        texts = [p.statement for p in problems(name)]
        found = dict(check_texts(texts, index=index))
        indexable = {i for i, text in enumerate(texts) if len(normalize(text)) >= MIN_SHORT_WORDS}
        assert indexable <= set(found), name
        for i in indexable:
            assert any(m["problem_id"] == problems(name)[i].problem_id and m["coverage"] == 1.0 for m in found[i])


def test_an_overlap_of_n_minus_1_words_is_not_flagged_and_n_words_is(index, background):
    words = normalize(problems("aime24")[3].statement)
    nine, ten = " ".join(words[20:29]), " ".join(words[20:30])
    rows = [background[0], f"zyxw {nine} wxyz", background[1], f"zyxw {ten} wxyz"]
    found = check_texts(rows, index=index)
    assert [row for row, _ in found] == [3]
    assert found[0][1][0]["ngram"] == ten


def test_a_short_problem_is_found_only_whole():
    index = build_index(["math500"], 10)
    short = next(p for p in problems("math500") if MIN_SHORT_WORDS <= len(normalize(p.statement)) < 10)
    words = normalize(short.statement)
    rows = ["intro " + short.statement + " outro", "intro " + " ".join(words[:-1]) + " zzz"]
    found = check_texts(rows, index=index)
    assert [row for row, _ in found] == [0]
    assert short.problem_id in {m["problem_id"] for m in found[0][1]}


def test_background_alone_is_clean_and_n_is_a_parameter(index, background):
    assert check_texts(background, index=index) == []
    statement = problems("aime24")[0].statement
    words = normalize(statement)
    small = build_index(["aime24"], 5)
    assert [row for row, _ in check_texts(["q " + " ".join(words[:5]) + " q"], index=small)] == [0]
    assert check_texts(["q " + " ".join(words[:5]) + " q"], index=index) == []


def test_rows_are_reported_by_index_across_batch_boundaries(index, background):
    statement = problems("hmmt25")[7].statement
    rows = [background[i % len(background)] for i in range(4500)]
    for row in (0, 1999, 2000, 4499):
        rows[row] = statement
    assert [row for row, _ in check_texts(rows, index=index)] == [0, 1999, 2000, 4499]


def test_min_coverage_keeps_copies_and_drops_stock_phrases(index, background):
    copy = problems("aime24")[5].statement
    phrase = "where m and n are relatively prime positive integers. Find m+n."
    rows = [copy, background[0] + " " + phrase]
    assert [row for row, _ in check_texts(rows, index=index)] == [0, 1]
    assert [row for row, _ in check_texts(rows, index=index, min_coverage=0.5)] == [0]


def test_filter_rows_drops_contaminated_rows_and_records_the_decision(index, background):
    rows = [{"prompt": text} for text in background[:5]]
    rows.insert(2, {"prompt": problems("aime25")[0].statement, "answer": "x"})
    kept, record = filter_rows(rows, index=index)
    assert kept == [row for i, row in enumerate(rows) if i != 2]
    assert record["rows_checked"] == 6 and record["rows_flagged"] == 1 and record["policy"] == "drop"
    assert record["flagged"][0]["index"] == 2
    assert record["flagged"][0]["matches"][0]["problem_id"] == problems("aime25")[0].problem_id
    assert set(record["suites"]) == set(SUITES)
    with pytest.raises(HarnessError, match="row 2"):
        filter_rows(rows, index=index, policy="error")
    assert filter_rows(rows, index=index, policy="keep")[0] == rows


def test_gpqa_question_with_options_is_found_without_writing_it_anywhere(index, background):
    problem = problems("gpqa_diamond")[11]
    rows = [background[0], background[1] + "\n" + problem.statement.lower(), background[2]]
    found = check_texts(rows, index=index)
    assert [row for row, _ in found] == [1]
    assert found[0][1][0]["problem_id"] == problem.problem_id


def test_the_index_is_cached_and_keyed_by_data_and_n(index):
    again = build_index(SUITES, 10)
    assert again.describe() == index.describe()
    assert len(again.hashes) == len(index.hashes)
    assert build_index(["aime24"], 9).describe()["suites"]["aime24"]["n"] == 9


def test_a_cached_index_hashed_another_way_is_rebuilt(private_cache):
    from harness.decontam.index import index_dir, load_part, save_part, suite_part

    fresh = suite_part("aime24", 10)
    (path,) = [p for p in index_dir().glob("aime24-*.npz") if load_part(p).key["n"] == 10]
    stale = load_part(path)
    stale.word_values = stale.word_values ^ np.uint64(1)  # as if written by a different word hash
    stale.hashes = stale.hashes ^ np.uint64(1)
    save_part(stale, path)
    rebuilt = suite_part("aime24", 10)
    assert np.array_equal(rebuilt.hashes, fresh.hashes) and np.array_equal(load_part(path).hashes, fresh.hashes)


def test_unknown_suite_and_bad_n_are_clear_errors():
    with pytest.raises(HarnessError, match="nope"):
        build_index(["nope"], 10)
    with pytest.raises(HarnessError, match="--ngram 0"):
        build_index(["aime24"], 0)


def punctuation_stripped(text: str) -> str:
    """A copy with every non-word character gone: `\\left(` -> `left`, `\\text{cm}` -> `text cm`, `\\cdot3` -> `cdot3`."""
    return re.sub(r"[^\w\s]|_", " ", text)


def test_every_problem_copied_without_its_punctuation_is_found_and_english_is_not(index, background):
    plants = [((name, problem.problem_id, "stripped"), punctuation_stripped(problem.statement))
              for name in SUITES for problem in problems(name)
              if len(normalize(problem.statement)) >= MIN_SHORT_WORDS]
    english = ["Turn left at the second light, then keep right until the text on the big sign says quad.",
               "Write the text of your answer on the left and the right margin of the page, in big letters.",
               "Let me know if the left side or the right side of the table is bigger than the text box.",
               "The robot moves left, right, left again; print the final position as text, one line per test."]
    rows, where = corpus_with_plants(background + english, plants)
    rows += english
    found = dict(check_texts(rows, index=index))
    assert sorted(found) == sorted(where)  # recall 1.0 on planted copies, no other row flagged
    for row, (name, problem_id, _) in where.items():
        assert (name, problem_id) in {(m["suite"], m["problem_id"]) for m in found[row]}
