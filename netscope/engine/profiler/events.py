"""The sync and copy events of one step, recorded the same way by both detectors: the
profiler's (``detect``: one step of a model file) and ``netscope run``'s (``run.loop_detect``: a
sampled step of the script's loop). Each decides *whether* a call is a sync or a copy; what is
recorded for it (its block, its line, how long the host waited, its bytes) is decided here once.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import torch

from netscope.engine.dtypes import dtype_name
from netscope.engine.profiler import copies, syncs
from netscope.engine.profiler.tracking import caller_location


class StepEvents:
    """Collects one step's events; ``tracker.current`` names the innermost running block."""

    def __init__(self, tracker: Any, stalls_measured: bool) -> None:
        self.tracker = tracker
        self.stalls_measured = stalls_measured  # a real device: how long each sync held the host
        self.copies: list[copies.CopyEvent] = []
        self.syncs: list[syncs.SyncEvent] = []
        self.in_sync = 0  # inside a reported sync: its inner aten syncs are the same one
        self.in_creation = 0  # inside torch.tensor(..., device=): counted at the Python level
        self.paused = 0  # > 0: netscope's own work (run: a snapshot, gradient statistics)

    def timed_sync(self, op: str, reason: str, location: str | None, call: Callable[[], Any]):
        """Run ``call``, a sync, and record it at ``location`` with the host's wait."""
        block = self.tracker.current
        began = time.perf_counter()
        self.in_sync += 1
        try:
            return call()
        finally:
            self.in_sync -= 1
            stall = time.perf_counter() - began if self.stalls_measured else None
            self.syncs.append(syncs.SyncEvent(op, reason, block, location, stall))

    def creation(self, name: str, func: Any, args: tuple, kwargs: dict) -> Any:
        """A constructor call (``torch.tensor(data, device=...)``): its data's move to the
        device is one copy, at this line (the dispatched copy inside it is not another)."""
        target = copies.creation_target(name, args, kwargs)
        if target is None or self.paused:
            return func(*args, **kwargs)
        self.in_creation += 1
        try:
            out = func(*args, **kwargs)
        finally:
            self.in_creation -= 1
        way = copies.direction(torch.device("cpu"), target)
        if way is not None:
            self.add_copy(way, out, False, caller_location(1), created=True)
        return out

    def add_copy(
        self,
        way: str,
        source: torch.Tensor,
        non_blocking: bool,
        location: str | None,
        created: bool = False,
    ) -> None:
        """A copy of ``source``'s data ``way`` (``created``: a constructor's Python data moved to
        the device, never pinned). An empty tensor moves nothing: no event."""
        size = source.numel() * source.element_size()
        if not size:
            return
        pinned = False if created else copies.is_pinned(source) if way[0] == "H" else None
        event = copies.CopyEvent(
            way,
            size,
            dtype_name(source.dtype),
            pinned,
            non_blocking,
            self.tracker.current,
            location,
        )
        self.copies.append(event)
