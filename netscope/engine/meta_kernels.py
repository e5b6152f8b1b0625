"""Meta kernels for ops whose torch meta registration refuses what the real kernels run.

``aten._grouped_mm`` (transformers' default MoE experts, Mixtral, Qwen-MoE...): torch's meta
registration still checks the first CUDA kernel's rule, bfloat16 only, while the CPU kernel (and
CUDA's fallback) multiply float32 and float16 too. A float32 Mixtral therefore ran on the CPU but
not on meta. The output's shape does not depend on the routing: the kernel returns one row per
(token, chosen expert) pair, however the tokens split over the experts (the offsets only say where
each expert's rows end), so its bytes and FLOPs on meta are those of any real routing.

Used by ``light_meta_forward`` (meta tensors) and the plan's replay (``plan/tracking.py``: fake
tensors, whose shapes come from the same meta functions); a tensor holding data goes to torch.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch

_FLOATS = (torch.float32, torch.float16, torch.bfloat16)


def holds_no_data(tensor: torch.Tensor) -> bool:
    """A meta tensor or a fake tensor (torch's FakeTensorMode): only shapes, from meta kernels."""
    from torch._subclasses.fake_tensor import FakeTensor

    return tensor.device.type == "meta" or isinstance(tensor, FakeTensor)


def _grouped_mm_shape(mat_a: torch.Tensor, mat_b: torch.Tensor, offs: Any) -> list[int]:
    """The output shape of ``_grouped_mm``, as torch's own meta function computes it."""
    if mat_a.dim() == 2 and mat_b.dim() == 2:  # a weight gradient: one (M, N) block per group
        if offs is None:
            raise RuntimeError("grouped_mm of two 2-D matrices needs offs")
        return [int(offs.shape[0]), int(mat_a.shape[0]), int(mat_b.shape[1])]
    if mat_a.dim() == 2:  # (tokens, K) x (groups, K, N): one row per routed token
        return [int(mat_a.shape[0]), int(mat_b.shape[-1])]
    if mat_b.dim() == 2:  # (groups, M, K) x (K, N total)
        return [int(mat_a.shape[1]), int(mat_b.shape[1])]
    return [int(mat_a.shape[0]), int(mat_a.shape[1]), int(mat_b.shape[-1])]


def grouped_mm(
    original: Any,
    mat_a: torch.Tensor,
    mat_b: torch.Tensor,
    offs: torch.Tensor | None = None,
    bias: torch.Tensor | None = None,
    out_dtype: torch.dtype | None = None,
) -> torch.Tensor:
    """``aten._grouped_mm`` on meta or fake tensors for float32/float16 (bfloat16 and tensors
    holding data go to torch). Called inside a dispatch mode: on fake tensors the fake mode is
    still on the stack, so the empty result is a fake tensor on the operands' device."""
    refused = mat_a.dtype != torch.bfloat16 or mat_b.dtype != torch.bfloat16
    no_data = holds_no_data(mat_a) and holds_no_data(mat_b)
    if not (refused and no_data and mat_a.dtype in _FLOATS and mat_b.dtype == mat_a.dtype):
        return original(mat_a, mat_b, offs=offs, bias=bias, out_dtype=out_dtype)
    if mat_a.dim() not in (2, 3) or mat_b.dim() not in (2, 3):
        dims = f"{mat_a.dim()}-D and {mat_b.dim()}-D"
        raise RuntimeError(f"grouped_mm takes 2-D or 3-D operands, not {dims}")
    if mat_a.shape[-1] != mat_b.shape[-2]:
        raise RuntimeError(f"grouped_mm: contraction {mat_a.shape[-1]} != {mat_b.shape[-2]}")
    shape = _grouped_mm_shape(mat_a, mat_b, offs)
    return torch.empty(shape, dtype=out_dtype or mat_a.dtype, device=mat_a.device)


def meta_kernels() -> dict[Any, Callable[..., Any]]:
    """op overload -> a replacement taking the op first, for this torch (empty when it has none)."""
    kernels: dict[Any, Callable[..., Any]] = {}
    packet = getattr(torch.ops.aten, "_grouped_mm", None)
    if packet is not None and hasattr(packet, "default"):
        kernels[packet.default] = grouped_mm
    return kernels
