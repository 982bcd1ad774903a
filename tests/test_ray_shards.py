"""How work is cut into shards and put back together (no Ray needed)."""
import json

from harness.backends.base import Request
from harness.backends import backend_info
from harness.executors.shards import Shard, ShardStore, cut_shards, generation_units, item_key, pack_units
from harness.rundir import RunDir


def requests(problems=3, n=2, suite="aime24"):
    return [Request(suite, f"p{p}", s, ({"role": "user", "content": f"q{p}"},), 1000 * p + s)
            for p in range(problems) for s in range(n)]


def keys(items):
    return [item_key(i) for i in items]


def test_hf_units_are_its_batches_and_other_backends_units_are_problems():
    work = requests(problems=3, n=2)
    assert [len(u) for u in generation_units(work, backend_info("hf"), {"batch_size": 4})] == [4, 2]
    assert [keys(u) for u in generation_units(work, backend_info("vllm"), {})] == [keys(work[0:2]), keys(work[2:4]), keys(work[4:6])]


def test_packing_never_splits_a_unit_and_keeps_the_order():
    units = [[1, 2], [3, 4, 5], [6], [7, 8]]
    assert pack_units(units, 4) == [[[1, 2]], [[3, 4, 5], [6]], [[7, 8]]]
    assert pack_units(units, 100) == [units]
    assert pack_units(units, 1) == [[u] for u in units]


def test_shards_are_cut_from_the_full_list_so_resuming_does_not_move_them():
    work = requests(problems=4, n=2)
    units = generation_units(work, backend_info("hf"), {"batch_size": 2})
    fresh = cut_shards("generations", "aime24", units, 4, set(keys(work)))
    assert [(s.index, len(s)) for s in fresh] == [(0, 4), (1, 4)]
    # the first shard finished and one sample of the second batch of shard 1 was written
    pending = set(keys(work[5:6] + work[6:8]))
    resumed = cut_shards("generations", "aime24", units, 4, pending)
    assert [s.index for s in resumed] == [1]
    shard = resumed[0]
    assert keys(shard.items) == keys(work[5:8])
    # the half-written batch is regenerated whole so its seed is the one a local run uses
    assert [keys(u) for u in shard.started_units] == [keys(work[4:6]), keys(work[6:8])]
    assert shard.done == {item_key(work[4])}


def test_without_removes_only_this_shards_items():
    work = requests(problems=2, n=2)
    shard = Shard("generations", "aime24", 0, (tuple(work[:2]),))
    left = shard.without({item_key(work[0]), item_key(work[3])})
    assert keys(left.items) == keys(work[1:2]) and len(left) == 1


def record(problem, sample, text="x"):
    return {"suite": "aime24", "problem_id": problem, "sample": sample, "response": text}


def test_assembly_appends_in_canonical_order_and_removes_shards(tmp_path):
    run = RunDir(tmp_path)
    store = ShardStore(run)
    order = [("aime24", p, s) for p in ("a", "b") for s in (0, 1)]
    (tmp_path / "generations.jsonl").write_text(json.dumps(record("a", 0, "kept")) + "\n")
    store.path.mkdir()
    (store.path / "generations-aime24-00001.jsonl").write_text(
        json.dumps(record("b", 1)) + "\n" + json.dumps(record("b", 0)) + "\n")
    (store.path / "generations-aime24-00000.jsonl").write_text(
        json.dumps(record("a", 1)) + "\n" + json.dumps(record("a", 0, "duplicate")) + "\n" + '{"suite": "aim')
    (store.path / "events.jsonl").write_text("{}\n")
    added = store.assemble("generations", order)
    assert added == set(order[1:])
    lines = [json.loads(line) for line in (tmp_path / "generations.jsonl").read_text().splitlines()]
    assert [(r["problem_id"], r["sample"]) for r in lines] == [("a", 0), ("a", 1), ("b", 0), ("b", 1)]
    assert lines[0]["response"] == "kept"  # nothing already in the main file is rewritten
    assert not store.path.exists()


def test_shard_files_with_results_missing_from_the_main_file_are_kept(tmp_path):
    run = RunDir(tmp_path)
    store = ShardStore(run)
    store.path.mkdir()
    (store.path / "grades-aime24-00000.jsonl").write_text(json.dumps(record("z", 0)) + "\n")
    assert store.assemble("grades", [("aime24", "a", 0)]) == set()
    assert (store.path / "grades-aime24-00000.jsonl").exists()
    assert set(store.records("grades")) == {("aime24", "z", 0)}


