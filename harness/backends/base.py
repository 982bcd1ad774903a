"""The backend interface: requests in, generations out, as they finish.

Every backend yields `Generation`s in whatever order it completes them; the pipeline writes each
one to generations.jsonl immediately, which is what makes runs resumable.
"""
from __future__ import annotations

import dataclasses
import hashlib
from dataclasses import dataclass
from typing import Any, Iterator, Protocol, Sequence

from harness.sampling import Sampling


@dataclass(frozen=True)
class Request:
    suite: str
    problem_id: str
    sample: int
    messages: tuple[dict[str, str], ...]
    seed: int


@dataclass(frozen=True)
class Generation:
    suite: str
    problem_id: str
    sample: int
    response: str
    finish_reason: str | None  # "stop" | "length"
    num_tokens: int | None
    seed: int | None
    usage: dict[str, Any] | None = None  # token counts a server reported, when it reports them

    def as_record(self) -> dict[str, Any]:
        record = dataclasses.asdict(self)
        if record["usage"] is None:
            del record["usage"]
        return record

    @classmethod
    def for_request(cls, request: Request, response: str, finish_reason: str | None,
                    num_tokens: int | None) -> "Generation":
        return cls(request.suite, request.problem_id, request.sample, response, finish_reason,
                   num_tokens, request.seed)


def group_by_problem(requests: Sequence[Request]) -> list[list[Request]]:
    """Requests of the same problem together (first-seen order): backends that send n samples at once."""
    groups: dict[tuple[str, str], list[Request]] = {}
    for request in requests:
        groups.setdefault((request.suite, request.problem_id), []).append(request)
    return list(groups.values())


def sample_seed(base_seed: int, suite: str, problem_id: str, sample: int) -> int:
    """A per-(problem, sample) seed that does not depend on batching, ordering or limits."""
    digest = hashlib.sha256(f"{base_seed}:{suite}:{problem_id}:{sample}".encode()).digest()
    return int.from_bytes(digest[:4], "big") & 0x7FFFFFFF


class Backend(Protocol):
    name: str

    def describe(self) -> dict[str, Any]:
        """Backend name, version, resolved model and engine settings, for the manifest."""

    def generate(self, requests: Sequence[Request], sampling: Sampling) -> Iterator[Generation]:
        """Yield one Generation per request, as each finishes."""

    def close(self) -> None:
        """Release the model / engine / connections."""
