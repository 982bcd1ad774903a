"""Run files: `harness eval --config RUN.yaml` runs models x suites x settings (docs/run-files.md).

```yaml
out: runs/smoke                      # one run directory per (model, setting): out/<model>/<setting>
models: [smollm2-135m]               # or {name: base, model: DIR, backend: vllm, <backend option>: ...}
suites: [aime24, math500]            # or {name: lcb_v6, data: DIR, <sampling field or suite option>: ...}
settings: [cpu-smoke]                # named (built in), or {name: long, extends: NAMED, <keys>, suites: {S: {...}}}
k: [1]
leaderboard: {out: board, paper: [vibethinker-1.5b]}
gate: {baseline: runs/base, candidate: {model: smollm2-135m, setting: cpu-smoke}, max_drop: 1.0}
```

The file is validated with pydantic models whose fields are derived from the declarations: the
sampling fields of `harness.sampling.SAMPLING_SETTINGS`, every suite's `Suite.settings` and every
backend's `INFO.options` (types from `Setting.kind`, values then checked by `Setting.validate`), so
a new option is accepted in run files with no change here. An unknown key, a wrong type or a bad
value is an error naming the file, the line and the key path (`RUN.yaml:7: suites[0].thnk: unknown
key`); the YAML is composed into nodes to keep line numbers (and to refuse a key given twice).

A suite's values in one (model, setting) run, later wins: the suite's entry under `suites:`, the
named setting the setting is or extends, the setting's own keys, the setting's `suites: {S: ...}`.
Each run is an ordinary `harness.api.evaluate` call, so re-running the file resumes every run.
"""
from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Iterator, Literal, Optional

from harness.errors import HarnessError
from harness.settings import Setting

# named settings any run file may use; each is a set of keys like a setting's own
BUILTIN_SETTINGS: dict[str, dict[str, Any]] = {
    "vibethinker-protocol": {},  # each suite's published protocol: n, temperature, top_p, max_tokens, all problems
    "cpu-smoke": {"limit": 1, "n": 1, "max_tokens": 16},  # a seconds-long check that the whole path works
}
DEFAULT_SETTING = "vibethinker-protocol"
SECRET_KEYS = ("api_key",)
SAFE_NAME = re.compile(r"[A-Za-z0-9._-]+")  # a model or setting name is a directory name

Path_ = tuple[Any, ...]


# ------------------------------------------------------------------------- YAML with line numbers

def load_yaml(path: Path) -> tuple[Any, dict[Path_, int]]:
    """The document and {key path: line} (a key's own line; list items: the item's line)."""
    import yaml

    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise HarnessError(f"--config {path}: no such file") from None
    loader = yaml.SafeLoader(text)
    try:
        root = loader.get_single_node()
        if root is None:
            raise HarnessError(f"{path}: empty run file")
        lines: dict[Path_, int] = {}

        def walk(node, at: Path_) -> None:
            lines.setdefault(at, node.start_mark.line + 1)
            if isinstance(node, yaml.MappingNode):
                seen: dict[Any, int] = {}
                for key_node, value_node in node.value:
                    key = loader.construct_object(key_node, deep=True)
                    line = key_node.start_mark.line + 1
                    if key in seen:
                        raise HarnessError(f"{path}:{line}: {dotted(at + (key,))}: given twice (first on line {seen[key]})")
                    seen[key] = line
                    lines[at + (key,)] = line
                    walk(value_node, at + (key,))
            elif isinstance(node, yaml.SequenceNode):
                for index, item in enumerate(node.value):
                    walk(item, at + (index,))

        walk(root, ())
        data = loader.construct_document(root)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{path}:{mark.line + 1}" if mark else str(path)
        raise HarnessError(f"{where}: not valid YAML ({getattr(exc, 'problem', None) or exc})") from None
    finally:
        loader.dispose()
    return data, lines


def dotted(at: Path_) -> str:
    out = ""
    for part in at:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "(top level)"


