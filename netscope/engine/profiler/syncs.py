"""Sync points: operations that make the host wait for a device value, named as users write them.

``classify`` answers, for one intercepted torch function call, whether it is a sync and how to name
it. Some syncs never pass through torch's function or dispatch layers (``torch.cuda.synchronize``,
stream and event ``synchronize``); ``patched_synchronize`` wraps those while the detector runs and
restores them in ``finally``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import torch

from netscope.engine.model import SyncFinding
from netscope.engine.profiler.tracking import location_key

WAIT = "the host waits for the device to finish all queued work"
DATA_SHAPE = "the output's size depends on the data, so the host waits for the device to learn it"

# intercepted function name -> (op as the user wrote it, plain-words reason)
SYNC_FUNCTIONS: dict[str, tuple[str, str]] = {
    "item": (".item()", f"reads one value back to Python: {WAIT}"),
    "__float__": ("float(tensor)", f"turns a tensor into a Python number: {WAIT}"),
    "__int__": ("int(tensor)", f"turns a tensor into a Python number: {WAIT}"),
    "__complex__": ("complex(tensor)", f"turns a tensor into a Python number: {WAIT}"),
    "__index__": ("tensor used as an index", f"needs the value as a Python int: {WAIT}"),
    "__bool__": ("bool(tensor) / if tensor:", f"Python branches on a device value: {WAIT}"),
    "is_nonzero": ("torch.is_nonzero", f"returns a Python bool: {WAIT}"),
    "tolist": (".tolist()", f"copies the values into Python lists: {WAIT}"),
    "numpy": (".numpy()", f"a NumPy array needs the data on the host: {WAIT}"),
    "__array__": ("numpy.asarray(tensor)", f"a NumPy array needs the data on the host: {WAIT}"),
    "cpu": (".cpu()", f"copies a device tensor to the host: {WAIT}"),
    "to": ('.to("cpu")', f"copies a device tensor to the host: {WAIT}"),
    "__repr__": ("print / repr(tensor)", f"printing a tensor reads its values: {WAIT}"),
    "__format__": ("f-string / format(tensor)", f"formatting a tensor reads its values: {WAIT}"),
    "nonzero": ("nonzero", DATA_SHAPE),
    "argwhere": ("argwhere", DATA_SHAPE),
    "where": ("torch.where(cond)", DATA_SHAPE),
    "masked_select": ("masked_select", DATA_SHAPE),
    "__getitem__": ("boolean indexing x[mask]", DATA_SHAPE),
    "scalar_index": ("x[tensor] with a 0-dim tensor", f"the index is read as a Python int: {WAIT}"),
    "unique": ("unique", DATA_SHAPE),
    "unique_consecutive": ("unique_consecutive", DATA_SHAPE),
    "repeat_interleave": ("repeat_interleave(tensor repeats)", DATA_SHAPE),
    "equal": ("torch.equal", f"returns a Python bool: {WAIT}"),
    "__contains__": ("value in tensor", f"returns a Python bool: {WAIT}"),
}

# dispatcher-level syncs, caught when a torch function the user called does them internally
SYNC_ATEN: dict[Any, tuple[str, str]] = {
    torch.ops.aten._local_scalar_dense.default: (
        "value read inside a torch call",
        f"the torch function reads a device value back: {WAIT}",
    ),
    torch.ops.aten.nonzero.default: ("nonzero (inside a torch call)", DATA_SHAPE),
    torch.ops.aten.masked_select.default: ("masked_select (inside a torch call)", DATA_SHAPE),
    torch.ops.aten._unique2.default: ("unique (inside a torch call)", DATA_SHAPE),
    torch.ops.aten.equal.default: ("equal (inside a torch call)", f"returns a bool: {WAIT}"),
}

TO_HOST = frozenset({".cpu()", '.to("cpu")'})
READS_HOST = frozenset({".numpy()", ".tolist()", "numpy.asarray(tensor)", ".item()"})
EXPLICIT = "waits explicitly for device work to finish"
WOULD_SYNC = " (would sync on CUDA)"


@dataclass(frozen=True)
class SyncEvent:
    op: str
    reason: str
    block: str
    location: str | None
    stall_s: float | None


def _is_mask(index: Any) -> bool:
    if isinstance(index, torch.Tensor):
        return index.dtype in (torch.bool, torch.uint8)
    if isinstance(index, tuple):
        return any(_is_mask(part) for part in index)
    return False


def _is_scalar_index(index: Any) -> bool:
    """A 0-dim integer tensor in an index: torch reads its value to select (``x[t]``)."""
    if isinstance(index, torch.Tensor):
        return (
            index.dim() == 0
            and index.dtype not in (torch.bool, torch.uint8)
            and (not index.is_floating_point() and index.device.type not in ("cpu", "meta"))
        )
    if isinstance(index, tuple):
        return any(_is_scalar_index(part) for part in index)
    return False


def _to_host(args: tuple, kwargs: dict) -> bool:
    """Is ``Tensor.to(...)`` a blocking copy to the host?"""
    if kwargs.get("non_blocking") or (len(args) > 2 and args[2] is True):
        return False
    target = kwargs.get("device")
    if target is None and len(args) > 1:
        first = args[1]
        target = first.device if isinstance(first, torch.Tensor) else first
    if isinstance(target, (str, torch.device)):
        try:
            return torch.device(target).type == "cpu"
        except RuntimeError:
            return False
    return False


def classify(name: str, args: tuple, kwargs: dict) -> tuple[str, str] | None:
    """``(op, reason)`` when this call (``name`` from ``SYNC_FUNCTIONS``) is a sync, else None."""
    if name == "__getitem__":
        if len(args) > 1 and _is_scalar_index(args[1]):
            return SYNC_FUNCTIONS["scalar_index"]
        return SYNC_FUNCTIONS[name] if len(args) > 1 and _is_mask(args[1]) else None
    if name == "where":
        return SYNC_FUNCTIONS[name] if len(args) == 1 and not kwargs else None
    if name == "to":
        return SYNC_FUNCTIONS[name] if _to_host(args, kwargs) else None
    if name == "repeat_interleave":
        repeats = args[1] if len(args) > 1 else kwargs.get("repeats")
        if not isinstance(repeats, torch.Tensor) or kwargs.get("output_size") is not None:
            return None
    return SYNC_FUNCTIONS[name]


@contextmanager
def patched_synchronize(record: Callable[[str, Callable[[], Any]], Any]) -> Iterator[None]:
    """Route explicit synchronize calls through ``record(op, call)``; restored in ``finally``."""
    targets: list[tuple[Any, str, str]] = [(torch.cuda, "synchronize", "torch.cuda.synchronize()")]
    targets += [
        (torch.cuda.Stream, "synchronize", "stream.synchronize()"),
        (torch.cuda.Event, "synchronize", "event.synchronize()"),
    ]
    accelerator = getattr(torch, "accelerator", None)
    if accelerator is not None and hasattr(accelerator, "synchronize"):
        targets.append((accelerator, "synchronize", "torch.accelerator.synchronize()"))
    saved = [(owner, attr, getattr(owner, attr)) for owner, attr, _ in targets]

    def wrap(original: Callable[..., Any], op: str) -> Callable[..., Any]:
        def synchronize(*args: Any, **kwargs: Any) -> Any:
            return record(op, lambda: original(*args, **kwargs))

        return synchronize

    try:
        for (owner, attr, op), (_, _, original) in zip(targets, saved, strict=True):
            setattr(owner, attr, wrap(original, op))
        yield
    finally:
        for owner, attr, original in saved:
            setattr(owner, attr, original)


def aggregate(events: Iterable[SyncEvent], device: str) -> tuple[SyncFinding, ...]:
    """One finding per (block, line, op), most frequent first; CPU findings say 'would sync'."""
    groups: dict[tuple[str, str | None, str], list[SyncEvent]] = {}
    for event in events:
        groups.setdefault((event.block, event.location, event.op), []).append(event)
    measured = not device.startswith("cpu")
    findings = []
    for (block, location, op), group in groups.items():
        stalls = [e.stall_s for e in group if e.stall_s is not None]
        findings.append(
            SyncFinding(
                op=op,
                reason=group[0].reason + ("" if measured else WOULD_SYNC),
                count=len(group),
                block=block,
                location=location,
                stall_ms=sum(stalls) * 1000.0 if measured and stalls else None,
                device=device,
            )
        )
    findings.sort(key=lambda f: (-(f.stall_ms or 0.0), -f.count, location_key(f.location)))
    return tuple(findings)
