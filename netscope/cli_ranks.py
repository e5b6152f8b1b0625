"""``netscope run --nproc-per-node N script.py`` and ``netscope collect --listen HOST:PORT``.

Several ranks in one report: ``run --nproc-per-node`` launches the script through torch's own
launcher (``python -m torch.distributed.run``) with netscope's watcher in every rank;
``collect`` only listens, for ranks launched by the user's own torchrun (``torchrun ... -m
netscope.rank train.py`` with ``NETSCOPE_COLLECTOR=HOST:PORT``) on one node or several.
"""

from __future__ import annotations

import argparse
import signal
import sys
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from netscope.engine.run.gate import RunLimits


def _finish(
    session: object,
    report_path: str | None,
    fmt: str | None,
    exit_code: int | None,
    limits: RunLimits | None = None,
) -> int:
    from netscope.engine.run.dist_session import DistSession
    from netscope.report.run_report import write_run_report

    assert isinstance(session, DistSession)
    report = session.recorder.report(exit_code)
    if report_path:
        written = write_run_report(report_path, report, fmt)
        print(f"netscope: wrote {fmt} run report to {written}", file=sys.stderr)
    if report.state == "crashed" and report.error is not None:
        where = f" at {report.error.location}" if report.error.location else ""
        print(
            f"netscope: crashed: {report.error.type}{where}: {report.error.message}",
            file=sys.stderr,
        )
    elif report.straggler is not None and report.skew_pct is not None:
        print(
            f"netscope: straggler: rank {report.straggler} (waits differ by "
            f"{report.skew_pct:.0f}% of a step)",
            file=sys.stderr,
        )
    code = report.exit_code if report.exit_code is not None else 1
    if code == 0 and report.state == "crashed":
        code = 1
    if limits is None:
        return code
    from netscope.cli_gate import gated

    return gated(report, limits, code)


def _drive(session: object) -> None:
    from netscope.engine.run.dist_session import DistSession

    assert isinstance(session, DistSession)

    def interrupted(signum: int, frame: object) -> None:
        session.stop()

    previous = signal.signal(signal.SIGINT, interrupted)
    try:
        session.start()
        while not session.ended:
            session.pump(0.5)
    finally:
        signal.signal(signal.SIGINT, previous)
        session.close()


def headless_ranks(args: argparse.Namespace, as_module: bool, target: str, rest: list[str]) -> int:
    from netscope.cli_gate import run_limits
    from netscope.engine.run.dist_session import DistSession
    from netscope.report.run_report import run_format

    fmt = run_format(args.output, args.format) if args.output else None  # before the run
    session = DistSession(
        target, rest, module=as_module, nproc_per_node=args.nproc_per_node, every=args.every
    )
    _drive(session)
    if not session.recorder.ranks:
        code = session.returncode
        print(
            f"netscope: error: torchrun exited with status {code} before any rank reached "
            f"netscope at {session.address} (rendezvous on 127.0.0.1:{session.master_port})",
            file=sys.stderr,
        )
    return _finish(session, args.output, fmt, session.returncode or None, run_limits(args))


def add_collect_command(commands: Any, parents: list[argparse.ArgumentParser]) -> None:
    parser = commands.add_parser(
        "collect",
        parents=parents,
        help="collect the ranks of your own torchrun jobs into one run report",
        description="Collect the ranks of torchrun jobs launched with "
        "`torchrun ... -m netscope.rank train.py` and NETSCOPE_COLLECTOR=HOST:PORT; the report "
        "is written when every rank of the world has ended (Ctrl+C: stop waiting).",
    )
    parser.add_argument("--listen", required=True, metavar="HOST:PORT",
                        help="address to listen on (0.0.0.0:PORT for other nodes)")  # fmt: skip
    parser.add_argument("-o", "--output", metavar="FILE", required=True,
                        help="write the run report here (.json .md .html)")  # fmt: skip
    parser.add_argument("--wait", type=float, default=600.0, metavar="SECONDS",
                        help="give up when no rank connects within this long (600)")  # fmt: skip
    parser.set_defaults(handler=collect_command, command_parser=parser)


def collect_command(args: argparse.Namespace) -> int:
    import time

    from netscope.engine.run.dist_session import DistSession
    from netscope.report.run_report import run_format

    parser = args.command_parser
    _host, sep, port = args.listen.rpartition(":")
    if not sep or not port.isdigit():
        parser.error(f"--listen {args.listen!r}: expected HOST:PORT")
    fmt = run_format(args.output, args.format)
    session = DistSession(listen=args.listen, collect_only=True)

    def interrupted(signum: int, frame: object) -> None:
        session.stop()

    previous = signal.signal(signal.SIGINT, interrupted)
    try:
        try:
            session.start()
        except OSError as exc:
            print(f"netscope: error: {exc.strerror or exc}", file=sys.stderr)
            return 2
        print(f"netscope: collecting ranks on {session.address}", file=sys.stderr)
        began = time.monotonic()
        while not session.ended:
            session.pump(0.5)
            if not session.recorder.ranks and time.monotonic() - began > args.wait:
                print(
                    f"netscope: error: no rank reached {session.address} within "
                    f"{args.wait:g} s (is NETSCOPE_COLLECTOR={session.address} set for "
                    "torchrun, and the port open?)",
                    file=sys.stderr,
                )
                session.close()
                return 2
    finally:
        signal.signal(signal.SIGINT, previous)
        session.close()
    return _finish(session, args.output, fmt, None)


def ranks_main(args: argparse.Namespace, as_module: bool, target: str, rest: list[str]) -> int:
    from netscope.cli_gate import run_limits

    if args.output or run_limits(args).any:
        return headless_ranks(args, as_module, target, rest)
    from netscope.app.ranks_app import run_ranks_app

    return run_ranks_app(
        target, rest, module=as_module, nproc_per_node=args.nproc_per_node, every=args.every
    )
