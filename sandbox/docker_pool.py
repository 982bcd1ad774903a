"""Docker: a pool of long-lived hardened containers, one fresh process per run.

Each container has no network, a read-only root, a tmpfs /tmp, memory and pids limits, no
capabilities, no-new-privileges, and runs as nobody; tini (init=True) reaps zombies. One `exec`
per container runs sandbox/zygote.py, which forks a fresh child per run (wall clock enforced
inside; `exec` has no timeout, so the host also arms a watchdog that kills the container). A
container is replaced after any fault (watchdog, dead zygote, a process left behind: the cgroup's
pids.current must be back to 3) and after `max_runs` runs; /tmp is wiped before every run. Containers carry labels naming their owner process, so
containers orphaned by a killed harness are removed by the next one.
"""
from __future__ import annotations

import atexit
import os
import socket
from pathlib import Path

from harness.errors import HarnessError
from sandbox.docker_client import client
from sandbox.image import CURRENT
from sandbox.result import Limits, RunResult
from sandbox.session import ZYGOTE, SessionPool, ZygoteSession

LABEL = "ssp.sandbox"
BASELINE_PIDS = 3  # tini + sleep + the zygote
ENV = {"SSP_ZYGOTE_COUNT_STRAYS": "1", "OMP_NUM_THREADS": "1", "PYTHONHASHSEED": "0", "PYTHONDONTWRITEBYTECODE": "1", "LANG": "C.UTF-8"}


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


class DockerWorker:
    """A hardened container running one zygote (sandbox/zygote.py) over an exec socket."""

    def __init__(self, image: str, limits: Limits):
        from docker.types import Ulimit

        self.shape = shape(limits)
        self.docker = client()
        memory = f"{limits.memory_mb + 256}m"  # headroom over the per-run RLIMIT_AS the zygote sets
        self.container = self.docker.containers.run(
            image, ["sleep", "infinity"], detach=True, init=True, network_mode="none", read_only=True,
            tmpfs={"/tmp": "rw,size=64m,mode=1777,nosuid,nodev"}, mem_limit=memory, memswap_limit=memory,
            nano_cpus=1_000_000_000, pids_limit=limits.processes, cap_drop=["ALL"],
            security_opt=["no-new-privileges:true"], user="65534:65534", ipc_mode="private",
            ulimits=[Ulimit(name="nofile", soft=256, hard=256), Ulimit(name="core", soft=0, hard=0),
                     Ulimit(name="fsize", soft=limits.file_size_mb << 20, hard=limits.file_size_mb << 20)],
            environment=ENV, labels={LABEL: owner()}, working_dir="/tmp",
        )
        self.pids_file = next((p for p in (Path(f"/sys/fs/cgroup/pids/docker/{self.container.id}/pids.current"),
                                           Path(f"/sys/fs/cgroup/system.slice/docker-{self.container.id}.scope/pids.current"),
                                           Path(f"/sys/fs/cgroup/docker/{self.container.id}/pids.current"))
                               if p.exists()), None)
        exec_id = self.docker.api.exec_create(self.container.id, ["python3", "-I", "-c", ZYGOTE], stdin=True,
                                              user="65534:65534", workdir="/tmp")["Id"]
        self.socket = self.docker.api.exec_start(exec_id, socket=True)
        self.buffer = bytearray()
        self.session = ZygoteSession("docker", self._write, self._read_exactly, self._kill, "/tmp")

    def _write(self, data: bytes) -> None:
        raw = getattr(self.socket, "_sock", self.socket)
        raw.sendall(data)

    def _read_exactly(self, size: int) -> bytes:
        from docker.utils.socket import STDOUT, next_frame_header, read_exactly

        while len(self.buffer) < size:  # the exec stream is multiplexed: 8-byte frame headers
            stream, length = next_frame_header(self.socket)
            if length < 0:
                raise EOFError("sandbox exec ended")
            chunk = read_exactly(self.socket, length)
            if stream == STDOUT:
                self.buffer += chunk
        data, self.buffer = bytes(self.buffer[:size]), self.buffer[size:]
        return data

    def _kill(self) -> None:
        try:
            self.container.kill()
        except Exception:
            pass

    def pids(self) -> int:
        if self.pids_file is not None:
            return int(self.pids_file.read_text())
        return len(self.container.top()["Processes"])

    def run(self, program: str, stdin: bytes, limits: Limits) -> RunResult:
        result = self.session.run(program, stdin, limits)
        if result.exit_code == 137 and not result.timed_out:
            result.oom = self._oom_killed()
        return result

    def fit(self, limits: Limits) -> bool:
        """No fault, and nothing left running besides tini, sleep and the zygote."""
        return self.session.alive and self.pids() <= BASELINE_PIDS

    def accepts(self, limits: Limits) -> bool:
        return self.shape == shape(limits)

    def _oom_killed(self) -> bool:
        try:
            self.container.reload()
            return bool(self.container.attrs["State"].get("OOMKilled"))
        except Exception:
            return False

    def close(self) -> None:
        try:
            self.socket.close()
        except Exception:
            pass
        try:
            self.container.remove(force=True)
        except Exception:
            pass


class DockerBackend:
    name = "docker"

    def __init__(self, workers: int = 2, image: str = CURRENT, max_runs: int = 1000):
        docker = client()
        try:
            self.image = docker.images.get(image)
        except Exception:
            raise HarnessError(f"docker image {image} not found: build it with `harness sandbox build`") from None
        remove_orphans(docker)
        self.workers = workers
        self.pool = SessionPool(lambda limits: DockerWorker(self.image.id, limits), workers, max_runs)
        atexit.register(self.close)

    def describe(self) -> dict:
        return {"backend": self.name, "image": self.image.tags[0] if self.image.tags else None,
                "image_id": self.image.id, "workers": self.workers}

    def run(self, program: str, stdin: bytes, limits: Limits) -> RunResult:
        return self.pool.run(program, stdin, limits)

    def close(self) -> None:
        self.pool.close()
