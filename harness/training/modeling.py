"""Loading the policy for training: any model spec the harness accepts, in the config's dtype."""
from __future__ import annotations

import torch

from harness.models import loadable_path, resolve_model


def set_threads(threads: int | None) -> None:
    if threads:
        torch.set_num_threads(threads)


def load_policy(model: str, dtype: str = "float32", device: str = "cpu"):
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from harness.errors import HarnessError

    path = loadable_path(resolve_model(model))
    try:
        tokenizer = AutoTokenizer.from_pretrained(path)
        network = AutoModelForCausalLM.from_pretrained(path, dtype=getattr(torch, dtype)).to(device)
    except OSError as exc:
        raise HarnessError(f"model {model}: could not load ({str(exc).splitlines()[0]})") from exc
    if tokenizer.pad_token_id is None:
        tokenizer.pad_token = tokenizer.eos_token
    return network, tokenizer


def eos_ids(model, tokenizer) -> set[int]:
    ids = model.generation_config.eos_token_id
    ids = ids if isinstance(ids, list) else [ids]
    return {i for i in ids + [tokenizer.eos_token_id] if i is not None}
