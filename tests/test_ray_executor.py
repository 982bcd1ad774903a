"""`--executor ray` on a local 2-worker Ray cluster: same run directory as a local run, and real
kills of a worker and of the driver lose and repeat nothing.

Every Ray command runs in its own session; afterwards no process of that session may be left
(the driver shuts its cluster down), and a test that kills a driver removes what it leaves.
"""
import importlib.util
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from conftest import REPO, free_port, run_harness

pytest.importorskip("ray")

EVAL = ["eval", "--suite", "aime24,math500", "--model", "smollm2-135m", "--limit", "2", "-n", "2",
        "--batch-size", "2", "--max-tokens", "16", "--k", "1,2"]
RAY = ["--executor", "ray", "--ray-num-workers", "2"]


def session_processes(sid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[3]) == sid and fields[0] != "Z":
            found.append(int(entry.name))
    return found


def end_session(sid: int) -> list[int]:
    """SIGKILL whatever is left of a session we started; returns what was left."""
    left = session_processes(sid)
    for pid in left:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    return left


def start(*args: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "harness", *args], cwd=REPO, text=True, start_new_session=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, env={**os.environ, "HARNESS_PROGRESS": "off"})


def finish(process: subprocess.Popen, timeout: float = 900) -> tuple[str, str, list[int]]:
    """Wait for a command; returns stdout, stderr and the processes its session still had 10 s later."""
    try:
        stdout, stderr = process.communicate(timeout=timeout)
    finally:
        process.kill()
    deadline = time.time() + 10
    while session_processes(process.pid) and time.time() < deadline:
        time.sleep(0.5)
    return stdout, stderr, end_session(process.pid)


def run_ray(*args: str) -> tuple[str, str]:
    stdout, stderr, left = finish(start(*args))
    assert "Traceback" not in stderr, stderr
    assert not left, f"processes left after the command: {left}"
    return stdout, stderr


def lines(path: Path) -> list[str]:
    return [line for line in path.read_text().splitlines() if line.strip()] if path.exists() else []


@pytest.fixture(scope="module")
def local_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("ray") / "local"
    # Ray gives each 1-CPU worker one torch thread; bf16 matmuls sum in a thread-count-dependent
    # order, so the local run uses one thread too (identical runs need identical arithmetic)
    result = run_harness(*EVAL, "--out", str(out), env={"OMP_NUM_THREADS": "1"})
    assert result.returncode == 0, result.stderr
    return out


def assert_same_run(local: Path, other: Path) -> None:
    for name in ("generations.jsonl", "grades.jsonl"):
        assert (other / name).read_text() == (local / name).read_text(), name
    assert json.loads((other / "metrics.json").read_text()) == json.loads((local / "metrics.json").read_text())
    assert not (other / "shards").exists()


@pytest.mark.slow  # ~150 s measured: a local and a Ray eval of the CPU model
def test_ray_eval_writes_the_run_directory_a_local_run_writes(local_run, tmp_path):
    out = tmp_path / "ray"
    stdout, _ = run_ray(*EVAL, *RAY, "--ray-shard-size", "2", "--out", str(out))
    assert "8 to generate in 4 shards" in stdout
    assert_same_run(local_run, out)
    assert len(lines(out / "generations.jsonl")) == 8
    session = json.loads((out / "manifest.json").read_text())["sessions"][-1]["executor"]
    assert session["name"] == "ray" and session["stages"]["generations"]["shards"] == 4
    assert len(session["stages"]["generations"]["workers"]) == 2
    assert session["stages"]["generations"]["worker_deaths"] == []