class Located:
    """The run file's data with the line of every key path, also after shorthands are expanded."""

    def __init__(self, path: Path, lines: dict[Path_, int]):
        self.path, self.lines = path, lines

    def line(self, at: Path_) -> int:
        for cut in range(len(at), -1, -1):
            if at[:cut] in self.lines:
                return self.lines[at[:cut]]
        return 1

    def error(self, at: Path_, message: str) -> HarnessError:
        return HarnessError(f"{self.path}:{self.line(at)}: {dotted(at)}: {message}")

    def move(self, old: Path_, new: Path_) -> None:
        """Lines of everything under `old` also answer for `new` (a shorthand expanded)."""
        if old == new:
            return
        for key, line in list(self.lines.items()):
            if key[:len(old)] == old:
                self.lines.setdefault(new + key[len(old):], line)


# ------------------------------------------------------------------------------ the declarations

def _type(item: Setting):
    if item.choices:
        return Optional[Literal[tuple(item.choices)]]  # type: ignore[valid-type]
    return Optional[item.kind]


def sampling_items() -> list[Setting]:
    from harness.sampling import SAMPLING_SETTINGS

    return list(SAMPLING_SETTINGS)


def option_items() -> list[Setting]:
    from harness.api import declared_suite_options

    return declared_suite_options()


def backend_items() -> list[Setting]:
    from harness.backends import all_backend_info
    from harness.settings import union

    return union(info.options for info in all_backend_info())


def models():
    """The pydantic models of a run file, built from the declarations (see the module docstring)."""
    from pydantic import BaseModel, ConfigDict, create_model

    config = ConfigDict(extra="forbid", strict=True)
    values = {item.name: (_type(item), None) for item in sampling_items() + option_items()}
    values["limit"] = (Optional[int], None)
    override = create_model("SuiteOverride", __config__=config, **values)
    suite = create_model("SuiteEntry", __config__=config, name=(str, ...), data=(Optional[str], None), **values)
    setting = create_model("SettingEntry", __config__=config, name=(str, ...), extends=(Optional[str], None),
                           k=(Optional[list[int]], None), suites=(dict[str, override], {}), **values)
    model = create_model("ModelEntry", __config__=config, model=(str, ...), name=(Optional[str], None),
                         backend=(str, "hf"), **{item.name: (_type(item), None) for item in backend_items()})

    class RunRef(BaseModel):
        model_config = config
        path: Optional[str] = None
        model: Optional[str] = None
        setting: Optional[str] = None

    class Leaderboard(BaseModel):
        model_config = config
        out: Optional[str] = None
        paper: list[str] = []
        paper_models: Optional[list[str]] = None
        title: str = "Leaderboard"

    class Gate(BaseModel):
        model_config = config
        baseline: RunRef
        candidate: RunRef
        max_drop: float = 1.0
        alpha: float = 0.05
        suites: Optional[list[str]] = None
        json_out: Optional[str] = None
        summary: Optional[str] = None

    class RunFileModel(BaseModel):
        model_config = config
        out: str
        models: list[model]  # type: ignore[valid-type]
        suites: list[suite]  # type: ignore[valid-type]
        settings: list[setting] = [setting(name=DEFAULT_SETTING)]  # type: ignore[valid-type]
        k: list[int] = [1]
        leaderboard: Optional[Leaderboard] = None
        gate: Optional[Gate] = None

    return RunFileModel


# ---------------------------------------------------------------------------- shorthand forms

def _named_list(value: Any, field: str, key: str, located: Located) -> Any:
    """`a,b` | [a, {key: b, ...}] | {a: null, b: {...}} (a mapping keyed by name) -> [{key: a}, {key: b, ...}]."""
    if isinstance(value, str):
        value = [part.strip() for part in value.split(",") if part.strip()]
        for index in range(len(value)):
            located.move((field,), (field, index))
    if isinstance(value, dict):
        items = []
        for index, (name, body) in enumerate(value.items()):
            located.move((field, name), (field, index))
            if isinstance(body, str) and key == "model":
                items.append({"name": name, "model": body})
            else:
                items.append({"name": name, **(body or {})} if body is None or isinstance(body, dict) else body)
        return items
    if isinstance(value, list):
        return [{key: item} if isinstance(item, str) else item for item in value]
    return value


