"""Prompt-side controls, reasoning returned apart, and budget forcing (issue 17, parts 1-3).

Real parts throughout: the SmolLM2 tokenizer and chat template, real CPU generations of the
embedded default model (greedy, a few tokens), the real CLI and run directory, and a scripted
OpenAI-compatible server on 127.0.0.1 that returns `reasoning_content` the way vLLM's reasoning
parsers do (`transformers serve` has no reasoning parser).
"""
import hashlib
import http.server
import json
import threading

import pytest

from conftest import read_jsonl, run_harness
from harness.backends.base import Request, Sampling
from harness.backends.prompts import chat_body, render_prompt
from harness.errors import HarnessError
from harness.grading import graded_text
from harness.prompting import ANSWER_CUE, FORCED_CLOSE, WAIT_CUE, PromptControls, controls_from_given, parse_template_kwargs

AIME_GOLD = "204"  # aime24/I-01
SHORT = ({"role": "user", "content": "What is 2+3? Answer briefly."},)


@pytest.fixture(scope="module")
def tokenizer():
    from harness.models import load_tokenizer

    return load_tokenizer("smollm2-135m")


@pytest.fixture(scope="module")
def hf():
    from harness.backends.hf import HFBackend

    backend = HFBackend("smollm2-135m", batch_size=2)
    yield backend
    backend.close()


def test_template_kwargs_parse_as_json_values():
    assert parse_template_kwargs("enable_thinking=true,reasoning_effort=high, depth=3") == {
        "enable_thinking": True, "reasoning_effort": "high", "depth": 3}
    with pytest.raises(HarnessError, match="expected KEY=VALUE"):
        parse_template_kwargs("enable_thinking")


def test_system_prompt_from_a_file_and_its_errors(tmp_path):
    (tmp_path / "sys.txt").write_text("Reason carefully.\n")
    controls = controls_from_given({"system_prompt": f"@{tmp_path / 'sys.txt'}"})
    assert controls.system_prompt == "Reason carefully.\n"
    assert controls.messages(({"role": "system", "content": "old"}, *SHORT)) == (
        {"role": "system", "content": "Reason carefully.\n"}, *SHORT)
    with pytest.raises(HarnessError, match="--system-prompt .*missing.txt: cannot read"):
        controls_from_given({"system_prompt": f"@{tmp_path / 'missing.txt'}"})
    with pytest.raises(HarnessError, match="--min-think 9: larger than --think-budget 4"):
        controls_from_given({"think_budget": 4, "min_think": 9})


def test_rendering_applies_template_kwargs_and_prefill(tokenizer, tmp_path):
    plain = render_prompt(tokenizer, SHORT)
    assert render_prompt(tokenizer, SHORT, PromptControls(assistant_prefill="<think>\n")) == plain + "<think>\n"
    template = tmp_path / "t.jinja"
    template.write_text("{% for m in messages %}[{{ m.role }}] {{ m.content }}\n{% endfor %}"
                        "{% if enable_thinking %}[think on]{% endif %}[assistant] ")
    controls = controls_from_given({"chat_template": str(template), "chat_template_kwargs": "enable_thinking=true"})
    assert render_prompt(tokenizer, SHORT, controls) == f"[user] {SHORT[0]['content']}\n[think on][assistant] "
    assert controls.identity()["chat_template"] == "sha256:" + hashlib.sha256(template.read_bytes()).hexdigest()


def test_chat_body_prefill_and_kwargs_for_vllm_style_servers():
    messages, extra = chat_body(SHORT, PromptControls(assistant_prefill="<think>\n",
                                                      chat_template_kwargs={"enable_thinking": True}))
    assert messages == [*SHORT, {"role": "assistant", "content": "<think>\n"}]
    assert extra == {"chat_template_kwargs": {"enable_thinking": True}, "continue_final_message": True,
                     "add_generation_prompt": False}


def test_reasoning_is_graded_as_a_closed_think_block():
    record = {"response": "So \\boxed{5}.", "reasoning": "maybe \\boxed{4}"}
    assert graded_text(record) == "<think>maybe \\boxed{4}</think>So \\boxed{5}."
    assert graded_text({"response": "x"}) == "x"


# ------------------------------------------------------------------ hf: real CPU generations

def test_stop_string_ends_the_response_before_it(hf):
    plain = list(hf.generate([Request("t", "t/1", 0, SHORT, 1)], Sampling(1, 0.0, 1.0, 16)))[0]
    assert plain.response == "The answer is 5."
    stopped = list(hf.generate([Request("t", "t/1", 0, SHORT, 1, controls=PromptControls(stop=(" is",)))],
                               Sampling(1, 0.0, 1.0, 16)))[0]
    assert (stopped.response, stopped.finish_reason) == ("The answer", "stop")


def test_min_think_replaces_an_early_end_with_wait(hf, tokenizer):
    controls = PromptControls(assistant_prefill="<think>\n", min_think=20, think_budget=30)
    g = list(hf.generate([Request("t", "t/1", 0, SHORT, 1, controls=controls)], Sampling(1, 0.0, 1.0, 40)))[0]
    # greedy SmolLM2 says "The answer is 5." and stops after 8 tokens: each stop became "Wait"
    assert g.response.startswith("<think>\n\nThe answer is 5." + WAIT_CUE)
    assert g.response.count(WAIT_CUE) >= 2
    assert g.num_think_tokens >= 20 and g.num_answer_tokens == 0 and g.num_tokens == g.num_think_tokens


