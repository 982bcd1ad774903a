"""Any problems in the official LiveCodeBench row format (own problems, other releases, fixtures),
graded with the same grader and sandbox as lcb_v5/lcb_v6, without window or count checks.

Without --data it loads the vendored SandboxFusion sample (3 release_v1 problems with full tests),
converted to the official row format.
"""
import json

from harness.rundir import iter_jsonl
from suites import livecodebench as lcb

SANDBOXFUSION = "livecodebench/sandboxfusion-release-v1-sample.jsonl"


def load(path, options):
    if path.resolve() == (lcb.DATA_DIR / SANDBOXFUSION).resolve():
        rows = [sandboxfusion_row(record) for _, record in iter_jsonl(path)]
        return sorted((lcb.problem_from_row(row, options["public_tests_only"], str(path)) for row in rows),
                      key=lambda problem: problem.problem_id)
    return lcb.load_official(path, options["public_tests_only"])


def sandboxfusion_row(record):
    """SandboxFusion's row (prompt text + compressed {"input_output": ...}) -> an official-format row.
    It has no public/private split: every test is treated as private, statement cut from the prompt."""
    labels = json.loads(record["labels"])
    content = record["content"]
    question = content.split("### Question:\n", 1)[1].split("\n\n### Format:", 1)[0]
    starter = ""
    if "starter code" in content.split("### Format:", 1)[1].split("\n", 1)[0]:
        starter = content.split("```python\n")[-1].split("\n```", 1)[0]
    tests = json.loads(lcb.decode_tests(record["test"], labels["task_id"])["input_output"])
    kind = "functional" if tests.get("fn_name") else "stdin"
    cases = [{"input": i, "output": o, "testtype": kind} for i, o in zip(tests["inputs"], tests["outputs"])]
    return {"question_id": labels["task_id"].split("/", 1)[1], "question_content": question, "starter_code": starter,
            "platform": labels["category"], "difficulty": labels["difficulty"], "contest_date": "2023-01-01T00:00:00",
            "public_test_cases": "[]", "private_test_cases": json.dumps(cases),
            "metadata": json.dumps({"func_name": tests["fn_name"]} if tests.get("fn_name") else {})}


SUITE = lcb.code_suite(
    name="lcb_custom",
    data_file=SANDBOXFUSION,
    sha256="fb37b0318eb6fba1096341bae10ee663394c0e3e1e9a839bbcdc4ff856a2b06f",
    source="--data FILE_OR_DIR in the official row format; default bytedance/SandboxFusion @ 469de08 "
           "sandbox/tests/datasets/samples/code_eval_live_code_bench_v1.jsonl (Apache-2.0)",
    loader=load,
    description="LiveCodeBench-format problems from --data (no window/count checks)",
    data_digest=lcb.digest_for(None),
)
