"""The sandbox API on every backend that works here: results, limits, and the pool's recovery."""
from __future__ import annotations

import shutil

import pytest

import sandbox
from harness.errors import HarnessError
from sandbox import Limits
from conftest import docker_skip_reason


BACKENDS = [
    pytest.param("docker", marks=[pytest.mark.docker,
                                  pytest.mark.skipif(docker_skip_reason() is not None,
                                                     reason=str(docker_skip_reason()))]),
    pytest.param("bwrap", marks=pytest.mark.skipif(shutil.which("bwrap") is None, reason="bwrap not installed")),
    "local",
]


@pytest.fixture(params=BACKENDS)
def backend(request):
    yield sandbox.get_backend(request.param, unsafe_local=True, workers=1)
    sandbox.close_all()


def test_program_reads_stdin_and_its_output_and_exit_code_come_back(backend):
    result = backend.run("import sys\ndata = sys.stdin.read()\nprint(data[::-1])\nsys.exit(3)", b"abc", Limits(wall_s=20))
    assert (result.exit_code, result.stdout, result.timed_out) == (3, b"cba\n", False)


def test_uncaught_exception_is_exit_1_with_traceback_on_stderr(backend):
    result = backend.run("raise ValueError('boom')", b"", Limits(wall_s=20))
    assert result.exit_code == 1 and b"ValueError: boom" in result.stderr


def test_wall_clock_limit_kills_the_run_and_the_next_run_works(backend):
    result = backend.run("while True:\n    pass", b"", Limits(wall_s=1))
    assert result.timed_out and result.exit_code is None and 0.9 < result.duration_s < 5
    assert backend.run("print(42)", b"", Limits(wall_s=20)).stdout == b"42\n"


def test_output_beyond_the_limit_is_dropped_and_flagged(backend):
    result = backend.run("import sys\nfor _ in range(200):\n    sys.stdout.write('x' * 65536)", b"",
                         Limits(wall_s=20, output_bytes=100_000))
    assert result.truncated and len(result.stdout) == 100_000 and result.exit_code == 0


def test_memory_limit_turns_an_allocation_into_memory_error(backend):
    program = "try:\n    x = bytearray(2 << 30)\n    print('allocated')\nexcept MemoryError:\n    print('MemoryError')"
    assert backend.run(program, b"", Limits(wall_s=20, memory_mb=512)).stdout == b"MemoryError\n"


def test_each_run_is_a_fresh_process(backend):
    backend.run("import builtins\nbuiltins.leak = 1", b"", Limits(wall_s=20))
    assert backend.run("import builtins\nprint(hasattr(builtins, 'leak'))", b"", Limits(wall_s=20)).stdout == b"False\n"


def test_local_backend_needs_the_explicit_unsafe_flag():
    with pytest.raises(HarnessError, match="--unsafe-local-sandbox"):
        sandbox.get_backend("local")


def test_unknown_backend_is_a_clear_error():
    with pytest.raises(HarnessError, match="--sandbox nope: unknown backend"):
        sandbox.get_backend("nope")
