"""Value formatting shared by every report: rounding for JSON, human text for Markdown and HTML.

``None`` always means "not available" and is shown as such, never as a zero.
"""

from __future__ import annotations

import math

SIGNIFICANT_DIGITS = 6
NOT_AVAILABLE = "n/a"


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


def shape_list(shape: tuple[int, ...] | None) -> list[int] | None:
    return None if shape is None else [int(d) for d in shape]


def fmt_shape(shape: tuple[int, ...] | list[int] | None) -> str:
    """``[2, 20]``; an unknown (lazy) shape reads as "uninitialized"."""
    if shape is None:
        return "uninitialized"
    return "[" + ", ".join(str(d) for d in shape) + "]"


def fmt_count(value: int | None) -> str:
    return NOT_AVAILABLE if value is None else f"{value:,}"


def fmt_float(value: float | None, digits: int = 4) -> str:
    """Short float with significant digits; keeps nan/inf visible in human text."""
    if value is None:
        return NOT_AVAILABLE
    if math.isnan(value):
        return "nan"
    if math.isinf(value):
        return "inf" if value > 0 else "-inf"
    return f"{value:.{digits}g}"


def fmt_ms(value: float | None) -> str:
    if value is None:
        return NOT_AVAILABLE
    if value >= 100:
        return f"{value:,.0f} ms"
    if value >= 1:
        return f"{value:.2f} ms"
    return f"{value * 1000:.1f} µs"


def fmt_bytes(value: int | None) -> str:
    if value is None:
        return NOT_AVAILABLE
    size = float(value)
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if abs(size) < 1024 or unit == "TiB":
            return f"{int(size)} B" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    raise AssertionError("unreachable")


def fmt_percent(fraction: float | None) -> str:
    return NOT_AVAILABLE if fraction is None else f"{fraction * 100:.1f}%"


def fmt_bool(value: bool | None) -> str:
    if value is None:
        return NOT_AVAILABLE
    return "yes" if value else "no"
