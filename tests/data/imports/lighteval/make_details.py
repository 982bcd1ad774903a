"""Build details_lighteval|math_500|0_<date>.parquet to lighteval 0.13's schema (see ../PROVENANCE.md).

Run from the repository root: `python tests/data/imports/lighteval/make_details.py`.
"""
from pathlib import Path

import datasets

from suites import get_suite

TEMPLATE = ("\nSolve the following math problem efficiently and clearly.  The last line of your response should be of "
            "the following format: 'Therefore, the final answer is: $\\boxed{{ANSWER}}$. I hope it is correct' "
            "(without quotes) where ANSWER is just the final number or expression that solves the problem. Think "
            "step by step before answering.\n\n{prompt}\n")
DATE = "2026-12-01T20-10-00.000000"
OUT = Path(__file__).parent / "details" / "HuggingFaceTB" / "SmolLM2-135M-Instruct" / DATE

problems = get_suite("math500").load_problems()[:6]
answers = ["Therefore, the final answer is: $\\boxed{%s}$. I hope it is correct" % p.answer if i % 3 != 2 else
           "Therefore, the final answer is: $\\boxed{7}$. I hope it is correct" for i, p in enumerate(problems)]
answers[1] = "The answer is %s, so the final answer is $%s$." % (problems[1].answer, problems[1].answer)
details = []
for i, (p, a) in enumerate(zip(problems, answers)):
    query = TEMPLATE.format(prompt=p.statement)
    doc = {"query": query, "choices": [str(p.answer)], "gold_index": 0, "instruction": None, "images": None,
           "specific": None, "unconditioned_query": None, "original_query": None, "id": str(i),
           "task_name": "lighteval|math_500|0", "fewshot_samples": [], "sampling_methods": ["GENERATIVE"],
           "fewshot_sorting_class": None, "generation_size": 32768, "stop_sequences": None, "use_logits": False,
           "num_samples": 1, "generation_grammar": None}
    right = i % 3 != 2
    response = {"input": [{"role": "user", "content": query}], "input_tokens": [], "text": [a],
                "text_post_processed": None, "output_tokens": [], "logprobs": [], "argmax_logits_eq_gold": [],
                "unconditioned_logprobs": None, "reasonings": []}
    details.append({"doc": doc, "model_response": response,
                    "metric": {"pass@k:k=1": float(right and i != 1), "extractive_match": float(right)}})
dataset = datasets.Dataset.from_list(details)
dataset = dataset.select_columns(sorted(dataset.column_names))
OUT.mkdir(parents=True, exist_ok=True)
dataset.to_parquet(str(OUT / f"details_lighteval|math_500|0_{DATE}.parquet"))
