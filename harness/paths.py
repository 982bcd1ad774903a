"""Where the harness keeps its caches (converted models, the sandbox rootfs): one place for all.

$SSP_HARNESS_CACHE, else the platform's user cache directory.
"""
from __future__ import annotations

import os
from pathlib import Path


def cache_dir() -> Path:
    root = os.environ.get("SSP_HARNESS_CACHE")
    if root:
        return Path(root)
    from platformdirs import user_cache_dir

    return Path(user_cache_dir("ssp-harness"))
