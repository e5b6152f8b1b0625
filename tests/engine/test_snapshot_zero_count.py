"""The CPU's branch-free zero count (``finite_zero_count``) against ``count_nonzero``: the same
exact integer wherever its figures are kept, and a NaN or Inf never reaching a report through
it (the activation and value paths recompute such tensors with ``count_nonzero``)."""

from __future__ import annotations

import pytest
import torch

from netscope.engine.snapshot import values
from netscope.engine.snapshot.moments import (
    SIGN_COUNT_MAX,
    finite_zero_count,
    moments,
    zero_count,
)


def _awkward(numel: int, dtype: torch.dtype) -> torch.Tensor:
    """ReLU-like values (zeros at random places) with -0.0 and subnormals among them."""
    torch.manual_seed(numel)
    t = torch.relu(torch.randn(numel, dtype=dtype))
    t[::5] = -0.0
    t[1::11] = torch.finfo(dtype).tiny / 4  # subnormal: nonzero
    t[2::13] = -torch.finfo(dtype).tiny / 8
    return t


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
@pytest.mark.parametrize("numel", [1, 7, 4097, 100_003])
def test_finite_zero_count_equals_count_nonzero(numel: int, dtype: torch.dtype) -> None:
    t = _awkward(numel, dtype)
    expected = numel - int(torch.count_nonzero(t))
    assert finite_zero_count(t).item() == expected == zero_count(t).item()
    assert finite_zero_count(t).dtype == torch.float64
    assert moments(t)[3].item() == expected


def test_finite_zero_count_past_its_limit_is_count_nonzero() -> None:
    """Above SIGN_COUNT_MAX (and for other dtypes) the count is ``count_nonzero``'s itself."""
    big = torch.zeros(SIGN_COUNT_MAX + 3)
    big[::3] = 1.0
    assert finite_zero_count(big).item() == big.numel() - int(torch.count_nonzero(big))
    halves = _awkward(1000, torch.float16)
    assert finite_zero_count(halves).item() == 1000 - int(torch.count_nonzero(halves))


def test_inf_counts_as_nonzero_and_nan_is_never_kept() -> None:
    t = _awkward(10_000, torch.float32)
    t[3] = float("inf")
    assert finite_zero_count(t).item() == 10_000 - int(torch.count_nonzero(t))
    t[4] = float("nan")
    expected = (10_000 - int(torch.count_nonzero(t))) / 10_000
    assert finite_zero_count(t).item() != expected * 10_000  # sign(NaN) is 0 on the CPU...
    row = values.activation_stats([values.activation_row(t.reshape(100, 100))])[0]
    assert row is not None and row.zero_fraction == expected  # ...the exact path counts
    stats = values.tensor_stats([t])[0]
    assert stats is not None and stats.zero_fraction == expected
    assert stats.nan == 1 and stats.inf == 1


def test_activation_zero_fraction_is_exact_on_relu_outputs() -> None:
    t = _awkward(64 * 56 * 56, torch.float32).reshape(1, 64, 56, 56)
    row = values.activation_stats([values.activation_row(t)])[0]
    assert row is not None
    assert row.zero_fraction == (t.numel() - int(torch.count_nonzero(t))) / t.numel()
