"""Host-device copies: what one copy event is, how its direction is named, how they aggregate.

The detector (``detect.py``) sees copies at two levels: the dispatcher (``aten._to_copy``,
``aten.copy_``, ``aten._copy_from``) for every tensor that moves, and the Python level for
``torch.tensor(data, device=...)``-style calls that build a device tensor from host data without
ever dispatching a copy. This module turns both into ``CopyEvent`` and then ``CopyFinding``.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import torch

from netscope.engine.model import CopyFinding
from netscope.engine.profiler.tracking import location_key

MANY_SMALL_CALLS = 8  # this many copies from one line in one step ...
MANY_SMALL_MEAN_BYTES = 256 * 1024  # ... of this size or less on average: batch them instead

# aten overloads whose source and destination may be on different devices
COPY_OPS: dict[Any, str] = {
    torch.ops.aten._to_copy.default: "to_copy",
    torch.ops.aten.copy_.default: "copy_",
    torch.ops.aten._copy_from.default: "copy_from",
    torch.ops.aten._copy_from_and_resize.default: "copy_from",
}

# Python-level constructors that take host data and a device: never a dispatched copy
CREATION_FUNCTIONS = frozenset({"tensor", "as_tensor", "asarray", "new_tensor"})


@dataclass(frozen=True)
class CopyEvent:
    direction: str
    bytes: int
    dtype: str
    pinned: bool | None
    non_blocking: bool
    block: str
    location: str | None


def _side(device: torch.device) -> str:
    if device.type == "cpu":
        return "H"
    if device.type == "meta":
        return "META"
    return "D"


def direction(src: torch.device, dst: torch.device) -> str | None:
    """``H2D``, ``D2H``, ``D2D`` (two devices), ``H2META``, ``META2D``...; None when no move."""
    if src == dst:
        return None
    a, b = _side(src), _side(dst)
    if a == b and a != "D":
        return None
    return f"{a}2{b}"


def is_pinned(tensor: torch.Tensor) -> bool | None:
    """Pinned host memory? None for device tensors or where the build cannot tell."""
    if tensor.device.type != "cpu":
        return None
    try:
        return bool(tensor.is_pinned())
    except (RuntimeError, AssertionError):  # CPU-only builds may refuse to ask
        return None


def dispatch_copy(func: Any, args: tuple, kwargs: dict) -> tuple[torch.Tensor, torch.device, bool]:
    """``(source tensor, destination device, non_blocking)`` of a dispatched copy op."""
    kind = COPY_OPS[func]
    if kind == "to_copy":
        src = args[0]
        device = kwargs.get("device") or src.device
        return src, torch.device(device), bool(kwargs.get("non_blocking", False))
    if kind == "copy_":
        dst, src = args[0], args[1]
        non_blocking = args[2] if len(args) > 2 else kwargs.get("non_blocking", False)
        return src, dst.device, bool(non_blocking)
    src, dst = args[0], args[1]
    non_blocking = args[2] if len(args) > 2 else kwargs.get("non_blocking", False)
    return src, dst.device, bool(non_blocking)


def creation_target(name: str, args: tuple, kwargs: dict) -> torch.device | None:
    """Where ``torch.tensor(data, device=...)``-style calls put host data; None: no copy."""
    if name == "new_tensor":
        device = kwargs.get("device") or args[0].device
        data = args[1] if len(args) > 1 else kwargs.get("data")
    else:
        device = kwargs.get("device")
        data = args[0] if args else kwargs.get("data", kwargs.get("obj"))
    if device is None or isinstance(data, torch.Tensor):
        return None  # a tensor argument is moved by a dispatched copy, counted there
    device = torch.device(device)
    return device if direction(torch.device("cpu"), device) else None


def aggregate(events: Iterable[CopyEvent]) -> tuple[CopyFinding, ...]:
    """One finding per (block, line, direction), largest first; many small copies flagged."""
    groups: dict[tuple[str, str | None, str], list[CopyEvent]] = {}
    for event in events:
        groups.setdefault((event.block, event.location, event.direction), []).append(event)
    findings = []
    for (block, location, way), group in groups.items():
        total = sum(e.bytes for e in group)
        dtypes = sorted({e.dtype for e in group})
        pinned = {e.pinned for e in group}
        findings.append(
            CopyFinding(
                direction=way,
                bytes=total,
                count=len(group),
                dtype=",".join(dtypes),
                pinned=pinned.pop() if len(pinned) == 1 else None,
                non_blocking=all(e.non_blocking for e in group),
                block=block,
                location=location,
                many_small=len(group) >= MANY_SMALL_CALLS
                and total / len(group) <= MANY_SMALL_MEAN_BYTES,
            )
        )
    findings.sort(key=lambda f: (-f.bytes, -f.count, location_key(f.location)))
    return tuple(findings)
