"""The suite registry: a plain dict from name to Suite. Importing a suite module is cheap."""
from __future__ import annotations

import importlib

from harness.errors import HarnessError
from harness.sampling import Sampling
from suites.base import Problem, Suite, Verdict

# name -> module that defines SUITE; modules are imported on first use.
SUITE_MODULES = {
    "aime24": "suites.aime24",
    "aime25": "suites.aime25",
    "hmmt25": "suites.hmmt25",
    "math500": "suites.math500",
    "gpqa_diamond": "suites.gpqa_diamond",
    "lcb_v5": "suites.lcb_v5",
    "lcb_v6": "suites.lcb_v6",
    "lcb_custom": "suites.lcb_custom",
}
# name prefix -> module whose suite_named(name) builds the suite: resolvable by name, not listed as
# benchmarks (training's generated toy subdomains, suites/toy_math.py and suites/toy_code.py); the
# longest matching prefix wins
SUITE_FAMILIES = {"toy_": "suites.toy_math", "toy_code_": "suites.toy_code"}


def register(name: str, module: str) -> None:
    """Add a suite defined outside this package: `module` (importable) defines `SUITE` named `name`.
    The CLI, the comparability rule and the reports see it like a shipped suite (docs/extending.md)."""
    if name in SUITE_MODULES and SUITE_MODULES[name] != module:
        raise HarnessError(f"suite {name}: already registered by {SUITE_MODULES[name]}")
    SUITE_MODULES[name] = module


def suite_names() -> list[str]:
    return list(SUITE_MODULES)


def get_suite(name: str) -> Suite:
    family = next((SUITE_FAMILIES[prefix] for prefix in sorted(SUITE_FAMILIES, key=len, reverse=True)
                   if name.startswith(prefix) and len(name) > len(prefix)), None)
    if family and name not in SUITE_MODULES:
        return importlib.import_module(family).suite_named(name)
    if name not in SUITE_MODULES:
        raise HarnessError(f"--suite {name}: unknown suite (known: {', '.join(SUITE_MODULES)})")
    suite = importlib.import_module(SUITE_MODULES[name]).SUITE
    if suite.name != name:
        raise HarnessError(f"suite {name}: {SUITE_MODULES[name]}.SUITE is named {suite.name}")
    return suite


def parse_suite_list(text: str) -> list[Suite]:
    names = [part.strip() for part in text.split(",") if part.strip()]
    if not names:
        raise HarnessError("--suite: no suite named")
    repeated = sorted({name for name in names if names.count(name) > 1})
    if repeated:
        raise HarnessError(f"--suite {text}: {', '.join(repeated)} named more than once")
    return [get_suite(name) for name in names]


__all__ = ["Problem", "Sampling", "Suite", "Verdict", "get_suite", "parse_suite_list", "register", "suite_names"]
