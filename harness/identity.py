"""The one definition of "comparable": which recorded settings must be equal, derived from declarations.

Input is what a manifest records per suite (`SuitePlan.identity()`: name, version, data sha256,
problems, grader, options, sampling). Each option and sampling field is classified by its declared
`harness.settings.Role`, so nothing here names an option:

- `comparable_identity`: MEASURE fields, plus suite version, data, problem set and grader. Two
  numbers of a suite are comparable iff these are equal: the leaderboard, the gate and the paper
  report all call it (through `reports.runs.SuiteRun.comparability`).
- `sample_identity`: the same plus SAMPLE fields (the seed). A resume is allowed iff these, the
  model and the backend are equal (`run_identity`), so changing only a PLACE setting such as the
  sandbox resumes.
Imported generations (`kind: grade`) have unknown sampling apart from n: those fields are None.
An option a manifest does not record counts as its declared default.

Prompts (`harness.prompting`): every `prompt.*` control by its declared role, plus
`messages_sha256` (the messages as sent, system prompt applied: model-independent, so two models
on one protocol stay comparable). The rendered prompts' digest (`rendered_prompts_sha256`, chat
template included, hence per model) is part of the resume identity only, and only when both runs
record it (runs made before it existed, and `harness grade` in place, do not); likewise a resume
does not compare `messages_sha256` with a run that predates it (the reports do: conservative).
"""
from __future__ import annotations

import hashlib
import json
from typing import Any, Iterable

from harness.errors import HarnessError
from harness.prompting import PROMPT_SETTINGS
from harness.sampling import SAMPLING_SETTINGS
from harness.settings import Role, Settings

SUITE_FIELDS = ("version", "data_sha256", "problems", "problem_ids_sha256")
MESSAGES, RENDERED = "messages_sha256", "rendered_prompts_sha256"
MAX_MESSAGE = 300


def problem_ids_sha256(ids: Iterable[str]) -> str:
    """Which problems a suite ran (not only how many), so runs cut differently by --limit differ."""
    return hashlib.sha256(json.dumps(sorted(ids)).encode()).hexdigest()


def suite_settings(name: str) -> Settings:
    """The suite's declarations; an unknown suite has none, so all its options count as MEASURE."""
    from suites import get_suite

    try:
        return get_suite(name).settings
    except HarnessError:
        return Settings()


def _fields(entry: dict[str, Any], kind: str, roles: tuple[Role, ...]) -> dict[str, Any]:
    settings = suite_settings(entry.get("name", ""))
    out = {name: entry.get(name) for name in SUITE_FIELDS}
    grader = entry.get("grader") or {}
    out["grader"], out["grader_version"] = grader.get("name"), grader.get("version")
    # an option the manifest does not record is its declared default (a run made before the option
    # existed: a new option's default is the behaviour before it)
    options = settings.defaults() | (entry.get("options") or {})
    for name, value in sorted(options.items()):
        if settings.role_of(name) in roles:
            out[f"options.{name}"] = value
    sampling = entry.get("sampling") or {}
    for item in SAMPLING_SETTINGS:
        if item.role in roles:
            known = kind != "grade" or item.name == "n"
            out[f"sampling.{item.name}"] = sampling.get(item.name) if known else None
    prompt = entry.get("prompt") or {}  # not recorded: made before the controls existed, i.e. none used
    for item in PROMPT_SETTINGS:
        if item.role in roles:
            out[f"prompt.{item.name}"] = prompt.get(item.name) if kind != "grade" else None
    if kind != "grade" and entry.get(MESSAGES):
        out[MESSAGES] = entry[MESSAGES]
    if Role.SAMPLE in roles and entry.get(RENDERED):
        out[RENDERED] = entry[RENDERED]
    return out


def comparable_identity(entry: dict[str, Any], kind: str = "eval") -> dict[str, Any]:
    """Field path -> value of everything that changes what a suite's number measures."""
    return _fields(entry, kind, (Role.MEASURE,))


def sample_identity(entry: dict[str, Any], kind: str = "eval") -> dict[str, Any]:
    """`comparable_identity` plus what decides which samples are drawn (the seed)."""
    return _fields(entry, kind, (Role.MEASURE, Role.SAMPLE))


def run_identity(identity: dict[str, Any]) -> dict[str, Any]:
    """A run's resume identity, flat: kind, model, backend (or generations sha) and every suite's fields."""
    kind = identity.get("kind", "eval")
    flat = {key: value for key, value in identity.items() if key != "suites"}
    entries = identity.get("suites") or []
    flat["suites"] = [entry.get("name") for entry in entries]
    for entry in entries:
        for path, value in sample_identity(entry, kind).items():
            flat[f"suites[{entry.get('name')}].{path}"] = value
    return flat


def differences(old: dict[str, Any], new: dict[str, Any]) -> list[tuple[str, Any, Any]]:
    return [(key, old.get(key), new.get(key)) for key in sorted(old.keys() | new.keys())
            if old.get(key) != new.get(key)]


def _short(value: Any) -> str:
    text = json.dumps(value, sort_keys=True, default=str)
    return text if len(text) <= 40 else text[:37] + "..."


def describe(differing: list[tuple[str, Any, Any]], limit: int = 3) -> tuple[str, str]:
    """('a.b=1, c=2', '3, 4'): the first fields with their old and new values, short enough to read."""
    shown = differing[:limit]
    old = ", ".join(f"{key}={_short(a)}" for key, a, _ in shown)
    new = ", ".join(_short(b) for _, _, b in shown)
    more = f" (and {len(differing) - limit} more)" if len(differing) > limit else ""
    return old + more, new


def resume_refusal(out: str, previous: dict[str, Any], asked: dict[str, Any]) -> str | None:
    """The one-line refusal naming each changed field, or None when the run may resume."""
    old, new = run_identity(previous), run_identity(asked)
    # a digest only one side records (a run made before digests existed; grading in place) is not compared
    for key in {k for k in old.keys() ^ new.keys() if k.endswith((RENDERED, MESSAGES))}:
        old.pop(key, None), new.pop(key, None)
    differing = differences(old, new)
    if not differing:
        return None
    old, new = describe(differing)
    message = f"--out {out} was made with {old}; this command asks {new} (use a new --out)"
    if len(message) > MAX_MESSAGE:
        old, new = describe(differing, 1)
        message = f"--out {out} was made with {old}; this command asks {new} (use a new --out)"
    return message
