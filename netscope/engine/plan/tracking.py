"""Allocation tracking of a planned step: storages created by ops, storages FSDP resizes in place
(its gathered parameters are freed by ``storage.resize_(0)``, not dropped), and which of them
are FSDP's communication buffers (all-gather and reduce-scatter, gathered parameters)."""

from __future__ import annotations

import contextlib
import itertools
import weakref
from collections.abc import Iterator
from functools import partial
from typing import Any

import torch
from torch.utils._python_dispatch import TorchDispatchMode

from netscope.engine.compute.allocations import (
    AllocationTracker,
    allocates,
    output_tensors,
    track,
)
from netscope.engine.meta_kernels import meta_kernels

# torch private: FSDP2's storage helpers and collectives (torch/distributed/fsdp/_fully_shard)
_FSDP_PARAM = "torch.distributed.fsdp._fully_shard._fsdp_param"
_FSDP_GROUP = "torch.distributed.fsdp._fully_shard._fsdp_param_group"
_FUNCTIONAL = "_c10d_functional"  # DTensor's collectives: all_reduce, all_gather_into_tensor...
_PASS_THROUGH = ("wait_tensor", "_wrap_tensor_autograd")  # return their input's buffer
_COMM_FUNCTIONS = ("foreach_all_gather", "foreach_all_gather_copy_out", "foreach_reduce")


class PlanMemory(AllocationTracker):
    """Live bytes with resizes, the phase, and FSDP's communication bytes apart."""

    def __init__(self) -> None:
        self.phase = "forward"
        self.block = ""
        super().__init__(self._where)
        self.in_comm = 0  # inside an FSDP collective: what is created there is a comm buffer
        self.comm: set[int] = set()
        self.comm_current = 0
        # (storage lifetime, bytes added or freed): a lifetime, not the storage's address, since
        # a freed buffer's address is reused by a later storage (a gradient kept at the end)
        self.comm_events: list[tuple[int, int]] = []
        self.lifetimes: dict[int, int] = {}  # storage address -> its current lifetime
        self._lifetime_ids = itertools.count()
        self.collective: set[int] = set()  # outputs of functional collectives (DTensor's, TP)

    def _where(self) -> str:
        return f"{self.phase} ({self.block})" if self.block else self.phase

    def created(self, tensor: torch.Tensor) -> None:
        # a DTensor's own storage is its global size; its local shard is what a rank holds
        local = getattr(tensor, "_local_tensor", None)
        tensor = local if isinstance(local, torch.Tensor) else tensor
        before = self.current
        super().created(tensor)
        if self.in_comm and self.current != before:
            self._comm(tensor.untyped_storage()._cdata, self.current - before)

    def resized(self, tensor: torch.Tensor, nbytes: int) -> None:
        """FSDP's ``alloc_storage`` / ``free_storage``: the same storage, a new size."""
        storage = tensor.untyped_storage()
        key = storage._cdata
        if key in self.known:
            return
        old = self.live.get(key)
        if old is None:
            self.refs[key] = weakref.ref(storage, partial(self._freed, key))
            old = 0
        self.live[key] = nbytes
        self.current += nbytes - old
        self._comm(key, nbytes - old)  # FSDP's gathered parameters
        if self.current > self.peak:
            self.peak = self.current
            self.peak_at = self.where()

    def _lifetime(self, key: int) -> int:
        if key not in self.lifetimes:
            self.lifetimes[key] = next(self._lifetime_ids)
        return self.lifetimes[key]

    def _comm(self, key: int, change: int) -> None:
        self.comm.add(key)
        self.comm_current += change
        self.comm_events.append((self._lifetime(key), change))

    def collective_output(self, tensor: torch.Tensor) -> None:
        """A functional collective's new output (the all-reduce / all-gather of a tensor-
        parallel style): in the communication high water while it lives, not taken off the
        activations (the forward may keep it, as the next block's input)."""
        key = tensor.untyped_storage()._cdata
        if key in self.live and key not in self.comm and key not in self.collective:
            self.collective.add(key)
            self.comm_events.append((self._lifetime(key), self.live[key]))

    def moved(self, source: torch.Tensor, to: torch.Tensor) -> None:
        """``wait_tensor`` returns its input's buffer on a real device (its schema does not say
        so; a fake tensor's is a new storage): the bytes counted for ``source`` now live as
        long as ``to`` does."""
        old, new = source.untyped_storage()._cdata, to.untyped_storage()._cdata
        if old not in self.live or new in self.live or new in self.known:
            return
        self.refs.pop(old, None)  # its weak reference no longer frees anything
        self.live[new] = self.live.pop(old)
        self.refs[new] = weakref.ref(to.untyped_storage(), partial(self._freed, new))
        moved_out = [(self._lifetime(old), -self.live[new]), (self._lifetime(new), self.live[new])]
        self.lifetimes.pop(old, None)
        if old in self.collective:
            self.collective.discard(old)
            self.collective.add(new)
            self.comm_events += moved_out
        elif old in self.comm:
            self.comm.discard(old)
            self.comm.add(new)
            self.comm_events += moved_out

    def _freed(self, key: int, _ref: object = None) -> None:
        if key in self.collective:
            self.collective.discard(key)
            self.comm_events.append((self._lifetime(key), -self.live.get(key, 0)))
        if key in self.comm:
            self.comm.discard(key)
            self.comm_current -= self.live.get(key, 0)
            self.comm_events.append((self._lifetime(key), -self.live.get(key, 0)))
        self.lifetimes.pop(key, None)
        super()._freed(key, _ref)

    def comm_high_water(self, besides: set[int]) -> int:
        """The high water of the communication bytes, storages in ``besides`` left out (the
        reduce-scatter's output that becomes the sharded gradients), by their current lifetime:
        an earlier buffer freed at the same address still counts."""
        left_out = {self.lifetimes[key] for key in besides if key in self.lifetimes}
        live = peak = 0
        for lifetime, change in self.comm_events:
            if lifetime not in left_out:
                live += change
                peak = max(peak, live)
        return peak


