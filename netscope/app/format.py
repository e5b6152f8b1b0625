"""Short text forms of engine values for the UI; ``None`` always reads "n/a" (not available)."""

from __future__ import annotations

from collections.abc import Sequence

from netscope.units import NOT_AVAILABLE as NA
from netscope.units import count, flops, macs, ms, si, size
from netscope.units import fraction as fraction
from netscope.units import location as location
from netscope.units import number as num

__all__ = [
    "NA",
    "bars",
    "count",
    "flops",
    "fraction",
    "location",
    "macs",
    "ms",
    "num",
    "percent",
    "shape",
    "share",
    "si",
    "size",
    "terminal_line",
]
_BARS = "▁▂▃▄▅▆▇█"


def share(part: int | float | None, whole: int | float | None) -> str:
    """``part`` as a percentage of ``whole``: '12.5%', '<0.1%'; n/a without both."""
    if part is None or not whole:
        return NA
    value = 100.0 * part / whole
    if 0 < value < 0.1:
        return "<0.1%"
    return f"{value:.1f}%" if value < 99.95 else f"{value:.0f}%"


def shape(value: Sequence[int] | None) -> str:
    if value is None:
        return "uninitialized"
    return "[" + "×".join(str(d) for d in value) + "]"


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


def terminal_line(text: str) -> str:
    """A line as a terminal shows it: each carriage return goes back to the line's start and
    what follows overwrites (a progress bar's last state wins, the earlier ones are gone)."""
    if "\r" not in text:
        return text
    shown = ""
    for segment in text.split("\r"):
        shown = segment + shown[len(segment) :]
    return shown
