"""`harness eval`: generate, grade and score one or more suites with one model (a thin layer over
`harness.api.evaluate`), or every (model, setting) of a run file (`--config RUN.yaml`, harness.runfile)."""
from __future__ import annotations

from pathlib import Path

from harness.backends import BACKEND_MODULES, all_backend_info, backend_info
from harness.cli.common import (add_executor_options, add_prompt_options, add_sampling_options, add_suite_options,
                                executor_from_args, parse_ks, suite_options)
from harness.display import print_results
from harness.errors import HarnessError
from harness.prompting import PROMPT_SETTINGS
from harness.sampling import SAMPLING_SETTINGS
from harness.settings import Setting, given_values
from suites import parse_suite_list


def register(commands) -> None:
    parser = commands.add_parser("eval", help="evaluate a model on suites (resumable)")
    parser.add_argument("--config", type=Path, metavar="RUN.yaml",
                        help="a run file: models x suites x settings, one run directory per (model, setting) "
                        "under its out: (see docs/run-files.md); --out then replaces out:")
    parser.add_argument("--suite", help="suite name(s), comma-separated (required without --config)")
    parser.add_argument("--model", help="HF dir, hub id, .gguf file, or smollm2-135m (required without --config)")
    parser.add_argument("--backend", default="hf", help=f"{', '.join(BACKEND_MODULES)} (default hf); see "
                        "docs/backends.md")
    parser.add_argument("--out", type=Path, help="the run directory (required without --config)")
    add_backend_flags(parser)
    add_sampling_options(parser)
    add_prompt_options(parser)
    add_suite_options(parser)
    add_executor_options(parser)
    parser.set_defaults(func=run)


def backend_flags() -> dict[str, tuple[Setting, dict[str, str]]]:
    """flag -> (its declaration, {backend: its help}), from every backend's INFO."""
    flags: dict[str, tuple[Setting, dict[str, str]]] = {}
    for info in all_backend_info():
        for item in info.options:
            flags.setdefault(item.flag, (item, {}))[1][info.name] = item.help
    return flags


def add_backend_flags(parser) -> None:
    group = parser.add_argument_group("backend settings (each applies to the backends named in its help)")
    for flag, (item, helps) in backend_flags().items():
        text = "; ".join(f"{name}: {help}" for name, help in helps.items())
        group.add_argument(flag, **(item.argparse_kwargs() | {"help": text}))


def backend_options(args) -> dict:
    options = {}
    backend_info(args.backend)  # an unknown backend is named before its flags are
    for flag, (item, names) in backend_flags().items():
        value = getattr(args, item.dest or item.name, None)
        if value is None:
            continue
        if args.backend not in names:
            raise HarnessError(f"{flag}: applies to --backend {' or '.join(names)}, not {args.backend}")
        options[item.name] = item.validate(value)
    return options


def run(args) -> int:
    if args.config is not None:
        return run_config(args)
    missing = [flag for flag, value in (("--suite", args.suite), ("--model", args.model), ("--out", args.out))
               if value is None]
    if missing:
        raise HarnessError(f"eval: {', '.join(missing)} required (or --config RUN.yaml)")
    from harness.api import evaluate

    suites = parse_suite_list(args.suite)
    options = suite_options(args, suites)
    if args.data is not None and len(suites) > 1:
        raise HarnessError("--data: give one suite when supplying its data")
    chosen = backend_options(args)
    with executor_from_args(args) as executor:
        metrics = evaluate(args.model, [suite.name for suite in suites], args.out, backend=args.backend,
                           **given_values(args, list(SAMPLING_SETTINGS)), limit=args.limit, k=parse_ks(args.k),
                           data=args.data, options=options, backend_options=chosen,
                           prompt=given_values(args, list(PROMPT_SETTINGS)), executor=executor)
    print_results(metrics, str(args.out))
    return 0


def run_config(args) -> int:
    """Every (model, setting) of the run file; flags that would contradict the file are refused."""
    from harness.runfile import evaluate_file, load_run_file

    given = [flag for flag, value in (("--suite", args.suite), ("--model", args.model), ("--data", args.data),
                                      ("--limit", args.limit)) if value is not None]
    given += [item.flag for item in [*SAMPLING_SETTINGS, *PROMPT_SETTINGS]
              if getattr(args, item.dest or item.name, None) not in (None, [])]
    given += [flag for flag, (item, _) in backend_flags().items() if getattr(args, item.dest or item.name, None) is not None]
    if args.k != "1":
        given.append("--k")
    from harness.cli.common import declared_suite_options

    given += [item.flag for item in declared_suite_options() if getattr(args, item.dest or item.name, None) is not None]
    if args.backend != "hf":
        given.append("--backend")
    if given:
        raise HarnessError(f"{', '.join(given)}: set in the run file with --config (only --out and the executor "
                           "flags go with it)")
    run_file = load_run_file(args.config, out=args.out)
    with executor_from_args(args) as executor:
        for path, metrics in evaluate_file(run_file, executor=executor):
            print_results(metrics, str(path))
    return 0
