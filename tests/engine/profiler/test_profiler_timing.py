"""Headline timing, per-block timing, the heartbeat and system sampling on real CPU work."""

from __future__ import annotations

import time

import pytest
import torch
from torch import nn
from torch.nn.modules import module as torch_module

from netscope.engine.profiler import system
from netscope.engine.profiler.block_timing import time_blocks
from netscope.engine.profiler.gil import measure_gil
from netscope.engine.profiler.timing import inner_count, summarize, time_step


def test_summary_statistics() -> None:
    summary = summarize("cpu", [5.0, 1.0, 3.0, 2.0, 4.0])
    assert (summary.median_ms, summary.min_ms, summary.max_ms, summary.runs) == (3.0, 1.0, 5.0, 5)
    assert summary.p10_ms == pytest.approx(1.4)
    assert summary.p90_ms == pytest.approx(4.6)
    assert summary.samples_ms == (5.0, 1.0, 3.0, 2.0, 4.0)


def test_short_steps_are_batched_so_one_sample_lasts_a_millisecond() -> None:
    assert inner_count(1e-6) == 10_000
    assert inner_count(2e-4) == 50
    assert inner_count(5e-3) == 2
    assert inner_count(2e-2) == 1


def test_time_step_measures_a_known_sleep() -> None:
    seen: list[tuple[int, float]] = []
    summary = time_step(
        lambda: time.sleep(0.002),
        "cpu",
        min_runs=5,
        max_seconds=0.2,
        on_sample=lambda i, ms: seen.append((i, ms)),
    )
    assert summary.runs >= 5 and len(seen) == summary.runs
    assert [i for i, _ in seen] == list(range(1, summary.runs + 1))
    assert summary.min_ms <= summary.p10_ms <= summary.median_ms <= summary.p90_ms <= summary.max_ms
    assert 2.0 <= summary.median_ms < 4.0


def test_median_agrees_with_torch_benchmark_timer() -> None:
    from torch.utils.benchmark import Timer

    a = torch.randn(128, 128)
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # Timer's default; several threads on a busy 2-core box are chaos
    try:
        ours = time_step(lambda: a @ a, "cpu", min_runs=20, max_seconds=0.5).median_ms
        timer = Timer("a @ a", globals={"a": a}, num_threads=1)
        theirs = timer.blocked_autorange(min_run_time=0.3).median * 1e3
    finally:
        torch.set_num_threads(threads)
    assert ours == pytest.approx(theirs, rel=0.5)  # 3% is the benchmark's bar; CI is noisy


class Leaf(nn.Module):
    def __init__(self, seconds: float) -> None:
        super().__init__()
        self.seconds = seconds

    def forward(self, x):
        time.sleep(self.seconds)
        return x


class Tree(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.slow = Leaf(0.004)
        self.fast = Leaf(0.001)
        self.unused = Leaf(0.0)

    def forward(self, x):
        return self.fast(self.slow(self.fast(x)))


def test_block_inclusive_and_self_times() -> None:
    model = Tree()
    rows = {r.path: r for r in time_blocks(model, lambda: model(1), "cpu", passes=3)}
    assert list(rows) == ["", "slow", "fast", "unused"]
    root, slow, fast = rows[""], rows["slow"], rows["fast"]
    assert (root.calls, slow.calls, fast.calls) == (1, 1, 2)
    assert slow.inclusive_ms >= 4.0 and fast.inclusive_ms >= 2.0
    assert slow.self_ms == pytest.approx(slow.inclusive_ms)
    assert root.inclusive_ms >= slow.inclusive_ms + fast.inclusive_ms
    assert 0.0 <= root.self_ms < root.inclusive_ms - 6.0
    assert rows["unused"].inclusive_ms is None and rows["unused"].calls == 0


def test_block_hooks_are_removed_even_when_the_step_raises() -> None:
    model = Tree()

    def failing() -> None:
        model(1)
        raise RuntimeError("boom")

    with pytest.raises(RuntimeError):
        time_blocks(model, failing, "cpu")
    assert not torch_module._global_forward_hooks
    assert not torch_module._global_forward_pre_hooks


def test_heartbeat_sees_a_python_busy_step() -> None:
    def busy() -> None:
        end = time.perf_counter() + 0.02
        while time.perf_counter() < end:
            pass

    report = measure_gil(busy, min_seconds=0.2)
    assert report.beats > 0
    assert report.p50_ms <= report.p99_ms <= report.max_ms
    assert report.max_ms > 1.0  # the busy loop holds the lock for whole switch intervals
    assert 0.0 < report.late_share <= 1.0


def test_without_nvml_gpu_readings_are_absent_not_zero() -> None:
    nvml = system.open_nvml()
    if nvml is not None:
        system.close_nvml(nvml)
        pytest.skip("NVML works on this machine")
    assert system.gpu_samples(None) == ()
    sampler = system.SystemSampler()
    try:
        sample = sampler.sample()
    finally:
        sampler.close()
    assert sample.gpus == ()
    assert sample.rss_bytes is not None and sample.rss_bytes > 0
    assert sample.process_cpu_percent is not None
    assert len(sample.per_core_percent) >= 1


@pytest.mark.cuda
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs an NVIDIA GPU")
def test_cuda_timing_uses_events_and_agrees_with_benchmark() -> None:
    from torch.utils.benchmark import Timer

    a = torch.randn(2048, 2048, device="cuda")
    ours = time_step(lambda: a @ a, "cuda:0", min_runs=20, max_seconds=1.0).median_ms
    theirs = Timer("a @ a", globals={"a": a}).blocked_autorange(min_run_time=0.5).median * 1e3
    assert ours == pytest.approx(theirs, rel=0.03)
    assert system.gpu_samples(system.open_nvml())
