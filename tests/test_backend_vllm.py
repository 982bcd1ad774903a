"""The `vllm` backend short of the engine, and (on a GPU box) with it.

vLLM cannot run on CPU machines. Everything that does not need the engine is tested with real
parts (the real SmolLM2 tokenizer and chat template, the real CLI and run directory). Where the
engine's objects are needed (`LLM.generate` returning RequestOutputs), a stand-in `vllm` module
provides them; it answers with fixed texts, so what is tested is our request building, output
mapping, batching and resume, not generation.
"""
import importlib.util
import json
import sys
import types
from types import SimpleNamespace

import pytest

from conftest import read_jsonl, run_harness
from harness.backends.base import Request, Sampling, group_by_problem
from harness.backends.vllm import batches, prompt_token_ids, sampling_kwargs, to_generations
from harness.errors import HarnessError

HAS_VLLM = importlib.util.find_spec("vllm") is not None


@pytest.fixture(scope="module")
def tokenizer():
    from transformers import AutoTokenizer

    from harness.models import loadable_path, resolve_model

    return AutoTokenizer.from_pretrained(loadable_path(resolve_model("smollm2-135m")))


def requests_for(problem: str, samples, first_seed=7):
    return [Request("aime24", problem, s, ({"role": "user", "content": f"Question {problem}?"},), first_seed + s)
            for s in samples]


@pytest.mark.skipif(HAS_VLLM, reason="vLLM is installed here")
def test_missing_vllm_is_a_one_line_error(tmp_path):
    result = run_harness("eval", "--backend", "vllm", "--model", "smollm2-135m", "--suite", "aime24", "--limit", "1",
                         "-n", "1", "--out", str(tmp_path / "run"))
    assert result.returncode == 2
    assert result.stderr.strip().startswith("error: --backend vllm: vLLM is not installed")


def test_prompts_are_the_chat_template_tokens_with_one_bos(tokenizer):
    messages = ({"role": "user", "content": "What is 2+2?"},)
    ids = prompt_token_ids(tokenizer, messages)
    assert ids == tokenizer.apply_chat_template(list(messages), add_generation_prompt=True, tokenize=True,
                                                return_dict=True)["input_ids"]
    assert tokenizer.decode(ids).endswith("<|im_start|>assistant\n")
    assert tokenizer.decode(ids).count("<|im_start|>system") == 1


def test_sampling_params_for_a_problem_carry_n_and_the_first_seed():
    group = requests_for("aime24/I-01", [2, 3, 4])
    kwargs = sampling_kwargs(group, Sampling(n=8, temperature=1.0, top_p=0.95, max_tokens=40960, top_k=-1))
    assert kwargs == {"n": 3, "temperature": 1.0, "top_p": 0.95, "top_k": -1, "max_tokens": 40960, "seed": 9}


def test_batches_hold_whole_problems():
    groups = group_by_problem(requests_for("a", range(4)) + requests_for("b", range(4)) + requests_for("c", range(2)))
    sizes = [[len(g) for g in batch] for batch in batches(groups, 6)]
    assert sizes == [[4], [4, 2]]
    assert [[len(g) for g in batch] for batch in batches(groups, 100)] == [[4, 4, 2]]


def completion(index, text, finish="stop", tokens=3):
    return SimpleNamespace(index=index, text=text, finish_reason=finish, token_ids=list(range(tokens)))


def test_outputs_map_to_samples_by_index():
    group = requests_for("aime24/I-02", [0, 1])
    output = SimpleNamespace(outputs=[completion(1, "second", "length", 5), completion(0, "first")])
    generations = to_generations(group, output)
    assert [(g.sample, g.response, g.finish_reason, g.num_tokens, g.seed) for g in generations] == [
        (0, "first", "stop", 3, 7), (1, "second", "length", 5, 7)]
    with pytest.raises(HarnessError, match="returned 1 samples for aime24/I-02, asked 2"):
        to_generations(group, SimpleNamespace(outputs=[completion(0, "x")]))


class StandInEngine:
    """The part of `vllm.LLM` the backend uses; `crash_on_call` simulates a CUDA failure."""

    calls: list = []
    crash_on_call: int | None = None
    init_kwargs: dict = {}

    def __init__(self, model, **kwargs):
        from transformers import AutoTokenizer

        StandInEngine.init_kwargs = {"model": model, **kwargs}
        self._tokenizer = AutoTokenizer.from_pretrained(model)
        self.llm_engine = SimpleNamespace(model_config=SimpleNamespace(max_model_len=kwargs.get("max_model_len") or 8192))

    def get_tokenizer(self):
        return self._tokenizer

    def generate(self, prompts, params, use_tqdm=True):
        StandInEngine.calls.append([(p["prompt_token_ids"], sp.kwargs) for p, sp in zip(prompts, params)])
        if StandInEngine.crash_on_call == len(StandInEngine.calls):
            raise RuntimeError("CUDA error: an illegal memory access was encountered")
        return [SimpleNamespace(outputs=[completion(i, f"\\boxed{{{sp.kwargs['seed'] % 1000}}}") for i in range(sp.kwargs["n"])])
                for sp in params]


