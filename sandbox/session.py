"""Host side of sandbox/zygote.py: one long-lived zygote per sandbox, and a pool of them.

A session is a byte stream to a zygote (pipes for bwrap/local, a docker exec socket for docker).
The host arms a watchdog per run (the zygote enforces the wall clock itself; the watchdog covers
a zygote that was itself killed or wedged) and retires a session after any fault.
"""
from __future__ import annotations

import base64
import json
import queue
import struct
import threading
import time
from pathlib import Path
from typing import Callable

from sandbox.result import Limits, RunResult

ZYGOTE = (Path(__file__).parent / "zygote.py").read_text()
WATCHDOG_GRACE_S = 10.0
READY = b"ready\n"


class SessionBroken(Exception):
    pass


class ZygoteSession:
    def __init__(self, backend: str, write: Callable[[bytes], None], read_exactly: Callable[[int], bytes],
                 kill: Callable[[], None], wipe: str | None, ready_timeout_s: float = 120.0):
        self.backend, self.write, self.read_exactly, self.kill, self.wipe = backend, write, read_exactly, kill, wipe
        self.alive, self.runs = True, 0
        timer = threading.Timer(ready_timeout_s, kill)
        timer.start()
        try:
            if read_exactly(len(READY)) != READY:
                raise SessionBroken("zygote did not start")
        except Exception as exc:
            self.alive = False
            raise SessionBroken(f"{backend}: sandbox did not start ({exc})") from exc
        finally:
            timer.cancel()

    def run(self, program: str, stdin: bytes, limits: Limits) -> RunResult:
        source = program.encode()
        header = json.dumps({"program_len": len(source), "stdin_len": len(stdin), "wall_s": limits.wall_s,
                             "memory_mb": limits.memory_mb, "file_size_mb": limits.file_size_mb,
                             "output_bytes": limits.output_bytes, "wipe": self.wipe}).encode()
        fired = threading.Event()

        def watchdog() -> None:
            fired.set()
            self.kill()

        timer = threading.Timer(limits.wall_s + WATCHDOG_GRACE_S, watchdog)
        start = time.monotonic()
        timer.start()
        try:
            self.write(struct.pack(">I", len(header)) + header + source + stdin)
            size = struct.unpack(">I", self.read_exactly(4))[0]
            reply = json.loads(self.read_exactly(size))
        except Exception:
            self.alive = False
            return RunResult(self.backend, None, b"", b"", time.monotonic() - start, timed_out=fired.is_set())
        finally:
            timer.cancel()
        self.runs += 1
        if reply.get("strays"):
            self.alive = False  # something outlived its run: this sandbox is retired, and with it the stray
        return RunResult(self.backend, reply["exit_code"], base64.b64decode(reply["stdout"]),
                         base64.b64decode(reply["stderr"]), reply["duration_s"], timed_out=reply["timed_out"],
                         truncated=reply["truncated"])


class SessionPool:
    """Up to `workers` sessions in use at once; each is checked after a run and retired if unfit."""

    def __init__(self, start: Callable[[Limits], object], workers: int, max_runs: int = 1000):
        self.start, self.workers, self.max_runs = start, workers, max_runs
        self.idle: queue.Queue = queue.Queue()
        self.slots = threading.Semaphore(workers)
        self.lock = threading.Lock()
        self.live: list = []

    def run(self, program: str, stdin: bytes, limits: Limits) -> RunResult:
        with self.slots:
            worker = self._acquire(limits)
            result = worker.run(program, stdin, limits)
            if worker.fit(limits) and worker.session.runs < self.max_runs:
                self.idle.put(worker)
            else:
                self._retire(worker)
            return result

    def _acquire(self, limits: Limits):
        while True:
            try:
                worker = self.idle.get_nowait()
            except queue.Empty:
                worker = self.start(limits)
                with self.lock:
                    self.live.append(worker)
                return worker
            if worker.accepts(limits):
                return worker
            self._retire(worker)

    def _retire(self, worker) -> None:
        with self.lock:
            if worker in self.live:
                self.live.remove(worker)
        worker.close()

    def close(self) -> None:
        with self.lock:
            workers, self.live = self.live, []
        for worker in workers:
            worker.close()
