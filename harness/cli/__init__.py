"""`harness` command line: one module per command, each with `register(subparsers)`.

Exit codes are a contract CI jobs rely on: 0 success, 1 only for `gate`'s "significant
regression" verdict, 2 for every usage, input or I/O error (a HarnessError or an OSError, printed
as one `error: ...` line), 3 for a bug (an unexpected exception: one line, the traceback in a log
file whose path is printed, or on stderr with `--debug`), 130 for Ctrl-C.
"""
from __future__ import annotations

import argparse
import errno
import importlib
import os
import sys
import tempfile
import time
import traceback

from harness import __version__
from harness.errors import HarnessError

COMMAND_MODULES = [
    "harness.cli.suites_cmd",
    "harness.cli.eval_cmd",
    "harness.cli.grade_cmd",
    "harness.cli.audit_cmd",
    "harness.cli.decontam_cmd",
    "harness.cli.import_cmd",
    "harness.cli.export_cmd",
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
    parser.add_argument("--debug", action="store_true", help="on an internal error, print the traceback")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name in COMMAND_MODULES:
        importlib.import_module(name).register(commands)
    return parser


USAGE_ERROR, INTERNAL_ERROR = 2, 3
FULL_DISK = {errno.ENOSPC, errno.EDQUOT, errno.EFBIG}


def os_error_line(exc: OSError) -> str:
    where = f"{exc.filename}: " if exc.filename else ""
    text = exc.strerror or str(exc) or exc.__class__.__name__
    hint = "; free space, then re-run the same command to resume" if exc.errno in FULL_DISK else ""
    return f"{where}{text}{hint}"


def report_bug(exc: BaseException, debug: bool) -> None:
    summary = f"{exc.__class__.__name__}: {str(exc).splitlines()[0] if str(exc) else ''}".strip().rstrip(":")
    if debug:
        traceback.print_exception(exc, file=sys.stderr)
        print(f"error: internal error (a harness bug): {summary}", file=sys.stderr)
        return
    try:
        fd, path = tempfile.mkstemp(prefix=f"harness-crash-{time.strftime('%Y%m%d-%H%M%S')}-", suffix=".log")
        with os.fdopen(fd, "w") as handle:
            handle.write(f"argv: {sys.argv}\n")
            traceback.print_exception(exc, file=handle)
        where = f"traceback in {path}"
    except OSError:
        where = "re-run with --debug for the traceback"
    print(f"error: internal error (a harness bug, please report it): {summary}; {where}", file=sys.stderr)


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except HarnessError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return USAGE_ERROR
    except BrokenPipeError:  # `harness suites show X | head`
        sys.stderr.close()
        return 0
    except OSError as exc:
        print(f"error: {os_error_line(exc)}", file=sys.stderr)
        return USAGE_ERROR
    except KeyboardInterrupt:
        print("interrupted: finished samples are saved; re-run the same command to resume", file=sys.stderr)
        return 130
    except Exception as exc:
        report_bug(exc, args.debug)
        return INTERNAL_ERROR


if __name__ == "__main__":
    sys.exit(main())
