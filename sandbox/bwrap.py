"""bubblewrap: unprivileged namespaces (user, pid, net, ipc, uts, mount), no daemon.

One long-lived sandbox per worker runs sandbox/zygote.py, which forks a child per run. The root is
the rootfs `harness sandbox build` made (the Docker image's very tree), read-only, with a tmpfs
/tmp (wiped before every run), its own /proc and a minimal /dev. Without a built rootfs it binds the
host's system directories and this Python read-only instead (nothing else of the host is visible).
When started as root it first drops to a uid of its own (setpriv), so rlimits such as RLIMIT_NPROC
apply. That uid is drawn per sandbox from a range no account uses, not `nobody`: RLIMIT_NPROC
counts every process of a uid on the host, so with a shared uid one sandbox's fork bomb (or a
docker container running as nobody) left another sandbox unable to fork its next run, and a
correct program was recorded as "no result" only because the machine was busy.
Memory is bounded by RLIMIT_AS (set per run by the zygote), not a cgroup.
"""
from __future__ import annotations

import os
import secrets
import shutil
import sys
from pathlib import Path

from sandbox.image import rootfs_dir
from sandbox.process import ProcessWorker, session_rlimits
from sandbox.result import Limits, RunResult
from sandbox.session import ZYGOTE, SessionPool

NOBODY = "65534"
SANDBOX_UIDS = range(3_000_000, 4_000_000)  # above the subuid ranges of docker/podman (100000+65536*k)


def sandbox_uid() -> str:
    """A uid for one sandbox only, so its process count (RLIMIT_NPROC) is not shared with others."""
    return str(SANDBOX_UIDS.start + secrets.randbelow(len(SANDBOX_UIDS)))
HOST_DIRS = ("/usr", "/bin", "/lib", "/lib64", "/sbin")


class BwrapWorker(ProcessWorker):
    def __init__(self, limits: Limits, rootfs: Path | None):
        drop_privileges = os.geteuid() == 0 and rootfs is not None
        # bwrap's own init (pid 1 inside) keeps the environment it was started with: give it none
        super().__init__(argv(rootfs, drop_privileges), "bwrap", "/tmp",
                         session_rlimits(limits, count_processes=drop_privileges), env={"PATH": "/usr/bin:/bin"})


def argv(rootfs: Path | None, drop_privileges: bool) -> list[str]:
    if rootfs is not None:
        root, python = ["--ro-bind", str(rootfs), "/"], "/usr/bin/python3"
    else:
        root = [arg for path in HOST_DIRS for arg in ("--ro-bind-try", path, path)]
        for prefix in {sys.prefix, sys.base_prefix, os.path.dirname(os.path.realpath(sys.executable))}:
            root += ["--ro-bind-try", prefix, prefix]
        python = sys.executable
    # Host Python trees may sit in root-only homes (pyenv): then stay root outside, nobody inside.
    uid = sandbox_uid()
    drop = ["setpriv", "--reuid", uid, "--regid", uid, "--clear-groups"] if drop_privileges else []
    inner = [] if drop_privileges else ["--uid", NOBODY, "--gid", NOBODY]
    return [*drop, "bwrap", "--unshare-all", "--die-with-parent", "--new-session", "--cap-drop", "ALL",
            *inner, *root, "--size", str(64 << 20), "--tmpfs", "/tmp", "--proc", "/proc", "--dev", "/dev",
            "--chdir", "/tmp", "--clearenv", "--setenv", "PATH", "/usr/bin:/bin", "--setenv", "OMP_NUM_THREADS", "1",
            "--setenv", "PYTHONHASHSEED", "0", "--setenv", "LANG", "C.UTF-8",
            "--setenv", "SSP_ZYGOTE_COUNT_STRAYS", "1", python, "-I", "-c", ZYGOTE]


class BwrapBackend:
    name = "bwrap"

    def __init__(self, workers: int = 2, rootfs: Path | None = None):
        self.rootfs = rootfs if rootfs is not None else rootfs_dir()
        self.pool = SessionPool(lambda limits: BwrapWorker(limits, self.rootfs), workers)

    def describe(self) -> dict:
        return {"backend": self.name, "rootfs": str(self.rootfs) if self.rootfs else "host system dirs",
                "bwrap": shutil.which("bwrap")}

    def run(self, program: str, stdin: bytes, limits: Limits) -> RunResult:
        return self.pool.run(program, stdin, limits)

    def close(self) -> None:
        self.pool.close()
