"""lm-eval hooks for the ssp_* tasks: documents from our suites, verdicts from our graders.

Each document carries the suite name, its resolved options and the grader's reference as JSON
(Arrow needs one schema; GPQA references are objects with the recorded option permutation), so
scoring needs nothing but the document. The prompt is the suite's single user message; run lm_eval
with `--apply_chat_template` to wrap it in the model's chat template as `harness eval` does.
"""
from __future__ import annotations

import json
from typing import Any

import datasets

from suites import get_suite


def load(suite: str, **options: Any) -> datasets.DatasetDict:
    """`custom_dataset` hook: lm-eval passes the YAML's dataset_kwargs and metadata as keywords;
    keys the suite does not know (e.g. `version`) are ignored."""
    chosen = get_suite(suite)
    resolved = chosen.resolve_options(options)
    docs = []
    for problem in chosen.load_problems(resolved):
        if len(problem.messages) != 1 or problem.messages[0]["role"] != "user":
            raise ValueError(f"{problem.problem_id}: lm-eval tasks take one user message per problem")
        docs.append({"suite": suite, "problem_id": problem.problem_id, "prompt": problem.messages[0]["content"],
                     "answer_json": json.dumps(problem.answer), "options_json": json.dumps(resolved)})
    return datasets.DatasetDict({"test": datasets.Dataset.from_list(docs)})


def doc_to_text(doc: dict) -> str:
    return doc["prompt"]


def doc_to_target(doc: dict) -> str:
    answer = json.loads(doc["answer_json"])
    return answer["letter"] if isinstance(answer, dict) else str(answer)


def verdicts(doc: dict, responses: list[str]) -> list:
    grader = get_suite(doc["suite"]).grader(json.loads(doc["options_json"]))
    answer = json.loads(doc["answer_json"])
    return [grader(response, answer) for response in responses]


def process_results(doc: dict, results: list[str]) -> dict[str, float]:
    """pass@1 over the doc's responses (`repeats`); one response gives that sample's 0/1 verdict."""
    graded = verdicts(doc, results)
    return {"pass_at_1": sum(v.correct for v in graded) / len(graded)}
