"""dtype names as netscope spells them everywhere: ``float32``, as ``--input-dtype`` takes them."""

from __future__ import annotations

import torch

from netscope.engine.errors import NetscopeError


def dtype_name(dtype: torch.dtype) -> str:
    """``float32`` rather than ``torch.float32``."""
    return str(dtype).removeprefix("torch.")


def parse_dtype(name: str) -> torch.dtype:
    """The dtype called ``name`` (``float16``, ``torch.bfloat16``), or a clear error."""
    dtype = getattr(torch, name.removeprefix("torch."), None)
    if not isinstance(dtype, torch.dtype):
        raise NetscopeError(
            f"unknown --input-dtype {name!r}", hint="use e.g. float32, float16, bfloat16, int64"
        )
    return dtype
