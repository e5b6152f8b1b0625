"""The ``netscope`` command: one argparse parser with a subcommand each (open, report, check,
run, collect). Imports the app, torch and the engine's heavy parts lazily."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Collection, Sequence
from typing import TYPE_CHECKING

from netscope import __version__
from netscope.cli_gate import add_baseline_options, baseline_limits
from netscope.engine.errors import NetscopeError
from netscope.engine.options import OPTIMIZER_CHOICES, LoadOptions, ProfileOptions
from netscope.report.write import FORMATS

if TYPE_CHECKING:
    from netscope.cli_gate import BaselineCheck
    from netscope.engine.model import Profile, Snapshot


def _shape(text: str) -> tuple[int, ...]:
    try:
        dims = tuple(int(part) for part in text.replace("x", ",").split(",") if part.strip())
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"not a shape: {text!r} (use e.g. 1,3,224,224)") from exc
    if not dims or any(d < 0 for d in dims):
        raise argparse.ArgumentTypeError(f"not a shape: {text!r} (use e.g. 1,3,224,224)")
    return dims


def _size(text: str) -> int:
    from netscope.cli_run import size_option  # declared once, beside run's memory gate

    return size_option(text)


def _common_options() -> argparse.ArgumentParser:
    """Options every command takes (a parent parser: declared once)."""
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--debug", action="store_true", help="show netscope's own tracebacks")
    return common


def _target_options(*, target_required: bool) -> argparse.ArgumentParser:
    """The model or checkpoint and how to load and profile it: open, report and check."""
    parser = argparse.ArgumentParser(add_help=False, parents=[_common_options()])
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
        "--train",
        action="store_true",
        help="the step is forward + loss + backward + an optimizer update (default: SGD)",
    )
    parser.add_argument(
        "--optimizer",
        choices=OPTIMIZER_CHOICES,
        default="sgd",
        help="the update of a --train step (a model file's optimizer(model) is used instead)",
    )
    parser.add_argument(
        "--dtype",
        choices=("bfloat16", "float16", "float32"),
        help="cast the model's floating parameters (and the example) before the step",
    )
    parser.add_argument(
        "--fit",
        metavar="[Nx]DEVICE",
        help="will the step fit N GPUs: H100, 8xH100, A100-80GB, L4, RTX4090... or 2x24GiB",
    )
    plan = parser.add_argument_group("plan a run beyond one GPU (with --fit or --memory-budget)")
    plan.add_argument(
        "--shard",
        choices=("none", "ddp", "zero1", "zero2", "fsdp"),
        help="how the N GPUs share the model (default: ddp when N > 1)",
    )
    plan.add_argument(
        "--shard-units",
        metavar="PATTERN",
        help="FSDP units: path or class globs (default: repeated blocks + the root)",
    )
    plan.add_argument(
        "--tp",
        type=int,
        default=1,
        metavar="N",
        help="tensor-parallel degree: tp_plan(model) or transformers' own plan",
    )
    plan.add_argument(
        "--precision",
        choices=("fp32", "bf16", "fp16", "bf16-mixed", "fp16-mixed"),
        help="pure casts the weights (as --dtype); *-mixed keeps fp32 master weights",
    )
    plan.add_argument(
        "--checkpoint",
        default="none",
        metavar="none|all|auto|PATTERN",
        help="activation checkpointing: none, all units, auto (fit the device), or globs",
    )
    plan.add_argument(
        "--memory-budget",
        type=_budget,
        metavar="BYTES",
        help="a budget for the step's peak (24GiB or bytes; no CUDA-context allowance)",
    )
    parser.add_argument(
        "--peak-tflops",
        type=float,
        metavar="TFLOPS",
        help="the device's peak for MFU where netscope has none (the CPU, unlisted GPUs)",
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
    return parser


def build_parser() -> argparse.ArgumentParser:
    """``netscope COMMAND ...``; ``netscope TARGET`` (no command) is ``netscope open TARGET``."""
    return _build()[0]


def _build() -> tuple[argparse.ArgumentParser, dict[str, argparse.ArgumentParser]]:
    """The parser and its commands' parsers by name (the one list of command names)."""
    parser = argparse.ArgumentParser(
        prog="netscope",
        usage="netscope [TARGET] [options] | netscope COMMAND ...",
        description="See inside a PyTorch model: blocks, parameters, ties, lazy layers, "
        "checkpoints, and where a step spends its time.",
        epilog="With no command, `netscope TARGET [options]` opens the app (`netscope open`); "
        "with no target, on a bundled demo model. Each command has its own --help.",
    )
    parser.add_argument("--version", action="version", version=f"netscope {__version__}")
    commands = parser.add_subparsers(
        dest="command", title="commands", metavar="COMMAND", prog="netscope"
    )

    app = commands.add_parser(
        "open",
        parents=[_target_options(target_required=False)],
        help="the app on a model file or checkpoint (the default command)",
        description="Open the app: the block tree, details and live profiling panels.",
    )
    app.add_argument(
        "--no-profile", action="store_true", help="do not start profiling when the app opens"
    )
    app.add_argument(
        "--continuous",
        action="store_true",
        help="keep timing the step flat out after the measurements (default: ~10%% duty)",
    )
    app.set_defaults(handler=_run_app)

    report = commands.add_parser(
        "report",
        parents=[_target_options(target_required=True)],
        help="write a JSON, Markdown, HTML or Chrome-trace report",
        description="Write a report without the app.",
    )
    report.add_argument("-o", "--output", required=True, metavar="FILE", help="file to write")
    report.add_argument(
        "--format",
        choices=FORMATS,
        help="default: from the file extension (.json .md .html; .trace.json for chrome-trace)",
    )
    report.add_argument("--profile", action="store_true", help="add a profile section")
    report.set_defaults(handler=_run_report)

    check = commands.add_parser(
        "check",
        parents=[_target_options(target_required=True)],
        help="CI gate: fail (exit 1) when a step exceeds its sync/copy limits",
        description="CI gate: profile one step and fail (exit 1) when a limit is exceeded. With "
        "--device meta nothing is profiled: FLOPs, --max-peak-memory and --fit are gated from "
        "the step replayed on meta.",
    )
    check.add_argument("--max-syncs", type=int, metavar="N", help="most sync points per step")
    check.add_argument("--max-copies", type=int, metavar="N", help="most host-device copies")
    check.add_argument(
        "--max-copy-bytes", type=int, metavar="B", help="most bytes copied between devices"
    )
    check.add_argument(
        "--max-peak-memory",
        type=_size,
        metavar="BYTES",
        help="most bytes the step may hold at its peak, on one device as measured (a number, "
        "or a size such as 20GiB; a planned layout's per-GPU need is gated by --fit Nx<size>)",
    )
    add_baseline_options(check.add_argument_group("against a baseline report"))
    check.set_defaults(handler=_run_check)

    from netscope.cli_diff import add_diff_command
    from netscope.cli_ranks import add_collect_command
    from netscope.cli_run import add_run_command, run_report_options

    target = [_target_options(target_required=True)]
    add_diff_command(commands, target, checked_load_options, profile_options)
    add_run_command(commands, [_common_options(), run_report_options()])
    add_collect_command(commands, [_common_options(), run_report_options()])
    return parser, dict(commands.choices)


