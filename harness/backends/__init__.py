"""Generation backends behind one interface (harness.backends.base.Backend).

A new backend is one module (with `INFO: BackendInfo` and `create(model, **options)`) plus one
line in BACKEND_MODULES; the CLI flags, shard cutting and Ray resource checks read `INFO`.
"""
from __future__ import annotations

import importlib

from harness.backends.base import BackendInfo
from harness.errors import HarnessError

BACKEND_MODULES = {"hf": "harness.backends.hf", "vllm": "harness.backends.vllm", "openai": "harness.backends.openai"}


def backend_module(name: str):
    if name not in BACKEND_MODULES:
        raise HarnessError(f"--backend {name}: unknown backend (known: {', '.join(BACKEND_MODULES)})")
    return importlib.import_module(BACKEND_MODULES[name])


def backend_info(name: str) -> BackendInfo:
    return backend_module(name).INFO


def all_backend_info() -> list[BackendInfo]:
    return [backend_info(name) for name in BACKEND_MODULES]


def make_backend(name: str, model: str, **options):
    return backend_module(name).create(model, **options)


def prompt_renderer(name: str, model: str, options: dict, controls):
    """The renderer of what backend `name` sends, built in this process before any model loads:
    the run identity records each rendered prompt's sha256, and `suites show --model` prints them."""
    from harness.backends.prompts import PromptRenderer
    from harness.models import load_tokenizer

    info = backend_info(name)
    refusal = info.refuses(controls, options)
    if refusal:
        raise HarnessError(refusal)
    spec = info.prompt_tokenizer(model, options)
    where = "--model" if spec == model else "--tokenizer"
    return PromptRenderer(load_tokenizer(spec, where) if spec is not None else None, controls)
