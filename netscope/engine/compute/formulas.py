"""FLOP formulas: torch's own (``torch.utils.flop_counter``) wherever it has one, plus the ops it
leaves out (MoE's ``_grouped_mm``) and attention counted the same way on every device.

FLOPs are 2 x multiply-adds, FlopCounterMode's convention. Only matrix products, convolutions
and attention are counted; every other op that computes something is listed by name and count
as "uncounted", and ops that only move, view or create data are neither.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import torch
from torch.utils import flop_counter

Formula = Callable[..., int]

_ATEN = torch.ops.aten


def _grouped_mm_flops(mat_a: Any, mat_b: Any, *_args: Any, out_val: Any = None, **_kw: Any) -> int:
    """``aten._grouped_mm``: 2 x output elements x the contracted length of each group.

    (T, K) x (G, K, N), (G, M, K) x (G, K, N) and (G, M, K) x (K, N_total) contract K for every
    output element; (M, T) x (T, N) with offsets over T (a weight gradient) splits T among the
    G groups of its (G, M, N) output, so each element contracts T / G on average.
    """
    out = out_val[0] if isinstance(out_val, (tuple, list)) else out_val
    contracted = int(mat_a.shape[-1])
    flops = 2 * out.numel() * contracted
    if mat_a.dim() == 2 and mat_b.dim() == 2 and out.dim() == 3:
        flops //= max(int(out.shape[0]), 1)
    return int(flops)


def _matmul_flops(a: Any, b: Any) -> int:
    """``2 x m x k x n`` (batched: times the batch), as torch's ``mm_flop``/``bmm_flop``."""
    *batch, m, k = a.shape
    n = b.shape[-1]
    return 2 * math.prod(batch) * m * k * n


def _mm(a: Any, b: Any, *_args: Any, out_val: Any = None, **_kw: Any) -> int:
    return _matmul_flops(a, b)


def _addmm(_bias: Any, a: Any, b: Any, *_args: Any, out_val: Any = None, **_kw: Any) -> int:
    return _matmul_flops(a, b)


