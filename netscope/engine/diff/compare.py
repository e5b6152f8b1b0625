"""``diff_reports(a, b)``: report A (before) against report B (after), as a typed ReportDiff.
Works on model, checkpoint and run reports of schema 1 alike; a section one report lacks
gives None figures ("not available"), never a zero."""

from __future__ import annotations

from typing import Any

from netscope.engine.diff.blocks import diff_blocks
from netscope.engine.diff.model import (
    Change,
    FindingChange,
    KeyChange,
    NamedChange,
    ReportDiff,
    TimeChange,
)
from netscope.engine.diff.noise import scaled_change, time_change
from netscope.engine.diff.side import Side, _dict

MEMORY_PARTS = (
    ("parameters memory", "params_bytes"), ("gradients memory", "grads_bytes"),
    ("optimizer state", "optimizer_bytes"), ("saved activations", "activations_bytes"),
    ("buffers memory", "buffers_bytes"),
)  # fmt: skip
CHECKPOINT_LISTS = ("missing", "unexpected", "mismatched", "covered_by_tie")


def _number(value: Any) -> float | None:
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None


def step_flops(side: Side) -> float | None:
    """FLOPs of one step: a run's ``flops_per_step``; else the example's forward plus its
    backward where one ran (``compute``)."""
    if side.run:
        return _number(side.run.get("flops_per_step"))
    compute = _dict(side.data.get("compute"))
    forward = _number(compute.get("forward_flops"))
    backward = _number(compute.get("backward_flops"))
    if forward is None:
        return None
    return forward + (backward or 0.0)


def step_flops_change(a: Side, b: Side) -> Change:
    """``step_flops`` of both; forward only on both sides when only one report ran a backward
    (a meta check against a CPU baseline): the same step compared, not two different ones."""
    backward = [_dict(s.data.get("compute")).get("backward_flops") for s in (a, b)]
    if a.run or b.run or (backward[0] is None) == (backward[1] is None):
        return Change(step_flops(a), step_flops(b))
    forward = [_number(_dict(s.data.get("compute")).get("forward_flops")) for s in (a, b)]
    return Change(forward[0], forward[1])


def peak_bytes(side: Side, loop: bool = False) -> float | None:
    """``loop``: the loop's peak of a run (``run.memory``, the process's); else the step's
    (``memory``: a model report's example step, a run's counted step)."""
    if loop and side.run:
        return _number(_dict(side.run.get("memory")).get("peak_bytes"))
    return _number(_dict(side.data.get("memory")).get("peak_bytes"))


def peak_change(a: Side, b: Side) -> Change:
    """Two runs: their loops' peaks; a run against a model report: the steps' peaks on both (the
    process's peak against a step's would compare two different things)."""
    loop = bool(a.run and b.run)
    return Change(peak_bytes(a, loop), peak_bytes(b, loop))


def _totals(a: Side, b: Side) -> tuple[NamedChange, ...]:
    def both(read: Any) -> Change:
        return Change(read(a), read(b))

    a_mem, b_mem = _dict(a.data.get("memory")), _dict(b.data.get("memory"))
    rows = [
        NamedChange("params", "count", both(lambda s: _number(s.model.get("total_params")))),
        NamedChange("trainable params", "count",
                    both(lambda s: _number(s.model.get("trainable_params")))),
        NamedChange("forward FLOPs", "flops", both(
            lambda s: _number(_dict(s.data.get("compute")).get("forward_flops")))),
        NamedChange("backward FLOPs", "flops", both(
            lambda s: _number(_dict(s.data.get("compute")).get("backward_flops")))),
        NamedChange("step FLOPs", "flops", step_flops_change(a, b)),
        NamedChange("peak memory", "bytes", peak_change(a, b)),
    ]  # fmt: skip
    rows += [
        NamedChange(name, "bytes", Change(_number(a_mem.get(key)), _number(b_mem.get(key))))
        for name, key in MEMORY_PARTS
    ]
    return tuple(rows)


