"""Reuse the result metadata of meta-device ops that were already computed with the same inputs.

Many meta kernels are Python decompositions (about a millisecond per op), and a large model
repeats the same layer dozens of times with the same shapes: a 70B decoder runs each of its 80
layers' ops with identical inputs. On meta an op's result is nothing but its metadata, so a
functional op (one that neither mutates nor aliases its inputs, per its schema, and whose first
result shares no input's storage: ``_unsafe_view``'s schema declares no alias) called again with
the same input metadata and arguments gets a fresh meta tensor of the remembered shape, strides
and dtype instead of running the kernel again. Anything else runs as usual, through
``meta_kernels`` where torch's meta registration refuses what the real kernels run.
"""

from __future__ import annotations

from typing import Any

import torch
from torch.utils._python_dispatch import TorchDispatchMode

from netscope.engine.meta_kernels import meta_kernels

_PLAIN: tuple[type, ...] = (bool, int, float, str, type(None), torch.dtype, torch.device)
_PLAIN += (torch.layout, torch.memory_format)
TensorMeta = tuple[tuple[int, ...], tuple[int, ...], torch.dtype]


def _functional(func: Any) -> bool:
    """True when the op's schema says it writes no input and returns only new tensors."""
    schema = getattr(func, "_schema", None)
    if schema is None:
        return False
    if any(arg.alias_info is not None for arg in schema.arguments):
        return False
    returns = schema.returns
    return bool(returns) and all(
        ret.alias_info is None and str(ret.type) == "Tensor" for ret in returns
    )


def _key(value: Any) -> Any:
    """A hashable description of an argument, or raise TypeError when it has none."""
    if isinstance(value, torch.Tensor):
        if value.device.type != "meta" or value.is_sparse or value.is_quantized:
            raise TypeError("only plain meta tensors")
        return ("T", tuple(value.shape), value.stride(), value.storage_offset(), value.dtype)
    if isinstance(value, _PLAIN):
        return (type(value), value)
    if isinstance(value, (list, tuple)):
        return (type(value), tuple(_key(item) for item in value))
    raise TypeError(f"no key for {type(value).__name__}")


class MetaResultCache(TorchDispatchMode):
    """A dispatch mode for a meta forward that computes each distinct functional op once."""

    def __init__(self) -> None:
        super().__init__()
        self.results: dict[Any, tuple[TensorMeta, ...]] = {}
        self.functional: dict[Any, bool] = {}
        self.hits = 0
        self.kernels = meta_kernels()

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        kwargs = kwargs or {}
        key = self._cache_key(func, args, kwargs)
        remembered = self.results.get(key) if key is not None else None
        if remembered is not None:
            self.hits += 1
            outs = tuple(
                torch.empty_strided(shape, stride, dtype=dtype, device="meta")
                for shape, stride, dtype in remembered
            )
            return outs[0] if len(outs) == 1 and not _returns_tuple(func) else outs
        kernel = self.kernels.get(func)
        result = func(*args, **kwargs) if kernel is None else kernel(func, *args, **kwargs)
        if key is not None:
            if _aliases_an_input(result, args):
                # a view its schema does not declare (aten._unsafe_view): a fresh tensor in its
                # place would free the input's storage early in every memory replay on meta
                self.functional[func] = False
                return result
            described = _describe(result)
            if described is not None:
                self.results[key] = described
        return result

    def _cache_key(self, func: Any, args: tuple, kwargs: dict) -> Any:
        functional = self.functional.get(func)
        if functional is None:
            functional = self.functional[func] = _functional(func)
        if not functional:
            return None
        try:
            return (func, _key(args), _key(tuple(sorted(kwargs.items()))))
        except TypeError:
            return None


def _aliases_an_input(result: Any, args: tuple) -> bool:
    """Does an output share its storage with a tensor argument?"""
    outs = result if isinstance(result, tuple) else (result,)
    storages = {
        arg.untyped_storage()._cdata
        for arg in args
        if isinstance(arg, torch.Tensor) and arg.device.type == "meta"
    }
    return any(
        isinstance(out, torch.Tensor) and out.untyped_storage()._cdata in storages for out in outs
    )


def _returns_tuple(func: Any) -> bool:
    return len(func._schema.returns) > 1


def _describe(result: Any) -> tuple[TensorMeta, ...] | None:
    outs = result if isinstance(result, tuple) else (result,)
    described = []
    for out in outs:
        if not isinstance(out, torch.Tensor) or out.device.type != "meta":
            return None
        if out.storage_offset() != 0:
            return None
        described.append((tuple(out.shape), out.stride(), out.dtype))
    return tuple(described)
