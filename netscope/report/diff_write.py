"""``netscope diff A B -o FILE``: the diff in the format its extension names (.json .md .html),
written atomically like every report."""

from __future__ import annotations

import json
from html import escape
from typing import TextIO

from netscope.engine.diff.model import ReportDiff
from netscope.engine.errors import NetscopeError
from netscope.report.diff_serialize import DIFF_SCHEMA_VERSION, diff_dict
from netscope.report.diff_tables import diff_tables
from netscope.report.html import CSS, table_html
from netscope.report.markdown import table_markdown
from netscope.report.write import atomic_write

DIFF_FORMATS = {".json": "json", ".md": "markdown", ".markdown": "markdown", ".html": "html",
                ".htm": "html"}  # fmt: skip


def diff_format(path: str) -> str:
    for suffix, fmt in DIFF_FORMATS.items():
        if path.lower().endswith(suffix):
            return fmt
    raise NetscopeError(
        f"cannot tell the diff's format from {path!r}",
        hint="Name the file .json, .md or .html.",
    )


def _title(diff: ReportDiff) -> str:
    return f"netscope diff: {diff.before_target} -> {diff.after_target}"


def render_diff_markdown(diff: ReportDiff) -> str:
    parts = [f"# {_title(diff)}", *(table_markdown(t) for t in diff_tables(diff))]
    parts.append(f"netscope diff schema {DIFF_SCHEMA_VERSION}")
    return "\n\n".join(parts) + "\n"


def render_diff_html(diff: ReportDiff) -> str:
    title = escape(_title(diff))
    parts = [
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">',
        f"<title>{title}</title><style>{CSS}</style></head><body><h1>{title}</h1>",
        *(table_html(t) for t in diff_tables(diff)),
        f'<p class="note">netscope diff schema {DIFF_SCHEMA_VERSION}</p></body></html>\n',
    ]
    return "\n".join(parts)


def render_diff(diff: ReportDiff, fmt: str) -> str:
    if fmt == "json":
        return json.dumps(diff_dict(diff), indent=1, allow_nan=False) + "\n"
    return render_diff_markdown(diff) if fmt == "markdown" else render_diff_html(diff)


def write_diff(path: str, diff: ReportDiff) -> str:
    text = render_diff(diff, diff_format(path))

    def write(stream: TextIO) -> None:
        stream.write(text)

    return atomic_write(path, write)
