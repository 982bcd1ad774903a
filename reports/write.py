"""Writing reports to a folder: Markdown, CSV, HTML and charts of a built leaderboard or paper report.

Kept apart from the builders so that building (leaderboard.py, paper.py) never imports the
renderers (html.py, charts.py), which only read the builders' types: the reports' layers point one way.
"""
from __future__ import annotations

from pathlib import Path

from reports.charts import leaderboard_charts, paper_chart
from reports.html import leaderboard_page, paper_page
from reports.leaderboard import Leaderboard
from reports.paper import PaperReport


def write_leaderboard(board: Leaderboard, out: Path, title: str) -> list[Path]:
    out.mkdir(parents=True, exist_ok=True)
    markdown = out / "leaderboard.md"
    markdown.write_text(f"# {title}\n\n{board.markdown()}", encoding="utf-8")
    csv = out / "leaderboard.csv"
    board.frame().to_csv(csv, index=False)
    charts = leaderboard_charts(board, out)
    page = out / "leaderboard.html"
    page.write_text(leaderboard_page(board, title, charts), encoding="utf-8")
    return [markdown, csv, page, *charts]


def write_paper_report(report: PaperReport, out: Path) -> list[Path]:
    out.mkdir(parents=True, exist_ok=True)
    markdown = out / "paper.md"
    markdown.write_text(f"# {report.paper}: reproduction of {report.paper_model}\n\n{report.markdown()}", encoding="utf-8")
    chart = paper_chart(report, out)
    page = out / "paper.html"
    page.write_text(paper_page(report, chart), encoding="utf-8")
    return [markdown, page, chart]
