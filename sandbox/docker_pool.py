"""Docker: a pool of long-lived hardened containers, one fresh process per run.

Each container has no network, a read-only root, a tmpfs /tmp, memory and pids limits, no
capabilities, no-new-privileges, and runs as nobody; tini (init=True) reaps zombies. A run is an
`exec` of `timeout -s KILL` + python3 on files from a per-container read-only bind mount.
`exec_run` has no timeout, so the host also arms a watchdog that kills the container. A container
is replaced after any fault (host kill, OOM, a process left behind) and after `max_jobs` runs;
/tmp is wiped before every run. Containers carry labels naming their owner process, so
containers orphaned by a killed harness are removed by the next one.
"""
from __future__ import annotations

import atexit
import os
import queue
import shutil
import socket
import tempfile
import threading
import time
from pathlib import Path

from harness.errors import HarnessError
from sandbox.image import CURRENT
from sandbox.result import Limits, RunResult

LABEL = "ssp.sandbox"
GRACE_S = 10.0  # host watchdog fires this long after the in-container `timeout`
BASELINE_PIDS = 2  # tini + sleep
ENV = {"OMP_NUM_THREADS": "1", "PYTHONHASHSEED": "0", "PYTHONDONTWRITEBYTECODE": "1", "LANG": "C.UTF-8"}


def client(timeout: int = 3600):
    import docker

    try:
        handle = docker.from_env(timeout=timeout)
        handle.ping()
        return handle
    except Exception as exc:
        raise HarnessError(f"docker: no daemon answers ({exc.__class__.__name__}: {str(exc)[:160]})") from exc


def owner() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def remove_orphans(docker) -> int:
    """Remove sandbox containers whose owning harness process on this host is gone."""
    removed = 0
    for container in docker.containers.list(all=True, filters={"label": LABEL}):
        host, _, pid = container.labels.get(LABEL, "").rpartition(":")
        if host == socket.gethostname() and pid.isdigit() and not _alive(int(pid)):
            container.remove(force=True)
            removed += 1
    return removed


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
        return True
    except ProcessLookupError:
        return False
    except PermissionError:
        return True


def shape(limits: Limits) -> tuple[int, int, int]:
    """The limits baked into a container at creation (the wall clock is per run)."""
    return limits.memory_mb, limits.processes, limits.file_size_mb


