"""Bytes a step allocates and frees, from the storages its ops create (any device, meta too).

Every tensor an op returns that is not a view or an in-place result owns a new storage: its
bytes are added when the op returns and taken off when the storage is freed (a weakref
callback). On the CPU and CUDA that is what the step allocates through torch's ops; on meta it
is an estimate by replay: the same ops create the same storages with no memory behind them.
Buffers a kernel allocates and frees inside itself are not seen (docs/compute.md).
"""

from __future__ import annotations

import weakref
from collections.abc import Callable, Iterable
from functools import partial
from typing import Any

import torch
from torch.utils._python_dispatch import TorchDispatchMode


def local_tensor(tensor: torch.Tensor) -> torch.Tensor:
    """A DTensor's local shard (what this rank holds), else the tensor itself."""
    local = getattr(tensor, "_local_tensor", None)
    return local if isinstance(local, torch.Tensor) else tensor


PLAIN_TYPES = (torch.Tensor, torch.nn.Parameter)  # neither a DTensor nor lazy (most tensors)


def storage_of(tensor: torch.Tensor) -> Any:
    """The untyped storage behind a tensor (a DTensor's local shard's); None for sparse, nested
    or quantized tensors. A plain tensor skips the DTensor lookup."""
    try:
        return (tensor if type(tensor) in PLAIN_TYPES else local_tensor(tensor)).untyped_storage()
    except Exception:  # sparse, nested, quantized or lazy (uninitialized) tensors
        return None


def storage_key(tensor: torch.Tensor) -> tuple[int, int] | None:
    """(storage id, bytes) of a tensor's storage (``storage_of``); None where it has none."""
    storage = storage_of(tensor)
    return None if storage is None else (storage._cdata, storage.nbytes())


def storage_keys(tensors: Iterable[torch.Tensor]) -> dict[int, int]:
    """Storage id -> bytes of the storages behind ``tensors``, each once (ties, views)."""
    seen: dict[int, int] = {}
    for tensor in tensors:
        storage = storage_of(tensor)
        if storage is not None:
            seen[storage._cdata] = storage.nbytes()
    return seen


def unique_bytes(tensors: Iterable[torch.Tensor]) -> int:
    """Bytes of the storages behind ``tensors``, each storage once (ties, views)."""
    return sum(storage_keys(tensors).values())


class AllocationTracker:
    """Live bytes above the step's start and their high-water mark, with where it was reached."""

    def __init__(self, where: Callable[[], str]) -> None:
        self.where = where  # "forward (block)", asked only when a new peak is reached
        self.live: dict[int, int] = {}
        self.current = 0
        self.peak = 0
        self.peak_at = ""
        self.known: set[int] = set()  # storages that existed before the step (never counted)
        self.refs: dict[int, weakref.ref] = {}  # a storage's weak reference calls _freed

    def know(self, tensors: Iterable[torch.Tensor]) -> None:
        for tensor in tensors:
            key = storage_key(tensor)
            if key is not None:
                self.known.add(key[0])

    def reset_peak(self) -> None:
        """A new phase starts from what is live now."""
        self.peak = self.current
        self.peak_at = self.where()

    def created(self, tensor: torch.Tensor) -> None:
        storage = storage_of(tensor)
        if storage is None:
            return
        key = storage._cdata
        if key in self.live or key in self.known:
            return
        nbytes = storage.nbytes()
        self.live[key] = nbytes
        self.current += nbytes
        self.refs[key] = weakref.ref(storage, partial(self._freed, key))
        if self.current > self.peak:
            self.peak = self.current
            self._reached_peak()

    def _reached_peak(self) -> None:
        self.peak_at = self.where()

    def stop(self) -> None:
        """The step is over: what it frees from now on is not its figure. Its weak references
        go, and with them a callback per storage (20,000 blocks: the 40,000 gradients freed when
        the snapshot puts the user's ``.grad`` back). ``peak`` and ``current`` stay as read."""
        self.refs.clear()
        self.live.clear()

    def _freed(self, key: int, _ref: object = None) -> None:
        self.refs.pop(key, None)
        nbytes = self.live.pop(key, 0)
        self.current -= nbytes


class StepAllocations(AllocationTracker):
    """The counted step's tracker: where a new peak is reached is kept as a token (``place()``:
    the phase and the blocks running) and named by ``describe`` only when ``peak_at`` is read.

    In a forward every new output is a new peak: naming the block there (a path lookup and a
    format) was a third of the tracker's cost on 20,000 tiny blocks. The figures are the base
    class's.
    """

    def __init__(self, place: Callable[[], Any], describe: Callable[[Any], str]) -> None:
        self.place = place
        self.describe = describe
        self._token: Any = None
        self._named = ""
        super().__init__(place)

    @property  # type: ignore[override]
    def peak_at(self) -> str:
        if self._token is not None:
            self._named, self._token = self.describe(self._token), None
        return self._named

    @peak_at.setter
    def peak_at(self, value: Any) -> None:
        """``reset_peak`` sets a token from ``where`` (= ``place``); a string names itself."""
        if isinstance(value, str):
            self._named, self._token = value, None
        else:
            self._token = value

    def _reached_peak(self) -> None:
        self._token = self.place()


def output_tensors(out: Any) -> list[torch.Tensor]:
    """The tensors an op returned (one, or a tuple/list of them)."""
    if isinstance(out, torch.Tensor):
        return [out]
    if isinstance(out, (tuple, list)):
        return [t for t in out if isinstance(t, torch.Tensor)]
    return []


# Views whose schema says nothing of the alias: the CPU and CUDA return the input's storage
# (counted once by its id), meta a new storage, which would count the bytes twice.
UNANNOTATED_VIEWS = frozenset({"_unsafe_view"})


def allocates(func: Any) -> bool:
    """Whether an op's outputs own new storages (not a view, an in-place or an out= result)."""
    if func._overloadpacket.__name__ in UNANNOTATED_VIEWS:
        return False
    return not any(ret.alias_info is not None for ret in func._schema.returns)


def track(memory: AllocationTracker, func: Any, out: Any) -> None:
    """Count the new storages an op returned (a view or an in-place result has none)."""
    if not allocates(func):
        return
    for tensor in output_tensors(out):
        memory.created(tensor)


class TrackAllocations(TorchDispatchMode):
    """Allocation tracking alone (an optimizer step replayed on meta)."""

    @classmethod
    def _should_skip_dynamo(cls) -> bool:
        return False  # no dynamo wrapper per op: nothing under this mode is compiled

    def __init__(self, where: str) -> None:
        super().__init__()
        self.memory = AllocationTracker(lambda: where)

    def __torch_dispatch__(self, func: Any, types: Any, args: Any = (), kwargs: Any = None) -> Any:
        out = func(*args, **(kwargs or {}))
        track(self.memory, func, out)
        return out
