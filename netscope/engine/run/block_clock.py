"""Per-block time of the main model over one step of the user's loop, from torch's global hooks.

Installed for one step now and then (the watcher picks steps apart from the detectors' sampled
steps, so neither skews the other), removed at the next step boundary. Inclusive time is from a
block's forward pre-hook to its forward hook; self time is that minus its children's inclusive
time. Modules outside the main model count to the enclosing block. The clock is the host's
``perf_counter``: on the CPU it is the block's time; on CUDA it is the host side only (kernels run
asynchronously, and synchronizing per block would change the step being measured).
"""

from __future__ import annotations

import statistics
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
    """Block times of every timed step; rows are per-step medians, block by block (a step that
    another process or a first call slowed would pull a mean of the few timed steps far above
    the step's own median time)."""

    def __init__(self) -> None:
        self.per_step: dict[str, list[tuple[float, float, int]]] = {}
        self.steps = 0

    def add_step(self, totals: dict[str, list[float]]) -> None:
        self.steps += 1
        for path, (inclusive, own, calls) in totals.items():
            self.per_step.setdefault(path, []).append((inclusive, own, int(calls)))

    def rows(self, device: str) -> tuple[BlockTiming, ...]:
        """Milliseconds per step, largest self time first; a step that did not call a block
        counts 0 for it (a block called every other step reads half its time)."""
        rows = []
        for path, seen in self.per_step.items():
            absent = [(0.0, 0.0, 0)] * max(self.steps - len(seen), 0)
            inclusive, own, calls = zip(*(seen + absent), strict=True)
            rows.append(
                BlockTiming(
                    path=path,
                    device=device,
                    inclusive_ms=statistics.median(inclusive) * 1000.0,
                    self_ms=statistics.median(own) * 1000.0,
                    calls=round(statistics.median(calls)),
                )
            )
        rows.sort(key=lambda r: -(r.self_ms or 0.0))
        return tuple(rows)
