"""Step time on one device: warm-up until it settles, then timed runs until the median is stable.

Very short steps run several times per sample (the inner loop count is chosen so one sample takes
at least ~10 ms) so the timer's resolution never dominates; a sample's value is per step. On CUDA
the clock is a pair of CUDA events around the inner loop and the host synchronizes only at the
sample boundary; on the CPU it is ``time.perf_counter``. Nothing else is hooked while timing.
"""

from __future__ import annotations

import math
import statistics
import time
from collections.abc import Callable, Sequence
from typing import Any

import torch

from netscope.engine.gc_hold import gc_paused
from netscope.engine.model import TimingSummary
from netscope.engine.profiler import contention

# One sample lasts at least this long: the timer's resolution and the loop's overhead stay
# negligible, and a sample averages over the same span as torch.utils.benchmark's blocks.
MIN_SAMPLE_S = 10e-3
MIN_WARMUP_RUNS = 3
SETTLED_SPREAD = 0.05  # warm-up ends when the last runs agree within 5%
TARGET_REL_ERROR = 0.005  # stop early when the median's uncertainty is below 0.5% ...
MIN_SHARE = 0.25  # ... and a quarter of the budget is spent (slow drifts show up in the median)

OnSample = Callable[[int, float], None]  # (iteration, ms per step)


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def measure_once(run: Callable[[], Any], device: torch.device, inner: int = 1) -> float:
    """Seconds per step for ``inner`` back-to-back steps, synchronized only at the boundary."""
    if device.type == "cuda":
        start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
        start.record()
        for _ in range(inner):
            run()
        end.record()
        end.synchronize()
        return start.elapsed_time(end) / 1000.0 / inner
    began = time.perf_counter()
    for _ in range(inner):
        run()
    return (time.perf_counter() - began) / inner


def warm_up(
    run: Callable[[], Any], device: torch.device, budget_s: float, min_runs: int = MIN_WARMUP_RUNS
) -> list[float]:
    """Run until the last ``min_runs`` timings agree within 5% (or the budget is spent)."""
    _sync(device)
    began = time.perf_counter()
    times: list[float] = []
    while True:
        times.append(measure_once(run, device))
        recent = times[-min_runs:]
        settled = len(times) >= min_runs and max(recent) <= min(recent) * (1 + SETTLED_SPREAD)
        if settled or time.perf_counter() - began > budget_s:
            return times


def inner_count(step_s: float) -> int:
    """Steps per sample so one sample lasts at least ``MIN_SAMPLE_S``."""
    if step_s <= 0:
        return 10_000
    return max(1, min(10_000, math.ceil(MIN_SAMPLE_S / step_s)))


def _median_stable(samples: Sequence[float]) -> bool:
    """Median's standard error (from the interquartile range) below ``TARGET_REL_ERROR``."""
    if len(samples) < 30:
        return False
    q = statistics.quantiles(samples, n=4)
    sigma = (q[2] - q[0]) / 1.349
    error = 1.2533 * sigma / math.sqrt(len(samples))
    return error <= TARGET_REL_ERROR * statistics.median(samples)


def percentile(sorted_values: Sequence[float], fraction: float) -> float:
    """Linear-interpolated percentile of already sorted values."""
    if len(sorted_values) == 1:
        return sorted_values[0]
    position = fraction * (len(sorted_values) - 1)
    low = math.floor(position)
    high = min(low + 1, len(sorted_values) - 1)
    return sorted_values[low] + (sorted_values[high] - sorted_values[low]) * (position - low)


def summarize(
    device: str, samples_ms: Sequence[float], other_cpu_pct: float | None = None
) -> TimingSummary:
    """The distribution of ``samples_ms``, with how far it can be trusted."""
    ordered = sorted(samples_ms)
    median = statistics.median(ordered)
    p10, p90 = percentile(ordered, 0.1), percentile(ordered, 0.9)
    spread = contention.spread_pct(median, p10, p90)
    return TimingSummary(
        device=device,
        median_ms=median,
        p10_ms=p10,
        p90_ms=p90,
        min_ms=ordered[0],
        max_ms=ordered[-1],
        runs=len(ordered),
        samples_ms=tuple(samples_ms),
        spread_pct=spread,
        other_cpu_pct=other_cpu_pct,
        noise=contention.noise_note(spread if len(ordered) >= 5 else None, other_cpu_pct),
    )


def time_step(
    run: Callable[[], Any],
    device: str | torch.device,
    *,
    min_runs: int = 10,
    max_seconds: float = 5.0,
    max_runs: int = 10_000,
    on_sample: OnSample | None = None,
) -> TimingSummary:
    """Time ``run`` on ``device``: median, p10, p90, min, max over the timed samples (ms per step).

    Stops when at least ``min_runs`` samples exist and either ``max_seconds`` (of timed runs;
    warm-up gets a quarter more) is spent, or the median is stable after a quarter of it.
    """
    device = torch.device(device)
    warm = warm_up(run, device, budget_s=max(0.25 * max_seconds, 0.05))
    # the fastest recent warm-up run sizes the batch: one slowed by another process must not
    # leave the batch too short for the timer (and the samples dominated by scheduling noise)
    inner = inner_count(min(warm[-MIN_WARMUP_RUNS:]))
    samples_ms: list[float] = []
    began = time.perf_counter()
    watch = contention.CpuWatch()
    with gc_paused():
        while len(samples_ms) < max_runs:
            ms = measure_once(run, device, inner) * 1000.0
            samples_ms.append(ms)
            if on_sample is not None:
                on_sample(len(samples_ms), ms)
            spent = time.perf_counter() - began
            if len(samples_ms) >= min_runs and (
                spent >= max_seconds
                or (spent >= MIN_SHARE * max_seconds and _median_stable(samples_ms))
            ):
                break
    return summarize(str(device), samples_ms, watch.other_cpu_pct())
