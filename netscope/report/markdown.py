"""Markdown report: the same tables as the HTML report, readable as plain text and on GitHub."""

from __future__ import annotations

from netscope.engine.model import Profile, Snapshot
from netscope.report.profile_tables import profile_tables
from netscope.report.serialize import SCHEMA_VERSION
from netscope.report.tables import Table, snapshot_tables, summary


def _cell(text: str, code: bool) -> str:
    text = text.replace("\n", " ").replace("|", "\\|")
    if code and text:
        return f"`{text}`"
    return text


def table_markdown(table: Table, level: int = 2) -> str:
    lines = [f"{'#' * level} {table.title}", ""]
    if table.note:
        lines += [table.note, ""]
    if not table.rows:
        lines.append(table.empty)
        return "\n".join(lines)
    lines.append("| " + " | ".join(table.headers) + " |")
    lines.append("|" + "|".join("---" for _ in table.headers) + "|")
    for row in table.rows:
        cells = [_cell(text, i in table.code) for i, text in enumerate(row)]
        lines.append("| " + " | ".join(cells) + " |")
    if table.snippet:
        lines += ["", "```python", table.snippet.rstrip("\n"), "```"]
    return "\n".join(lines)


def render_markdown(snapshot: Snapshot, profile: Profile | None = None) -> str:
    """The whole report as Markdown text."""
    parts = [f"# netscope report: {snapshot.model_class}", ""]
    parts += ["| | |", "|---|---|"]
    parts += [f"| {key} | {_cell(value, False)} |" for key, value in summary(snapshot)]
    parts.append("")
    for table in snapshot_tables(snapshot):
        parts += [table_markdown(table), ""]
    if profile is not None:
        parts += ["# Profile", ""]
        for table in profile_tables(profile):
            parts += [table_markdown(table), ""]
    parts.append(f"_netscope report schema {SCHEMA_VERSION}_")
    return "\n".join(parts) + "\n"
