"""Attention counted where it is called: ``F.scaled_dot_product_attention`` runs a fused kernel
on CUDA, another on the CPU (``_scaled_dot_product_flash_attention_for_cpu``, which torch's
FlopCounterMode has no formula for) and the math path (matmuls and a softmax) on meta. Counting
the call itself gives one figure on every device, with ``is_causal`` known.
"""

from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F
from torch.overrides import TorchFunctionMode

from netscope.engine.compute.counter import StepCounter
from netscope.engine.compute.formulas import attention_flops
from netscope.engine.torch_internals import next_node_number as _next_node_number

_SDPA = F.scaled_dot_product_attention


def _argument(args: tuple, kwargs: dict, index: int, name: str, default: Any) -> Any:
    if name in kwargs:
        return kwargs[name]
    return args[index] if len(args) > index else default


def _fused_on_meta(args: tuple, kwargs: dict, causal: bool) -> torch.Tensor | None:
    """On meta, SDPA's math path materializes the score matrix, which CUDA's fused kernels (and
    the CPU's) never hold: run the fused kernel's meta form instead, so the replayed memory is
    the fused kernel's (output and log-sum-exp saved for backward). None: not a fused case."""
    query, key, value = args[0], args[1], args[2]
    dropout = _argument(args, kwargs, 4, "dropout_p", 0.0)
    mask = _argument(args, kwargs, 3, "attn_mask", None)
    if query.device.type != "meta" or dropout or query.dim() != 4 or (causal and mask is not None):
        return None
    heads, kv_heads = query.shape[1], key.shape[1]
    if kv_heads != value.shape[1] or heads % max(kv_heads, 1) or query.dtype != key.dtype:
        return None  # grouped-query attention (kv heads dividing q heads) is the fused form's
    fused = torch.ops.aten._scaled_dot_product_flash_attention_for_cpu
    scale = kwargs.get("scale")
    try:
        return fused(query, key, value, 0.0, causal, attn_mask=mask, scale=scale)[0]
    except (RuntimeError, TypeError, ValueError):  # a mask or layout the fused form rejects
        return None


class AttentionCalls(TorchFunctionMode):
    """Counts each SDPA call (forward now; backward when its autograd nodes run)."""

    def __init__(self, counter: StepCounter) -> None:
        super().__init__()
        self.counter = counter

    def __torch_function__(self, func: Any, types: Any, args: Any = (), kwargs: Any = None) -> Any:
        kwargs = kwargs or {}
        if func is not _SDPA or self.counter.paused:
            return func(*args, **kwargs)
        query, key, value = args[0], args[1], args[2]
        causal = bool(_argument(args, kwargs, 5, "is_causal", False))
        forward, backward = attention_flops(query, key, value, causal)
        start = _next_node_number()
        self.counter.in_attention += 1
        try:
            out = _fused_on_meta(args, kwargs, causal)
            if out is None:
                out = func(*args, **kwargs)
        finally:
            self.counter.in_attention -= 1
        self.counter.attention(forward, backward, causal, start, _next_node_number())
        return out
