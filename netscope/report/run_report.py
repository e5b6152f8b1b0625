"""Write the report of ``netscope run``: JSON, Markdown or HTML, atomically, as ``report`` does."""

from __future__ import annotations

import json
from html import escape
from typing import TextIO

from netscope.engine.errors import NetscopeError
from netscope.engine.model import RunReport
from netscope.report.serialize import SCHEMA_VERSION
from netscope.report.write import atomic_write, resolve_format


def render_run_json(run: RunReport) -> str:
    from netscope.report.serialize_run import run_report_dict

    return json.dumps(run_report_dict(run), indent=2, allow_nan=False) + "\n"


def render_run_markdown(run: RunReport) -> str:
    from netscope.report.markdown import _cell, table_markdown
    from netscope.report.run_tables import run_summary, run_tables, run_title
    from netscope.report.tables import snapshot_tables, summary

    parts = [f"# {run_title(run)}", "", "| | |", "|---|---|"]
    parts += [f"| {key} | {_cell(value, False)} |" for key, value in run_summary(run)]
    parts.append("")
    if run.error is not None and run.error.traceback:
        parts += ["## Traceback", "", "```", run.error.traceback.rstrip(), "```", ""]
    for table in run_tables(run):
        parts += [table_markdown(table), ""]
    if run.snapshot is not None:
        parts += [f"# Model: {run.snapshot.model_class}", "", "| | |", "|---|---|"]
        parts += [f"| {k} | {_cell(v, False)} |" for k, v in summary(run.snapshot)]
        parts.append("")
        for table in snapshot_tables(run.snapshot):
            parts += [table_markdown(table), ""]
    parts.append(f"_netscope report schema {SCHEMA_VERSION}_")
    return "\n".join(parts) + "\n"


def render_run_html(run: RunReport) -> str:
    from netscope.report.html import CSS, scroll, snapshot_html, table_html
    from netscope.report.run_tables import run_summary, run_tables, run_title
    from netscope.report.tables import summary

    title = run_title(run)
    rows = "".join(
        f"<tr><th>{escape(k)}</th><td>{escape(v)}</td></tr>" for k, v in run_summary(run)
    )
    parts = [
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">',
        f"<title>{escape(title)}</title><style>{CSS}</style></head><body>",
        f"<h1>{escape(title)}</h1>{scroll(f'<table>{rows}</table>')}",
    ]
    if run.error is not None and run.error.traceback:
        parts.append(
            f"<section><h2>Traceback</h2><pre>{escape(run.error.traceback)}</pre></section>"
        )
    parts += [table_html(t) for t in run_tables(run)]
    if run.snapshot is not None:
        snap = run.snapshot
        facts = "".join(
            f"<tr><th>{escape(k)}</th><td>{escape(v)}</td></tr>" for k, v in summary(snap)
        )
        table = scroll(f"<table>{facts}</table>")
        parts.append(f"<h1>Model: {escape(snap.model_class)}</h1>{table}")
        parts += snapshot_html(snap)
    parts.append(f'<p class="note">netscope report schema {SCHEMA_VERSION}</p></body></html>\n')
    return "\n".join(parts)


def run_format(path: str, fmt: str | None) -> str:
    """The run report's format from ``fmt`` or the extension; checked before the script runs."""
    resolved = resolve_format(path, fmt)
    if resolved == "chrome-trace":
        raise NetscopeError(
            "a run report is JSON, Markdown or HTML (a Chrome trace needs `netscope report "
            "--profile`)",
            path=path,
        )
    return resolved


def write_run_report(path: str, run: RunReport, fmt: str | None = None) -> str:
    resolved = run_format(path, fmt)
    render = {"json": render_run_json, "markdown": render_run_markdown, "html": render_run_html}
    text = render[resolved](run)

    def write(stream: TextIO) -> None:
        stream.write(text)

    return atomic_write(path, write)
