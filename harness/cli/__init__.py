"""`harness` command line: one module per command, each with `register(subparsers)`.

Every command's errors are HarnessError: printed as one `error: ...` line, exit code 2.
"""
from __future__ import annotations

import argparse
import importlib
import sys

from harness import __version__
from harness.errors import HarnessError

COMMAND_MODULES = [
    "harness.cli.suites_cmd",
    "harness.cli.eval_cmd",
    "harness.cli.grade_cmd",
    "harness.cli.decontam_cmd",
    "harness.cli.import_cmd",
    "harness.cli.report_cmd",
    "harness.cli.gate_cmd",
    "harness.cli.sandbox_cmd",
    "harness.cli.train_cmd",
    "harness.cli.lmeval_cmd",
    "harness.cli.view_cmd",
]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="harness", description="Evaluate small reasoning models reproducibly.")
    parser.add_argument("--version", action="version", version=f"ssp-harness {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name in COMMAND_MODULES:
        importlib.import_module(name).register(commands)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except HarnessError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except BrokenPipeError:  # `harness suites show X | head`
        sys.stderr.close()
        return 0
    except KeyboardInterrupt:
        print("interrupted: finished samples are saved; re-run the same command to resume", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
