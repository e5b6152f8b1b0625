"""The example input: the file's ``example_input()`` or a tensor from ``--input-shape``."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import torch

from netscope.engine.dtypes import parse_dtype
from netscope.engine.errors import NetscopeError, display_path, wrap_user_error
from netscope.engine.load.loaded import ExampleInput


def synthesize(shape: tuple[int, ...], dtype_name: str) -> ExampleInput:
    """A seeded random tensor: normal for floating dtypes, small integers (token ids) otherwise."""
    dtype = parse_dtype(dtype_name)
    generator = torch.Generator().manual_seed(0)
    if dtype.is_floating_point:
        tensor = torch.randn(shape, generator=generator).to(dtype)
    elif dtype == torch.bool:
        tensor = torch.zeros(shape, dtype=torch.bool)
    else:
        tensor = torch.randint(0, 10, shape, generator=generator, dtype=dtype)
    origin = f"--input-shape {','.join(map(str, shape))} --input-dtype {dtype_name}"
    return ExampleInput(args=(tensor,), origin=origin)


def from_function(fn: Callable[[], Any], path: str) -> ExampleInput:
    """Call ``example_input()``: a Tensor, a tuple/list (positional) or a dict (keyword args)."""
    shown = display_path(path)
    try:
        value = fn()
    except (Exception, SystemExit) as exc:  # user code may call sys.exit()
        raise wrap_user_error(exc, f"example_input() in {shown} raised", path) from exc
    origin = "example_input()"
    code = getattr(fn, "__code__", None)
    where = f"{shown}:{code.co_firstlineno}" if code is not None else None
    if isinstance(value, torch.Tensor):
        return ExampleInput(args=(value,), origin=origin, location=where)
    if isinstance(value, (tuple, list)):
        return ExampleInput(
            args=tuple(value), origin=origin, from_list=isinstance(value, list), location=where
        )
    if isinstance(value, Mapping):
        kwargs = {str(k): v for k, v in value.items()}
        return ExampleInput(kwargs=kwargs, origin=origin, location=where)
    raise NetscopeError(
        f"example_input() in {shown} returned {type(value).__name__}; "
        "expected a Tensor, a tuple/list of positional arguments or a dict of keyword arguments",
        path=path,
    )


def batch_of(example: ExampleInput) -> Any:
    """What ``loss(output, batch)`` receives: the value example_input() returned, rebuilt."""
    if example.kwargs:
        return dict(example.kwargs)
    if example.from_list:
        return list(example.args)
    return example.args[0] if len(example.args) == 1 else example.args


def describe(example: ExampleInput) -> str:
    """``tensor(2, 20) float32`` style summary for the UI and reports."""

    def one(value: Any) -> str:
        if isinstance(value, torch.Tensor):
            dims = ", ".join(map(str, value.shape))
            return f"tensor({dims}) {str(value.dtype).removeprefix('torch.')}"
        if isinstance(value, (list, tuple)) and value:
            shown = [one(v) for v in value]
            if len(set(shown)) == 1:
                return f"{type(value).__name__}[{len(shown)} x {shown[0]}]"
            more = ", ..." if len(shown) > 3 else ""
            return f"{type(value).__name__}[{', '.join(shown[:3])}{more}]"
        return type(value).__name__

    parts = [one(v) for v in example.args] + [f"{k}={one(v)}" for k, v in example.kwargs.items()]
    return f"{', '.join(parts)} from {example.origin}" if example.origin else ", ".join(parts)
