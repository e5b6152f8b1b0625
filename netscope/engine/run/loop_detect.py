"""Syncs and copies of one sampled step of the script's loop, with block and line.

The same op tables and naming as the model-file profiler (``profiler.syncs``, ``profiler.copies``);
what differs is how "is this tensor on the device?" is answered:

- On a GPU run (the model's parameters on a CUDA device) a tensor is on the device when its
  ``device`` says so, exactly as the profiler decides.
- On a CPU run nothing is on a device, so "would it sync on CUDA" is decided by which tensors
  would live there: the model's parameters, buffers and gradients, the tensors passed into a
  model's forward, and everything computed from them. A ``TorchDispatchMode`` taints the outputs
  of every op with a tainted input (a weak set: tainting never keeps a tensor alive), and the
  other inputs of such an op that have one dimension or more (on CUDA they must be on the device
  too: the labels a loss compares with the output). Host tensors (an optimizer's step counter, a
  tensor built without a device) stay untainted, and reading them is never reported.
  ``.cpu()`` of a tainted tensor returns an untainted alias (the host copy it would be on CUDA).
  ``.to(x)`` to the host counts only when the line names ``cpu`` itself: ``.to(device)`` with
  ``device = "cpu"`` on this machine would be a move to the GPU on a CUDA one.

Copies on a CPU run: ``.cpu()`` / ``.to("cpu")`` of a tainted tensor is the D2H copy it would be
on CUDA. Host-to-device moves cannot be told from no-ops on a CPU-only run and are not reported.
"""

from __future__ import annotations

import contextlib
import linecache
import weakref
from collections.abc import Callable, Iterable, Iterator
from functools import partial
from typing import Any

import torch
from torch.overrides import _get_current_function_mode
from torch.utils._python_dispatch import TorchDispatchMode, _get_current_dispatch_mode

from netscope.engine.nested import tensors_in
from netscope.engine.profiler import copies, syncs
from netscope.engine.profiler.detect import WATCHED_ATEN, FunctionLevel
from netscope.engine.profiler.events import StepEvents
from netscope.engine.profiler.standin import skip_dynamo_import
from netscope.engine.profiler.tracking import caller_location, innermost_block

_Tensor = torch.Tensor

# ops whose inputs may legitimately sit on two devices: their host inputs are not tainted
_MIXED_DEVICE_OPS = frozenset(
    {
        *copies.COPY_OPS,
        torch.ops.aten.index.Tensor,
        torch.ops.aten.index_put_.default,
        torch.ops.aten.index_put.default,
        torch.ops.aten._index_put_impl_.default,
        torch.ops.aten._local_scalar_dense.default,
        torch.ops.aten.set_.source_Tensor,
    }
)
_HOST_CALLS = frozenset({"cpu", "to"})
_INTO_DESTINATION = frozenset(op for op, kind in copies.COPY_OPS.items() if kind != "to_copy")


class RootTracker:
    """Names the innermost running block of any known root from the call stack, when asked."""

    def __init__(self) -> None:
        self.paths: dict[int, str] = {}

    def add_root(self, module: torch.nn.Module, prefix: str) -> None:
        for path, sub in module.named_modules():
            name = f"{prefix}.{path}" if prefix and path else (prefix or path)
            self.paths.setdefault(id(sub), name)

    @property
    def current(self) -> str:
        return innermost_block(self.paths)


def _forget(ids: dict[int, Any], key: int, _ref: Any) -> None:
    """A tainted tensor was freed: its id may be reused by a host tensor."""
    ids.pop(key, None)


class Taint:
    """A weak set of the tensors that would live on the device (CPU runs)."""

    def __init__(self) -> None:
        self.ids: dict[int, weakref.ref] = {}

    def __contains__(self, tensor: object) -> bool:
        return id(tensor) in self.ids

    def add(self, tensor: torch.Tensor) -> None:
        key = id(tensor)
        if key in self.ids:
            return
        ids = self.ids
        try:  # (a plain try: a suppress() context is two Python calls, at every op's output)
            ids[key] = weakref.ref(tensor, partial(_forget, ids, key))
        except TypeError:  # an object that cannot be weakly referenced: not tracked
            return
        if type(tensor) is not _Tensor:
            # a DTensor's local shard is on the device with it: the ops inside DTensor's own
            # dispatch (and to_local(), tensor parallel's output) see the shard, not the wrapper
            local = getattr(tensor, "_local_tensor", None)
            if isinstance(local, _Tensor):
                self.add(local)

    def discard(self, tensor: object) -> None:
        self.ids.pop(id(tensor), None)

    def add_nested(self, value: Any) -> None:
        for tensor in tensors_in(value, max_depth=3):
            self.add(tensor)


