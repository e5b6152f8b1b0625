"""``netscope diff A B``: what changed between two reports (JSON files) or two targets (model
files, checkpoints) reported on the fly with the same options. A report, not a gate: exit 0."""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
from collections.abc import Callable
from typing import Any

from netscope.engine.errors import NetscopeError

LoadOf = Callable[[argparse.Namespace], Any]  # cli.checked_load_options, cli.profile_options


def add_diff_command(
    commands: Any, parents: list[argparse.ArgumentParser], load_of: LoadOf, profile_of: LoadOf
) -> None:
    """``parents``: the target options of report/check (their TARGET is A here); ``load_of`` and
    ``profile_of`` read them as cli.py does for report (passed in: cli.py imports this module)."""
    parser = commands.add_parser(
        "diff",
        parents=parents,
        help="what changed between two reports or two models (blocks, FLOPs, memory, time)",
        description="Compare A (before) with B (after): JSON reports, or two targets reported on "
        "the fly with the options given. Prints the changed blocks first by impact; -o writes "
        ".json .md or .html; --app opens the tree with its deltas. Always exits 0 (see "
        "`netscope check --baseline` for a gate).",
    )
    for action in parser._actions:  # the shared TARGET positional is A here
        if action.dest == "target":
            action.metavar, action.help = "A", "the report (.json) or target before"
    parser.add_argument("after", metavar="B", help="the report or target to compare A with")
    parser.add_argument("-o", "--output", metavar="FILE", help="write the diff (.json .md .html)")
    parser.add_argument("--app", action="store_true", help="open the diff in the app")
    parser.add_argument(
        "--profile", action="store_true", help="targets only: time both steps (report --profile)"
    )
    parser.set_defaults(handler=run_diff, load_of=load_of, profile_of=profile_of)


def is_report_file(path: str) -> bool:
    return path.lower().endswith(".json") and not path.lower().endswith(".index.json")


def read_report(path: str) -> dict[str, Any]:
    """A JSON report of schema 1 (any netscope version that writes it)."""
    try:
        with open(path, encoding="utf-8") as stream:
            data = json.load(stream)
    except FileNotFoundError as exc:
        raise NetscopeError("no such report", path=path) from exc
    except (OSError, ValueError) as exc:
        raise NetscopeError(f"not a JSON report: {exc}", path=path) from exc
    if not isinstance(data, dict) or data.get("schema_version") != 1:
        raise NetscopeError(
            "not a netscope report of schema 1 (no schema_version: 1)",
            path=path,
            hint="Write one with `netscope report TARGET -o report.json`.",
        )
    return data


def report_target(args: argparse.Namespace, target: str) -> dict[str, Any]:
    """``netscope report TARGET -o tmp.json`` with the command's options, read back."""
    from netscope.engine.worker.request import ReportRequest
    from netscope.engine.worker.session import report_in_worker
    from netscope.report.write import write_report

    load = args.load_of(argparse.Namespace(**{**vars(args), "target": target}))
    with tempfile.TemporaryDirectory(prefix="netscope-diff-") as folder:
        path = os.path.join(folder, "report.json")
        request = ReportRequest(path, "json", write_report)
        report_in_worker(load, args.profile_of(args), request, profile=args.profile)
        return read_report(path)


def load_side(args: argparse.Namespace, target: str) -> dict[str, Any]:
    return read_report(target) if is_report_file(target) else report_target(args, target)


def run_diff(args: argparse.Namespace) -> int:
    from netscope.engine.diff.compare import diff_reports

    if args.output:
        from netscope.report.diff_write import diff_format

        diff_format(args.output)  # a wrong extension fails before any model runs
    if args.app:  # before any model runs, as a wrong extension
        from netscope.terminal import require_terminal

        require_terminal("drop --app for the text diff, or pass -o diff.md")
    diff = diff_reports(load_side(args, args.target), load_side(args, args.after))
    if args.output:
        from netscope.report.diff_write import write_diff

        write_diff(args.output, diff)
        print(f"netscope: wrote the diff to {args.output}")
    if args.app:
        from netscope.app.diff_app import run_diff_app

        run_diff_app(diff)
    elif not args.output:
        from netscope.report.diff_text import render_diff_text

        sys.stdout.write(render_diff_text(diff, shutil.get_terminal_size().columns))
    return 0
