"""The CI gate of ``netscope run`` (one process or ``--nproc-per-node``): its limits from the
command line, and the exit status once the script has ended."""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from netscope.engine.model import RunReport
    from netscope.engine.run.gate import RunLimits


def run_limits(args: argparse.Namespace) -> RunLimits:
    from netscope.engine.run.gate import RunLimits

    return RunLimits(args.max_syncs, args.max_copies, args.max_peak_memory)


def gated(report: RunReport, limits: RunLimits, code: int) -> int:
    """The script's status when it failed; else 1 when a limit was exceeded (printed)."""
    if not limits.any:
        return code
    from netscope.report.run_gate_text import run_verdict

    text, failed = run_verdict(report, limits)
    print(text, file=sys.stderr)
    if code != 0:
        return code
    return 1 if failed else 0
