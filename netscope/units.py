"""How netscope writes its figures: bytes, FLOPs, counts and times, one spelling for the app,
the reports and ``netscope check``. Imports nothing of torch or textual, so every layer can use it;
``None`` always reads "n/a" (not available), never a made-up zero."""

from __future__ import annotations

import math

NOT_AVAILABLE = "n/a"

_SI = ((1.0, ""), (1e3, "k"), (1e6, "M"), (1e9, "G"), (1e12, "T"), (1e15, "P"), (1e18, "E"))
_BINARY = ("B", "KiB", "MiB", "GiB", "TiB", "PiB")
_COUNT = ((1e12, "T"), (1e9, "B"), (1e6, "M"), (1e3, "k"))  # as parameter counts are spoken


def si(value: float | None, unit: str) -> str:
    """Three significant digits and an SI prefix (powers of 1000): 27384872960 -> '27.4 G' + unit,
    30720 -> '30.7 k' + unit; a whole number under 1000 stays exact ('512 ' + unit)."""
    if value is None:
        return NOT_AVAILABLE
    if abs(value) < 1000 and float(value).is_integer():
        return f"{int(value)} {unit}"
    for at, (limit, prefix) in enumerate(_SI):
        scaled = float(f"{value / limit:.3g}")  # 999.96 k rounds to 1000 k: that is 1.00 M
        if abs(scaled) < 1000 or at == len(_SI) - 1:
            digits = 0 if abs(scaled) >= 100 else 1 if abs(scaled) >= 10 else 2
            return f"{scaled:.{digits}f} {prefix}{unit}"
    raise AssertionError("unreachable")  # pragma: no cover


def flops(value: float | None) -> str:
    """FLOPs (a multiply-add is 2): '30.7 kFLOP', '2.20 TFLOP', '0 FLOP'."""
    return si(value, "FLOP")


def flop_rate(value: float | None) -> str:
    """FLOPs per second: '9.55 GFLOP/s'."""
    return si(value, "FLOP/s")


def macs(flops_count: float | None) -> str:
    """Multiply-adds of ``flops_count`` FLOPs, as torchinfo and fvcore count: '15.4 kMAC'."""
    return si(None if flops_count is None else flops_count / 2, "MAC")


def size(value: float | None) -> str:
    """Bytes in binary units with one decimal: '512 B', '2.0 KiB', '133.7 GiB', '1.5 PiB'."""
    if value is None:
        return NOT_AVAILABLE
    amount = float(value)
    for unit in _BINARY:
        if abs(amount) < 1024 or unit == _BINARY[-1]:
            return f"{int(amount)} B" if unit == "B" else f"{amount:.1f} {unit}"
        amount /= 1024
    raise AssertionError("unreachable")  # pragma: no cover


LAZY_COUNT = "lazy: shape set by the first forward"


def param_count(value: int | None, uncounted: int = 0, exact: bool = False) -> str:
    """A parameter count that lazy parameters (no size before the first forward) leave unknown
    ('n/a (lazy: ...)') or make a lower bound ('at least 325'); ``exact``: '9,306', not '9.31k'."""
    if value is None:
        return f"{NOT_AVAILABLE} ({LAZY_COUNT})" if uncounted else NOT_AVAILABLE
    text = exact_count(value) if exact else count(value)
    return f"at least {text}" if uncounted else text


def params_phrase(value: int | None, uncounted: int = 0, noun: str = "params") -> str:
    """'9,306 params', 'at least 325 params', 'params n/a (lazy: ...)': a header's words."""
    if value is None:
        return f"{noun} {param_count(value, uncounted)}"
    return f"{param_count(value, uncounted, exact=True)} {noun}"


def count(value: int | None) -> str:
    """A count in few characters, as parameter counts are spoken: 1234567 -> '1.23M',
    68_700_000_000 -> '68.7B'; under 1000 it stays exact."""
    if value is None:
        return NOT_AVAILABLE
    for limit, suffix in _COUNT:
        if abs(value) >= limit:
            return f"{value / limit:.3g}{suffix}"
    return str(value)


def exact_count(value: int | None) -> str:
    """Every digit, grouped: '1,234,567'."""
    return NOT_AVAILABLE if value is None else f"{value:,}"


def ms(value: float | None) -> str:
    """A duration given in milliseconds: '1,234 ms', '12.50 ms', '600.0 µs'."""
    if value is None:
        return NOT_AVAILABLE
    if value >= 100:
        return f"{value:,.0f} ms"
    if value >= 1:
        return f"{value:.2f} ms"
    return f"{value * 1000:.1f} µs"


def fraction(value: float | None) -> str:
    """A fraction as a percentage with one decimal: 0.123 -> '12.3%'."""
    return NOT_AVAILABLE if value is None else f"{value * 100:.1f}%"


def number(value: float | None, digits: int = 4) -> str:
    """A float with ``digits`` significant digits; nan and inf stay visible."""
    if value is None:
        return NOT_AVAILABLE
    if math.isnan(value):
        return "nan"
    if math.isinf(value):
        return "inf" if value > 0 else "-inf"
    return f"{value:.{digits}g}"


_PACKAGE_DIRS = ("site-packages", "dist-packages")


def location(text: str | None) -> str:
    """``file.py:LINE`` short enough for a column: a location inside an installed package reads
    from the package (``transformers/trainer.py:1956``), one in the standard library from the
    library's folder; the script's own locations are already relative."""
    if not text:
        return NOT_AVAILABLE
    parts = text.replace("\\", "/").split("/")
    for index in range(len(parts) - 2, -1, -1):
        if parts[index] in _PACKAGE_DIRS:
            return "/".join(parts[index + 1 :])
    for index in range(len(parts) - 2, 0, -1):
        if parts[index].startswith("python3") and parts[index - 1] == "lib":
            return "/".join(parts[index + 1 :])
    return text
