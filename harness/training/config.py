"""Training configs: one YAML file with a section per stage, validated by pydantic.

Every stage command reads the same file (`harness train sft --config recipe.yaml` runs the `sft`
section), so a recipe is one reviewable document. Values the VibeThinker paper does not state
(lambda, G, learning rates, KL, the K of Pass@K) are recorded choices of the config, never claims.
Unknown keys are errors, so a typo cannot silently fall back to a default. Sampling sections
produce a `harness.sampling.Sampling` (`sampling()`), which also validates them: one sampling type
for eval and training.
"""
from __future__ import annotations

from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from harness.errors import HarnessError
from harness.sampling import Sampling


class Section(BaseModel):
    model_config = ConfigDict(extra="forbid")


class TasksConfig(Section):
    """The generated toy subdomains (harness.training.toy_tasks); sizes are per subdomain."""
    domains: list[str] = ["algebra", "geometry", "calculus", "statistics"]
    train: int = Field(64, ge=1)
    probe: int = Field(8, ge=1)
    rl: int = Field(32, ge=1)
    eval: int = Field(16, ge=1)
    seed: int = 0
    code_domains: list[str] = ["stdin", "functional"]  # harness.training.code_tasks (data: toy_code)
    code_rl: int = Field(8, ge=1)  # code problems per code domain for RL
    code_train: int = Field(0, ge=0)  # code problems per code domain mixed into the toy SFT data


class SFTConfig(Section):
    data: str = "toy"  # "toy" or a JSONL file with messages|prompt, completion
    steps: int = Field(40, ge=1)
    batch_size: int = Field(8, ge=1)
    grad_accum: int = Field(1, ge=1)
    lr: float = Field(5e-5, gt=0)
    weight_decay: float = 0.0
    warmup_steps: int = Field(0, ge=0)
    max_length: int = Field(384, ge=8)
    save_every: int = Field(10, ge=1)
    grad_clip: float = 1.0
    allow_contaminated: bool = False
    # "loop": our reference loop (CPU); "trl": TRL's SFTTrainer with the same conventions (GPU recipe:
    # packing, gradient checkpointing, sharding through accelerate), harness.training.sft_trl
    trainer: Literal["loop", "trl"] = "loop"
    gradient_checkpointing: bool = False  # trl only


class SampledSection(Section):
    """A section that samples: `sampling()` is its `Sampling`, built (and so validated) on load."""

    def sampling(self) -> Sampling:
        raise NotImplementedError

    @model_validator(mode="after")
    def _valid_sampling(self):
        try:
            self.sampling()
        except HarnessError as exc:
            raise ValueError(str(exc)) from None
        return self


class StageEvalConfig(SampledSection):
    """Probe and eval: n samples per problem through the eval pipeline (hf backend, `batch_size`).

    `truncated_wrong` is the toy suites' option of that name (recorded in each run's manifest)."""
    n: int = 4
    temperature: float = 1.0
    top_p: float = 1.0
    max_tokens: int = 128
    seed: int = 0
    batch_size: int = Field(16, ge=1)
    truncated_wrong: bool = True

    def sampling(self) -> Sampling:
        return Sampling(n=self.n, temperature=self.temperature, top_p=self.top_p, max_tokens=self.max_tokens,
                        seed=self.seed)


class ProbeConfig(StageEvalConfig):
    k: int = Field(4, ge=1)

    @model_validator(mode="after")
    def _n_at_least_k(self):
        if self.n < self.k:
            raise ValueError(f"n = {self.n} < k = {self.k}: unbiased pass@K needs n >= K samples")
        return self


class MergeConfig(Section):
    checkpoints: list[str] | None = None  # default: the probe's specialists (duplicates kept)
    weights: list[float] | None = None  # default: uniform 1/N


class CodeRewardConfig(Section):
    """The code reward (harness.training.code_reward): LCB grader in the sandbox, per-rollout limits."""
    grader: Literal["fixed", "compat"] = "fixed"
    partial_credit: bool = False  # reward = share of tests passed (before the first failure) instead of 0/1
    timeout_s: int = Field(2, ge=1)  # per test; the grader's wall budget is (timeout+1)*tests+5 s
    memory_mb: int = Field(512, ge=64)
    sandbox: Literal["auto", "docker", "bwrap", "local"] = "auto"
    unsafe_local: bool = False
    workers: int = Field(2, ge=1)


PHASE_NAME = r"^[a-z0-9][a-z0-9_-]*$"


class PhaseConfig(Section):
    """One RL phase of the curriculum: its own stage directory OUT/mgpo-<name>/, started from the
    previous phase's last checkpoint (the first from mgpo.init / the merged model)."""
    name: str = Field(pattern=PHASE_NAME)
    data: str = "toy"  # "toy" (math rl split), "toy_code" (code rl split) or a JSONL file
    reward: Literal["math", "code"] = "math"
    max_new_tokens: int = Field(ge=1)
    steps: int = Field(ge=1)
    # Optional per-phase values of the mgpo section's batch shape and step size (None = the section's):
    # a code phase may score a fixed prompt set with larger groups than the math phases before it.
    prompts_per_step: int | None = Field(None, ge=1)
    group_size: int | None = Field(None, ge=2)
    lr: float | None = Field(None, gt=0)

    def overrides(self) -> dict:
        """The MGPO settings this phase sets (data, tokens, reward, steps, and any optional one given)."""
        return {name: value for name, value in self.model_dump(exclude={"name"}).items() if value is not None}

    @model_validator(mode="after")
    def _data_fits_reward(self):
        if (self.data == "toy_code") != (self.reward == "code") and self.data in ("toy", "toy_code"):
            raise ValueError(f"phase {self.name}: data {self.data} needs reward "
                             f"{'code' if self.data == 'toy_code' else 'math'}")
        return self


