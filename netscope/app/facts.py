"""Name/value rows for the details pane, drawn as Table.grid drew them at a fraction of its cost.

A key press redraws the details, and a Rich table measures every cell on every render (about
4 ms for a block's dozen rows, five times this); here the names get one padded column and each
value wraps under its own column, at spaces and after a path's ``/``: never inside a word while
a word fits the column (an 80-column terminal leaves the pane ~35 columns).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator

from rich.cells import cell_len
from rich.console import Console, ConsoleOptions
from rich.text import Text

MIN_VALUE_WIDTH = 8
_TOKENS = re.compile(r"\s+|[^\s/]*/|[^\s/]+")  # spaces, a path's parts (with their /), words


STACKED = 2  # the indent of a value under its name, when a word does not fit the column


def fits_words(value: str, width: int) -> bool:
    """Every word (or path part) of ``value`` fits ``width``: wrapping breaks no word."""
    return all(cell_len(token) <= width for token in _TOKENS.findall(value))


def wrap_words(value: str, width: int) -> list[str]:
    """``value`` in lines of at most ``width`` cells, broken at spaces and after ``/``; a word
    longer than a whole line is folded."""
    lines: list[str] = []
    line = gap = ""
    for token in _TOKENS.findall(value):
        if token.isspace():
            gap = token if line else ""
            continue
        if line and cell_len(line + gap + token) > width:
            lines.append(line)
            line = gap = ""
        while cell_len(token) > width:  # longer than a line: fold it
            lines.append(token[:width])
            token = token[width:]
        line, gap = line + gap + token, ""
    lines.append(line)
    return lines


class Facts:
    """Rows of (name, value): names bold in one column, values folded to the width left."""

    def __init__(self, rows: Iterable[tuple[str, str]]) -> None:
        self.rows = list(rows)

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> Iterator[Text]:
        name_width = max((cell_len(name) for name, _ in self.rows), default=0)
        value_width = max(options.max_width - name_width - 1, MIN_VALUE_WIDTH)
        out = Text()
        for name, value in self.rows:
            if out:
                out.append("\n")
            if not fits_words(value, value_width):  # a word wider than the column: stacked
                out.append(name, style="bold")
                for line in wrap_words(value, max(options.max_width - STACKED, MIN_VALUE_WIDTH)):
                    out.append("\n" + " " * STACKED + line)
                continue
            for number, line in enumerate(wrap_words(value, value_width)):
                label = name if number == 0 else ""
                out.append("\n" if number else "")
                out.append(label + " " * (name_width - cell_len(label) + 1), style="bold")
                out.append(line)
        yield out