def skythought_slice(shared_dir: Path, path: Path, rows: int = 48) -> Path:
    """Published MATH500 responses (SkyThought, 4 models) as generations: sample s = model s."""
    from suites import get_suite

    ids = [problem.problem_id for problem in get_suite("math500").load_problems()]
    records = []
    for sample, source in enumerate(sorted((shared_dir / "data/golden/skythought").glob("*__math500.jsonl"))):
        for line in source.read_text().splitlines()[: rows // 4]:
            row = json.loads(line)
            records.append({"problem_id": ids[row["idx"]], "sample": sample, "response": row["code"][0]})
    path.write_text("".join(json.dumps(r) + "\n" for r in records))
    return path


def test_ray_regrade_gives_the_local_verdicts(shared_dir, tmp_path):
    generations = skythought_slice(shared_dir, tmp_path / "published.jsonl")
    local = run_harness("grade", "--suite", "math500", "--generations", str(generations), "--out", str(tmp_path / "l"))
    assert local.returncode == 0, local.stderr
    stdout, _ = run_ray("grade", "--suite", "math500", "--generations", str(generations), "--out", str(tmp_path / "r"),
                        *RAY, "--ray-shard-size", "10")
    assert "48 to grade in 5 shards" in stdout
    assert_same_run(tmp_path / "l", tmp_path / "r")
    verdicts = [json.loads(line) for line in lines(tmp_path / "r" / "grades.jsonl")]
    assert {v["correct"] for v in verdicts} == {True, False}  # a comparison that could have failed


def wait_for(condition, timeout: float = 600, what: str = ""):
    deadline = time.time() + timeout
    while time.time() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


@pytest.mark.slow
def test_killing_a_worker_mid_shard_requeues_it_and_loses_nothing(local_run, tmp_path):
    out = tmp_path / "worker-killed"
    process = start(*EVAL, *RAY, "--ray-shard-size", "4", "--out", str(out))  # 2 shards of 2 hf batches
    shard = out / "shards" / "generations-aime24+math500-00000.jsonl"  # the two suites sample alike: one group
    try:
        wait_for(lambda: len(lines(shard)) >= 2, what="the first batch of the aime24 shard")
        assigned = [json.loads(line) for line in lines(out / "shards" / "events.jsonl")]
        pid = next(e["pid"] for e in assigned if e["event"] == "assign" and e["shard"] == shard.stem)
        written = len(lines(shard))
        os.kill(pid, signal.SIGKILL)
    finally:
        stdout, stderr, left = finish(process)
    assert written < 4, "the kill must land mid-shard"
    assert process.returncode == 0, stderr
    assert not left
    assert f"(pid {pid}) died during generations-aime24+math500-00000; re-queued its 2 unfinished samples" in stdout
    assert_same_run(local_run, out)
    deaths = json.loads((out / "manifest.json").read_text())["sessions"][-1]["executor"]["stages"]["generations"]
    assert [d["pid"] for d in deaths["worker_deaths"]] == [pid]


@pytest.mark.slow
def test_a_killed_driver_resumes_from_what_its_shards_wrote(local_run, tmp_path):
    out = tmp_path / "driver-killed"
    args = [*EVAL, *RAY, "--ray-shard-size", "2", "--out", str(out)]
    process = start(*args)
    try:
        wait_for(lambda: sum(len(lines(p)) for p in (out / "shards").glob("generations-*.jsonl")) >= 2,
                 what="a finished batch")
        os.killpg(process.pid, signal.SIGKILL)  # the driver and the local cluster it started
        process.wait()
    finally:
        finish(process)
    written = sum(len(lines(p)) for p in (out / "shards").glob("generations-*.jsonl"))
    assert 2 <= written < 8 and not (out / "metrics.json").exists()
    assert lines(out / "generations.jsonl") == []  # results so far live only in the shards
    stdout, _ = run_ray(*args)
    assert f"ray: {written} samples already in {out / 'shards'}; {8 - written} to generate" in stdout
    assert_same_run(local_run, out)
    assert len(json.loads((out / "manifest.json").read_text())["sessions"]) == 2


def accepts(port: int) -> bool:
    import socket

    try:
        socket.create_connection(("127.0.0.1", port), timeout=1).close()
        return True
    except OSError:
        return False


def test_grading_on_an_existing_cluster_given_by_address(shared_dir, tmp_path):
    generations = skythought_slice(shared_dir, tmp_path / "published.jsonl", rows=16)
    port = free_port()
    env = {**os.environ, "RAY_AUTH_MODE": "token"}
    head = subprocess.Popen(["ray", "start", "--head", "--block", "--port", str(port), "--num-cpus", "2",
                             "--include-dashboard", "false",
                             "--disable-usage-stats"], env=env, start_new_session=True,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_for(lambda: accepts(port), timeout=120, what="the Ray head")
        result = run_harness("grade", "--suite", "math500", "--generations", str(generations), "--out", str(tmp_path / "r"),
                             "--executor", "ray", "--ray-address", f"127.0.0.1:{port}", env={"RAY_AUTH_MODE": "token"})
    finally:
        os.killpg(head.pid, signal.SIGTERM)
        head.wait()
        time.sleep(3)
        end_session(head.pid)
        current = Path("/tmp/ray/ray_current_cluster")  # our head's address, which a kill leaves behind
        if current.exists() and current.read_text().strip().endswith(f":{port}"):
            current.unlink()
    assert result.returncode == 0, result.stderr
    assert f"ray: connected to 127.0.0.1:{port} (1 node(s), 2 CPU" in result.stdout
    local = run_harness("grade", "--suite", "math500", "--generations", str(generations), "--out", str(tmp_path / "l"))
    assert local.returncode == 0, local.stderr
    assert_same_run(tmp_path / "l", tmp_path / "r")


def test_an_unreachable_cluster_address_is_a_one_line_error(tmp_path):
    generations = tmp_path / "g.jsonl"
    generations.write_text(json.dumps({"problem_id": "aime24/I-01", "sample": 0, "response": "\\boxed{1}"}) + "\n")
    result = run_harness("grade", "--suite", "aime24", "--generations", str(generations), "--out", str(tmp_path / "r"),
                         "--executor", "ray", "--ray-address", f"127.0.0.1:{free_port()}", timeout=120)
    assert result.returncode == 2
    assert result.stderr.startswith("error: --ray-address 127.0.0.1:") and "no Ray head answers" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_vllm_workers_without_gpus_are_refused_before_anything_starts(tmp_path):
    result = run_harness("eval", "--suite", "aime24", "--model", "smollm2-135m", "--backend", "vllm", "--limit", "1",
                         "-n", "1", "--out", str(tmp_path / "r"), "--executor", "ray", "--ray-gpus-per-worker", "0")
    assert result.returncode == 2
    assert result.stderr.strip() == ("error: --ray-gpus-per-worker 0: --backend vllm needs at least 1 GPU(s) per "
                                     "worker")


def cuda_devices() -> int:
    try:
        import torch

        return torch.cuda.device_count()
    except Exception:
        return 0


@pytest.mark.gpu
@pytest.mark.vllm
@pytest.mark.skipif(importlib.util.find_spec("vllm") is None, reason="needs vLLM (pip install 'ssp-harness[vllm]')")
@pytest.mark.skipif(cuda_devices() < 1, reason="needs a CUDA GPU")
def test_vllm_engines_on_ray_gpu_workers_make_the_local_samples(tmp_path):
    args = ["eval", "--backend", "vllm", "--model", "smollm2-135m", "--suite", "aime24", "--limit", "4", "-n", "4",
            "--max-tokens", "128", "--max-model-len", "4096"]
    local = run_harness(*args, "--out", str(tmp_path / "local"))
    assert local.returncode == 0, local.stderr
    workers = str(min(2, cuda_devices()))
    run_ray(*args, "--executor", "ray", "--ray-num-workers", workers, "--ray-gpus-per-worker", "1",
            "--ray-shard-size", "8", "--out", str(tmp_path / "ray"))

    def samples(name):
        return [(g["problem_id"], g["sample"], g["seed"]) for g in map(json.loads, lines(tmp_path / name / "generations.jsonl"))]
    assert samples("ray") == samples("local")  # GPU kernels need not be bitwise repeatable: seeds, not texts
    workers_seen = json.loads((tmp_path / "ray" / "manifest.json").read_text())["sessions"][-1]["executor"]
    assert all(w["gpus"] for w in workers_seen["stages"]["generations"]["workers"])
