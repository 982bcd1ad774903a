"""`harness lm-eval-tasks`: print the directory of the lm-eval task pack (for --include_path)."""
from __future__ import annotations

from harness.lmeval import TASKS_DIR


def register(commands) -> None:
    parser = commands.add_parser("lm-eval-tasks", help="print the lm-evaluation-harness task pack directory")
    parser.add_argument("--list", action="store_true", help="also list the task names, one per line")
    parser.set_defaults(func=run)


def run(args) -> int:
    print(TASKS_DIR)
    if args.list:
        for path in sorted(TASKS_DIR.glob("ssp*.yaml")):
            print(path.stem)
    return 0
