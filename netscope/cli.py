"""The ``netscope`` command: the app, ``report`` and ``check``. Imports the app lazily."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence

from netscope import __version__
from netscope.engine.errors import NetscopeError
from netscope.engine.options import LoadOptions, ProfileOptions
from netscope.report.write import FORMATS


def _shape(text: str) -> tuple[int, ...]:
    try:
        dims = tuple(int(part) for part in text.replace("x", ",").split(",") if part.strip())
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"not a shape: {text!r} (use e.g. 1,3,224,224)") from exc
    if not dims or any(d < 0 for d in dims):
        raise argparse.ArgumentTypeError(f"not a shape: {text!r} (use e.g. 1,3,224,224)")
    return dims


def _add_target_options(parser: argparse.ArgumentParser, *, target_required: bool) -> None:
    parser.add_argument(
        "target",
        nargs=None if target_required else "?",
        help="model.py, model.py:NAME, or a checkpoint (.pt .pth .bin .ckpt .safetensors)",
    )
    parser.add_argument("--weights", metavar="CKPT", help="load this checkpoint into the model")
    parser.add_argument("--device", default="cpu", help="cpu, cuda, cuda:N or meta (default: cpu)")
    parser.add_argument(
        "--input-shape", type=_shape, metavar="SHAPE", help="synthesize an input, e.g. 1,3,224,224"
    )
    parser.add_argument("--input-dtype", default="float32", help="dtype of --input-shape")
    parser.add_argument(
        "--trust-pickle",
        action="store_true",
        help="allow checkpoints that need full unpickling (runs code from the file!)",
    )
    parser.add_argument("--no-backward", action="store_true", help="skip the gradient pass")
    parser.add_argument(
        "--stats",
        action="store_true",
        help="value statistics for a checkpoint of any size (default: up to 256 MB)",
    )
    parser.add_argument(
        "--devices", help="devices to profile, comma separated (default: cpu and every GPU)"
    )
    parser.add_argument(
        "--train", action="store_true", help="profile forward + loss + backward + SGD update"
    )
    parser.add_argument(
        "--time-budget",
        type=float,
        default=5.0,
        metavar="SECONDS",
        help="seconds of timed runs per device (default: 5; the median may settle sooner)",
    )
    parser.add_argument(
        "--timeout",
        type=float,
        default=300.0,
        metavar="SECONDS",
        help="stop the profiling worker after this long (default: 300)",
    )
    parser.add_argument(
        "--continuous",
        action="store_true",
        help="app: keep timing the step flat out after the measurements (default: ~10%% duty)",
    )
    parser.add_argument("--debug", action="store_true", help="show netscope's own tracebacks")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="netscope",
        description="See inside a PyTorch model: blocks, parameters, ties, lazy layers, "
        "checkpoints, and where a step spends its time.",
        epilog="Subcommands: 'netscope report TARGET -o FILE', 'netscope check TARGET', "
        "'netscope run [--nproc-per-node N] script.py [args...]', "
        "'netscope collect --listen HOST:PORT' (each has its own --help). "
        "With no target, the app opens a bundled demo model.",
    )
    parser.add_argument("--version", action="version", version=f"netscope {__version__}")
    _add_target_options(parser, target_required=False)
    parser.add_argument(
        "--no-profile", action="store_true", help="do not start profiling when the app opens"
    )
    return parser


def build_report_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="netscope report", description="Write a report without the app."
    )
    _add_target_options(parser, target_required=True)
    parser.add_argument("-o", "--output", required=True, metavar="FILE", help="file to write")
    parser.add_argument(
        "--format",
        choices=FORMATS,
        help="default: from the file extension (.json .md .html; .trace.json for chrome-trace)",
    )
    parser.add_argument("--profile", action="store_true", help="add a profile section")
    return parser


def build_check_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="netscope check",
        description="CI gate: profile one step and fail (exit 1) when a limit is exceeded.",
    )
    _add_target_options(parser, target_required=True)
    parser.add_argument("--max-syncs", type=int, metavar="N", help="most sync points per step")
    parser.add_argument("--max-copies", type=int, metavar="N", help="most host-device copies")
    parser.add_argument(
        "--max-copy-bytes", type=int, metavar="B", help="most bytes copied between devices"
    )
    return parser


def load_options(args: argparse.Namespace) -> LoadOptions:
    return LoadOptions(
        target=args.target,
        weights=args.weights,
        device=args.device,
        input_shape=args.input_shape,
        input_dtype=args.input_dtype,
        trust_pickle=args.trust_pickle,
        backward=not args.no_backward,
        all_stats=args.stats,
    )


def profile_options(args: argparse.Namespace) -> ProfileOptions:
    devices = tuple(d.strip() for d in args.devices.split(",")) if args.devices else None
    return ProfileOptions(
        devices=devices,
        train=args.train,
        max_seconds=args.time_budget,
        timeout_s=args.timeout,
        continuous=getattr(args, "continuous", False),
    )


def _run_report(args: argparse.Namespace) -> int:
    from netscope.report.write import resolve_format

    fmt = resolve_format(args.output, args.format)  # also checks the destination, before the run
    load = load_options(args)
    from netscope.engine.profiler.messages import ReportRequest
    from netscope.engine.profiler.session import report_in_worker

    # the model runs in a worker even without --profile: a crash is reported, not suffered; the
    # worker writes the file itself, so the snapshot never crosses to this process
    wanted = args.profile or fmt == "chrome-trace"
    request = ReportRequest(os.path.abspath(args.output), fmt)
    report_in_worker(load, profile_options(args), request, profile=wanted)
    print(f"netscope: wrote {fmt} report to {args.output}")
    return 0


def _run_check(args: argparse.Namespace) -> int:
    from netscope.engine.profiler.check import Limits, evaluate, format_verdict
    from netscope.engine.profiler.session import run_profile

    _snapshot, profile = run_profile(load_options(args), profile_options(args))
    limits = Limits(
        max_syncs=args.max_syncs, max_copies=args.max_copies, max_copy_bytes=args.max_copy_bytes
    )
    violations = evaluate(profile, limits)
    print(format_verdict(profile, limits, violations))
    return 1 if violations else 0


def _run_app(args: argparse.Namespace) -> int:
    # The tree first: the worker (import torch, build the model) starts before the app imports
    # Textual and draws its first frame, so the two run side by side
    from multiprocessing import resource_tracker

    from netscope.engine.profiler.session import app_session

    load, prof, autostart = load_options(args), profile_options(args), not args.no_profile
    resource_tracker.ensure_running()  # while sys.stderr is still the terminal (see run_app)
    first = app_session(load, prof, autostart)
    first.start()
    try:
        from netscope.app.app import run_app

        return run_app(load, prof, autostart=autostart, first=first)
    finally:
        first.cancel()  # at once if the app never took it; a no-op once it has ended


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0] == "collect":  # the ranks of the user's own torchrun
        from netscope.cli_ranks import main_collect

        return main_collect(argv[1:])
    if argv and argv[0] == "run":  # a script's own argv follows: parsed in cli_run
        from netscope.cli_run import main_run

        return main_run(argv[1:])
    if argv and argv[0] == "report":
        args, run = build_report_parser().parse_args(argv[1:]), _run_report
    elif argv and argv[0] == "check":
        args, run = build_check_parser().parse_args(argv[1:]), _run_check
    else:
        args, run = build_parser().parse_args(argv), _run_app
    if getattr(args, "target", None) is None:
        from netscope.demo import demo_target

        args.target = demo_target()
    try:
        return run(args)
    except NetscopeError as exc:
        if args.debug:
            raise
        print(f"netscope: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("netscope: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
