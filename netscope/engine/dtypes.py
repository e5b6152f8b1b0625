"""dtype names as netscope spells them everywhere: ``float32``, as ``--input-dtype`` takes them."""

from __future__ import annotations

import torch

from netscope.engine.errors import NetscopeError

_NAMES: dict[torch.dtype, str] = {}
_DEVICE_NAMES: dict[torch.device, str] = {}


def dtype_name(dtype: torch.dtype) -> str:
    """``float32`` rather than ``torch.float32`` (cached: called per tensor and per output)."""
    name = _NAMES.get(dtype)
    if name is None:
        name = _NAMES[dtype] = str(dtype).removeprefix("torch.")
    return name


def device_name(device: torch.device) -> str:
    """``cpu``, ``cuda:0``: ``str(device)``, cached (called for each of 40,000 tensors)."""
    name = _DEVICE_NAMES.get(device)
    if name is None:
        name = _DEVICE_NAMES[device] = str(device)
    return name


def parse_dtype(name: str) -> torch.dtype:
    """The dtype called ``name`` (``float16``, ``torch.bfloat16``), or a clear error."""
    dtype = getattr(torch, name.removeprefix("torch."), None)
    if not isinstance(dtype, torch.dtype):
        raise NetscopeError(
            f"unknown --input-dtype {name!r}", hint="use e.g. float32, float16, bfloat16, int64"
        )
    return dtype
