"""Grade one LiveCodeBench sample: read a JSON job on stdin, print one result line, exit.

This is the program every sandbox backend runs (docker, bwrap, local), so verdicts never depend on
the backend. It needs only the standard library (numpy for programs that use it), and must stay one self-contained file.

Why our own file rather than LiveCodeBench's `testing_util.py`: we may not ship upstream code, and
the grader must run inside a minimal image. `compat` mode re-implements `run_test` of
LiveCodeBench@28fef95 *structurally*: the same mocks, the same `unittest.mock.patch` stack in the
same order, the same `import_string`, `make_function`, `reliability_guard`, per-test SIGALRM,
early exit and error codes (-2 WA, -3 TLE, -4 RE), and the same process state a multiprocessing
child starts with (stdin closed and reopened on /dev/null, int->str digit limit 50000, numpy and
multiprocessing already imported). The quirks documented in docs/livecodebench.md (e.g. `for line in sys.stdin` is a
runtime error) follow from that structure; tests/test_lcb_grader.py checks them against verdicts
recorded from the upstream grader. `fixed` mode swaps in real file objects for stdin/stdout,
serves `open(0)`, and compares numbers with a 1e-6 tolerance.

Job keys: code, inputs, outputs, fn_name, timeout, mode (compat|fixed), memory_bytes, nonce.
Result line: `<nonce> {"results": [...] | null, "metadata": {...}}`; `results: null` means the
graded code ended the process's grading abnormally (upstream: empty result -> all tests -1).
"""
import ast
import builtins
import faulthandler
import io
import json
import os
import signal
import sys
import time
from decimal import Decimal
from io import StringIO
from types import ModuleType
from unittest.mock import mock_open, patch

sys.set_int_max_str_digits(50000)  # set by upstream's parent process, inherited by its children

IMPORT_STRING = "from string import *\nfrom re import *\nfrom datetime import *\nfrom collections import *\nfrom heapq import *\nfrom bisect import *\nfrom copy import *\nfrom math import *\nfrom random import *\nfrom statistics import *\nfrom itertools import *\nfrom functools import *\nfrom operator import *\nfrom io import *\nfrom sys import *\nfrom json import *\nfrom builtins import *\nfrom typing import *\nimport string\nimport re\nimport datetime\nimport collections\nimport heapq\nimport bisect\nimport copy\nimport math\nimport random\nimport statistics\nimport itertools\nimport functools\nimport operator\nimport io\nimport sys\nimport json\nsys.setrecursionlimit(50000)\n"
WA, TLE, RE = -2, -3, -4
FLOAT_TOLERANCE = 1e-6  # fixed mode only


class TimeoutException(Exception):
    pass


def on_alarm(signum, frame):
    print("timeout occured: alarm went off")  # upstream prints into the captured stdout
    raise TimeoutException


