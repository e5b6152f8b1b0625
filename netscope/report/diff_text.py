"""What ``netscope diff A B`` prints: the diff's tables as aligned plain text for a terminal.

Given the terminal's width, a table too wide for it keeps its verdicts whole: the last column
(the change, the time's verdict) wraps in place when the other columns leave room for it, else
each row becomes a record (its first cell, then one line per column), wrapped to the width."""

from __future__ import annotations

import textwrap

from netscope.engine.diff.model import ReportDiff
from netscope.report.diff_tables import diff_tables
from netscope.report.table import Table

CELL_WIDTH = 48  # a longer cell is cut, the full text is in the -o reports (the last: wrapped)
MIN_LAST = 24  # the last column wraps in place when this many columns are left for it
MIN_WRAP = 16  # a value is never wrapped narrower than this, whatever the width


def _cut(text: str) -> str:
    return text if len(text) <= CELL_WIDTH else text[: CELL_WIDTH - 1] + "…"


def _wrap(text: str, width: int) -> list[str]:
    return textwrap.wrap(text, max(width, MIN_WRAP), break_on_hyphens=False) or [""]


def _widths(rows: list[list[str]]) -> list[int]:
    return [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]


def _aligned(rows: list[list[str]], last_width: int | None = None) -> list[str]:
    """The rows (headers first) in columns; ``last_width``: the last column wrapped to it."""
    widths = _widths(rows)
    if last_width is not None:
        widths[-1] = min(widths[-1], last_width)
    indent = 2 + sum(w + 2 for w in widths[:-1])
    lines = []
    for at, row in enumerate(rows):
        head = "  " + "".join(c.ljust(w + 2) for c, w in zip(row[:-1], widths, strict=False))
        last = [row[-1]] if last_width is None else _wrap(row[-1], last_width)
        lines.append((head + last[0]).rstrip())
        lines += [" " * indent + more for more in last[1:]]
        if at == 0:
            lines.append("  " + "  ".join("-" * w for w in widths))
    return lines


def _records(table: Table, width: int) -> list[str]:
    """Each row as its first cell, then ``header  value`` per other column, wrapped to width."""
    label = max(len(h) for h in table.headers[1:])
    lines = []
    for row in table.rows:
        lines += [f"  {line}" for line in _wrap(row[0], width - 2)]
        for header, cell in zip(table.headers[1:], row[1:], strict=True):
            first = f"    {header.ljust(label)}  "
            wrapped = _wrap(cell, width - len(first))
            lines += [first + wrapped[0], *(" " * len(first) + more for more in wrapped[1:])]
    return lines


def table_text(table: Table, width: int | None = None) -> str:
    """The table as text; with ``width`` (the terminal's columns) nothing is cut past it."""
    lines = [table.title]
    if not table.rows:
        return "\n".join([*lines, f"  {table.empty}"])
    rows = [[_cut(c) for c in row[:-1]] + [row[-1] if width else _cut(row[-1])]
            for row in table.rows]  # fmt: skip
    widths = _widths([table.headers, *rows])
    left = 0 if width is None else width - 2 - sum(w + 2 for w in widths[:-1])  # for the last
    if width is None or left >= widths[-1]:
        lines += _aligned([table.headers, *rows])
    elif left >= MIN_LAST:
        lines += _aligned([table.headers, *rows], left)
    else:
        lines += _records(table, width)
    if table.note:
        note = [table.note] if width is None else _wrap(table.note, width - 2)
        lines += [f"  {line}" for line in note]
    return "\n".join(lines)


def render_diff_text(diff: ReportDiff, width: int | None = None) -> str:
    head = (
        f"netscope diff: A {diff.before_target} ({diff.before_kind}) -> "
        f"B {diff.after_target} ({diff.after_kind})"
    )
    if width is not None:  # a path is never broken: a line is longer only for a longer path
        head = "\n".join(textwrap.wrap(head, width, subsequent_indent="  ",
                                        break_long_words=False))  # fmt: skip
    tables = (table_text(t, width) for t in diff_tables(diff))
    return "\n\n".join([head, *tables]) + "\n"
