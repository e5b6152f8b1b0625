"""netscope's apps need a terminal. Without one (output redirected to a file or a pipe, no
keyboard on stdin) Textual would write its escape codes there and wait for keys that never come:
``netscope run train.py > log`` ran the script's app into the log and never ended. Each way into
an app checks first and says what writes a file instead. Imports neither Textual nor torch."""

from __future__ import annotations

import sys
from typing import TextIO

from netscope.engine.errors import NetscopeError


def _is_terminal(stream: TextIO | None) -> bool:
    try:
        return stream is not None and stream.isatty()
    except (AttributeError, ValueError):  # replaced by an object without a file, or closed
        return False


def missing_terminal() -> str | None:
    """``"stdout"`` or ``"stdin"`` when that one is not a terminal; None when both are."""
    if not _is_terminal(sys.stdout):
        return "stdout"
    if not _is_terminal(sys.stdin):
        return "stdin"
    return None


def require_terminal(instead: str) -> None:
    """Raise NetscopeError unless stdin and stdout are a terminal; ``instead`` is what to run
    without the app (shown as the error's hint)."""
    missing = missing_terminal()
    if missing is None:
        return
    why = (
        "stdout is redirected to a file or a pipe"
        if missing == "stdout"
        else "stdin is not a terminal (no keyboard to drive it)"
    )
    raise NetscopeError(f"the app needs a terminal, and {why}", hint=f"Without the app: {instead}")
