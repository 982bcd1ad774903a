"""HTML pages checked in a real headless Debian chromium; PNG charts opened and inspected.

Chromium is installed by .ci/setup-chromium.sh; the browser tests skip (with that reason) only
where it is missing. Console messages are read from chromium's own log (--enable-logging), the
table from the DOM after scripts ran (--dump-dom), and a screenshot is taken and opened.
"""
from __future__ import annotations

import re
import shutil
import subprocess
from html.parser import HTMLParser
from pathlib import Path

import pytest
from PIL import Image

from harness.cli import main
from harness.synthetic import problem_ids, write_run
from conftest import spread

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
needs_chromium = pytest.mark.skipif(CHROMIUM is None, reason="chromium not installed (run .ci/setup-chromium.sh)")
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync"]
BLUE, GREY, ORANGE = (0x3B, 0x6E, 0xA8), (0xB8, 0xB8, 0xB8), (0xE0, 0x8A, 0x1E)
AIME24, MATH500 = problem_ids("aime24"), problem_ids("math500")


@pytest.fixture(scope="module")
def reports(tmp_path_factory):
    root = tmp_path_factory.mktemp("html")
    write_run(root / "a", {"aime24": spread(AIME24, 4, 1, 3), "math500": spread(MATH500, 1, 0, 1)}, model="model-a")
    write_run(root / "b", {"aime24": spread(AIME24, 4, 0, 1)}, model="model-b", max_tokens=128)
    write_run(root / "c", {"aime24": spread(AIME24, 4, 2, 4)}, model="model-c <i>x</i>")
    runs = [str(root / r) for r in "abc"]
    assert main(["report", "leaderboard", *runs, "--paper", "vibethinker-1.5b", "--paper-models",
                 "VibeThinker-1.5B", "--out", str(root / "board")]) == 0
    assert main(["report", "paper", *runs, "--out", str(root / "paper")]) == 0
    return root


def chromium(page: Path, profile: Path, *extra: str, url_suffix: str = "") -> subprocess.CompletedProcess:
    return subprocess.run([CHROMIUM, *FLAGS, f"--user-data-dir={profile}", "--enable-logging=stderr", "--v=0",
                           *extra, page.resolve().as_uri() + url_suffix],
                          capture_output=True, text=True, timeout=120)


def console_messages(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if ":CONSOLE" in line]


class TableRows(HTMLParser):
    """Cell texts of each body row of the table with the given id."""

    def __init__(self, table_id: str):
        super().__init__()
        self.table_id, self.inside, self.in_body = table_id, False, False
        self.rows: list[list[str]] = []

    def handle_starttag(self, tag, attrs):
        if tag == "table":
            self.inside = dict(attrs).get("id") == self.table_id
        elif self.inside and tag == "tbody":
            self.in_body = True
        elif self.in_body and tag == "tr":
            self.rows.append([])
        elif self.in_body and tag == "td":
            self.rows[-1].append("")

    def handle_endtag(self, tag):
        if tag == "tbody":
            self.in_body = False
        elif tag == "table":
            self.inside = False

    def handle_data(self, data):
        if self.in_body and self.rows and self.rows[-1]:
            self.rows[-1][-1] += data


def table_rows(dom: str, table_id: str) -> list[list[str]]:
    parser = TableRows(table_id)
    parser.feed(dom)
    return parser.rows


@needs_chromium
def test_leaderboard_page_loads_without_console_errors_and_shows_every_row(reports, tmp_path):
    result = chromium(reports / "board" / "leaderboard.html", tmp_path / "profile", "--dump-dom")
    assert result.returncode == 0, result.stderr[-2000:]
    assert console_messages(result.stderr) == []
    rows = table_rows(result.stdout, "leaderboard")
    assert [row[1] for row in rows] == ["VibeThinker-1.5B (1.5B)", "model-a", "model-c <i>x</i>", "model-b"]
    assert rows[0][2] == "published" and rows[0][5].startswith("80.3 (published)")
    assert rows[3][5].startswith("12.5 [") and "\u26a0" in rows[3][5]  # model-b: 128 tokens, marked


