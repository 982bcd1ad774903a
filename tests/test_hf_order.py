"""hf request order and dtype choice (no model loaded): batches are cut the same way locally and in shards."""
from harness.backends.base import Request
from harness.backends.hf import INFO, order_requests, resolve_dtype
from harness.executors.shards import generation_units


def request(problem: str, sample: int, length: int) -> Request:
    return Request("math500", problem, sample, ({"role": "user", "content": "x" * length},), 1000 * length + sample)


def test_longest_prompt_first_keeps_a_problems_samples_together_and_in_order():
    requests = [request(p, s, length) for p, length in (("a", 5), ("b", 50), ("c", 20), ("d", 50)) for s in range(3)]
    ordered = order_requests(requests)
    assert [(r.problem_id, r.sample) for r in ordered] == [
        ("b", 0), ("b", 1), ("b", 2), ("d", 0), ("d", 1), ("d", 2), ("c", 0), ("c", 1), ("c", 2),
        ("a", 0), ("a", 1), ("a", 2)]
    assert order_requests(ordered) == ordered  # a batch re-ordered by the backend keeps its first request


def test_shard_units_are_the_batches_the_backend_makes():
    requests = [request(f"p{i}", s, (i * 7) % 13 + 1) for i in range(9) for s in range(2)]
    units = generation_units(requests, INFO, {"batch_size": 4})
    ordered = order_requests(requests)
    assert units == [ordered[i:i + 4] for i in range(0, len(ordered), 4)]
    for unit in units:  # what the Ray executor hands the backend: seeded by the same first request
        assert order_requests(unit)[0] == unit[0]


def test_dtype_choice_is_explicit_or_follows_the_cpu(monkeypatch):
    assert resolve_dtype("float32", "cpu") == ("float32", "--dtype")
    monkeypatch.setenv("HARNESS_CPU_BF16", "0")
    assert resolve_dtype("auto", "cpu")[0] == "float32"
    monkeypatch.delenv("HARNESS_CPU_BF16")
    monkeypatch.setattr("harness.backends.hf.cpu_has_bf16", lambda: False)
    assert resolve_dtype("auto", "cpu")[0] == "float32"
    monkeypatch.setattr("harness.backends.hf.cpu_has_bf16", lambda: True)
    assert resolve_dtype("auto", "cpu")[0] == "bfloat16"
    assert resolve_dtype("auto", "cuda")[0] == "auto"