def test_a_local_resume_takes_what_a_killed_distributed_run_left_in_shards(tmp_path):
    from conftest import run_harness

    generations = tmp_path / "g.jsonl"
    generations.write_text("".join(json.dumps({"problem_id": f"aime24/I-0{p}", "sample": 0, "response": f"\\boxed{{{p}}}"}) + "\n"
                                   for p in (1, 2, 3)))
    out = tmp_path / "run"
    args = ("grade", "--suite", "aime24", "--generations", str(generations), "--out", str(out))
    assert run_harness(*args).returncode == 0
    graded = (out / "grades.jsonl").read_text().splitlines()
    # as a killed Ray driver leaves it: one grade assembled, one only in a shard, one never made
    (out / "grades.jsonl").write_text(graded[0] + "\n")
    (out / "metrics.json").unlink()
    (out / "shards").mkdir()
    from_shard = {**json.loads(graded[1]), "reason": "written-by-a-shard"}
    (out / "shards" / "grades-aime24-00000.jsonl").write_text(json.dumps(from_shard) + "\n")
    result = run_harness(*args)
    assert result.returncode == 0, result.stderr
    lines = (out / "grades.jsonl").read_text().splitlines()
    assert lines[0] == graded[0] and lines[2] == graded[2]
    assert json.loads(lines[1]) == from_shard  # taken as written, not graded again
    assert not (out / "shards").exists()


def test_every_registered_backend_declares_itself():
    import importlib

    from harness.backends import BACKEND_MODULES
    from harness.backends.base import BackendInfo
    from harness.settings import Role

    for name, module_name in BACKEND_MODULES.items():
        module = importlib.import_module(module_name)  # cheap: engines are imported when built
        assert isinstance(module.INFO, BackendInfo) and module.INFO.name == name
        assert callable(module.create)
        assert module.INFO.shard_unit in ("batch", "problem")
        assert all(option.role is Role.PLACE for option in module.INFO.options)
    assert backend_info("vllm").gpus_needed({"tensor_parallel_size": 4}) == 4
    assert backend_info("hf").unit_size({}) == 32 and backend_info("openai").unit_size({}) is None


def test_suites_that_sample_alike_are_one_group_in_first_seen_order():
    from types import SimpleNamespace

    from harness.executors.shards import sampling_groups
    from harness.prompting import PromptControls
    from harness.sampling import Sampling

    def plan(name: str, n: int, controls: PromptControls = PromptControls()):
        requests = [Request(name, f"{name}/{i}", s, ({"role": "user", "content": name * (i + 1)},), 10 * i + s)
                    for i in range(2) for s in range(n)]
        return SimpleNamespace(suite=SimpleNamespace(name=name), controls=controls,
                               sampling=Sampling(n=n, temperature=1.0, top_p=0.95, max_tokens=64, seed=0),
                               requests=lambda: requests), requests

    (a, a_all), (b, b_all), (c, c_all) = plan("aime24", 2), plan("math500", 2), plan("gpqa", 4)
    (d, d_all) = plan("hmmt25", 2, PromptControls(chat_template_kwargs={"enable_thinking": True}))
    groups = sampling_groups([(a, a_all[1:]), (c, c_all), (b, b_all), (d, d_all)])
    assert [g.name for g in groups] == ["aime24+math500", "gpqa", "hmmt25"]
    assert list(groups[0].pending) == a_all[1:] + b_all and groups[0].requests() == a_all + b_all
    # a batch of the group mixes suites, in the backend's own order (longest prompt first)
    units = generation_units(groups[0].requests(), backend_info("hf"), {"batch_size": 8})
    assert len(units) == 1 and {r.suite for r in units[0]} == {"aime24", "math500"}
    assert [r.problem_id for r in units[0]][:2] == ["math500/1", "math500/1"]


def test_grading_shards_locate_generations_without_holding_their_responses(tmp_path):
    from harness.executors.ray_executor import generation_spans
    from harness.rundir import LinesAt

    run = RunDir(tmp_path)
    records = [{"suite": s, "problem_id": f"{s}/{i}", "sample": 0, "response": "é" * (50 + i)}
               for i, s in enumerate(["aime24", "math500", "aime24"])]
    run.generations_path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records), encoding="utf-8")
    located = generation_spans(run, {"aime24"})
    assert list(located) == ["aime24"] and [i["problem_id"] for i in located["aime24"]] == ["aime24/0", "aime24/2"]
    assert all("response" not in item for item in located["aime24"])
    back = list(LinesAt(run.generations_path, [(i["offset"], i["length"]) for i in located["aime24"]]))
    assert back == [records[0], records[2]]