@needs_chromium
def test_sorting_script_reorders_rows_in_the_browser(reports, tmp_path):
    result = chromium(reports / "board" / "leaderboard.html", tmp_path / "profile", "--dump-dom",
                      url_suffix="#sort=leaderboard:3:asc")  # column 3 = mean, ascending
    assert console_messages(result.stderr) == []
    rows = table_rows(result.stdout, "leaderboard")
    assert [row[1] for row in rows] == ["model-b", "model-a", "model-c <i>x</i>", "VibeThinker-1.5B (1.5B)"]
    assert 'aria-sort="ascending"' in result.stdout


@needs_chromium
def test_paper_page_loads_and_lists_verdicts(reports, tmp_path):
    result = chromium(reports / "paper" / "paper.html", tmp_path / "profile", "--dump-dom")
    assert console_messages(result.stderr) == []
    rows = table_rows(result.stdout, "paper")
    # model-c's 75.0 has an interval around 66-84 that holds the published 80.3
    assert [(row[0], row[6]) for row in rows] == [("aime24", "below"), ("math500", "below"), ("aime24", "below"),
                                                  ("aime24", "reproduced")]


@needs_chromium
def test_screenshot_of_the_leaderboard_is_written_and_not_blank(reports, tmp_path):
    shot = tmp_path / "shot.png"
    result = chromium(reports / "board" / "leaderboard.html", tmp_path / "profile", "--window-size=1280,900",
                      f"--screenshot={shot}")
    assert result.returncode == 0 and shot.is_file()
    with Image.open(shot) as image:
        assert image.size == (1280, 900)
        colours = image.convert("RGB").getcolors(maxcolors=1 << 20)
    assert len(colours) > 50  # text, table borders and the embedded chart, not an empty page


@needs_chromium
def test_console_check_catches_a_page_with_a_script_error(tmp_path):
    page = tmp_path / "broken.html"
    page.write_text("<html><body><script>undefinedFunction();</script></body></html>")
    messages = console_messages(chromium(page, tmp_path / "profile", "--dump-dom").stderr)
    assert any("undefinedFunction is not defined" in line for line in messages)


def test_pages_are_self_contained(reports):
    for page in (reports / "board" / "leaderboard.html", reports / "paper" / "paper.html"):
        html = page.read_text()
        assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", html), page
        assert "data:image/png;base64," in html
        assert "<i>x</i>" not in html and "&lt;i&gt;x&lt;/i&gt;" in html  # model names are escaped


def colour_pixels(path: Path, colour: tuple[int, int, int]) -> int:
    with Image.open(path) as image:
        counts = dict((rgb, n) for n, rgb in image.convert("RGB").getcolors(maxcolors=1 << 20))
    return counts.get(colour, 0)


def test_leaderboard_charts_have_one_bar_per_row_in_its_colour(reports):
    chart = reports / "board" / "chart-aime24.png"
    with Image.open(chart) as image:
        width, height = image.size
    assert width == 800 and height == int((1.2 + 0.38 * 4) * 100)  # 4 rows in the aime24 column
    assert colour_pixels(chart, BLUE) > 1000  # measured bars
    assert colour_pixels(chart, GREY) > 1000  # the published VibeThinker bar
    assert colour_pixels(chart, ORANGE) > 200  # model-b, settings differ
    math500 = reports / "board" / "chart-math500.png"
    assert colour_pixels(math500, ORANGE) == 0 and colour_pixels(math500, BLUE) > 1000


def test_paper_chart_shows_published_and_measured_bars(reports):
    chart = reports / "paper" / "paper.png"
    with Image.open(chart) as image:
        assert image.size[0] >= 500 and image.size[1] == 400
    assert colour_pixels(chart, BLUE) > 1000 and colour_pixels(chart, GREY) > 1000
