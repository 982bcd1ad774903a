"""Hostile programs on the isolating backends (docker, bwrap): each must fail or be contained, the
host must be unchanged, and the next run in the same backend must work.

Every run is bounded by a wall limit and every test by pytest's process (no test can hang CI).
"""
from __future__ import annotations

import http.server
import os
import subprocess
import threading
import time
from pathlib import Path

import pytest

import sandbox
from sandbox import Limits
from conftest import docker_skip_reason

LIMITS = Limits(wall_s=10, memory_mb=512)
ISOLATING = [
    pytest.param("docker", marks=[pytest.mark.docker,
                                  pytest.mark.skipif(docker_skip_reason() is not None,
                                                     reason=str(docker_skip_reason()))]),
    pytest.param("bwrap", marks=pytest.mark.skipif(subprocess.run(["which", "bwrap"], capture_output=True).returncode,
                                                   reason="bwrap not installed")),
]


@pytest.fixture(params=ISOLATING)
def backend(request):
    yield sandbox.get_backend(request.param, workers=1)
    sandbox.close_all()


def still_works(backend) -> None:
    assert backend.run("print(6 * 7)", b"", LIMITS).stdout == b"42\n"


def host_processes(marker: str) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        try:
            if entry.name.isdigit() and marker.encode() in (entry / "cmdline").read_bytes():
                found.append(int(entry.name))
        except OSError:
            pass
    return found


def test_network_is_unreachable_even_to_a_server_on_the_host(backend):
    hits = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            hits.append(self.path)
            self.send_response(200)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = http.server.HTTPServer(("0.0.0.0", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    port = server.server_address[1]
    program = (
        "import socket\nfor host in ('127.0.0.1', '172.17.0.1', '1.1.1.1'):\n    try:\n"
        f"        socket.create_connection((host, {port} if host != '1.1.1.1' else 53), timeout=2)\n"
        "        print('connected', host)\n    except OSError:\n        print('blocked', host)"
    )
    try:
        result = backend.run(program, b"", LIMITS)
    finally:
        server.shutdown()
    assert result.stdout.decode().split("\n")[:3] == ["blocked 127.0.0.1", "blocked 172.17.0.1", "blocked 1.1.1.1"]
    assert hits == []
    still_works(backend)


def test_host_files_and_environment_are_neither_visible_nor_writable(backend, tmp_path, monkeypatch):
    secret = tmp_path / "secret.txt"
    secret.write_text("host secret")
    monkeypatch.setenv("SSP_HOST_SECRET", "hunter2")
    before = sorted(os.listdir(tmp_path))
    program = (
        "import os, glob\n"
        "def holds(path):\n    try:\n        return b'hunter2' in open(path, 'rb').read()\n    except OSError:\n        return False\n"
        "seen = [p for p in glob.glob('/proc/*/environ') if holds(p)]\n"
        "print('leaked' if seen or 'SSP_HOST_SECRET' in os.environ else 'denied')\n"
        f"for path in ({str(secret)!r}, '/etc/shadow', '/root/.bash_history'):\n"
        "    try:\n        open(path).read()\n        print('read', path)\n    except OSError:\n        print('denied')\n"
        f"for path in ({str(tmp_path / 'planted')!r}, '/etc/planted', '/usr/planted', '/planted'):\n"
        "    try:\n        open(path, 'w').write('x')\n        print('wrote', path)\n    except OSError:\n        print('denied')\n"
    )
    result = backend.run(program, b"", LIMITS)
    assert result.stdout.decode().split() == ["denied"] * 8
    assert sorted(os.listdir(tmp_path)) == before and secret.read_text() == "host secret"
    still_works(backend)


def test_tmp_is_writable_but_wiped_before_the_next_run(backend):
    assert backend.run("open('/tmp/left', 'w').write('x'); print('ok')", b"", LIMITS).stdout == b"ok\n"
    assert backend.run("import os; print(os.listdir('/tmp'))", b"", LIMITS).stdout == b"[]\n"


@pytest.mark.skipif(os.geteuid() != 0, reason="bwrap counts processes (RLIMIT_NPROC) only when it can drop to nobody")
def test_fork_bomb_is_contained_and_leaves_nothing_behind(backend):
    program = ("import os, time\nmarker = 'forkbomb-7731'\nwhile True:\n    try:\n        os.fork()\n"
               "    except OSError:\n        time.sleep(0.01)")
    start = time.monotonic()
    result = backend.run(program, b"", Limits(wall_s=3, memory_mb=512))
    assert result.timed_out and time.monotonic() - start < 20
    still_works(backend)


def test_memory_bomb_is_stopped_by_the_limit(backend):
    program = "chunks = []\nwhile True:\n    chunks.append(bytearray(50 << 20))"
    result = backend.run(program, b"", LIMITS)
    assert result.exit_code != 0 and not result.timed_out
    assert b"MemoryError" in result.stderr or result.exit_code == 137
    still_works(backend)


def test_infinite_loop_is_killed_at_the_wall_limit(backend):
    result = backend.run("while True:\n    pass", b"", Limits(wall_s=2, memory_mb=512))
    assert result.timed_out and result.duration_s < 6
    still_works(backend)


def test_killing_the_parent_and_everything_else_only_breaks_the_sandbox(backend):
    victim = subprocess.Popen(["setpriv", "--reuid", "65534", "--regid", "65534", "--clear-groups", "sleep", "61.5"]
                              if os.geteuid() == 0 else ["sleep", "61.5"])
    try:
        program = "import os, signal\nos.kill(os.getppid(), signal.SIGKILL)\nos.kill(-1, signal.SIGKILL)"
        result = backend.run(program, b"", LIMITS)
        assert result.exit_code is None or result.exit_code == 137
        assert victim.poll() is None, "a process on the host, of the sandbox's own uid, was killed"
        still_works(backend)
    finally:
        victim.kill()
        victim.wait()


def test_huge_output_on_both_streams_is_capped(backend):
    program = "import os\nblock = b'y' * (1 << 20)\nfor _ in range(1024):\n    os.write(1, block)\n    os.write(2, block)"
    result = backend.run(program, b"", Limits(wall_s=30, memory_mb=512, output_bytes=1 << 20))
    assert result.truncated and len(result.stdout) == 1 << 20 and len(result.stderr) == 1 << 20
    still_works(backend)


def test_spawned_and_detached_subprocesses_do_not_outlive_the_run(backend):
    program = ("import subprocess\nprint(subprocess.run(['echo', 'child'], capture_output=True, text=True).stdout.strip())\n"
               "subprocess.Popen(['sleep', '987.25'], start_new_session=True)\nprint('spawned')")
    result = backend.run(program, b"", LIMITS)
    assert result.stdout == b"child\nspawned\n"
    still_works(backend)  # the run left a process behind: that sandbox was retired, a new one serves
    deadline = time.monotonic() + 10
    while host_processes("987.25") and time.monotonic() < deadline:
        time.sleep(0.2)
    assert host_processes("987.25") == []
