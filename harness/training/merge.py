"""Weighted linear merge of HF checkpoints (VibeThinker's Expert Model Fusion, mergekit's `linear`).

Written here rather than calling mergekit because the checks are the point: identical key sets and
shapes or an error (mergekit's rectify_embed_sizes silently truncates embeddings), fp32
accumulation with the input dtype kept, non-float tensors copied and checked equal, weights
normalised with zero-sum rejected. Merging works on the safetensors files, so tied embeddings
stay tied: the files of a tied model hold no lm_head.weight and none is invented; a mix of tied
and untied inputs is an error. config, generation_config and tokenizer files come from model 0.
"""
from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Sequence

import torch
from safetensors.torch import load_file, save_file

from harness.errors import HarnessError

WEIGHT_SUFFIXES = (".safetensors", ".bin", ".pt")
WEIGHT_FILES = ("model.safetensors.index.json", "pytorch_model.bin.index.json")


def normalized_weights(weights: Sequence[float] | None, count: int, allow_negative: bool = False) -> list[float]:
    weights = [1.0] * count if weights is None else [float(w) for w in weights]
    if len(weights) != count:
        raise HarnessError(f"merge.weights: {len(weights)} weights for {count} checkpoints")
    if not allow_negative and any(w < 0 for w in weights):
        raise HarnessError(f"merge.weights {weights}: negative weights are not allowed")
    total = sum(weights)
    if abs(total) < 1e-12:
        raise HarnessError(f"merge.weights {weights}: they sum to zero, cannot normalise")
    return [w / total for w in weights]


def linear_merge(state_dicts: Sequence[dict[str, torch.Tensor]], weights: Sequence[float] | None = None,
                 names: Sequence[str] | None = None) -> dict[str, torch.Tensor]:
    names = list(names or [f"model {i}" for i in range(len(state_dicts))])
    if not state_dicts:
        raise HarnessError("merge: no checkpoints to merge")
    effective = normalized_weights(weights, len(state_dicts))
    reference = state_dicts[0]
    for name, state in zip(names[1:], state_dicts[1:]):
        if set(state) != set(reference):
            extra, missing = sorted(set(state) - set(reference)), sorted(set(reference) - set(state))
            raise HarnessError(f"merge: {name} has different tensors than {names[0]} "
                               f"(extra {extra[:3]}, missing {missing[:3]})")
        for key, tensor in state.items():
            if tensor.shape != reference[key].shape or tensor.dtype != reference[key].dtype:
                raise HarnessError(f"merge: {name} {key} is {tuple(tensor.shape)} {tensor.dtype}, "
                                   f"{names[0]} has {tuple(reference[key].shape)} {reference[key].dtype}")
    merged = {}
    for key, first in reference.items():
        if not first.is_floating_point():
            for name, state in zip(names[1:], state_dicts[1:]):
                if not torch.equal(state[key], first):
                    raise HarnessError(f"merge: non-float tensor {key} differs between {names[0]} and {name}")
            merged[key] = first.clone()
            continue
        total = torch.zeros(first.shape, dtype=torch.float32)
        for weight, state in zip(effective, state_dicts):
            total += weight * state[key].to(torch.float32)
        merged[key] = total.to(first.dtype)
    return merged


def read_state_dict(directory: Path) -> dict[str, torch.Tensor]:
    files = sorted(directory.glob("*.safetensors"))
    if not files:
        raise HarnessError(f"merge: {directory} has no .safetensors weights")
    state: dict[str, torch.Tensor] = {}
    for file in files:
        state.update(load_file(str(file)))
    return state


def is_tied(directory: Path) -> bool:
    config = json.loads((directory / "config.json").read_text())
    return bool(config.get("tie_word_embeddings", config.get("text_config", {}).get("tie_word_embeddings", False)))


def merge_checkpoints(checkpoints: Sequence[str | Path], weights: Sequence[float] | None, out_dir: str | Path) -> dict:
    """Merge HF directories into `out_dir`; duplicates in `checkpoints` add their weights."""
    paths = [Path(p) for p in checkpoints]
    out = Path(out_dir)
    if out.exists():
        raise HarnessError(f"merge: {out} exists; not overwriting it")
    effective = normalized_weights(weights, len(paths))
    combined: dict[Path, float] = {}
    for path, weight in zip(paths, effective):
        combined[path] = combined.get(path, 0.0) + weight
    unique = list(combined)
    tied = {path: is_tied(path) for path in unique}
    if len(set(tied.values())) > 1:
        raise HarnessError(f"merge: mixing tied and untied embeddings ({ {str(p): t for p, t in tied.items()} })")
    merged = linear_merge([read_state_dict(path) for path in unique], [combined[p] for p in unique],
                          [str(p) for p in unique])
    staging = out.with_name(out.name + ".tmp")
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    for item in unique[0].iterdir():
        if item.is_file() and not item.name.endswith(WEIGHT_SUFFIXES) and item.name not in WEIGHT_FILES:
            shutil.copy2(item, staging / item.name)
    save_file(merged, str(staging / "model.safetensors"), metadata={"format": "pt"})
    record = {"checkpoints": [str(p) for p in unique], "weights": [combined[p] for p in unique],
              "requested": [str(p) for p in paths], "tied_embeddings": tied[unique[0]],
              "dtype": sorted({str(t.dtype) for t in merged.values()}), "tensors": len(merged)}
    (staging / "merge.json").write_text(json.dumps(record, indent=2) + "\n")
    staging.rename(out)
    return record
