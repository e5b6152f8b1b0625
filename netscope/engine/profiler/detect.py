"""One instrumented step that finds every host-device copy and sync point, with block and line.

Two interceptors run together: a ``TorchFunctionMode`` sees torch calls as the user wrote them
(``.item()``, ``bool(t)``, ``torch.tensor(data, device=...)``) and a ``TorchDispatchMode`` sees the
aten ops underneath (every cross-device ``_to_copy`` / ``copy_``, and syncs done inside torch
functions). Each handler costs one set lookup for ops that do not matter; the stack walks for the
block and the source line happen only for a finding. Modes and patches are removed in ``finally``.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from typing import Any

import torch
from torch import nn
from torch.overrides import TorchFunctionMode
from torch.utils._python_dispatch import TorchDispatchMode

from netscope.engine.model import CopyFinding, SyncFinding
from netscope.engine.profiler import copies, syncs
from netscope.engine.profiler.tracking import BlockTracker, caller_location


class _Recorder:
    """Collects copy and sync events of one step on ``device``."""

    def __init__(self, tracker: BlockTracker, device: torch.device) -> None:
        self.tracker = tracker
        self.cpu_pass = device.type == "cpu"
        self.copies: list[copies.CopyEvent] = []
        self.syncs: list[syncs.SyncEvent] = []
        self.in_sync = 0  # inside a reported sync: its inner aten syncs are the same one
        self.in_creation = 0  # inside torch.tensor(..., device=): counted at the Python level

    def device_value(self, value: Any) -> bool:
        """Would reading ``value`` on the host wait for a device?"""
        if not isinstance(value, torch.Tensor):
            return False
        kind = value.device.type
        if kind == "meta":
            return False
        if kind != "cpu":
            return True
        return self.cpu_pass

    def timed_sync(self, op: str, reason: str, call: Callable[[], Any]) -> Any:
        location, block = caller_location(2), self.tracker.current
        if self.cpu_pass and op in syncs.READS_HOST and self.syncs:
            last = self.syncs[-1]  # x.cpu().numpy(): on CUDA only the .cpu() waits
            if last.op in syncs.TO_HOST and last.location == location:
                return call()
        began = time.perf_counter()
        self.in_sync += 1
        try:
            return call()
        finally:
            self.in_sync -= 1
            stall = None if self.cpu_pass else time.perf_counter() - began
            self.syncs.append(syncs.SyncEvent(op, reason, block, location, stall))

    def function_sync(self, name: str, func: Any, args: tuple, kwargs: dict) -> Any:
        hit = syncs.classify(name, args, kwargs) if args and self.device_value(args[0]) else None
        if hit is None:
            return func(*args, **kwargs)
        return self.timed_sync(hit[0], hit[1], lambda: func(*args, **kwargs))

    def explicit_sync(self, op: str, call: Callable[[], Any]) -> Any:
        return self.timed_sync(op, syncs.EXPLICIT, call)

    def creation(self, name: str, func: Any, args: tuple, kwargs: dict) -> Any:
        target = copies.creation_target(name, args, kwargs)
        if target is None:
            return func(*args, **kwargs)
        self.in_creation += 1
        try:
            out = func(*args, **kwargs)
        finally:
            self.in_creation -= 1
        way = copies.direction(torch.device("cpu"), target)
        self._add_copy(way, out.numel() * out.element_size(), out.dtype, False, False)
        return out

    def dispatch_copy(self, func: Any, args: tuple, kwargs: dict) -> Any:
        out = func(*args, **kwargs)
        if not self.in_creation:
            src, dst, non_blocking = copies.dispatch_copy(func, args, kwargs)
            way = copies.direction(src.device, dst)
            if way is not None:
                size = src.numel() * src.element_size()
                self._add_copy(way, size, src.dtype, copies.is_pinned(src), non_blocking)
        return out

    def _add_copy(
        self, way: str, size: int, dtype: torch.dtype, pinned: bool | None, non_blocking: bool
    ) -> None:
        event = copies.CopyEvent(
            way,
            size,
            copies.dtype_name(dtype),
            pinned,
            non_blocking,
            self.tracker.current,
            caller_location(3),
        )
        self.copies.append(event)


# the only ops either handler does anything with; everything else returns at once
_WATCHED_NAMES = frozenset(syncs.SYNC_FUNCTIONS) | copies.CREATION_FUNCTIONS
_WATCHED_ATEN = frozenset(copies.COPY_OPS) | frozenset(syncs.SYNC_ATEN)


class _FunctionLevel(TorchFunctionMode):
    def __init__(self, recorder: _Recorder) -> None:
        super().__init__()
        self.recorder = recorder

    def __torch_function__(self, func, types, args=(), kwargs=None):
        name = getattr(func, "__name__", None)
        if name not in _WATCHED_NAMES:  # almost every op: one set lookup, then run it
            return func(*args, **kwargs) if kwargs else func(*args)
        kwargs = kwargs or {}
        if name in syncs.SYNC_FUNCTIONS:
            return self.recorder.function_sync(name, func, args, kwargs)
        return self.recorder.creation(name, func, args, kwargs)


class _DispatchLevel(TorchDispatchMode):
    def __init__(self, recorder: _Recorder) -> None:
        super().__init__()
        self.recorder = recorder

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        if func not in _WATCHED_ATEN:  # almost every op: one set lookup, then run it
            return func(*args, **kwargs) if kwargs else func(*args)
        kwargs = kwargs or {}
        if func in copies.COPY_OPS:
            return self.recorder.dispatch_copy(func, args, kwargs)
        hit = syncs.SYNC_ATEN[func]
        recorder = self.recorder
        if not recorder.in_sync and recorder.device_value(args[0]):
            return recorder.timed_sync(hit[0], hit[1], lambda: func(*args, **kwargs))
        return func(*args, **kwargs)


def _skip_dynamo_import() -> None:
    """Spare the worker torch's lazy ``import torch._dynamo`` (seconds) on the first dispatch.

    torch wraps every ``__torch_dispatch__`` so dynamo never traces it, importing dynamo on first
    use. When dynamo is not loaded nothing can trace the step, so the plain handler is cached as
    the wrapper's "disabled" form; when it is loaded the wrapper stays as torch made it.
    """
    if "torch._dynamo" in sys.modules:
        return
    raw = getattr(_DispatchLevel.__dict__["__torch_dispatch__"], "__wrapped__", None)
    if raw is not None and getattr(raw, "__dynamo_disable", None) is None:
        setattr(raw, "__dynamo_disable", raw)  # the attribute name torch's wrapper reads


def detect(
    model: nn.Module, run: Callable[[], Any], device: str | torch.device
) -> tuple[tuple[CopyFinding, ...], tuple[SyncFinding, ...]]:
    """Run one step with both interceptors; copies largest first, syncs most frequent first."""
    device = torch.device(device)
    if device.type == "cuda":
        torch.cuda.synchronize(device)  # earlier queued work is not this step's stall
    _skip_dynamo_import()
    recorder = _Recorder(BlockTracker(model), device)
    with (
        syncs.patched_synchronize(recorder.explicit_sync),
        _DispatchLevel(recorder),
        _FunctionLevel(recorder),
    ):
        run()
    return copies.aggregate(recorder.copies), syncs.aggregate(recorder.syncs, str(device))
