"""Writing reports to a folder: Markdown, CSV, HTML and charts of a built leaderboard or paper report.

Kept apart from the builders so that building (leaderboard.py, paper.py) never imports the
renderers (html.py, charts.py), which only read the builders' types: the reports' layers point one way.
"""
from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Sequence

from harness.rundir import write_atomic
from reports.charts import leaderboard_charts, paper_chart
from reports.html import leaderboard_page, paper_page
from reports.leaderboard import Leaderboard
from reports.lengths import length_charts
from reports.paper import PaperReport
from reports.runs import SuiteRun


def write_leaderboard(board: Leaderboard, out: Path, title: str, runs: Sequence[SuiteRun] = ()) -> list[Path]:
    out.mkdir(parents=True, exist_ok=True)
    markdown = out / "leaderboard.md"
    write_atomic(markdown, f"# {title}\n\n{board.markdown()}")
    csv = out / "leaderboard.csv"
    board.frame().to_csv(csv, index=False)
    charts = leaderboard_charts(board, out)
    lengths = length_charts(runs, out) if runs else []  # budget curve, length histogram, truncation
    page = out / "leaderboard.html"
    write_atomic(page, leaderboard_page(board, title, charts, lengths))
    return [markdown, csv, page, *charts, *(path for _, path in lengths)]


def write_paper_report(report: PaperReport, out: Path, runs: Sequence[SuiteRun] = ()) -> list[Path]:
    out.mkdir(parents=True, exist_ok=True)
    markdown = out / "paper.md"
    write_atomic(markdown, f"# {report.paper}: reproduction of {report.paper_model}\n\n{report.markdown()}")
    chart = paper_chart(report, out)
    page = out / "paper.html"
    with tempfile.TemporaryDirectory() as scratch:  # length plots live inside the page only
        lengths = length_charts(runs, Path(scratch)) if runs else []
        write_atomic(page, paper_page(report, chart, lengths))
    return [markdown, page, chart]
