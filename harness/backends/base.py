"""The backend interface: requests in, generations out, as they finish.

Every backend yields `Generation`s in whatever order it completes them; the pipeline writes each
one to generations.jsonl immediately, which is what makes runs resumable.
"""
from __future__ import annotations

import dataclasses
import hashlib
from dataclasses import dataclass
from typing import Any, Callable, Iterator, Protocol, Sequence

from harness.prompting import PromptControls
from harness.sampling import Sampling
from harness.settings import Role, Setting

NO_CONTROLS = PromptControls()


@dataclass(frozen=True)
class Request:
    suite: str
    problem_id: str
    sample: int
    messages: tuple[dict[str, str], ...]  # as sent: the system prompt already applied
    seed: int
    prompt: str | None = None  # the rendered prompt (template + prefill) when the harness renders it
    controls: PromptControls = NO_CONTROLS  # prefill, stop strings, template, budget forcing

    def rendered(self, tokenizer: Any) -> str:
        """The prompt text rendered in the main process, or rendered now with this tokenizer."""
        from harness.backends.prompts import render_prompt

        return self.prompt if self.prompt is not None else render_prompt(tokenizer, self.messages, self.controls)


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
    reasoning: str | None = None  # thinking a server returned apart from the answer (reasoning_content)
    num_reasoning_tokens: int | None = None  # as the server reports it
    num_think_tokens: int | None = None  # budget forcing: tokens of the think part (cues included)
    num_answer_tokens: int | None = None  # budget forcing: tokens generated after the think block

    OPTIONAL = ("usage", "reasoning", "num_reasoning_tokens", "num_think_tokens", "num_answer_tokens")

    def as_record(self) -> dict[str, Any]:
        record = dataclasses.asdict(self)
        for name in self.OPTIONAL:
            if record[name] is None:
                del record[name]
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


@dataclass(frozen=True)
class BackendInfo:
    """What a backend module declares about itself (module constant `INFO`); the CLI flags, the
    shard cutting and the Ray executor's resource checks read it instead of naming backends.

    shard_unit: "batch" = consecutive `batch_size` requests (a batch is seeded by its first
    request, so shards must keep whole batches); "problem" = the samples of one problem (sent as
    one seeded request). `order`: how the backend reorders the requests it is given before
    cutting its batches (hf: longest prompt first); shard cutting applies it too, so a shard's
    units are the batches the backend would make.
    """

    name: str
    summary: str
    options: tuple[Setting, ...] = ()
    shard_unit: str = "problem"
    default_batch_size: int | None = None  # the unit size for shard_unit "batch"
    default_shard_size: int = 64  # samples per Ray shard when --ray-shard-size is not given
    gpus_needed: Callable[[dict[str, Any]], int] = lambda options: 0  # per worker, from the options
    # the tokenizer spec the harness renders prompts with (None: the server applies the template)
    prompt_tokenizer: Callable[[str, dict[str, Any]], str | None] = lambda model, options: model
    # (controls, options) -> why this backend cannot honour them, or None
    refuses: Callable[[PromptControls, dict[str, Any]], str | None] = lambda controls, options: None
    # the order a backend generates requests in (before cutting "batch" units); must be stable
    order: Callable[[Sequence["Request"]], list["Request"]] = list

    def unit_size(self, options: dict[str, Any]) -> int | None:
        return options.get("batch_size") or self.default_batch_size


class Backend(Protocol):
    """A backend module has `INFO: BackendInfo` and `create(model, **options) -> Backend`."""

    name: str

    def describe(self) -> dict[str, Any]:
        """Backend name, version, resolved model and engine settings, for the manifest."""

    def generate(self, requests: Sequence[Request], sampling: Sampling) -> Iterator[Generation]:
        """Yield one Generation per request, as each finishes."""

    def close(self) -> None:
        """Release the model / engine / connections."""


def positive(value: float) -> str | None:
    return None if value > 0 else "must be > 0"


def option(name: str, help: str, kind: type = str, **fields: Any) -> Setting:
    """A backend option: where and how generation runs, never what a run measures."""
    return Setting(name, None, help, role=Role.PLACE, kind=kind, **fields)
