"""The Docker SDK client both the image builder and the container pool use (one place, one error)."""
from __future__ import annotations

from harness.errors import HarnessError


def client(timeout: int = 3600):
    import docker

    try:
        handle = docker.from_env(timeout=timeout)
        handle.ping()
        return handle
    except Exception as exc:
        raise HarnessError(f"docker: no daemon answers ({exc.__class__.__name__}: {str(exc)[:160]})") from exc
