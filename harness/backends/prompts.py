"""One prompt-rendering function for every backend that applies a chat template itself.

The prompt controls (`harness.prompting.PromptControls`) are applied here: the messages already
carry the system prompt; the chat template (the model's, or `--chat-template`'s) is rendered with
`--chat-template-kwargs` as template variables, and `--assistant-prefill` is appended after the
generation prompt, so the model continues the response from it. For a server that applies its own
template (`--api chat`) `chat_body` builds the request instead, and `PromptRenderer` hashes that
request's prompt part: in both cases the recorded sha256 is of the bytes the harness sends.
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from typing import Any, Sequence

from harness.prompting import PromptControls, sha256_text

NO_CONTROLS = PromptControls()


def render_prompt(tokenizer: Any, messages: Sequence[dict[str, str]], controls: PromptControls | None = None) -> str:
    """The chat template with the generation prompt added, then the prefill; raw concatenation without a template."""
    controls = controls or NO_CONTROLS
    if controls.chat_template or getattr(tokenizer, "chat_template", None):
        text = tokenizer.apply_chat_template(list(messages), tokenize=False, add_generation_prompt=True,
                                             chat_template=controls.chat_template, **controls.chat_template_kwargs)
    else:
        text = "\n\n".join(message["content"] for message in messages)
    return text + controls.prefill


def chat_body(messages: Sequence[dict[str, str]], controls: PromptControls | None = None) -> tuple[list[dict], dict]:
    """(messages, extra body fields) for a chat-completions server that renders the template itself.

    The prefill is a final assistant message the server continues (`continue_final_message`, with
    `add_generation_prompt` off: vLLM's and SGLang's names); template kwargs go as
    `chat_template_kwargs`, which vLLM and SGLang pass to the template.
    """
    controls = controls or NO_CONTROLS
    sent, extra = list(messages), {}
    if controls.chat_template_kwargs:
        extra["chat_template_kwargs"] = dict(controls.chat_template_kwargs)
    if controls.assistant_prefill:
        sent.append({"role": "assistant", "content": controls.assistant_prefill})
        extra.update(continue_final_message=True, add_generation_prompt=False)
    return sent, extra


@dataclass
class PromptRenderer:
    """Renders what a backend will send: text through a tokenizer's template, or a chat request body."""

    tokenizer: Any | None  # None: the server applies the template (openai --api chat)
    controls: PromptControls = field(default_factory=PromptControls)

    def render(self, messages: Sequence[dict[str, str]]) -> str:
        if self.tokenizer is not None:
            return render_prompt(self.tokenizer, messages, self.controls)
        sent, extra = chat_body(messages, self.controls)
        return json.dumps({"messages": sent, **extra}, ensure_ascii=False, sort_keys=True)

    @property
    def renders_text(self) -> bool:
        return self.tokenizer is not None

    def sha256(self, messages: Sequence[dict[str, str]]) -> str:
        return sha256_text(self.render(messages))


def chat_template_sha256(tokenizer: Any, controls: PromptControls | None = None) -> str | None:
    template = (controls.chat_template if controls else None) or getattr(tokenizer, "chat_template", None)
    if not template:
        return None
    return hashlib.sha256(str(template).encode()).hexdigest()
