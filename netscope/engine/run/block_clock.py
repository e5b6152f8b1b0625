"""Per-block time of the main model over one step of the user's loop, from torch's global hooks.

Installed for one step now and then (the watcher picks steps apart from the detectors' sampled
steps, so neither skews the other), removed at the next step boundary. Inclusive time is from a
block's forward pre-hook to its forward hook; self time is that minus its children's inclusive
time. Modules outside the main model count to the enclosing block. The clock is the host's
``perf_counter``: on the CPU it is the block's time; on CUDA it is the host side only (kernels run
asynchronously, and synchronizing per block would change the step being measured).
"""

from __future__ import annotations

import time
from typing import Any

from torch import nn

from netscope.engine.model import BlockTiming
from netscope.engine.run.compile_safe import clock_hooks, clock_paths


class BlockClock:
    """One step's inclusive/self seconds and calls per block path of ``model``."""

    def __init__(self, model: nn.Module) -> None:
        self._model = model
        self._paths = clock_paths(model)  # compiled blocks: the wrapper, by its original path
        self._stack: list[list[Any]] = []  # [path, began, children's inclusive seconds]
        self.totals: dict[str, list[float]] = {}  # path -> [inclusive s, self s, calls]
        self._handles: list[Any] = []

    def start(self) -> None:
        self._handles = clock_hooks(self._model, self._pre, self._post)  # never in a graph

    def stop(self) -> dict[str, list[float]]:
        handles, self._handles = self._handles, []
        for handle in handles:
            handle.remove()
        self._stack.clear()
        return self.totals

    def _pre(self, module: nn.Module, args: Any) -> None:
        path = self._paths.get(id(module))
        if path is not None:
            self._stack.append([path, time.perf_counter(), 0.0])

    def _post(self, module: nn.Module, args: Any, output: Any) -> None:
        path = self._paths.get(id(module))
        stack = self._stack
        if path is None or not stack or stack[-1][0] != path:
            return
        _, began, children = stack.pop()
        inclusive = time.perf_counter() - began
        if stack:
            stack[-1][2] += inclusive
        row = self.totals.setdefault(path, [0.0, 0.0, 0])
        row[0] += inclusive
        row[1] += inclusive - children
        row[2] += 1


class BlockTable:
    """Block times summed over every timed step; rows are per-step means."""

    def __init__(self) -> None:
        self.sums: dict[str, list[float]] = {}
        self.steps = 0

    def add_step(self, totals: dict[str, list[float]]) -> None:
        self.steps += 1
        for path, (inclusive, own, calls) in totals.items():
            row = self.sums.setdefault(path, [0.0, 0.0, 0])
            row[0] += inclusive
            row[1] += own
            row[2] += calls

    def rows(self, device: str) -> tuple[BlockTiming, ...]:
        """Milliseconds per step, largest self time first."""
        steps = max(self.steps, 1)
        rows = [
            BlockTiming(
                path=path,
                device=device,
                inclusive_ms=inclusive * 1000.0 / steps,
                self_ms=own * 1000.0 / steps,
                calls=round(calls / steps),
            )
            for path, (inclusive, own, calls) in self.sums.items()
        ]
        rows.sort(key=lambda r: -(r.self_ms or 0.0))
        return tuple(rows)
