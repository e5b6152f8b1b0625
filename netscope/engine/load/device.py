"""Device names from the command line, resolved with every CUDA call guarded.

On a machine without a GPU (or with a CPU-only torch build) ``torch.cuda`` calls may raise
instead of answering; netscope asks through these helpers so the answer is always plain.
"""

from __future__ import annotations

import re

import torch

from netscope.engine.errors import NetscopeError

_DEVICE_RE = re.compile(r"^(cpu|meta|cuda)(?::(\d+))?$")


def cuda_available() -> bool:
    """True when a CUDA device can be used; False on any failure to find out."""
    try:
        return bool(torch.cuda.is_available())
    except Exception:
        return False


def cuda_device_count() -> int:
    """Number of usable CUDA devices; 0 when CUDA is absent or the query fails."""
    if not cuda_available():
        return 0
    try:
        return int(torch.cuda.device_count())
    except Exception:
        return 0


def cuda_device_name(index: int) -> str | None:
    """The GPU's marketing name, or None when it cannot be read."""
    try:
        return str(torch.cuda.get_device_name(index)) if index < cuda_device_count() else None
    except Exception:
        return None


def _why_no_cuda() -> str:
    if getattr(torch.version, "cuda", None) is None:
        return f"this torch ({torch.__version__}) is a CPU-only build"
    return f"torch {torch.__version__} (CUDA {torch.version.cuda}) finds no CUDA device"


def resolve_device(name: str, option: str = "--device") -> torch.device:
    """Parse ``cpu``, ``meta``, ``cuda`` or ``cuda:N``; refuse CUDA that is not there.

    ``option`` is the flag the name came from, so messages name what the user typed.
    """
    text = (name or "cpu").strip().lower()
    match = _DEVICE_RE.match(text)
    if match is None:
        raise NetscopeError(
            f"unknown device {name!r}", hint=f"use {option} cpu, cuda, cuda:N or meta"
        )
    kind, index = match.group(1), match.group(2)
    if kind != "cuda":
        if index not in (None, "0"):
            raise NetscopeError(f"unknown device {name!r}", hint="use cpu or meta without an index")
        return torch.device(kind)
    count = cuda_device_count()
    if count == 0:
        raise NetscopeError(
            f"{option} {name} was requested but no CUDA GPU is available: {_why_no_cuda()}",
            hint=f"use {option} cpu, or --device meta to see shapes without memory",
        )
    number = int(index) if index is not None else 0
    if number >= count:
        raise NetscopeError(
            f"{option} {name} was requested but only {count} CUDA device(s) exist "
            f"(cuda:0 .. cuda:{count - 1})"
        )
    return torch.device("cuda", number)


def device_label(device: torch.device | str) -> str:
    """``cpu``, ``meta`` or ``cuda:N``: the spelling netscope uses in snapshots and reports."""
    dev = torch.device(device)
    if dev.type == "cuda" and dev.index is None:
        return "cuda:0"
    return str(dev)
