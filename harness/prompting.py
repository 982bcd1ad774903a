"""Prompt-side and think-budget controls: what a run sends beyond the suite's own messages.

The suites reproduce a published protocol, but today's reasoning models are evaluated with a
system prompt, a replaced chat template, template switches (`enable_thinking=true`), a prefilled
start of the response (`<think>\\n`), stop strings, or s1-style budget forcing. Each changes what
is measured, so each is a MEASURE `Setting` in one group, `PROMPT_SETTINGS`, recorded per suite
under `prompt` in the run identity (like `sampling`): `harness.identity` reads the declarations,
so resume, leaderboard, gate and paper report treat a change as a different protocol.

Budget forcing lives here too although it acts during generation: it writes text into the
response (the closing tag, the answer cue, "Wait"), so it is a prompt-side intervention on the
model's own continuation. The cue texts are constants here and recorded in the manifest.

Why a group of its own rather than suite options: the controls apply to every suite and every
backend alike, and graders never read them (the prefill is already part of the response).
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Sequence

from harness.errors import HarnessError
from harness.settings import Setting, Settings

THINK_CLOSE = "</think>"
FORCED_CLOSE = "\n</think>\n\n"  # appended when --think-budget ends the think block
ANSWER_CUE = "Final Answer: "  # then the answer is generated (s1's cue)
WAIT_CUE = "Wait"  # replaces an end of thinking before --min-think tokens (s1)
BUDGET_FORCING = {"close": FORCED_CLOSE, "answer_cue": ANSWER_CUE, "wait_cue": WAIT_CUE, "think_close": THINK_CLOSE}


def _short(value: Any) -> str:
    text = json.dumps(value, ensure_ascii=False, sort_keys=True)
    return text if len(text) <= 40 else text[:37] + "..."


def _set(name: str):
    """Deviation sentence: any value is a departure (the published protocols use none of these)."""
    return lambda value, options: None if value is None else f"{name}={_short(value)} (published: none)"


def _at_least_one(value: int) -> str | None:
    return None if value >= 1 else "must be >= 1"


PROMPT_SETTINGS = Settings((
    Setting("system_prompt", None, "system message before the suite's messages: TEXT or @FILE (replaces a "
            "suite's own system message)", deviation=_set("system_prompt")),
    Setting("chat_template", None, "Jinja chat template FILE replacing the model's (recorded by sha256)",
            deviation=_set("chat_template")),
    Setting("chat_template_kwargs", None, "KEY=VALUE,... passed to the chat template, e.g. enable_thinking=true "
            "(values parse as JSON when they can: true, 3, \"x\")", deviation=_set("chat_template_kwargs")),
    Setting("assistant_prefill", None, "the response starts with TEXT (e.g. '<think>\\n'); it is part of the "
            "response the grader reads", deviation=_set("assistant_prefill")),
    Setting("stop", None, "stop STRING (repeatable); generation ends before it", repeat=True,
            deviation=_set("stop")),
    Setting("think_budget", None, "hf/vllm: end the think block at N tokens (append the closing tag and an "
            "answer cue, then generate the answer)", kind=int, check=_at_least_one, deviation=_set("think_budget")),
    Setting("min_think", None, "hf/vllm: replace an end of thinking before N tokens with the cue 'Wait'",
            kind=int, check=_at_least_one, deviation=_set("min_think")),
))


def sha256_text(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class PromptControls:
    system_prompt: str | None = None
    chat_template: str | None = None  # the template text (None: the model's own)
    chat_template_sha256: str | None = None
    chat_template_kwargs: dict[str, Any] = field(default_factory=dict)
    assistant_prefill: str | None = None
    stop: tuple[str, ...] = ()
    think_budget: int | None = None
    min_think: int | None = None

    @property
    def budget_forcing(self) -> bool:
        return self.think_budget is not None or self.min_think is not None

    @property
    def prefill(self) -> str:
        return self.assistant_prefill or ""

    def identity(self) -> dict[str, Any]:
        """The `prompt` entry of a suite's identity; every value None when a control is not used."""
        return {"system_prompt": self.system_prompt,
                "chat_template": f"sha256:{self.chat_template_sha256}" if self.chat_template_sha256 else None,
                "chat_template_kwargs": dict(self.chat_template_kwargs) or None,
                "assistant_prefill": self.assistant_prefill, "stop": list(self.stop) or None,
                "think_budget": self.think_budget, "min_think": self.min_think}

    def messages(self, messages: Sequence[dict[str, str]]) -> tuple[dict[str, str], ...]:
        """The suite's messages with the system prompt applied (the prefill is not a message here)."""
        if self.system_prompt is None:
            return tuple(messages)
        rest = [m for m in messages if m.get("role") != "system"]
        return ({"role": "system", "content": self.system_prompt}, *rest)

    @classmethod
    def from_record(cls, record: dict[str, Any] | None) -> "PromptControls":
        """Controls from a manifest's `prompt` entry (a chat template is known by its sha256 only)."""
        record = record or {}
        template = record.get("chat_template")
        return cls(system_prompt=record.get("system_prompt"),
                   chat_template_sha256=template.split(":", 1)[1] if template else None,
                   chat_template_kwargs=dict(record.get("chat_template_kwargs") or {}),
                   assistant_prefill=record.get("assistant_prefill"), stop=tuple(record.get("stop") or ()),
                   think_budget=record.get("think_budget"), min_think=record.get("min_think"))


