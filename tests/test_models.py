"""Model specs: alias, .gguf file, local HF directory, hub id (offline here: a clear error)."""
import pytest

from harness.backends.base import Request, Sampling
from harness.backends.hf import HFBackend
from harness.errors import HarnessError
from harness.models import default_gguf_path, gguf_to_hf_dir, loadable_path, resolve_model


def test_alias_and_gguf_path_resolve_to_the_same_cached_directory():
    alias = resolve_model("smollm2-135m")
    direct = resolve_model(str(default_gguf_path()))
    assert (alias.kind, direct.kind) == ("alias", "gguf")
    assert alias.sha256 == direct.sha256 and len(alias.sha256) == 64
    assert loadable_path(alias) == loadable_path(direct)
    assert (gguf_to_hf_dir(default_gguf_path(), alias.sha256) / "model.safetensors").is_file()


def test_local_directory_loads_and_generates():
    directory = loadable_path(resolve_model("smollm2-135m"))
    spec = resolve_model(directory)
    assert spec.kind == "local"
    backend = HFBackend(directory, batch_size=2)
    request = Request("t", "t/1", 0, ({"role": "user", "content": "Say hi."},), seed=1)
    out = list(backend.generate([request, Request("t", "t/1", 1, request.messages, seed=2)],
                                Sampling(n=2, temperature=0.0, top_p=1.0, max_tokens=8)))
    assert [g.sample for g in out] == [0, 1]
    assert out[0].response == out[1].response  # greedy: same text for both samples
    assert all(1 <= g.num_tokens <= 8 for g in out)


def test_hub_id_fails_clearly_and_at_once_offline(monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(HarnessError, match="--model WeiboAI/VibeThinker-1.5B: not in the local Hugging Face cache"):
        resolve_model("WeiboAI/VibeThinker-1.5B")
    with pytest.raises(HarnessError, match="--model WeiboAI/VibeThinker-1.5B: not in the local Hugging Face cache"):
        HFBackend("WeiboAI/VibeThinker-1.5B")


@pytest.mark.parametrize("spec", ["./nowhere", "/no/such/dir", "a/b/c"])
def test_unresolvable_specs_name_the_flag(spec):
    with pytest.raises(HarnessError, match=f"--model {spec}"):
        resolve_model(spec)
