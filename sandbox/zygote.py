"""Long-lived server inside a sandbox: forks one fresh child per run from a warm interpreter.

Why: starting python3 and importing unittest.mock, decimal, numpy... costs far more than grading
a typical sample, and upstream LiveCodeBench never pays it (its per-sample process is a fork of a
warm parent). So each backend keeps one of these running inside its sandbox and sends it runs.

Protocol over stdin/stdout (binary, big-endian 4-byte lengths):
  request  = len + JSON {"program_len", "stdin_len", "wall_s", "memory_mb", "file_size_mb",
             "output_bytes", "wipe": dir or null} + program bytes + stdin bytes
  response = len + JSON {"exit_code", "timed_out", "duration_s", "stdout", "stderr" (base64), "truncated",
             "strays": processes left behind (with SSP_ZYGOTE_COUNT_STRAYS set, in a pid namespace)}
The child gets a new session (so the whole process group is killed after every run), fd 0 = its
stdin bytes, fd 1/2 = pipes back here, rlimits, and runs the program as __main__.
Stdlib only: it runs under the sandbox image's python3.
"""
import base64
import io
import json
import os
import resource
import select
import shutil
import signal
import struct
import sys
import time

PRELOAD = ("ast", "decimal", "faulthandler", "unittest.mock", "numpy", "multiprocessing", "concurrent.futures")
AFTER_EXIT_GRACE_S = 0.05


def read_exactly(stream, size):
    data = b""
    while len(data) < size:
        chunk = stream.read(size - len(data))
        if not chunk:
            raise EOFError
        data += chunk
    return data


def wipe(directory):
    for name in os.listdir(directory):
        path = os.path.join(directory, name)
        try:
            shutil.rmtree(path) if os.path.isdir(path) and not os.path.islink(path) else os.unlink(path)
        except OSError:
            pass


def child(header, program, data, out_w, err_w):
    os.setsid()
    stdin_fd = os.memfd_create("stdin")
    os.write(stdin_fd, data)
    os.lseek(stdin_fd, 0, os.SEEK_SET)
    for source, target in ((stdin_fd, 0), (out_w, 1), (err_w, 2)):
        os.dup2(source, target)
    os.closerange(3, 65536)
    memory = header["memory_mb"] << 20
    resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
    resource.setrlimit(resource.RLIMIT_FSIZE, (header["file_size_mb"] << 20,) * 2)
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    sys.stdin = io.TextIOWrapper(io.FileIO(0, "r", closefd=False), encoding="utf-8")
    sys.stdout = io.TextIOWrapper(io.FileIO(1, "w", closefd=False), encoding="utf-8")
    sys.stderr = io.TextIOWrapper(io.FileIO(2, "w", closefd=False), encoding="utf-8", line_buffering=True)
    signal.signal(signal.SIGPIPE, signal.SIG_DFL)
    code = 0
    try:
        exec(compile(program, "program.py", "exec"), {"__name__": "__main__", "__builtins__": __builtins__})
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    except BaseException:
        import traceback

        traceback.print_exc()
        code = 1
    finally:
        for stream in (sys.stdout, sys.stderr):
            try:
                stream.flush()
            except Exception:
                pass
    os._exit(code)


def pids():
    return {int(name) for name in os.listdir("/proc") if name.isdigit()}


def run_one(header, program, data, baseline):
    if header.get("wipe"):
        wipe(header["wipe"])
    out_r, out_w = os.pipe()
    err_r, err_w = os.pipe()
    start = time.monotonic()
    pid = os.fork()
    if pid == 0:
        try:
            child(header, program, data, out_w, err_w)
        finally:
            os._exit(70)
    os.close(out_w)
    os.close(err_w)
    captured = {out_r: bytearray(), err_r: bytearray()}
    open_fds, truncated, status, timed_out = [out_r, err_r], False, None, False
    deadline, exited_at = start + header["wall_s"], None
    while open_fds:
        now = time.monotonic()
        if status is None:
            done, raw = os.waitpid(pid, os.WNOHANG)
            if done:
                status, exited_at = raw, now
        if now >= deadline or (exited_at is not None and now - exited_at > AFTER_EXIT_GRACE_S):
            timed_out = status is None
            break  # a grandchild may hold the pipes open; the run is over either way
        ready, _, _ = select.select(open_fds, [], [], 0.01 if status is None else AFTER_EXIT_GRACE_S)
        for fd in ready:
            chunk = os.read(fd, 1 << 16)
            if not chunk:
                open_fds.remove(fd)
                continue
            room = max(header["output_bytes"] - len(captured[fd]), 0)
            captured[fd] += chunk[:room]
            truncated |= len(chunk) > room
    try:
        os.killpg(pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
    if status is None:
        _, status = os.waitpid(pid, 0)
    duration = time.monotonic() - start
    for fd in (out_r, err_r):
        os.close(fd)
    exit_code = os.waitstatus_to_exitcode(status)
    strays = len(pids() - baseline) if baseline is not None else 0  # e.g. a daemonized grandchild
    return {"exit_code": None if timed_out else (128 - exit_code if exit_code < 0 else exit_code),
            "timed_out": timed_out, "strays": strays, "duration_s": duration, "truncated": truncated,
            "stdout": base64.b64encode(bytes(captured[out_r])).decode(),
            "stderr": base64.b64encode(bytes(captured[err_r])).decode()}


def serve():
    try:  # not dumpable: the children (same uid) cannot ptrace this process or read its fds
        import ctypes

        ctypes.CDLL(None).prctl(4, 0, 0, 0, 0)  # PR_SET_DUMPABLE = 4
    except Exception:
        pass
    for name in PRELOAD:
        try:
            __import__(name)
        except ImportError:
            pass
    requests, replies = sys.stdin.buffer, sys.stdout.buffer
    # in a private pid namespace, every process present now belongs to the sandbox's plumbing
    baseline = pids() if os.environ.get("SSP_ZYGOTE_COUNT_STRAYS") else None
    replies.write(b"ready\n")
    replies.flush()
    while True:
        try:
            size = struct.unpack(">I", read_exactly(requests, 4))[0]
        except EOFError:
            return
        header = json.loads(read_exactly(requests, size))
        program = read_exactly(requests, header["program_len"]).decode("utf-8")
        data = read_exactly(requests, header["stdin_len"])
        body = json.dumps(run_one(header, program, data, baseline)).encode()
        replies.write(struct.pack(">I", len(body)) + body)
        replies.flush()


if __name__ == "__main__":
    serve()
