"""``netscope run --max-syncs / --max-copies / --max-peak-memory``: the real loop as a CI gate.

Checked after the script ends, on what the run measured: syncs and copies per step at their
file:line (from the sampled steps: a place seen on some of them counts its average per step,
at least once), and the loop's peak memory (the CUDA allocator's, or the process's RSS on the
CPU). Each rank of a torchrun job is checked on its own. A limit that cannot be checked (no step
was sampled, no memory read) is a violation: a gate that saw nothing does not pass. The lines
are ``netscope check``'s (report/run_gate_text.py writes them).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from netscope.engine.diff.baseline import BaselineLimits
from netscope.engine.model import CopyFinding, RunReport, SyncFinding, Violation
from netscope.engine.profiler.check import Limits, findings_over, findings_within


@dataclass(frozen=True)
class RunLimits:
    max_syncs: int | None = None
    max_copies: int | None = None
    max_peak_memory: int | None = None
    baseline_path: str | None = None  # --baseline run.json: the gates of ``baseline`` against it
    baseline: BaselineLimits = field(default_factory=BaselineLimits)

    @property
    def any(self) -> bool:
        limits = (self.max_syncs, self.max_copies, self.max_peak_memory)
        return any(v is not None for v in limits) or self.baseline_path is not None


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


def run_violations(
    run: RunReport, limits: RunLimits
) -> tuple[list[Violation], list[SyncFinding | CopyFinding]]:
    """(violations, findings within limits) of one process's run. A limit that could not be
    checked is a violation whose ``total`` is None (report/run_gate_text.py says why)."""
    syncs, copies = step_findings(run)
    totals = (sum(f.count for f in syncs), sum(f.count for f in copies), 0)
    step_limits = Limits(max_syncs=limits.max_syncs, max_copies=limits.max_copies)
    violations = findings_over(syncs, copies, totals, step_limits)
    if not run.sampled_steps:
        if limits.max_syncs is not None:
            violations.append(Violation("syncs", None, limits.max_syncs))
        if limits.max_copies is not None:
            violations.append(Violation("copies", None, limits.max_copies))
    if limits.max_peak_memory is not None:
        peak = None if run.memory is None else run.memory.peak_bytes
        if peak is None or peak > limits.max_peak_memory:
            violations.append(Violation("peak memory", peak, limits.max_peak_memory))
    return violations, findings_within(syncs, copies, totals, step_limits)
