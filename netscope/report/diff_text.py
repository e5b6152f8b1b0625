"""What ``netscope diff A B`` prints: the diff's tables as aligned plain text for a terminal."""

from __future__ import annotations

from netscope.engine.diff.model import ReportDiff
from netscope.report.diff_tables import diff_tables
from netscope.report.table import Table

CELL_WIDTH = 48  # a longer cell is cut, the full text is in the -o reports


def _cut(text: str) -> str:
    return text if len(text) <= CELL_WIDTH else text[: CELL_WIDTH - 1] + "…"


def table_text(table: Table) -> str:
    lines = [table.title]
    if not table.rows:
        return "\n".join([*lines, f"  {table.empty}"])
    rows = [table.headers, *([_cut(c) for c in row] for row in table.rows)]
    widths = [max(len(row[i]) for row in rows) for i in range(len(table.headers))]
    for at, row in enumerate(rows):
        lines.append(
            "  " + "  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip()
        )
        if at == 0:
            lines.append("  " + "  ".join("-" * w for w in widths))
    if table.note:
        lines.append(f"  {table.note}")
    return "\n".join(lines)


def render_diff_text(diff: ReportDiff) -> str:
    head = (
        f"netscope diff: A {diff.before_target} ({diff.before_kind}) -> "
        f"B {diff.after_target} ({diff.after_kind})"
    )
    return "\n\n".join([head, *(table_text(t) for t in diff_tables(diff))]) + "\n"
