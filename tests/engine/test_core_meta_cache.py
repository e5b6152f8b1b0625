"""The meta result cache gives the same shapes as running every meta kernel, and skips repeats."""

from __future__ import annotations

import torch
from torch import nn

from netscope.engine.snapshot.meta_cache import MetaResultCache


class Layer(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.weight = nn.Parameter(torch.ones(16))
        self.proj = nn.Linear(16, 16)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + 1e-6) * self.weight
        y = self.proj(x)
        y.add_(1.0)  # in place: never served from the cache
        return torch.cat([x, y], dim=-1)[..., :16].transpose(0, 1).contiguous().transpose(0, 1)


def shapes_of(model: nn.Module, batch: torch.Tensor) -> list[tuple]:
    seen: list[tuple] = []
    handles = [
        m.register_forward_hook(lambda _m, _a, out: seen.append((out.shape, out.stride())))
        for m in model.modules()
    ]
    try:
        model(batch)
    finally:
        for handle in handles:
            handle.remove()
    return seen


def test_cached_meta_forward_matches_the_plain_one_and_reuses_results() -> None:
    with torch.device("meta"):
        model = nn.Sequential(*[Layer() for _ in range(6)])
    batch = torch.empty(2, 5, 16, device="meta")
    plain = shapes_of(model, batch)
    cache = MetaResultCache()
    with cache:
        cached = shapes_of(model, batch)
    assert cached == plain
    assert cache.hits > 0
    assert all(not func._schema.is_mutable for func, *_ in cache.results)


def test_multi_output_and_non_meta_ops_run_as_usual() -> None:
    cache = MetaResultCache()
    with cache:
        values, indices = torch.empty(4, 8, device="meta").max(dim=1)
        again_values, again_indices = torch.empty(4, 8, device="meta").max(dim=1)
        on_cpu = torch.ones(3) * 2  # cpu tensors are never cached: values matter there
    assert (values.shape, indices.dtype) == (again_values.shape, again_indices.dtype)
    assert cache.hits >= 1
    assert on_cpu.tolist() == [2.0, 2.0, 2.0]


def test_a_view_its_schema_does_not_declare_is_never_served_fresh() -> None:
    """``aten._unsafe_view`` returns a view of its input, though its schema declares no alias: a
    cached fresh tensor in its place would free the viewed storage early (every Linear of a 3-D
    input ends with one), and a memory replay on meta would read a lower peak."""
    view = torch.ops.aten._unsafe_view.default
    with MetaResultCache():
        for _ in range(3):
            base = torch.empty(24, 32, device="meta")
            out = view(base, [2, 12, 32])
            assert out.untyped_storage()._cdata == base.untyped_storage()._cdata
