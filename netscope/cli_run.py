"""``netscope run [options] script.py [args...]`` / ``netscope run [options] -m pkg.mod [args...]``.

netscope's own options come first; the script (or ``-m module``) and everything after it belong to
the script, as with ``python``, py-spy and memray (``--`` also ends netscope's options). Without
``-o`` the app opens while the script runs; with ``-o FILE`` the script's output passes through
unchanged, the report is written when it ends, and netscope exits with the script's status.
``--max-syncs / --max-copies / --max-peak-memory`` make the run a CI gate (no app, ``-o``
optional): exit 1 after the script ends when a limit was exceeded, unless the script failed.
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
from collections.abc import Collection, Sequence
from typing import Any

from netscope.cli_gate import add_baseline_options, gated, run_limits
from netscope.report.write import FORMATS


def run_report_options() -> argparse.ArgumentParser:
    """``--format`` of a run report (run and collect): a parent parser, declared once."""
    parser = argparse.ArgumentParser(add_help=False)
    run_formats = tuple(fmt for fmt in FORMATS if fmt != "chrome-trace")
    parser.add_argument("--format", choices=run_formats, help="default: from the file extension")
    return parser


def add_run_command(commands: Any, parents: list[argparse.ArgumentParser]) -> None:
    """``netscope run``: netscope's options only; the script and its argv never reach argparse
    (``split_argv`` takes them off first), so a script's ``--device`` stays the script's. No
    abbreviated options: ``split_argv`` must know an option's value from its full name."""
    parser = commands.add_parser(
        "run",
        parents=parents,
        allow_abbrev=False,
        help="run a training script unmodified and watch its loop (torchrun ranks too)",
        usage="netscope run [-o FILE] [--format FMT] [--every N] [--nproc-per-node N] "
        "[--peak-tflops TFLOPS] [--max-syncs N] [--max-copies N] [--max-peak-memory BYTES] "
        "[--baseline FILE [--max-*-growth PCT] [--max-slowdown PCT] [--no-new-syncs]] "
        "(script.py | -m module) [args ...]",
        description="Run a training or inference script and watch its loop: the model's block "
        "tree, step time and phases, and the loop's syncs and copies at their block and line.",
    )
    parser.add_argument("-o", "--output", metavar="FILE",
                        help="no app: write the run report here (.json .md .html) when the "
                        "script ends")  # fmt: skip
    parser.add_argument("--every", type=int, metavar="N",
                        help="run the sync/copy detectors on 1 in N steps after the first 10 "
                        "(default: chosen so the loop slows by about 1%%; 1 or 2: every "
                        "step)")  # fmt: skip
    parser.add_argument("--nproc-per-node", type=int, metavar="N",
                        help="launch N ranks through torchrun (torch.distributed.run), the watcher "
                        "in each: one view of every rank")  # fmt: skip
    parser.add_argument("--peak-tflops", type=float, metavar="TFLOPS",
                        help="the main model's device's peak for MFU where netscope has none "
                        "(the CPU, unlisted GPUs)")  # fmt: skip
    gate = parser.add_argument_group(
        "CI gate", "checked after the script ends: exit 1 naming each violation's file:line "
        "(the script's own failing status wins); no app opens"
    )  # fmt: skip
    gate.add_argument("--max-syncs", type=int, metavar="N",
                      help="most sync points per step in the loop")  # fmt: skip
    gate.add_argument("--max-copies", type=int, metavar="N",
                      help="most host-device copies per step in the loop")  # fmt: skip
    gate.add_argument("--max-peak-memory", type=size_option, metavar="BYTES",
                      help="most memory the loop may hold (CUDA allocator; process RSS on the "
                      "CPU), a number or a size such as 20GiB")  # fmt: skip
    add_baseline_options(gate)
    parser.set_defaults(handler=run_command, command_parser=parser)


def size_option(text: str) -> int:
    """argparse type of a byte size: a number or ``20GiB`` (run's and check's memory gates)."""
    from netscope.engine.compute.devices import parse_size

    size = parse_size(text)
    if size is None:
        raise argparse.ArgumentTypeError(f"not a size: {text!r} (use e.g. 20GiB or 21474836480)")
    return size


