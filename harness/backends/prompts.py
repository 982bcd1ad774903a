"""One prompt-rendering function for every backend that applies a chat template itself."""
from __future__ import annotations

import hashlib
from typing import Any, Sequence


def render_prompt(tokenizer: Any, messages: Sequence[dict[str, str]]) -> str:
    """The chat template with the generation prompt added; raw concatenation without a template."""
    if getattr(tokenizer, "chat_template", None):
        return tokenizer.apply_chat_template(list(messages), tokenize=False, add_generation_prompt=True)
    return "\n\n".join(message["content"] for message in messages)


def chat_template_sha256(tokenizer: Any) -> str | None:
    template = getattr(tokenizer, "chat_template", None)
    if not template:
        return None
    return hashlib.sha256(str(template).encode()).hexdigest()