@pytest.mark.slow  # three CLI runs with a real model (~45 s on 2 shared cores)
def test_think_budget_on_the_cli_records_token_counts_and_refuses_a_change(tmp_path):
    out = tmp_path / "run"
    flags = ["--suite", "aime24", "--model", "smollm2-135m", "--limit", "1", "-n", "1", "--temperature", "0",
             "--max-tokens", "12", "--assistant-prefill", "<think>\n", "--system-prompt", "Be brief."]
    result = run_harness("eval", *flags, "--think-budget", "4", "--out", str(out), env={"HARNESS_PROGRESS": "off"})
    assert result.returncode == 0, result.stderr
    [g] = read_jsonl(out / "generations.jsonl")
    assert g["num_think_tokens"] == 4 and g["num_answer_tokens"] == 8 and g["num_tokens"] == 12
    assert g["response"].startswith("<think>\n") and FORCED_CLOSE + ANSWER_CUE in g["response"]
    manifest = json.loads((out / "manifest.json").read_text())
    [entry] = manifest["suites"]
    assert entry["prompt"] == {"system_prompt": "Be brief.", "chat_template": None, "chat_template_kwargs": None,
                               "assistant_prefill": "<think>\n", "stop": None, "think_budget": 4, "min_think": None}
    assert entry["budget_forcing"]["answer_cue"] == ANSWER_CUE
    assert "think_budget=4 (published: none)" in entry["deviations"]

    shown = run_harness("suites", "show", "aime24", "--model", "smollm2-135m", "--assistant-prefill", "<think>\n",
                        "--system-prompt", "Be brief.")
    first = json.loads(shown.stdout.splitlines()[0])
    assert first["prompt"].endswith("<|im_start|>assistant\n<think>\n") and "Be brief." in first["prompt"]
    assert first["prompt_sha256"] == hashlib.sha256(first["prompt"].encode()).hexdigest()
    assert entry["prompt_sha256"] == {"aime24/I-01": first["prompt_sha256"]}

    again = run_harness("eval", *flags, "--think-budget", "5", "--out", str(out))
    assert again.returncode == 2
    assert "suites[aime24].prompt.think_budget=4; this command asks 5" in again.stderr


# ------------------------------------------------------------------ openai: a scripted server

class ReasoningHandler(http.server.BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def do_GET(self):  # /v1/models
        self.reply({"object": "list", "data": [{"id": "m", "object": "model"}]})

    def do_POST(self):
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        self.server.bodies.append(body)
        message = {"role": "assistant", "content": f"So \\boxed{{{AIME_GOLD}}}.",
                   "reasoning_content": "I first guess \\boxed{999}, then check."}
        self.reply({"id": "x", "object": "chat.completion", "created": 0, "model": body["model"],
                    "choices": [{"index": 0, "finish_reason": "stop", "message": message}],
                    "usage": {"prompt_tokens": 5, "completion_tokens": 20, "total_tokens": 25,
                              "completion_tokens_details": {"reasoning_tokens": 14}}})

    def reply(self, payload):
        data = json.dumps(payload).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


@pytest.fixture
def reasoning_server():
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), ReasoningHandler)
    server.bodies = []
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield server
    server.shutdown()
    server.server_close()


def test_openai_sends_the_controls_and_stores_reasoning_apart(reasoning_server, tmp_path):
    pytest.importorskip("openai")
    url = f"http://127.0.0.1:{reasoning_server.server_address[1]}/v1"
    out = tmp_path / "served"
    result = run_harness("eval", "--backend", "openai", "--base-url", url, "--model", "m", "--suite", "aime24",
                         "--limit", "1", "-n", "1", "--max-tokens", "64", "--system-prompt", "Be exact.",
                         "--assistant-prefill", "<think>\n", "--chat-template-kwargs", "enable_thinking=true",
                         "--stop", "</answer>", "--stop", "STOP", "--out", str(out), env={"HARNESS_PROGRESS": "off"})
    assert result.returncode == 0, result.stderr
    [body] = reasoning_server.bodies
    assert body["messages"][0] == {"role": "system", "content": "Be exact."}
    assert body["messages"][-1] == {"role": "assistant", "content": "<think>\n"}
    assert body["continue_final_message"] is True and body["add_generation_prompt"] is False
    assert body["chat_template_kwargs"] == {"enable_thinking": True} and body["stop"] == ["</answer>", "STOP"]
    [g] = read_jsonl(out / "generations.jsonl")
    assert g["reasoning"] == "<think>\nI first guess \\boxed{999}, then check."
    assert g["response"] == f"So \\boxed{{{AIME_GOLD}}}." and g["num_reasoning_tokens"] == 14
    [grade] = read_jsonl(out / "grades.jsonl")
    assert grade["correct"] is True and grade["extracted"] == AIME_GOLD  # the answer, not the reasoning's 999
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["suites"][0]["prompt_rendered_by"] == "server (chat request)"


@pytest.mark.parametrize("flags, message", [
    (["--chat-template", "{template}"], "error: --chat-template: with --api chat the server applies its own template"),
    (["--think-budget", "8"], "error: --think-budget/--min-think: budget forcing edits the response"),
])
def test_openai_refuses_what_a_server_cannot_take(tmp_path, flags, message):
    (tmp_path / "t.jinja").write_text("{{ messages[0].content }}")
    flags = [flag.format(template=tmp_path / "t.jinja") for flag in flags]
    result = run_harness("eval", "--backend", "openai", "--base-url", "http://127.0.0.1:9/v1", "--model", "m",
                         "--suite", "aime24", "--limit", "1", *flags, "--out", str(tmp_path / "run"))
    assert result.returncode == 2 and result.stderr.startswith(message)
    assert not (tmp_path / "run").exists()