class MGPOConfig(SampledSection):
    init: str | None = None  # default: the merged model of this recipe
    data: str = "toy"  # "toy" or a JSONL file with messages|prompt, answer
    steps: int = Field(12, ge=1)
    prompts_per_step: int = Field(4, ge=1)
    group_size: int = Field(4, ge=2)
    lam: float = Field(0.0, ge=0)  # 0 = GRPO; the paper does not state its value
    p0: float = Field(0.5, gt=0, lt=1)
    scale_rewards: Literal["group", "batch", "none"] = "group"
    adv_eps: float = 1e-6
    eps_low: float = 0.2
    eps_high: float = 0.2
    loss_agg: Literal["seq-mean-token-mean", "token-mean", "seq-mean-token-sum", "dr_grpo"] = "seq-mean-token-mean"
    beta: float = Field(0.0, ge=0)  # k3 KL weight; 0 = no reference model is loaded
    mu: int = Field(1, ge=1)  # optimizer updates per rollout batch
    micro_batch: int = Field(8, ge=1)
    lr: float = Field(1e-6, gt=0)
    grad_clip: float = 1.0
    temperature: float = Field(1.0, gt=0)  # > 0: rollouts sample
    top_p: float = 1.0
    max_new_tokens: int = 128
    save_every: int = Field(4, ge=1)
    rollout: Literal["hf", "vllm"] = "hf"
    vllm_sync: Literal["load_weights", "rebuild"] = "load_weights"
    vllm_gpu_memory_utilization: float = 0.3
    seed: int = 0
    allow_contaminated: bool = False
    reward: Literal["math", "code"] = "math"  # of the single phase when `phases` is empty
    code: CodeRewardConfig = CodeRewardConfig()
    # The curriculum: ordered RL phases (data, max response tokens, reward, steps); empty = one phase
    # from this section's own data / max_new_tokens / reward / steps, in OUT/mgpo/.
    phases: list[PhaseConfig] = []

    @model_validator(mode="after")
    def _unique_phases(self):
        names = [phase.name for phase in self.phases]
        if len(set(names)) != len(names):
            raise ValueError(f"phase names must be unique: {names}")
        return self

    def phase_configs(self) -> list[tuple[str, "MGPOConfig"]]:
        """[(stage name, this section with the phase's settings)] in order."""
        if not self.phases:
            return [("mgpo", self)]
        return [(f"mgpo-{phase.name}", self.model_copy(update={**phase.overrides(), "phases": []}))
                for phase in self.phases]

    def sampling(self) -> Sampling:
        """G rollouts per prompt; top_k stays disabled (the loss scores the full distribution)."""
        return Sampling(n=self.group_size, temperature=self.temperature, top_p=self.top_p,
                        max_tokens=self.max_new_tokens, seed=self.seed)


class EvalConfig(StageEvalConfig):
    k: int = Field(1, ge=1)
    seed: int = 1
    # held-out generated code problems per code domain (tasks.code_domains), graded by the LCB grader in
    # the sandbox like the code phase's reward (suites/toy_code.py); 0 = math subdomains only
    code_problems: int = Field(0, ge=0)
    code_grader: Literal["fixed", "compat"] = "fixed"


class TrainConfig(Section):
    out: str
    model: str = "smollm2-135m"
    dtype: Literal["float32", "bfloat16", "float16"] = "float32"
    device: str = "cpu"
    threads: int | None = None  # torch threads; 1 is much faster for generation on a loaded shared CPU
    tasks: TasksConfig = TasksConfig()
    sft: SFTConfig = SFTConfig()
    probe: ProbeConfig = ProbeConfig()
    merge: MergeConfig = MergeConfig()
    mgpo: MGPOConfig = MGPOConfig()
    eval: EvalConfig = EvalConfig()
    notes: dict[str, str] = {}  # free text recorded in the report (e.g. what was not exercised)

    def stage_dir(self, stage: str) -> Path:
        return Path(self.out) / stage


def load_config(path: str | Path, out: str | None = None) -> TrainConfig:
    path = Path(path)
    try:
        raw = yaml.safe_load(path.read_text())
    except OSError as exc:
        raise HarnessError(f"--config {path}: cannot read ({exc.strerror})") from None
    except yaml.YAMLError as exc:
        raise HarnessError(f"--config {path}: not valid YAML ({str(exc).splitlines()[0]})") from None
    if not isinstance(raw, dict):
        raise HarnessError(f"--config {path}: expected a mapping of sections at the top level")
    if out is not None:
        raw["out"] = out
    try:
        return TrainConfig.model_validate(raw)
    except ValidationError as exc:
        first = exc.errors()[0]
        field = ".".join(str(part) for part in first["loc"]) or "(top level)"
        raise HarnessError(f"{path}: field {field}: {first['msg'].removeprefix('Value error, ')}") from None
