"""No isolation at all: the program runs as this user on this machine, with rlimits only.

For unit tests and trusted code. `get_backend("local")` refuses unless the caller passes the
explicit unsafe flag (`--sandbox local --unsafe-local-sandbox`).
"""
from __future__ import annotations

import sys
import tempfile
from pathlib import Path

from sandbox.process import rlimits, run_bounded
from sandbox.result import Limits, RunResult

ENV = {"PATH": "/usr/bin:/bin", "OMP_NUM_THREADS": "1", "PYTHONHASHSEED": "0", "PYTHONDONTWRITEBYTECODE": "1",
       "LANG": "C.UTF-8"}


class LocalBackend:
    name = "local"

    def __init__(self, workers: int = 2):
        self.workers = workers

    def describe(self) -> dict:
        return {"backend": self.name, "python": sys.executable, "isolation": "none"}

    def run(self, program: str, stdin: bytes, limits: Limits) -> RunResult:
        with tempfile.TemporaryDirectory(prefix="ssp-local-") as workdir:
            path = Path(workdir) / "program.py"
            path.write_text(program)
            return run_bounded([sys.executable, "-I", str(path)], stdin, limits, self.name,
                               preexec=rlimits(limits, count_processes=False), env=ENV, cwd=workdir)

    def close(self) -> None:
        pass
