"""Writes the LiveCodeBench test fixtures in this directory (run once; outputs are committed).

- quirks.json: synthetic problems, one per row of the quirk table in docs/livecodebench.md, each
  with a program and the verdict code we expect from the official grader (`compat`) and from
  our `fixed` mode. The official grader's actual verdicts are recorded by record_official.py.
- official-format.jsonl: the three SandboxFusion problems (suites/data/livecodebench) rewritten as
  official livecodebench/code_generation_lite rows: first test public (JSON string), the rest
  private as base64(zlib(pickle(JSON string))), as the official test5/test6 files encode them.
- solutions.json: programs for those three problems (ours: correct, wrong, too slow, crashing).

    python tests/data/lcb/make_fixtures.py
"""
from __future__ import annotations

import base64
import json
import pickle
import zlib
from pathlib import Path

HERE = Path(__file__).parent
PASS = "pass"

STDIN_SUM = {"inputs": ["1 2\n", "10 20\n"], "outputs": ["3\n", "30\n"]}
TWO_LINES = {"inputs": ["1\n2\n"], "outputs": ["3\n"]}


def stdin_case(case_id, code, compat, fixed, tests=STDIN_SUM, timeout=6):
    return {"id": case_id, "fn_name": None, "code": code, **tests, "timeout": timeout,
            "expect": {"compat": compat, "fixed": fixed}}


def call_case(case_id, fn_name, code, inputs, outputs, compat, fixed, timeout=6):
    return {"id": case_id, "fn_name": fn_name, "code": code, "inputs": inputs, "outputs": outputs,
            "timeout": timeout, "expect": {"compat": compat, "fixed": fixed}}


QUIRKS = [
    stdin_case("input", "a, b = map(int, input().split())\nprint(a + b)", PASS, PASS),
    stdin_case("stdin_readline", "import sys\na, b = map(int, sys.stdin.readline().split())\nprint(a + b)", PASS, PASS),
    stdin_case("stdin_read", "import sys\na, b = map(int, sys.stdin.read().split())\nprint(a + b)", PASS, PASS),
    stdin_case("stdin_readlines", "import sys\nline = sys.stdin.readlines()[0]\nprint(sum(map(int, line.split())))",
               PASS, PASS),
    stdin_case("for_line_in_stdin", "import sys\nfor line in sys.stdin:\n    a, b = map(int, line.split())\n    print(a + b)",
               -4, PASS),
    stdin_case("stdin_buffer_read", "import sys\na, b = map(int, sys.stdin.buffer.read().split())\nprint(a + b)", PASS, PASS),
    stdin_case("stdin_buffer_readline_twice",
               "import sys\na = int(sys.stdin.buffer.readline())\nb = int(sys.stdin.buffer.readline())\nprint(a + b)",
               -2, PASS, tests=TWO_LINES),
    stdin_case("open_0", "a, b = map(int, open(0).read().split())\nprint(a + b)", -4, PASS),
    stdin_case("global_in_nested_function",
               "total = 0\ndef add(x):\n    global total\n    total += x\nfor v in map(int, input().split()):\n    add(v)\nprint(total)",
               -4, -4),
    stdin_case("float_6_vs_9_decimals", "input()\nprint('%.6f' % (1 / 3))", -2, PASS,
               tests={"inputs": ["1\n"], "outputs": ["0.333333333\n"]}),
    stdin_case("float_far_off", "input()\nprint('%.6f' % 0.3)", -2, -2,
               tests={"inputs": ["1\n"], "outputs": ["0.333333333\n"]}),
    stdin_case("int_vs_float_and_blank_lines", "a, b = map(int, input().split())\nprint(f'{a + b}.0   ')\nprint()\nprint()",
               PASS, PASS),
    stdin_case("exit_after_print", "a, b = map(int, input().split())\nprint(a + b)\nexit()", PASS, PASS),
    stdin_case("if_name_main", "def main():\n    a, b = map(int, input().split())\n    print(a + b)\n\nif __name__ == \"__main__\":\n    main()",
               PASS, PASS),
    stdin_case("stdout_write", "import sys\na, b = map(int, input().split())\nsys.stdout.write(str(a + b) + '\\n')", PASS, PASS),
    stdin_case("stdout_buffer_write", "import sys\na, b = map(int, input().split())\nsys.stdout.buffer.write(b'%d\\n' % (a + b))",
               -4, PASS),
    stdin_case("stdout_close", "import sys\na, b = map(int, input().split())\nprint(a + b)\nsys.stdout.close()", -4, PASS),
    stdin_case("threading_big_stack_and_numpy",
               "import sys, threading\nimport numpy as np\ndef main():\n    a, b = map(int, input().split())\n"
               "    print(int(np.array([a, b]).sum()))\nthreading.stack_size(1 << 26)\nt = threading.Thread(target=main)\n"
               "t.start()\nt.join()", PASS, PASS),
    stdin_case("big_int_to_str", "n = int(input())\nprint(len(str(7 ** n)))", PASS, PASS,
               tests={"inputs": ["20000\n"], "outputs": ["16902\n"]}),
    stdin_case("deep_recursion", "def depth(n):\n    return 0 if n == 0 else 1 + depth(n - 1)\nprint(depth(int(input())))",
               PASS, PASS, tests={"inputs": ["20000\n"], "outputs": ["20000\n"]}),
    stdin_case("os_getcwd_is_disabled", "import os\nos.getcwd()\nprint(3)", -4, -4, tests={"inputs": ["\n"], "outputs": ["3\n"]}),
    stdin_case("input_exhausted", "a = input()\nb = input()\nprint(a)", -4, -4, tests={"inputs": ["1"], "outputs": ["1\n"]}),
    stdin_case("syntax_error", "print(3", -4, -4),
    stdin_case("early_exit_second_test_fails", "a, b = map(int, input().split())\nprint(3)", -2, -2),
    stdin_case("runtime_error", "a, b = map(int, input().split())\nprint(a / 0)", -4, -4),
    stdin_case("stderr_is_ignored", "import sys\na, b = map(int, input().split())\nprint('debug', file=sys.stderr)\nprint(a + b)",
               PASS, PASS),
    stdin_case("infinite_loop", "while True:\n    pass", -3, -3, timeout=1),
    call_case("call_tuple_for_list", "pair", "class Solution:\n    def pair(self, x: int) -> List[int]:\n        return (x, x + 1)",
              ["1", "5"], ["[1, 2]", "[5, 6]"], PASS, PASS),
    call_case("call_wrong_answer", "double", "class Solution:\n    def double(self, x: int) -> int:\n        return x + x + (x > 3)",
              ["1", "5"], ["2", "10"], -2, -2),
    call_case("call_float_sum", "add", "class Solution:\n    def add(self, a: float, b: float) -> float:\n        return a + b",
              ["0.1\n0.2"], ["0.3"], -2, PASS),
    call_case("call_sys_exit", "f", "import sys\nclass Solution:\n    def f(self, x: int) -> int:\n        sys.exit(0)",
              ["1"], ["1"], -5, -5),  # no result: upstream's check_correctness raises, results stay [-2]
    call_case("call_missing_method", "f", "class Solution:\n    def g(self, x: int) -> int:\n        return x",
              ["1"], ["1"], -4, -4),
    call_case("call_print_is_not_output", "f", "class Solution:\n    def f(self, x: int) -> int:\n        print(x)\n        return x",
              ["1"], ["1"], PASS, PASS),
    call_case("call_plain_function", "f", "def f(x):\n    return x * 2", ["2"], ["4"], PASS, PASS),
    call_case("call_infinite_loop", "f", "class Solution:\n    def f(self, x: int) -> int:\n        while True:\n            pass",
              ["1"], ["1"], -3, -3, timeout=1),
]