class TrackPlan(TorchDispatchMode):
    """The planned step's allocations (entered inside the fake tensor mode)."""

    def __init__(self, memory: PlanMemory) -> None:
        super().__init__()
        self.memory = memory
        self.kernels = meta_kernels()  # where torch's meta functions refuse what CUDA runs

    def __torch_dispatch__(self, func: Any, types: Any, args: Any = (), kwargs: Any = None) -> Any:
        kernel = self.kernels.get(func)
        if kernel is None:
            out = func(*args, **(kwargs or {}))
        else:
            out = kernel(func, *args, **(kwargs or {}))
        functional = func.namespace == _FUNCTIONAL
        if functional and func._overloadpacket.__name__ in _PASS_THROUGH and _one(args, out):
            self.memory.moved(args[0], out)  # the same buffer (a new fake tensor here)
            return out
        track(self.memory, func, out)
        if functional and allocates(func):
            for tensor in output_tensors(out):
                self.memory.collective_output(tensor)
        return out


def _one(args: Any, out: Any) -> bool:
    return isinstance(out, torch.Tensor) and bool(args) and isinstance(args[0], torch.Tensor)


@contextlib.contextmanager
def fsdp_seen(memory: PlanMemory) -> Iterator[None]:
    """FSDP2's storage resizes and collectives report to ``memory``; restored on exit."""
    import importlib

    param, group = importlib.import_module(_FSDP_PARAM), importlib.import_module(_FSDP_GROUP)

    def alloc(tensor: torch.Tensor) -> None:
        size = tensor.numel() * tensor.itemsize
        if tensor.untyped_storage().size() != size:
            tensor.untyped_storage().resize_(size)
            memory.resized(tensor, size)

    def free(tensor: torch.Tensor) -> None:
        if tensor.untyped_storage().size() != 0:
            tensor.untyped_storage().resize_(0)
            memory.resized(tensor, 0)

    def in_comm(function: Any) -> Any:
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            memory.in_comm += 1
            try:
                return function(*args, **kwargs)
            finally:
                memory.in_comm -= 1

        return wrapped

    saved = [(param, "alloc_storage"), (param, "free_storage"), (group, "alloc_storage")]
    saved += [(group, name) for name in _COMM_FUNCTIONS]
    originals = [(module, name, getattr(module, name)) for module, name in saved]
    try:
        for module, name in saved[:3]:
            setattr(module, name, free if name == "free_storage" else alloc)
        for name in _COMM_FUNCTIONS:
            setattr(group, name, in_comm(getattr(group, name)))
        yield
    finally:
        for module, name, original in originals:
            setattr(module, name, original)
