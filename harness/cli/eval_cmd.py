"""`harness eval`: generate, grade and score one or more suites with one model."""
from __future__ import annotations

from pathlib import Path

from harness.backends import BACKEND_MODULES, all_backend_info, backend_info, make_backend, prompt_renderer
from harness.cli.common import (add_executor_options, add_prompt_options, add_sampling_options, add_suite_options,
                                executor_from_args, parse_ks, prompt_controls, sampling_for, suite_options)
from harness.display import print_results
from harness.errors import HarnessError
from harness.pipeline import EvalSpec, evaluate, plan_suite
from harness.settings import Setting
from suites import parse_suite_list


def register(commands) -> None:
    parser = commands.add_parser("eval", help="evaluate a model on suites (resumable)")
    parser.add_argument("--suite", required=True, help="suite name(s), comma-separated")
    parser.add_argument("--model", required=True, help="HF dir, hub id, .gguf file, or smollm2-135m")
    parser.add_argument("--backend", default="hf", help=f"{', '.join(BACKEND_MODULES)} (default hf); see "
                        "docs/backends.md")
    parser.add_argument("--out", required=True, type=Path)
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
    suites = parse_suite_list(args.suite)
    options = suite_options(args, suites)
    if args.data is not None and len(suites) > 1:
        raise HarnessError("--data: give one suite when supplying its data")
    controls = prompt_controls(args)
    plans = [plan_suite(suite, options, sampling_for(suite, args), args.limit, args.data, controls)
             for suite in suites]
    chosen = backend_options(args)
    renderer = prompt_renderer(args.backend, args.model, chosen, controls)
    for plan in plans:
        plan.render(renderer)
    spec = EvalSpec(plans=plans, model=args.model, backend=args.backend, out=args.out,
                    ks=parse_ks(args.k), backend_options=chosen)
    with executor_from_args(args) as executor:
        metrics = evaluate(spec, make_backend, executor=executor)
    print_results(metrics, str(args.out))
    return 0
