"""`harness sandbox check`: which backends can run a program on this machine, and why not."""
from __future__ import annotations

import shutil

from sandbox.result import Limits

PROBE = "import sys\nprint(sum(map(int, sys.stdin.read().split())))"


def check_backend(name: str) -> dict:
    import sandbox

    if name == "bwrap" and shutil.which("bwrap") is None:
        return {"backend": name, "ok": False, "detail": "bwrap not installed (apt-get install -y bubblewrap)"}
    try:
        backend = sandbox.get_backend(name, unsafe_local=True, workers=1)
        result = backend.run(PROBE, b"40 2", Limits(wall_s=30))
        ok = result.exit_code == 0 and result.stdout.strip() == b"42"
        detail = backend.describe() if ok else f"probe failed: exit {result.exit_code} {result.stderr[-200:]!r}"
    except Exception as exc:  # a check reports, it does not fail
        ok, detail = False, f"{exc.__class__.__name__}: {str(exc)[:300]}"
    if name == "local" and ok:
        detail = {**detail, "note": "no isolation; only with --unsafe-local-sandbox"}
    return {"backend": name, "ok": ok, "detail": detail}


def check_all() -> list[dict]:
    import sandbox

    try:
        return [check_backend(name) for name in sandbox.BACKEND_CLASSES]
    finally:
        sandbox.close_all()