def with_command(argv: Sequence[str], commands: Collection[str]) -> list[str]:
    """``netscope model.py ...`` -> ``netscope open model.py ...``: the app is the default.

    argparse has no default subcommand, so ``open`` is put in front of any command line that
    starts with neither a command nor the top level's own -h/--help/--version (a file named like
    a command opens as ``netscope open run`` or ``netscope ./run``)."""
    argv = list(argv)
    if argv and (argv[0] in commands or argv[0] in ("-h", "--help", "--version")):
        return argv
    return ["open", *argv]


def unknown_command(argv: Sequence[str], commands: Collection[str]) -> str | None:
    """Why ``argv[0]`` is neither a command nor a target: a bare word (no '.', '/' or ':') that
    names no file, as ``netscope plan model.py``; None when it may be a target."""
    if not argv or argv[0] in commands or argv[0].startswith("-"):
        return None
    word = argv[0]
    if any(c in word for c in "./:\\") or os.path.exists(word):
        return None
    names = ", ".join(sorted(c for c in commands if c != "open"))
    return (
        f"{word!r} is not a command, nor a file or folder here; the commands are open (the "
        f"default: netscope MODEL.py), {names}. Planning (will the step fit, how to shard) is "
        "`netscope report MODEL.py --fit H100 -o plan.md` or "
        "`netscope check MODEL.py --fit 8xH100 --shard fsdp`"
    )


def parse(argv: Sequence[str]) -> argparse.Namespace:
    """Parse a command line; ``run``'s script and its arguments are split off first, untouched."""
    parser, commands = _build()
    why = unknown_command(argv, commands)
    if why is not None:
        parser.error(why)
    argv = with_command(argv, commands)
    if argv[0] != "run":
        return parser.parse_args(argv)
    from netscope.cli_run import options_taking_a_value, split_argv

    own, as_module, script, script_args = split_argv(
        argv[1:], options_taking_a_value(commands["run"])
    )
    args = parser.parse_args(["run", *own])
    args.as_module, args.script, args.script_args = as_module, script, script_args
    return args


def checked_load_options(args: argparse.Namespace) -> LoadOptions:
    """``load_options`` of a target that is there: a mistyped path is one line of error from
    every command, before a worker or the app starts."""
    from netscope.engine.load.exists import require_target

    require_target(args.target)
    return load_options(args)


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
        train=args.train,
        optimizer=args.optimizer,
        dtype=_PURE.get(args.precision, args.dtype),
        fit=args.fit,
        shard=args.shard,
        shard_units=args.shard_units,
        tp=args.tp,
        precision=args.precision,
        checkpoint=args.checkpoint,
        memory_budget=args.memory_budget,
    )


_PURE = {"bf16": "bfloat16", "fp16": "float16", "fp32": "float32"}  # --precision -> --dtype


