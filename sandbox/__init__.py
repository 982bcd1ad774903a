"""Run untrusted programs: `run(program, stdin, limits) -> RunResult`, on one of three backends.

- `docker`: pooled hardened containers (sandbox.docker_pool); the default where a daemon answers;
- `bwrap`: bubblewrap namespaces, no daemon (sandbox.bwrap);
- `local`: no isolation, only with an explicit unsafe flag (sandbox.local).

Every backend runs the same program under the same Python, so results do not depend on it.
Backends are created once per process and reused (the docker pool keeps its containers warm).
"""
from __future__ import annotations

import importlib
import shutil
import threading

from harness.errors import HarnessError
from sandbox.result import Limits, RunResult

BACKEND_CLASSES = {"docker": "sandbox.docker_pool:DockerBackend", "bwrap": "sandbox.bwrap:BwrapBackend",
                   "local": "sandbox.local:LocalBackend"}
DEFAULT_WORKERS = 2
_backends: dict[tuple[str, int], object] = {}
_lock = threading.Lock()


def docker_answers() -> bool:
    try:
        from sandbox.docker_client import client

        client(timeout=5)
        return True
    except Exception:
        return False


def default_backend() -> str:
    if docker_answers():
        return "docker"
    if shutil.which("bwrap"):
        return "bwrap"
    raise HarnessError("--sandbox: neither a Docker daemon nor bwrap is available here; install docker.io "
                       "or bubblewrap (see `harness sandbox check`), or pass --sandbox local --unsafe-local-sandbox")


def get_backend(name: str | None = None, unsafe_local: bool = False, workers: int = DEFAULT_WORKERS):
    name = name or default_backend()
    if name not in BACKEND_CLASSES:
        raise HarnessError(f"--sandbox {name}: unknown backend (known: {', '.join(BACKEND_CLASSES)})")
    if name == "local" and not unsafe_local:
        raise HarnessError("--sandbox local runs untrusted code without isolation; add --unsafe-local-sandbox "
                           "to allow it")
    with _lock:
        if (name, workers) not in _backends:
            module, cls = BACKEND_CLASSES[name].split(":")
            _backends[(name, workers)] = getattr(importlib.import_module(module), cls)(workers=workers)
        return _backends[(name, workers)]


def run(program: str, stdin: bytes | str = b"", limits: Limits = Limits(), backend: str | None = None,
        unsafe_local: bool = False) -> RunResult:
    """Run a Python program with the given stdin under limits."""
    data = stdin.encode() if isinstance(stdin, str) else stdin
    return get_backend(backend, unsafe_local).run(program, data, limits)


def close_all() -> None:
    with _lock:
        backends = list(_backends.values())
        _backends.clear()
    for backend in backends:
        backend.close()


__all__ = ["Limits", "RunResult", "default_backend", "get_backend", "run", "close_all"]