def _conv_backward(*args: Any, **kwargs: Any) -> int:
    """torch's ``convolution_backward`` formula, with the weight gradient divided by ``groups``:
    each output channel's gradient contracts only its own group's input channels (torch's counts
    every input channel: a depthwise conv's backward read 129 x its forward at 128 channels)."""
    torch_formula = flop_counter.conv_backward_flop.__wrapped__  # type: ignore[attr-defined]
    groups = max(int(args[9]), 1)
    mask = args[10]
    data_grad = torch_formula(*args[:10], [mask[0], False, False], **kwargs)
    if not mask[1]:
        return int(data_grad)
    weight_grad = torch_formula(*args[:10], [False, True, False], **kwargs)
    return int(data_grad + weight_grad // groups)


# torch's formulas for these call each other through its shape wrapper (a pytree walk per
# call: 80 us for an addmm); the same arithmetic here, checked equal by the tests
_DIRECT: dict[Any, Formula] = {_ATEN.mm: _mm, _ATEN.bmm: _mm, _ATEN.addmm: _addmm,
                               _ATEN.baddbmm: _addmm}  # fmt: skip


def registry() -> dict[Any, Formula]:
    """Packet -> formula: torch's registry, with the ops netscope adds."""
    table: dict[Any, Formula] = {**flop_counter.flop_registry, **_DIRECT}
    table[_ATEN.convolution_backward] = flop_counter.shape_wrapper(_conv_backward)
    grouped = getattr(_ATEN, "_grouped_mm", None)
    if grouped is not None:
        table[grouped] = _grouped_mm_flops
    return table


def attention_shapes(query: torch.Tensor, key: torch.Tensor, value: torch.Tensor) -> tuple:
    """(b, h, s, d) shapes of SDPA's operands: leading dims beyond two fold into the batch."""

    def four(t: torch.Tensor) -> tuple[int, int, int, int]:
        shape = tuple(int(n) for n in t.shape)
        if len(shape) == 3:
            return (shape[0], 1, shape[1], shape[2])
        if len(shape) == 2:
            return (1, 1, shape[0], shape[1])
        return (math.prod(shape[:-3]), shape[-3], shape[-2], shape[-1])

    return four(query), four(key), four(value)


def causal_fraction(queries: int, keys: int) -> float:
    """Share of the score matrix ``is_causal=True`` keeps: torch's mask is ``tril(ones(L, S))``."""
    if queries <= 0 or keys <= 0:
        return 1.0
    kept = sum(min(i + 1, keys) for i in range(queries)) if queries < 100_000 else None
    if kept is None:  # closed form for very long sequences
        full_rows = max(queries - keys, 0)
        ramp = min(queries, keys)
        kept = ramp * (ramp + 1) // 2 + full_rows * keys
    return kept / (queries * keys)


def attention_flops(
    query: torch.Tensor, key: torch.Tensor, value: torch.Tensor, causal: bool
) -> tuple[int, int]:
    """(forward, backward) FLOPs of one SDPA call, with torch's flash formulas.

    Causal attention counts the kept part of the score matrix: the work a causal kernel does.
    """
    q, k, v = attention_shapes(query, key, value)
    if q[1] % max(k[1], 1):  # heads that do not divide: no formula; count as full heads
        k = (k[0], q[1], k[2], k[3])
        v = (v[0], q[1], v[2], v[3])
    forward = flop_counter.sdpa_flop_count(q, k, v)
    out = (q[0], q[1], q[2], v[3])
    backward = flop_counter.sdpa_backward_flop_count(out, q, k, v)
    if causal:
        share = causal_fraction(q[2], k[2])
        forward, backward = round(forward * share), round(backward * share)
    return int(forward), int(backward)


# Ops that move, view, create or select data without arithmetic: not "uncounted".
DATA_OPS = frozenset({
    "clone", "copy_", "copy", "_to_copy", "to", "empty", "empty_like", "empty_strided", "zeros",
    "zeros_like", "ones", "ones_like", "full", "full_like", "fill_", "fill", "zero_", "cat",
    "stack", "index", "index_select", "gather", "scatter", "scatter_", "embedding", "detach",
    "lift_fresh", "lift_fresh_copy", "new_empty", "new_zeros", "new_ones", "new_full",
    "new_empty_strided", "arange", "scalar_tensor", "_unsafe_view", "contiguous", "slice",
    "select", "split", "t", "transpose", "permute", "expand", "view", "reshape", "squeeze",
    "unsqueeze", "flatten", "repeat", "constant_pad_nd", "masked_fill", "masked_fill_",
    "where", "tril", "triu", "_local_scalar_dense", "split_with_sizes", "unbind", "narrow",
    "roll", "flip", "index_put", "index_put_", "_index_put_impl_", "randn", "rand", "randint",
    "normal_", "uniform_", "bernoulli_", "bernoulli", "alias", "as_strided", "slice_scatter",
    "select_scatter", "_unsafe_index", "eq", "ne", "lt", "le", "gt", "ge", "logical_not",
    "logical_and", "logical_or", "_to_dtype", "resize_", "set_", "_reshape_alias", "unfold",
    "expand_as", "view_as", "select_backward", "slice_backward", "_unsafe_split",
    "repeat_interleave", "linspace", "sort", "argmax", "argmin", "topk", "nonzero", "one_hot",
    "masked_select", "_assert_async", "_assert_tensor_metadata", "sym_constrain_range_for_size",
    "is_nonzero", "_has_compatible_shallow_copy_type", "empty_permuted", "_foreach_copy_",
    "diagonal", "movedim", "unsafe_split", "chunk", "tensor_split", "_pin_memory",
    "pin_memory", "record_stream", "_foreach_zero_",
})  # fmt: skip
