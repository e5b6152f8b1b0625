"""The growth of memory per step: a consistent rise is told from the allocator's and RSS's wobble.

Series in MiB per step boundary; the first two are RSS readings of the same CPU loop (width 1024)
keeping floats and keeping its loss tensors.
"""

from __future__ import annotations

import math
import random

from netscope import units
from netscope.engine.run.memory import WARMUP_STEPS, StepMemoryReader, step_memory, theil_sen

MIB = 1 << 20
# RSS every third step of a flat loop: 8 MiB stairs up and down, never a trend
FLAT_RSS = [363, 419, 435, 435, 435, 435, 435, 435, 435, 443, 443, 445, 445, 445, 445, 445, 436,
            436, 420, 420, 428, 428, 428, 428, 452, 452, 452, 452, 428, 444, 440, 440, 428, 428,
            444, 444, 444, 428, 428, 435]  # fmt: skip
LEAK_RSS = [362, 427, 466, 474, 451, 498, 530, 546, 570, 618, 618, 650, 666, 674, 706, 730, 746,
            770, 794, 818, 826, 834, 850, 874, 882, 914, 938, 946, 970, 994, 1010, 1010, 1026,
            1058, 1090, 1114, 1130, 1138, 1162, 1170]  # fmt: skip


def _memory(mib: list[float], every: int = 1):
    reads = [(1 + i * every, round(v * MIB)) for i, v in enumerate(mib)]
    after = [(i, b) for i, b in reads if i > WARMUP_STEPS]
    return step_memory("process rss", after, max(b for _, b in reads), len(reads))


def test_theil_sen_ignores_an_outlier():
    points = [(i, 10 * i) for i in range(20)]
    points[7] = (7, 10_000)
    slope, intercept = theil_sen(points)
    assert slope == 10 and intercept == 0


def test_a_flat_loop_with_rss_stairs_is_not_growing():
    memory = _memory(FLAT_RSS, every=3)
    assert memory.growing is False and memory.note is None
    assert abs(memory.growth_bytes_per_step) < MIB


def test_a_loop_keeping_its_losses_is_growing_with_its_growth_per_step():
    memory = _memory(LEAK_RSS, every=3)
    assert memory.growing is True
    assert 5 * MIB < memory.growth_bytes_per_step < 9 * MIB  # about 20 MiB every 3 steps
    assert "per step" in memory.note and "loss.item()" in memory.note


def test_a_growth_under_a_mebibyte_is_written_as_every_size_is():
    """units.size, one spelling for every layer: '102.4 KiB', not a rounded '102 KiB'."""
    memory = _memory([100 + 0.1 * i for i in range(40)])
    assert memory.growing is True and memory.note is not None
    assert f"rose {units.size(0.1 * MIB)} per step" in memory.note
    assert "rose 102.4 KiB per step" in memory.note


def test_one_jump_and_a_long_warm_up_are_not_growth():
    jump = [300.0] * 30 + [400.0] * 30
    assert _memory(jump).growing is False
    warm = [300.0 + min(i, 15) * 4 for i in range(60)]  # rises for 15 steps, then flat
    assert _memory(warm).growing is False


def test_a_small_steady_rise_below_the_thresholds_is_not_growth():
    floats = [300.0 + i * 8 / 1024 for i in range(60)]  # 8 KiB a step: a list of floats
    memory = _memory(floats)
    assert memory.growing is False and memory.growth_bytes_per_step == 8 * 1024


def test_a_noisy_leak_is_growing():
    rng = random.Random(0)
    noisy = [300.0 + 2 * i + rng.uniform(-0.5, 0.5) for i in range(60)]
    memory = _memory(noisy)
    assert memory.growing is True and abs(memory.growth_bytes_per_step - 2 * MIB) < 0.1 * MIB


def test_too_few_steps_have_no_growth():
    memory = _memory([300.0 + i for i in range(10)])  # 5 reads after warm-up
    assert memory.growth_bytes_per_step is None and memory.growing is False
    assert memory.samples == 10 and memory.peak_bytes == 309 * MIB


def test_memory_that_falls_does_not_grow() -> None:
    """A run report says "growth none" for a falling series, never "-35.5 KiB per step"."""
    from netscope.report.run_tables import growth_text

    assert growth_text(-36352) == "none" and growth_text(0) == "none"
    assert growth_text(2 * MIB) == "+2.0 MiB per step" and growth_text(None) == "n/a"


def test_memory_reads_are_paced_to_a_fifth_of_a_percent_of_a_step() -> None:
    reader = StepMemoryReader("cpu")
    try:
        reader.pace(read_s=8e-4, step_s=0.04)  # a 0.8 ms read (CUDA), 40 ms steps: 1 in 10
        assert reader.every == 10
        reader.pace(read_s=4e-6, step_s=1.0)  # a long step: every boundary
        assert reader.every == 1
        for _ in range(4):  # one preempted read among fast ones does not pace the rest
            reader.pace(read_s=8e-4, step_s=0.04)
        reader.pace(read_s=0.5, step_s=0.04)
        assert reader.every == 10
    finally:
        reader.close()


def test_memory_reads_are_at_least_an_interval_apart_once_a_window_is_in() -> None:
    """Once a slope's window of reads is in, a cheap read on short steps still waits
    ``MIN_READ_INTERVAL_S`` of steps: 4.5 ms steps of a Lightning loop read at every boundary
    ran 0.6% slower (the system call's cost to the loop is more than its own time). A short
    run's first reads are at every boundary: its leak needs them. Every read counts, also a lean
    step's, which reads without pacing (the watcher paces at its full boundaries only)."""
    from netscope.engine.run.memory import MIN_READ_INTERVAL_S, WINDOW

    reader = StepMemoryReader("cpu")
    try:
        for _ in range(WINDOW - 1):
            assert reader.read() is not None
        reader.pace(read_s=2e-6, step_s=4.5e-3)
        assert reader.every == 1
        assert reader.read() is not None  # the window's last read, on a lean step
        reader.pace(read_s=2e-6, step_s=4.5e-3)
        assert reader.every == 12 == math.ceil(MIN_READ_INTERVAL_S / 4.5e-3)
        reader.pace(read_s=2e-6, step_s=100e-6)  # 0.1 ms steps: the interval, not the budget
        assert reader.every == 500
        reader.pace(read_s=2e-6, step_s=0.06)  # steps longer than the interval: every one
        assert reader.every == 1
    finally:
        reader.close()
