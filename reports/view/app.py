"""The served viewer: a Starlette app over one or two RunViews, JSON endpoints plus one page.

The page (templates/index.html, autoescaped) loads static/viewer.js, which builds every element
with textContent, so model output is never parsed as HTML. Endpoints re-check the run files on
each call (RunView.refresh), so a run in progress shows its new samples on reload. Plots are
rendered on first request and kept in a per-server scratch directory.
"""
from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any, Callable, Sequence

from jinja2 import Environment, FileSystemLoader, select_autoescape
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import FileResponse, HTMLResponse, JSONResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from harness.errors import HarnessError
from reports.view.runview import RunView

HERE = Path(__file__).parent
STATIC, TEMPLATES = HERE / "static", HERE / "templates"
PLOTS = ("budget", "histogram", "truncation")
SECURITY_HEADERS = {"Content-Security-Policy": "default-src 'self'; img-src 'self' data:; style-src 'self'; "
                                               "script-src 'self'; object-src 'none'; base-uri 'none'",
                    "X-Content-Type-Options": "nosniff"}


def page(mode: str, title: str) -> str:
    environment = Environment(loader=FileSystemLoader(TEMPLATES), autoescape=select_autoescape(["html"]))
    return environment.get_template("index.html").render(mode=mode, title=title)


def plot(view: RunView, name: str, out: Path) -> Path:
    """One of the run's three length plots, as PNG (reports.charts)."""
    from reports.charts import budget_curve_chart, length_histogram_chart, truncation_chart

    summary = view.summary()["suites"]
    if name == "budget":
        curves = {s["suite"]: s["analytics"]["budget_curve"] for s in summary if s["analytics"]["budget_curve"]}
        return budget_curve_chart(curves, out) if curves else None
    if name == "histogram":
        samples = [x for s in summary for x in view.length_samples(s["suite"]) if x.num_tokens is not None]
        if not samples:
            return None
        return length_histogram_chart([x.num_tokens for x in samples if x.correct],
                                      [x.num_tokens for x in samples if not x.correct], out)
    rates = {s["suite"]: s["truncation_rate"] for s in summary}
    return truncation_chart(rates, out) if any(v is not None for v in rates.values()) else None


class Viewer:
    """The state behind the endpoints: the runs and the plot scratch directory."""

    def __init__(self, paths: Sequence[Path]):
        self.views = [RunView(path) for path in paths]
        self.scratch = Path(tempfile.mkdtemp(prefix="harness-view-"))

    def view(self, request: Request) -> RunView:
        try:
            view = self.views[int(request.query_params.get("run", 0))]
        except (ValueError, IndexError):
            raise HarnessError("run: no such run") from None
        view.refresh()
        return view

    def runs(self, request: Request) -> dict[str, Any]:
        for view in self.views:
            view.refresh()
        return {"runs": [view.summary() for view in self.views], "diff": len(self.views) == 2, "mode": "served"}

    def problems(self, request: Request) -> dict[str, Any]:
        view, suite = self.view(request), request.query_params["suite"]
        return {"suite": suite, "rows": view.problem_rows(suite)}

    def problem(self, request: Request) -> dict[str, Any]:
        q = request.query_params
        return self.view(request).problem(q["suite"], q["pid"])

    def sample(self, request: Request) -> dict[str, Any]:
        q = request.query_params
        return self.view(request).sample(q["suite"], q["pid"], int(q["sample"]))

    def search(self, request: Request) -> dict[str, Any]:
        q = request.query_params
        return self.view(request).search(q["suite"], q.get("q", ""))

    def diff(self, request: Request) -> dict[str, Any]:
        if len(self.views) != 2:
            raise HarnessError("diff: give two run directories")
        from reports.view.diff import diff  # reports.gate pulls in scipy: only when a diff is asked for

        for view in self.views:
            view.refresh()
        return diff(*self.views)

    def plot(self, request: Request) -> Response:
        view, name = self.view(request), request.path_params["name"]
        if name not in PLOTS:
            return Response("no such plot", status_code=404)
        index = self.views.index(view)
        out = self.scratch / f"{index}-{name}-{view.index.generations.state}-{view.index.grades.state}.png".replace(" ", "")
        if not out.exists() and plot(view, name, out) is None:
            return Response("no data for this plot", status_code=404)
        return FileResponse(out, media_type="image/png")


def json_endpoint(handler: Callable[[Request], dict[str, Any]]):
    async def endpoint(request: Request) -> Response:
        try:
            return JSONResponse(handler(request), headers=SECURITY_HEADERS)
        except (HarnessError, KeyError, ValueError) as exc:
            return JSONResponse({"error": str(exc)}, status_code=404, headers=SECURITY_HEADERS)
    return endpoint


def build_app(paths: Sequence[Path]) -> Starlette:
    viewer = Viewer(paths)
    title = " vs ".join(view.path.name for view in viewer.views)
    html = page("served", title)

    async def index(request: Request) -> Response:
        return HTMLResponse(html, headers=SECURITY_HEADERS)

    async def plot_endpoint(request: Request) -> Response:
        try:
            return viewer.plot(request)
        except HarnessError as exc:
            return Response(str(exc), status_code=404)

    routes = [Route("/", index),
              *(Route(f"/api/{name}", json_endpoint(getattr(viewer, name)))
                for name in ("runs", "problems", "problem", "sample", "search", "diff")),
              Route("/plot/{name}.png", plot_endpoint),
              Mount("/static", StaticFiles(directory=STATIC), name="static")]
    app = Starlette(routes=routes)
    app.state.viewer = viewer
    return app
