"""Whether a time changed for real: a change is "slower" or "faster" only when the two
measurements' p10..p90 ranges do not overlap; when they overlap it is "within noise".

A step time carries its own p10 and p90. A block's time (and a run's phase) is one figure per
report, so it gets the step's relative spread: ``ms * (1 -/+ spread_pct / 200)``. A time without a
spread in either report is "not available": netscope cannot tell a change from noise there
(nor from fewer than 5 timed runs, or a run's plain steps: side.py drops such a range).
Ranges apart while other processes kept the CPUs busy in either measurement (the profiler's
``other_cpu_pct`` over contention.BUSY_OTHERS_PCT) is "contended": their load, not the model,
may have moved the time, and a baseline gate does not fail on it (a false alarm costs more than a
miss)."""

from __future__ import annotations

from typing import Any

from netscope.engine.diff.model import TimeChange, Verdict
from netscope.engine.profiler.contention import BUSY_OTHERS_PCT

Range = tuple[float, float]


def verdict(
    before: float | None,
    after: float | None,
    before_range: Range | None,
    after_range: Range | None,
    contended: bool = False,
) -> Verdict:
    if before is None or after is None or before_range is None or after_range is None:
        return "not available"
    apart = after_range[0] > before_range[1] or after_range[1] < before_range[0]
    if apart and contended:
        return "contended"
    if after_range[0] > before_range[1]:
        return "slower"
    if after_range[1] < before_range[0]:
        return "faster"
    return "within noise"


def time_change(
    name: str,
    before: dict[str, Any] | None,
    after: dict[str, Any] | None,
    median: str = "median_ms",
    low: str = "p10_ms",
    high: str = "p90_ms",
) -> TimeChange:
    """A step time from two timing dicts (``profile.devices[d]`` or ``run.step_ms``)."""
    b_ms, b_range = _measured(before, median, low, high)
    a_ms, a_range = _measured(after, median, low, high)
    busy = _contended(before) or _contended(after)
    return TimeChange(
        name, b_ms, a_ms, b_range, a_range, verdict(b_ms, a_ms, b_range, a_range, busy)
    )


def _contended(timing: dict[str, Any] | None) -> bool:
    """Other processes kept the CPUs busy while this time was measured."""
    others = (timing or {}).get("other_cpu_pct")
    return others is not None and float(others) > BUSY_OTHERS_PCT


def _measured(
    timing: dict[str, Any] | None, median: str, low: str, high: str
) -> tuple[float | None, Range | None]:
    if not timing or timing.get(median) is None:
        return None, None
    p10, p90 = timing.get(low), timing.get(high)
    spread = None if p10 is None or p90 is None else (float(p10), float(p90))
    return float(timing[median]), spread


def scaled_change(
    name: str,
    before: float | None,
    after: float | None,
    before_spread_pct: float | None,
    after_spread_pct: float | None,
) -> TimeChange:
    """A block's or phase's time, with the step's relative spread as its range."""
    b_range = _scaled(before, before_spread_pct)
    a_range = _scaled(after, after_spread_pct)
    return TimeChange(
        name, before, after, b_range, a_range, verdict(before, after, b_range, a_range)
    )


def _scaled(ms: float | None, spread_pct: float | None) -> Range | None:
    if ms is None or spread_pct is None:
        return None
    half = ms * spread_pct / 200.0
    return (ms - half, ms + half)


def spread_pct(
    timing: dict[str, Any] | None,
    low: str = "p10_ms",
    high: str = "p90_ms",
    median: str = "median_ms",
) -> float | None:
    """(p90 - p10) / median in percent, from a timing dict; None when not measured."""
    if not timing:
        return None
    if timing.get("spread_pct") is not None:
        return float(timing["spread_pct"])
    mid, p10, p90 = timing.get(median), timing.get(low), timing.get(high)
    if mid is None or p10 is None or p90 is None or not mid:
        return None
    return 100.0 * (float(p90) - float(p10)) / float(mid)
