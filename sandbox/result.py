"""What a sandboxed run is given (limits) and what it returns (result), shared by every backend."""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Limits:
    """Per-run limits. Wall time is enforced from the host; the rest by the backend's kernel knobs.

    Memory defaults high on purpose: LiveCodeBench's own grader has no memory cap, and a tighter
    one turns correct memory-hungry solutions into false negatives.
    """

    wall_s: float = 60.0
    memory_mb: int = 4096
    processes: int = 128  # docker pids limit / RLIMIT_NPROC
    file_size_mb: int = 64
    output_bytes: int = 8 << 20  # per stream; the rest is read and dropped


@dataclass
class RunResult:
    backend: str
    exit_code: int | None  # None when the host had to kill the run
    stdout: bytes
    stderr: bytes
    duration_s: float
    timed_out: bool = False
    oom: bool = False
    truncated: bool = False

    def text(self) -> str:
        return self.stdout.decode("utf-8", errors="replace")