class Worker:
    def __init__(self, image: str, limits: Limits):
        from docker.types import Ulimit

        self.shape = shape(limits)
        self.docker = client()
        self.jobdir = Path(tempfile.mkdtemp(prefix="ssp-docker-"))
        os.chmod(self.jobdir, 0o755)
        memory = f"{limits.memory_mb + 256}m"  # headroom over the RLIMIT_AS the grader sets itself
        self.container = self.docker.containers.run(
            image, ["sleep", "infinity"], detach=True, init=True, network_mode="none", read_only=True,
            tmpfs={"/tmp": "rw,size=64m,mode=1777,nosuid,nodev"}, mem_limit=memory, memswap_limit=memory,
            nano_cpus=1_000_000_000, pids_limit=limits.processes, cap_drop=["ALL"],
            security_opt=["no-new-privileges:true"], user="65534:65534", ipc_mode="private",
            ulimits=[Ulimit(name="nofile", soft=256, hard=256), Ulimit(name="core", soft=0, hard=0),
                     Ulimit(name="fsize", soft=limits.file_size_mb << 20, hard=limits.file_size_mb << 20)],
            environment=ENV, labels={LABEL: owner()}, volumes={str(self.jobdir): {"bind": "/job", "mode": "ro"}},
        )
        self.jobs = 0
        self.pids_file = next((p for p in (Path(f"/sys/fs/cgroup/pids/docker/{self.container.id}/pids.current"),
                                           Path(f"/sys/fs/cgroup/system.slice/docker-{self.container.id}.scope/pids.current"),
                                           Path(f"/sys/fs/cgroup/docker/{self.container.id}/pids.current"))
                               if p.exists()), None)

    def pids(self) -> int:
        if self.pids_file is not None:
            return int(self.pids_file.read_text())
        return len(self.container.top()["Processes"])

    def execute(self, program: str, stdin: bytes, limits: Limits) -> tuple[RunResult, bool]:
        """Run once; also say whether this container is still fit for another run."""
        (self.jobdir / "program.py").write_text(program)
        (self.jobdir / "stdin").write_bytes(stdin)
        for name in ("program.py", "stdin"):
            os.chmod(self.jobdir / name, 0o644)
        seconds = max(1, int(limits.wall_s + 0.999))
        command = ["sh", "-c", "rm -rf /tmp/* /tmp/.[!.]* 2>/dev/null; "
                   f"exec timeout -s KILL {seconds} python3 -I /job/program.py < /job/stdin"]
        api = self.docker.api
        killed = threading.Event()

        def watchdog() -> None:
            killed.set()
            try:
                self.container.kill()
            except Exception:
                pass

        timer = threading.Timer(seconds + GRACE_S, watchdog)
        start = time.monotonic()
        exec_id = api.exec_create(self.container.id, command, user="65534:65534", workdir="/tmp")["Id"]
        timer.start()
        out, err, truncated = bytearray(), bytearray(), False
        try:
            for chunk_out, chunk_err in api.exec_start(exec_id, stream=True, demux=True):
                for chunk, sink in ((chunk_out, out), (chunk_err, err)):
                    if chunk:
                        room = max(limits.output_bytes - len(sink), 0)
                        sink += chunk[:room]
                        truncated |= len(chunk) > room
            exit_code = None if killed.is_set() else api.exec_inspect(exec_id)["ExitCode"]
        except Exception:
            exit_code = None
            killed.set()
        finally:
            timer.cancel()
        duration = time.monotonic() - start
        self.jobs += 1
        timed_out = killed.is_set() or (exit_code in (124, 137) and duration >= seconds - 0.05)
        oom = exit_code == 137 and not timed_out and self._oom_killed()
        fit = not killed.is_set() and not oom and self.pids() <= BASELINE_PIDS
        return RunResult(backend="docker", exit_code=exit_code, stdout=bytes(out), stderr=bytes(err),
                         duration_s=duration, timed_out=timed_out, oom=oom, truncated=truncated), fit

    def _oom_killed(self) -> bool:
        try:
            self.container.reload()
            return bool(self.container.attrs["State"].get("OOMKilled"))
        except Exception:
            return False

    def remove(self) -> None:
        try:
            self.container.remove(force=True)
        except Exception:
            pass
        shutil.rmtree(self.jobdir, ignore_errors=True)


class DockerBackend:
    name = "docker"

    def __init__(self, workers: int = 2, image: str = CURRENT, max_jobs: int = 500):
        docker = client()
        try:
            self.image = docker.images.get(image)
        except Exception:
            raise HarnessError(f"docker image {image} not found: build it with `harness sandbox build`") from None
        remove_orphans(docker)
        self.workers, self.max_jobs = workers, max_jobs
        self.idle: queue.Queue[Worker] = queue.Queue()
        self.all: list[Worker] = []
        self.lock = threading.Lock()
        atexit.register(self.close)

    def describe(self) -> dict:
        return {"backend": self.name, "image": self.image.tags[0] if self.image.tags else None,
                "image_id": self.image.id, "workers": self.workers}

    def _acquire(self, limits: Limits) -> Worker:
        try:
            worker = self.idle.get_nowait()
        except queue.Empty:
            worker = Worker(self.image.id, limits)
            with self.lock:
                self.all.append(worker)
        if worker.shape != shape(limits):
            self._retire(worker)
            return self._acquire(limits)
        return worker

    def _retire(self, worker: Worker) -> None:
        with self.lock:
            if worker in self.all:
                self.all.remove(worker)
        worker.remove()

    def run(self, program: str, stdin: bytes, limits: Limits) -> RunResult:
        worker = self._acquire(limits)
        fit = False
        try:
            result, fit = worker.execute(program, stdin, limits)
            return result
        finally:
            if fit and worker.jobs < self.max_jobs:
                self.idle.put(worker)
            else:
                self._retire(worker)

    def close(self) -> None:
        with self.lock:
            workers, self.all = self.all, []
        for worker in workers:
            worker.remove()