def expand(data: Any, located: Located) -> Any:
    if not isinstance(data, dict):
        raise HarnessError(f"{located.path}:1: a run file is a mapping (out:, models:, suites:, settings:)")
    data = dict(data)
    for field, key in (("models", "model"), ("suites", "name"), ("settings", "name")):
        if field in data:
            data[field] = _named_list(data[field], field, key, located)
    if isinstance(data.get("k"), (int, str)) and not isinstance(data.get("k"), bool):
        data["k"] = [int(p) for p in str(data["k"]).split(",") if p.strip().lstrip("-").isdigit()] or data["k"]
    for index, setting in enumerate(data.get("settings") or []):
        if isinstance(setting, dict) and isinstance(setting.get("k"), int) and not isinstance(setting["k"], bool):
            setting["k"] = [setting["k"]]
        if isinstance(setting, dict) and isinstance(setting.get("suites"), dict):
            setting["suites"] = {name: body or {} for name, body in setting["suites"].items()}
    gate = data.get("gate")
    if isinstance(gate, dict):
        gate = dict(gate)
        if "json" in gate:
            gate["json_out"] = gate.pop("json")
            located.move(("gate", "json"), ("gate", "json_out"))
        for side in ("baseline", "candidate"):
            if isinstance(gate.get(side), str):
                gate[side] = {"path": gate[side]}
        data["gate"] = gate
    return data


# --------------------------------------------------------------------------------- the run file

class RunFile:
    """A validated run file: its runs (model x setting), each with its suites' values."""

    def __init__(self, path: Path, parsed: Any, located: Located, out: Path):
        self.path, self.parsed, self.located, self.out = path, parsed, located, out

    @property
    def model_names(self) -> list[str]:
        return [model_name(entry) for entry in self.parsed.models]

    @property
    def setting_names(self) -> list[str]:
        return [entry.name for entry in self.parsed.settings]

    def run_path(self, model: str, setting: str) -> Path:
        return self.out / model / setting

    def runs(self) -> Iterator[tuple[Any, Any, Path]]:
        """(model entry, setting entry, run directory) for every run, models first."""
        for entry in self.parsed.models:
            for setting in self.parsed.settings:
                yield entry, setting, self.run_path(model_name(entry), setting.name)

    def suite_values(self, setting: Any) -> dict[str, dict[str, Any]]:
        """suite name -> every key that run sets for it (sampling fields, options, limit, data)."""
        base = BUILTIN_SETTINGS.get(setting.extends or setting.name, {})
        own = setting.model_dump(exclude={"name", "extends", "k", "suites"}, exclude_none=True)
        values = {}
        for suite in self.parsed.suites:
            entry = suite.model_dump(exclude={"name"}, exclude_none=True)
            specific = setting.suites.get(suite.name)
            specific = specific.model_dump(exclude_none=True) if specific is not None else {}
            merged = {**entry, **base, **own, **specific}
            # a setting-wide option goes only to the suites that declare it
            values[suite.name] = {key: value for key, value in merged.items()
                                  if key in ("limit", "data") or key in sampling_names() or _suite(suite.name).settings.get(key)}
        return values

    def ks(self, setting: Any) -> list[int]:
        return setting.k or self.parsed.k

    def run_ref(self, side: str) -> Path:
        ref = getattr(self.parsed.gate, side)
        at = ("gate", side)
        if ref.path is not None:
            if ref.model is not None or ref.setting is not None:
                raise self.located.error(at, "give either path or model (and setting), not both")
            return Path(ref.path)
        if ref.model is None:
            raise self.located.error(at, "give path: RUN_DIR or model: NAME (and setting: NAME)")
        if ref.model not in self.model_names:
            raise self.located.error(at + ("model",), f"{ref.model!r} is not a model of this file "
                                     f"({', '.join(self.model_names)})")
        setting = ref.setting
        if setting is None:
            if len(self.setting_names) > 1:
                raise self.located.error(at, f"name the setting ({', '.join(self.setting_names)})")
            setting = self.setting_names[0]
        if setting not in self.setting_names:
            raise self.located.error(at + ("setting",), f"{setting!r} is not a setting of this file "
                                     f"({', '.join(self.setting_names)})")
        return self.run_path(ref.model, setting)


