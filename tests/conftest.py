import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
SHARED = REPO.parent / "shared"

os.environ.setdefault("HARNESS_PROGRESS", "off")
os.environ.setdefault("HF_HUB_OFFLINE", "1")


def run_harness(*args: str, timeout: float = 600, env: dict | None = None) -> subprocess.CompletedProcess:
    """The real CLI in a subprocess, as a user runs it."""
    return subprocess.run([sys.executable, "-m", "harness", *args], capture_output=True, text=True,
                          timeout=timeout, cwd=REPO, env={**os.environ, **(env or {})})


@pytest.fixture(scope="session")
def shared_dir() -> Path:
    if not SHARED.is_dir():
        pytest.skip(f"{SHARED} (the shared material beside the repo) is not present")
    return SHARED


def docker_skip_reason() -> str | None:
    """Why Docker tests cannot run here, or None (a daemon answers and the sandbox image exists)."""
    from harness.errors import HarnessError
    from sandbox.docker_client import client as docker_client

    try:
        docker_client(timeout=5).images.get("ssp-harness-sandbox:current")
    except HarnessError as exc:
        return f"no Docker daemon: {exc}"
    except Exception:
        return "no sandbox image: run `harness sandbox build` (or .ci/setup-docker.sh)"
    return None


def read_jsonl(path) -> list[dict]:
    """Every object of a JSONL file (tests read what the harness wrote)."""
    import json

    return [json.loads(line) for line in Path(path).read_text(encoding="utf-8").splitlines() if line.strip()]


def free_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def spread(ids, n, low, high):
    """Problems alternate between `low` and `high` correct samples out of n: pass@1 = (low+high)/2n."""
    return {pid: [s < (low if i % 2 else high) for s in range(n)] for i, pid in enumerate(ids)}


@pytest.fixture(scope="module")
def private_cache(tmp_path_factory):
    """A cache directory of the module's own (decontamination indexes, converted models)."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("SSP_HARNESS_CACHE", str(tmp_path_factory.mktemp("cache")))
        yield


@pytest.fixture(scope="session")
def golden(shared_dir) -> Path:
    """Other people's per-sample outputs with their grades (shared/data/golden)."""
    return shared_dir / "data" / "golden"
