"""ssp-harness: reproducible evaluation and compact training stages for small reasoning models.

Python API (docs/python-api.md), imported on first use so `import harness` stays cheap:
`harness.evaluate(...)`, `harness.grade(...)`, `harness.load_run(...)`.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"
__all__ = ["evaluate", "grade", "load_run", "__version__"]

if TYPE_CHECKING:
    from harness.api import evaluate, grade, load_run


def __getattr__(name: str) -> Any:
    if name in ("evaluate", "grade", "load_run"):
        # imported on first use, by name: the package root sits below every layer (harness.manifest
        # reads __version__), so it must not import the API layer statically
        import importlib

        return getattr(importlib.import_module("harness.api"), name)
    raise AttributeError(f"module 'harness' has no attribute {name!r}")
