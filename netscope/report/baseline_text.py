"""What ``--baseline`` adds to ``netscope check`` and ``netscope run``: the figures against the
baseline report, then each baseline violation naming the blocks (or lines) behind it."""

from __future__ import annotations

from netscope.engine.diff.baseline import OPTION, BaselineLimits, BaselineViolation
from netscope.engine.diff.model import ReportDiff
from netscope.report.diff_tables import UNITS, delta_text, time_text
from netscope.report.table import block_label
from netscope.units import NOT_AVAILABLE

FIGURES = {"params": "count", "step FLOPs": "flops", "peak memory": "bytes"}


def baseline_violation_text(violation: BaselineViolation) -> str:
    option = OPTION[violation.gate]
    if violation.gate == "new syncs" and not violation.checkable:
        return (
            f"syncs were not looked for in both reports: {option} cannot be checked (a baseline "
            "needs a profile: report --profile, or a run report with a sampled step)"
        )
    if violation.gate == "new syncs":
        places = "; ".join(
            f"{f.what} at {f.location or 'unknown location'} (block {block_label(f.block or '')})"
            for f in violation.syncs
        )
        return f"new syncs since the baseline [{option}]: {places}"
    if not violation.checkable:
        return (
            f"{violation.figure}: not available in both reports, {option} cannot be checked"
            " (a baseline for --max-slowdown needs a timed step: report --profile, or a run)"
        )
    change = violation.change
    assert change is not None
    unit = FIGURES.get(violation.figure)
    limit = f"{option} {violation.limit_pct:g}%"
    if unit is None:  # a time: a device's step, a run's step or phase
        blocks = ", ".join(block_label(p) for p in violation.blocks) or "none beyond noise"
        return (
            f"{violation.figure} time {change.pct or 0:+.1f}% (p10..p90 ranges apart) > "
            f"{limit}; blocks slower: {blocks}"
        )
    blocks = ", ".join(block_label(p) for p in violation.blocks) or NOT_AVAILABLE
    return f"{violation.figure} {delta_text(change, unit)} > {limit}; blocks: {blocks}"


def baseline_lines(diff: ReportDiff, baseline: str, limits: BaselineLimits) -> list[str]:
    """Each gated figure before -> after, and the step times with their verdicts."""
    lines = [f"against the baseline {baseline}:"]
    for name, unit in FIGURES.items():
        change = diff.total(name)
        if change is None:
            continue
        before, after = UNITS[unit](change.before), UNITS[unit](change.after)
        lines.append(f"  {name}: {before} -> {after} ({delta_text(change, unit)})")
    if limits.max_slowdown is not None:
        lines += [f"  {t.name} time: {time_text(t)}" for t in diff.timings]
    return lines


def baseline_verdict(
    diff: ReportDiff,
    baseline: str,
    limits: BaselineLimits,
    violations: list[BaselineViolation],
    limits_failed: bool = False,
) -> str:
    """The figures and the baseline's verdict; no OK under limits that failed (printed above)."""
    lines = baseline_lines(diff, baseline, limits)
    if violations:
        lines.append(f"FAILED against the baseline: {len(violations)} violation(s)")
        lines += [f"  {baseline_violation_text(v)}" for v in violations]
    elif limits_failed:
        lines.append("within the baseline's limits (FAILED on the limits above)")
    else:
        lines.append("OK: within the baseline's limits")
    return "\n".join(lines)
