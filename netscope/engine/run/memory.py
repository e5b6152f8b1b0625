"""Memory per step of ``netscope run``: read at each step boundary, and a rise told from wobble.

The watcher reads one figure at each step boundary (``StepMemoryReader``): on CUDA the caching
allocator's bytes held by tensors (``allocated_bytes.all.current``) and the step's peak
(``allocated_bytes.all.peak``, reset at each read); on the CPU the process's resident set
(``/proc/self/statm``, one ``pread``; psutil where /proc is missing). A read takes a few
microseconds on the CPU, tens on CUDA; when that is more than ``READ_BUDGET`` of a step (0.2%),
the boundaries are read 1 in k. Once ``WINDOW`` reads are in (a short run's slope needs them
all), a read is also never closer than ``MIN_READ_INTERVAL_S`` of steps to the last: the system
call costs the loop more than its own time (a Lightning loop of 4.5 ms steps ran 0.6% slower
read at every boundary than read at none, where the reads' own time was under 0.2%:
docs/benchmarks.md), and a leak's slope needs tens of reads, not thousands.

``step_memory`` (no torch: the parent runs it) turns the reads into ``RunMemory``: the growth per
step is the Theil-Sen slope (the median of the pairwise slopes) over the last ``WINDOW`` reads
after the first ``WARMUP_STEPS`` steps, robust to the odd jump. A run is ``growing`` only when the
rise is consistent (most steps up, few down), well above the noise (``MIN_RISE_BYTES`` and
``MIN_RISE_SHARE`` of the level over the window, and several times the scatter around the
slope): the allocator and RSS wobble, and a flat loop must never read as a leak.
"""

from __future__ import annotations

import contextlib
import itertools
import math
import os
import statistics
from collections import deque
from collections.abc import Sequence
from typing import Any

from netscope import units
from netscope.engine.model import RunMemory

CUDA_HOW = "cuda allocated"
RSS_HOW = "process rss"
WARMUP_STEPS = 5  # optimizer state, allocator caches and the snapshot settle in the first steps
WINDOW = 64  # reads the slope is taken over (the last ones after warm-up)
MIN_READS = 8
MIN_RISE_BYTES = 1 << 20
MIN_RISE_SHARE = 0.01  # of the median level over the window
MIN_UP_SHARE = 0.6  # of the steps between reads that went up
MAX_DOWN_SHARE = 0.2  # ... and that went down
NOISE_FACTOR = 4.0  # the rise over the window against the residuals' median absolute deviation
READ_BUDGET = 0.002  # share of a step the memory read may cost
MIN_READ_INTERVAL_S = 0.05  # steps' time between two reads at the least
COSTS = 9  # recent read costs whose median paces the reads (one preempted read must not)
MIB = 1 << 20


