"""Self-contained HTML pages (one file: inline CSS, inline sort script, PNGs as data URIs).

Rendered with Jinja2 (autoescaped) from reports/templates/page.html, so a page opens from a CI
artifact or an e-mail attachment with no network access.
"""
from __future__ import annotations

import base64
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Sequence

from jinja2 import Environment, FileSystemLoader, select_autoescape

from reports.markdown import pct

if TYPE_CHECKING:
    from reports.leaderboard import Leaderboard
    from reports.paper import PaperReport

TEMPLATES = Path(__file__).parent / "templates"


@dataclass
class HtmlCell:
    text: str
    sort: float | None = None  # numeric sort key; None sorts by text
    cls: str = ""
    title: str = ""


@dataclass
class HtmlRow:
    cells: list[HtmlCell]
    cls: str = ""


@dataclass
class HtmlTable:
    id: str
    headers: list[str]
    rows: list[HtmlRow]
    caption: str = ""


@dataclass
class Page:
    title: str
    tables: list[HtmlTable]
    intro: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    images: list[tuple[str, Path]] = field(default_factory=list)  # (caption, png)


def render(page: Page) -> str:
    environment = Environment(loader=FileSystemLoader(TEMPLATES), autoescape=select_autoescape(["html"]))
    images = [{"caption": caption, "data": base64.b64encode(path.read_bytes()).decode("ascii")}
              for caption, path in page.images]
    return environment.get_template("page.html").render(
        title=page.title, intro=page.intro, tables=page.tables, notes=page.notes, images=images)


def number(value: float | None, signed: bool = False, cls: str = "num", title: str = "") -> HtmlCell:
    return HtmlCell(pct(value, signed), None if value is None else round(100 * value, 4), cls, title)


def leaderboard_page(board: "Leaderboard", title: str, charts: Sequence[Path],
                     extra_images: Sequence[tuple[str, Path]] = ()) -> str:
    rows = []
    for rank, row in enumerate(board.rows, start=1):
        cells = [HtmlCell(str(rank), rank, "num"), HtmlCell(row.label), HtmlCell(row.source),
                 number(row.mean, title=f"mean over {row.covered} suites"), HtmlCell(str(row.covered), row.covered, "num")]
        for suite in board.suites:
            cell = row.cells.get(suite)
            if cell is None:
                cells.append(HtmlCell(""))
                continue
            classes = "num" + (" incomparable" if cell.incomparable else "")
            cells.append(HtmlCell(cell.text(), round(100 * cell.pass_at_1, 4), classes, cell.origin))
        rows.append(HtmlRow(cells, row.source))
    table = HtmlTable("leaderboard", ["#", "model", "source", "mean", "suites"] + list(board.suites), rows)
    intro = ["pass@1 (%) with 95% bootstrap interval and protocol (n, max tokens, temperature). "
             "\u26a0 = settings differ from the rest of the column (see notes). Sorted by suites covered, then "
             "mean pass@1; click a header to re-sort."]
    images = [(f"{path.stem.removeprefix('chart-')}: pass@1 with 95% intervals", path) for path in charts]
    return render(Page(title, [table], intro, board.footnotes, images + list(extra_images)))


def paper_page(report: "PaperReport", chart: Path, extra_images: Sequence[tuple[str, Path]] = ()) -> str:
    rows = []
    for line in report.lines:
        rows.append(HtmlRow([
            HtmlCell(line.suite), HtmlCell(line.model, title=line.run), number(line.published),
            HtmlCell(line.measured_cell, round(100 * line.measured, 4), "num"),
            HtmlCell(line.seeds, None, "num"),
            number(line.difference, signed=True), HtmlCell(line.verdict, cls=line.verdict.split()[0]),
            HtmlCell(f"{line.n} x {line.problems}", line.problems, "num", line.run),
            HtmlCell("; ".join(line.differences) or "none")]))
    table = HtmlTable("paper", ["suite", "measured model", "published", "measured [95% CI]",
                                "mean \u00b1 std over seed blocks", "difference", "verdict",
                                "n x problems", "protocol differences"], rows)
    return render(Page(f"{report.paper}: reproduction of {report.paper_model}", [table], report.intro(), [],
                       [(f"measured vs published ({report.paper_model})", chart), *extra_images]))

