"""``netscope run --max-syncs / --max-copies / --max-peak-memory``: the real loop as a CI gate.

Checked after the script ends, on what the run measured: syncs and copies per step at their
file:line (from the sampled steps: a place seen on some of them counts its average per step,
at least once), and the loop's peak memory (the CUDA allocator's, or the process's RSS on the
CPU). Each rank of a torchrun job is checked on its own. A limit that cannot be checked (no step
was sampled, no memory read) is a violation: a gate that saw nothing does not pass. The lines
are ``netscope check``'s (engine/profiler/check.py).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from netscope.engine.compute.gates import size
from netscope.engine.model import CopyFinding, RunReport, SyncFinding
from netscope.engine.profiler.check import Limits, findings_over, findings_within


@dataclass(frozen=True)
class RunLimits:
    max_syncs: int | None = None
    max_copies: int | None = None
    max_peak_memory: int | None = None

    @property
    def any(self) -> bool:
        return any(v is not None for v in (self.max_syncs, self.max_copies, self.max_peak_memory))


def _per_step(average: float) -> int:
    return max(1, round(average))


def step_findings(run: RunReport) -> tuple[list[SyncFinding], list[CopyFinding]]:
    """The loop's syncs and copies as one step's: each place's count per step."""
    syncs = [replace(s.finding, count=_per_step(s.per_step)) for s in run.syncs]
    copies = []
    for c in run.copies:
        count = _per_step(c.per_step)
        each = c.finding.bytes / c.finding.count if c.finding.count else 0
        copies.append(replace(c.finding, count=count, bytes=round(each * count)))
    return syncs, copies


def run_violations(run: RunReport, limits: RunLimits) -> tuple[list[str], list[str]]:
    """(violations, findings within limits) of one process's run."""
    syncs, copies = step_findings(run)
    totals = (sum(f.count for f in syncs), sum(f.count for f in copies), 0)
    step_limits = Limits(max_syncs=limits.max_syncs, max_copies=limits.max_copies)
    violations = findings_over(syncs, copies, totals, step_limits)
    if (limits.max_syncs is not None or limits.max_copies is not None) and not run.sampled_steps:
        violations.append(
            "syncs and copies not measured: no step was sampled (the loop ended first; "
            "--every 2 samples from the fourth step)"
        )
    if limits.max_peak_memory is not None:
        memory = run.memory
        peak = None if memory is None else memory.peak_bytes
        if memory is None or peak is None:
            violations.append("peak memory not measured: --max-peak-memory cannot be checked")
        elif peak > limits.max_peak_memory:
            violations.append(
                f"peak memory {size(peak)} ({memory.how}) > --max-peak-memory "
                f"{size(limits.max_peak_memory)}"
            )
    return violations, findings_within(syncs, copies, totals, step_limits)


def run_verdict(run: RunReport, limits: RunLimits) -> tuple[str, bool]:
    """(the text to print, whether a limit was exceeded); every rank of a job on its own."""
    parts = [(f"rank {r.rank}: ", r.report) for r in run.ranks] or [("", run)]
    violations: list[str] = []
    found: list[str] = []
    for prefix, report in parts:
        over, within = run_violations(report, limits)
        violations += [prefix + line for line in over]
        found += [prefix + line for line in within]
    lines = [f"netscope run: {run.steps} steps" + _limits_text(limits)]
    if violations:
        lines.append(f"FAILED: {len(violations)} violation(s)")
        lines += [f"  {v}" for v in violations]
        if found:
            lines.append("found within limits:")
    else:
        lines.append("OK: within limits" + (", found:" if found else ""))
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
