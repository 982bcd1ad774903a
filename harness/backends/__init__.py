"""Generation backends behind one interface (harness.backends.base.Backend)."""
from __future__ import annotations

import importlib

from harness.errors import HarnessError

BACKEND_MODULES = {"hf": "harness.backends.hf", "vllm": "harness.backends.vllm", "openai": "harness.backends.openai"}


def make_backend(name: str, model: str, **options):
    if name not in BACKEND_MODULES:
        raise HarnessError(f"--backend {name}: unknown backend (known: {', '.join(BACKEND_MODULES)})")
    module = importlib.import_module(BACKEND_MODULES[name])
    return module.create(model, **options)
