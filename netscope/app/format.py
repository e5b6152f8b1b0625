"""Short text forms of engine values for the UI; ``None`` always reads "n/a" (not available)."""

from __future__ import annotations

from collections.abc import Sequence

from netscope.report.values import NOT_AVAILABLE as NA
from netscope.report.values import fmt_float as num
from netscope.report.values import fmt_percent as fraction

__all__ = [
    "NA",
    "bars",
    "count",
    "flops",
    "fraction",
    "macs",
    "ms",
    "num",
    "percent",
    "shape",
    "share",
    "si",
    "size",
]
_BARS = "▁▂▃▄▅▆▇█"


def count(value: int | None) -> str:
    """1234567 -> '1.23M'; small numbers stay exact."""
    if value is None:
        return NA
    for limit, suffix in ((1e9, "G"), (1e6, "M"), (1e3, "k")):
        if abs(value) >= limit:
            return f"{value / limit:.3g}{suffix}"
    return str(value)


_SI = ((1.0, ""), (1e3, "k"), (1e6, "M"), (1e9, "G"), (1e12, "T"), (1e15, "P"), (1e18, "E"))


def si(value: int | float | None, unit: str) -> str:
    """A figure with an SI prefix and 3 significant digits: 27384872960 -> '27.4 G' + unit,
    41000 -> '41.0 k' + unit; a whole number under 1000 stays exact ('512 ' + unit)."""
    if value is None:
        return NA
    if abs(value) < 1000 and value == int(value):
        return f"{int(value)} {unit}"
    for at, (limit, prefix) in enumerate(_SI):
        scaled = float(f"{value / limit:.3g}")  # 999.96 k rounds to 1000 k: that is 1.00 M
        if abs(scaled) < 1000 or at == len(_SI) - 1:
            digits = 0 if abs(scaled) >= 100 else 1 if abs(scaled) >= 10 else 2
            return f"{scaled:.{digits}f} {prefix}{unit}"
    raise AssertionError("unreachable")  # pragma: no cover


def flops(value: int | None) -> str:
    """FLOPs (2 x multiply-adds) with an SI prefix: '27.4 GFLOP', '1.21 MFLOP', '0 FLOP'."""
    return si(value, "FLOP")


def macs(value: int | None) -> str:
    """Multiply-adds (FLOPs / 2, as torchinfo and fvcore count): '13.7 GMAC'."""
    return si(None if value is None else value / 2, "MAC")


def share(part: int | float | None, whole: int | float | None) -> str:
    """``part`` as a percentage of ``whole``: '12.5%', '<0.1%'; n/a without both."""
    if part is None or not whole:
        return NA
    value = 100.0 * part / whole
    if 0 < value < 0.1:
        return "<0.1%"
    return f"{value:.1f}%" if value < 99.95 else f"{value:.0f}%"


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
