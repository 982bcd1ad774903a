"""harness view in real headless Chromium (Debian's /usr/bin/chromium driven by Playwright), served
and exported: deep links, a filter, the diff, a hostile response that must not run, screenshots
that are not blank."""
from __future__ import annotations

import io
import time
from pathlib import Path

import pytest

from reports.view.export import export
from view_fixtures import make_pair, served

CHROMIUM = Path("/usr/bin/chromium")
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--disable-sync", "--no-first-run"]
pytestmark = [pytest.mark.browser,
              pytest.mark.skipif(not CHROMIUM.exists(), reason="needs Debian's chromium at /usr/bin/chromium"),
              pytest.mark.timeout(300)]


@pytest.fixture(scope="module")
def pair(tmp_path_factory):
    return make_pair(tmp_path_factory.mktemp("runs"))


@pytest.fixture(scope="module")
def browser():
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1200, "height": 900})
    page = context.new_page()
    page.errors = []
    page.on("pageerror", lambda exc: page.errors.append(str(exc)))
    yield page
    context.close()


def not_blank(png: bytes) -> float:
    """Pixel standard deviation of a screenshot (a blank page is ~0)."""
    import numpy as np
    from matplotlib import image

    pixels = image.imread(io.BytesIO(png), format="png")
    return float(np.std(pixels[..., :3]))


def check_ui(page, base_url: str, tmp_path: Path) -> None:
    # deep link to the hostile sample: shown as text, never run
    page.goto(base_url + "#/sample/aime24/aime24/I-01/0")
    page.wait_for_selector("#response pre.graded")
    assert "<script>window.__pwned = 1</script>" in page.inner_text("#response")
    assert page.evaluate("window.__pwned") is None
    assert page.locator("#response script, #response img").count() == 0
    assert page.inner_text("#gold") == "204" and page.inner_text("#extracted") == "1"
    assert page.locator("details.think").count() == 1  # think block folded
    assert not_blank(page.screenshot(path=str(tmp_path / "sample.png"))) > 0.05

    # deep link to a problem (ids contain '/')
    page.goto(base_url + "#/problem/aime24/aime24/I-02")
    page.wait_for_selector("text=pass rate 25.0 (1/4")

    # run page: filter to problems with a wrong sample
    page.goto(base_url + "#/")
    page.wait_for_selector("tr.problem")
    assert page.locator("tr.problem").count() == 6
    page.check("input[data-flag=wrong]")
    assert page.locator("tr.problem").count() == 3
    assert page.inner_text("#row-count").startswith("3 of 6 problems")
    page.uncheck("input[data-flag=wrong]")
    page.click("th[data-sort=rate]")  # ascending pass rate: the weakest problem first
    assert page.locator("tr.problem").first.get_attribute("data-id") == "aime24/I-02"
    assert not_blank(page.screenshot(path=str(tmp_path / "run.png"))) > 0.05

    # the diff: problems whose rate changed, largest first, and the gate's verdict
    page.goto(base_url + "#/diff")
    page.wait_for_selector("#gate-status")
    assert page.inner_text("#gate-status").startswith("gate: PASS")
    assert [row.get_attribute("data-id") for row in page.locator("tr.changed").all()] == ["aime24/I-01", "aime24/I-02"]
    assert not_blank(page.screenshot(path=str(tmp_path / "diff.png"))) > 0.05
    assert page.errors == []


def test_served_ui(page, pair, tmp_path):
    with served(list(pair)) as url:
        check_ui(page, url, tmp_path)
        page.goto(url + "#/")
        page.fill("#search", "window.__pwned")
        page.click("#search-go")
        page.wait_for_selector("#row-count >> text=1 of 6 problems")
        assert page.evaluate("window.__pwned") is None


def test_exported_folder_from_file_url(page, pair, tmp_path):
    site = tmp_path / "site"
    export(list(pair), site)
    check_ui(page, site.resolve().as_uri() + "/index.html", tmp_path)


def test_plots_load_in_the_page(page, pair):
    with served(list(pair)) as url:
        page.goto(url)
        loaded = "() => [...document.querySelectorAll('.plots img')].map(i => i.complete && i.naturalWidth > 0)"
        deadline = time.time() + 60
        while page.evaluate(loaded) != [True, True, True] and time.time() < deadline:
            time.sleep(0.2)
        assert page.evaluate(loaded) == [True, True, True]
