"""Tiny models built from a config (no downloads) for the training tests."""
from __future__ import annotations

import torch
from transformers import LlamaConfig, LlamaForCausalLM, Qwen2Config, Qwen2ForCausalLM


def tiny_qwen2(vocab_size: int = 32, hidden: int = 64, layers: int = 2, seed: int = 0,
               tie: bool = True, eos_token_id: int = 1, pad_token_id: int = 0) -> Qwen2ForCausalLM:
    torch.manual_seed(seed)
    config = Qwen2Config(vocab_size=vocab_size, hidden_size=hidden, intermediate_size=4 * hidden,
                         num_hidden_layers=layers, num_attention_heads=4, num_key_value_heads=2,
                         max_position_embeddings=256, tie_word_embeddings=tie,
                         eos_token_id=eos_token_id, pad_token_id=pad_token_id)
    return Qwen2ForCausalLM(config).eval()


def tiny_llama_for(tokenizer, hidden: int = 64, layers: int = 2, seed: int = 0) -> LlamaForCausalLM:
    """A SmolLM2-shaped (Llama, tied) pico model over the real SmolLM2 tokenizer's vocabulary."""
    torch.manual_seed(seed)
    config = LlamaConfig(vocab_size=len(tokenizer), hidden_size=hidden, intermediate_size=2 * hidden,
                         num_hidden_layers=layers, num_attention_heads=4, num_key_value_heads=2,
                         max_position_embeddings=512, tie_word_embeddings=True,
                         eos_token_id=tokenizer.eos_token_id, pad_token_id=tokenizer.pad_token_id,
                         bos_token_id=tokenizer.bos_token_id)
    return LlamaForCausalLM(config)


def smollm2_dir() -> str:
    from harness.models import loadable_path, resolve_model

    return loadable_path(resolve_model("smollm2-135m"))
