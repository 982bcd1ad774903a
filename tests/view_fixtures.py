"""Runs for the viewer tests: real pipeline runs (harness.synthetic.write_run) whose responses are
then replaced with think blocks, truncations and hostile HTML, plus a served-app helper."""
from __future__ import annotations

import contextlib
import json
import socket
import threading
import time
from pathlib import Path

from harness.synthetic import problem_ids, write_run

HOSTILE = ('<think>plan</think> <script>window.__pwned = 1</script><img src=x onerror="window.__pwned = 2">'
           ' so the answer is \\boxed{1}')


def responses(pid_index: int, sample: int) -> tuple[str, str, int]:
    """(response, finish_reason, num_tokens) for one sample."""
    if pid_index == 0 and sample == 0:
        return HOSTILE, "stop", 120
    if sample == 1:
        return "<think>" + "long reasoning " * 200, "length", 4096
    return f"<think>thinking about problem {pid_index}</think> The answer is \\boxed{{{sample}}}", "stop", 300 + 10 * sample


def rewrite_generations(run: Path) -> None:
    path = run / "generations.jsonl"
    records = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
    order = list(dict.fromkeys(r["problem_id"] for r in records))
    with open(path, "w", encoding="utf-8") as handle:
        for record in records:
            text, finish, tokens = responses(order.index(record["problem_id"]), record["sample"])
            record.update(response=text, finish_reason=finish, num_tokens=tokens)
            handle.write(json.dumps(record, ensure_ascii=False) + "\n")


def make_pair(root: Path, problems: int = 6, n: int = 4) -> tuple[Path, Path]:
    """A baseline and a candidate of aime24: the candidate loses problem 1 and gains problem 2."""
    ids = problem_ids("aime24", problems)
    base = {pid: [i % 2 == 0 or s == 0 for s in range(n)] for i, pid in enumerate(ids)}
    cand = {pid: list(v) for pid, v in base.items()}
    cand[ids[0]] = [False] * n
    cand[ids[1]] = [True] * n
    published = {"aime24": {pid: [not v for v in verdicts] for pid, verdicts in base.items()}}
    write_run(root / "base", {"aime24": base}, max_tokens=4096, published=published)
    write_run(root / "cand", {"aime24": cand}, max_tokens=4096)
    for run in (root / "base", root / "cand"):
        rewrite_generations(run)
    return root / "base", root / "cand"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextlib.contextmanager
def served(paths, timeout: float = 60.0):
    """The viewer app on a free loopback port in a thread; stopped on exit (or after `timeout`)."""
    import uvicorn

    from reports.view.app import build_app

    port = free_port()
    server = uvicorn.Server(uvicorn.Config(build_app(paths), host="127.0.0.1", port=port, log_level="warning",
                                           lifespan="off"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    watchdog = threading.Timer(timeout, lambda: setattr(server, "should_exit", True))
    watchdog.start()
    try:
        deadline = time.time() + 15
        while not server.started and time.time() < deadline:
            time.sleep(0.05)
        assert server.started, "viewer did not start"
        yield f"http://127.0.0.1:{port}/"
    finally:
        watchdog.cancel()
        server.should_exit = True
        thread.join(10)
