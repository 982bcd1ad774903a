"""Budget forcing (s1, arXiv 2501.19393) for backends that generate locally: one loop, engine-agnostic.

A backend supplies `step(so_far, max_new_tokens, stops) -> Step`: generate after the prompt plus
the response so far, ending at EOS, at `max_new_tokens`, or before the first of `stops`. The loop:

1. Think phase, at most `--think-budget` tokens (default: the whole `max_tokens`), ended by the
   model at `</think>` or EOS. An end before `--min-think` tokens is dropped and replaced by the
   cue "Wait", and thinking continues (the cue's tokens count as thinking).
2. A think phase cut by the budget gets the closing tag and the answer cue appended (not counted:
   they are not the model's tokens); a natural `</think>` is kept.
3. Answer phase: the rest of `max_tokens`, ended by EOS or the run's `--stop` strings.

`num_think_tokens` + `num_answer_tokens` = `num_tokens` <= max_tokens. Why our own loop: s1's
reference code is a script around vLLM's offline API; the same few lines here serve hf and vllm.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Sequence

from harness.prompting import ANSWER_CUE, FORCED_CLOSE, THINK_CLOSE, WAIT_CUE, PromptControls

LENGTH, EOS = "length", "eos"


@dataclass(frozen=True)
class Step:
    text: str  # new text, without the stop string that ended it
    tokens: int
    ended: str  # LENGTH, EOS, or the stop string that matched


@dataclass(frozen=True)
class Forced:
    text: str  # the response after the prefill
    think_tokens: int
    answer_tokens: int
    finish_reason: str  # "stop" | "length"


def cut_at_stop(text: str, stops: Sequence[str]) -> tuple[str, str | None]:
    """Text before the earliest stop string, and that string (None when none occurs)."""
    hits = [(text.find(stop), stop) for stop in stops if stop in text]
    if not hits:
        return text, None
    index, stop = min(hits)
    return text[:index], stop


def budget_force(step: Callable[[str, int, list[str]], Step], controls: PromptControls, max_tokens: int,
                 count_tokens: Callable[[str], int]) -> Forced:
    budget = min(controls.think_budget or max_tokens, max_tokens)
    minimum = min(controls.min_think or 0, budget)
    text, think = "", 0
    while True:
        room = budget - think
        if room <= 0:
            ended = LENGTH
            break
        result = step(text, room, [THINK_CLOSE, *controls.stop])
        think += result.tokens
        text += result.text
        ended = result.ended
        if ended == LENGTH:
            break
        if ended in (THINK_CLOSE, EOS) and think < minimum:
            text += WAIT_CUE  # the model wanted to stop thinking: not yet
            think += count_tokens(WAIT_CUE)
            continue
        break
    if ended == THINK_CLOSE:
        text += THINK_CLOSE
    elif ended == LENGTH:
        if think >= max_tokens:
            return Forced(text, think, 0, "length")
        text += FORCED_CLOSE + ANSWER_CUE
    else:  # EOS or a --stop string while thinking: the response ends here
        return Forced(text, think, 0, "stop")
    if think >= max_tokens:
        return Forced(text, think, 0, "length")
    answer = step(text, max_tokens - think, list(controls.stop))
    return Forced(text + answer.text, think, answer.tokens, "length" if answer.ended == LENGTH else "stop")
