"""The `openai` backend against real servers on 127.0.0.1.

Most tests talk to `transformers serve` serving the embedded default model. Its model directory
is a copy (symlinks) of the converted SmolLM2 with `do_sample: true` in generation_config.json:
`transformers serve` only samples when the model's generation config does (it ignores
`temperature` otherwise), and the tests check that sampling really happens. Behaviours no healthy
server shows on demand (429/503 then success, a server that rejects `seed`, one that honours `n`)
are tested against a small http.server app that answers in the OpenAI format.
"""
import http.server
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

import pytest

from conftest import REPO, free_port, read_jsonl, run_harness
from harness.backends.base import Request, Sampling
from harness.errors import HarnessError

pytest.importorskip("openai", reason="the openai backend needs `pip install 'ssp-harness[openai]'`")
SECRET = "sk-test-never-recorded-7f3a"


class TransformersServe:
    """`transformers serve DIR` in a subprocess; restartable on the same port."""

    def __init__(self, model_dir: Path, log: Path):
        self.model_dir, self.log, self.port, self.process = model_dir, log, free_port(), None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    def start(self, timeout: float = 300) -> None:
        command = [shutil.which("transformers"), "serve", str(self.model_dir), "--host", "127.0.0.1",
                   "--port", str(self.port), "--device", "cpu"]
        env = {**os.environ, "HF_HUB_OFFLINE": "1"}
        self.process = subprocess.Popen(command, env=env, stdout=open(self.log, "ab"), stderr=subprocess.STDOUT)
        deadline = time.time() + timeout
        while time.time() < deadline:
            if self.process.poll() is not None:
                pytest.fail(f"transformers serve exited: {self.log.read_text()[-2000:]}")
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{self.port}/health", timeout=2)
                return
            except OSError:
                time.sleep(1)
        pytest.fail("transformers serve did not become healthy in time")

    def kill(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait()


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    if shutil.which("transformers") is None:
        pytest.skip("`transformers` CLI not found")
    pytest.importorskip("fastapi", reason="transformers serve needs `pip install 'transformers[serving]'`")
    from harness.models import loadable_path, resolve_model

    source = Path(loadable_path(resolve_model("smollm2-135m")))
    served = tmp_path_factory.mktemp("served") / "smollm2-sampling"
    served.mkdir()
    for item in source.iterdir():
        if item.name != "generation_config.json":
            (served / item.name).symlink_to(item)
    config = json.loads((source / "generation_config.json").read_text())
    (served / "generation_config.json").write_text(json.dumps(config | {"do_sample": True}))
    process = TransformersServe(served, served.parent / "serve.log")
    process.start()
    yield process
    process.kill()


def backend(server, **options):
    from harness.backends.openai import OpenAIBackend

    return OpenAIBackend(str(server.model_dir), base_url=server.url, **options)


def same_prompt(n: int, problem="p", first_seed=100):
    messages = ({"role": "user", "content": "Name one animal."},)
    return [Request("t", problem, i, messages, first_seed + i) for i in range(n)]


@pytest.mark.slow  # a real server on 2 shared cores
def test_sampling_really_happens_and_temperature_zero_is_greedy(server):
    client = backend(server, concurrency=2)
    sampled = list(client.generate(same_prompt(4), Sampling(4, 1.0, 0.95, 12)))
    assert sorted(g.sample for g in sampled) == [0, 1, 2, 3]
    assert len({g.response for g in sampled}) >= 2
    greedy = list(client.generate(same_prompt(3, "q"), Sampling(3, 0.0, 1.0, 12)))
    assert len({g.response for g in greedy}) == 1
    for g in sampled + greedy:
        assert g.finish_reason in {"stop", "length"} and 1 <= g.num_tokens <= 12
        assert g.usage["completion_tokens"] == g.num_tokens and g.usage["prompt_tokens"] > 0
    # transformers serve ignores `n`: the backend noticed and sent the rest one by one
    assert client.n_per_request is False and client.describe()["n_per_request"] is False


@pytest.mark.slow  # a real server on 2 shared cores
def test_completions_api_renders_the_chat_template_here(server):
    from harness.backends.prompts import render_prompt

    client = backend(server, api="completions", tokenizer="smollm2-135m")
    assert render_prompt(client.tokenizer, same_prompt(1)[0].messages).startswith("<|im_start|>")
    [generation] = list(client.generate(same_prompt(1), Sampling(1, 0.0, 1.0, 8)))
    [chat] = list(backend(server).generate(same_prompt(1), Sampling(1, 0.0, 1.0, 8)))
    assert generation.response == chat.response  # same template, greedy: same tokens
    assert client.describe()["chat_template"]["sha256"]


@pytest.fixture(scope="module")
def server_run(server, tmp_path_factory):
    out = tmp_path_factory.mktemp("openai") / "run"
    result = run_harness("eval", "--backend", "openai", "--base-url", server.url, "--api-key", SECRET,
                         "--model", str(server.model_dir), "--suite", "math500", "--limit", "3", "-n", "2",
                         "--max-tokens", "24", "--concurrency", "3", "--out", str(out))
    assert result.returncode == 0, result.stderr
    return out, result


@pytest.mark.slow  # a real server on 2 shared cores
def test_eval_through_a_server_writes_a_complete_run(server_run):
    out, _ = server_run
    generations = read_jsonl(out / "generations.jsonl")
    assert len(generations) == 6
    assert {(g["problem_id"], g["sample"]) for g in generations} == {(p, s) for p in {g["problem_id"] for g in generations} for s in (0, 1)}
    for g in generations:
        assert g["finish_reason"] in {"stop", "length"} and g["usage"]["completion_tokens"] == g["num_tokens"]
        assert isinstance(g["seed"], int)
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["backend"]["backend"] == "openai" and manifest["backend"]["api"] == "chat"
    assert manifest["backend"]["base_url"].startswith("http://127.0.0.1:")
    assert manifest["backend"]["seed"].startswith("sent")
    assert "<redacted>" in manifest["command"]


@pytest.mark.slow  # a real server on 2 shared cores
def test_api_key_lands_nowhere_in_the_run_directory(server_run):
    out, result = server_run
    for path in out.iterdir():
        assert SECRET not in path.read_text(), path.name
    assert SECRET not in result.stdout + result.stderr


@pytest.mark.slow  # a real server on 2 shared cores
def test_grades_of_a_server_run_match_harness_grade(server_run, tmp_path):
    out, _ = server_run
    result = run_harness("grade", "--suite", "math500", "--generations", str(out / "generations.jsonl"),
                         "--out", str(tmp_path / "regraded"))
    assert result.returncode == 0, result.stderr

    def verdicts(path):
        return {(g["problem_id"], g["sample"]): (g["correct"], g["extracted"], g["reason"]) for g in read_jsonl(path)}

    assert verdicts(out / "grades.jsonl") == verdicts(tmp_path / "regraded" / "grades.jsonl")
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["num_samples"] == 6


@pytest.mark.slow  # a real server on 2 shared cores
def test_server_killed_mid_run_gives_a_resumable_run(server, tmp_path):
    out = tmp_path / "killed"
    args = [sys.executable, "-m", "harness", "eval", "--backend", "openai", "--base-url", server.url,
            "--model", str(server.model_dir), "--suite", "math500", "--limit", "4", "-n", "2",
            "--max-tokens", "16", "--concurrency", "1", "--max-retries", "1", "--out", str(out)]
    env = {**os.environ, "HARNESS_PROGRESS": "off"}
    process = subprocess.Popen(args, cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    generations = out / "generations.jsonl"
    deadline = time.time() + 300
    while time.time() < deadline and not (generations.exists() and len(generations.read_text().splitlines()) >= 2):
        time.sleep(0.2)
    server.kill()
    stdout, stderr = process.communicate(timeout=300)
    assert process.returncode == 2, stderr
    last_line = stderr.strip().splitlines()[-1]
    assert last_line.startswith(f"error: --base-url {server.url}: request for math500/") and last_line.endswith(
        "re-run the same command to resume")
    written = generations.read_text().splitlines()
    assert 2 <= len(written) < 8, "the kill must land mid-run"
    assert all(json.loads(line)["response"] is not None for line in written)  # whole lines only
    assert not (out / "metrics.json").exists()

    server.start()
    result = subprocess.run(args, cwd=REPO, env=env, capture_output=True, text=True, timeout=900)
    assert result.returncode == 0, result.stderr
    assert f"generating {8 - len(written)} samples ({len(written)} already" in result.stdout
    final = generations.read_text().splitlines()
    assert final[:len(written)] == written
    keys = [(json.loads(line)["problem_id"], json.loads(line)["sample"]) for line in final]
    assert len(keys) == len(set(keys)) == 8
    assert len(read_jsonl(out / "grades.jsonl")) == 8


# ------------------------------------------------------- behaviours shown by a scripted server


class ScriptedServer(http.server.ThreadingHTTPServer):
    """Answers /v1/chat/completions in the OpenAI format: `failures` error statuses first, then
    `n` choices (when `honour_n`); a 400 naming `seed` when `reject_seed` and the body has one."""

    def __init__(self, failures=(), honour_n=True, reject_seed=False):
        self.failures, self.honour_n, self.reject_seed, self.bodies = list(failures), honour_n, reject_seed, []
        super().__init__(("127.0.0.1", 0), ScriptedHandler)

    @property
    def url(self):
        return f"http://127.0.0.1:{self.server_address[1]}/v1"


class ScriptedHandler(http.server.BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def do_POST(self):
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        self.server.bodies.append(body)
        if self.server.failures:
            return self.reply(self.server.failures.pop(0), {"error": {"message": "busy"}}, {"Retry-After": "0"})
        if self.server.reject_seed and "seed" in body:
            return self.reply(400, {"error": {"message": "Unrecognized request argument: seed"}})
        n = body.get("n", 1) if self.server.honour_n else 1
        choices = [{"index": i, "finish_reason": "stop", "message": {"role": "assistant", "content": f"\\boxed{{{i}}}"}}
                   for i in range(n)]
        self.reply(200, {"id": "x", "object": "chat.completion", "created": 0, "model": body["model"],
                         "choices": choices, "usage": {"prompt_tokens": 5, "completion_tokens": 3 * n, "total_tokens": 5 + 3 * n}})

    def reply(self, status, payload, headers=None):
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        self.end_headers()
        self.wfile.write(data)


@pytest.fixture
def scripted():
    servers = []

    def start(**behaviour):
        server = ScriptedServer(**behaviour)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.shutdown()
        server.server_close()


def scripted_backend(server, **options):
    from harness.backends.openai import OpenAIBackend

    return OpenAIBackend("m", base_url=server.url, **options)


def test_429_and_5xx_are_retried_with_backoff(scripted):
    server = scripted(failures=[429, 503, 500])
    started = time.monotonic()
    generations = list(scripted_backend(server, max_retries=3).generate(same_prompt(1), Sampling(1, 1.0, 0.95, 8)))
    assert [g.response for g in generations] == ["\\boxed{0}"]
    assert len(server.bodies) == 4 and time.monotonic() - started < 30


def test_retries_exhausted_is_a_one_line_error(scripted):
    server = scripted(failures=[503] * 5)
    with pytest.raises(HarnessError, match=r"request for p failed \(HTTP 503: .*busy.*\); finished samples are saved"):
        list(scripted_backend(server, max_retries=1).generate(same_prompt(1), Sampling(1, 1.0, 0.95, 8)))
    assert len(server.bodies) == 2


def test_n_samples_go_in_one_request_when_the_server_allows_it(scripted):
    server = scripted()
    generations = list(scripted_backend(server).generate(same_prompt(4), Sampling(4, 1.0, 0.95, 8)))
    assert len(server.bodies) == 1 and server.bodies[0]["n"] == 4 and server.bodies[0]["seed"] == 100
    assert [(g.sample, g.response, g.seed) for g in generations] == [(i, f"\\boxed{{{i}}}", 100) for i in range(4)]
    assert all(g.num_tokens is None and g.usage["choices_in_request"] == 4 for g in generations)


def test_a_server_that_rejects_seeds_is_asked_again_without(scripted):
    server = scripted(reject_seed=True)
    client = scripted_backend(server, n_per_request=False)
    generations = list(client.generate(same_prompt(2), Sampling(2, 1.0, 0.95, 8)))
    assert sorted(g.sample for g in generations) == [0, 1] and all(g.seed is None for g in generations)
    assert "seed" not in server.bodies[-1] and client.describe()["seed"] == "rejected by the server"


def test_top_k_is_sent_only_when_set(scripted):
    server = scripted()
    list(scripted_backend(server).generate(same_prompt(1), Sampling(1, 1.0, 0.95, 8, top_k=20)))
    list(scripted_backend(server).generate(same_prompt(1), Sampling(1, 1.0, 0.95, 8)))
    assert server.bodies[0]["top_k"] == 20 and "top_k" not in server.bodies[1]


def test_base_url_and_key_come_from_the_environment(scripted, monkeypatch):
    server = scripted()
    monkeypatch.setenv("OPENAI_BASE_URL", server.url.removesuffix("/v1"))
    monkeypatch.setenv("OPENAI_API_KEY", SECRET)
    from harness.backends.openai import OpenAIBackend

    client = OpenAIBackend("m")
    assert client.base_url == server.url
    assert SECRET not in json.dumps(client.describe())
    assert [g.response for g in client.generate(same_prompt(1), Sampling(1, 1.0, 0.95, 8))] == ["\\boxed{0}"]


def test_missing_base_url_is_a_cli_error(tmp_path):
    env = {"OPENAI_BASE_URL": ""}
    result = run_harness("eval", "--backend", "openai", "--model", "m", "--suite", "aime24", "--limit", "1",
                         "--out", str(tmp_path / "run"), env=env)
    assert result.returncode == 2
    assert result.stderr.strip().startswith("error: --base-url: not given and OPENAI_BASE_URL is not set")


def test_a_backend_flag_for_another_backend_is_a_cli_error(tmp_path):
    result = run_harness("eval", "--backend", "hf", "--concurrency", "4", "--model", "smollm2-135m",
                         "--suite", "aime24", "--out", str(tmp_path / "run"))
    assert result.returncode == 2
    assert result.stderr.strip() == "error: --concurrency: applies to --backend openai, not hf"
