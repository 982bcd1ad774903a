"""Sampling settings: one type for the published protocol, a run's settings and training's sampling.

A suite's published protocol is a `Sampling` (seed 0); a run's sampling is that protocol with the
user's overrides (`override`), validated here once for every caller. The role of each field is
declared in `SAMPLING_SETTINGS` (the seed changes which samples are drawn, every other field what
is measured), and the CLI flags and the comparability rule read those declarations.
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

from harness.settings import Role, Setting, Settings


def _at_least(low: float):
    return lambda value: None if value >= low else f"must be >= {low}"


def _top_p(value: float) -> str | None:
    return None if 0 < value <= 1 else "must be in (0, 1]"


def _top_k(value: int) -> str | None:
    return None if value == -1 or value >= 1 else "must be -1 (disabled) or >= 1"


SAMPLING_SETTINGS = Settings((
    Setting("n", None, "samples per problem (default: the suite's published n)", kind=int, check=_at_least(1),
            flag_name="-n", unit="samples per problem"),
    Setting("temperature", None, "sampling temperature (0 = greedy; default: published)", kind=float,
            check=_at_least(0)),
    Setting("top_p", None, "nucleus sampling mass in (0, 1] (default: published)", kind=float, check=_top_p),
    Setting("top_k", None, "top-k, -1 = disabled (default: published)", kind=int, check=_top_k),
    Setting("max_tokens", None, "response token budget (default: published)", kind=int, check=_at_least(1)),
    Setting("seed", None, "base sampling seed; each sample's seed derives from it (default 0)", kind=int,
            role=Role.SAMPLE),
))


@dataclass(frozen=True)
class Sampling:
    n: int
    temperature: float
    top_p: float
    max_tokens: int
    top_k: int = -1  # -1 = disabled, as in vLLM
    seed: int = 0

    def __post_init__(self) -> None:
        for item in SAMPLING_SETTINGS:
            item.validate(getattr(self, item.name), f"sampling {item.name}")

    def as_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    def override(self, **given: Any) -> "Sampling":
        """These settings with the given values (None = keep), each validated and named on error."""
        values = SAMPLING_SETTINGS.resolve(given)
        return dataclasses.replace(self, **{k: v for k, v in values.items() if v is not None})

    def deviations(self, published: "Sampling") -> list[str]:
        """Sentences for every measured field that departs from the published protocol."""
        return [item.sentence(getattr(self, item.name), getattr(published, item.name))
                for item in SAMPLING_SETTINGS if item.role is Role.MEASURE
                and getattr(self, item.name) != getattr(published, item.name)]
