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


CHAT_TEMPLATE = ("{% for message in messages %}<|im_start|>{{ message['role'] }}\n{{ message['content'] }}<|im_end|>\n"
                 "{% endfor %}{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}")


def char_tokenizer():
    """A character-level tokenizer with a Qwen-style chat template, pad != eos (docs/training.md 3.5)."""
    import string

    from tokenizers import Regex, Tokenizer, decoders, models, pre_tokenizers
    from transformers import PreTrainedTokenizerFast

    specials = ["<pad>", "<unk>", "<|im_start|>", "<|im_end|>"]
    chars = sorted(set(string.printable) - set("\x0b\x0c\r"))
    vocab = {token: index for index, token in enumerate(specials + chars)}
    core = Tokenizer(models.WordLevel(vocab, unk_token="<unk>"))
    core.pre_tokenizer = pre_tokenizers.Split(Regex("."), "isolated")
    core.decoder = decoders.Fuse()
    tokenizer = PreTrainedTokenizerFast(tokenizer_object=core, pad_token="<pad>", unk_token="<unk>",
                                        eos_token="<|im_end|>", additional_special_tokens=specials[2:])
    tokenizer.chat_template = CHAT_TEMPLATE
    return tokenizer
