#!/bin/sh
# Code sandbox for LiveCodeBench grading: Docker daemon, bubblewrap, and the sandbox image.
# Idempotent; for a fresh Debian bookworm as root with registry (apt/PyPI) network only.
# Leaves dockerd running in the background (log: /tmp/dockerd.log).
set -eu

need=""
command -v dockerd >/dev/null 2>&1 || need="$need docker.io"
command -v bwrap >/dev/null 2>&1 || need="$need bubblewrap"
command -v debootstrap >/dev/null 2>&1 || need="$need debootstrap"
if [ -n "$need" ]; then
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $need
fi

if ! docker info >/dev/null 2>&1; then
    if ! pgrep -x dockerd >/dev/null 2>&1; then
        setsid nohup dockerd >/tmp/dockerd.log 2>&1 </dev/null &
    fi
    i=0
    until docker info >/dev/null 2>&1; do
        i=$((i + 1))
        if [ "$i" -gt 60 ]; then
            echo "setup-docker: dockerd did not come up in 60 s; see /tmp/dockerd.log" >&2
            tail -20 /tmp/dockerd.log >&2 || true
            exit 1
        fi
        sleep 1
    done
fi

# debootstrap bookworm (python3, python3-numpy) + docker import; reuses an existing rootfs/image.
# Runs from the checkout with the system python and only the docker SDK, before the project is
# installed (the README's test command installs it later, in its own environment); this is
# what `harness sandbox build` calls.
python3 -m pip install -q "docker>=7"
PYTHONPATH="$(pwd)" python3 -c 'from sandbox.image import build; build()'
PYTHONPATH="$(pwd)" python3 -c 'from sandbox.check import check_all; [print(r) for r in check_all()]' || true
