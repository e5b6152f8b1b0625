"""One instrumented step that finds every host-device copy and sync point, with block and line.

Two interceptors run together: a ``TorchFunctionMode`` sees torch calls as the user wrote them
(``.item()``, ``bool(t)``, ``torch.tensor(data, device=...)``) and a ``TorchDispatchMode`` sees the
aten ops underneath (every cross-device ``_to_copy`` / ``copy_``, and syncs done inside torch
functions). Each handler costs one set lookup for ops that do not matter; the stack walks for the
block and the source line happen only for a finding. Modes and patches are removed in ``finally``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch
from torch import nn
from torch.overrides import TorchFunctionMode
from torch.utils._python_dispatch import TorchDispatchMode

from netscope.engine.load.loaded import ExampleInput
from netscope.engine.model import CopyFinding, SyncFinding
from netscope.engine.profiler import copies, standin, syncs
from netscope.engine.profiler.events import StepEvents
from netscope.engine.profiler.step import prepared_step
from netscope.engine.profiler.tracking import BlockTracker, caller_location

_HOST_TYPES = frozenset({"cpu", "meta"})


class _Recorder(StepEvents):
    """Collects copy and sync events of one step on ``device`` (a GPU or the stand-in GPU)."""

    def __init__(self, tracker: BlockTracker, device: torch.device) -> None:
        self.emulated = standin.is_standin(device)  # no real GPU: stalls cannot be measured
        super().__init__(tracker, stalls_measured=not self.emulated)

    @staticmethod
    def device_value(value: Any) -> bool:
        """Would reading ``value`` on the host wait for a device? Host and meta tensors never do."""
        return isinstance(value, torch.Tensor) and value.device.type not in _HOST_TYPES

    def function_sync(self, name: str, func: Any, args: tuple, kwargs: dict) -> Any:
        hit = syncs.classify(name, args, kwargs) if args and self.device_value(args[0]) else None
        if hit is None:
            return func(*args, **kwargs)
        return self.timed_sync(hit[0], hit[1], caller_location(1), lambda: func(*args, **kwargs))

    def explicit_sync(self, op: str, call: Callable[[], Any]) -> Any:
        return self.timed_sync(op, syncs.EXPLICIT, caller_location(1), call)

    def dispatch_copy(self, func: Any, args: tuple, kwargs: dict) -> Any:
        out = func(*args, **kwargs)
        if not self.in_creation:
            src, dst, non_blocking = copies.dispatch_copy(func, args, kwargs)
            way = copies.direction(src.device, dst)
            if way is not None:
                self.add_copy(way, src, non_blocking, caller_location(1))
        return out


# the only ops either handler does anything with; everything else returns at once
WATCHED_NAMES = frozenset(syncs.SYNC_FUNCTIONS) | copies.CREATION_FUNCTIONS
WATCHED_ATEN = frozenset(copies.COPY_OPS) | frozenset(syncs.SYNC_ATEN)


class FunctionLevel(TorchFunctionMode):
    """Python-level calls: sync idioms and host-data constructors go to the recorder (this
    detector's, or ``netscope run``'s, which has the same two methods)."""

    def __init__(self, recorder: Any) -> None:
        super().__init__()
        self.recorder = recorder

    def __torch_function__(self, func, types, args=(), kwargs=None):
        name = getattr(func, "__name__", None)
        if name not in WATCHED_NAMES:  # almost every op: one set lookup, then run it
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
        if func not in WATCHED_ATEN:  # almost every op: one set lookup, then run it
            return func(*args, **kwargs) if kwargs else func(*args)
        kwargs = kwargs or {}
        if func in copies.COPY_OPS:
            return self.recorder.dispatch_copy(func, args, kwargs)
        hit = syncs.SYNC_ATEN[func]
        recorder = self.recorder
        if not recorder.in_sync and recorder.device_value(args[0]):
            location = caller_location(1)
            return recorder.timed_sync(hit[0], hit[1], location, lambda: func(*args, **kwargs))
        return func(*args, **kwargs)


def detect(
    model: nn.Module, run: Callable[[], Any], device: str | torch.device
) -> tuple[tuple[CopyFinding, ...], tuple[SyncFinding, ...]]:
    """Run one step with both interceptors; copies largest first, syncs most frequent first.

    ``device`` is where ``model`` and the batch of ``run`` live: a GPU, or the stand-in GPU of
    ``standin.py`` (prepared with ``prepared_step(..., standin.ensure_backend())``), whose
    findings are reported for the CPU as "would sync on CUDA".
    """
    device = torch.device(device)
    if device.type == "cuda":
        torch.cuda.synchronize(device)  # earlier queued work is not this step's stall
    standin.skip_dynamo_import(_DispatchLevel)
    recorder = _Recorder(BlockTracker(model), device)
    with (
        syncs.patched_synchronize(recorder.explicit_sync),
        _DispatchLevel(recorder),
        FunctionLevel(recorder),
    ):
        run()
    shown = "cpu" if recorder.emulated else str(device)
    return copies.aggregate(recorder.copies), syncs.aggregate(recorder.syncs, shown)


def detect_call(
    model: nn.Module,
    call: Callable[[nn.Module, Any], Any],
    batch: Any,
    device: str = "cpu",
) -> tuple[tuple[CopyFinding, ...], tuple[SyncFinding, ...]]:
    """Place ``model`` and ``batch`` on ``device`` (the stand-in GPU for "cpu"), then detect
    one ``call(model, batch)``: what the profiler does, for one call of your choosing."""
    target = standin.ensure_backend() if device == "cpu" else device
    with prepared_step(model, ExampleInput(args=(batch,)), target, step_fn=call) as step:
        return detect(step.model, step.run, step.device)
