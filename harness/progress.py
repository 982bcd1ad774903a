"""Progress bars on stderr (tqdm). Off with HARNESS_PROGRESS=off; sparse when not on a terminal."""
from __future__ import annotations

import os
import sys

from tqdm import tqdm


def progress(total: int | None, label: str, unit: str = "sample", interval: float | None = None) -> tqdm:
    """`interval`: seconds between lines when not on a terminal (default 15; a terminal redraws twice a second)."""
    interactive = sys.stderr.isatty()
    return tqdm(total=total, desc=label, unit=unit, file=sys.stderr, dynamic_ncols=interactive,
                disable=os.environ.get("HARNESS_PROGRESS") == "off",
                mininterval=0.5 if interactive else (15.0 if interval is None else interval))
