"""Value formatting shared by every report: rounding for JSON, human text for Markdown and HTML.

``None`` always means "not available" and is shown as such, never as a zero.
"""

from __future__ import annotations

import math
import sys

from netscope import units
from netscope.units import NOT_AVAILABLE as NOT_AVAILABLE

SIGNIFICANT_DIGITS = 6


def num(value: float | None, digits: int = SIGNIFICANT_DIGITS) -> float | None:
    """Round to significant digits so goldens are stable; None and non-finite become null."""
    if value is None:
        return None
    value = float(value)
    if not math.isfinite(value):
        return None
    if value == 0.0:
        return 0.0
    return float(f"{value:.{digits}g}")


BULK_MIN = 20_000  # values from which ``nums`` rounds them together
_EXACT_POWERS = 22  # 10**k is an exact float64 up to here, so the rounding below is exact
_TIE_MARGIN = 1e-6  # scaled values are below 1e6: their products' errors are under 2e-10


def nums(values: list[float | None], digits: int = SIGNIFICANT_DIGITS) -> list[float | None]:
    """``num`` of each value. A long list (a 20,000-block report has 500,000) is rounded in a
    few torch ops when torch is loaded, as it is in the worker that writes large reports; the
    CLI and the app never import torch for it."""
    if len(values) < BULK_MIN or "torch" not in sys.modules:
        return [num(v, digits) for v in values]
    return _rounded_together(values, digits)


def _rounded_together(values: list[float | None], digits: int) -> list[float | None]:
    """``round(x * 10**k) / 10**k`` with ``k`` the decimals that keep ``digits`` significant
    ones: with 10**k exact (|k| <= 22) both steps round correctly, so the result is the float
    nearest the rounded decimal, the one ``float(f"{x:.6g}")`` parses; values within a hair of
    a tie, and other magnitudes, go through ``num`` (tests/report: equal on 60,000 values from
    1e-30 to 1e30 and the figures of a 2,000-block report)."""
    import torch

    nan = float("nan")
    try:  # most lists have no None: no pass over them to replace it
        a = torch.tensor(values, dtype=torch.float64)
    except TypeError:
        a = torch.tensor([nan if v is None else v for v in values], dtype=torch.float64)
    finite = torch.isfinite(a)
    x = torch.where(finite & (a != 0), a, 1.0)
    k = (digits - 1) - torch.floor(torch.log10(x.abs()))
    scale = torch.pow(10.0, k.abs())
    scaled = torch.where(k >= 0, x * scale, x / scale)
    out = torch.round(scaled)
    out = torch.where(k >= 0, out / scale, out * scale)
    out = torch.where(a == 0, 0.0, torch.where(finite, out, nan))
    rounded: list[float | None] = out.tolist()
    if out.isnan().any():  # None and non-finite values: NaN here, None in the report
        rounded = [None if v != v else v for v in rounded]
    # A value a hair from a rounding tie may have crossed it in ``scaled``: num decides those
    near_tie = (scaled - scaled.floor() - 0.5).abs() < _TIE_MARGIN
    for i in (finite & ((k.abs() > _EXACT_POWERS) | near_tie)).nonzero().flatten().tolist():
        rounded[i] = num(values[i], digits)
    return rounded


def shape_list(shape: tuple[int, ...] | None) -> list[int] | None:
    return None if shape is None else [int(d) for d in shape]


def fmt_shape(shape: tuple[int, ...] | list[int] | None) -> str:
    """``[2, 20]``; an unknown (lazy) shape reads as "uninitialized"."""
    if shape is None:
        return "uninitialized"
    return "[" + ", ".join(str(d) for d in shape) + "]"


# One spelling everywhere: the report's names for netscope.units' writers
fmt_count = units.exact_count
fmt_float = units.number
fmt_ms = units.ms
fmt_bytes = units.size
fmt_flops = units.flops
fmt_flop_rate = units.flop_rate
fmt_macs = units.macs
fmt_percent = units.fraction


def fmt_bool(value: bool | None) -> str:
    if value is None:
        return NOT_AVAILABLE
    return "yes" if value else "no"