def sampling_names() -> set[str]:
    return {item.name for item in sampling_items()}


def _suite(name: str):
    from suites import get_suite

    return get_suite(name)


def model_name(entry: Any) -> str:
    """The run directory's model part: `name`, else the last part of the model spec."""
    return entry.name or Path(entry.model.rstrip("/")).name or entry.model


def load_run_file(path: Path | str, out: Path | str | None = None) -> RunFile:
    """Parse and validate RUN.yaml (errors name file, line and key); `out` replaces its `out:`."""
    from pydantic import ValidationError

    path = Path(path)
    data, lines = load_yaml(path)
    located = Located(path, lines)
    data = expand(data, located)
    try:
        parsed = models().model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        at = tuple(part for part in first["loc"] if part not in ("function-after", "literal"))
        message = "unknown key" if first["type"] == "extra_forbidden" else f"{first['msg']} (got {first['input']!r})"
        if first["type"] == "missing":
            message = "required key missing"
        more = f" (and {exc.error_count() - 1} more)" if exc.error_count() > 1 else ""
        raise located.error(at, message + more) from None
    run_file = RunFile(path, parsed, located, Path(out) if out is not None else Path(parsed.out))
    check(run_file)
    return run_file


def check(run_file: RunFile) -> None:
    """What the types cannot say: names exist, options apply to their suites, values are in range."""
    from harness.backends import BACKEND_MODULES, backend_info
    from harness.sampling import SAMPLING_SETTINGS

    parsed, located = run_file.parsed, run_file.located
    declared = {item.name: item for item in option_items()}
    limit = Setting("limit", None, "", kind=int, check=lambda v: None if v >= 1 else "must be >= 1")

    def values(body: dict[str, Any], at: Path_, suites: list[Any]) -> None:
        for key, value in body.items():
            if value is None or key in ("name", "data", "extends", "k", "suites"):
                continue
            item = SAMPLING_SETTINGS.get(key) or (limit if key == "limit" else None)
            if item is None:
                item = declared[key]
                if not any(suite.settings.get(key) for suite in suites):
                    raise located.error(at + (key,), f"does not apply to {', '.join(s.name for s in suites)}")
            try:
                item.validate(value, "got")
            except HarnessError as exc:
                raise located.error(at + (key,), str(exc).strip()) from None

    if not parsed.models:
        raise located.error(("models",), "no models")
    if not parsed.suites:
        raise located.error(("suites",), "no suites")
    suites = []
    for index, entry in enumerate(parsed.suites):
        from suites import suite_names

        if entry.name not in suite_names():
            raise located.error(("suites", index, "name"), f"unknown suite {entry.name!r} (known: {', '.join(suite_names())})")
        suites.append(_suite(entry.name))
        values(entry.model_dump(), ("suites", index), [suites[-1]])
    names = [s.name for s in suites]
    if len(set(names)) < len(names):
        repeated = next(name for name in names if names.count(name) > 1)
        raise located.error(("suites", len(names) - 1 - names[::-1].index(repeated)), f"{repeated} given twice")
    for index, setting in enumerate(parsed.settings):
        at = ("settings", index)
        own = setting.model_dump(exclude={"name", "extends", "k", "suites"}, exclude_none=True)
        if setting.extends is not None and setting.extends not in BUILTIN_SETTINGS:
            raise located.error(at + ("extends",), f"unknown named setting {setting.extends!r} "
                                f"(built in: {', '.join(BUILTIN_SETTINGS)})")
        if setting.extends is None and setting.name not in BUILTIN_SETTINGS and not (own or setting.suites or setting.k):
            raise located.error(at, f"unknown named setting {setting.name!r} (built in: {', '.join(BUILTIN_SETTINGS)}; "
                                "or give its keys, e.g. {name: mine, extends: vibethinker-protocol, n: 8})")
        values(own, at, suites)
        for name, body in setting.suites.items():
            if name not in names:
                raise located.error(at + ("suites", name), f"not a suite of this file ({', '.join(names)})")
            values(body.model_dump(), at + ("suites", name), [suites[names.index(name)]])
    for k in parsed.k:
        if k < 1:
            raise located.error(("k",), f"{k}: each k must be >= 1")
    for index, setting in enumerate(parsed.settings):  # pass@k needs k <= n in every suite of every run
        for name, suite_values in run_file.suite_values(setting).items():
            n = suite_values.get("n", suites[names.index(name)].protocol.n)
            for k in run_file.ks(setting):
                if k > n or k < 1:
                    at = ("settings", index, "k") if setting.k else ("k",)
                    raise located.error(at, f"{k}: each k must be in 1..n (setting {setting.name} samples "
                                        f"n={n} of {name})")
    setting_names = run_file.setting_names
    if len(set(setting_names)) < len(setting_names):
        raise located.error(("settings",), "two settings with the same name")
    for index, entry in enumerate(parsed.models):
        at = ("models", index)
        if entry.backend not in BACKEND_MODULES:
            raise located.error(at + ("backend",), f"unknown backend {entry.backend!r} (known: {', '.join(BACKEND_MODULES)})")
        own = {item.name: item for item in backend_info(entry.backend).options}
        for key, value in entry.model_dump(exclude={"model", "name", "backend"}, exclude_none=True).items():
            if key not in own:
                raise located.error(at + (key,), f"does not apply to backend {entry.backend}")
            if key in SECRET_KEYS:
                raise located.error(at + (key,), "a secret does not belong in a run file; set OPENAI_API_KEY")
            try:
                own[key].validate(value, "got")
            except HarnessError as exc:
                raise located.error(at + (key,), str(exc).strip()) from None
    model_names = run_file.model_names
    for field, names_ in (("models", model_names), ("settings", setting_names)):
        for index, name in enumerate(names_):
            if not SAFE_NAME.fullmatch(name) or name in (".", ".."):
                raise located.error((field, index), f"{name!r}: a run directory name needs letters, digits, '.', "
                                    "'_' or '-' only; give a name:")
    if len(set(model_names)) < len(model_names):
        repeated = next(name for name in model_names if model_names.count(name) > 1)
        raise located.error(("models",), f"two models named {repeated!r}; give each a name:")
    if parsed.gate is not None:
        run_file.run_ref("baseline"), run_file.run_ref("candidate")
        for index, name in enumerate(parsed.gate.suites or []):
            if name not in names:
                raise located.error(("gate", "suites", index), f"not a suite of this file ({', '.join(names)})")


