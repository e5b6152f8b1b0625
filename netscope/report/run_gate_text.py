"""What ``netscope run --max-syncs / --max-copies / --max-peak-memory`` prints once the script
has ended: ``netscope check``'s lines for the loop's syncs and copies, every rank on its own."""

from __future__ import annotations

from netscope.engine.model import RunReport, Violation
from netscope.engine.run.gate import RunLimits, run_violations
from netscope.report.check_text import found_text, verdict_line, violation_text
from netscope.units import size

NOT_SAMPLED = (
    "syncs and copies not measured: no step was sampled (the loop ended first; "
    "--every N records from the fourth step, automatic sampling from the fifth)"
)


def run_violation_text(violation: Violation, run: RunReport) -> str:
    """One violation of the loop: a sync or copy at its line, or a total that was not measured."""
    if violation.finding is not None:
        return violation_text(violation)
    if violation.gate in ("syncs", "copies"):
        return NOT_SAMPLED
    if violation.total is None:
        return "peak memory not measured: --max-peak-memory cannot be checked"
    how = run.memory.how if run.memory is not None else ""
    return (
        f"peak memory {size(violation.total)} ({how}) > --max-peak-memory {size(violation.limit)}"
    )


def run_verdict(
    run: RunReport, limits: RunLimits, baseline_failed: bool = False
) -> tuple[str, bool]:
    """(the text to print, whether a limit was exceeded); every rank of a job on its own."""
    parts = [(f"rank {r.rank}: ", r.report) for r in run.ranks] or [("", run)]
    violations: list[str] = []
    found: list[str] = []
    for prefix, report in parts:
        over, within = run_violations(report, limits)
        texts = dict.fromkeys(run_violation_text(v, report) for v in over)  # one "not sampled"
        violations += [prefix + text for text in texts]
        found += [prefix + found_text(f) for f in within]
    sampled = f", {run.sampled_steps} sampled for syncs and copies" if not run.ranks else ""
    lines = [f"netscope run: {run.steps} steps{sampled}" + _limits_text(limits)]
    lines.append(verdict_line(len(violations), bool(found), baseline_failed))
    if violations:
        lines += [f"  {v}" for v in violations]
        if found:
            lines.append("found within limits:")
    lines += [f"  {line}" for line in found]
    return "\n".join(lines), bool(violations)


def _limits_text(limits: RunLimits) -> str:
    given = [
        f"--max-syncs {limits.max_syncs}" if limits.max_syncs is not None else "",
        f"--max-copies {limits.max_copies}" if limits.max_copies is not None else "",
        f"--max-peak-memory {size(limits.max_peak_memory)}"
        if limits.max_peak_memory is not None
        else "",
    ]
    shown = ", ".join(g for g in given if g)
    return f" ({shown})" if shown else ""
