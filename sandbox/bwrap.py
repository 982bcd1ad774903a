"""bubblewrap: unprivileged namespaces (user, pid, net, ipc, uts, mount), no daemon.

The root is the rootfs `harness sandbox build` made (the Docker image's very tree), read-only,
with a fresh tmpfs /tmp, its own /proc and a minimal /dev. Without a built rootfs it binds the
host's system directories and this Python read-only instead (nothing else of the host is visible).
When started as root it first drops to nobody (setpriv), so rlimits such as RLIMIT_NPROC apply.
Memory is bounded by RLIMIT_AS, not a cgroup.
"""
from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

from sandbox.image import rootfs_dir
from sandbox.process import rlimits, run_bounded
from sandbox.result import Limits, RunResult

NOBODY = "65534"
HOST_DIRS = ("/usr", "/bin", "/lib", "/lib64", "/sbin")


class BwrapBackend:
    name = "bwrap"

    def __init__(self, workers: int = 2, rootfs: Path | None = None):
        self.workers = workers
        self.rootfs = rootfs if rootfs is not None else rootfs_dir()

    def describe(self) -> dict:
        return {"backend": self.name, "rootfs": str(self.rootfs) if self.rootfs else "host system dirs",
                "bwrap": shutil.which("bwrap")}

    def argv(self, program_fd: int) -> list[str]:
        if self.rootfs is not None:
            root, python = ["--ro-bind", str(self.rootfs), "/"], "/usr/bin/python3"
        else:
            root = [arg for path in HOST_DIRS for arg in ("--ro-bind-try", path, path)]
            for prefix in {sys.prefix, sys.base_prefix, os.path.dirname(os.path.realpath(sys.executable))}:
                root += ["--ro-bind-try", prefix, prefix]
            python = sys.executable
        # Host Python trees may sit in root-only homes (pyenv): then stay root outside, nobody inside.
        drop_privileges = os.geteuid() == 0 and self.rootfs is not None
        drop = ["setpriv", "--reuid", NOBODY, "--regid", NOBODY, "--clear-groups"] if drop_privileges else []
        inner = [] if drop_privileges else ["--uid", NOBODY, "--gid", NOBODY]
        return [*drop, "bwrap", "--unshare-all", "--die-with-parent", "--new-session", "--cap-drop", "ALL",
                *inner, *root, "--size", str(64 << 20), "--tmpfs", "/tmp", "--proc", "/proc", "--dev", "/dev",
                "--size", str(1 << 20), "--tmpfs", "/sandbox", "--ro-bind-data", str(program_fd), "/sandbox/program.py", "--chdir", "/tmp",
                "--clearenv", "--setenv", "PATH", "/usr/bin:/bin", "--setenv", "OMP_NUM_THREADS", "1",
                "--setenv", "PYTHONHASHSEED", "0", "--setenv", "LANG", "C.UTF-8",
                python, "-I", "/sandbox/program.py"]

    def run(self, program: str, stdin: bytes, limits: Limits) -> RunResult:
        program_fd = os.memfd_create("program.py")
        try:
            os.write(program_fd, program.encode())
            os.lseek(program_fd, 0, os.SEEK_SET)
            return run_bounded(self.argv(program_fd), stdin, limits, self.name, preexec=rlimits(limits),
                               pass_fds=(program_fd,))
        finally:
            os.close(program_fd)

    def close(self) -> None:
        pass
