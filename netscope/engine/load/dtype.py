"""``--dtype``: the model's floating parameters and buffers (and the example's floating
tensors) cast before the step, so "what if in bf16" is one flag."""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

from netscope.engine.errors import NetscopeError
from netscope.engine.nested import map_tensors

DTYPES = {"bfloat16": torch.bfloat16, "float16": torch.float16, "float32": torch.float32}


def resolve_dtype(name: str) -> torch.dtype:
    try:
        return DTYPES[name]
    except KeyError:
        raise NetscopeError(
            f"--dtype {name}: not a dtype netscope casts to", hint=f"one of {', '.join(DTYPES)}"
        ) from None


def cast_model(model: nn.Module, name: str | None) -> nn.Module:
    """``model.to(dtype)``: floating tensors only (integer buffers keep their dtype)."""
    return model if name is None else model.to(dtype=resolve_dtype(name))


def cast_value(value: Any, name: str | None) -> Any:
    """Floating tensors in a nested argument structure (``nested.map_tensors``: named tuples
    and dicts too) cast to ``name``; other tensors and values as they were."""
    if name is None:
        return value
    dtype = resolve_dtype(name)
    return map_tensors(lambda t: t.to(dtype) if t.is_floating_point() else t, value)
