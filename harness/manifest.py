"""What a manifest records beyond the run's identity: versions, host, git commit, times."""
from __future__ import annotations

import datetime as dt
import os
import platform
import shutil
import subprocess
import sys
from importlib import metadata
from pathlib import Path
from typing import Any

import harness
from harness.schema import SCHEMA_VERSION

TRACKED_PACKAGES = (
    "ssp-harness", "torch", "transformers", "accelerate", "gguf", "math-verify", "latex2sympy2_extended",
    "sympy", "numpy", "pandas", "pyarrow", "datasets", "vllm", "openai", "docker", "ray", "lm-eval",
)


def now() -> str:
    return dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")


def package_versions() -> dict[str, str | None]:
    versions: dict[str, str | None] = {}
    for name in TRACKED_PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = None
    return versions


def git_commit() -> str | None:
    root = Path(harness.__file__).resolve().parent.parent
    if not (root / ".git").exists():
        return None
    try:
        out = subprocess.run(["git", "-C", str(root), "rev-parse", "HEAD"], capture_output=True, text=True, timeout=5)
        dirty = subprocess.run(["git", "-C", str(root), "status", "--porcelain", "--untracked-files=no"],
                               capture_output=True, text=True, timeout=5)
    except (OSError, subprocess.TimeoutExpired):
        return None
    commit = out.stdout.strip() or None
    return f"{commit}-dirty" if commit and dirty.stdout.strip() else commit


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def gpu_names() -> list[str]:
    if not shutil.which("nvidia-smi"):
        return []
    try:
        out = subprocess.run(["nvidia-smi", "--query-gpu=name", "--format=csv,noheader"],
                             capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.TimeoutExpired):
        return []
    return [line.strip() for line in out.stdout.splitlines() if line.strip()]


def host_info() -> dict[str, Any]:
    return {
        "hostname": platform.node(),
        "platform": platform.platform(),
        "python": sys.version.split()[0],
        "cpu": cpu_model(),
        "cores": os.cpu_count(),
        "gpus": gpu_names(),
    }


SECRET_FLAGS = ("--api-key",)


def redacted_command(argv: list[str]) -> list[str]:
    """The command line with secrets (API keys) replaced, so manifests can be shared."""
    out = []
    for index, arg in enumerate(argv):
        if index > 0 and argv[index - 1] in SECRET_FLAGS:
            arg = "<redacted>"
        elif arg.split("=", 1)[0] in SECRET_FLAGS and "=" in arg:
            arg = arg.split("=", 1)[0] + "=<redacted>"
        out.append(arg)
    return out


def base_manifest(kind: str, identity: dict[str, Any]) -> dict[str, Any]:
    return {
        "schema_version": SCHEMA_VERSION,
        "kind": kind,
        "identity": identity,
        "harness": {"version": harness.__version__, "git_commit": git_commit()},
        "command": redacted_command(sys.argv),
        "packages": package_versions(),
        "host": host_info(),
        "started_at": now(),
        "finished_at": None,
        "sessions": [],
    }
