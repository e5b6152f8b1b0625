"""How trustworthy a timing is: the spread of its samples and what else used the CPUs meanwhile.

On a shared machine a step time can swing 3x with other processes (pyperf warns in the same
cases). ``CpuWatch`` reads system-wide and own-process CPU time around a timing window; the
difference is the CPU other processes took. ``noise_note`` turns both into one plain sentence,
or None for a steady measurement.
"""

from __future__ import annotations

import os
import time

NOISY_SPREAD_PCT = 10.0  # p90 and p10 further apart than this share of the median
BUSY_OTHERS_PCT = 25.0  # other processes used more than this share of all CPUs


class CpuWatch:
    """Other processes' share of all CPUs between ``__init__`` and ``other_cpu_pct()``."""

    def __init__(self) -> None:
        self._began = time.perf_counter()
        self._system, self._own = self._read()

    @staticmethod
    def _read() -> tuple[float | None, float | None]:
        try:
            import psutil

            system = psutil.cpu_times()
            busy = sum(system) - system.idle - getattr(system, "iowait", 0.0)
            own = psutil.Process().cpu_times()
            return busy, own.user + own.system
        except Exception:  # no /proc, a sandbox: the share is simply not available
            return None, None

    def other_cpu_pct(self) -> float | None:
        """Percent of all CPUs other processes kept busy; None where it cannot be read."""
        wall = time.perf_counter() - self._began
        system, own = self._read()
        if None in (system, own, self._system, self._own) or wall <= 0:
            return None
        others = (system - self._system) - (own - self._own)  # type: ignore[operator]
        return max(0.0, min(100.0, 100.0 * others / (wall * (os.cpu_count() or 1))))


def spread_pct(median_ms: float, p10_ms: float, p90_ms: float) -> float | None:
    return 100.0 * (p90_ms - p10_ms) / median_ms if median_ms > 0 else None


def noise_note(spread: float | None, others: float | None) -> str | None:
    """One sentence saying why a timing is noisy, or None when it is steady."""
    reasons = []
    if spread is not None and spread > NOISY_SPREAD_PCT:
        reasons.append(f"p90-p10 spread {spread:.0f}% of the median")
    if others is not None and others > BUSY_OTHERS_PCT:
        reasons.append(f"other processes used {others:.0f}% of the CPUs while timing")
    return "noisy: " + "; ".join(reasons) if reasons else None
