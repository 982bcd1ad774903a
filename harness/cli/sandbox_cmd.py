"""`harness sandbox build | check`: build the code-execution image; report which backends work."""
from __future__ import annotations

import json
import sys


def register(commands) -> None:
    parser = commands.add_parser("sandbox", help="build the code sandbox image, or check which backends work")
    parser.add_argument("action", choices=["build", "check"])
    parser.add_argument("--mirror", help="build: Debian mirror (default: the one apt uses here)")
    parser.add_argument("--rebuild", action="store_true", help="build: debootstrap again even if a rootfs exists")
    parser.add_argument("--no-docker", action="store_true", help="build: only the rootfs (for bwrap), no image")
    parser.add_argument("--json", action="store_true", help="check: print JSON")
    parser.set_defaults(func=run)


def run(args) -> int:
    if args.action == "build":
        from sandbox.image import build

        info = build(mirror=args.mirror, rebuild=args.rebuild, docker=not args.no_docker,
                     log=lambda line: print(line, file=sys.stderr))
        print(json.dumps(info, indent=1))
        return 0
    from sandbox.check import check_all

    report = check_all()
    if args.json:
        print(json.dumps(report, indent=1))
    else:
        for row in report:
            print(f"{row['backend']:7s} {'ok ' if row['ok'] else 'no '} {row['detail']}")
    default = next((row["backend"] for row in report if row["ok"] and row["backend"] != "local"), None)
    print(f"default: {default or 'none (only --sandbox local --unsafe-local-sandbox works here)'}",
          file=sys.stderr)
    return 0 if default else 1
