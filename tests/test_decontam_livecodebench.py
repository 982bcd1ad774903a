"""The real-data check: all of release_v5 against lcb_v5 flags every one of the 279 window problems.

The other flagged rows share only stock phrases of competitive-programming statements ("the input
is given from standard input in the following format", "return it modulo 10 9 7"): they cover a
small share of any problem's n-grams, while each window problem is covered whole.
"""
import json

import pytest

from harness.decontam import build_index, check_texts

pytestmark = pytest.mark.usefixtures("private_cache")


def test_release_v5_flags_all_279_window_problems_whole(shared_dir):
    livecodebench = shared_dir / "data" / "livecodebench"
    release = json.loads((livecodebench / "release-v5-public-tests-with-titles.json").read_text())
    window = {row["problem"] for row in json.loads((livecodebench / "v5-window-public-tests.json").read_text())}
    window_rows = {i for i, row in enumerate(release) if row["problem"] in window}
    assert len(release) == 879 and len(window_rows) == 279

    index = build_index(["lcb_v5"], 10)
    found = dict(check_texts([row["problem"] for row in release], index=index))
    copies = {row for row, matches in found.items() if any(m["coverage"] == 1.0 for m in matches)}
    assert window_rows <= set(found)
    assert copies == window_rows
    seen = {m["problem_id"] for row in window_rows for m in found[row] if m["coverage"] == 1.0}
    assert len(seen) == 279
    # the rest: stock phrases only, never more than a third of a problem
    others = [max(m["coverage"] for m in matches) for row, matches in found.items() if row not in window_rows]
    assert others and max(others) < 0.34
