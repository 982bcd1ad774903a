"""The Python API: `harness.evaluate`, `harness.grade`, `harness.load_run` (docs/python-api.md).

The CLI's `eval` and `grade` are thin layers over these functions: the same run directory, the
same resume rule, the same errors (`harness.errors.HarnessError`, one sentence naming what is
wrong). `evaluate` and `grade` return what they write to metrics.json (one dict per suite);
`load_run` returns the `reports.runs.SuiteRun`s the leaderboard and the gate read.

Settings are given by their declared names (`harness.settings`): sampling fields of
`harness.sampling.SAMPLING_SETTINGS` (`n`, `temperature`, `top_p`, `top_k`, `max_tokens`, `seed`),
suite options of `Suite.settings` (`think`, `option_order`, ...), backend options of the backend's
`INFO.options` (`batch_size`, `concurrency`, ...). Heavy modules are imported inside the
functions, so `import harness` stays cheap.
"""
from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Iterable, Mapping, Sequence

from harness.errors import HarnessError

if TYPE_CHECKING:
    from harness.pipeline import SuitePlan
    from reports.runs import SuiteRun
    from suites.base import Suite

Metrics = list[dict[str, Any]]  # the metrics.json objects, one per suite
SUITE_KEYS = ("limit", "data")  # per-suite keys beyond the sampling fields and the suite's options


def _suites(suites: str | Sequence[str]) -> list["Suite"]:
    from suites import parse_suite_list

    return parse_suite_list(suites if isinstance(suites, str) else ",".join(suites))


def _ks(k: int | Iterable[int]) -> list[int]:
    values = [k] if isinstance(k, int) else list(k)
    if not values or any(isinstance(v, bool) or not isinstance(v, int) for v in values):
        raise HarnessError(f"k {k!r}: expected integers, e.g. [1, 4, 8]")
    return sorted(set(values))


def declared_suite_options():
    """Every option any registered suite declares, one declaration per name."""
    from harness.settings import union
    from suites import get_suite, suite_names

    return union(get_suite(name).settings for name in suite_names())


def check_options(options: Mapping[str, Any], suites: Sequence["Suite"], where: str = "options") -> None:
    """Every option is declared by at least one of the suites (its name, or which suites it fits)."""
    for name in options:
        if not any(suite.settings.get(name) for suite in suites):
            known = [item.name for item in declared_suite_options()]
            detail = (f"does not apply to {', '.join(s.name for s in suites)}" if name in known
                      else f"unknown suite option (known: {', '.join(sorted(known))})")
            raise HarnessError(f"{where} {name}: {detail}")


def plan_suites(suites: str | Sequence[str], *, sampling: Mapping[str, Any] | None = None, limit: int | None = None,
                data: str | Path | None = None, options: Mapping[str, Any] | None = None,
                suite_overrides: Mapping[str, Mapping[str, Any]] | None = None,
                controls: Any = None) -> list["SuitePlan"]:
    """One validated `SuitePlan` per suite: its published protocol with the given sampling, options,
    limit and data, then that suite's own overrides (`suite_overrides[name]`, same keys) on top."""
    from harness.pipeline import plan_suite
    from harness.sampling import SAMPLING_SETTINGS

    chosen = _suites(suites)
    options = {k: v for k, v in (options or {}).items() if v is not None}
    check_options(options, chosen)
    if data is not None and len(chosen) > 1:
        raise HarnessError("data: give one suite when supplying its data (or suite_overrides[SUITE]['data'])")
    overrides = dict(suite_overrides or {})
    unknown = sorted(set(overrides) - {suite.name for suite in chosen})
    if unknown:
        raise HarnessError(f"suite_overrides {', '.join(unknown)}: not among the suites {', '.join(s.name for s in chosen)}")
    sampling_names = set(SAMPLING_SETTINGS.names())
    bad_sampling = sorted(set(sampling or {}) - sampling_names)
    if bad_sampling:
        raise HarnessError(f"sampling {', '.join(bad_sampling)}: unknown (known: {', '.join(SAMPLING_SETTINGS.names())})")
    plans = []
    for suite in chosen:
        own = {k: v for k, v in (overrides.get(suite.name) or {}).items() if v is not None}
        for key in own:
            if key not in sampling_names and key not in SUITE_KEYS and not suite.settings.get(key):
                raise HarnessError(f"suite_overrides[{suite.name}] {key}: not a sampling field, suite key "
                                   f"({', '.join(SUITE_KEYS)}) or option of {suite.name}")
        given = {**{k: v for k, v in (sampling or {}).items() if v is not None},
                 **{k: v for k, v in own.items() if k in sampling_names}}
        suite_options = {**options, **{k: v for k, v in own.items() if suite.settings.get(k)}}
        suite_data = own.get("data", data)
        plans.append(plan_suite(suite, suite_options, suite.protocol.override(**{"seed": 0, **given}),
                                own.get("limit", limit), Path(suite_data) if suite_data is not None else None,
                                controls))
    return plans


def check_backend_options(backend: str, options: Mapping[str, Any] | None) -> dict[str, Any]:
    from harness.backends import backend_info

    info = backend_info(backend)  # an unknown backend is named first
    checked = {}
    for name, value in (options or {}).items():
        if value is None:
            continue
        item = next((item for item in info.options if item.name == name), None)
        if item is None:
            known = ", ".join(item.name for item in info.options) or "none"
            raise HarnessError(f"backend_options {name}: not an option of backend {backend} (known: {known})")
        checked[name] = item.validate(value, f"backend_options {name}")
    return checked