def read_flag_file(flag: str, path: str) -> str:
    try:
        return Path(path).expanduser().read_text(encoding="utf-8")
    except OSError as exc:
        raise HarnessError(f"{flag} {path}: cannot read ({exc.strerror or exc})") from None
    except UnicodeDecodeError:
        raise HarnessError(f"{flag} {path}: not UTF-8 text") from None


def parse_template_kwargs(text: str) -> dict[str, Any]:
    """'enable_thinking=true,reasoning_effort=high' -> {'enable_thinking': True, 'reasoning_effort': 'high'}."""
    out: dict[str, Any] = {}
    for part in filter(None, (piece.strip() for piece in text.split(","))):
        key, equals, value = part.partition("=")
        if not equals or not key.strip():
            raise HarnessError(f"--chat-template-kwargs {text}: expected KEY=VALUE,... (got {part!r})")
        try:
            out[key.strip()] = json.loads(value)
        except ValueError:
            out[key.strip()] = value
    return out


def controls_from_given(given: dict[str, Any]) -> PromptControls:
    """Controls from flag values (name -> value, None = not given), validated, files read."""
    values = PROMPT_SETTINGS.resolve({k: v for k, v in given.items() if k not in ("stop",)})
    system = values["system_prompt"]
    if system is not None and system.startswith("@"):
        system = read_flag_file("--system-prompt", system[1:])
    template = read_flag_file("--chat-template", values["chat_template"]) if values["chat_template"] else None
    kwargs = parse_template_kwargs(values["chat_template_kwargs"]) if values["chat_template_kwargs"] else {}
    stop = tuple(given.get("stop") or ())
    if any(not s for s in stop):
        raise HarnessError("--stop: an empty stop string would end every response at once")
    budget, minimum = values["think_budget"], values["min_think"]
    if budget is not None and minimum is not None and minimum > budget:
        raise HarnessError(f"--min-think {minimum}: larger than --think-budget {budget}")
    return PromptControls(system_prompt=system, chat_template=template,
                          chat_template_sha256=sha256_text(template) if template is not None else None,
                          chat_template_kwargs=kwargs, assistant_prefill=values["assistant_prefill"] or None,
                          stop=stop, think_budget=budget, min_think=minimum)


def digest(shas: dict[str, str]) -> str:
    """One sha256 over per-problem sha256s (problem id order-free)."""
    return hashlib.sha256(json.dumps(sorted(shas.items())).encode()).hexdigest()
