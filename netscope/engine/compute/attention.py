"""Attention counted where it is called: ``F.scaled_dot_product_attention`` runs a fused kernel
on CUDA, another on the CPU (``_scaled_dot_product_flash_attention_for_cpu``, which torch's
FlopCounterMode has no formula for) and the math path (matmuls and a softmax) on meta. Counting
the call itself gives one figure on every device, with ``is_causal`` known. Recurrent layers are
counted at their call the same way (``compute.recurrent``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch
import torch.nn.functional as F
from torch.overrides import TorchFunctionMode

from netscope.engine.compute.counter import StepCounter
from netscope.engine.compute.formulas import attention_flops
from netscope.engine.compute.recurrent import RECURRENT, recurrent_flops
from netscope.engine.torch_internals import next_node_number as _next_node_number

_SDPA = F.scaled_dot_product_attention


def _argument(args: tuple, kwargs: dict, index: int, name: str, default: Any) -> Any:
    if name in kwargs:
        return kwargs[name]
    return args[index] if len(args) > index else default


def _operands(args: tuple, kwargs: dict) -> tuple[Any, Any, Any]:
    """query, key and value, given by position or by keyword."""
    query = _argument(args, kwargs, 0, "query", None)
    return query, _argument(args, kwargs, 1, "key", None), _argument(args, kwargs, 2, "value", None)


def _fused_on_meta(args: tuple, kwargs: dict, causal: bool) -> torch.Tensor | None:
    """On meta, SDPA's math path materializes the score matrix, which CUDA's fused kernels (and
    the CPU's) never hold: run the fused kernel's meta form instead, so the replayed memory is
    the fused kernel's (output and log-sum-exp saved for backward). None: not a fused case."""
    query, key, value = _operands(args, kwargs)
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
    """Counts each SDPA and recurrent call (forward now; backward when its autograd nodes run).

    The ops inside such a call are not counted again (a fused kernel has no formula, the math
    path on meta would count its parts)."""

    def __init__(self, counter: StepCounter) -> None:
        super().__init__()
        self.counter = counter
        counter.calls_mode = self  # a fast Linear's forward steps it aside (compute.fast_linear)

    def __torch_function__(self, func: Any, types: Any, args: Any = (), kwargs: Any = None) -> Any:
        kwargs = kwargs or {}
        if self.counter.paused:
            return func(*args, **kwargs)
        if func is _SDPA:
            return self._attention(func, args, kwargs)
        if func in RECURRENT:
            try:
                forward, backward = recurrent_flops(args)
            except (IndexError, TypeError, ValueError, AttributeError):  # a layout not known:
                return func(*args, **kwargs)  # its kernel is then listed as uncounted
            return self._counted(lambda: func(*args, **kwargs), forward, backward, None)
        return func(*args, **kwargs)

    def _attention(self, func: Any, args: tuple, kwargs: dict) -> Any:
        query, key, value = _operands(args, kwargs)
        if not all(isinstance(t, torch.Tensor) for t in (query, key, value)):
            return func(*args, **kwargs)  # torch raises its own error for the user's call
        causal = bool(_argument(args, kwargs, 5, "is_causal", False))
        try:
            forward, backward = attention_flops(query, key, value, causal)
        except (IndexError, TypeError, ValueError, AssertionError):  # shapes torch will reject
            return func(*args, **kwargs)

        def run() -> Any:
            out = _fused_on_meta(args, kwargs, causal)
            return func(*args, **kwargs) if out is None else out

        return self._counted(run, forward, backward, causal)

    def _counted(
        self, run: Callable[[], Any], forward: int, backward: int, causal: bool | None
    ) -> Any:
        """``run()`` with its parts not counted: the call's own figures stand for them."""
        start = _next_node_number()
        self.counter.in_attention += 1
        try:
            out = run()
        finally:
            self.counter.in_attention -= 1
        self.counter.attention(forward, backward, causal, start, _next_node_number())
        return out
