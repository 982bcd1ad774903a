"""Build the sandbox root filesystem and Docker image from Debian packages (no registry pulls).

`debootstrap --variant=minbase` a bookworm with python3 and python3-numpy from the mirror apt
already uses, record every package version that went in, tag by the sha256 of that list plus this
recipe, then `docker import` it. The same tree is kept on disk as the bwrap root, so both backends
run the very same interpreter and numpy.
"""
from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import Callable

from harness.errors import HarnessError

RECIPE = {"suite": "bookworm", "variant": "minbase", "include": ["python3", "python3-numpy"], "recipe": 1}
REPOSITORY = "ssp-harness-sandbox"
CURRENT = f"{REPOSITORY}:current"
DEFAULT_MIRROR = "http://deb.debian.org/debian"
TRIM = ["var/cache/apt/archives", "var/lib/apt/lists", "usr/share/doc", "usr/share/man", "usr/share/locale",
        "usr/share/info", "var/log"]


def cache_root() -> Path:
    """Where rootfs trees live. Root keeps them outside its 0700 home, because bwrap drops to its own uid
    before it binds the tree."""
    if os.environ.get("SSP_HARNESS_SANDBOX_DIR"):
        return Path(os.environ["SSP_HARNESS_SANDBOX_DIR"])
    if os.geteuid() == 0:
        return Path("/var/cache/ssp-harness/sandbox")
    from harness.paths import cache_dir

    return cache_dir() / "sandbox"


def rootfs_dir() -> Path | None:
    """The current bwrap root (a symlink written by `build`), or None before the first build."""
    link = cache_root() / "rootfs-current"
    return link.resolve() if link.exists() else None


def apt_mirror() -> str:
    """The Debian mirror of this machine's apt sources (deb822 or one-line format)."""
    sources = [Path("/etc/apt/sources.list"), *sorted(Path("/etc/apt/sources.list.d").glob("*.sources"))]
    for path in sources:
        text = path.read_text() if path.is_file() else ""
        match = re.search(r"^URIs:\s*(\S+/debian)/?\s*$", text, re.M) or re.search(r"^deb\s+(?:\[[^]]*\]\s+)?(\S+/debian)/?\s", text, re.M)
        if match:
            return match.group(1)
    return DEFAULT_MIRROR


def package_pins(rootfs: Path) -> list[str]:
    out = subprocess.run(["chroot", str(rootfs), "dpkg-query", "-W", "-f", "${Package}=${Version}\\n"],
                         capture_output=True, text=True, check=True)
    return sorted(line for line in out.stdout.splitlines() if line)


def content_tag(pins: list[str]) -> str:
    text = json.dumps({"recipe": RECIPE, "packages": pins}, sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def debootstrap(target: Path, mirror: str, log: Callable[[str], None]) -> None:
    if shutil.which("debootstrap") is None:
        raise HarnessError("harness sandbox build: debootstrap not found (apt-get install -y debootstrap)")
    if os.geteuid() != 0:
        raise HarnessError("harness sandbox build: debootstrap needs root")
    command = ["debootstrap", f"--variant={RECIPE['variant']}", f"--include={','.join(RECIPE['include'])}",
               RECIPE["suite"], str(target), mirror]
    log(f"$ {' '.join(command)}  (about 3 minutes)")
    done = subprocess.run(command, capture_output=True, text=True)
    if done.returncode != 0:
        raise HarnessError(f"debootstrap failed (exit {done.returncode}): {done.stdout[-400:]}{done.stderr[-400:]}")


def build(mirror: str | None = None, rebuild: bool = False, docker: bool = True,
          log: Callable[[str], None] = print) -> dict:
    """Build (or reuse) the rootfs and, when a daemon answers, the Docker image. Returns what was built."""
    root = cache_root()
    root.mkdir(parents=True, exist_ok=True)
    existing = rootfs_dir()
    if existing is None or rebuild:
        staging = Path(tempfile.mkdtemp(prefix="rootfs-build-", dir=root))
        os.chmod(staging, 0o755)  # it becomes "/" for bwrap's unprivileged user
        debootstrap(staging, mirror or apt_mirror(), log)
        for relative in TRIM:
            shutil.rmtree(staging / relative, ignore_errors=True)
        pins = package_pins(staging)
        tag = content_tag(pins)
        (staging / "etc" / "ssp-sandbox-packages.txt").write_text("\n".join(pins) + "\n")
        final = root / f"rootfs-{tag}"
        if final.exists():
            shutil.rmtree(staging)
        else:
            staging.rename(final)
        _point(root / "rootfs-current", final)
        existing = final
    pins = (existing / "etc" / "ssp-sandbox-packages.txt").read_text().split()
    tag = content_tag(pins)
    info = {"rootfs": str(existing), "tag": tag, "packages": len(pins),
            "python3": next((p for p in pins if p.startswith("python3.11=")), None),
            "numpy": next((p for p in pins if p.startswith("python3-numpy=")), None)}
    if docker:
        info["image"] = import_image(existing, tag, log)
    return info


def _point(link: Path, target: Path) -> None:
    temporary = link.with_name(link.name + ".new")
    temporary.unlink(missing_ok=True)
    temporary.symlink_to(target)
    temporary.replace(link)


def import_image(rootfs: Path, tag: str, log: Callable[[str], None]) -> str:
    from sandbox.docker_client import client

    docker = client()
    name = f"{REPOSITORY}:{tag}"
    try:
        image = docker.images.get(name)
        log(f"image {name} already present")
    except Exception:
        log(f"docker import {name}")
        with tempfile.TemporaryDirectory() as scratch:
            archive = Path(scratch) / "rootfs.tar"
            subprocess.run(["tar", "--numeric-owner", "-C", str(rootfs), "-cf", str(archive), "."], check=True)
            docker.api.import_image_from_file(str(archive), repository=REPOSITORY, tag=tag,
                                              changes=[f"LABEL ssp.sandbox.tag={tag}",
                                                       "ENV LANG=C.UTF-8 PATH=/usr/bin:/bin"])
        image = docker.images.get(name)
    image.tag(REPOSITORY, "current")
    return f"{name} ({image.id})"
