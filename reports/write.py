"""Writing reports to a folder: Markdown, CSV, HTML and charts of a built leaderboard or paper report.

Kept apart from the builders so that building (leaderboard.py, paper.py) never imports the
renderers (html.py, charts.py), which only read the builders' types: the reports' layers point one way.
"""
from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Sequence

from harness.rundir import write_atomic
from reports.charts import leaderboard_charts, paper_chart, pass_at_k_charts
from reports.html import leaderboard_page, paper_page
from reports.leaderboard import Leaderboard
from reports.lengths import length_charts
from reports.paper import PaperReport
from reports.runs import SuiteRun


def write_leaderboard(board: Leaderboard, out: Path, title: str, runs: Sequence[SuiteRun] = ()) -> list[Path]:
    out.mkdir(parents=True, exist_ok=True)
    markdown = out / "leaderboard.md"
    curves = pass_at_k_charts(runs, out) if runs else []  # pass@k against k, one chart per suite
    write_atomic(markdown, f"# {title}\n\n{board.markdown()}{image_links(curves)}")
    csv = out / "leaderboard.csv"
    board.frame().to_csv(csv, index=False)
    charts = leaderboard_charts(board, out)
    lengths = length_charts(runs, out) if runs else []  # budget curve, length histogram, truncation
    page = out / "leaderboard.html"
    write_atomic(page, leaderboard_page(board, title, charts, lengths))
    return [markdown, csv, page, *charts, *curves, *(path for _, path in lengths)]


def write_paper_report(report: PaperReport, out: Path, runs: Sequence[SuiteRun] = ()) -> list[Path]:
    out.mkdir(parents=True, exist_ok=True)
    markdown = out / "paper.md"
    curves = pass_at_k_charts(report.runs, out)
    write_atomic(markdown, f"# {report.paper}: reproduction of {report.paper_model}\n\n{report.markdown()}"
                           f"{image_links(curves)}")
    chart = paper_chart(report, out)
    page = out / "paper.html"
    with tempfile.TemporaryDirectory() as scratch:  # length plots live inside the page only
        lengths = length_charts(runs, Path(scratch)) if runs else []
        write_atomic(page, paper_page(report, chart, lengths))
    return [markdown, page, chart, *curves]


def image_links(paths: Sequence[Path]) -> str:
    """Markdown image links to charts written beside the report."""
    return "".join(f"\n![pass@k, {path.stem.removeprefix('passk-')}]({path.name})\n" for path in paths)