class _Executor:
    """An executor given by name (opened and closed here) or as an object (the caller's)."""

    def __init__(self, executor: Any, options: Mapping[str, Any] | None):
        self.given, self.options, self.opened = executor, dict(options or {}), None

    def __enter__(self):
        if self.given is None or isinstance(self.given, str):
            from harness.executors import make_executor

            self.opened = make_executor(self.given or "local", **self.options)
            return self.opened.__enter__()
        return self.given

    def __exit__(self, *exc: object) -> None:
        if self.opened is not None:
            self.opened.__exit__(*exc)


def evaluate(model: str, suites: str | Sequence[str], out: str | Path, *, backend: str = "hf",
             n: int | None = None, temperature: float | None = None, top_p: float | None = None,
             top_k: int | None = None, max_tokens: int | None = None, seed: int | None = None,
             limit: int | None = None, k: int | Iterable[int] = (1,), data: str | Path | None = None,
             options: Mapping[str, Any] | None = None,
             suite_overrides: Mapping[str, Mapping[str, Any]] | None = None,
             backend_options: Mapping[str, Any] | None = None,
             prompt: Mapping[str, Any] | None = None,
             executor: Any = None, executor_options: Mapping[str, Any] | None = None,
             name: str | None = None, log: Callable[[str], None] = print) -> Metrics:
    """Generate, grade and score `suites` with `model` into the run directory `out` (resumable).

    Sampling defaults to each suite's published protocol; `options` are suite options by name
    (each must apply to at least one suite); `suite_overrides={"gpqa_diamond": {"n": 8}}` sets
    sampling fields, options, `limit` or `data` for one suite. `executor` is "local" (default),
    "ray" (with `executor_options`, e.g. {"num_workers": 2}) or an executor object. `name` is the
    model's name in metrics.json and reports (default: `model`). `prompt` holds prompt controls by
    their declared names (harness.prompting.PROMPT_SETTINGS: system_prompt, assistant_prefill,
    stop, think_budget, ...). Returns the metrics.json objects (one per suite)."""
    from harness.backends import make_backend, prompt_renderer
    from harness.pipeline import EvalSpec, evaluate as run_pipeline
    from harness.prompting import controls_from_given

    sampling = {"n": n, "temperature": temperature, "top_p": top_p, "top_k": top_k, "max_tokens": max_tokens,
                "seed": seed}
    controls = controls_from_given(dict(prompt or {}))
    plans = plan_suites(suites, sampling=sampling, limit=limit, data=data, options=options,
                        suite_overrides=suite_overrides, controls=controls)
    chosen = check_backend_options(backend, backend_options)
    renderer = prompt_renderer(backend, model, chosen, controls)
    for plan in plans:
        plan.render(renderer)
    spec = EvalSpec(plans=plans, model=model, backend=backend, out=Path(out), ks=_ks(k),
                    backend_options=chosen, name=name)
    with _Executor(executor, executor_options) as running:
        return run_pipeline(spec, make_backend, log=log, executor=running)


# ----------------------------------------------------------------------------------- grading

def source_run(generations: Path):
    """The run directory whose generations.jsonl this file is, if any."""
    from harness.rundir import GENERATIONS, RunDir

    run = RunDir(generations.parent)
    return run if generations.name == GENERATIONS and run.exists() else None


def recorded_entry(source, suite: "Suite") -> dict[str, Any]:
    entry = next((e for e in source.manifest().get("suites", []) if e.get("name") == suite.name), None)
    if entry is None:
        raise HarnessError(f"--suite {suite.name}: the run {source.path} has no such suite")
    return entry


def options_of_run(entry: dict[str, Any], suite: "Suite", given: dict[str, Any], source) -> dict[str, Any]:
    """The run's recorded options (bar where work runs), with any contradicting option refused."""
    from harness.settings import Role

    recorded = {name: value for name, value in (entry.get("options") or {}).items()
                if suite.settings.role_of(name) is not Role.PLACE}
    for name, value in given.items():
        if name in recorded and recorded[name] != value:
            flag = suite.settings.get(name).flag
            raise HarnessError(f"{flag} {value}: {source.path} was made with {name}={recorded[name]}; its "
                               "generations are graded with the run's own options (drop the flag)")
    return {**recorded, **given}


def grade(generations: str | Path, suite: str, out: str | Path, *, k: int | Iterable[int] = (1,),
          model: str | None = None, options: Mapping[str, Any] | None = None, data: str | Path | None = None,
          allow_ragged: bool = False, executor: Any = None,
          executor_options: Mapping[str, Any] | None = None) -> Metrics:
    """Grade a generations file without a model into the run directory `out` (resumable).

    When `generations` is a run directory's own generations.jsonl, the run's recorded options are
    used (a contradicting option is refused), and `out` equal to that run finishes it in place.
    Returns the metrics.json objects."""
    from harness.pipeline import finish_in_place, plan_suite, regrade
    from suites import get_suite

    generations, out = Path(generations), Path(out)
    chosen = get_suite(suite)
    options = {k_: v for k_, v in (options or {}).items() if v is not None}
    check_options(options, [chosen])
    options = {name: chosen.settings.get(name).validate(value) for name, value in options.items()}
    source = source_run(generations)
    entry = recorded_entry(source, chosen) if source else None
    if source:
        options = options_of_run(entry, chosen, options, source)
    ks = _ks(k)
    with _Executor(executor, executor_options) as running:
        if source and out.resolve() == source.path.resolve():
            return finish_in_place(source, chosen, entry, options, ks, running)
        plan = plan_suite(chosen, options, chosen.protocol, None, Path(data) if data is not None else None)
        return regrade(plan, generations, out, ks, model, running, allow_ragged=allow_ragged)


def load_run(path: str | Path) -> list["SuiteRun"]:
    """A finished run directory as the reports see it: one `SuiteRun` per suite (metrics, identity,
    grader, per-problem counts). A run written by a newer harness (schema_version) is refused."""
    from reports.runs import load_run as load

    return load(Path(path))
