"""The CI gates' command-line side: ``netscope run``'s limits and exit status once the script
has ended, and the ``--baseline`` options ``check`` and ``run`` share."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from netscope.engine.diff.baseline import BaselineLimits, BaselineViolation
    from netscope.engine.diff.model import ReportDiff
    from netscope.engine.model import RunReport
    from netscope.engine.run.gate import RunLimits


def _pct(text: str) -> float:
    try:
        value = float(text.rstrip("%"))
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"not a percentage: {text!r} (use e.g. 5)") from exc
    if value < 0 or value != value:
        raise argparse.ArgumentTypeError(f"{text!r}: a percentage of 0 or more")
    return value


def add_baseline_options(group: Any) -> None:
    """``--baseline FILE`` and its gates (an argparse group of check or run)."""
    group.add_argument("--baseline", metavar="FILE",
                       help="a JSON report to compare with: the --max-*-growth, --max-slowdown "
                       "and --no-new-syncs gates")  # fmt: skip
    for name, what in (("flops-growth", "FLOPs per step"), ("params-growth", "parameters"),
                       ("peak-growth", "peak memory")):  # fmt: skip
        group.add_argument(f"--max-{name}", type=_pct, metavar="PCT",
                           help=f"most growth of {what} over the baseline, percent")  # fmt: skip
    group.add_argument("--max-slowdown", type=_pct, metavar="PCT",
                       help="most slowdown of the step over the baseline, percent; only a "
                       "slowdown outside both p10..p90 ranges counts")  # fmt: skip
    group.add_argument("--no-new-syncs", action="store_true",
                       help="fail on a sync point the baseline did not have")  # fmt: skip


def baseline_limits(args: argparse.Namespace) -> BaselineLimits:
    """The baseline gates asked for; the baseline file is read (and checked) now, before the
    step or the script runs. A gate without ``--baseline`` is a usage error (exit 2)."""
    from netscope.engine.diff.baseline import BaselineLimits
    from netscope.engine.errors import NetscopeError

    limits = BaselineLimits(args.max_flops_growth, args.max_params_growth, args.max_peak_growth,
                            args.max_slowdown, args.no_new_syncs)  # fmt: skip
    if args.baseline is None:
        if limits.any:
            raise NetscopeError("--max-*-growth, --max-slowdown and --no-new-syncs need "
                                "--baseline FILE (a JSON report to compare with)")  # fmt: skip
        return limits
    from netscope.cli_diff import read_report

    read_report(args.baseline)
    if not limits.any:
        raise NetscopeError(
            "--baseline without a gate",
            hint="Add --max-flops-growth, --max-params-growth, --max-peak-growth, "
            "--max-slowdown or --no-new-syncs.",
        )
    return limits


@dataclass(frozen=True)
class BaselineCheck:
    """A report against the baseline file, compared before either verdict is printed: neither
    the limits' verdict nor the baseline's says OK when the other failed."""

    path: str
    limits: BaselineLimits
    diff: ReportDiff
    violations: list[BaselineViolation]

    @property
    def failed(self) -> bool:
        return bool(self.violations)

    def text(self, limits_failed: bool) -> str:
        from netscope.report.baseline_text import baseline_verdict

        return baseline_verdict(self.diff, self.path, self.limits, self.violations, limits_failed)


def baseline_check(
    baseline: str | None, limits: BaselineLimits, current: Callable[[], dict[str, Any]]
) -> BaselineCheck | None:
    """``current()`` (a report dict, made only when there is a baseline) against the baseline."""
    if baseline is None:
        return None
    from netscope.cli_diff import read_report
    from netscope.engine.diff.baseline import baseline_violations
    from netscope.engine.diff.compare import diff_reports

    diff = diff_reports(read_report(baseline), current())
    return BaselineCheck(baseline, limits, diff, baseline_violations(diff, limits))


def run_limits(args: argparse.Namespace) -> RunLimits:
    from netscope.engine.run.gate import RunLimits

    baseline = baseline_limits(args) if hasattr(args, "baseline") else None
    if baseline is None:
        return RunLimits(args.max_syncs, args.max_copies, args.max_peak_memory)
    return RunLimits(args.max_syncs, args.max_copies, args.max_peak_memory, args.baseline, baseline)


def gated(report: RunReport, limits: RunLimits, code: int) -> int:
    """The script's status when it failed; else 1 when a limit was exceeded (printed)."""
    if not limits.any:
        return code
    from netscope.report.run_gate_text import run_verdict
    from netscope.report.serialize_run import run_report_dict

    against = baseline_check(limits.baseline_path, limits.baseline, lambda: run_report_dict(report))
    over = against is not None and against.failed
    failed = False
    if any(v is not None for v in (limits.max_syncs, limits.max_copies, limits.max_peak_memory)):
        text, failed = run_verdict(report, limits, baseline_failed=over)
        print(text, file=sys.stderr)
    if against is not None:
        print(against.text(limits_failed=failed), file=sys.stderr)
    failed = failed or over
    if code != 0:
        return code
    return 1 if failed else 0