def backend_options_of(entry: Any) -> dict[str, Any]:
    return entry.model_dump(exclude={"model", "name", "backend"}, exclude_none=True)


def evaluate_file(run_file: RunFile, executor: Any = None,
                  log=print) -> Iterator[tuple[Path, list[dict[str, Any]]]]:
    """Run (or resume) every (model, setting) of the file; yields each run's directory and metrics."""
    from harness.api import evaluate

    suites = [suite.name for suite in run_file.parsed.suites]
    for entry, setting, path in run_file.runs():
        log(f"run {model_name(entry)} x {setting.name}: {path}")
        metrics = evaluate(entry.model, suites, path, backend=entry.backend, k=run_file.ks(setting),
                           suite_overrides=run_file.suite_values(setting), backend_options=backend_options_of(entry),
                           executor=executor, name=entry.name, log=log)
        yield path, metrics


def run_directories(run_file: RunFile) -> list[Path]:
    """Every run directory of the file, each finished (for `report leaderboard --config`)."""
    paths = [path for _, _, path in run_file.runs()]
    missing = [path for path in paths if not (path / "metrics.json").is_file()]
    if missing:
        raise HarnessError(f"--config {run_file.path}: {len(missing)} of {len(paths)} runs not finished "
                           f"(e.g. {missing[0]}); run `harness eval --config {run_file.path}` first")
    return paths
