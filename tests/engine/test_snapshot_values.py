"""Value statistics equal a plain float64 computation, on the fast paths netscope takes."""

from __future__ import annotations

import math

import torch

from netscope.engine.snapshot import values


def _reference(t: torch.Tensor) -> dict[str, float]:
    x = t.detach().to(torch.float64).reshape(-1)
    return {
        "mean": x.mean().item(),
        "std": x.std().item(),
        "min": x.min().item(),
        "max": x.max().item(),
        "l2": torch.linalg.vector_norm(x).item(),
        "zero_fraction": (x == 0).sum().item() / x.numel(),
    }


def test_statistics_of_large_tensors_equal_float64_ones() -> None:
    torch.manual_seed(0)
    big = values.BATCH_NUMEL * 4  # past the batched path: one tensor at a time
    running_var = 1.0 + 1e-3 * torch.randn(big)  # mean far above the spread: no cancellation
    weights = torch.randn(big) * 0.02
    weights[:100] = 0.0
    activations = torch.relu(torch.randn(big) + 5.0)  # mean >> std, some exact zeros
    activations[::7] = 0.0
    tensors = [
        running_var,
        weights,
        activations,
        torch.randn(big, dtype=torch.bfloat16) + 3,
        torch.randint(-3, 4, (big,)),
        torch.full((big,), 7.0),  # std exactly 0
    ]
    for tensor, stats in zip(tensors, values.tensor_stats(tensors), strict=True):
        assert stats is not None
        expected = _reference(tensor)
        for field, want in expected.items():
            got = getattr(stats, field)
            assert math.isclose(got, want, rel_tol=1e-4, abs_tol=1e-6 * (1 + abs(want))), (
                tensor.dtype,
                field,
                got,
                want,
            )


def test_activation_statistics_equal_float64_ones() -> None:
    torch.manual_seed(1)
    outputs = [torch.relu(torch.randn(2, 64, 32, 32)), 100.0 + torch.randn(1, 8192)]
    rows = values.activation_stats([values.activation_row(t) for t in outputs])
    for tensor, row in zip(outputs, rows, strict=True):
        assert row is not None
        expected = _reference(tensor)
        assert math.isclose(row.mean, expected["mean"], rel_tol=1e-5)
        assert math.isclose(row.std, expected["std"], rel_tol=1e-4)
        assert math.isclose(row.zero_fraction, expected["zero_fraction"], abs_tol=1e-9)


def test_accelerator_activation_moments_equal_float64_ones() -> None:
    """The figures an activation on a GPU gets (``welford_moments``: no float64 copy, no check
    after the fact), computed here on CPU tensors: as exact as float64 on the hard cases."""
    from netscope.engine.snapshot.moments import welford_moments

    torch.manual_seed(2)
    cases = [
        torch.relu(torch.randn(4, 256, 28, 28)),  # many exact zeros
        1e4 + 1e-2 * torch.randn(200_000),  # mean far above the spread: sum of squares fails
        torch.randn(50_000, dtype=torch.float64) * 1e18,
        torch.randn(30_000, dtype=torch.bfloat16).float(),  # widened half values
    ]
    for tensor in cases:
        mean, std, zeros = (v.item() for v in welford_moments(tensor))
        expected = _reference(tensor)
        assert math.isclose(mean, expected["mean"], rel_tol=1e-6, abs_tol=1e-9)
        assert math.isclose(std, expected["std"], rel_tol=1e-6)
        assert zeros / tensor.numel() == expected["zero_fraction"]