SOLUTIONS = {
    "1873_A": {
        "correct": "t = int(input())\nfor _ in range(t):\n    s = input().strip()\n"
                   "    print('YES' if sum(a != b for a, b in zip(s, 'abc')) in (0, 2) else 'NO')",
        "always_yes": "t = int(input())\nfor _ in range(t):\n    input()\n    print('YES')",
        "crash": "t = int(input())\nprint(undefined_name)",
    },
    "2727": {
        "correct": "class Solution:\n    def countSeniors(self, details: List[str]) -> int:\n"
                   "        return sum(int(d[11:13]) > 60 for d in details)",
        "off_by_one": "class Solution:\n    def countSeniors(self, details: List[str]) -> int:\n"
                      "        return sum(int(d[11:13]) >= 60 for d in details)",
        "correct_variant": "class Solution:\n    def countSeniors(self, details: List[str]) -> int:\n"
                        "        return len([d for d in details if int(d[11:13]) > 60])",
    },
    "abc301_a": {
        "correct": "n = int(input())\ns = input().strip()\nt, a = s.count('T'), s.count('A')\n"
                   "print(('T' if t > a else 'A') if t != a else ('A' if s[-1] == 'T' else 'T'))",
        "majority_only": "n = int(input())\ns = input().strip()\nprint('T' if s.count('T') >= s.count('A') else 'A')",
        "iterates_stdin": "import sys\nlines = [l for l in sys.stdin]\ns = lines[1].strip()\nt, a = s.count('T'), s.count('A')\n"
                          "print(('T' if t > a else 'A') if t != a else ('A' if s[-1] == 'T' else 'T'))",
    },
}


def encode_private(tests: list[dict]) -> str:
    return base64.b64encode(zlib.compress(pickle.dumps(json.dumps(tests)))).decode()


def official_rows() -> list[dict]:
    import sys

    sys.path.insert(0, str(HERE.parents[2]))
    from suites.lcb_custom import sandboxfusion_row
    from suites.livecodebench import VENDORED

    rows = []
    dates = {"1873_A": "2024-07-31T23:59:00", "2727": "2024-08-01T00:00:00", "abc301_a": "2025-02-01T10:00:00"}
    for line in (VENDORED / "sandboxfusion-release-v1-sample.jsonl").read_text().splitlines():
        row = sandboxfusion_row(json.loads(line))
        tests = json.loads(row["private_test_cases"])
        row["public_test_cases"] = json.dumps(tests[:1])
        row["private_test_cases"] = encode_private(tests[1:])
        row["contest_date"] = dates[row["question_id"]]
        row["question_title"] = row["question_id"]
        row["contest_id"] = row["question_id"].split("_")[0]
        rows.append(row)
    return rows


def main() -> None:
    (HERE / "quirks.json").write_text(json.dumps(QUIRKS, indent=1) + "\n")
    (HERE / "solutions.json").write_text(json.dumps(SOLUTIONS, indent=1) + "\n")
    with open(HERE / "official-format.jsonl", "w") as handle:
        for row in official_rows():
            handle.write(json.dumps(row) + "\n")


if __name__ == "__main__":
    main()