def shorten(value, length=300):
    text = value if isinstance(value, str) else str(value)
    return text if len(text) <= length else text[: length // 2] + "...(truncated) ..." + text[-length // 2:]


# ------------------------------------------------------------------ compat: upstream's stdio mocks
class Capturing(list):
    def __enter__(self):
        self._stdout = sys.stdout
        sys.stdout = self._stringio = StringIO()
        self._stringio.close = lambda x: 1  # sic: one-argument no-op, so `sys.stdout.close()` raises
        return self

    def __exit__(self, *args):
        self.append(self._stringio.getvalue())
        del self._stringio
        sys.stdout = self._stdout


class MockBuffer:
    def __init__(self, inputs):
        self.inputs = inputs.encode("utf-8")

    def read(self, *args):
        return self.inputs

    def readline(self, *args):
        return self.inputs.split(b"\n")[0] + b"\n"  # sic: always the first line


class MockStdinWithBuffer:
    def __init__(self, inputs):
        self.inputs = inputs
        self._stringio = StringIO(inputs)
        self.buffer = MockBuffer(inputs)

    def read(self, *args):
        return self.inputs

    def readline(self, *args):
        return self._stringio.readline(*args)

    def readlines(self, *args):
        return self.inputs.split("\n")

    def __getattr__(self, name):  # dunder lookups (iteration) bypass this: `for line in sys.stdin` fails
        return getattr(self._stringio, name)


def call_with_mocked_stdin(method, inputs):
    if isinstance(inputs, list):
        inputs = "\n".join(inputs)
    line_iterator = iter(inputs.split("\n"))

    # Same decorators in the same order as upstream: patches are entered bottom-up, so the three
    # sys.stdin.* patches land on the process's real (devnull) stdin, before sys.stdin is replaced.
    @patch("builtins.open", mock_open(read_data=inputs))
    @patch("sys.stdin", MockStdinWithBuffer(inputs))
    @patch("sys.stdin.readline", lambda *args: next(line_iterator))
    @patch("sys.stdin.readlines", lambda *args: inputs.split("\n"))
    @patch("sys.stdin.read", lambda *args: inputs)
    def inner(_method):
        try:
            return _method()
        except SystemExit:
            pass

    return inner(method)


# ------------------------------------------------------------------- fixed: real file objects
class FixedCapturing(list):
    """stdout as a real text file over bytes: `.buffer`, `.close()` and `print(flush=True)` work."""

    def __enter__(self):
        self._stdout = sys.stdout
        self._bytes = io.BytesIO()
        sys.stdout = io.TextIOWrapper(self._bytes, encoding="utf-8", write_through=True)
        sys.stdout.close = lambda: None
        return self

    def __exit__(self, *args):
        try:
            sys.stdout.flush()
        except Exception:
            pass
        self.append(self._bytes.getvalue().decode("utf-8", errors="replace"))
        sys.stdout = self._stdout


def call_with_real_stdin(method, inputs, module):
    if isinstance(inputs, list):
        inputs = "\n".join(inputs)
    stdin = io.TextIOWrapper(io.BytesIO(inputs.encode("utf-8")), encoding="utf-8")
    real_open = io.open

    def open_serving_stdin(file, *args, **kwargs):
        if file == 0:
            mode = args[0] if args else kwargs.get("mode", "r")
            return stdin.buffer if "b" in mode else stdin
        return real_open(file, *args, **kwargs)

    saved = sys.stdin, module.__dict__.get("open")
    sys.stdin, module.__dict__["open"] = stdin, open_serving_stdin
    try:
        with patch("builtins.open", open_serving_stdin):
            return method()
    except SystemExit:
        pass
    finally:
        sys.stdin, module.__dict__["open"] = saved


def numbers_close(predicted, expected):
    if predicted == expected:
        return True
    if isinstance(predicted, bool) or isinstance(expected, bool):
        return False
    if isinstance(predicted, (int, float)) and isinstance(expected, (int, float)):
        return abs(predicted - expected) <= FLOAT_TOLERANCE * max(1.0, abs(expected))
    if isinstance(predicted, (list, tuple)) and isinstance(expected, list):
        return len(predicted) == len(expected) and all(map(numbers_close, predicted, expected))
    return False


def tokens_close(predicted, expected):
    if len(predicted) != len(expected):
        return False
    for p, e in zip(predicted, expected):
        if p == e:
            continue
        integral = p == p.to_integral_value() and e == e.to_integral_value()
        if integral or abs(p - e) > Decimal(str(FLOAT_TOLERANCE)) * max(Decimal(1), abs(e)):
            return False
    return True


# ------------------------------------------------------------------------- upstream's algorithm
def clean_if_name(code):
    try:
        tree = ast.parse(code)
        last = tree.body[-1]
        if isinstance(last, ast.If) and ast.unparse(last.test).strip() == "__name__ == '__main__'":
            code = ast.unparse(tree.body[:-1]) + "\n" + ast.unparse(last.body)
    except Exception:
        pass
    return code


def make_function(code):
    try:
        imports, others = [], []
        for statement in ast.parse(code).body:
            (imports if isinstance(statement, (ast.Import, ast.ImportFrom)) else others).append(statement)
        wrapped = ast.FunctionDef(
            name="wrapped_function",
            args=ast.arguments(posonlyargs=[], args=[], kwonlyargs=[], kw_defaults=[], defaults=[]),
            body=others, decorator_list=[], lineno=-1,
        )
        return IMPORT_STRING + "\n" + ast.unparse(imports) + "\n" + ast.unparse(wrapped)
    except Exception:
        return code


def compile_code(code, timeout):
    signal.alarm(timeout)
    try:
        module = ModuleType("tmp_sol", "")
        exec(code, module.__dict__)
        compiled = module.Solution() if "class Solution" in code else module
        assert compiled is not None
    finally:
        signal.alarm(0)
    return compiled, module


def failure(results, code, exc_or_args):
    results.append(code)
    return results, exc_or_args


def error_result(results, exc, gt_inp, gt_out):
    if "timeoutexception" in repr(exc).lower():
        return failure(results, TLE, {"error": repr(exc), "error_code": TLE, "error_message": "Time Limit Exceeded",
                                      "inputs": shorten(gt_inp), "expected": shorten(gt_out)})
    return failure(results, RE, {"error": repr(exc), "error_code": RE, "error_message": "Runtime Error",
                                 "inputs": shorten(gt_inp), "expected": shorten(gt_out)})


def grade_call_based(code, inputs, outputs, fn_name, timeout, fixed):
    compiled, _ = compile_code(IMPORT_STRING + "\n\n" + code, timeout)
    method = getattr(compiled, fn_name, None) if hasattr(compiled, fn_name) else None
    if method is None:
        return None  # upstream: unpacking None raises, and run_test reports "Error during testing"
    inputs = [[json.loads(line) for line in test.split("\n")] for test in inputs]
    outputs = [json.loads(output) for output in outputs]
    results, total = [], 0.0
    for gt_inp, gt_out in zip(inputs, outputs):
        signal.alarm(timeout)
        faulthandler.enable()
        try:
            start = time.time()
            prediction = method(*gt_inp)
            total += time.time() - start
            signal.alarm(0)
            if isinstance(prediction, tuple):
                prediction = list(prediction)
            passed = numbers_close(prediction, gt_out) if fixed else prediction == gt_out
            results.append(passed)
            if not passed:
                return results, {"output": shorten(prediction), "inputs": shorten(gt_inp),
                                 "expected": shorten(gt_out), "error_code": WA, "error_message": "Wrong Answer"}
        except Exception as exc:
            signal.alarm(0)
            return error_result(results, exc, gt_inp, gt_out)
        finally:
            signal.alarm(0)
            faulthandler.disable()
    return results, {"execution time": total}


def stripped_lines(text):
    return [line.strip() for line in text.strip().split("\n")]


def as_decimals(line):
    try:
        return True, [Decimal(token) for token in line.split()]
    except Exception:
        return False, []


def compare_stdout(prediction, gt_out, fixed):
    """None when equal, else the WA message (upstream's grade_stdio comparison)."""
    predicted_lines, expected_lines = stripped_lines(prediction), stripped_lines(gt_out)
    if len(predicted_lines) != len(expected_lines):
        return "Wrong answer: mismatched output length"
    for index, (predicted, expected) in enumerate(zip(predicted_lines, expected_lines)):
        message = f"Wrong answer at output_line_idx={index}: {shorten(predicted)} != {shorten(expected)}"
        if predicted == expected:
            continue
        ok_p, decimals_p = as_decimals(predicted)
        ok_e, decimals_e = as_decimals(expected)
        if not (ok_p and ok_e):
            return message
        if decimals_p == decimals_e or (fixed and tokens_close(decimals_p, decimals_e)):
            continue
        return message
    return None


def grade_stdio(code, inputs, outputs, timeout, fixed):
    compiled, module = compile_code(make_function(clean_if_name(code)), timeout)
    method = getattr(compiled, "wrapped_function", None) if hasattr(compiled, "wrapped_function") else None
    if method is None:
        return None
    results, total = [], 0.0
    for gt_inp, gt_out in zip(inputs, outputs):
        signal.alarm(timeout)
        faulthandler.enable()
        signal.alarm(timeout)
        with (FixedCapturing() if fixed else Capturing()) as captured:
            try:
                start = time.time()
                if fixed:
                    call_with_real_stdin(method, gt_inp, module)
                else:
                    call_with_mocked_stdin(method, gt_inp)
                total += time.time() - start
                signal.alarm(0)
            except Exception as exc:
                signal.alarm(0)
                return error_result(results, exc, gt_inp, gt_out)
            finally:
                signal.alarm(0)
                faulthandler.disable()
        message = compare_stdout(captured[0], gt_out, fixed)
        if message is not None:
            return failure(results, WA, {"output": shorten(captured[0]), "inputs": shorten(gt_inp),
                                         "expected": shorten(gt_out), "error_code": WA, "error_message": message})
        results.append(True)
    return results, {"execution time": total}


def reliability_guard():
    """Upstream's guard, called without a memory cap (the sandbox enforces memory)."""
    faulthandler.disable()
    builtins.quit = None
    os.environ["OMP_NUM_THREADS"] = "1"
    for name in ("kill", "system", "putenv", "remove", "removedirs", "rmdir", "fchdir", "setuid", "fork",
                 "forkpty", "killpg", "rename", "renames", "truncate", "replace", "unlink", "fchmod",
                 "fchown", "chmod", "chown", "chroot", "lchflags", "lchmod", "lchown", "getcwd", "chdir"):
        setattr(os, name, None)
    import shutil
    import subprocess

    shutil.rmtree = shutil.move = shutil.chown = None
    subprocess.Popen = None
    builtins.help = None
    for name in ("ipdb", "joblib", "resource", "psutil", "tkinter"):
        sys.modules[name] = None


# Upstream's grading child is forked from a parent that has these imported, so importing them
# there is free and never trips over reliability_guard's disabled functions (numpy's import does).
PRELOADED_UPSTREAM = ("numpy", "multiprocessing", "concurrent.futures")


def preload_like_upstream(code):
    for name in PRELOADED_UPSTREAM:
        if name.split(".")[0] in code:
            try:
                __import__(name)
            except ImportError:
                pass


def run_test(job):
    preload_like_upstream(job["code"])
    signal.signal(signal.SIGALRM, on_alarm)
    reliability_guard()
    grade = grade_call_based if job.get("fn_name") is not None else grade_stdio
    args = (job["code"], job["inputs"], job["outputs"])
    if job.get("fn_name") is not None:
        args += (job["fn_name"],)
    signal.alarm(job["timeout"])
    try:
        results, metadata = grade(*args, job["timeout"], job.get("mode") == "fixed")
        return results, metadata
    except Exception as exc:
        return [RE], {"error_code": RE, "error_message": f"Error during testing: {exc}"}
    finally:
        signal.alarm(0)


def plain(result):
    """Upstream's post-processing of one result (ndarray -> first item, numpy bool -> bool).

    numpy is only touched when the graded code already imported it: importing it here would add
    0.1 s to every sample (upstream's forked child has it preloaded, so `import numpy` is free there).
    """
    if type(result).__module__ == "numpy":
        import numpy as np

        result = result.item(0) if isinstance(result, np.ndarray) else result
        result = bool(result) if isinstance(result, np.bool_) else result
    if isinstance(result, (bool, int, float)):
        return result
    try:
        return bool(result > 0)
    except Exception:
        return False


def main():
    job = json.loads(sys.stdin.read())
    sys.stdin.close()
    sys.stdin = open(os.devnull)  # what multiprocessing does in upstream's per-sample child process
    if job.get("memory_bytes"):
        import resource

        resource.setrlimit(resource.RLIMIT_AS, (job["memory_bytes"], job["memory_bytes"]))
    # The result goes out on a private copy of fd 1. The graded code's own fd 1/2 go to /dev/null,
    # as upstream's child prints to a log nobody parses: call-based code's debug prints (not
    # captured upstream) can then neither bury nor fake the result line.
    channel = os.fdopen(os.dup(1), "w")
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 1)
    os.dup2(devnull, 2)
    exit_now = os._exit
    try:
        results, metadata = run_test(job)
        payload = {"results": [plain(r) for r in results], "metadata": metadata}
    except BaseException as exc:  # SystemExit from call-based code etc.: upstream records no result
        payload = {"results": None, "metadata": {"error": repr(exc)[:300], "error_message": "no result"}}
    channel.write(f"{job['nonce']} {json.dumps(payload, default=str)}\n")
    channel.flush()
    exit_now(0)  # do not wait for threads the graded code left running


if __name__ == "__main__":
    main()
