"""Host-side process plumbing for the bwrap and local backends: rlimits, bounded output, a hard
wall-clock limit that kills the whole process group (subprocess's own timeout leaves children)."""
from __future__ import annotations

import os
import resource
import signal
import subprocess
import threading
import time
from typing import Callable

from sandbox.result import Limits, RunResult

CHUNK = 1 << 16


def rlimits(limits: Limits, count_processes: bool = True) -> Callable[[], None]:
    """preexec_fn applying the limits in the child before exec. RLIMIT_NPROC counts every process
    of the user, so it is only meant for a dedicated user (bwrap runs as nobody)."""
    memory = limits.memory_mb << 20

    def apply() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
        resource.setrlimit(resource.RLIMIT_FSIZE, (limits.file_size_mb << 20,) * 2)
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
        if count_processes:
            resource.setrlimit(resource.RLIMIT_NPROC, (limits.processes,) * 2)
        cpu = int(limits.wall_s) + 2  # backstop only: the wall clock is the real limit
        resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu))

    return apply


def _drain(stream, keep: int, sink: list[bytes], overflow: list[bool]) -> None:
    kept = 0
    for chunk in iter(lambda: stream.read1(CHUNK), b""):
        room = max(keep - kept, 0)
        if room:
            sink.append(chunk[:room])
            kept += len(sink[-1])
        if len(chunk) > room and not overflow:
            overflow.append(True)
    stream.close()


def run_bounded(argv: list[str], stdin: bytes, limits: Limits, backend: str,
                preexec: Callable[[], None] | None = None, env: dict[str, str] | None = None,
                cwd: str | None = None, pass_fds: tuple[int, ...] = ()) -> RunResult:
    start = time.monotonic()
    proc = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            preexec_fn=preexec, start_new_session=True, env=env, cwd=cwd,
                            pass_fds=pass_fds)
    out: list[bytes] = []
    err: list[bytes] = []
    overflow: list[bool] = []
    readers = [threading.Thread(target=_drain, args=(proc.stdout, limits.output_bytes, out, overflow), daemon=True),
               threading.Thread(target=_drain, args=(proc.stderr, limits.output_bytes, err, overflow), daemon=True)]
    for reader in readers:
        reader.start()
    try:
        proc.stdin.write(stdin)
        proc.stdin.close()
    except BrokenPipeError:
        pass
    timed_out = False
    try:
        proc.wait(timeout=limits.wall_s)
    except subprocess.TimeoutExpired:
        timed_out = True
    _kill_group(proc.pid)
    proc.wait()
    for reader in readers:
        reader.join(timeout=5)
    return RunResult(backend=backend, exit_code=None if timed_out else proc.returncode, stdout=b"".join(out),
                     stderr=b"".join(err), duration_s=time.monotonic() - start, timed_out=timed_out,
                     truncated=bool(overflow))


def _kill_group(pid: int) -> None:
    try:
        os.killpg(pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