@pytest.fixture
def stand_in_vllm(monkeypatch):
    module = types.ModuleType("vllm")
    module.__version__ = "0.10.1"
    module.LLM = StandInEngine
    module.SamplingParams = lambda **kwargs: SimpleNamespace(kwargs=kwargs)
    module.envs = SimpleNamespace(VLLM_USE_V1=False)
    monkeypatch.setitem(sys.modules, "vllm", module)
    monkeypatch.setenv("HARNESS_PROGRESS", "off")
    monkeypatch.delenv("VLLM_USE_V1", raising=False)  # the backend sets it; restored afterwards
    StandInEngine.calls, StandInEngine.crash_on_call = [], None
    return module


def harness_main(*args):
    from harness.cli import main

    return main(list(args))


def test_a_crash_loses_at_most_one_batch_and_the_rerun_resumes(stand_in_vllm, tmp_path, capsys):
    out = tmp_path / "run"
    args = ["eval", "--backend", "vllm", "--model", "smollm2-135m", "--suite", "aime24", "--limit", "5", "-n", "4",
            "--batch-size", "8", "--tensor-parallel-size", "2", "--max-model-len", "4096", "--vllm-engine", "v0",
            "--max-tokens", "64", "--out", str(out)]
    StandInEngine.crash_on_call = 2
    assert harness_main(*args) == 3  # an engine crash is not a usage error: one line naming it, exit 3
    assert "RuntimeError: CUDA error" in capsys.readouterr().err
    first_batch = read_jsonl(out / "generations.jsonl")
    assert len(first_batch) == 8  # batch 1 (2 problems x 4 samples) written; batch 2 lost
    assert {g["problem_id"] for g in first_batch} == {"aime24/I-01", "aime24/I-02"}
    assert StandInEngine.init_kwargs["tensor_parallel_size"] == 2 and StandInEngine.init_kwargs["max_model_len"] == 4096

    StandInEngine.calls, StandInEngine.crash_on_call = [], None
    assert harness_main(*args) == 0
    asked = [kwargs for call in StandInEngine.calls for _, kwargs in call]
    assert sum(kwargs["n"] for kwargs in asked) == 12  # only the three problems not yet generated
    generations = read_jsonl(out / "generations.jsonl")
    assert generations[:8] == first_batch
    keys = [(g["problem_id"], g["sample"]) for g in generations]
    assert len(keys) == len(set(keys)) == 20
    for g in generations:  # each sample's recorded seed is its request's; the stand-in echoes it
        assert g["response"] == f"\\boxed{{{g['seed'] % 1000}}}" and g["num_tokens"] == 3
    manifest = json.loads((out / "manifest.json").read_text())
    backend = manifest["backend"]
    assert backend["backend"] == "vllm" and backend["vllm"] == "0.10.1" and backend["engine"] == "v0"
    assert backend["engine_settings"]["tensor_parallel_size"] == 2
    assert backend["engine_settings"]["max_model_len_effective"] == 4096
    assert backend["chat_template_sha256"] and "gpus" in backend
    assert len(read_jsonl(out / "grades.jsonl")) == 20


def test_v0_on_a_vllm_without_it_is_a_clear_error(stand_in_vllm, tmp_path):
    stand_in_vllm.envs = SimpleNamespace(VLLM_USE_V1=True)
    stand_in_vllm.__version__ = "0.11.0"
    with pytest.raises(HarnessError, match="vLLM 0.11.0 has no V0 engine"):
        from harness.backends.vllm import VLLMBackend

        VLLMBackend("smollm2-135m", engine="v0")


def cuda_available() -> bool:
    try:
        import torch

        return torch.cuda.is_available()
    except ImportError:
        return False


@pytest.mark.gpu
@pytest.mark.vllm
@pytest.mark.skipif(not HAS_VLLM, reason="needs vLLM (pip install 'ssp-harness[vllm]')")
@pytest.mark.skipif(not cuda_available(), reason="needs a CUDA GPU")
def test_real_engine_eval_on_a_gpu(tmp_path):
    out = tmp_path / "run"
    result = run_harness("eval", "--backend", "vllm", "--model", "smollm2-135m", "--suite", "gpqa_diamond",
                         "--limit", "4", "-n", "4", "--max-tokens", "256", "--max-model-len", "4096", "--out", str(out))
    assert result.returncode == 0, result.stderr
    generations = read_jsonl(out / "generations.jsonl")
    assert len(generations) == 16 and all(g["finish_reason"] in {"stop", "length"} for g in generations)
    assert json.loads((out / "manifest.json").read_text())["backend"]["gpus"]
