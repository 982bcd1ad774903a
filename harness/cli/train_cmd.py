"""`harness train sft|probe|merge|mgpo|eval|recipe --config FILE.yaml`: the training stages."""
from __future__ import annotations

import importlib

from harness.training.config import load_config

STAGE_CHOICES = ["sft", "probe", "merge", "mgpo", "eval", "recipe", "report"]


def register(commands) -> None:
    parser = commands.add_parser("train", help="training stages: SFT, Pass@K probe, merge, MGPO (docs/training.md)")
    parser.add_argument("stage", choices=STAGE_CHOICES)
    parser.add_argument("--config", required=True, help="YAML config (e.g. harness/training/recipes/cpu-smollm2.yaml)")
    parser.add_argument("--out", help="output root, overriding the config's `out`")
    parser.set_defaults(func=run)


def run(args) -> int:
    config = load_config(args.config, args.out)
    recipe = importlib.import_module("harness.training.recipe")
    if args.stage == "recipe":
        path = recipe.run_recipe(config)
    elif args.stage == "report":
        path = recipe.write_report(config)
    else:
        path = recipe.STAGES[args.stage](config)
    print(path)
    return 0
