"""A scripted OpenAI-compatible chat server on 127.0.0.1: it answers some problems right.

Real peer tools (lm-eval's `local-chat-completions`, inspect's `openai-api` provider...) talk to
it as to any server, so the files they write hold verdicts that are not all 0. The answer to a
prompt depends on the prompt's position in `golds` and on how often it was asked:
position % 3 == 0: always `\\boxed{gold}`; == 1: right the first time, wrong after; == 2: wrong.
"""
from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


def scripted_answer(position: int, asked: int, gold: str) -> str:
    if position % 3 == 0 or (position % 3 == 1 and asked == 0):
        return f"Working it out step by step, the result follows.\n\nThe final answer is $\\boxed{{{gold}}}$."
    return "I am not sure. Perhaps it is \\boxed{0.5}."


class ScriptedServer:
    def __init__(self, golds: dict[str, str]):
        self.golds, self.positions = golds, {prompt: i for i, prompt in enumerate(golds)}
        self.asked: dict[str, int] = {}
        self.lock = threading.Lock()
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):  # quiet
                pass

            def do_GET(self):  # /v1/models
                self.reply({"object": "list", "data": [{"id": "scripted", "object": "model"}]})

            def do_POST(self):
                body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))) or b"{}")
                prompt = next((m["content"] for m in reversed(body.get("messages", [])) if m["role"] == "user"), "")
                if isinstance(prompt, list):  # content parts
                    prompt = "".join(part.get("text", "") for part in prompt)
                text = server.answer(prompt)
                self.reply({"id": "chatcmpl-scripted", "object": "chat.completion", "created": int(time.time()),
                            "model": body.get("model", "scripted"),
                            "choices": [{"index": 0, "finish_reason": "stop",
                                         "message": {"role": "assistant", "content": text}}],
                            "usage": {"prompt_tokens": 1, "completion_tokens": len(text.split()),
                                      "total_tokens": 1 + len(text.split())}})

            def reply(self, value):
                data = json.dumps(value).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/v1"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def answer(self, prompt: str) -> str:
        key = prompt.strip()
        match = next((p for p in self.golds if p.strip() == key), None)
        if match is None:
            return "I cannot read this problem. \\boxed{0.5}"
        with self.lock:
            asked = self.asked.get(match, 0)
            self.asked[match] = asked + 1
        return scripted_answer(self.positions[match], asked, self.golds[match])

    def __enter__(self) -> "ScriptedServer":
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


def suite_golds(suite: str, limit: int) -> dict[str, str]:
    """prompt -> gold of the first `limit` problems of a math suite."""
    from suites import get_suite

    problems = get_suite(suite).load_problems()[:limit]
    return {p.messages[0]["content"]: str(p.answer) for p in problems}


if __name__ == "__main__":  # python -m tests.scripted_openai SUITE LIMIT: serve until killed
    import sys

    with ScriptedServer(suite_golds(sys.argv[1], int(sys.argv[2]))) as s:
        print(s.url, flush=True)
        s.thread.join()
