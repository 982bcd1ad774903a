"""A zygote session in a local child process (the bwrap and local backends): pipes, rlimits, and
a kill that takes the whole process group."""
from __future__ import annotations

import os
import resource
import signal
import subprocess
from typing import Callable

from sandbox.result import Limits, RunResult
from sandbox.session import ZygoteSession


def session_rlimits(limits: Limits, count_processes: bool) -> Callable[[], None]:
    """preexec_fn for the long-lived session; per-run limits (memory, wall) are the zygote's job.
    RLIMIT_NPROC counts every process of the user, so it is only for a uid of its own (bwrap.sandbox_uid)."""

    def apply() -> None:
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
        resource.setrlimit(resource.RLIMIT_FSIZE, (limits.file_size_mb << 20,) * 2)
        if count_processes:
            resource.setrlimit(resource.RLIMIT_NPROC, (limits.processes,) * 2)

    return apply


class ProcessWorker:
    def __init__(self, argv: list[str], backend: str, wipe: str | None, preexec: Callable[[], None],
                 env: dict[str, str] | None = None, cwd: str | None = None):
        self.proc = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                                     preexec_fn=preexec, start_new_session=True, env=env, cwd=cwd)
        self.session = ZygoteSession(backend, self._write, self._read_exactly, self._kill, wipe)

    def _write(self, data: bytes) -> None:
        self.proc.stdin.write(data)
        self.proc.stdin.flush()

    def _read_exactly(self, size: int) -> bytes:
        data = self.proc.stdout.read(size)
        if len(data) < size:
            raise EOFError("sandbox session ended")
        return data

    def _kill(self) -> None:
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass

    def run(self, program: str, stdin: bytes, limits: Limits) -> RunResult:
        return self.session.run(program, stdin, limits)

    def fit(self, limits: Limits) -> bool:
        return self.session.alive and self.proc.poll() is None

    def accepts(self, limits: Limits) -> bool:
        return True

    def close(self) -> None:
        self._kill()
        for stream in (self.proc.stdin, self.proc.stdout):
            try:
                stream.close()
            except OSError:
                pass
        self.proc.wait()
