"""The counted step's tracker (``StepAllocations``: the peak's place named only when read, plain
tensors without the DTensor lookup) against the base ``AllocationTracker`` on the same tensors:
the same live bytes, peak and place, through frees, views, known storages and a reset."""

from __future__ import annotations

import gc

import torch

from netscope.engine.compute.allocations import AllocationTracker, StepAllocations


def _replay(tracker: AllocationTracker, where: list[object]) -> list[tuple[int, int, str]]:
    """Create and free tensors, moving ``where``; the tracker's figures after each step."""
    seen: list[tuple[int, int, str]] = []
    weight = torch.nn.Parameter(torch.randn(64, 64))
    tracker.know([weight])
    kept: list[torch.Tensor] = []
    for i in range(6):
        where[0] = ("forward", (1, 10 + i))
        out = torch.randn(32 + i, 16)
        tracker.created(out)
        tracker.created(out.view(-1))  # a view: its storage is counted once
        tracker.created(weight)  # known before the step: never counted
        kept.append(out)
        seen.append((tracker.current, tracker.peak, tracker.peak_at))
    where[0] = ("backward", (1,))
    tracker.reset_peak()
    seen.append((tracker.current, tracker.peak, tracker.peak_at))
    del kept[:4]
    gc.collect()
    grad = torch.randn(8, 8)
    tracker.created(grad)
    seen.append((tracker.current, tracker.peak, tracker.peak_at))
    where[0] = ("backward", (1, 12))
    big = torch.randn(256, 64)
    tracker.created(big)
    seen.append((tracker.current, tracker.peak, tracker.peak_at))
    return seen


def _describe(place: object) -> str:
    phase, chain = place  # type: ignore[misc]
    return f"{phase} ({chain[-1]})"


def test_step_allocations_equal_the_base_tracker() -> None:
    where: list[object] = [None]
    base = _replay(AllocationTracker(lambda: _describe(where[0])), where)
    lazy = _replay(StepAllocations(lambda: where[0], _describe), where)
    assert lazy == base
    assert base[-1][2] == "backward (12)" and base[5][2] == "forward (15)"
    assert base[-2][1] == base[-3][1]  # the grad made after the reset was no new peak