class StepMemoryReader:
    """One memory figure per step boundary, for the main model's device (in the script)."""

    def __init__(self, device: str) -> None:
        self.device = device
        self.how = RSS_HOW
        self.every = 1
        self._fd: int | None = None
        self._page = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096
        self._process: Any = None
        self._cuda: Any = None
        self._index: int | None = None
        self._carry = 0  # a peak from before the watcher's own work (a snapshot), kept
        self._costs: deque[float] = deque(maxlen=COSTS)
        self._reads = 0
        if device.startswith("cuda"):
            import torch

            if torch.cuda.is_available():
                self.how = CUDA_HOW
                self._cuda = torch.cuda
                self._index = torch.device(device).index
        if self.how == RSS_HOW:
            try:
                self._fd = os.open("/proc/self/statm", os.O_RDONLY)
            except OSError:
                self._fd = None
                try:
                    import psutil

                    self._process = psutil.Process()
                except Exception:
                    self._process = None

    @property
    def available(self) -> bool:
        return self._cuda is not None or self._fd is not None or self._process is not None

    def read(self) -> tuple[int, int] | None:
        """(bytes now, peak bytes since the last read), or None when it cannot be read."""
        self._reads += 1  # paced or not (a lean step's boundary reads without pacing)
        try:
            if self._cuda is not None:
                return self._read_cuda()
            if self._fd is not None:
                resident = int(os.pread(self._fd, 128, 0).split()[1]) * self._page
                return resident, resident
            if self._process is not None:
                rss = int(self._process.memory_info().rss)
                return rss, rss
        except Exception:
            return None
        return None

    def _read_cuda(self) -> tuple[int, int] | None:
        cuda = self._cuda
        if not cuda.is_initialized():
            return None
        index = cuda.current_device() if self._index is None else self._index
        stats = cuda.memory_stats_as_nested_dict(index).get("allocated_bytes", {}).get("all", {})
        now, peak = int(stats.get("current", 0)), int(stats.get("peak", 0))
        cuda.reset_peak_memory_stats(index)
        peak, self._carry = max(peak, self._carry), 0
        return now, peak

    def hold_peak(self) -> None:
        """Before the watcher's own work: keep the step's peak so far, drop what the work adds."""
        if self._cuda is None or not self._cuda.is_initialized():
            return
        try:
            index = self._cuda.current_device() if self._index is None else self._index
            self._carry = max(self._carry, int(self._cuda.max_memory_allocated(index)))
        except Exception:
            self._carry = 0

    def drop_peak(self) -> None:
        """After the watcher's own work: its peak is not the script's."""
        if self._cuda is None or not self._cuda.is_initialized():
            return
        try:
            index = self._cuda.current_device() if self._index is None else self._index
            self._cuda.reset_peak_memory_stats(index)
        except Exception:
            pass

    def pace(self, read_s: float, step_s: float) -> None:
        """Read 1 in k boundaries when a read costs more than ``READ_BUDGET`` of a step (the
        median of the last reads' costs, so one read slowed by another process does not), and
        after ``WINDOW`` reads at most once per ``MIN_READ_INTERVAL_S`` of steps."""
        self._costs.append(read_s)
        if step_s > 0:
            cost = statistics.median_high(self._costs)
            budget = cost / (READ_BUDGET * step_s)
            spaced = MIN_READ_INTERVAL_S / step_s if self._reads >= WINDOW else 0.0
            self.every = max(1, min(1000, math.ceil(max(budget, spaced))))

    def close(self) -> None:
        if self._fd is not None:
            with contextlib.suppress(OSError):
                os.close(self._fd)
            self._fd = None


def _median(values: Sequence[float]) -> float:
    ordered = sorted(values)
    n = len(ordered)
    if not n:
        return 0.0
    mid = n // 2
    return float(ordered[mid]) if n % 2 else (ordered[mid - 1] + ordered[mid]) / 2.0


def theil_sen(points: Sequence[tuple[int, int]]) -> tuple[float, float]:
    """(slope, intercept): the median of the pairwise slopes, the median of the offsets."""
    slopes = [
        (b2 - b1) / (i2 - i1)
        for k, (i1, b1) in enumerate(points)
        for i2, b2 in points[k + 1 :]
        if i2 != i1
    ]
    slope = _median(slopes) if slopes else 0.0
    intercept = _median([b - slope * i for i, b in points])
    return slope, intercept


def step_memory(
    how: str, reads: Sequence[tuple[int, int]], peak_bytes: int | None, count: int
) -> RunMemory:
    """``reads``: (step index, bytes at its boundary), after warm-up, oldest first."""
    shown_how = CUDA_HOW if how == CUDA_HOW else RSS_HOW
    window = list(reads)[-WINDOW:]
    if len(window) < MIN_READS:
        return RunMemory(shown_how, peak_bytes, None, samples=count)  # type: ignore[arg-type]
    slope, intercept = theil_sen(window)
    first, last = window[0][0], window[-1][0]
    rise = slope * (last - first)
    level = _median([b for _, b in window])
    scatter = _median([abs(b - (slope * i + intercept)) for i, b in window])
    diffs = [b2 - b1 for (_, b1), (_, b2) in itertools.pairwise(window)]
    up = sum(d > 0 for d in diffs) / len(diffs)
    down = sum(d < 0 for d in diffs) / len(diffs)
    growing = (
        slope > 0
        and up >= MIN_UP_SHARE
        and down <= MAX_DOWN_SHARE
        and rise > MIN_RISE_BYTES
        and rise > MIN_RISE_SHARE * level
        and rise > NOISE_FACTOR * scatter
    )
    note = None
    if growing:
        what = "the allocated CUDA memory" if shown_how == CUDA_HOW else "the process's RSS"
        note = (
            f"memory grows step after step: {what} rose {units.size(slope)} per step over steps "
            f"{first}-{last} ({units.size(rise)} in all, up on {up:.0%} of them). Something keeps "
            "each step's tensors alive: the classic is keeping `loss` (not `loss.item()`) in a "
            "list, which holds every step's graph and its activations."
        )
    return RunMemory(
        shown_how,  # type: ignore[arg-type]
        peak_bytes,
        round(slope),
        growing=growing,
        note=note,
        samples=count,
    )
