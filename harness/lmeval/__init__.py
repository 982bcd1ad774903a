"""Our suites as lm-evaluation-harness tasks: `lm_eval ... --include_path $(harness lm-eval-tasks)`.

The task YAMLs in tasks/ name our suites; tasks/ssp_tasks.py builds each task's documents from
the suite itself (vendored data, sha256-checked; no hub access) and scores responses with the
suite's own grader, so lm-eval and `harness grade` give the same verdict for the same response.
"""
from pathlib import Path

TASKS_DIR = Path(__file__).parent / "tasks"