def _timings(a: Side, b: Side) -> tuple[TimeChange, ...]:
    a_steps, b_steps = a.step_timings(), b.step_timings()
    rows = [time_change(name, a_steps.get(name), b_steps.get(name))
            for name in sorted(set(a_steps) | set(b_steps))]  # fmt: skip
    a_phases, b_phases = a.phases(), b.phases()
    a_spread, b_spread = a.spreads().get("step"), b.spreads().get("step")
    for phase in [p for p in a_phases if p in b_phases] + [
        p for p in b_phases if p not in a_phases
    ]:
        rows.append(scaled_change(phase, _number(a_phases.get(phase)),
                                  _number(b_phases.get(phase)), a_spread, b_spread))  # fmt: skip
    return tuple(rows)


def _finding_counts(side: Side) -> dict[tuple[str, str, str | None, str | None], float]:
    counts: dict[tuple[str, str, str | None, str | None], float] = {}
    for kind, finding in side.findings():
        what = str(finding.get("op") if kind == "sync" else finding.get("direction"))
        key = (kind, what, finding.get("location"), finding.get("block"))
        per_step = _number(finding.get("per_step"))
        count = per_step if per_step is not None else _number(finding.get("count")) or 0.0
        counts[key] = counts.get(key, 0.0) + count
    return counts


def _findings(a: Side, b: Side) -> tuple[FindingChange, ...]:
    before, after = _finding_counts(a), _finding_counts(b)
    rows = []
    for key in [*before, *(k for k in after if k not in before)]:
        old, new = before.get(key), after.get(key)
        if old is not None and new is not None and abs(old - new) < 1e-9:
            continue
        change = ("gained" if old is None else "lost" if new is None
                  else "more" if new > old else "fewer")  # fmt: skip
        kind, what, location, block = key
        rows.append(FindingChange(kind, change, what, location, block, old or 0.0, new or 0.0))  # type: ignore[arg-type]
    order = {"gained": 0, "more": 1, "lost": 2, "fewer": 3}
    return tuple(sorted(rows, key=lambda r: order[r.change]))


def _keys(checkpoint: dict[str, Any], field: str) -> set[str]:
    items = checkpoint.get(field) or []
    if field == "mismatched":
        return {f"{i.get('key')} ({i.get('kind')})" for i in items if isinstance(i, dict)}
    if field == "covered_by_tie":
        return {str(i.get("key")) for i in items if isinstance(i, dict)}
    return {str(i) for i in items}


def _checkpoint(a: Side, b: Side) -> tuple[KeyChange, ...]:
    rows = []
    for field in CHECKPOINT_LISTS:
        old, new = _keys(a.checkpoint(), field), _keys(b.checkpoint(), field)
        if old != new:
            rows.append(KeyChange(field, tuple(sorted(new - old)), tuple(sorted(old - new))))
    return tuple(rows)


def diff_reports(before: dict[str, Any], after: dict[str, Any]) -> ReportDiff:
    """What changed from ``before`` (report A) to ``after`` (report B)."""
    a, b = Side(before), Side(after)
    a_ties, b_ties = a.ties(), b.ties()
    peak_at = (
        _dict(before.get("memory")).get("peak_at"),
        _dict(after.get("memory")).get("peak_at"),
    )
    return ReportDiff(
        before_target=str(before.get("target", "")),
        after_target=str(after.get("target", "")),
        before_kind=str(before.get("kind", "")),
        after_kind=str(after.get("kind", "")),
        totals=_totals(a, b),
        peak_at=(peak_at[0], peak_at[1]),
        timings=_timings(a, b),
        blocks=diff_blocks(a, b),
        findings=_findings(a, b),
        ties_added=tuple(sorted(b_ties - a_ties)),
        ties_removed=tuple(sorted(a_ties - b_ties)),
        checkpoint=_checkpoint(a, b),
        findings_measured=(a.findings_measured, b.findings_measured),
    )
