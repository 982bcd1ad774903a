"""`harness report paper`: measured vs published, verdicts and the protocol differences behind a gap."""
from __future__ import annotations

import pytest

import suites.papers
from harness.cli import main
from reports import paper as paper_module
from reports.runs import load_runs
from harness.synthetic import problem_ids, write_run

AIME24 = problem_ids("aime24")
MATH500 = problem_ids("math500")


def exact_rate(ids, n, correct):
    """Every problem has `correct` of n samples right, except a spread that keeps the interval open."""
    return {pid: [s < correct + (1 if i % 2 else -1) for s in range(n)] for i, pid in enumerate(ids)}


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    root = tmp_path_factory.mktemp("paper")
    # aime24: 80% measured vs 80.3 published -> reproduced; math500: 99% vs 95.0 -> above
    write_run(root / "close", {"aime24": exact_rate(AIME24, 10, 8),
                               "math500": {pid: [i % 100 != 0] for i, pid in enumerate(MATH500)}}, model="close")
    write_run(root / "low", {"aime24": exact_rate(AIME24, 10, 3)}, model="low", max_tokens=4096)
    out = root / "out"
    assert main(["report", "paper", str(root / "close"), str(root / "low"), "--out", str(out)]) == 0
    return root, out


def lines(markdown):
    return {(row[1].strip(), row[2].strip()): [c.strip() for c in row[1:-1]]
            for row in (line.split("|") for line in markdown.splitlines()) if len(row) > 9 and row[1].strip() in
            ("aime24", "math500")}


def test_verdict_compares_the_published_value_with_the_measured_interval(report):
    _, out = report
    table = lines((out / "paper.md").read_text())
    assert table[("aime24", "close")][2:7] == ["80.3", table[("aime24", "close")][3], table[("aime24", "close")][4],
                                               "-0.3", "reproduced"]
    assert table[("aime24", "close")][3].startswith("80.0 [")
    assert table[("math500", "close")][2] == "95.0" and table[("math500", "close")][6] == "above"
    assert table[("math500", "close")][5] == "+4.0"
    assert table[("aime24", "low")][6] == "below" and table[("aime24", "low")][5] == "-50.3"


def test_protocol_differences_that_could_explain_a_gap_are_listed(report):
    _, out = report
    low = lines((out / "paper.md").read_text())[("aime24", "low")][8]
    assert "n=10 samples per problem (published: 64)" in low
    assert "max_tokens=4096 (published: 40960)" in low
    assert "engine synthetic (published: vLLM)" in low
    assert "grader math_grader (published: rllm" in low


def test_outputs_are_markdown_html_and_png(report):
    _, out = report
    assert {p.name for p in out.iterdir()} == {"paper.md", "paper.html", "paper.png", "passk-aime24.png",
                                               "passk-math500.png"}
    assert "![pass@k, aime24](passk-aime24.png)" in (out / "paper.md").read_text()
    assert "reproduction of VibeThinker-1.5B" in (out / "paper.html").read_text()


def test_imported_generations_say_their_sampling_is_unknown(tmp_path):
    write_run(tmp_path / "run", {"aime24": exact_rate(AIME24, 2, 1)})
    (run,) = load_runs([tmp_path / "run"])
    run.kind = "grade"  # as `harness grade` records it
    report = paper_module.build_paper_report([run], "vibethinker-1.5b")
    assert "generations imported from elsewhere: engine and sampling unknown" in report.lines[0].differences


def test_another_paper_is_a_data_file_not_code(tmp_path, monkeypatch):
    papers = tmp_path / "papers"
    papers.mkdir()
    (papers / "tiny-paper.csv").write_text("source,table,model,params,group,benchmark,score\n"
                                           "arXiv:0000.00000,table1,Tiny-Paper,1B,lab,aime24,50.0\n")
    monkeypatch.setattr(suites.papers, "PAPERS_DIR", papers)
    monkeypatch.setattr(paper_module, "PAPERS_DIR", papers)
    write_run(tmp_path / "run", {"aime24": exact_rate(AIME24, 4, 2), "math500": {p: [True] for p in MATH500[:5]}})
    report = paper_module.build_paper_report(load_runs([tmp_path / "run"]), "tiny-paper")
    assert report.paper_model == "Tiny-Paper" and report.lines[0].published == pytest.approx(0.5)
    assert report.lines[0].verdict == "reproduced"
    assert report.unpublished == ["math500 (run)"]


def test_unknown_paper_model_is_an_error(report, capsys):
    root, _ = report
    code = main(["report", "paper", str(root / "low"), "--paper-model", "GPT-9", "--out", str(root / "x")])
    assert code == 2 and "--paper-model GPT-9: not in paper vibethinker-1.5b" in capsys.readouterr().err


def test_suite_the_paper_does_not_report_is_an_error_when_nothing_is_left(tmp_path, capsys):
    write_run(tmp_path / "run", {"aime24": exact_rate(AIME24, 2, 1)})
    code = main(["report", "paper", str(tmp_path / "run"), "--paper-model", "L1-Max", "--out", str(tmp_path / "o")])
    assert code == 0  # L1-Max has aime24 in table 2
    code = main(["report", "paper", str(tmp_path / "run"), "--paper-model", "SmolLM 3",
                 "--out", str(tmp_path / "o2")])
    assert code == 2 and "publishes no number for SmolLM 3 on aime24" in capsys.readouterr().err


def test_seed_blocks_are_shown_beside_the_interval_and_the_verdict_says_it_does_not_use_them(report):
    _, out = report
    markdown = (out / "paper.md").read_text()
    # n = 10: 2 blocks of 5; block 1 all right, block 2 4/5 or 2/5 -> 1.0 and 0.6: 80.0 ± 28.3
    assert lines(markdown)[("aime24", "close")][4] == "80.0 \u00b1 28.3 (2 x 5)"
    assert lines(markdown)[("math500", "close")][4] == "-"  # n = 1
    assert "The verdict does not use it" in markdown
    assert "mean \u00b1 std over seed blocks" in (out / "paper.html").read_text()


def test_interval_method_is_chosen_and_named(report):
    root, _ = report
    runs = load_runs([root / "close"])
    fixed = paper_module.build_paper_report(runs, "vibethinker-1.5b", interval="samples")
    aime = next(line for line in fixed.lines if line.suite == "aime24")
    assert aime.ci95 == tuple(runs[0].metrics["ci95_by_method"]["samples"])
    assert "this fixed benchmark" in fixed.intro()[0]
    math = next(line for line in fixed.lines if line.suite == "math500")
    assert math.ci95 == (0.99, 0.99) and math.verdict == "above"  # n = 1 of 0/1 rates: no within-problem noise
    assert main(["report", "paper", str(root / "close"), "--interval", "two-level", "--out", str(root / "tl")]) == 0
    assert "problems, then samples within problems" in (root / "tl" / "paper.md").read_text()