def options_taking_a_value(parser: argparse.ArgumentParser) -> frozenset[str]:
    """The option strings of ``parser`` that take a value (``-o FILE``), read from the parser."""
    return frozenset(
        name for action in parser._actions if action.nargs != 0 for name in action.option_strings
    )


def split_argv(
    argv: Sequence[str], takes_value: Collection[str]
) -> tuple[list[str], bool, str | None, list[str]]:
    """(netscope's options, as a module, the script or module, the script's arguments).

    netscope's options end at the first word that is neither an option nor an option's value,
    at ``-m MODULE`` or at ``--``; all that follows is the script's, ``--device`` included."""
    own: list[str] = []
    items = list(argv)
    i = 0
    while i < len(items):
        token = items[i]
        if token == "--":
            rest = items[i + 1 :]
            return own, False, (rest[0] if rest else None), rest[1:]
        if token == "-m":
            if i + 1 >= len(items):
                return own, True, None, []
            return own, True, items[i + 1], items[i + 2 :]
        if token.startswith("-m") and len(token) > 2 and not token.startswith("--"):
            return own, True, token[2:], items[i + 1 :]
        if token in takes_value:
            own += items[i : i + 2]
            i += 2
            continue
        if token.startswith("-"):
            own.append(token)
            i += 1
            continue
        return own, False, token, items[i + 1 :]
    return own, False, None, []


def run_command(args: argparse.Namespace) -> int:
    """``args.script``/``args.as_module``/``args.script_args`` come from ``split_argv``."""
    parser, target, as_module = args.command_parser, args.script, args.as_module
    script_args = args.script_args
    if target is None:
        parser.error("name a script (netscope run train.py ...) or a module (-m pkg.mod)")
    if args.every is not None and args.every < 1:
        parser.error("--every must be 1 or more (1 and 2 record every step)")
    if args.nproc_per_node is not None and args.nproc_per_node < 1:
        parser.error("--nproc-per-node must be 1 or more")
    if args.peak_tflops is not None:
        if not args.peak_tflops > 0 or args.peak_tflops == float("inf"):
            parser.error("--peak-tflops must be a positive number of TFLOP/s")
        from netscope.engine.run.messages import PEAK_TFLOPS_ENV

        os.environ[PEAK_TFLOPS_ENV] = repr(args.peak_tflops)  # the watcher of every rank reads it
    for name in ("max_syncs", "max_copies", "max_peak_memory"):
        if getattr(args, name) is not None and getattr(args, name) < 0:
            parser.error(f"--{name.replace('_', '-')} must be 0 or more")
    limits = run_limits(args)  # reads --baseline now: a bad file fails before the script runs
    if not args.output and not limits.any:
        from netscope.terminal import require_terminal

        shown = f"-m {target}" if as_module else target
        require_terminal(f"netscope run -o report.json {shown} ... (its output passes through)")
    if args.nproc_per_node is not None:
        from netscope.cli_ranks import ranks_main

        return ranks_main(args, as_module, target, script_args)
    if args.output or limits.any:
        return _headless(args, as_module, target, script_args)
    from netscope.app.run_app import run_script_app

    return run_script_app(target, script_args, module=as_module, every=args.every)


def _headless(args: argparse.Namespace, as_module: bool, target: str, rest: list[str]) -> int:
    from netscope.engine.run.aggregate import RunRecorder
    from netscope.engine.run.session import RunSession, exit_status
    from netscope.report.run_report import run_format, write_run_report

    fmt = run_format(args.output, args.format) if args.output else None  # fail before the run
    session = RunSession(target, rest, module=as_module, every=args.every)
    recorder = RunRecorder(session.argv)

    def interrupted(signum: int, frame: object) -> None:
        session.stop()  # SIGINT to the script now, SIGTERM after a grace period

    previous = signal.signal(signal.SIGINT, interrupted)
    try:
        session.start()
        while not session.ended:
            recorder.feed(session.poll(0.5))
    finally:
        signal.signal(signal.SIGINT, previous)
        session.close()
    report = recorder.report()
    if args.output:
        written = write_run_report(args.output, report, fmt)
        print(f"netscope: wrote {fmt} run report to {written}", file=sys.stderr)
    code = exit_status(report.exit_code if report.exit_code is not None else session.returncode)
    return gated(report, run_limits(args), code)
