"""Baseline gates: ``netscope check --baseline base.json`` and ``netscope run --baseline
run.json`` with ``--max-flops-growth / --max-params-growth / --max-peak-growth / --max-slowdown
PCT`` and ``--no-new-syncs``, as typed violations naming the blocks behind each change.

A slowdown counts only when the two p10..p90 ranges do not overlap (noise.py); a figure one of
the reports lacks cannot be checked, and a gate that cannot be checked fails (as check's own)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from netscope.engine.diff.model import BlockDiff, Change, FindingChange, ReportDiff

BaselineGate = Literal["params growth", "flops growth", "peak growth", "slowdown", "new syncs"]
BLOCKS_NAMED = 5
OPTION: dict[BaselineGate, str] = {
    "params growth": "--max-params-growth", "flops growth": "--max-flops-growth",
    "peak growth": "--max-peak-growth", "slowdown": "--max-slowdown",
    "new syncs": "--no-new-syncs",
}  # fmt: skip


@dataclass(frozen=True)
class BaselineLimits:
    """Percent growth allowed over the baseline report; None: not gated."""

    max_flops_growth: float | None = None
    max_params_growth: float | None = None
    max_peak_growth: float | None = None
    max_slowdown: float | None = None
    no_new_syncs: bool = False

    @property
    def any(self) -> bool:
        pcts = (self.max_flops_growth, self.max_params_growth, self.max_peak_growth,
                self.max_slowdown)  # fmt: skip
        return self.no_new_syncs or any(p is not None for p in pcts)


@dataclass(frozen=True)
class BaselineViolation:
    """One gate over its limit, or not checkable (``change`` with a None side, or None)."""

    gate: BaselineGate
    figure: str  # "step FLOPs", "cpu" (a device's step), "step", "forward" (a run's phase)
    change: Change | None
    limit_pct: float | None
    blocks: tuple[str, ...] = ()  # the blocks that moved most, biggest first
    syncs: tuple[FindingChange, ...] = ()  # --no-new-syncs: the places gained

    @property
    def checkable(self) -> bool:
        if self.gate == "new syncs":
            return bool(self.syncs)
        return self.change is not None and None not in (self.change.before, self.change.after)


def growth_pct(change: Change) -> float | None:
    """Percent growth; from 0 to more is infinite growth; None when a side is not available."""
    if change.before is None or change.after is None:
        return None
    if change.before == 0:
        return 0.0 if change.after <= 0 else float("inf")
    return 100.0 * (change.after - change.before) / abs(change.before)


def blocks_behind(diff: ReportDiff, grew: Callable[[BlockDiff], float]) -> tuple[str, ...]:
    """The innermost blocks that grew (an added subtree named by its top block), biggest first."""
    added = {b.path for b in diff.blocks if b.status == "added"}
    grown = [b for b in diff.blocks if grew(b) > 0 and b.path]
    grown = [b for b in grown if not any(b.path.startswith(a + ".") for a in added)]
    paths = {b.path for b in grown}
    inner = [b for b in grown if not any(p.startswith(b.path + ".") for p in paths)]
    inner.sort(key=lambda b: -grew(b))
    return tuple(b.path for b in inner[:BLOCKS_NAMED])


def _grew(change: Change) -> float:
    return (change.after or 0.0) - (change.before or 0.0)


def _flops(b: BlockDiff) -> float:
    return _grew(b.forward_flops) + _grew(b.backward_flops)


def _growth(
    diff: ReportDiff,
    gate: BaselineGate,
    figure: str,
    limit: float | None,
    grew: Callable[[BlockDiff], float],
) -> list[BaselineViolation]:
    change = diff.total(figure)
    if limit is None or change is None:
        return []
    pct = growth_pct(change)
    if pct is not None and pct <= limit:
        return []
    return [BaselineViolation(gate, figure, change, limit, blocks_behind(diff, grew))]


def _slowdowns(diff: ReportDiff, limit: float | None) -> list[BaselineViolation]:
    if limit is None:
        return []
    steps = [t for t in diff.timings if t.name not in _PHASES]
    if not any(t.verdict != "not available" for t in steps):
        return [BaselineViolation("slowdown", "step time", None, limit)]
    found = []
    for timing in diff.timings:
        pct = timing.change.pct
        if timing.verdict == "slower" and pct is not None and pct > limit:
            device = "step" if timing.name in _PHASES else timing.name
            blocks = blocks_behind(diff, _slower_on(diff, device))
            found.append(BaselineViolation("slowdown", timing.name, timing.change, limit, blocks))
    return found


_PHASES = ("data", "forward", "backward", "optimizer", "other")


def _slower_on(diff: ReportDiff, device: str) -> Callable[[BlockDiff], float]:
    """How much slower each block got on ``device``, for the blocks whose slowdown is real."""
    ranked = {
        b.path: _grew(t.change)
        for b in diff.blocks
        for t in b.times
        if t.name == device and t.verdict == "slower"
    }
    return lambda block: ranked.get(block.path, 0.0)


def baseline_violations(diff: ReportDiff, limits: BaselineLimits) -> list[BaselineViolation]:
    """Each gate of ``limits`` the diff from the baseline (A) to now (B) went over."""
    found = [
        *_growth(diff, "params growth", "params", limits.max_params_growth,
                 lambda b: _grew(b.params)),
        *_growth(diff, "flops growth", "step FLOPs", limits.max_flops_growth, _flops),
        *_growth(diff, "peak growth", "peak memory", limits.max_peak_growth,
                 lambda b: _grew(b.saved_bytes)),
        *_slowdowns(diff, limits.max_slowdown),
    ]  # fmt: skip
    if limits.no_new_syncs and not all(diff.findings_measured):
        found.append(BaselineViolation("new syncs", "syncs", None, None))  # not checkable
    elif limits.no_new_syncs:
        gained = tuple(f for f in diff.findings if f.kind == "sync" and f.change == "gained")
        if gained:
            found.append(BaselineViolation("new syncs", "syncs", None, None, syncs=gained))
    return found