MIXED_MODEL = """
import torch
from torch import nn


class Mixed(nn.Module):
    def __init__(self):
        super().__init__()
        self.big = nn.Linear(256, 64)  # 16,384 weights: the one-tensor-at-a-time path
        self.small = nn.Linear(64, 8)  # the batched path
        self.norm = nn.BatchNorm1d(8)  # int64 num_batches_tracked, running_var of ones
        self.halves = nn.Parameter(torch.randn(3000, 2).half(), requires_grad=False)
        self.brains = nn.Parameter(torch.randn(5000).bfloat16() + 4, requires_grad=False)
        self.empty = nn.Parameter(torch.empty(0, 4), requires_grad=False)
        self.offset = nn.Parameter(1000.0 + 1e-2 * torch.randn(8192), requires_grad=False)
        self.huge = nn.Parameter(torch.full((6000,), 3e20), requires_grad=False)
        self.register_buffer("counts", torch.arange(9000, dtype=torch.int32) % 7)
        bad = torch.randn(5000)
        bad[::97] = float("nan")
        bad[5] = float("inf")
        self.register_buffer("bad", bad)
        self.register_buffer("bad_small", torch.tensor([1.0, float("nan"), -float("inf"), 0.0]))
        self.register_buffer("all_nan", torch.full((10,), float("nan")))
        self.register_buffer("nothing", torch.empty(0))

    def forward(self, x):
        return self.norm(self.small(torch.relu(self.big(x))))


def build_model():
    torch.manual_seed(0)
    return Mixed()


def example_input():
    torch.manual_seed(1)
    return torch.randn(4, 256)
"""


def _finite_reference(t: torch.Tensor) -> dict[str, float | None]:
    """The statistics over the finite values; None where there is no finite value."""
    x = t.detach().to(torch.float64).reshape(-1)
    finite = x[torch.isfinite(x)]
    if finite.numel() == 0:
        return {"mean": None, "min": None, "max": None}
    return {
        "mean": finite.mean().item(),
        "std": finite.std().item() if finite.numel() > 1 else None,
        "min": finite.min().item(),
        "max": finite.max().item(),
        "l2": torch.linalg.vector_norm(finite).item(),
        "zero_fraction": (x == 0).sum().item() / x.numel(),
        "nan": int(torch.isnan(x).sum()),
        "inf": int(torch.isinf(x).sum()),
    }


def _assert_close(name: str, field: str, got: float | None, want: float | None) -> None:
    if want is None or got is None:
        assert got == want, (name, field, got, want)
        return
    assert math.isclose(got, want, rel_tol=1e-5, abs_tol=1e-9 * (1 + abs(want))), (
        name,
        field,
        got,
        want,
    )


def test_snapshot_statistics_of_a_mixed_dtype_model_equal_per_tensor_float64(tmp_path) -> None:
    """Every parameter's and buffer's figures in a real snapshot (batched and one-at-a-time
    paths, float32/float16/bfloat16/int, empty, NaN/Inf, a mean far above the spread, squares
    beyond float32) equal a straightforward float64 computation on that tensor alone."""
    import runpy

    from core_helpers import snap, write_model

    path = write_model(tmp_path, "mixed.py", MIXED_MODEL)
    snapshot = snap(path)
    namespace = runpy.run_path(path)
    model = namespace["build_model"]()
    model.eval()
    model(namespace["example_input"]()).float().mean().backward()
    tensors = dict(model.named_parameters()) | dict(model.named_buffers())
    infos = {info.name: info for info in (*snapshot.parameters, *snapshot.buffers)}
    assert set(infos) == set(tensors)
    for name, tensor in tensors.items():
        stats = infos[name].stats
        if tensor.numel() == 0:
            assert stats is None, name
            continue
        assert stats is not None, name
        for field, want in _finite_reference(tensor).items():
            _assert_close(name, field, getattr(stats, field), want)
        if tensor.grad is not None:
            grad = infos[name].grad
            assert grad is not None and grad.present, name
            g = tensor.grad.to(torch.float64)
            _assert_close(name, "grad.norm", grad.norm, torch.linalg.vector_norm(g).item())
            _assert_close(name, "grad.mean", grad.mean, g.mean().item())
            _assert_close(name, "grad.max_abs", grad.max_abs, g.abs().max().item())
    assert infos["huge"].stats.l2 == math.sqrt(6000) * 3e20 or math.isclose(
        infos["huge"].stats.l2, math.sqrt(6000) * 3e20, rel_tol=1e-6
    )
