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