def _names_cpu(location: str | None) -> bool:
    """Does the source line at ``file.py:LINE`` literally name the host (``"cpu"``)?"""
    if not location:
        return False
    file, _, line = location.rpartition(":")
    if not line.isdigit():
        return False
    return "cpu" in linecache.getline(file, int(line))


class LoopRecorder(StepEvents):
    """Copy and sync events of one sampled step (both interceptors report here)."""

    def __init__(self, tracker: RootTracker, taint: Taint | None) -> None:
        super().__init__(tracker, stalls_measured=taint is None)
        self.taint = taint  # None on a GPU run: the tensor's own device decides
        self.cpu_run = taint is not None

    def on_device(self, value: Any) -> bool:
        if not isinstance(value, _Tensor):
            return False
        if self.taint is not None:
            return id(value) in self.taint.ids
        kind = value.device.type
        return kind != "cpu" and kind != "meta"

    def function_sync(self, name: str, func: Any, args: tuple, kwargs: dict) -> Any:
        if self.paused or not args or not self.on_device(args[0]):
            return func(*args, **kwargs)
        hit = syncs.classify(name, args, kwargs)
        if hit is None:
            return func(*args, **kwargs)
        location = caller_location(1)
        if self.cpu_run and name == "to" and not _names_cpu(location):
            return func(*args, **kwargs)  # `.to(device)`: a no-op here, a GPU move on CUDA
        source = args[0]
        out = self.timed_sync(hit[0], hit[1], location, lambda: func(*args, **kwargs))
        if self.cpu_run and name in _HOST_CALLS:
            self.add_copy("D2H", source, False, location)
            if out is source:  # the host copy it would be on CUDA: a fresh, untainted alias
                out = source.detach() if not source.requires_grad else source.view_as(source)
            if self.taint is not None:
                self.taint.discard(out)
        return out

    def explicit_sync(self, op: str, call: Callable[[], Any]) -> Any:
        if self.paused:
            return call()
        return self.timed_sync(op, syncs.EXPLICIT, caller_location(1), call)

    def dispatch_copy(self, func: Any, args: tuple, kwargs: dict, out: Any) -> None:
        if self.in_creation or self.paused:
            return
        src, dst, non_blocking = copies.dispatch_copy(func, args, kwargs)
        way = copies.direction(src.device, dst)
        if way is not None:
            self.add_copy(way, src, non_blocking, caller_location(1))


def _tainted_input(taint: dict, args: Iterable[Any]) -> bool:
    for arg in args:
        if isinstance(arg, _Tensor):
            if id(arg) in taint:
                return True
        elif isinstance(arg, (list, tuple)):
            for item in arg:
                if isinstance(item, _Tensor) and id(item) in taint:
                    return True
    return False


class _DispatchLevel(TorchDispatchMode):
    """Syncs inside torch calls, dispatched copies and, on a CPU run, taint propagation."""

    def __init__(self, recorder: LoopRecorder) -> None:
        super().__init__()
        self.recorder = recorder
        self.taint = recorder.taint

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        kwargs = kwargs or {}
        taint = self.taint
        hit = taint is not None and (
            _tainted_input(taint.ids, args) or _tainted_input(taint.ids, kwargs.values())
        )
        recorder = self.recorder
        if func in WATCHED_ATEN:
            if func in copies.COPY_OPS:
                out = func(*args, **kwargs)
                recorder.dispatch_copy(func, args, kwargs, out)
            else:
                op, reason = syncs.SYNC_ATEN[func]
                if (
                    not recorder.in_sync
                    and not recorder.paused
                    and args
                    and recorder.on_device(args[0])
                ):
                    location = caller_location(1)
                    out = recorder.timed_sync(op, reason, location, lambda: func(*args, **kwargs))
                else:
                    out = func(*args, **kwargs)
        else:
            out = func(*args, **kwargs)
        if hit:
            self._spread(func, args, out)
        return out

    def _spread(self, func: Any, args: tuple, out: Any) -> None:
        if func in _INTO_DESTINATION:
            return  # copy_ writes into its destination, which stays where it is (a host buffer)
        taint = self.taint
        if taint is None:
            return
        if isinstance(out, _Tensor):
            taint.add(out)
        elif isinstance(out, (list, tuple)):
            for item in out:
                if isinstance(item, _Tensor):
                    taint.add(item)
        if func in _MIXED_DEVICE_OPS:
            return
        for arg in args:  # on CUDA these must sit on the device too (0-dim may stay on host)
            if isinstance(arg, _Tensor):
                if arg.dim() > 0:
                    taint.add(arg)
            elif isinstance(arg, (list, tuple)):
                for item in arg:
                    if isinstance(item, _Tensor) and item.dim() > 0:
                        taint.add(item)


