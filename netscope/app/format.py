"""Short text forms of engine values for the UI; ``None`` always reads "n/a" (not available)."""

from __future__ import annotations

from collections.abc import Sequence

from netscope.report.values import NOT_AVAILABLE as NA
from netscope.report.values import fmt_float as num
from netscope.report.values import fmt_percent as fraction

__all__ = ["NA", "bars", "count", "fraction", "ms", "num", "percent", "shape", "size"]
_BARS = "▁▂▃▄▅▆▇█"


def count(value: int | None) -> str:
    """1234567 -> '1.23M'; small numbers stay exact."""
    if value is None:
        return NA
    for limit, suffix in ((1e9, "G"), (1e6, "M"), (1e3, "k")):
        if abs(value) >= limit:
            return f"{value / limit:.3g}{suffix}"
    return str(value)


def size(value: int | float | None) -> str:
    """Bytes in binary units."""
    if value is None:
        return NA
    amount = float(value)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if abs(amount) < 1024 or unit == "GiB":
            return f"{amount:.0f} {unit}" if unit == "B" else f"{amount:.1f} {unit}"
        amount /= 1024
    return f"{amount:.1f} TiB"  # pragma: no cover


def shape(value: Sequence[int] | None) -> str:
    if value is None:
        return "uninitialized"
    return "[" + "×".join(str(d) for d in value) + "]"


def ms(value: float | None) -> str:
    if value is None:
        return NA
    if value >= 100:
        return f"{value:.0f} ms"
    if value >= 1:
        return f"{value:.2f} ms"
    return f"{value * 1000:.0f} µs"


def percent(value: float | None) -> str:
    return NA if value is None else f"{value:.0f}%"


def bars(values: Sequence[float]) -> str:
    """A one-line histogram: each value as a block character scaled to the largest."""
    if not values:
        return ""
    top = max(values) or 1
    return "".join(
        _BARS[min(len(_BARS) - 1, int(v / top * (len(_BARS) - 1) + 0.5))] for v in values
    )