def _budget(text: str) -> int:
    from netscope.engine.compute.devices import parse_size

    size = parse_size(text)
    if size is None or size <= 0:
        raise argparse.ArgumentTypeError(f"{text!r} is not a size (24GiB, 80GB or bytes)")
    return size


def profile_options(args: argparse.Namespace) -> ProfileOptions:
    devices = tuple(d.strip() for d in args.devices.split(",")) if args.devices else None
    return ProfileOptions(
        devices=devices,
        max_seconds=args.time_budget,
        timeout_s=args.timeout,
        continuous=getattr(args, "continuous", False),
        peak_tflops=args.peak_tflops,
    )


def _run_report(args: argparse.Namespace) -> int:
    from netscope.report.write import resolve_format, write_report

    fmt = resolve_format(args.output, args.format)  # also checks the destination, before the run
    load = checked_load_options(args)
    from netscope.engine.worker.request import ReportRequest
    from netscope.engine.worker.session import report_in_worker

    # the model runs in a worker even without --profile: a crash is reported, not suffered; the
    # worker writes the file itself, so the snapshot never crosses to this process
    wanted = args.profile or fmt == "chrome-trace"
    request = ReportRequest(os.path.abspath(args.output), fmt, write_report)
    report_in_worker(load, profile_options(args), request, profile=wanted)
    print(f"netscope: wrote {fmt} report to {args.output}")
    return 0


def _run_check(args: argparse.Namespace) -> int:
    from netscope.engine.compute.gates import memory_violations
    from netscope.engine.profiler.check import Limits, evaluate
    from netscope.engine.worker.session import run_profile
    from netscope.report.check_text import format_verdict

    load = checked_load_options(args)
    baseline_limits(args)  # a bad --baseline fails before the step runs
    if load.device == "meta":
        return _run_check_on_meta(args)
    snapshot, profile = run_profile(load, profile_options(args))
    limits = Limits(
        max_syncs=args.max_syncs, max_copies=args.max_copies, max_copy_bytes=args.max_copy_bytes
    )
    violations = [*evaluate(profile, limits), *memory_violations(snapshot, args.max_peak_memory)]
    against = _against_baseline(args, snapshot, profile)
    over = against is not None and against.failed
    print(format_verdict(profile, limits, violations, snapshot, args.max_peak_memory, over))
    if against is not None:
        print(against.text(limits_failed=bool(violations)))
    return 1 if violations or over else 0


def _against_baseline(
    args: argparse.Namespace, snapshot: Snapshot, profile: Profile | None
) -> BaselineCheck | None:
    """``--baseline``: this step's report against the baseline's (None without one)."""
    from netscope.cli_gate import baseline_check
    from netscope.report.serialize import report_dict

    gates = baseline_limits(args)
    return baseline_check(args.baseline, gates, lambda: report_dict(snapshot, profile))


def _run_check_on_meta(args: argparse.Namespace) -> int:
    """A meta model cannot be profiled: gate FLOPs, memory and fit from its snapshot."""
    from netscope.engine.worker.session import run_in_worker
    from netscope.report.check_text import NOT_ON_META, meta_verdict

    limits = {"--max-syncs": args.max_syncs, "--max-copies": args.max_copies,
              "--max-copy-bytes": args.max_copy_bytes}  # fmt: skip
    unmeasurable = [flag for flag, value in limits.items() if value is not None]
    if unmeasurable:
        raise NetscopeError(
            f"{', '.join(unmeasurable)} cannot be checked on meta: {NOT_ON_META}",
            hint="Check syncs and copies with --device cpu or cuda; on meta gate memory and fit.",
        )
    load = checked_load_options(args)
    snapshot, _ = run_in_worker(load, profile_options(args), profile=False)
    against = _against_baseline(args, snapshot, None)
    over = against is not None and against.failed
    text, failed = meta_verdict(snapshot, load.train, args.max_peak_memory, over)
    print(text)
    if against is not None:
        print(against.text(limits_failed=failed))
    return 1 if failed or over else 0


def _run_app(args: argparse.Namespace) -> int:
    # The tree first: the worker (import torch, build the model) starts before the app imports
    # Textual and draws its first frame, so the two run side by side
    from multiprocessing import resource_tracker

    from netscope.engine.worker.session import app_session
    from netscope.terminal import require_terminal

    load, prof = checked_load_options(args), profile_options(args)  # a wrong path says so first
    require_terminal(f"netscope report {args.target} -o report.json (or .md, .html)")
    autostart = not args.no_profile and load.profilable
    resource_tracker.ensure_running()  # while sys.stderr is still the terminal (see run_app)
    first = app_session(load, prof, autostart)
    first.start()
    try:
        from netscope.app.app import run_app

        return run_app(load, prof, autostart=autostart, first=first)
    finally:
        first.cancel()  # at once if the app never took it; a no-op once it has ended


def main(argv: Sequence[str] | None = None) -> int:
    args = parse(sys.argv[1:] if argv is None else argv)
    if args.command == "open" and args.target is None:
        from netscope.demo import demo_target

        args.target = demo_target()
    try:
        return int(args.handler(args))
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