class SampledStep:
    """The interceptors of one sampled step: ``start()`` at a step boundary, ``stop()`` at the
    next. They stay installed across the script's own frames in between (the mode stack is
    thread state, not a Python ``with``); ``stop()`` removes them even after an error."""

    def __init__(self, tracker: RootTracker, taint: Taint | None) -> None:
        self.recorder = LoopRecorder(tracker, taint)
        self._sync_patch: Any = None
        self._modes: list[Any] = []
        self._aside_depth = 0
        self._modes_aside = False
        self._stopped = False

    def start(self) -> None:
        skip_dynamo_import(_DispatchLevel)
        self._sync_patch = syncs.patched_synchronize(self.recorder.explicit_sync)
        self._sync_patch.__enter__()
        for mode in (_DispatchLevel(self.recorder), FunctionLevel(self.recorder)):
            mode.__enter__()
            self._modes.append(mode)

    def data_begins(self) -> None:
        """The DataLoader's own work in the main process (indexing samples, collating them) on a
        CPU run: none of its tensors would be on the device, and through the two modes each of
        its ops cost several times a step's own (64 samples: 200 ops a step)."""
        if self.recorder.taint is not None:
            self.step_aside()

    def data_ends(self) -> None:
        if self.recorder.taint is not None:
            self.step_back()

    def step_aside(self) -> None:
        """Until ``step_back``, code that can hold no sync or copy of the loop's (the data phase
        on a CPU run, the update of torch's own optimizers: run/aside.py) runs without the
        modes, when they are the innermost ones (a mode of the script's above them stays as it
        is, and so do they). Nests; ``step_back`` inside (an optimizer's closure) brings them
        back for it."""
        self._aside_depth += 1
        if self._aside_depth != 1 or self._stopped or len(self._modes) != 2:
            return
        innermost = (_get_current_dispatch_mode(), _get_current_function_mode())
        if innermost == (self._modes[0], self._modes[1]):
            for mode in reversed(self._modes):
                mode.__exit__(None, None, None)
            self._modes_aside = True

    def step_back(self) -> None:
        if self._aside_depth == 0:  # stepped aside before the detectors started
            return
        self._aside_depth -= 1
        if self._aside_depth == 0 and self._modes_aside and not self._stopped:
            self._modes_aside = False
            for mode in self._modes:
                mode.__enter__()

    @contextlib.contextmanager
    def paused(self) -> Iterator[None]:
        """netscope's own work inside a sampled step (the snapshot's walk, gradient statistics
        at an optimizer step): its reads are not the loop's syncs."""
        self.recorder.paused += 1
        try:
            yield
        finally:
            self.recorder.paused -= 1

    def reset(self) -> None:
        """Forget the events so far (the warm-up step's); taint is kept."""
        self.recorder.syncs.clear()
        self.recorder.copies.clear()

    def take(self) -> tuple[list[syncs.SyncEvent], list[copies.CopyEvent]]:
        """The events of the step just recorded; the interceptors stay on for the next."""
        recorder = self.recorder
        events = recorder.syncs, recorder.copies
        recorder.syncs, recorder.copies = [], []
        return events

    def stop(self) -> tuple[list[syncs.SyncEvent], list[copies.CopyEvent]]:
        self._stopped = True
        if self._modes_aside:  # stopped while aside: the modes are out already
            self._modes_aside = False
            self._modes = []
        try:
            while self._modes:
                self._modes.pop().__exit__(None, None, None)
        finally:
            if self._sync_patch is not None:
                patch, self._sync_patch = self._sync_patch, None
                patch.__exit__(None, None, None)
        return self.recorder.syncs, self.recorder.copies
