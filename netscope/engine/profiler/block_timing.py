"""Inclusive and self time of every block, from a separate pass with forward pre/post hooks.

A block's inclusive time spans its forward call; its self time is that minus the inclusive time of
the blocks it called. On the CPU the marks are ``time.perf_counter`` readings; on CUDA they are
CUDA events recorded in the stream with no per-block synchronize (the host synchronizes once per
pass), so a block's time is the GPU time between its first and last kernel launch points. The
hooks are removed in ``finally``; the headline step timing never runs with them.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from typing import Any

import torch
from torch import nn
from torch.nn.modules.module import (
    register_module_forward_hook,
    register_module_forward_pre_hook,
)

from netscope.engine.model import BlockTiming
from netscope.engine.profiler.tracking import block_paths


class _BlockClock:
    """Records ``[path, parent record, start mark, end mark]`` per block call of one pass."""

    def __init__(self, paths: dict[int, str], device: torch.device) -> None:
        self.paths = paths
        self.cuda = device.type == "cuda"
        self.records: list[list[Any]] = []
        self.stack: list[int] = []

    def mark(self) -> Any:
        if self.cuda:
            event = torch.cuda.Event(enable_timing=True)
            event.record()
            return event
        return time.perf_counter()

    def pre(self, module: nn.Module, args: object) -> None:
        path = self.paths.get(id(module))
        if path is not None:
            parent = self.stack[-1] if self.stack else -1
            self.stack.append(len(self.records))
            self.records.append([path, parent, self.mark(), None])

    def post(self, module: nn.Module, args: object, output: object) -> None:
        if id(module) in self.paths and self.stack:
            self.records[self.stack.pop()][3] = self.mark()

    def totals(self) -> dict[str, tuple[float, float, int]]:
        """``path -> (inclusive ms, self ms, calls)`` summed over the calls of this pass."""
        if self.cuda:
            torch.cuda.synchronize()
        inclusive = [
            _elapsed_ms(start, end, self.cuda) if end is not None else 0.0
            for _, _, start, end in self.records
        ]
        children = [0.0] * len(self.records)
        for index, record in enumerate(self.records):
            if record[1] >= 0:
                children[record[1]] += inclusive[index]
        out: dict[str, tuple[float, float, int]] = {}
        for index, record in enumerate(self.records):
            inc, own, calls = out.get(record[0], (0.0, 0.0, 0))
            own_ms = max(inclusive[index] - children[index], 0.0)
            out[record[0]] = (inc + inclusive[index], own + own_ms, calls + 1)
        return out


def _elapsed_ms(start: Any, end: Any, cuda: bool) -> float:
    if cuda:
        return float(start.elapsed_time(end))
    return (end - start) * 1000.0


def run_hooked(
    model: nn.Module, run: Callable[[], Any], device: torch.device
) -> dict[str, tuple[float, float, int]]:
    """One step with timing hooks on every block of ``model``; hooks removed in ``finally``."""
    clock = _BlockClock(block_paths(model), device)
    handles = [
        register_module_forward_pre_hook(clock.pre),
        register_module_forward_hook(clock.post, always_call=True),
    ]
    try:
        run()
    finally:
        for handle in handles:
            handle.remove()
    return clock.totals()


def time_blocks(
    model: nn.Module,
    run: Callable[[], Any],
    device: str | torch.device,
    *,
    passes: int = 5,
    max_seconds: float = 2.0,
) -> tuple[BlockTiming, ...]:
    """Median over ``passes`` hooked steps of each block's inclusive and self time (pre-order)."""
    device = torch.device(device)
    order = list(block_paths(model).values())
    per_pass: list[dict[str, tuple[float, float, int]]] = []
    began = time.perf_counter()
    while len(per_pass) < passes:
        per_pass.append(run_hooked(model, run, device))
        if time.perf_counter() - began > max_seconds:
            break
    rows = []
    for path in order:
        seen = [totals[path] for totals in per_pass if path in totals]
        if not seen:
            rows.append(BlockTiming(path, str(device), None, None, 0))
            continue
        rows.append(
            BlockTiming(
                path=path,
                device=str(device),
                inclusive_ms=statistics.median(inc for inc, _, _ in seen),
                self_ms=statistics.median(own for _, own, _ in seen),
                calls=max(calls for _, _, calls in seen),
            )
        )
    return tuple(rows)
