"""No isolation at all: programs run as this user on this machine, with rlimits only.

For unit tests and trusted code. `get_backend("local")` refuses unless the caller passes the
explicit unsafe flag (`--sandbox local --unsafe-local-sandbox`).
"""
from __future__ import annotations

import shutil
import sys
import tempfile

from sandbox.process import ProcessWorker, session_rlimits
from sandbox.result import Limits, RunResult
from sandbox.session import ZYGOTE, SessionPool

ENV = {"PATH": "/usr/bin:/bin", "OMP_NUM_THREADS": "1", "PYTHONHASHSEED": "0", "PYTHONDONTWRITEBYTECODE": "1",
       "LANG": "C.UTF-8"}


class LocalWorker(ProcessWorker):
    def __init__(self, limits: Limits):
        self.workdir = tempfile.mkdtemp(prefix="ssp-local-")
        super().__init__([sys.executable, "-I", "-c", ZYGOTE], "local", self.workdir,
                         session_rlimits(limits, count_processes=False), env=ENV, cwd=self.workdir)

    def close(self) -> None:
        super().close()
        shutil.rmtree(self.workdir, ignore_errors=True)


class LocalBackend:
    name = "local"

    def __init__(self, workers: int = 2):
        self.pool = SessionPool(LocalWorker, workers)

    def describe(self) -> dict:
        return {"backend": self.name, "python": sys.executable, "isolation": "none"}

    def run(self, program: str, stdin: bytes, limits: Limits) -> RunResult:
        return self.pool.run(program, stdin, limits)

    def close(self) -> None:
        self.pool.close()
